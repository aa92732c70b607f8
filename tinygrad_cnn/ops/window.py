"""Sliding-window ops: im2col (backward: col2im) and the max / mean over each window.

Notation, used in names and shapes throughout:
  B batch, C input channels, H x W input size, M output channels (filters),
  K_h x K_w kernel (window) size, S_h, S_w stride, P_t, P_b, P_l, P_r padding
  (top, bottom, left, right), O_h x O_w output size, K = K_h * K_w.

  O_h = (P_t + H + P_b - K_h) // S_h + 1; rows and columns a window never reaches
  (when the stride does not divide evenly) are dropped and get zero gradient.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..function import Function
from .reduce import max_along_last, scatter_to_index


class Geometry(NamedTuple):
    """Window geometry of one im2col: kernel (K_h, K_w), stride (S_h, S_w),
    padding ((P_t, P_b), (P_l, P_r)) and output size (O_h, O_w)."""

    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[tuple[int, int], tuple[int, int]]
    out_size: tuple[int, int]


def _pair(op: str, name: str, value, minimum: int) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, (int, np.integer)) else value
    if not isinstance(pair, (tuple, list)) or len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in pair):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def _padding(op: str, padding, kernel_size: tuple[int, int], stride: tuple[int, int]):
    """Padding as ((P_t, P_b), (P_l, P_r)). "same" pads K - 1 in all, the odd one at the end."""
    if isinstance(padding, str):
        if padding != "same":
            raise ValueError(f"{op}: padding must be an int, a pair of ints or 'same', got {padding!r}")
        if stride != (1, 1):
            raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}")
        return tuple(((k - 1) // 2, k - 1 - (k - 1) // 2) for k in kernel_size)
    if isinstance(padding, (tuple, list)) and len(padding) == 2 and all(isinstance(p, (tuple, list)) for p in padding):
        return tuple(_pair(op, "padding", p, 0) for p in padding)
    return tuple((p, p) for p in _pair(op, "padding", padding, 0))


def window_geometry(op: str, input_shape: tuple[int, ...], kernel_size, stride, padding) -> Geometry:
    """Check and normalise window arguments for a (B, C, H, W) input; name ``op`` in errors."""
    if len(input_shape) != 4:
        raise ValueError(f"{op}: input must have shape (B, C, H, W), got {input_shape}")
    kernel = _pair(op, "kernel_size", kernel_size, 1)
    strides = _pair(op, "stride", stride, 1)
    pads = _padding(op, padding, kernel, strides)
    out = []
    for axis, (n, k, s, (p0, p1)) in enumerate(zip(input_shape[2:], kernel, strides, pads)):
        size = (n + p0 + p1 - k) // s + 1
        if n + p0 + p1 < k or size < 1:
            raise ValueError(
                f"{op}: kernel {kernel} is larger than the padded input: input {input_shape} "
                f"with padding {pads} gives {'height' if axis == 0 else 'width'} {n + p0 + p1} < {k}"
            )
        out.append(size)
    return Geometry(kernel, strides, pads, tuple(out))


def im2col_array(x: np.ndarray, geometry: Geometry, pad_value: float = 0.0) -> np.ndarray:
    """(B, C, H, W) -> (B*O_h*O_w, C*K_h*K_w); rows ordered (b, o_h, o_w), columns (c, k_h, k_w).

    The windows are a strided view of the (padded) input; the only copy is the final reshape.
    """
    (kh, kw), (sh, sw), ((pt, pb), (pl, pr)), (oh, ow) = geometry
    b, c, h, w = x.shape
    if pt or pb or pl or pr:
        padded = np.full((b, c, pt + h + pb, pl + w + pr), pad_value, dtype=x.dtype)
        padded[:, :, pt : pt + h, pl : pl + w] = x
        x = padded
    windows = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, : sh * oh : sh, : sw * ow : sw]
    # (B, C, O_h, O_w, K_h, K_w) -> (B, O_h, O_w, C, K_h, K_w) -> (B*O_h*O_w, C*K_h*K_w)
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(b * oh * ow, c * kh * kw)


def col2im_array(cols: np.ndarray, input_shape: tuple[int, ...], geometry: Geometry) -> np.ndarray:
    """Adjoint of :func:`im2col_array`: (B*O_h*O_w, C*K_h*K_w) -> (B, C, H, W).

    Each window element is added back to the pixel it was read from. Loops over the K_h*K_w
    kernel offsets only; each step adds one strided (B, C, O_h, O_w) slab, so pixels shared
    by overlapping windows accumulate, and padding is cut off at the end.
    """
    (kh, kw), (sh, sw), ((pt, pb), (pl, pr)), (oh, ow) = geometry
    b, c, h, w = input_shape
    # (B*O_h*O_w, C*K_h*K_w) -> (B, O_h, O_w, C, K_h, K_w) -> (B, C, K_h, K_w, O_h, O_w)
    cols = cols.reshape(b, oh, ow, c, kh, kw).transpose(0, 3, 4, 5, 1, 2)
    out = np.zeros((b, c, pt + h + pb, pl + w + pr), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            out[:, :, i : i + sh * oh : sh, j : j + sw * ow : sw] += cols[:, :, i, j]
    return out[:, :, pt : pt + h, pl : pl + w]


class Im2col(Function):
    """Gather every window of a (B, C, H, W) input into a row; backward is col2im."""

    @staticmethod
    def forward(ctx, x, kernel_size, stride=1, padding=0, pad_value=0.0):
        ctx.geometry = window_geometry("im2col", x.shape, kernel_size, stride, padding)
        ctx.input_shape = x.shape
        return im2col_array(x, ctx.geometry, pad_value)

    @staticmethod
    def backward(ctx, grad):
        return col2im_array(grad, ctx.input_shape, ctx.geometry)


def _windows(op: str, cols: np.ndarray, channels: int) -> np.ndarray:
    """(N, C*K) -> (N, C, K): im2col columns grouped per channel."""
    if cols.ndim != 2 or channels < 1 or cols.shape[1] % channels:
        raise ValueError(f"{op}: expected im2col columns (N, C*K) with C={channels}, got shape {cols.shape}")
    return cols.reshape(cols.shape[0], channels, -1)


class WindowMax(Function):
    """Max over each window of im2col columns: (N, C*K) -> (N, C). The max-pool op.

    Backward routes each window's gradient to one element, its first maximum (as PyTorch's
    max-pool does), so ties never duplicate the gradient.
    """

    @staticmethod
    def forward(ctx, cols, channels):
        windows = _windows("window_max", cols, channels)
        out, index = max_along_last(windows)
        ctx.save_for_backward(index)
        ctx.window = windows.shape[2]
        return out

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        return scatter_to_index(grad, index, ctx.window).reshape(grad.shape[0], -1)


class WindowMean(Function):
    """Mean over each window of im2col columns: (N, C*K) -> (N, C). The avg-pool op.

    Padding zeros count towards the mean (PyTorch's count_include_pad=True).
    """

    @staticmethod
    def forward(ctx, cols, channels):
        windows = _windows("window_mean", cols, channels)
        ctx.window = windows.shape[2]
        return windows.mean(axis=2)

    @staticmethod
    def backward(ctx, grad):
        share = grad / grad.dtype.type(ctx.window)
        return np.repeat(share, ctx.window, axis=1)
