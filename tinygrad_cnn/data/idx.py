"""Reader for IDX files, the format of MNIST and Fashion-MNIST (raw or gzip-compressed)."""
from __future__ import annotations

import gzip
import os

import numpy as np

__all__ = ["load_idx"]

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
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in _IDX_TYPES:
        raise ValueError(f"load_idx: {path} is not an IDX file (bad magic number {raw[:4].hex()})")
    dtype, ndim = np.dtype(_IDX_TYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"load_idx: {path} is truncated inside its header")
    shape = tuple(int(n) for n in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"load_idx: {path} has {len(raw)} bytes, its header {shape} implies {expected}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))
