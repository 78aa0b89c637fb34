"""How fast each way of reading CIFAR-10 serves training batches, against how fast training consumes them.

    python -m benchmarks.data [--record] [--data-root DIR]

Three read paths, batches of 128 in random order, in one run:

    cache    load_cached + InMemoryLoader: the split decoded once into a uint8 tensor, batches gathered from memory
    jpeg     course_utils.data.cifar10 on the mirror layout: torchvision ImageFolder decoding one JPEG per image,
             through a torch DataLoader with 0 and 2 worker processes
    pickle   course_utils.data.cifar10 on the official layout: torchvision's CIFAR10 (pickled arrays held in memory,
             one PIL image and transform per item), through a DataLoader with 0 and 2 workers

The training step (conv VAE, eager, as benchmarks.throughput times it) sets the bar: a path that serves a batch
k times faster than a step consumes one leaves the model waiting 1/k of the time. Real CIFAR-10 is used when the
data root has it (a layout it lacks is written from its cache into a temporary folder); otherwise a generated
stand-in of a few thousand images is written in both layouts, and the output says so.
"""
from __future__ import annotations

import argparse
import dataclasses
import itertools
import pickle
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader

from benchmarks.common import RESULTS_DIR, synchronize, write_result
from benchmarks.throughput import time_training_steps
from course_utils.data import CIFAR10_CLASSES, DataError, InMemoryLoader, cifar10, load_cached, resolve_data_root
from course_utils.devices import default_device

NAME = "data"
GOAL_BATCHES_PER_STEP = 50  # the cache should serve batches at least this much faster than training uses them
OFFICIAL_FOLDER = "cifar-10-batches-py"  # torchvision's layout
MIRROR_FOLDER = "cifar10"  # the course mirror's ImageFolder layout


@dataclass
class DataConfig:
    batch_size: int = 128
    cache_batches: int = 300  # timed batches from the in-memory cache (cheap: time many)
    decoded_batches: int = 15  # timed batches from each DataLoader path
    warmup_batches: int = 2  # untimed first batches of the DataLoaders (worker start-up); the cache warms an epoch
    workers: tuple[int, ...] = (0, 2)
    step_repeats: int = 3  # timed training steps
    data_root: str | None = None  # None: $VAE_DATA_ROOT or ./data; a generated stand-in when it has no CIFAR-10
    stand_in_images: int = 4000  # images in the generated stand-in (or written from the cache for a missing layout)
    device: str | None = None


QUICK = DataConfig()
RECORD = DataConfig(cache_batches=2000, decoded_batches=60, step_repeats=10)


# ------------------------------------------------------------------------------------------- the inputs

def stand_in_images(count: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Smooth random pictures (coarse noise, bilinearly upsampled), so JPEG works as hard as on photos of things.

    Outputs: images uint8 (count, 3, 32, 32), labels int64 (count,) cycling through the 10 classes.
    """
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(count, 3, 8, 8, generator=generator)
    images = (F.interpolate(coarse, size=(32, 32), mode="bilinear", align_corners=False) * 255).round()
    return images.to(torch.uint8), torch.arange(count) % len(CIFAR10_CLASSES)


def write_jpeg_layout(images: torch.Tensor, labels: torch.Tensor, root: Path) -> Path:
    """The mirror layout for the train split: root/cifar10/train/<class>/NNNNN.jpg. Returns root."""
    for index, (image, label) in enumerate(zip(images, labels.tolist())):
        path = root / MIRROR_FOLDER / "train" / CIFAR10_CLASSES[label] / f"{index:05d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image.permute(1, 2, 0).numpy()).save(path, quality=95)
    return root


def write_pickle_layout(images: torch.Tensor, labels: torch.Tensor, root: Path) -> Path:
    """The official layout: root/cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}. Returns root.

    Each batch is a dict with "data" (n, 3072) uint8 rows (all red, then green, then blue, row-major: exactly the
    (3, 32, 32) tensor flattened) and "labels"; the test batch repeats the first images (only train is read).
    """
    folder = root / OFFICIAL_FOLDER
    folder.mkdir(parents=True)
    rows = images.reshape(len(images), 3 * 32 * 32).numpy()  # (N, 3072)
    batches = {f"data_batch_{b + 1}": part for b, part in enumerate(np.array_split(np.arange(len(images)), 5))}
    batches["test_batch"] = np.arange(min(len(images), 1000))
    for name, index in batches.items():
        with open(folder / name, "wb") as file:
            pickle.dump({"data": rows[index], "labels": labels[index].tolist()}, file)
    with open(folder / "batches.meta", "wb") as file:
        pickle.dump({"label_names": list(CIFAR10_CLASSES)}, file)
    return root


@dataclass
class Sources:
    """Where each read path reads from, and what the output should say about it."""
    cache_root: Path
    jpeg_root: Path
    pickle_root: Path
    description: str
    fake: bool = False


def prepare_sources(config: DataConfig, scratch: Path) -> Sources:
    """Real CIFAR-10 where the data root has it, each missing layout written from the cache into scratch;
    otherwise a generated stand-in in both layouts."""
    root = resolve_data_root(config.data_root)
    try:
        split = load_cached("cifar10", root, "train")  # decodes (with a progress bar) only the first time
    except DataError as error:
        images, labels = stand_in_images(config.stand_in_images)
        write_jpeg_layout(images, labels, scratch / "stand-in")
        write_pickle_layout(images, labels, scratch / "stand-in-pickles")
        return Sources(scratch / "stand-in", scratch / "stand-in", scratch / "stand-in-pickles",
                       f"FAKE DATA: a generated stand-in of {len(images):,} images (no real CIFAR-10: {error})",
                       fake=True)
    has_official, has_mirror = (root / OFFICIAL_FOLDER).is_dir(), (root / MIRROR_FOLDER).is_dir()
    notes = [f"real CIFAR-10 train split ({len(split):,} images) in {root}"]
    # cifar10() reads the official layout whenever it is present, so the JPEG path needs a root without it.
    jpeg_root = root
    if has_official or not has_mirror:
        subset = slice(0, config.stand_in_images)
        jpeg_root = write_jpeg_layout(split.images[subset], split.targets[subset], scratch / "jpeg")
        notes.append(f"jpeg: the first {len(split.images[subset]):,} cached images written as JPEGs")
    pickle_root = root
    if not has_official:
        pickle_root = write_pickle_layout(split.images, split.targets, scratch / "pickle")
        notes.append("pickle: the cached images written in the official layout")
    return Sources(root, jpeg_root, pickle_root, "; ".join(notes))


# ------------------------------------------------------------------------------------------- timing

def batches_per_second(batches, count: int, warmup: int, device: torch.device) -> float:
    """Draw `warmup` batches, then time drawing the next `count`."""
    iterator = iter(batches)
    for _ in range(warmup):
        next(iterator)
    synchronize(device)
    started = time.perf_counter()
    for _ in itertools.islice(iterator, count):
        pass
    synchronize(device)
    return count / (time.perf_counter() - started)


def endless(loader):
    """Epoch after epoch of a re-iterable loader."""
    while True:
        yield from loader


def run(config: DataConfig = QUICK, record: bool = False, results_dir=None) -> dict:
    device = default_device(config.device)
    with tempfile.TemporaryDirectory(prefix="bench-data-") as scratch:
        sources = prepare_sources(config, Path(scratch))
        print(f"data: {sources.description}", flush=True)
        split = load_cached("cifar10", sources.cache_root, "train", progress=False)
        cache = InMemoryLoader(split, config.batch_size, shuffle=True, drop_last=True, device=device)
        # Warm up for a whole epoch: the cache file is memory-mapped, and its pages are read in on first touch.
        paths = {"cache": batches_per_second(endless(cache), config.cache_batches, len(cache), device)}
        print(f"cache: {paths['cache']:.0f} batches/s", flush=True)
        for layout, root in (("jpeg", sources.jpeg_root), ("pickle", sources.pickle_root)):
            dataset = cifar10(root, "train")
            for workers in config.workers:
                loader = DataLoader(dataset, batch_size=config.batch_size, shuffle=True, drop_last=True,
                                    num_workers=workers)
                count = min(config.decoded_batches, len(loader) - config.warmup_batches)
                if count < 1:
                    raise DataError(f"{root} has {len(dataset)} images: too few for {config.warmup_batches + 1} "
                                    f"batches of {config.batch_size}")
                name = f"{layout}, {workers} workers"
                paths[name] = batches_per_second(loader, count, config.warmup_batches, torch.device("cpu"))
                print(f"{name}: {paths[name]:.1f} batches/s (the cache is {paths['cache'] / paths[name]:.1f}x "
                      "faster)", flush=True)

    step = time_training_steps("conv", ["eager"], config.batch_size, device, config.step_repeats, warmup=1)["eager"]
    # How many batches each path serves in the time one training step consumes one.
    per_step = {name: rate * step["seconds"] for name, rate in paths.items()}
    print(f"conv VAE training step: {step['seconds'] * 1000:.0f} ms per batch of {config.batch_size}; batches served "
          "per step: " + ", ".join(f"{name} {n:.1f}" for name, n in per_step.items()), flush=True)
    speedup = {name: paths["cache"] / rate for name, rate in paths.items()}
    results = {"device": str(device), "sources": sources.description, "fake_data": sources.fake,
               "batches_per_second": paths, "cache_speedup": speedup, "training_step_seconds": step["seconds"],
               "batches_per_training_step": per_step}
    decoded = [name for name in paths if name != "cache"]
    fastest, slowest = max(decoded, key=paths.get), min(decoded, key=paths.get)
    summary = (f"{NAME}: cache {paths['cache']:.0f} batches/s = {per_step['cache']:.0f}x the conv training step's "
               f"need (goal >= {GOAL_BATCHES_PER_STEP}x); {speedup[fastest]:.1f}x faster than the best decoded path "
               f"({fastest}, {paths[fastest]:.1f}/s), {speedup[slowest]:.1f}x than the slowest ({slowest})"
               f"{' [FAKE DATA]' if sources.fake else ''}")
    payload = write_result(NAME, record, dataclasses.asdict(config), results, summary, results_dir, device)
    print(summary, flush=True)
    return payload


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.data", description=__doc__.split("\n\n")[0])
    parser.add_argument("--record", action="store_true", help="time more batches; writes data-record.json")
    parser.add_argument("--data-root", help="default: $VAE_DATA_ROOT or ./data (a generated stand-in if absent)")
    parser.add_argument("--device", help="cpu | cuda, where the cache's batches and the training step go")
    parser.add_argument("--results", default=str(RESULTS_DIR), help="folder for the JSON result")
    args = parser.parse_args(argv)
    config = dataclasses.replace(RECORD if args.record else QUICK, data_root=args.data_root, device=args.device)
    try:
        run(config, args.record, args.results)
    except DataError as error:
        parser.exit(2, f"error: {error}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
