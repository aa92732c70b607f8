"""Resizing images: nearest and bilinear interpolation, as torch.nn.functional.interpolate.

Interpolation is linear in the image and separable in its two axes, so resizing (B, C, H, W)
to (B, C, O_h, O_w) is two matrix products, A_h (O_h, H) @ x @ A_w^T (W, O_w): row i of A
holds the weights output position i gives the input positions it reads. Its gradient is the
same two products with the transposed matrices, which matmul's backward already is.
"""
from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor
from .common import as_tensor

__all__ = ["interpolate"]

MODES = ("nearest", "nearest-exact", "bilinear")


def _scaled_size(scale_factor, size: tuple[int, int]) -> tuple[tuple[int, int], tuple[float, float]]:
    scales = scale_factor if isinstance(scale_factor, (tuple, list)) else (scale_factor, scale_factor)
    if len(scales) != 2 or not all(isinstance(f, (int, float, np.number)) and not isinstance(f, bool) and f > 0
                                   for f in scales):
        raise ValueError(f"interpolate: scale_factor must be a positive number or a pair of them, got {scale_factor!r}")
    out = tuple(int(math.floor(n * f)) for n, f in zip(size, scales))
    if min(out) < 1:
        raise ValueError(f"interpolate: scale_factor {scale_factor!r} leaves no output for input size {size}")
    return out, tuple(float(f) for f in scales)


def _target(size, scale_factor, input_size: tuple[int, int]) -> tuple[tuple[int, int], tuple[float | None, ...]]:
    """(O_h, O_w) and the scale factors given (None where the size was given)."""
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if scale_factor is not None:
        return _scaled_size(scale_factor, input_size)
    pair = size if isinstance(size, (tuple, list)) else (size, size)
    if len(pair) != 2 or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1 for n in pair):
        raise ValueError(f"interpolate: size must be a positive int or a pair of them, got {size!r}")
    return tuple(int(n) for n in pair), (None, None)


def _nearest_matrix(size: int, out: int, scale: float | None, exact: bool) -> np.ndarray:
    """(out, size) with one 1 per row: output i reads input floor(i * S) ("nearest") or
    floor((i + 0.5) * S) ("nearest-exact"), S = size / out or 1 / scale_factor, in float32
    as PyTorch computes it."""
    step = np.float32(size) / np.float32(out) if scale is None else np.float32(1 / scale)
    source = np.floor((np.arange(out, dtype=np.float32) + np.float32(0.5 if exact else 0)) * step)
    matrix = np.zeros((out, size))
    matrix[np.arange(out), np.minimum(source.astype(np.int64), size - 1)] = 1
    return matrix


def _linear_matrix(size: int, out: int, scale: float | None, align_corners: bool) -> np.ndarray:
    """(out, size) with two weights per row, 1 - t and t, on the inputs either side of output
    i's source position: i * (size - 1) / (out - 1) with align_corners (corner pixels' centres
    line up), else (i + 0.5) * S - 0.5 clamped at 0, S = size / out or 1 / scale_factor."""
    i = np.arange(out)
    if align_corners:
        source = i * ((size - 1) / (out - 1) if out > 1 else 0.0)
    else:
        source = np.maximum((i + 0.5) * (size / out if scale is None else 1 / scale) - 0.5, 0.0)
    left = np.minimum(source.astype(np.int64), size - 1)
    right, t = np.minimum(left + 1, size - 1), source - left
    matrix = np.zeros((out, size))
    matrix[i, left] = 1 - t
    matrix[i, right] += t  # left == right at the last pixel: both weights land there
    return matrix


def interpolate(x: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None) -> Tensor:
    """Resize (B, C, H, W) -> (B, C, O_h, O_w), to ``size`` or by ``scale_factor`` (O =
    floor(H * factor)), as torch.nn.functional.interpolate: modes "nearest" (torch's legacy
    nearest), "nearest-exact" and "bilinear" (``align_corners`` False by default).

    A_h (O_h, H) @ (x (B, C, H, W) @ A_w^T (W, O_w)) -> (B, C, O_h, O_w); see the module
    docstring for why two matrix products are exactly interpolation.
    """
    x = as_tensor("interpolate", "input", x)
    if x.ndim != 4:
        raise ValueError(f"interpolate: input must have shape (B, C, H, W), got {x.shape}")
    if mode not in MODES:
        raise ValueError(f"interpolate: mode must be one of {', '.join(MODES)}, got {mode!r}")
    if align_corners is not None and mode != "bilinear":
        raise ValueError(f"interpolate: align_corners can only be set with mode 'bilinear', not {mode!r}")
    if x.dtype.kind != "f":
        x = x.float()
    out_size, scales = _target(size, scale_factor, x.shape[2:])
    if mode == "bilinear":
        rows, cols = (_linear_matrix(*axis, bool(align_corners)) for axis in zip(x.shape[2:], out_size, scales))
    else:
        rows, cols = (_nearest_matrix(*axis, mode == "nearest-exact") for axis in zip(x.shape[2:], out_size, scales))
    return rows.astype(x.dtype) @ (x @ cols.T.astype(x.dtype))
