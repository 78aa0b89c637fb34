"""The course's datasets: CIFAR-10 and CelebA from disk, a uint8 cache of each split, and a fast in-memory loader.

Everything lives under one data root (resolve_data_root: argument, else $VAE_DATA_ROOT, else ./data), in either of
two layouts per dataset:

    CIFAR-10   official   ROOT/cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}  (torchvision)
               mirror     ROOT/cifar10/{train,test}/<class>/*.jpg                               (ImageFolder)
    CelebA     official   ROOT/celeba/img_align_celeba/*.jpg + the five list_*/identity_*.txt   (torchvision)
               mirror     ROOT/celeba/img_align_celeba/*.jpg (any resolution) + list_attr_celeba.txt
                          [+ list_eval_partition.txt, identity_CelebA.txt]                      (our parser)

Two ways to read a split:
    cifar10(), celeba()      torch Datasets of (float image (3,H,W) in [0,1], target), decoded item by item.
    load_cached() + InMemoryLoader
                             the whole split decoded once into a uint8 tensor (N,3,H,W) cached as
                             ROOT/.cache/<name>-<split>-<size>.pt, then batched straight from memory. The cached
                             pixels are exactly the Datasets' pixels: cached / 255 == dataset[i][0].

Any problem with the files (missing, damaged, wrong layout) raises DataError, one line naming the path and the fix.
Command line: `python -m course_utils.data unpack --mirror DIR --data-root DIR` and `... info [--data-root DIR]`.
"""
from __future__ import annotations

import argparse
import hashlib
import math
import os
import pickle
import sys
import tarfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import torch
import torchvision
from PIL import Image
from torch.utils.data import Dataset
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as TF
from tqdm import tqdm

from course_utils.files import atomic_write

# The official label order, which is also alphabetical, so ImageFolder's sorted class folders get the same indices.
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
CIFAR10_SPLITS = ("train", "test")
CELEBA_SPLITS = {"train": 0, "valid": 1, "test": 2}  # the codes of list_eval_partition.txt
# The usual CelebA face crop is 148 pixels of the official 178-pixel width; we keep that fraction at any resolution.
CELEBA_CROP_FRACTION = 148 / 178
# Where CelebA has one partition only (the mirror), persons are split 80/10/10 by a hash: 8 of 10 buckets train.
CELEBA_HASH_BUCKETS = {"train": range(0, 8), "valid": range(8, 9), "test": range(9, 10)}
CACHE_VERSION = 1  # bump when the decoding changes, so that every old cache is rebuilt
MIRROR_TARBALLS = {"cifar10-jpg.tar": "cifar10", "celeba-subset.tar": "celeba"}  # tarball -> folder it holds
CELEBA_URL = "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html"


class DataError(RuntimeError):
    """A dataset problem the user can fix; the message is one line naming the path and the fix."""


def resolve_data_root(root: str | os.PathLike | None = None) -> Path:
    """The folder holding the datasets.

    Inputs:  root - a folder, or None for $VAE_DATA_ROOT, or ./data when that is unset.
    Outputs: the folder as a Path (not checked for existence here; the readers say what is missing).
    """
    if root is None:
        root = os.environ.get("VAE_DATA_ROOT") or "data"
    return Path(root).expanduser()


def _one_line(err: BaseException) -> str:
    """An exception as `Type: message` on one line, for embedding in a DataError."""
    message = " ".join(str(err).split())
    return f"{type(err).__name__}: {message}" if message else type(err).__name__


def _check_choice(what: str, value: str, choices) -> None:
    if value not in choices:
        raise DataError(f"unknown {what} {value!r}: use one of {', '.join(map(repr, choices))}")


def _open_rgb(path: str | os.PathLike) -> Image.Image:
    """Decode an image file fully (so a damaged file fails here, naming itself, not later inside a transform).

    Inputs:  path - an image file.
    Outputs: an RGB PIL image.
    """
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except (OSError, SyntaxError, ValueError) as err:  # PIL reports damaged files with any of these
        raise DataError(
            f"cannot decode {path} ({_one_line(err)}): the file is damaged; delete its dataset folder and "
            "run `make data` (or download) again"
        ) from None


# Pixel pipelines. Each dataset turns a PIL image into a uint8 tensor (3, H, W) with a `*_pixels` pipeline; the
# Datasets add _to_unit_float, the cache stores the uint8 tensor, and InMemoryLoader applies the same
# conversion per batch. So all three read paths give identical numbers.
def _to_unit_float(image: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float32 [0, 1], exactly as the Datasets convert (any shape, any device)."""
    return TF.to_dtype(image, torch.float32, scale=True)


def _cifar10_pixels() -> v2.Compose:
    return v2.Compose([v2.ToImage(), v2.ToPureTensor()])


def _crop_face_square(image: torch.Tensor) -> torch.Tensor:
    """Square centre crop of side round(width * 148/178): the usual CelebA face crop at any resolution."""
    height, width = TF.get_size(image)
    side = min(round(width * CELEBA_CROP_FRACTION), height)
    return TF.center_crop(image, [side, side])


def _celeba_pixels(image_size: int) -> v2.Compose:
    return v2.Compose([
        v2.ToImage(),
        _crop_face_square,  # a square, so the resize below keeps faces' proportions
        v2.Resize((image_size, image_size), antialias=True),
        v2.ToPureTensor(),
    ])


def celeba_transform(image_size: int = 64) -> v2.Compose:
    """The CelebA image transform: square centre crop around the face, then resize (no squashing).

    At the official 178x218 this is the usual "crop 148, resize"; at the mirror's 89x109 it crops 74.
    Inputs:  image_size - side S of the output.
    Outputs: a callable, PIL image (any size) -> float tensor (3, S, S) in [0, 1].
    """
    return v2.Compose([_celeba_pixels(image_size), _to_unit_float])


def _missing_hint(root: Path, inner: str) -> str:
    """' (ROOT looks like the dataset folder itself: ...)' when the user pointed one level too deep, else ''."""
    if (root / inner).exists():
        return f" ({root} looks like the dataset folder itself: pass its parent {root.parent} as the data root)"
    return ""


def _download(title: str, root: Path, fetch, fix: str) -> None:
    """Run a torchvision download, turning its failures (offline, quota, missing gdown) into a DataError."""
    try:
        fetch()
    except (OSError, RuntimeError, ImportError) as err:
        raise DataError(f"could not download {title} into {root} ({_one_line(err)}): {fix}") from None


# ---------------------------------------------------------------------------------------------------------------
# CIFAR-10


class _CIFAR10Files(torchvision.datasets.CIFAR10):
    """torchvision's CIFAR-10 reader, checking that the batch files exist instead of their md5 sums.

    torchvision compares each file with the md5 of the official release, so any other file in the same format
    (our test fixtures, a re-pickled copy) is refused although it reads fine. Downloads still go through the stock
    torchvision.datasets.CIFAR10, which verifies the archive. Damaged files fail when unpickled (see _read_cifar10).
    """

    train_list = [[name, None] for name, _ in torchvision.datasets.CIFAR10.train_list]
    test_list = [[name, None] for name, _ in torchvision.datasets.CIFAR10.test_list]
    meta = {**torchvision.datasets.CIFAR10.meta, "md5": None}


def _locate_cifar10(root: Path, download: bool = False) -> tuple[str, Path]:
    """Find CIFAR-10 under root: ("official", ROOT/cifar-10-batches-py) or ("mirror", ROOT/cifar10).

    The official pickles are preferred when both are present (they are the lossless originals). With neither,
    download=True fetches the official layout; otherwise a DataError says how to get the data.
    """
    official = root / _CIFAR10Files.base_folder
    mirror = root / "cifar10"
    if official.is_dir():
        return "official", official
    if mirror.is_dir():
        return "mirror", mirror
    if download:
        _download("CIFAR-10", root, lambda: torchvision.datasets.CIFAR10(root, download=True), "run `make data`")
        return "official", official
    hint = _missing_hint(root, "data_batch_1") or _missing_hint(root, "train/airplane")
    raise DataError(f"no CIFAR-10 found under {root}/{hint}: run `make data` (course mirror) or pass download=True")


def _read_cifar10(root: Path, split: str, download: bool, transform) -> Dataset:
    """CIFAR-10 `split` as a Dataset of (transform(PIL image), class index int), with attribute .classes."""
    _check_choice("CIFAR-10 split", split, CIFAR10_SPLITS)
    layout, folder = _locate_cifar10(root, download)
    if layout == "official":
        expected = [name for name, _ in _CIFAR10Files.train_list + _CIFAR10Files.test_list]
        missing = [name for name in expected + [_CIFAR10Files.meta["filename"]] if not (folder / name).is_file()]
        if missing:
            raise DataError(f"{folder} lacks {', '.join(missing)}: delete the folder and pass download=True")
        try:
            return _CIFAR10Files(root, train=split == "train", transform=transform)
        except (pickle.UnpicklingError, EOFError, KeyError, ValueError, TypeError) as err:
            raise DataError(
                f"cannot read the CIFAR-10 batches in {folder} ({_one_line(err)}): the files are truncated or not "
                "CIFAR-10 pickles; delete the folder and pass download=True"
            ) from None
    split_folder = folder / split
    if not split_folder.is_dir():
        raise DataError(f"{folder} has no {split}/ folder (expected cifar10/{{train,test}}/<class>/*.jpg): "
                        "delete it and run `make data`")
    try:
        dataset = torchvision.datasets.ImageFolder(split_folder, transform=transform, loader=_open_rgb)
    except FileNotFoundError as err:
        raise DataError(f"{split_folder} is not an ImageFolder of CIFAR-10 classes ({_one_line(err)}): "
                        "delete it and run `make data`") from None
    if tuple(dataset.classes) != CIFAR10_CLASSES:
        raise DataError(f"{split_folder} has class folders {dataset.classes}, not the 10 CIFAR-10 classes: "
                        "delete it and run `make data`")
    return dataset


def cifar10(root: str | os.PathLike | None = None, split: str = "train", download: bool = False) -> Dataset:
    """CIFAR-10, official pickles or the mirror's JPEG folders, whichever is under the data root.

    Inputs:  root - data root (see resolve_data_root); split - "train" (50,000) or "test" (10,000);
             download - fetch the official files with torchvision when no CIFAR-10 is present (needs internet).
    Outputs: a Dataset of (image float (3, 32, 32) in [0, 1], label int in 0..9); attribute .classes (10 names).
    """
    return _read_cifar10(resolve_data_root(root), split, download, v2.Compose([_cifar10_pixels(), _to_unit_float]))


# ---------------------------------------------------------------------------------------------------------------
# CelebA

CELEBA_OFFLINE_FIX = (f"run `make data` (course mirror), or download img_align_celeba.zip and the list_*.txt and "
                      f"identity_CelebA.txt files from {CELEBA_URL} into ROOT/celeba/ and unzip the images there")


class _CelebAFiles(torchvision.datasets.CelebA):
    """torchvision's CelebA reader for the complete official layout, checking that files exist instead of md5 sums.

    As for CIFAR-10: downloads go through the stock class, which verifies them. Damaged images raise DataError.
    """

    file_list = [(file_id, None, filename) for file_id, _, filename in torchvision.datasets.CelebA.file_list]

    def __init__(self, root: Path, split: str, transform) -> None:
        super().__init__(root, split=split, target_type="attr", transform=transform)
        # The header line of list_attr_celeba.txt ends in a space, which torchvision's parser reads as a 41st name.
        self.attr_names = [name for name in self.attr_names if name]

    def __getitem__(self, index: int):
        try:
            return super().__getitem__(index)
        except OSError as err:
            path = Path(self.root, self.base_folder, "img_align_celeba", self.filename[index])
            raise DataError(f"cannot decode {path} ({_one_line(err)}): the file is damaged or missing; "
                            "restore the CelebA folder") from None


def _read_table(path: Path, header_lines: int) -> tuple[list[str], list[list[str]]]:
    """A CelebA text list: `header_lines` header lines, then one `filename value ...` row per image.

    Outputs: (the header lines, each row split on whitespace).
    """
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read {path} ({_one_line(err)}): restore the file (run `make data`)") from None
    return lines[:header_lines], [line.split() for line in lines[header_lines:] if line.strip()]


def _read_attributes(path: Path) -> tuple[list[str], list[str], torch.Tensor]:
    """Parse list_attr_celeba.txt: a count line, a line of attribute names, then `filename v1 ... vK`, v in {-1, 1}.

    Outputs: (attribute names (K,), filenames (N,), attributes LongTensor (N, K) of 0/1).
    """
    header, rows = _read_table(path, header_lines=2)

    def bad(where: str, why: str) -> DataError:
        return DataError(f"{path}{where}: {why}, not the official list_attr_celeba.txt format; restore the file "
                         "(run `make data`)")

    if len(header) < 2 or not header[0].strip().isdigit():
        raise bad(":1", "the first line should be the number of images")
    names = header[1].split()
    if int(header[0]) != len(rows):
        raise bad(":1", f"says {int(header[0])} images but {len(rows)} rows follow")
    values = []
    for line_number, row in enumerate(rows, start=3):
        if len(row) != len(names) + 1 or any(v not in ("-1", "1") for v in row[1:]):
            raise bad(f":{line_number}", f"expected a filename and {len(names)} values of -1/1")
        values.append([v == "1" for v in row[1:]])
    return names, [row[0] for row in rows], torch.tensor(values, dtype=torch.long).reshape(len(rows), len(names))


def _read_labels(path: Path, filenames: list[str]) -> list[int]:
    """Parse a `filename integer` list (list_eval_partition.txt, identity_CelebA.txt) for the given images."""
    _, rows = _read_table(path, header_lines=0)
    try:
        by_file = {filename: int(value) for filename, value in rows}
    except ValueError:
        raise DataError(f"{path}: expected lines `<image> <integer>`; restore the file (run `make data`)") from None
    missing = [f for f in filenames if f not in by_file]
    if missing:
        raise DataError(f"{path} does not list {len(missing)} images of list_attr_celeba.txt (first {missing[0]}): "
                        "restore the CelebA folder (run `make data`)")
    return [by_file[f] for f in filenames]


def _hash_bucket(key: str) -> int:
    """A stable bucket 0..9 for a key (sha256, not Python's salted hash(), so it is the same on every machine)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % 10


class _CelebAFolder(Dataset):
    """CelebA from img_align_celeba/ + list_attr_celeba.txt (+ partition, identity lists when present).

    This reads the course mirror, which torchvision refuses (no bbox/landmark lists, other checksums), with images
    at any resolution. Splits: list_eval_partition.txt when it uses more than one partition; otherwise (the mirror
    has all images in train) a fixed 80/10/10 split by a hash of the person's identity, so nobody is in two splits,
    or of the filename when identity_CelebA.txt is absent.
    Items: (transform(PIL image), attributes LongTensor (40,) of 0/1). Attributes: attr_names, filename, identity.
    """

    def __init__(self, folder: Path, split: str, transform) -> None:
        self.folder, self.transform = folder, transform
        self.attr_names, filenames, attributes = _read_attributes(folder / "list_attr_celeba.txt")
        partition_file, identity_file = folder / "list_eval_partition.txt", folder / "identity_CelebA.txt"
        partition = _read_labels(partition_file, filenames) if partition_file.is_file() else None
        identity = _read_labels(identity_file, filenames) if identity_file.is_file() else None
        if partition is not None and len(set(partition)) > 1:
            keep = [p == CELEBA_SPLITS[split] for p in partition]
        else:
            keys = identity if identity is not None else filenames
            keep = [_hash_bucket(str(key)) in CELEBA_HASH_BUCKETS[split] for key in keys]
        self.filename = [f for f, k in zip(filenames, keep) if k]
        self.identity = None if identity is None else [i for i, k in zip(identity, keep) if k]
        self.attr = attributes[torch.tensor(keep, dtype=torch.bool)]

        present = set(os.listdir(folder / "img_align_celeba"))
        missing = [f for f in filenames if f not in present]
        if missing:
            raise DataError(f"{folder / 'img_align_celeba'} lacks {len(missing)} images listed in "
                            f"list_attr_celeba.txt (first {missing[0]}): restore the CelebA folder (run `make data`)")

    def __len__(self) -> int:
        return len(self.filename)

    def __getitem__(self, index: int):
        image = _open_rgb(self.folder / "img_align_celeba" / self.filename[index])
        return self.transform(image), self.attr[index]


def _locate_celeba(root: Path, download: bool = False) -> tuple[str, Path]:
    """Find CelebA under root: ("official", ROOT/celeba) with every torchvision file, else ("mirror", ROOT/celeba)."""
    folder = root / _CelebAFiles.base_folder
    if not folder.is_dir():
        if not download:
            raise DataError(f"no CelebA found under {root}/{_missing_hint(root, 'img_align_celeba')}: "
                            f"{CELEBA_OFFLINE_FIX.replace('ROOT', str(root))}")
        _download("CelebA", root, lambda: torchvision.datasets.CelebA(root, split="all", download=True),
                  CELEBA_OFFLINE_FIX.replace("ROOT", str(root)))
    needed = ["img_align_celeba", "list_attr_celeba.txt"]
    missing = [name for name in needed if not (folder / name).exists()]
    if missing:
        raise DataError(f"{folder} lacks {' and '.join(missing)} (wrong layout: expected celeba/img_align_celeba/*.jpg "
                        f"and celeba/list_attr_celeba.txt): {CELEBA_OFFLINE_FIX.replace('ROOT', str(root))}")
    official = all((folder / filename).exists() for _, _, filename in _CelebAFiles.file_list
                   if not filename.endswith(".zip"))
    return ("official" if official else "mirror"), folder


def _read_celeba(root: Path, split: str, download: bool, transform) -> Dataset:
    """CelebA `split` as a Dataset of (transform(PIL image), attributes (40,)), with attribute .attr_names."""
    _check_choice("CelebA split", split, CELEBA_SPLITS)
    layout, folder = _locate_celeba(root, download)
    if layout == "official":
        try:
            return _CelebAFiles(root, split, transform)
        except (ValueError, IndexError) as err:
            raise DataError(f"cannot parse the CelebA lists in {folder} ({_one_line(err)}): restore the files") \
                from None
    return _CelebAFolder(folder, split, transform)


def celeba(root: str | os.PathLike | None = None, split: str = "train", image_size: int = 64,
           download: bool = False) -> Dataset:
    """CelebA aligned faces: the official layout through torchvision, or the course mirror through our parser.

    Inputs:  root - data root (see resolve_data_root); split - "train", "valid" or "test";
             image_size - side S of the square output (see celeba_transform); download - fetch the official files
             with torchvision when no CelebA is present (needs internet and gdown; Google Drive often refuses).
    Outputs: a Dataset of (image float (3, S, S) in [0, 1], attributes LongTensor (40,) of 0/1);
             attribute .attr_names (40 names, in the attributes' order).
    """
    return _read_celeba(resolve_data_root(root), split, download, celeba_transform(image_size))


# ---------------------------------------------------------------------------------------------------------------
# The uint8 cache

DATASETS = ("cifar10", "celeba")


@dataclass
class CachedSplit:
    """One dataset split decoded into memory.

    images:     uint8 (N, 3, H, W), contiguous; divide by 255 for the Datasets' float pixels.
    targets:    int64 (N,) class indices (cifar10) or (N, 40) 0/1 attributes (celeba).
    classes:    the 10 class names (cifar10; empty for celeba).
    attr_names: the 40 attribute names (celeba; empty for cifar10).
    """

    name: str
    split: str
    images: torch.Tensor
    targets: torch.Tensor
    classes: list[str]
    attr_names: list[str]

    def __len__(self) -> int:
        return len(self.images)


def _fingerprint(folder: Path, *settings: str) -> str:
    """A hash of every file's relative path, size and modification time under folder, plus the settings."""
    digest = hashlib.sha256(" ".join((str(CACHE_VERSION),) + settings).encode())
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for filename in sorted(filenames):
            path = os.path.join(dirpath, filename)
            stat = os.stat(path)
            digest.update(f"{os.path.relpath(path, folder)}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _decode_all(dataset: Dataset, description: str, progress: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode every item of a Dataset of (uint8 image (3, H, W), target) into two stacked tensors.

    PIL releases the GIL while decoding, so a few threads help. Outputs: images uint8 (N, 3, H, W), targets int64.
    """
    first_image, first_target = dataset[0]
    images = torch.empty((len(dataset), *first_image.shape), dtype=torch.uint8)
    targets = torch.empty((len(dataset), *torch.as_tensor(first_target).shape), dtype=torch.long)

    def decode(indices: range) -> int:
        for i in indices:
            images[i], target = dataset[i]
            targets[i] = torch.as_tensor(target)
        return len(indices)

    chunks = [range(start, min(start + 256, len(dataset))) for start in range(0, len(dataset), 256)]
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool, \
            tqdm(total=len(dataset), desc=description, unit="img", disable=not progress, file=sys.stderr) as bar:
        for done in pool.map(decode, chunks):
            bar.update(done)
    return images, targets


def _save_atomically(payload: dict, path: Path) -> None:
    """torch.save through atomic_write: readers never see a half-written cache."""
    try:
        atomic_write(path, lambda file: torch.save(payload, file))
    except OSError as err:
        raise DataError(f"cannot write the cache {path} ({_one_line(err)}): make {path.parent} writable, or copy "
                        "the data to a writable folder and point VAE_DATA_ROOT at it") from None


def cache_path(name: str, root: str | os.PathLike | None = None, split: str = "train",
               image_size: int | None = None) -> Path:
    """Where load_cached keeps a split: ROOT/.cache/<name>-<split>-<size>.pt."""
    _check_choice("dataset", name, DATASETS)
    size = image_size or (32 if name == "cifar10" else 64)
    return resolve_data_root(root) / ".cache" / f"{name}-{split}-{size}.pt"


def load_cached(name: str, root: str | os.PathLike | None = None, split: str = "train",
                image_size: int | None = None, progress: bool = True) -> CachedSplit:
    """A whole split as one uint8 tensor, decoded on first use and cached next to the data.

    The cache (ROOT/.cache/<name>-<split>-<size>.pt) is rebuilt whenever the source files change (their names,
    sizes and modification times are fingerprinted). Loading an existing cache memory-maps it: well under a second.
    Inputs:  name - "cifar10" or "celeba"; root - data root (see resolve_data_root); split - as for cifar10/celeba;
             image_size - None for the default (32 for cifar10, which only has 32; 64 for celeba);
             progress - show a tqdm bar on stderr while decoding (False in graded notebook cells).
    Outputs: a CachedSplit; its images divided by 255 equal the float images of cifar10()/celeba() exactly.
    """
    _check_choice("dataset", name, DATASETS)
    data_root = resolve_data_root(root)
    if name == "cifar10":
        _check_choice("CIFAR-10 split", split, CIFAR10_SPLITS)
        if image_size not in (None, 32):
            raise DataError(f"CIFAR-10 images are 32x32, not {image_size}: pass image_size=None or 32")
        layout, folder = _locate_cifar10(data_root)
        source = folder / split if layout == "mirror" else folder
    else:
        _check_choice("CelebA split", split, CELEBA_SPLITS)
        layout, source = _locate_celeba(data_root)
    path = cache_path(name, data_root, split, image_size)
    fingerprint = _fingerprint(source, name, layout, split, path.name)

    if path.is_file():
        try:
            payload = torch.load(path, mmap=True, weights_only=True)
            if payload.get("fingerprint") == fingerprint:
                return CachedSplit(name, split, payload["images"], payload["targets"], payload["classes"],
                                   payload["attr_names"])
        except (RuntimeError, EOFError, OSError, pickle.UnpicklingError, AttributeError):
            pass  # a damaged or foreign cache file is rebuilt like a stale one

    if name == "cifar10":
        dataset = _read_cifar10(data_root, split, False, _cifar10_pixels())
        classes, attr_names = list(dataset.classes), []
    else:
        dataset = _read_celeba(data_root, split, False, _celeba_pixels(image_size or 64))
        classes, attr_names = [], list(dataset.attr_names)
    if len(dataset) == 0:
        raise DataError(f"the {name} {split} split under {source} has no images: restore the dataset (`make data`)")
    images, targets = _decode_all(dataset, f"decoding {name} {split}", progress)
    payload = dict(images=images, targets=targets, classes=classes, attr_names=attr_names, fingerprint=fingerprint)
    _save_atomically(payload, path)
    return CachedSplit(name, split, images, targets, classes, attr_names)


# ---------------------------------------------------------------------------------------------------------------
# The in-memory loader


class InMemoryLoader:
    """Batches straight from a CachedSplit's uint8 tensor: the fast training path (no workers, no PIL).

    Sharding follows torch's DistributedSampler: every rank draws the same permutation of the (first `limit`)
    images, seeded with seed + epoch, and takes every world_size-th index starting at its rank, so shards are
    disjoint and together cover the epoch. drop_last=True drops the tail that does not divide evenly (among ranks,
    then into batches); drop_last=False pads the ranks with repeated images and yields a last, smaller batch.
    Each pass over the loader moves to the next epoch; set_epoch(e) jumps to epoch e (call it before every epoch
    in multi-process training, as with DistributedSampler).
    Yields (x, y): x float32 (B, 3, H, W) in [0, 1] on device, y int64 (B,) or (B, 40) on device.
    On a GPU the whole uint8 tensor is copied there once, so each batch costs one gather and one conversion.
    """

    def __init__(self, split: CachedSplit, batch_size: int, shuffle: bool = True, drop_last: bool = True,
                 seed: int = 0, device: str | torch.device = "cpu", rank: int = 0, world_size: int = 1,
                 limit: int | None = None) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, world_size={world_size}), got {rank}")
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be None (the whole split) or at least 1, got {limit}")
        count = len(split.images) if limit is None else min(limit, len(split.images))
        self.device = torch.device(device)
        self.images = split.images[:count].to(self.device)  # uint8 (count, 3, H, W)
        self.targets = split.targets[:count].to(self.device)
        self.batch_size, self.shuffle, self.drop_last, self.seed = batch_size, shuffle, drop_last, seed
        self.rank, self.world_size = rank, world_size
        self.epoch = 0
        self.per_rank = count // world_size if drop_last else math.ceil(count / world_size)

    def set_epoch(self, epoch: int) -> None:
        """Use epoch's permutation (seed + epoch) for the next pass."""
        self.epoch = epoch

    def indices(self) -> torch.Tensor:
        """This rank's image indices for the current epoch, int64 (per_rank,)."""
        count = len(self.images)
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed + self.epoch)
            order = torch.randperm(count, generator=generator)
        else:
            order = torch.arange(count)
        total = self.per_rank * self.world_size
        order = order.repeat(math.ceil(total / count))[:total]  # pads by repeating when drop_last=False
        return order[self.rank::self.world_size]

    def __len__(self) -> int:
        if self.drop_last:
            return self.per_rank // self.batch_size
        return math.ceil(self.per_rank / self.batch_size)

    def __iter__(self):
        indices = self.indices().to(self.device)
        self.epoch += 1
        return self._batches(indices)

    def _batches(self, indices: torch.Tensor):
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            batch = indices[start:start + self.batch_size]
            yield _to_unit_float(self.images[batch]), self.targets[batch]


# ---------------------------------------------------------------------------------------------------------------
# The course mirror and the command line


def _how_to_get(folder: str, data_root: Path) -> str:
    if folder == "cifar10":
        return ("CIFAR-10: online, run `python -c \"from course_utils.data import cifar10; cifar10(download=True)\"` "
                f"(torchvision fetches 170 MB into {data_root}/cifar-10-batches-py)")
    return f"CelebA: {CELEBA_OFFLINE_FIX.replace('ROOT', str(data_root))}"


def unpack_mirror(mirror: str | os.PathLike, data_root: str | os.PathLike) -> None:
    """Extract the course mirror's tarballs into the data root, or say how to get the data without it.

    cifar10-jpg.tar -> DATA_ROOT/cifar10/, celeba-subset.tar -> DATA_ROOT/celeba/. A tarball already extracted
    (a marker DATA_ROOT/<folder>/.unpacked records its size and time, written last) is skipped, so a second run is
    instant; delete the folder to extract again. A missing mirror or tarball is not an error: this prints how to
    download instead, so `make data` succeeds on any machine.
    Inputs:  mirror - folder holding the tarballs; data_root - where the datasets go.
    """
    mirror, data_root = Path(mirror), Path(data_root)
    for tarball, folder in MIRROR_TARBALLS.items():
        source = mirror / tarball
        if not source.is_file():
            print(f"no {source}; get {_how_to_get(folder, data_root)}")
            continue
        marker = data_root / folder / ".unpacked"
        stamp = f"{tarball} {source.stat().st_size} {source.stat().st_mtime_ns}\n"
        if marker.is_file() and marker.read_text() == stamp:
            print(f"{data_root / folder} already unpacked from {source}")
            continue
        print(f"unpacking {source} into {data_root}/ ...", flush=True)
        try:
            data_root.mkdir(parents=True, exist_ok=True)
            with tarfile.open(source) as archive:
                archive.extractall(data_root, filter="data")
            marker.write_text(stamp)
        except (tarfile.TarError, OSError, EOFError) as err:
            raise DataError(f"cannot unpack {source} into {data_root} ({_one_line(err)}): copy a fresh tarball "
                            "into the mirror, or check the disk") from None


def _size(path: Path) -> str:
    return f"{path.stat().st_size / 2**20:.1f} MiB"


def info(data_root: str | os.PathLike | None = None) -> str:
    """What is under the data root: each dataset's layout and split sizes, and the caches. One line per item."""
    root = resolve_data_root(data_root)
    lines = [f"data root: {root.resolve()}"]
    layouts = {"official": "official torchvision layout", "mirror": "course-mirror layout"}
    for title, locate, read, splits in [
        ("CIFAR-10", _locate_cifar10, lambda s: _read_cifar10(root, s, False, None), CIFAR10_SPLITS),
        ("CelebA", _locate_celeba, lambda s: _read_celeba(root, s, False, None), CELEBA_SPLITS),
    ]:
        try:
            layout, folder = locate(root)
            sizes = ", ".join(f"{split} {len(read(split)):,}" for split in splits)
            lines.append(f"{title}: {layouts[layout]} in {folder}: {sizes}")
        except DataError as err:
            lines.append(f"{title}: {err}")
    caches = sorted((root / ".cache").glob("*.pt"))
    lines.append("caches: " + (", ".join(f"{path.name} ({_size(path)})" for path in caches) or "none"))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """`python -m course_utils.data unpack --mirror DIR --data-root DIR` | `... info [--data-root DIR]`."""
    parser = argparse.ArgumentParser(prog="python -m course_utils.data", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    unpack = commands.add_parser("unpack", help="extract the course data mirror into the data root")
    unpack.add_argument("--mirror", required=True, help="folder holding cifar10-jpg.tar and celeba-subset.tar")
    unpack.add_argument("--data-root", default=None, help="default: $VAE_DATA_ROOT, else ./data")
    show = commands.add_parser("info", help="print the datasets and caches found under the data root")
    show.add_argument("--data-root", default=None, help="default: $VAE_DATA_ROOT, else ./data")
    args = parser.parse_args(argv)
    try:
        if args.command == "unpack":
            unpack_mirror(args.mirror, resolve_data_root(args.data_root))
        else:
            print(info(args.data_root))
    except DataError as err:
        parser.exit(2, f"error: {err}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
