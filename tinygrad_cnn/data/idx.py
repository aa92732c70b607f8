"""Reader for IDX files, the format of MNIST and Fashion-MNIST (raw or gzip-compressed)."""
from __future__ import annotations

import gzip
import math
import os
import zlib

import numpy as np

__all__ = ["load_idx", "load_mnist"]

# Type byte of the IDX header -> big-endian numpy dtype.
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def load_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (``train-images-idx3-ubyte`` or ``.gz``) into an array of its shape.

    Header: two zero bytes, a type byte, the number of dimensions, then one big-endian
    uint32 per dimension; the data follows.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as err:  # EOFError: the download stopped early
            raise ValueError(f"load_idx: {path} is a damaged or truncated gzip file ({err})") from None
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in _IDX_TYPES:
        raise ValueError(f"load_idx: {path} is not an IDX file (bad magic number {raw[:4].hex()})")
    dtype, ndim = np.dtype(_IDX_TYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"load_idx: {path} is truncated inside its header")
    shape = tuple(int(n) for n in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = header + math.prod(shape) * dtype.itemsize  # Python ints: a hostile shape cannot overflow
    if len(raw) != expected:
        raise ValueError(f"load_idx: {path} has {len(raw)} bytes, its header {shape} implies {expected}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


MNIST_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
               "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def _find(folder: str, name: str) -> str:
    for candidate in (name, name + ".gz"):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f"load_mnist: {folder} has no {name} (or {name}.gz)")


def load_mnist(folder: str | os.PathLike):
    """MNIST or Fashion-MNIST from a folder holding the four standard IDX files (raw or .gz):
    (train, test) splits of images (N, 1, 28, 28) float32 in [0, 1] and labels (N,) int64."""
    from .digits import Split

    folder = os.fspath(folder)
    splits = []
    for images_name, labels_name in MNIST_FILES.values():
        images, labels = load_idx(_find(folder, images_name)), load_idx(_find(folder, labels_name))
        if images.ndim != 3 or labels.shape != (len(images),):
            raise ValueError(f"load_mnist: {folder}: images {images.shape} and labels {labels.shape} do not match")
        if len(images) == 0:
            raise ValueError(f"load_mnist: {folder}: {images_name} holds no images")
        splits.append(Split((images.astype(np.float32) / 255.0)[:, None], labels.astype(np.int64)))
    return tuple(splits)
