"""Sliding-window ops: im2col and col2im (each the other's backward) and the max / mean over
each window.

Notation, used in names and shapes throughout:
  B batch, C input channels, H x W input size, M output channels (filters),
  K_h x K_w kernel (window) size, S_h, S_w stride, P_t, P_b, P_l, P_r padding
  (top, bottom, left, right), O_h x O_w output size, K = K_h * K_w.

  O_h = (P_t + H + P_b - K_h) // S_h + 1; rows and columns a window never reaches
  (when the stride does not divide evenly) are dropped and get zero gradient.

im2col_array and col2im_array are the textbook versions, rows (b, o_h, o_w) and columns
(c, k_h, k_w); the ops take them for that order. The other orders convolutions and pools ask
for, and everything that depends on them, live in :mod:`tinygrad_cnn.ops.layout`.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from ..anomaly import user_stacklevel
from ..arguments import int_pair
from ..function import Function
from . import layout
from .movement import ScatterAdd


class Geometry(NamedTuple):
    """Window geometry of one im2col: kernel (K_h, K_w), stride (S_h, S_w),
    padding ((P_t, P_b), (P_l, P_r)), output size (O_h, O_w) and dilation (D_h, D_w): the
    spacing between the input pixels a window reads, so it spans D*(K - 1) + 1 of them."""

    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[tuple[int, int], tuple[int, int]]
    out_size: tuple[int, int]
    dilation: tuple[int, int] = (1, 1)


def _padding(op: str, padding, spans: tuple[int, int], stride: tuple[int, int]):
    """Padding as ((P_t, P_b), (P_l, P_r)). "same" pads span - 1 in all (whole pixels), the
    odd one at the end, as PyTorch does."""
    if isinstance(padding, str):
        if padding != "same":
            raise ValueError(
                f"{op}: padding must be an int, a pair of ints or 'same', got {padding!r}"
            )
        if stride != (1, 1):
            raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}")
        return tuple(((k - 1) // 2, k - 1 - (k - 1) // 2) for k in spans)
    if (
        isinstance(padding, (tuple, list))
        and len(padding) == 2
        and all(isinstance(p, (tuple, list)) for p in padding)
    ):
        return tuple(int_pair(op, "padding", p, 0) for p in padding)
    return tuple((p, p) for p in int_pair(op, "padding", padding, 0))


def window_geometry(
    op: str, input_shape: tuple[int, ...], kernel_size, stride, padding, dilation=1
) -> Geometry:
    """Check and normalise window arguments for a (B, C, H, W) input; name ``op`` in errors."""
    if len(input_shape) != 4:
        raise ValueError(f"{op}: input must have shape (B, C, H, W), got {input_shape}")
    kernel = int_pair(op, "kernel_size", kernel_size, 1)
    strides = int_pair(op, "stride", stride, 1)
    dilations = int_pair(op, "dilation", dilation, 1)
    spans = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilations))
    pads = _padding(op, padding, spans, strides)
    out = []
    for axis, (n, k, s, (p0, p1)) in enumerate(zip(input_shape[2:], spans, strides, pads)):
        if n + p0 + p1 < k:
            spanned = f"kernel {kernel}" + (
                f" with dilation {dilations} spans {spans}" if dilations != (1, 1) else ""
            )
            raise ValueError(
                f"{op}: {spanned} is larger than the padded input: input {input_shape} with "
                f"padding {pads} gives {'height' if axis == 0 else 'width'} {n + p0 + p1} < {k}"
            )
        out.append((n + p0 + p1 - k) // s + 1)
    return Geometry(kernel, strides, pads, tuple(out), dilations)


IM2COL_WARN_BYTES = 1 << 30
"""im2col warns when its columns would exceed this many bytes (set it to change the limit).
The columns hold every input pixel once per window covering it: B*O_h*O_w*C*K_h*K_w values,
about K_h*K_w/(S_h*S_w) times the input."""


def _offset_pixels(geometry: Geometry, i: int, j: int) -> tuple:
    """Index of the padded input's pixels that kernel offset (i, j) reads, one per window:
    window (o_h, o_w) reads pixel (o_h*S_h + i*D_h, o_w*S_w + j*D_w)."""
    (sh, sw), (oh, ow), (dh, dw) = geometry.stride, geometry.out_size, geometry.dilation
    return np.s_[:, :, i * dh : i * dh + sh * oh : sh, j * dw : j * dw + sw * ow : sw]


def im2col_array(x: np.ndarray, geometry: Geometry, pad_value: float = 0.0) -> np.ndarray:
    """(B, C, H, W) -> (B*O_h*O_w, C*K_h*K_w): one row per window, rows (b, o_h, o_w), columns
    (c, k_h, k_w). The textbook version: one strided slice of the padded input per kernel offset
    (i, j), holding that offset's pixel of every window at once."""
    (kh, kw), _, ((pt, pb), (pl, pr)), (oh, ow), _ = geometry
    b, c = x.shape[:2]
    x = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)), constant_values=pad_value)
    cols = np.empty((b, c, kh, kw, oh, ow), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = x[_offset_pixels(geometry, i, j)]
    # (B, C, K_h, K_w, O_h, O_w) -> (B, O_h, O_w, C, K_h, K_w) -> (B*O_h*O_w, C*K_h*K_w)
    return cols.transpose(0, 4, 5, 1, 2, 3).reshape(b * oh * ow, c * kh * kw)


def col2im_array(cols: np.ndarray, input_shape: tuple[int, ...], geometry: Geometry) -> np.ndarray:
    """Adjoint of :func:`im2col_array`: (B*O_h*O_w, C*K_h*K_w) -> (B, C, H, W). Each window
    element is added back onto the pixel it was read from, one kernel offset at a time, so pixels
    shared by overlapping windows sum; what landed on the padding is cut off."""
    (kh, kw), _, ((pt, pb), (pl, pr)), (oh, ow), _ = geometry
    b, c, h, w = input_shape
    # (B*O_h*O_w, C*K_h*K_w) -> (B, O_h, O_w, C, K_h, K_w) -> (B, C, K_h, K_w, O_h, O_w)
    cols = cols.reshape(b, oh, ow, c, kh, kw).transpose(0, 3, 4, 5, 1, 2)
    padded = np.zeros((b, c, pt + h + pb, pl + w + pr), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            padded[_offset_pixels(geometry, i, j)] += cols[:, :, i, j]
    return padded[:, :, pt : pt + h, pl : pl + w]


def _warn_if_large(x: np.ndarray, geometry: Geometry) -> None:
    (kh, kw), (oh, ow) = geometry.kernel_size, geometry.out_size
    b, c = x.shape[:2]
    size = b * oh * ow * c * kh * kw * x.itemsize
    if size > IM2COL_WARN_BYTES:
        warnings.warn(
            f"im2col: columns of {size / 2**20:.0f} MiB (B*O_h*O_w*C*K_h*K_w = "
            f"{b}*{oh}*{ow}*{c}*{kh}*{kw} values) for an input of {x.nbytes / 2**20:.0f} MiB; "
            f"use a smaller batch or raise tinygrad_cnn.ops.window.IM2COL_WARN_BYTES",
            UserWarning,
            stacklevel=user_stacklevel(),
        )


def _im2col(x, geometry, pad_value, columns, rows):
    """The textbook im2col for its own order; any other order from the fast path."""
    if (columns, rows) == layout.TEXTBOOK:
        return im2col_array(x, geometry, pad_value)
    return layout.im2col(x, geometry, pad_value, columns, rows)


def _col2im(cols, input_shape, geometry, columns, rows):
    """The textbook col2im for its own order; any other order from the fast path."""
    if (columns, rows) == layout.TEXTBOOK:
        return col2im_array(cols, input_shape, geometry)
    return layout.col2im(cols, input_shape, geometry, columns, rows)


class Im2col(Function):
    """Gather every window of a (B, C, H, W) input into a row; backward is col2im.

    The two are an adjoint pair of ops: each one's backward is the other (the numpy array
    function for a plain backward, the op itself under create_graph).
    """

    @staticmethod
    def forward(
        ctx,
        x,
        kernel_size,
        stride=1,
        padding=0,
        pad_value=0.0,
        columns="chw",
        dilation=1,
        rows="bhw",
    ):
        layout.check_orders("im2col", columns, rows)
        ctx.geometry = window_geometry("im2col", x.shape, kernel_size, stride, padding, dilation)
        ctx.input_shape, ctx.columns, ctx.rows = x.shape, columns, rows
        _warn_if_large(x, ctx.geometry)
        return _im2col(x, ctx.geometry, pad_value, columns, rows)

    @staticmethod
    def backward(ctx, grad):
        return _col2im(grad, ctx.input_shape, ctx.geometry, ctx.columns, ctx.rows)

    @staticmethod
    def graph_backward(ctx, grad):
        g = ctx.geometry
        return Col2im.apply(
            grad,
            ctx.input_shape,
            g.kernel_size,
            stride=g.stride,
            padding=g.padding,
            dilation=g.dilation,
            columns=ctx.columns,
            rows=ctx.rows,
        )


class Col2im(Function):
    """Add every row of im2col columns back onto the pixels its window read:
    (B*O_h*O_w, C*K_h*K_w) -> (B, C, H, W) for ``input_shape`` (B, C, H, W). Pixels shared by
    overlapping windows sum; padding is dropped. The adjoint of im2col, so backward is im2col
    (with zero padding); ConvTranspose2d is col2im of a matmul.
    """

    @staticmethod
    def forward(
        ctx,
        cols,
        input_shape,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        columns="chw",
        rows="bhw",
    ):
        layout.check_orders("col2im", columns, rows)
        ctx.geometry = window_geometry(
            "col2im", tuple(input_shape), kernel_size, stride, padding, dilation
        )
        (kh, kw), (oh, ow) = ctx.geometry.kernel_size, ctx.geometry.out_size
        expected = (input_shape[0] * oh * ow, input_shape[1] * kh * kw)
        if cols.shape != expected:
            raise ValueError(
                f"col2im: columns must have shape (B*O_h*O_w, C*K_h*K_w) = {expected} for input "
                f"shape {tuple(input_shape)} and kernel {(kh, kw)}, got {cols.shape}"
            )
        ctx.columns, ctx.rows = columns, rows
        return _col2im(cols, tuple(input_shape), ctx.geometry, columns, rows)

    @staticmethod
    def backward(ctx, grad):
        return _im2col(grad, ctx.geometry, 0.0, ctx.columns, ctx.rows)

    @staticmethod
    def graph_backward(ctx, grad):
        g = ctx.geometry
        return Im2col.apply(
            grad,
            g.kernel_size,
            stride=g.stride,
            padding=g.padding,
            columns=ctx.columns,
            dilation=g.dilation,
            rows=ctx.rows,
        )


class WindowMax(Function):
    """Max over each window of im2col columns: (N, C*K) -> (N, C). The max-pool op.

    Backward routes each window's gradient to one element, its first maximum (or its last NaN,
    as PyTorch's max-pool does), so ties never duplicate the gradient. Both directions take K
    branch-free passes over (N, C) slabs, one per window position (masked copies would stall on
    the random masks). Results keep the memory order of the columns.
    """

    @staticmethod
    def forward(ctx, cols, channels, columns="chw"):
        windows = layout.window_view("window_max", cols, channels, columns)
        best = windows[:, 0].copy(order="K")
        index = np.zeros_like(best, dtype=np.min_scalar_type(windows.shape[1] - 1))
        for k in range(1, windows.shape[1]):
            better = windows[:, k] > best  # strict: on ties the first maximum stays
            # k exceeds every index so far, so max(index, k * better) sets k exactly where better
            np.maximum(index, better * index.dtype.type(k), out=index)
            np.maximum(best, windows[:, k], out=best)
        if best.size and np.isnan(best.max()):  # max is NaN exactly when some window held one
            # NaN compares false, so the loop missed them: route those windows' gradient to their
            # last NaN, as PyTorch's kernel does (it takes any NaN it meets while scanning)
            nan_rows, nan_channels = np.nonzero(np.isnan(best))
            last = np.isnan(windows[nan_rows, :, nan_channels])[:, ::-1].argmax(axis=1)
            index[nan_rows, nan_channels] = windows.shape[1] - 1 - last
        ctx.save_for_backward(index)
        ctx.window, ctx.columns, ctx.column_major = (
            windows.shape[1],
            columns,
            layout.column_major(cols),
        )
        return best

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        cols, windows = layout.empty_windows(
            len(grad), ctx.window, grad.shape[1], ctx.columns, ctx.column_major, grad.dtype
        )
        grad = layout.aligned(grad, index)
        for k in range(ctx.window):
            np.multiply(grad, index == k, out=windows[:, k])
        return cols

    @staticmethod
    def graph_backward(ctx, grad):
        # the same routing as a scatter to each window's chosen element, whose own backward
        # reads the gradient back from there
        (index,) = ctx.saved_tensors
        n, c = index.shape
        column = (
            np.arange(c) * ctx.window + index if ctx.columns == "chw" else index * c + np.arange(c)
        )
        positions = np.arange(n)[:, None] * (c * ctx.window) + column
        return ScatterAdd.apply(grad, positions, (n, c * ctx.window))


class WindowMean(Function):
    """Mean over each window of im2col columns: (N, C*K) -> (N, C). The avg-pool op.

    Padding zeros count towards the mean (PyTorch's count_include_pad=True).
    """

    @staticmethod
    def forward(ctx, cols, channels, columns="chw"):
        windows = layout.window_view("window_mean", cols, channels, columns)
        ctx.window, ctx.columns, ctx.column_major = (
            windows.shape[1],
            columns,
            layout.column_major(cols),
        )
        total = np.sum(windows, axis=1, out=np.empty_like(windows[:, 0]))
        return np.divide(total, total.dtype.type(ctx.window), out=total)

    @staticmethod
    def backward(ctx, grad):
        cols, windows = layout.empty_windows(
            len(grad), ctx.window, grad.shape[1], ctx.columns, ctx.column_major, grad.dtype
        )
        windows[...] = (grad / grad.dtype.type(ctx.window))[:, None, :]
        return cols

    @staticmethod
    def graph_backward(ctx, grad):
        n, c, k = *grad.shape, ctx.window
        share = grad * (1.0 / k)
        if ctx.columns == "chw":  # column c*K + k
            return share.reshape(n, c, 1).expand(n, c, k).reshape(n, c * k)
        return share.reshape(n, 1, c).expand(n, k, c).reshape(n, k * c)  # column k*C + c
