"""course_utils.data against fake datasets written in the real formats (tests/fakedata.py), plus one real-data check.

Every reader is checked for shapes, ranges and pixels (exact for pickles, within JPEG loss for JPEGs), the CelebA
splits for identity-disjointness, the crop for keeping faces' proportions, the cache for reuse and invalidation,
the loader for DistributedSampler sharding, and each damaged-data case for a one-line DataError.
"""
import math
import os
import pickle
import shutil
import subprocess
import sys
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image, ImageDraw

import course_utils.data as data
from course_utils.data import (CIFAR10_CLASSES, CachedSplit, DataError, InMemoryLoader, cache_path, celeba,
                               celeba_transform, cifar10, load_cached, resolve_data_root, unpack_mirror)
from fakedata import (CELEBA_ATTRIBUTES, make_celeba, make_cifar_jpegs, make_cifar_pickles, make_mirror,
                      truncate_file)

JPEG_MAX_ERROR = 10  # of 255: what quality-95 4:4:4 JPEG may change in our smooth fixture pictures
JPEG_MEAN_ERROR = 2


def as_uint8(image: torch.Tensor) -> np.ndarray:
    """float (3, H, W) in [0, 1] -> uint8 (H, W, 3), to compare with the pixels a maker wrote."""
    return (image * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()


def assert_close_to_jpeg(got: np.ndarray, written: np.ndarray) -> None:
    error = np.abs(got.astype(int) - written.astype(int))
    assert error.max() <= JPEG_MAX_ERROR and error.mean() <= JPEG_MEAN_ERROR, \
        f"pixels differ from those written by more than JPEG loss (max {error.max()}, mean {error.mean():.2f})"


def one_line_error(call, *fragments: str) -> str:
    """Run call, expect a DataError whose one-line message contains every fragment."""
    with pytest.raises(DataError) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message, "DataError messages must be one line"
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from the message: {message}"
    return message


@pytest.fixture(scope="module")
def pickles_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("pickles")
    return root, make_cifar_pickles(root, n_train=23, n_test=7)


@pytest.fixture(scope="module")
def jpegs_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("jpegs")
    return root, make_cifar_jpegs(root, n_train=30, n_test=20)


@pytest.fixture(scope="module")
def mirror_celeba(tmp_path_factory):
    """Like the course mirror: every image in partition 0, identity list present."""
    root = tmp_path_factory.mktemp("celeba_mirror")
    return root, make_celeba(root, n=120, n_identities=40)


# ----------------------------------------------------------------------------------------------------- data root


def test_data_root_comes_from_argument_then_environment_then_dot_data(monkeypatch):
    monkeypatch.setenv("VAE_DATA_ROOT", "/from/env")
    assert resolve_data_root("/given") == Path("/given")
    assert resolve_data_root() == Path("/from/env")
    monkeypatch.delenv("VAE_DATA_ROOT")
    assert resolve_data_root() == Path("data")


# ----------------------------------------------------------------------------------------------------- CIFAR-10


def test_fixture_pickles_have_the_real_files_python2_keys(pickles_root):
    root, _ = pickles_root
    with open(root / "cifar-10-batches-py" / "data_batch_1", "rb") as file:
        batch = pickle.load(file, encoding="bytes")
    assert set(batch) == {b"batch_label", b"labels", b"data", b"filenames"}
    assert batch[b"data"].dtype == np.uint8 and batch[b"data"].shape[1] == 3072
    with open(root / "cifar-10-batches-py" / "batches.meta", "rb") as file:
        assert pickle.load(file, encoding="latin1")["label_names"] == list(CIFAR10_CLASSES)


def test_cifar10_official_pickles_read_exactly(pickles_root):
    root, truth = pickles_root
    for split in ("train", "test"):
        dataset = cifar10(root, split)
        assert isinstance(dataset, torchvision.datasets.CIFAR10), "the official layout is read by torchvision"
        assert len(dataset) == len(truth[split].images)
        assert list(dataset.classes) == list(CIFAR10_CLASSES)
        for i in range(len(dataset)):
            image, label = dataset[i]
            assert image.shape == (3, 32, 32) and image.dtype == torch.float32
            assert 0 <= image.min() and image.max() <= 1
            assert isinstance(label, int) and label == truth[split].targets[i]
            np.testing.assert_array_equal(as_uint8(image), truth[split].images[i], "pickles are lossless")


def test_cifar10_mirror_jpegs_read_within_jpeg_loss(jpegs_root):
    root, truth = jpegs_root
    for split in ("train", "test"):
        dataset = cifar10(root, split)
        assert isinstance(dataset, torchvision.datasets.ImageFolder)
        assert len(dataset) == len(truth[split].images) and list(dataset.classes) == list(CIFAR10_CLASSES)
        for i in range(len(dataset)):
            image, label = dataset[i]
            assert image.shape == (3, 32, 32) and 0 <= image.min() and image.max() <= 1
            assert label == truth[split].targets[i]
            assert_close_to_jpeg(as_uint8(image), truth[split].images[i])


def test_cifar10_prefers_the_official_pickles_when_both_layouts_exist(tmp_path):
    make_cifar_jpegs(tmp_path, n_train=10, n_test=10)
    truth = make_cifar_pickles(tmp_path, n_train=12, n_test=5)
    dataset = cifar10(tmp_path)
    assert isinstance(dataset, torchvision.datasets.CIFAR10) and len(dataset) == 12
    np.testing.assert_array_equal(as_uint8(dataset[0][0]), truth["train"].images[0])


def test_cifar10_download_is_not_attempted_when_data_is_present(jpegs_root, monkeypatch):
    def no_network(self):
        raise AssertionError("download must not run when a layout is present")

    monkeypatch.setattr(torchvision.datasets.CIFAR10, "download", no_network)
    assert len(cifar10(jpegs_root[0], download=True)) == 30


def test_cifar10_failed_download_is_a_data_error(tmp_path, monkeypatch):
    def offline(self):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torchvision.datasets.CIFAR10, "download", offline)
    one_line_error(lambda: cifar10(tmp_path, download=True), "could not download CIFAR-10", str(tmp_path), "URLError")


# ----------------------------------------------------------------------------------------------------- CelebA


@pytest.mark.parametrize("width,height", [(89, 109), (178, 218)])
def test_celeba_transform_keeps_a_centred_disc_round(width, height):
    image = Image.new("RGB", (width, height), "black")
    radius = 0.3 * width
    ImageDraw.Draw(image).ellipse([width / 2 - radius, height / 2 - radius, width / 2 + radius, height / 2 + radius],
                                  fill="white")
    out = celeba_transform(64)(image)
    assert out.shape == (3, 64, 64) and out.dtype == torch.float32 and 0 <= out.min() and out.max() <= 1
    disc = out.mean(0) > 0.5
    rows, cols = disc.any(1).nonzero(), disc.any(0).nonzero()
    disc_height, disc_width = int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)
    expected = 2 * radius * 64 / round(width * 148 / 178)  # the crop keeps 148/178 of the width
    assert abs(disc_height - disc_width) <= 1, f"the disc became {disc_width}x{disc_height}: images are squashed"
    assert abs(disc_width - expected) <= 1.5, f"disc {disc_width} px wide, expected {expected:.1f}: wrong crop size"


def test_celeba_transform_at_official_size_is_the_usual_148_crop():
    pixels = np.random.default_rng(0).integers(0, 256, size=(218, 178, 3), dtype=np.uint8)
    out = celeba_transform(148)(Image.fromarray(pixels))
    np.testing.assert_array_equal(as_uint8(out), pixels[35:183, 15:163], "expected rows 35:183, columns 15:163")


def test_celeba_mirror_splits_by_identity(mirror_celeba):
    root, truth = mirror_celeba
    identity_of = dict(zip((p.name for p in truth.files), truth.identities))
    splits = {split: celeba(root, split, image_size=32) for split in ("train", "valid", "test")}
    files = {split: set(dataset.filename) for split, dataset in splits.items()}
    persons = {split: {identity_of[f] for f in names} for split, names in files.items()}
    assert all(files.values()), f"every split should be non-empty: {[len(f) for f in files.values()]}"
    assert set.union(*files.values()) == set(identity_of), "the three splits together hold every listed image"
    assert sum(map(len, files.values())) == len(identity_of), "no image may sit in two splits"
    assert not (persons["train"] & persons["valid"] or persons["train"] & persons["test"]
                or persons["valid"] & persons["test"]), "a person appears in two splits"
    assert len(files["train"]) > len(files["valid"]) + len(files["test"]), "train should take about 80%"
    again = celeba(root, "valid", image_size=32)
    assert again.filename == splits["valid"].filename, "the split must be deterministic"


def test_celeba_mirror_items_match_the_files(mirror_celeba):
    root, truth = mirror_celeba
    dataset = celeba(root, "test", image_size=48)
    assert dataset.attr_names == CELEBA_ATTRIBUTES
    index_of = {p.name: k for k, p in enumerate(truth.files)}
    for i in range(len(dataset)):
        image, attributes = dataset[i]
        k = index_of[dataset.filename[i]]
        assert image.shape == (3, 48, 48) and image.dtype == torch.float32 and 0 <= image.min() and image.max() <= 1
        assert attributes.dtype == torch.long and attributes.shape == (40,)
        assert torch.equal(attributes, torch.as_tensor(truth.targets[k])), "attributes -1/1 must map to 0/1"
        assert_close_to_jpeg(as_uint8(image), as_uint8(celeba_transform(48)(Image.fromarray(truth.images[k]))))


def test_celeba_without_identity_list_splits_by_filename(tmp_path):
    truth = make_celeba(tmp_path, n=60, with_identity=False)
    names = [celeba(tmp_path, split).filename for split in ("train", "valid", "test")]
    assert sorted(sum(names, [])) == [p.name for p in truth.files], "each image in exactly one split"
    assert all(names) and names == [celeba(tmp_path, split).filename for split in ("train", "valid", "test")]


def test_celeba_uses_the_partition_list_when_it_has_several_partitions(tmp_path):
    truth = make_celeba(tmp_path, n=30, single_partition=False)
    for split, code in data.CELEBA_SPLITS.items():
        assert celeba(tmp_path, split).filename == [p.name for p, c in zip(truth.files, truth.partitions) if c == code]


def test_celeba_official_layout_is_read_by_torchvision(tmp_path):
    truth = make_celeba(tmp_path, n=30, size=(178, 218), single_partition=False, official=True)
    dataset = celeba(tmp_path, "valid", image_size=64)
    assert isinstance(dataset, torchvision.datasets.CelebA)
    assert dataset.attr_names == CELEBA_ATTRIBUTES, "40 names, without the empty one after the header's last space"
    expected = [k for k, code in enumerate(truth.partitions) if code == 1]
    assert len(dataset) == len(expected)
    image, attributes = dataset[0]
    assert image.shape == (3, 64, 64) and torch.equal(attributes, torch.as_tensor(truth.targets[expected[0]]))


def test_celeba_failed_download_is_a_data_error(tmp_path, monkeypatch):
    def quota_exceeded(self):
        raise RuntimeError("Too many users have viewed or downloaded this file recently.")

    monkeypatch.setattr(torchvision.datasets.CelebA, "download", quota_exceeded)
    one_line_error(lambda: celeba(tmp_path, download=True), "could not download CelebA", "mmlab")


# ----------------------------------------------------------------------------------------------------- cache


def test_cache_holds_exactly_the_dataset_pixels(jpegs_root, mirror_celeba):
    for name, (root, _), split, size, dataset in [
        ("cifar10", jpegs_root, "test", None, cifar10(jpegs_root[0], "test")),
        ("celeba", mirror_celeba, "valid", 40, celeba(mirror_celeba[0], "valid", image_size=40)),
    ]:
        cached = load_cached(name, root, split, image_size=size, progress=False)
        side = 32 if name == "cifar10" else 40
        assert cached.images.dtype == torch.uint8 and cached.images.shape == (len(dataset), 3, side, side)
        assert cached.images.is_contiguous() and cached.targets.dtype == torch.long
        assert (cached.classes, cached.attr_names) == ((list(CIFAR10_CLASSES), []) if name == "cifar10"
                                                      else ([], CELEBA_ATTRIBUTES))
        for i in range(len(dataset)):
            image, target = dataset[i]
            assert torch.equal(data._to_unit_float(cached.images[i]), image), "cache and Dataset disagree"
            assert torch.equal(cached.targets[i], torch.as_tensor(target))


def test_cache_is_reused_then_rebuilt_when_a_source_file_changes(tmp_path, monkeypatch, capsys):
    truth = make_cifar_jpegs(tmp_path, n_train=10, n_test=10)
    first = load_cached("cifar10", tmp_path, "train", progress=True)
    assert "decoding cifar10 train" in capsys.readouterr().err, "the first load decodes, with a progress bar"
    path = cache_path("cifar10", tmp_path, "train")
    assert path == tmp_path / ".cache" / "cifar10-train-32.pt" and path.is_file()
    assert list(path.parent.iterdir()) == [path], "no temporary file may be left behind"

    def must_not_decode(*args):
        raise AssertionError("an up-to-date cache must be loaded, not rebuilt")

    with monkeypatch.context() as patch:
        patch.setattr(data, "_decode_all", must_not_decode)
        again = load_cached("cifar10", tmp_path, "train")
    assert torch.equal(again.images, first.images) and torch.equal(again.targets, first.targets)

    changed = truth["train"].files[0]
    Image.fromarray(np.full((32, 32, 3), 255, np.uint8)).save(changed)  # the first image becomes white
    os.utime(changed, ns=(os.stat(changed).st_atime_ns, os.stat(changed).st_mtime_ns + 10**9))
    rebuilt = load_cached("cifar10", tmp_path, "train", progress=False)
    assert capsys.readouterr().err == "", "progress=False must keep stderr silent (nbgrader)"
    assert rebuilt.images[0].min() == 255, "the cache must follow the changed file"


def test_damaged_cache_file_is_rebuilt(tmp_path):
    make_cifar_jpegs(tmp_path, n_train=10, n_test=10)
    good = load_cached("cifar10", tmp_path, "test", progress=False)
    truncate_file(cache_path("cifar10", tmp_path, "test"), keep=0.3)
    assert torch.equal(load_cached("cifar10", tmp_path, "test", progress=False).images, good.images)


# ----------------------------------------------------------------------------------------------------- loader


def numbered_split(n: int) -> CachedSplit:
    """A CachedSplit whose targets are the image numbers, so batches say which images they hold."""
    images = torch.randint(0, 256, (n, 3, 4, 4), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    return CachedSplit("fake", "train", images, torch.arange(n), [], [])


def epoch_targets(loader: InMemoryLoader) -> list[int]:
    return [int(t) for _, y in loader for t in y]


def test_loader_yields_unit_float_batches_of_the_cached_images():
    split = numbered_split(10)
    loader = InMemoryLoader(split, batch_size=4, shuffle=True)
    batches = list(loader)
    assert len(batches) == len(loader) == 2, "drop_last: 10 images give two full batches of 4"
    for x, y in batches:
        assert x.shape == (4, 3, 4, 4) and x.dtype == torch.float32 and 0 <= x.min() and x.max() <= 1
        torch.testing.assert_close(x, split.images[y].float() / 255, atol=1e-7, rtol=0)


def test_loader_without_drop_last_yields_every_image_once():
    loader = InMemoryLoader(numbered_split(10), batch_size=4, shuffle=False, drop_last=False)
    assert len(loader) == 3 and epoch_targets(loader) == list(range(10))


@pytest.mark.parametrize("n,drop_last", [(20, True), (23, True), (23, False)])
def test_two_ranks_share_one_permutation_and_split_it(n, drop_last):
    ranks = [InMemoryLoader(numbered_split(n), 3, drop_last=drop_last, seed=5, rank=r, world_size=2) for r in (0, 1)]
    assert len(ranks[0]) == len(ranks[1]), "every rank must run the same number of batches (or DDP hangs)"
    for epoch in (0, 1):
        for loader in ranks:
            loader.set_epoch(epoch)
        shards = [loader.indices().tolist() for loader in ranks]
        assert len(shards[0]) == len(shards[1]) == math.ceil(n / 2) - (n % 2 if drop_last else 0)
        for loader, shard in zip(ranks, shards):
            assert epoch_targets(loader) == shard[: len(loader) * 3], "batches follow the rank's shard"
        permutation = torch.randperm(n, generator=torch.Generator().manual_seed(5 + epoch)).tolist()
        interleaved = [i for pair in zip(*shards) for i in pair]
        assert interleaved == (permutation * 2)[: len(interleaved)], \
            "both ranks cut the same seed+epoch permutation, rank r taking positions r, r+2, ..."
        if drop_last:
            assert not set(shards[0]) & set(shards[1]), "ranks must see disjoint images"
            assert sorted(shards[0] + shards[1]) == sorted(permutation[: n - n % 2]), "together: the whole epoch"
        else:
            assert set(shards[0]) | set(shards[1]) == set(range(n)), "padding must still cover every image"


def test_loader_is_deterministic_and_reshuffles_each_epoch():
    make = lambda: InMemoryLoader(numbered_split(30), batch_size=5, seed=1)  # noqa: E731
    first, second = make(), make()
    epochs = [epoch_targets(first) for _ in range(3)]
    assert epochs == [epoch_targets(second) for _ in range(3)], "same seed, same batches"
    assert epochs[0] != epochs[1] != epochs[2], "each pass over the loader is a new epoch"
    first.set_epoch(1)
    assert epoch_targets(first) == epochs[1], "set_epoch(e) reproduces epoch e"


def test_loader_limit_and_bad_arguments():
    loader = InMemoryLoader(numbered_split(30), batch_size=4, shuffle=False, drop_last=False, limit=6)
    assert epoch_targets(loader) == list(range(6)), "limit keeps the first images of the split"
    for bad in (dict(batch_size=0), dict(batch_size=2, rank=2, world_size=2), dict(batch_size=2, limit=0)):
        with pytest.raises(ValueError):
            InMemoryLoader(numbered_split(4), **bad)


# ----------------------------------------------------------------------------------------------------- errors


def test_missing_datasets_say_how_to_get_them(tmp_path):
    one_line_error(lambda: cifar10(tmp_path), "no CIFAR-10 found under", str(tmp_path), "make data", "download=True")
    one_line_error(lambda: celeba(tmp_path), "no CelebA found under", str(tmp_path), "make data", "mmlab")
    one_line_error(lambda: load_cached("cifar10", tmp_path), "no CIFAR-10 found")


def test_a_root_one_level_too_deep_is_pointed_out(jpegs_root, mirror_celeba):
    one_line_error(lambda: cifar10(jpegs_root[0] / "cifar10"), "looks like the dataset folder itself")
    one_line_error(lambda: celeba(mirror_celeba[0] / "celeba"), "looks like the dataset folder itself")


def test_unknown_names_and_splits(jpegs_root):
    one_line_error(lambda: cifar10(jpegs_root[0], "valid"), "unknown CIFAR-10 split 'valid'", "'test'")
    one_line_error(lambda: celeba(jpegs_root[0], "val"), "unknown CelebA split 'val'", "'valid'")
    one_line_error(lambda: load_cached("mnist"), "unknown dataset 'mnist'", "'cifar10'")
    one_line_error(lambda: load_cached("celeba", jpegs_root[0], "training"), "unknown CelebA split")
    one_line_error(lambda: load_cached("cifar10", jpegs_root[0], image_size=64), "32x32")


def test_damaged_jpegs_name_the_file(tmp_path):
    cifar = make_cifar_jpegs(tmp_path, n_train=10, n_test=10)
    faces = make_celeba(tmp_path, n=30)
    garbage, truncated = cifar["test"].files[3], faces.files[0]
    garbage.write_bytes(b"this is not a JPEG")
    truncate_file(truncated, keep=0.5)
    dataset = cifar10(tmp_path, "test")
    one_line_error(lambda: dataset[3], "cannot decode", str(garbage), "make data")
    one_line_error(lambda: load_cached("cifar10", tmp_path, "test", progress=False), str(garbage))
    split = next(s for s in ("train", "valid", "test") if truncated.name in celeba(tmp_path, s).filename)
    faces_split = celeba(tmp_path, split)
    index = faces_split.filename.index(truncated.name)
    one_line_error(lambda: faces_split[index], "cannot decode", str(truncated), "truncated")
    one_line_error(lambda: load_cached("celeba", tmp_path, split, progress=False), str(truncated))


def test_damaged_or_incomplete_pickles(tmp_path):
    make_cifar_pickles(tmp_path, n_train=10, n_test=5)
    folder = tmp_path / "cifar-10-batches-py"
    truncate_file(folder / "data_batch_2", keep=0.5)
    one_line_error(lambda: cifar10(tmp_path), "cannot read the CIFAR-10 batches", str(folder), "download=True")
    (folder / "data_batch_3").unlink()
    one_line_error(lambda: cifar10(tmp_path, "test"), str(folder), "lacks data_batch_3")


def test_wrong_cifar_jpeg_layouts(tmp_path):
    make_cifar_jpegs(tmp_path, n_train=10, n_test=10)
    shutil.rmtree(tmp_path / "cifar10" / "test")
    one_line_error(lambda: cifar10(tmp_path, "test"), "has no test/ folder", "make data")
    (tmp_path / "cifar10" / "train" / "airplane").rename(tmp_path / "cifar10" / "train" / "plane")
    one_line_error(lambda: cifar10(tmp_path), "not the 10 CIFAR-10 classes", "plane")
    for folder in (tmp_path / "cifar10" / "train").iterdir():
        shutil.rmtree(folder)
    one_line_error(lambda: cifar10(tmp_path), "is not an ImageFolder")


def test_wrong_or_damaged_celeba_folders(tmp_path):
    truth = make_celeba(tmp_path, n=30)
    folder = tmp_path / "celeba"
    attributes = folder / "list_attr_celeba.txt"
    text = attributes.read_text()
    attributes.write_text(text.replace(" 1", " 2", 1))
    one_line_error(lambda: celeba(tmp_path), f"{attributes}:3", "-1/1")
    attributes.write_text(text.replace("30\n", "31\n", 1))
    one_line_error(lambda: celeba(tmp_path), f"{attributes}:1", "31 images but 30 rows")
    attributes.write_text(text)
    truth.files[4].unlink()
    one_line_error(lambda: celeba(tmp_path), "lacks 1 images", truth.files[4].name)
    (folder / "identity_CelebA.txt").write_text("000001.jpg 1\n")
    one_line_error(lambda: celeba(tmp_path), "identity_CelebA.txt does not list 29 images")
    attributes.unlink()
    one_line_error(lambda: celeba(tmp_path), str(folder), "lacks list_attr_celeba.txt", "wrong layout")


def test_unwritable_cache_folder_is_a_data_error(jpegs_root, tmp_path):
    shutil.copytree(jpegs_root[0] / "cifar10", tmp_path / "cifar10")
    (tmp_path / ".cache").write_text("a file where the cache folder should be")
    one_line_error(lambda: load_cached("cifar10", tmp_path, "test", progress=False), "cannot write the cache",
                   "VAE_DATA_ROOT")


# ----------------------------------------------------------------------------------------------------- mirror, CLI


def test_unpack_mirror_extracts_once(tmp_path, capsys):
    make_mirror(tmp_path / "mirror", tmp_path / "staging", n_cifar=20, n_celeba=30)
    root = tmp_path / "data"
    unpack_mirror(tmp_path / "mirror", root)
    assert len(cifar10(root, "test")) == 20 and sum(len(celeba(root, s)) for s in data.CELEBA_SPLITS) == 30
    some_image = next((root / "cifar10" / "train" / "cat").iterdir())
    before = some_image.stat().st_mtime_ns
    capsys.readouterr()
    unpack_mirror(tmp_path / "mirror", root)
    assert capsys.readouterr().out.count("already unpacked") == 2
    assert some_image.stat().st_mtime_ns == before, "a second unpack must not extract again"


def test_unpack_without_mirror_explains_and_succeeds(tmp_path):
    result = subprocess.run([sys.executable, "-m", "course_utils.data", "unpack", "--mirror", str(tmp_path / "none"),
                             "--data-root", str(tmp_path / "data")], capture_output=True, text=True)
    assert result.returncode == 0, "`make data` must not fail on a machine without the mirror"
    assert "download=True" in result.stdout and "mmlab" in result.stdout
    assert not (tmp_path / "data").exists()


def test_cli_info_and_errors(jpegs_root, mirror_celeba, tmp_path, capsys):
    assert data.main(["info", "--data-root", str(jpegs_root[0])]) == 0
    out = capsys.readouterr().out
    assert "CIFAR-10: course-mirror layout" in out and "train 30, test 20" in out and "no CelebA found" in out
    (tmp_path / "mirror").mkdir()
    (tmp_path / "mirror" / "celeba-subset.tar").write_bytes(b"not a tar file")
    with pytest.raises(SystemExit) as exited:
        data.main(["unpack", "--mirror", str(tmp_path / "mirror"), "--data-root", str(tmp_path / "data")])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith("error: cannot unpack") and error.count("\n") == 1


# ----------------------------------------------------------------------------------------------------- real data


@pytest.mark.slow
def test_real_data_counts_ranges_and_statistics():
    root = resolve_data_root()
    try:
        data._locate_cifar10(root)
        data._locate_celeba(root)
    except DataError as err:
        pytest.skip(f"real data absent ({err})")
    train, test = load_cached("cifar10", root, "train", progress=False), load_cached("cifar10", root, "test",
                                                                                      progress=False)
    assert train.images.shape == (50_000, 3, 32, 32) and test.images.shape == (10_000, 3, 32, 32)
    assert torch.equal(torch.bincount(train.targets), torch.full((10,), 5_000)), "5,000 training images per class"
    assert torch.equal(torch.bincount(test.targets), torch.full((10,), 1_000))
    means = train.images.float().mean(dim=(0, 2, 3)) / 255
    torch.testing.assert_close(means, torch.tensor([0.4913, 0.4821, 0.4465]), atol=2e-3, rtol=0)

    listed = int((root / "celeba" / "list_attr_celeba.txt").read_text().split("\n", 1)[0])
    splits = [celeba(root, split) for split in data.CELEBA_SPLITS]
    assert sum(map(len, splits)) == listed and all(len(s) > 0.05 * listed for s in splits)
    identities = [set(torch.as_tensor(s.identity).flatten().tolist()) for s in splits]
    assert not (identities[0] & identities[1] or identities[0] & identities[2] or identities[1] & identities[2])
    faces = load_cached("celeba", root, "valid", progress=False)
    assert faces.images.shape == (len(splits[1]), 3, 64, 64) and faces.targets.shape == (len(splits[1]), 40)
    assert faces.targets.min() == 0 and faces.targets.max() == 1 and 0 < faces.images.float().mean() < 255
