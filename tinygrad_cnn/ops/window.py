"""Sliding-window ops: im2col and col2im (each the other's backward) and the max / mean over
each window.

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

from ..anomaly import user_stacklevel
from ..arguments import int_pair
from ..function import Function
from .linalg import column_major
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
                f"{op}: {spanned} is larger than the padded input: input {input_shape} with padding "
                f"{pads} gives {'height' if axis == 0 else 'width'} {n + p0 + p1} < {k}"
            )
        out.append((n + p0 + p1 - k) // s + 1)
    return Geometry(kernel, strides, pads, tuple(out), dilations)


COLUMN_ORDERS = ("chw", "hwc")
ROW_ORDERS = ("bhw", "hwb")

IM2COL_WARN_BYTES = 1 << 30
"""im2col warns when its columns would exceed this many bytes (set it to change the limit).
The columns hold every input pixel once per window covering it: B*O_h*O_w*C*K_h*K_w values,
about K_h*K_w/(S_h*S_w) times the input."""


_TRANSPOSE_BLOCK = 16


def _check_orders(op: str, columns: str, rows: str = "bhw") -> None:
    if columns not in COLUMN_ORDERS:
        raise ValueError(
            f"{op}: columns must be 'chw' (c, k_h, k_w) or 'hwc' (k_h, k_w, c), got {columns!r}"
        )
    if rows not in ROW_ORDERS:
        raise ValueError(
            f"{op}: rows must be 'bhw' (b, o_h, o_w) or 'hwb' (o_h, o_w, b), got {rows!r}"
        )


def _axes(columns: str, rows: str) -> str:
    """Axis letters of the columns matrix, rows first: b batch, h/w output position (o_h, o_w),
    c channel, i/j kernel offset (k_h, k_w). E.g. "bhwijc" for rows "bhw", columns "hwc"."""
    return rows + columns.replace("h", "i").replace("w", "j")


def im2col_array(
    x: np.ndarray,
    geometry: Geometry,
    pad_value: float = 0.0,
    columns: str = "chw",
    rows: str = "bhw",
) -> np.ndarray:
    """(B, C, H, W) -> (B*O_h*O_w, C*K_h*K_w): one row per window, rows ordered (b, o_h, o_w) for
    ``rows="bhw"`` or (o_h, o_w, b) for ``"hwb"``; columns (c, k_h, k_w) for ``columns="chw"``
    or (k_h, k_w, c) for ``"hwc"``.

    The windows are a strided view of the (padded) input; the one big copy writes the columns.
    Memory layouts are picked so that copy moves long contiguous runs:
      "bhw": input as (B, H, W, C), columns row-major: runs of K_w*C values;
      "hwb": input as (C, H, W, B), columns column-major, i.e. memory (C*K_h*K_w, O_h, O_w, B):
             runs of O_w*B values. conv2d and the pools use it; their outputs come out in
             (C, H, W, B) memory, which the next layer's im2col reads without a transpose.
    """
    (kh, kw), (sh, sw), ((pt, pb), (pl, pr)), (oh, ow), (dh, dw) = geometry
    b, c, h, w = x.shape
    size = b * oh * ow * c * kh * kw * x.itemsize
    if size > IM2COL_WARN_BYTES:
        warnings.warn(
            f"im2col: columns of {size / 2**20:.0f} MiB (B*O_h*O_w*C*K_h*K_w = {b}*{oh}*{ow}*{c}*{kh}*{kw} "
            f"values) for an input of {x.nbytes / 2**20:.0f} MiB; use a smaller batch or raise "
            f"tinygrad_cnn.ops.window.IM2COL_WARN_BYTES",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    layout = "bhwc" if rows == "bhw" else "chwb"
    x = x.transpose(*("bchw".index(axis) for axis in layout))  # a view
    transpose_batch = rows == "hwb" and x.strides[3] != min(x.strides)  # e.g. a (B, C, H, W) array
    if pt or pb or pl or pr or transpose_batch:
        sizes = {"b": b, "c": c, "h": pt + h + pb, "w": pl + w + pr}
        padded = np.full([sizes[axis] for axis in layout], pad_value, dtype=x.dtype)
        inner = padded[:, pt : pt + h, pl : pl + w]
        if transpose_batch:
            # moving the batch axis innermost is a transpose: in blocks of a few images, the
            # strided reads stay in cache (3.7x faster for a (256, 3, 32, 32) input)
            for start in range(0, b, _TRANSPOSE_BLOCK):
                inner[..., start : start + _TRANSPOSE_BLOCK] = x[
                    ..., start : start + _TRANSPOSE_BLOCK
                ]
        else:
            inner[...] = x
        x = padded
    # axes layout + (i, j), still a view: windows spanning D*(K-1)+1 pixels, every D-th read
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    windows = sliding_window_view(x, span, axis=(1, 2))[
        :, : sh * oh : sh, : sw * ow : sw, :, ::dh, ::dw
    ]
    axes = _axes(columns, rows)
    memory = axes if rows == "bhw" else axes[3:] + axes[:3]
    cols = windows.transpose(*((layout + "ij").index(axis) for axis in memory)).reshape(-1)
    n, k = b * oh * ow, c * kh * kw  # explicit sizes: a batch of 0 gives (0, K) columns
    return cols.reshape(n, k) if rows == "bhw" else cols.reshape(k, n).T


def _reach(
    offset: int, pad: int, stride: int, out_size: int, in_size: int
) -> tuple[slice, slice] | None:
    """For one kernel offset along one axis: the output positions o whose read position
    o*stride + offset - pad lies inside the input, and those input positions; None if none do."""
    first = max(0, -((offset - pad) // stride))  # ceil((pad - offset) / stride)
    last = min(out_size - 1, (in_size - 1 + pad - offset) // stride)
    if last < first:
        return None
    start = first * stride + offset - pad
    return slice(first, last + 1), slice(start, start + (last - first) * stride + 1, stride)


def col2im_array(
    cols: np.ndarray,
    input_shape: tuple[int, ...],
    geometry: Geometry,
    columns: str = "chw",
    rows: str = "bhw",
) -> np.ndarray:
    """Adjoint of :func:`im2col_array`: (B*O_h*O_w, C*K_h*K_w) -> (B, C, H, W).

    Each window element is added back to the pixel it was read from. Loops over the K_h*K_w
    kernel offsets only; each step adds one strided slab of all (b, c, o_h, o_w) into a zero
    buffer, so pixels shared by overlapping windows accumulate; the parts of a slab that read
    padding are left out. The buffer's axes follow the memory order of ``cols`` (whatever its
    layout), so each slab add runs along the longest contiguous stretch: O_w*B values for the
    column-major "hwb" columns that matmul's backward returns for a conv2d; the result is that
    buffer, contiguous in that order.
    """
    (kh, kw), (sh, sw), ((pt, _), (pl, _)), (oh, ow), (dh, dw) = geometry
    b, c, h, w = input_shape
    axes = _axes(columns, rows)
    sizes = {"b": b, "c": c, "h": oh, "w": ow, "i": kh, "j": kw}
    named = cols.reshape([sizes[axis] for axis in axes])  # a view whatever the memory order
    layout = "".join(sorted("bchw", key=lambda axis: -named.strides[axes.index(axis)]))
    slabs = named.transpose(*(axes.index(axis) for axis in "ij" + layout))
    out = np.zeros([dict(b=b, c=c, h=h, w=w)[axis] for axis in layout], dtype=cols.dtype)
    target, source = [slice(None)] * 4, [slice(None)] * 4
    rows_axis, cols_axis = layout.index("h"), layout.index("w")
    for i in range(kh):
        vertical = _reach(i * dh, pt, sh, oh, h)
        for j in range(kw):
            horizontal = _reach(j * dw, pl, sw, ow, w)
            if vertical is None or horizontal is None:
                continue
            (source[rows_axis], target[rows_axis]), (source[cols_axis], target[cols_axis]) = (
                vertical,
                horizontal,
            )
            out[tuple(target)] += slabs[i, j][tuple(source)]
    return out.transpose(*(layout.index(axis) for axis in "bchw"))


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
        _check_orders("im2col", columns, rows)
        ctx.geometry = window_geometry("im2col", x.shape, kernel_size, stride, padding, dilation)
        ctx.input_shape, ctx.columns, ctx.rows = x.shape, columns, rows
        return im2col_array(x, ctx.geometry, pad_value, columns, rows)

    @staticmethod
    def backward(ctx, grad):
        return col2im_array(grad, ctx.input_shape, ctx.geometry, ctx.columns, ctx.rows)

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
        _check_orders("col2im", columns, rows)
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
        return col2im_array(cols, tuple(input_shape), ctx.geometry, columns, rows)

    @staticmethod
    def backward(ctx, grad):
        return im2col_array(grad, ctx.geometry, 0.0, ctx.columns, ctx.rows)

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


def _windows(op: str, cols: np.ndarray, channels: int, columns: str) -> np.ndarray:
    """(N, C*K) -> a (N, K, C) view of im2col columns, whichever their order."""
    _check_orders(op, columns)
    if cols.ndim != 2 or channels < 1 or cols.shape[1] % channels:
        raise ValueError(
            f"{op}: expected im2col columns (N, C*K) with C={channels}, got shape {cols.shape}"
        )
    k = cols.shape[1] // channels  # explicit, not -1: a batch of 0 has no rows
    if columns == "chw":
        return cols.reshape(cols.shape[0], channels, k).transpose(0, 2, 1)
    return cols.reshape(cols.shape[0], k, channels)


def _empty_like_windows(
    n: int, k: int, c: int, columns: str, column_major: bool, dtype
) -> tuple[np.ndarray, np.ndarray]:
    """Uninitialised columns (N, C*K) in ``columns`` order and the given memory order, and a
    (N, K, C) view of them."""
    sizes = {"n": n, "k": k, "c": c}
    axes = "nck" if columns == "chw" else "nkc"
    memory = axes[1:] + "n" if column_major else axes
    block = np.empty([sizes[axis] for axis in memory], dtype=dtype)
    cols = block.reshape(c * k, n).T if column_major else block.reshape(n, c * k)
    return cols, block.transpose(*(memory.index(axis) for axis in "nkc"))


class WindowMax(Function):
    """Max over each window of im2col columns: (N, C*K) -> (N, C). The max-pool op.

    Backward routes each window's gradient to one element, its first maximum (or its last NaN,
    as PyTorch's max-pool does), so ties never duplicate the gradient. Both directions take K branch-free
    passes over (N, C) slabs, one per window position (masked copies would stall on the
    random masks). Results keep the memory order of the columns.
    """

    @staticmethod
    def forward(ctx, cols, channels, columns="chw"):
        windows = _windows("window_max", cols, channels, columns)
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
        ctx.window, ctx.columns, ctx.column_major = windows.shape[1], columns, column_major(cols)
        return best

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        cols, windows = _empty_like_windows(
            len(grad), ctx.window, grad.shape[1], ctx.columns, ctx.column_major, grad.dtype
        )
        if column_major(grad) != column_major(index):  # one copy beats K passes against the grain
            aligned = np.empty_like(index, dtype=grad.dtype)
            aligned[...] = grad
            grad = aligned
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
        windows = _windows("window_mean", cols, channels, columns)
        ctx.window, ctx.columns, ctx.column_major = windows.shape[1], columns, column_major(cols)
        total = np.sum(windows, axis=1, out=np.empty_like(windows[:, 0]))
        return np.divide(total, total.dtype.type(ctx.window), out=total)

    @staticmethod
    def backward(ctx, grad):
        cols, windows = _empty_like_windows(
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
