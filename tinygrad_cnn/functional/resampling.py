"""Resizing images: nearest and bilinear interpolation, as torch.nn.functional.interpolate.

Interpolation is separable: each output row reads one input row (nearest) or mixes two
(bilinear), and the same along the columns. So resizing (B, C, H, W) to (B, C, O_h, O_w) is a
gather of rows then of columns by index (getitem), with bilinear's two neighbours weighted
(1 - t) and t: out[i] = (1 - t_i) * x[left_i] + t_i * x[right_i]. The gradient scatters back
the same way (getitem's backward), so each input pixel collects what its outputs read.
"""

from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor
from .common import float_input

__all__ = ["interpolate"]

MODES = ("nearest", "nearest-exact", "bilinear")


def _scaled_size(
    scale_factor, size: tuple[int, int]
) -> tuple[tuple[int, int], tuple[float, float]]:
    scales = (
        scale_factor if isinstance(scale_factor, (tuple, list)) else (scale_factor, scale_factor)
    )
    if len(scales) != 2 or not all(
        isinstance(f, (int, float, np.number)) and not isinstance(f, bool) and 0 < f < math.inf
        for f in scales
    ):
        raise ValueError(
            "interpolate: scale_factor must be a positive number or a pair of them, "
            f"got {scale_factor!r}"
        )
    out = tuple(int(math.floor(n * f)) for n, f in zip(size, scales))
    if min(out) < 1:
        raise ValueError(
            f"interpolate: scale_factor {scale_factor!r} leaves no output for input size {size}"
        )
    return out, tuple(float(f) for f in scales)


def target_size(
    size, scale_factor, input_size: tuple[int, int]
) -> tuple[tuple[int, int], tuple[float | None, ...]]:
    """(O_h, O_w) for an (H, W) input, and the scale factors given (None where the size was
    given), checked as :func:`interpolate` checks them."""
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if scale_factor is not None:
        return _scaled_size(scale_factor, input_size)
    pair = size if isinstance(size, (tuple, list)) else (size, size)
    if len(pair) != 2 or not all(
        isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1 for n in pair
    ):
        raise ValueError(
            f"interpolate: size must be a positive int or a pair of them, got {size!r}"
        )
    return tuple(int(n) for n in pair), (None, None)


def nearest_source(size: int, out: int, scale: float | None, exact: bool = False) -> np.ndarray:
    """(out,): the input position each output position reads, as PyTorch picks it: floor(i * S)
    ("nearest") or floor((i + 0.5) * S) ("nearest-exact"), S = size / out or 1 / scale_factor
    in float32; an axis that keeps its size, or (nearest) doubles it, reads i or i // 2."""
    i = np.arange(out)
    if out == size or (out == 2 * size and not exact):
        return i * size // out
    step = np.float32(size) / np.float32(out) if scale is None else np.float32(1 / scale)
    source = np.floor((i.astype(np.float32) + np.float32(0.5 if exact else 0)) * step)
    return np.minimum(source.astype(np.int64), size - 1)


def linear_source(
    size: int, out: int, scale: float | None, align_corners: bool
) -> tuple[np.ndarray, ...]:
    """(left, right, t), each (out,): output i mixes inputs left and right with weights 1 - t
    and t, at source position i * (size - 1) / (out - 1) with align_corners (the corner pixels'
    centres line up), else (i + 0.5) * S - 0.5 clamped at 0, S = size / out or 1 / scale_factor;
    an axis that keeps its size is copied."""
    i = np.arange(out)
    if align_corners:
        source = i * ((size - 1) / (out - 1) if out > 1 else 0.0)
    elif out == size:
        source = i.astype(np.float64)
    else:
        source = np.maximum((i + 0.5) * (size / out if scale is None else 1 / scale) - 0.5, 0.0)
    left = np.minimum(source.astype(np.int64), size - 1)
    return left, np.minimum(left + 1, size - 1), source - left


def _mix(x: Tensor, axis: int, left: np.ndarray, right: np.ndarray, t: np.ndarray) -> Tensor:
    """(1 - t) * x[left] + t * x[right] along ``axis`` (2 or 3); x itself where that is a copy."""
    if np.array_equal(left, np.arange(x.shape[axis])) and not t.any():
        return x
    index = (slice(None),) * axis
    shape = (-1, 1) if axis == 2 else (-1,)  # the weights broadcast along the rows or the columns
    weight = t.astype(x.dtype).reshape(shape)
    return x[index + (left,)] * (1 - weight) + x[index + (right,)] * weight


def interpolate(
    x: Tensor,
    size=None,
    scale_factor=None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> Tensor:
    """Resize (B, C, H, W) -> (B, C, O_h, O_w), to ``size`` or by ``scale_factor`` (O =
    floor(H * factor)), as torch.nn.functional.interpolate: modes "nearest" (torch's legacy
    nearest), "nearest-exact" and "bilinear" (``align_corners`` False by default).

    nearest: getitem x[:, :, rows, cols] -> (B, C, O_h, O_w). bilinear: the rows mixed, then
    the columns, each (1 - t) * x[left] + t * x[right] (see the module docstring).
    """
    x = float_input("interpolate", x)
    if x.ndim != 4 or min(x.shape[2:], default=0) < 1:
        raise ValueError(
            f"interpolate: input must have shape (B, C, H, W) with H, W >= 1, got {x.shape}"
        )
    if mode not in MODES:
        raise ValueError(f"interpolate: mode must be one of {', '.join(MODES)}, got {mode!r}")
    if align_corners is not None and mode != "bilinear":
        raise ValueError(
            f"interpolate: align_corners can only be set with mode 'bilinear', not {mode!r}"
        )
    (oh, ow), (sh, sw) = target_size(size, scale_factor, x.shape[2:])
    (h, w) = x.shape[2:]
    if mode == "bilinear":
        rows = _mix(x, 2, *linear_source(h, oh, sh, bool(align_corners)))
        return _mix(rows, 3, *linear_source(w, ow, sw, bool(align_corners)))
    exact = mode == "nearest-exact"
    return x[
        :, :, nearest_source(h, oh, sh, exact)[:, None], nearest_source(w, ow, sw, exact)[None, :]
    ]
