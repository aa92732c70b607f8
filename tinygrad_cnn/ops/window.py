"""Sliding-window ops: im2col (backward: col2im) and the max / mean over each window.

Notation, used in names and shapes throughout:
  B batch, C input channels, H x W input size, M output channels (filters),
  K_h x K_w kernel (window) size, S_h, S_w stride, P_t, P_b, P_l, P_r padding
  (top, bottom, left, right), O_h x O_w output size, K = K_h * K_w.

  O_h = (P_t + H + P_b - K_h) // S_h + 1; rows and columns a window never reaches
  (when the stride does not divide evenly) are dropped and get zero gradient.
"""
from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..function import Function


class Geometry(NamedTuple):
    """Window geometry of one im2col: kernel (K_h, K_w), stride (S_h, S_w),
    padding ((P_t, P_b), (P_l, P_r)), output size (O_h, O_w) and dilation (D_h, D_w): the
    spacing between the input pixels a window reads, so it spans D*(K - 1) + 1 of them."""

    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[tuple[int, int], tuple[int, int]]
    out_size: tuple[int, int]
    dilation: tuple[int, int] = (1, 1)


def _pair(op: str, name: str, value, minimum: int) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, (int, np.integer)) else value
    if not isinstance(pair, (tuple, list)) or len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in pair):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def _padding(op: str, padding, spans: tuple[int, int], stride: tuple[int, int]):
    """Padding as ((P_t, P_b), (P_l, P_r)). "same" pads span - 1 in all (whole pixels), the
    odd one at the end, as PyTorch does."""
    if isinstance(padding, str):
        if padding != "same":
            raise ValueError(f"{op}: padding must be an int, a pair of ints or 'same', got {padding!r}")
        if stride != (1, 1):
            raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}")
        return tuple(((k - 1) // 2, k - 1 - (k - 1) // 2) for k in spans)
    if isinstance(padding, (tuple, list)) and len(padding) == 2 and all(isinstance(p, (tuple, list)) for p in padding):
        return tuple(_pair(op, "padding", p, 0) for p in padding)
    return tuple((p, p) for p in _pair(op, "padding", padding, 0))


def window_geometry(op: str, input_shape: tuple[int, ...], kernel_size, stride, padding, dilation=1) -> Geometry:
    """Check and normalise window arguments for a (B, C, H, W) input; name ``op`` in errors."""
    if len(input_shape) != 4:
        raise ValueError(f"{op}: input must have shape (B, C, H, W), got {input_shape}")
    kernel = _pair(op, "kernel_size", kernel_size, 1)
    strides = _pair(op, "stride", stride, 1)
    dilations = _pair(op, "dilation", dilation, 1)
    spans = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilations))
    pads = _padding(op, padding, spans, strides)
    out = []
    for axis, (n, k, s, (p0, p1)) in enumerate(zip(input_shape[2:], spans, strides, pads)):
        if n + p0 + p1 < k:
            spanned = f"kernel {kernel}" + (f" with dilation {dilations} spans {spans}" if dilations != (1, 1) else "")
            raise ValueError(
                f"{op}: {spanned} is larger than the padded input: input {input_shape} with padding "
                f"{pads} gives {'height' if axis == 0 else 'width'} {n + p0 + p1} < {k}"
            )
        out.append((n + p0 + p1 - k) // s + 1)
    return Geometry(kernel, strides, pads, tuple(out), dilations)


COLUMN_ORDERS = ("chw", "hwc")

IM2COL_WARN_BYTES = 1 << 30
"""im2col warns when its columns would exceed this many bytes (set it to change the limit).
The columns hold every input pixel once per window covering it: B*O_h*O_w*C*K_h*K_w values,
about K_h*K_w/(S_h*S_w) times the input."""


def _check_columns(op: str, columns: str) -> None:
    if columns not in COLUMN_ORDERS:
        raise ValueError(f"{op}: columns must be 'chw' (c, k_h, k_w) or 'hwc' (k_h, k_w, c), got {columns!r}")


def im2col_array(x: np.ndarray, geometry: Geometry, pad_value: float = 0.0, columns: str = "chw") -> np.ndarray:
    """(B, C, H, W) -> (B*O_h*O_w, C*K_h*K_w); rows ordered (b, o_h, o_w), columns (c, k_h, k_w)
    for ``columns="chw"`` or (k_h, k_w, c) for ``"hwc"``.

    The windows are a strided view of the channels-last (padded) input; the only copy is the
    final reshape. With "hwc" each row is K_h runs of K_w*C contiguous values, which copies
    fast; conv2d uses it, and the output of a conv2d is already channels-last in memory.
    """
    (kh, kw), (sh, sw), ((pt, pb), (pl, pr)), (oh, ow), (dh, dw) = geometry
    b, c, h, w = x.shape
    size = b * oh * ow * c * kh * kw * x.itemsize
    if size > IM2COL_WARN_BYTES:
        warnings.warn(f"im2col: columns of {size / 2**20:.0f} MiB (B*O_h*O_w*C*K_h*K_w = {b}*{oh}*{ow}*{c}*{kh}*{kw} "
                      f"values) for an input of {x.nbytes / 2**20:.0f} MiB; use a smaller batch or raise "
                      f"tinygrad_cnn.ops.window.IM2COL_WARN_BYTES", ResourceWarning, stacklevel=2)
    x = x.transpose(0, 2, 3, 1)  # (B, H, W, C), a view
    if pt or pb or pl or pr:
        padded = np.full((b, pt + h + pb, pl + w + pr, c), pad_value, dtype=x.dtype)
        padded[:, pt : pt + h, pl : pl + w] = x
        x = padded
    # (B, O_h, O_w, C, K_h, K_w), still a view: windows spanning D*(K-1)+1 pixels, every D-th read
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    windows = sliding_window_view(x, span, axis=(1, 2))[:, : sh * oh : sh, : sw * ow : sw, :, ::dh, ::dw]
    if columns == "hwc":
        windows = windows.transpose(0, 1, 2, 4, 5, 3)  # (B, O_h, O_w, K_h, K_w, C)
    return windows.reshape(b * oh * ow, c * kh * kw)


def col2im_array(cols: np.ndarray, input_shape: tuple[int, ...], geometry: Geometry, columns: str = "chw") -> np.ndarray:
    """Adjoint of :func:`im2col_array`: (B*O_h*O_w, C*K_h*K_w) -> (B, C, H, W).

    Each window element is added back to the pixel it was read from. Loops over the K_h*K_w
    kernel offsets only; each step adds one strided slab of all (b, c, o_h, o_w) into a zero
    buffer, so pixels shared by overlapping windows accumulate; padding is cut off at the end.
    The buffer is channels-first when ``cols`` is column-major (as matmul's backward returns
    it: then each slab is contiguous along (O_h, O_w)) and channels-last otherwise.
    """
    (kh, kw), (sh, sw), ((pt, pb), (pl, pr)), (oh, ow), (dh, dw) = geometry
    b, c, h, w = input_shape
    column_major = cols.flags.f_contiguous and not cols.flags.c_contiguous
    if column_major:  # memory (C*K, N): slabs[i, j] is (B, C, O_h, O_w)
        by_column = cols.T.reshape(*((kh, kw, c) if columns == "hwc" else (c, kh, kw)), b, oh, ow)
        slabs = by_column.transpose(*((0, 1, 3, 2) if columns == "hwc" else (1, 2, 3, 0)), 4, 5)
        out = np.zeros((b, c, pt + h + pb, pl + w + pr), dtype=cols.dtype)
        rows, cols_axis = 2, 3
    else:  # memory (N, C*K): slabs[i, j] is (B, O_h, O_w, C)
        by_row = cols.reshape(b, oh, ow, *((kh, kw, c) if columns == "hwc" else (c, kh, kw)))
        slabs = by_row.transpose(*((3, 4, 0, 1, 2, 5) if columns == "hwc" else (4, 5, 0, 1, 2, 3)))
        out = np.zeros((b, pt + h + pb, pl + w + pr, c), dtype=cols.dtype)
        rows, cols_axis = 1, 2
    window = [slice(None)] * 4
    for i in range(kh):
        for j in range(kw):
            top, left = i * dh, j * dw
            window[rows], window[cols_axis] = slice(top, top + sh * oh, sh), slice(left, left + sw * ow, sw)
            out[tuple(window)] += slabs[i, j]
    window[rows], window[cols_axis] = slice(pt, pt + h), slice(pl, pl + w)
    out = out[tuple(window)]
    return out if column_major else out.transpose(0, 3, 1, 2)


class Im2col(Function):
    """Gather every window of a (B, C, H, W) input into a row; backward is col2im."""

    @staticmethod
    def forward(ctx, x, kernel_size, stride=1, padding=0, pad_value=0.0, columns="chw", dilation=1):
        _check_columns("im2col", columns)
        ctx.geometry = window_geometry("im2col", x.shape, kernel_size, stride, padding, dilation)
        ctx.input_shape, ctx.columns = x.shape, columns
        return im2col_array(x, ctx.geometry, pad_value, columns)

    @staticmethod
    def backward(ctx, grad):
        return col2im_array(grad, ctx.input_shape, ctx.geometry, ctx.columns)


def _windows(op: str, cols: np.ndarray, channels: int, columns: str) -> np.ndarray:
    """(N, C*K) -> a (N, K, C) view of im2col columns, whichever their order."""
    _check_columns(op, columns)
    if cols.ndim != 2 or channels < 1 or cols.shape[1] % channels:
        raise ValueError(f"{op}: expected im2col columns (N, C*K) with C={channels}, got shape {cols.shape}")
    if columns == "chw":
        return cols.reshape(cols.shape[0], channels, -1).transpose(0, 2, 1)
    return cols.reshape(cols.shape[0], -1, channels)


def _empty_like_windows(n: int, k: int, c: int, columns: str, dtype) -> tuple[np.ndarray, np.ndarray]:
    """Uninitialised columns (N, C*K) in ``columns`` order, and a (N, K, C) view of them."""
    if columns == "chw":
        cols = np.empty((n, c, k), dtype=dtype)
        return cols.reshape(n, -1), cols.transpose(0, 2, 1)
    cols = np.empty((n, k, c), dtype=dtype)
    return cols.reshape(n, -1), cols


class WindowMax(Function):
    """Max over each window of im2col columns: (N, C*K) -> (N, C). The max-pool op.

    Backward routes each window's gradient to one element, its first maximum (as PyTorch's
    max-pool does), so ties never duplicate the gradient. Both directions take K branch-free
    passes over (N, C) slabs, one per window position (masked copies would stall on the
    random masks).
    """

    @staticmethod
    def forward(ctx, cols, channels, columns="chw"):
        windows = _windows("window_max", cols, channels, columns)
        best = windows[:, 0].copy()
        index = np.zeros(best.shape, dtype=np.min_scalar_type(windows.shape[1] - 1))
        for k in range(1, windows.shape[1]):
            better = windows[:, k] > best  # strict: on ties the first maximum stays
            # k exceeds every index so far, so max(index, k * better) sets k exactly where better
            np.maximum(index, better * index.dtype.type(k), out=index)
            np.maximum(best, windows[:, k], out=best)
        ctx.save_for_backward(index)
        ctx.window, ctx.columns = windows.shape[1], columns
        return best

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        cols, windows = _empty_like_windows(len(grad), ctx.window, grad.shape[1], ctx.columns, grad.dtype)
        for k in range(ctx.window):
            np.multiply(grad, index == k, out=windows[:, k])
        return cols


class WindowMean(Function):
    """Mean over each window of im2col columns: (N, C*K) -> (N, C). The avg-pool op.

    Padding zeros count towards the mean (PyTorch's count_include_pad=True).
    """

    @staticmethod
    def forward(ctx, cols, channels, columns="chw"):
        windows = _windows("window_mean", cols, channels, columns)
        ctx.window, ctx.columns = windows.shape[1], columns
        return windows.mean(axis=1)

    @staticmethod
    def backward(ctx, grad):
        cols, windows = _empty_like_windows(len(grad), ctx.window, grad.shape[1], ctx.columns, grad.dtype)
        windows[...] = (grad / grad.dtype.type(ctx.window))[:, None, :]
        return cols
