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
    uint32 per dimension; the data follows. A gzip file is decompressed as a stream and
    only as far as its header says, so a small file cannot expand to more than it declares.
    """
    path = os.fspath(path)
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        stream = gzip.GzipFile(fileobj=raw) if gzipped else raw
        try:
            return _read_idx(path, stream)
        except (EOFError, OSError, zlib.error) as err:  # EOFError: the download stopped early
            if not gzipped:
                raise
            raise ValueError(
                f"load_idx: {path} is a damaged or truncated gzip file ({err})"
            ) from None


def _read_idx(path: str, stream) -> np.ndarray:
    magic = stream.read(4)
    if len(magic) < 4 or magic[:2] != b"\x00\x00" or magic[2] not in _IDX_TYPES:
        raise ValueError(f"load_idx: {path} is not an IDX file (bad magic number {magic.hex()})")
    dtype, ndim = np.dtype(_IDX_TYPES[magic[2]]), magic[3]
    dims = stream.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise ValueError(f"load_idx: {path} is truncated inside its header")
    shape = tuple(int(n) for n in np.frombuffer(dims, dtype=">u4"))
    header = 4 + 4 * ndim
    # Python ints: a hostile shape cannot overflow
    expected = header + math.prod(shape) * dtype.itemsize
    data = stream.read(min(expected - header, _MAX_IDX_BYTES) + 1)
    if header + len(data) != expected:
        held = f"{header + len(data)}" + (" or more" if len(data) > expected - header else "")
        raise ValueError(
            f"load_idx: {path} has {held} bytes, its header {shape} implies {expected}"
        )
    return np.frombuffer(data, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


_MAX_IDX_BYTES = 1 << 34  # 16 GiB: far beyond any IDX dataset, short of a hostile header's claim


_MAX_CLASSES = 1 << 16

MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


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
            raise ValueError(
                f"load_mnist: {folder}: images {images.shape} and labels {labels.shape} "
                f"do not match"
            )
        if len(images) == 0:
            raise ValueError(f"load_mnist: {folder}: {images_name} holds no images")
        if labels.dtype.kind not in "ui" or labels.min() < 0 or labels.max() >= _MAX_CLASSES:
            raise ValueError(
                f"load_mnist: {folder}: {labels_name} must hold class numbers "
                f"0..{_MAX_CLASSES - 1}, "
                f"found {labels.dtype} from {labels.min()} to {labels.max()}"
            )
        splits.append(Split((images.astype(np.float32) / 255.0)[:, None], labels.astype(np.int64)))
    return tuple(splits)
