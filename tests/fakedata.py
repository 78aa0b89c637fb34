"""Small fake datasets in the real on-disk formats, for tests that must run without the real data.

Each maker writes under `root` the files of one real layout, byte format included (CIFAR-10's Python 2 pickles,
CelebA's whitespace-aligned text lists), filled with smooth random pictures that survive JPEG well, and returns
what it wrote so a test can compare a reader's output with the truth:

    make_cifar_pickles(root)  ROOT/cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}
    make_cifar_jpegs(root)    ROOT/cifar10/{train,test}/<class>/NNNN.jpg
    make_celeba(root)         ROOT/celeba/img_align_celeba/*.jpg + list_attr_celeba.txt, list_eval_partition.txt,
                              identity_CelebA.txt (+ list_bbox_celeba.txt, list_landmarks_align_celeba.txt
                              with official=True)
    make_mirror(mirror)       cifar10-jpg.tar and celeba-subset.tar, as in the course's data mirror
"""
from __future__ import annotations

import pickle
import struct
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from course_utils.data import CIFAR10_CLASSES, MIRROR_TARBALLS

CELEBA_ATTRIBUTES = (
    "5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs Big_Lips Big_Nose Black_Hair Blond_Hair "
    "Blurry Brown_Hair Bushy_Eyebrows Chubby Double_Chin Eyeglasses Goatee Gray_Hair Heavy_Makeup High_Cheekbones "
    "Male Mouth_Slightly_Open Mustache Narrow_Eyes No_Beard Oval_Face Pale_Skin Pointy_Nose Receding_Hairline "
    "Rosy_Cheeks Sideburns Smiling Straight_Hair Wavy_Hair Wearing_Earrings Wearing_Hat Wearing_Lipstick "
    "Wearing_Necklace Wearing_Necktie Young"
).split()
JPEG_OPTIONS = dict(quality=95, subsampling=0)  # 4:4:4 at high quality: pixels come back within a few levels


@dataclass
class FakeSplit:
    """What a maker wrote for one split, in the order the readers list it.

    files:   image files (or, for pickles, the batch file of each image).
    images:  uint8 (N, H, W, 3) pixels as written (before any JPEG loss).
    targets: int64 (N,) class indices, or (N, 40) 0/1 attributes for CelebA.
    """

    files: list[Path]
    images: np.ndarray
    targets: np.ndarray


@dataclass
class FakeCelebA(FakeSplit):
    """All images of a fake CelebA, by filename; identities (N,) and partitions (N,) as listed in the text files."""

    identities: np.ndarray
    partitions: np.ndarray


def smooth_images(n: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """n random smooth RGB pictures, uint8 (n, height, width, 3): coarse noise upsampled bilinearly."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, size=(n, max(2, height // 8), max(2, width // 8), 3), dtype=np.uint8)
    return np.stack([np.asarray(Image.fromarray(c).resize((width, height), Image.BILINEAR)) for c in coarse])


def save_jpeg(pixels: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, "JPEG", **JPEG_OPTIONS)


def truncate_file(path: Path, keep: float = 0.5) -> None:
    """Cut a file to a fraction of its bytes, as an interrupted copy would."""
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[: int(len(data) * keep)])


# CIFAR-10's pickles were written by Python 2: keys and names are Python 2 `str`, which load as bytes with
# pickle.load(encoding="bytes") (b'data', b'labels', ...) and as str with encoding="latin1" (torchvision's choice).
# Python 3 cannot produce such objects, so _Py2Str marks bytes to be written with Python 2's string opcodes.
class _Py2Str(bytes):
    pass


class _Py2Pickler(pickle._Pickler):  # the pure-Python pickler, whose dispatch table can be extended
    dispatch = pickle._Pickler.dispatch.copy()

    def _save_py2_str(self, text: bytes) -> None:
        if len(text) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(text)]) + text)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(text)) + text)

    dispatch[_Py2Str] = _save_py2_str


def _py2(text: str) -> _Py2Str:
    return _Py2Str(text.encode("latin1"))


def _write_py2_pickle(obj, path: Path) -> None:
    with open(path, "wb") as file:
        _Py2Pickler(file, protocol=2).dump(obj)


def make_cifar_pickles(root: Path, n_train: int = 50, n_test: int = 10, seed: int = 0) -> dict[str, FakeSplit]:
    """The official CIFAR-10 python layout: five training batches, one test batch and batches.meta.

    Batches hold b'batch_label', b'labels' (ints), b'data' (N, 3072) uint8 rows (1024 R, then G, then B, each
    row-major) and b'filenames', exactly like the real ones. Labels cycle through the 10 classes.
    Outputs: {"train": FakeSplit, "test": FakeSplit} in batch order.
    """
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    result = {}
    for split, n, seed_offset in (("train", n_train, 0), ("test", n_test, 1)):
        images = smooth_images(n, 32, 32, seed + seed_offset)
        labels = np.arange(n) % 10
        names = ["data_batch_%d" % (b + 1) for b in range(5)] if split == "train" else ["test_batch"]
        files = []
        for b, (name, rows) in enumerate(zip(names, np.array_split(np.arange(n), len(names)))):
            label = f"training batch {b + 1} of 5" if split == "train" else "testing batch 1 of 1"
            _write_py2_pickle({
                _py2("batch_label"): _py2(label),
                _py2("labels"): [int(v) for v in labels[rows]],
                _py2("data"): images[rows].transpose(0, 3, 1, 2).reshape(len(rows), 3072),  # HWC -> CHW rows
                _py2("filenames"): [_py2(f"fake_{CIFAR10_CLASSES[labels[i]]}_{i}.png") for i in rows],
            }, folder / name)
            files += [folder / name] * len(rows)
        result[split] = FakeSplit(files, images, labels)
    _write_py2_pickle({
        _py2("num_cases_per_batch"): max(1, n_train // 5),
        _py2("label_names"): [_py2(c) for c in CIFAR10_CLASSES],
        _py2("num_vis"): 3072,
    }, folder / "batches.meta")
    return result


def make_cifar_jpegs(root: Path, n_train: int = 50, n_test: int = 20, seed: int = 0) -> dict[str, FakeSplit]:
    """The course mirror's CIFAR-10 layout: ROOT/cifar10/{train,test}/<class>/NNNN.jpg (n >= 10 per split).

    Outputs: {"train": FakeSplit, "test": FakeSplit} in ImageFolder order (class, then filename).
    """
    result = {}
    for split, n, seed_offset in (("train", n_train, 0), ("test", n_test, 1)):
        assert n >= 10, "ImageFolder needs at least one image in each of the 10 class folders"
        images = smooth_images(n, 32, 32, seed + seed_offset)
        labels = np.arange(n) % 10
        order = np.argsort(labels, kind="stable")  # class by class, each in numbering order
        files = []
        for i in order:
            path = Path(root) / "cifar10" / split / CIFAR10_CLASSES[labels[i]] / f"{i // 10:04d}.jpg"
            save_jpeg(images[i], path)
            files.append(path)
        result[split] = FakeSplit(files, images[order], labels[order])
    return result


def make_celeba(root: Path, n: int = 60, size: tuple[int, int] = (89, 109), single_partition: bool = True,
                n_identities: int | None = None, with_identity: bool = True, official: bool = False,
                seed: int = 0) -> FakeCelebA:
    """A CelebA folder: ROOT/celeba/img_align_celeba/000001.jpg... and the text lists in the official formats.

    Inputs:  n images of size (width, height); single_partition - every image in partition 0 (like the mirror),
             else the first 60% train, next 20% valid, last 20% test; n_identities - persons (default n // 3),
             image k shows person 1 + k % n_identities; with_identity - write identity_CelebA.txt;
             official - also write list_bbox_celeba.txt and list_landmarks_align_celeba.txt (torchvision's layout).
    Outputs: a FakeCelebA of every image, in filename order.
    """
    folder = Path(root) / "celeba"
    width, height = size
    images = smooth_images(n, height, width, seed)
    rng = np.random.default_rng(seed + 7)
    attributes = rng.integers(0, 2, size=(n, len(CELEBA_ATTRIBUTES)))
    identities = 1 + np.arange(n) % (n_identities or max(1, n // 3))
    if single_partition:
        partitions = np.zeros(n, dtype=np.int64)
    else:
        partitions = np.searchsorted([int(0.6 * n), int(0.8 * n)], np.arange(n), side="right")
    files = [folder / "img_align_celeba" / f"{k + 1:06d}.jpg" for k in range(n)]
    for pixels, path in zip(images, files):
        save_jpeg(pixels, path)

    def write(name: str, lines: list[str]) -> None:
        (folder / name).write_text("".join(lines), newline="")  # newline="": keep the official \r below as is

    # Official whitespace: a count line, a header line ending in " \r\n", rows of `filename` + " %2d" per value.
    write("list_attr_celeba.txt", [f"{n}\n", " ".join(CELEBA_ATTRIBUTES) + " \r\n"] + [
        path.name + "".join(f" {2 * v - 1:2d}" for v in row) + "\n" for path, row in zip(files, attributes)])
    write("list_eval_partition.txt", [f"{path.name} {p}\n" for path, p in zip(files, partitions)])
    if with_identity:
        write("identity_CelebA.txt", [f"{path.name} {i}\n" for path, i in zip(files, identities)])
    if official:
        write("list_bbox_celeba.txt", [f"{n}\n", "image_id x_1 y_1 width height \n"] + [
            f"{path.name}    95  71 226 313\n" for path in files])
        write("list_landmarks_align_celeba.txt", [
            f"{n}\n",
            "lefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y rightmouth_x "
            "rightmouth_y \n"] + [f"{path.name} 69  109  106  113   77  142   73  152  108  154\n" for path in files])
    return FakeCelebA(files, images, attributes, identities, partitions)


def make_mirror(mirror: Path, staging: Path, n_cifar: int = 20, n_celeba: int = 30) -> None:
    """The course data mirror: `mirror`/cifar10-jpg.tar and celeba-subset.tar (single partition, identity list).

    staging - an empty scratch folder the datasets are generated in before being tarred.
    """
    make_cifar_jpegs(staging, n_train=n_cifar, n_test=n_cifar)
    make_celeba(staging, n=n_celeba)
    Path(mirror).mkdir(parents=True, exist_ok=True)
    for tarball, folder in MIRROR_TARBALLS.items():
        with tarfile.open(Path(mirror) / tarball, "w") as archive:
            archive.add(Path(staging) / folder, arcname=folder)
