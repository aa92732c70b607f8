"""Pooling: max and mean over sliding windows, and adaptive pooling to a given output size.

All are composed from registered ops. Notation as in :mod:`tinygrad_cnn.ops.window`: B batch,
C channels, H x W input size, K_h x K_w window, S stride, P padding, D dilation, O_h x O_w output.
"""

from __future__ import annotations

import numpy as np

from ..arguments import int_pair
from ..ops import layout
from ..ops.window import Geometry, Im2col, WindowMax, WindowMean, window_geometry
from ..tensor import Tensor
from ..tensor_functions import where
from .common import float_input

__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d"]


def _float_input(op: str, x) -> Tensor:
    """A (B, C, H, W) input, integers as float32 (they would turn the -inf padding into 0, and a
    mean into an integer)."""
    x = float_input(op, x)
    if x.ndim != 4:
        raise ValueError(f"{op}: input must have shape (B, C, H, W), got {x.shape}")
    return x


def _pool_size(size: int, span: int, stride: int, pad: int, ceil_mode: bool) -> int:
    """PyTorch's output size along one axis: (H + 2P - span) / S rounded down, or up with
    ceil_mode as long as that last window starts inside the input or the front padding; + 1."""
    reach = size + 2 * pad - span
    out = (-(-reach // stride) if ceil_mode else reach // stride) + 1
    return out - 1 if ceil_mode and (out - 1) * stride >= size + pad else out


def pool_geometry(
    op: str,
    input_shape: tuple[int, ...],
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
) -> Geometry:
    """The windows of a pool over a (B, C, H, W) input, as PyTorch sizes them: padding an int
    or a pair, at most half the kernel; the end padding is what the last window needs, so it
    includes the partial window ceil_mode adds (and is less than P where windows stop short)."""
    if len(input_shape) != 4:
        raise ValueError(f"{op}: input must have shape (B, C, H, W), got {input_shape}")
    kernel = int_pair(op, "kernel_size", kernel_size, 1)
    strides = kernel if stride is None else int_pair(op, "stride", stride, 1)
    pads, dilations = int_pair(op, "padding", padding, 0), int_pair(op, "dilation", dilation, 1)
    if any(2 * p > k for p, k in zip(pads, kernel)):
        raise ValueError(f"{op}: padding {pads} must be at most half the kernel size {kernel}")
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilations)]
    outs = [
        _pool_size(n, span, s, p, ceil_mode)
        for n, span, s, p in zip(input_shape[2:], spans, strides, pads)
    ]
    if min(outs) < 1 or min(input_shape[2:]) < 1:
        spanned = f" (dilated to {tuple(spans)})" if dilations != (1, 1) else ""
        raise ValueError(
            f"{op}: kernel {kernel}{spanned} is larger than the padded input: input {input_shape} "
            f"with padding {pads}"
        )
    ends = [
        max((o - 1) * s + span - p - n, 0)
        for o, s, span, p, n in zip(outs, strides, spans, pads, input_shape[2:])
    ]
    return window_geometry(op, input_shape, kernel, strides, tuple(zip(pads, ends)), dilations)


def _pool(window_op, x: Tensor, g, pad_value: float) -> Tensor:
    """im2col (O_h*O_w*B, K*C) -> window op (O_h*O_w*B, C) -> reshape (O_h, O_w, B, C) ->
    transpose (B, C, O_h, O_w), in the rows and columns measured fastest for this geometry
    (:func:`layout.pool_orders`); rows in the order (b, o_h, o_w) reshape to (B, O_h, O_w, C)."""
    columns, rows = layout.pool_orders(x.data, g)
    cols = Im2col.apply(
        x,
        kernel_size=g.kernel_size,
        stride=g.stride,
        padding=g.padding,
        pad_value=pad_value,
        columns=columns,
        rows=rows,
        **({} if g.dilation == (1, 1) else {"dilation": g.dilation}),
    )
    pooled = window_op.apply(cols, channels=x.shape[1], columns=columns)
    if rows == "hwb":
        return pooled.reshape(*g.out_size, *x.shape[:2]).transpose(2, 3, 0, 1)
    return pooled.reshape(x.shape[0], *g.out_size, x.shape[1]).transpose(0, 3, 1, 2)


def max_pool2d(
    x: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False
) -> Tensor:
    """Max over each K_h x K_w window: (B, C, H, W) -> (B, C, O_h, O_w), as torch's max_pool2d.

    im2col (O_h*O_w*B, K*C) -> window max (O_h*O_w*B, C) -> reshape (O_h, O_w, B, C)
    -> transpose (B, C, O_h, O_w), rows and columns in the orders measured fastest (see
    :func:`tinygrad_cnn.ops.layout.pool_orders`). Stride defaults to the kernel size; padding
    is -inf; ``dilation`` spaces the window's taps D pixels apart; ``ceil_mode`` rounds O up,
    adding a last, partial window. The gradient goes to the first maximum of each window (to
    the last NaN in a window holding one, as PyTorch's). Integer input is pooled as float32.
    """
    x = _float_input("max_pool2d", x)
    g = pool_geometry("max_pool2d", x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    return _pool(WindowMax, x, g, -np.inf)


def _divisors(g, size: tuple[int, int], count_include_pad: bool) -> np.ndarray:
    """(O_h, O_w): how many pixels each window's mean divides by, as PyTorch counts them:
    padding counts with ``count_include_pad``, the part ceil_mode adds past it never does."""
    counts = []
    for n, k, s, (p, _), o in zip(size, g.kernel_size, g.stride, g.padding, g.out_size):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        counts.append(
            end - start if count_include_pad else np.minimum(end, n) - np.maximum(start, 0)
        )
    return np.outer(*counts)


def avg_pool2d(
    x: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Mean over each K_h x K_w window: (B, C, H, W) -> (B, C, O_h, O_w), as torch's avg_pool2d.

    im2col (O_h*O_w*B, K*C) -> window mean (O_h*O_w*B, C) -> reshape (O_h, O_w, B, C)
    -> transpose (B, C, O_h, O_w) [-> * K / divisor (O_h, O_w)], rows and columns in the
    orders measured fastest (see :func:`tinygrad_cnn.ops.layout.pool_orders`). Padding zeros
    count towards the mean with ``count_include_pad`` (the default); ``ceil_mode`` adds a
    last, partial window; ``divisor_override`` divides every window's sum by that number
    instead.
    """
    x = _float_input("avg_pool2d", x)
    g = pool_geometry("avg_pool2d", x.shape, kernel_size, stride, padding, 1, ceil_mode)
    out = _pool(WindowMean, x, g, 0.0)
    window = g.kernel_size[0] * g.kernel_size[1]
    if divisor_override is not None:
        if (
            not isinstance(divisor_override, (int, np.integer))
            or isinstance(divisor_override, bool)
            or divisor_override < 1
        ):
            raise ValueError(
                f"avg_pool2d: divisor_override must be a positive int, got {divisor_override!r}"
            )
        divisors = np.full(g.out_size, divisor_override)
    else:
        divisors = _divisors(g, x.shape[2:], count_include_pad)
    if np.any(divisors != window):  # a window mean divides by K: rescale to the true count
        out = out * (window / divisors).astype(x.dtype)
    return out


def _output_size(op: str, output_size, input_shape: tuple[int, ...]) -> tuple[int, int]:
    """(O_h, O_w) from an int, a pair, or a pair with None (keep that input size), as torch."""
    if min(input_shape[2:]) < 1:
        raise ValueError(f"{op}: input {input_shape} has no pixels to pool")
    pair = (
        (output_size, output_size)
        if not isinstance(output_size, (tuple, list))
        else tuple(output_size)
    )
    if len(pair) != 2 or not all(
        o is None or (isinstance(o, (int, np.integer)) and not isinstance(o, bool) and o >= 1)
        for o in pair
    ):
        raise ValueError(
            f"{op}: output_size must be a positive int or a pair of positive ints or None, "
            f"got {output_size!r}"
        )
    return tuple(n if o is None else int(o) for o, n in zip(pair, input_shape[2:]))


def _bin_taps(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's adaptive bins along one axis, output i covering input [floor(i*n/o),
    ceil((i+1)*n/o)): (out, K) input positions, K the longest bin, and which of them are in
    the bin. A shorter bin repeats its last position, so every tap reads inside its own bin."""
    i = np.arange(out)
    start, end = i * size // out, -(-(i + 1) * size // out)
    taps = start[:, None] + np.arange(np.max(end - start))
    return np.minimum(taps, end[:, None] - 1), taps < end[:, None]


def _bin_windows(x: Tensor, oh: int, ow: int) -> tuple[Tensor, np.ndarray]:
    """Every bin's pixels, gathered by index: (B, C, O_h, O_w, K_h, K_w), and (O_h, O_w, K_h, K_w)
    True where a tap is one of the bin's own pixels rather than a repeat."""
    (rows, row_inside), (cols, col_inside) = _bin_taps(x.shape[2], oh), _bin_taps(x.shape[3], ow)
    windows = x[:, :, rows[:, None, :, None], cols[None, :, None, :]]
    return windows, row_inside[:, None, :, None] & col_inside[None, :, None, :]


def adaptive_avg_pool2d(x: Tensor, output_size) -> Tensor:
    """Mean over PyTorch's adaptive bins: (B, C, H, W) -> (B, C, O_h, O_w) for any O (bins
    overlap where O does not divide H, as PyTorch's).

    getitem (B, C, O_h, O_w, K_h, K_w) -> where (repeated taps -> 0) -> sum over the last two
    axes -> / bin sizes (O_h, O_w). Output size 1 is the mean over H and W.
    """
    x = _float_input("adaptive_avg_pool2d", x)
    oh, ow = _output_size("adaptive_avg_pool2d", output_size, x.shape)
    if (oh, ow) == (1, 1):  # global pooling, the usual case
        return x.mean(axis=(2, 3), keepdims=True)
    windows, inside = _bin_windows(x, oh, ow)
    total = where(inside, windows, np.zeros((), dtype=x.dtype)).sum(axis=(4, 5))
    return total / inside.sum(axis=(2, 3)).astype(x.dtype)


def adaptive_max_pool2d(x: Tensor, output_size) -> Tensor:
    """Max over PyTorch's adaptive bins: (B, C, H, W) -> (B, C, O_h, O_w) for any O.

    Bins differ in size, so the windows are gathered by index instead of im2col:
    getitem (B, C, O_h, O_w, K_h, K_w) -> transpose (B, O_h, O_w, C, K_h, K_w)
    -> reshape (B*O_h*O_w, C*K) -> window max (B*O_h*O_w, C) -> reshape (B, O_h, O_w, C)
    -> transpose (B, C, O_h, O_w). A repeated tap equals its bin's last pixel, so it never
    changes the max, and the gradient goes to each bin's first maximum, as PyTorch's.
    """
    x = _float_input("adaptive_max_pool2d", x)
    windows, _ = _bin_windows(x, *_output_size("adaptive_max_pool2d", output_size, x.shape))
    b, c, oh, ow, kh, kw = windows.shape
    rows = windows.transpose(0, 2, 3, 1, 4, 5).reshape(b * oh * ow, c * kh * kw)
    return (
        WindowMax.apply(rows, channels=c, columns="chw").reshape(b, oh, ow, c).transpose(0, 3, 1, 2)
    )
