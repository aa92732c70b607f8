"""Pooling: max and mean over sliding windows, and adaptive pooling to a given output size.

All are composed from registered ops. Notation as in :mod:`tinygrad_cnn.ops.window`: B batch,
C channels, H x W input size, K_h x K_w window, S stride, P padding, D dilation, O_h x O_w output.
"""
from __future__ import annotations

import numpy as np

from ..ops.window import Im2col, WindowMax, WindowMean, window_geometry
from ..tensor import Tensor
from .common import as_tensor

__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d"]


def _float_input(op: str, x) -> Tensor:
    x = as_tensor(op, "input", x)
    if x.dtype.kind != "f":  # integers would turn the -inf padding into 0, and a mean into an integer
        x = x.float()
    if x.ndim != 4:
        raise ValueError(f"{op}: input must have shape (B, C, H, W), got {x.shape}")
    return x


def _ceil_extra(size: int, span: int, stride: int, pad: int) -> int:
    """How many pixels ceil_mode adds after the end padding along one axis: enough for one more
    window when the stride leaves a remainder, as long as that window starts inside the input
    or the front padding (PyTorch's rule)."""
    remainder = (size + 2 * pad - span) % stride
    if remainder == 0 or (size + 2 * pad - span) // stride * stride + stride >= size + pad:
        return 0
    return stride - remainder


def _pool_geometry(op: str, x: Tensor, kernel_size, stride, padding, dilation, ceil_mode: bool):
    """The windows' geometry, with ceil_mode's extra end padding folded into the padding."""
    g = window_geometry(op, x.shape, kernel_size, kernel_size if stride is None else stride, padding, dilation)
    if any(2 * max(p) > k for p, k in zip(g.padding, g.kernel_size)):
        raise ValueError(f"{op}: padding {g.padding} must be at most half the kernel size {g.kernel_size}")
    if not ceil_mode:
        return g
    spans = [d * (k - 1) + 1 for k, d in zip(g.kernel_size, g.dilation)]
    extra = [_ceil_extra(n, span, s, p) for n, span, s, (p, _) in zip(x.shape[2:], spans, g.stride, g.padding)]
    padding = tuple((p0, p1 + e) for (p0, p1), e in zip(g.padding, extra))
    return window_geometry(op, x.shape, g.kernel_size, g.stride, padding, g.dilation)


def _pool(window_op, x: Tensor, g, pad_value: float) -> Tensor:
    """im2col (O_h*O_w*B, K*C) -> window op (O_h*O_w*B, C) -> reshape (O_h, O_w, B, C)."""
    cols = Im2col.apply(x, kernel_size=g.kernel_size, stride=g.stride, padding=g.padding, pad_value=pad_value,
                        columns="hwc", rows="hwb", **({} if g.dilation == (1, 1) else {"dilation": g.dilation}))
    pooled = window_op.apply(cols, channels=x.shape[1], columns="hwc")
    return pooled.reshape(*g.out_size, *x.shape[:2])


def max_pool2d(x: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False) -> Tensor:
    """Max over each K_h x K_w window: (B, C, H, W) -> (B, C, O_h, O_w), as torch's max_pool2d.

    im2col (O_h*O_w*B, K*C) -> window max (O_h*O_w*B, C) -> reshape (O_h, O_w, B, C)
    -> transpose (B, C, O_h, O_w). Stride defaults to the kernel size; padding is -inf;
    ``dilation`` spaces the window's taps D pixels apart; ``ceil_mode`` rounds O up, adding a
    last, partial window. The gradient goes to the first maximum of each window (to the last
    NaN in a window holding one, as PyTorch's). Integer input is pooled as float32.
    """
    x = _float_input("max_pool2d", x)
    g = _pool_geometry("max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode)
    return _pool(WindowMax, x, g, -np.inf).transpose(2, 3, 0, 1)


def _divisors(g, size: tuple[int, int], count_include_pad: bool) -> np.ndarray:
    """(O_h, O_w): how many pixels each window's mean divides by, as PyTorch counts them:
    padding counts with ``count_include_pad``, the part ceil_mode adds past it never does."""
    counts = []
    for n, k, s, (p, _), o in zip(size, g.kernel_size, g.stride, g.padding, g.out_size):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        counts.append(end - start if count_include_pad else np.minimum(end, n) - np.maximum(start, 0))
    return np.outer(*counts)


def avg_pool2d(x: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Mean over each K_h x K_w window: (B, C, H, W) -> (B, C, O_h, O_w), as torch's avg_pool2d.

    im2col (O_h*O_w*B, K*C) -> window mean (O_h*O_w*B, C) -> reshape (O_h, O_w, B, C)
    [-> * K / divisor (O_h, O_w, 1, 1)] -> transpose (B, C, O_h, O_w). Padding zeros count
    towards the mean with ``count_include_pad`` (the default); ``ceil_mode`` adds a last,
    partial window; ``divisor_override`` divides every window's sum by that number instead.
    """
    x = _float_input("avg_pool2d", x)
    g = _pool_geometry("avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode)
    out = _pool(WindowMean, x, g, 0.0)
    window = g.kernel_size[0] * g.kernel_size[1]
    if divisor_override is not None:
        if not isinstance(divisor_override, (int, np.integer)) or divisor_override < 1:
            raise ValueError(f"avg_pool2d: divisor_override must be a positive int, got {divisor_override!r}")
        divisors = np.full(g.out_size, divisor_override)
    else:
        divisors = _divisors(g, x.shape[2:], count_include_pad)
    if np.any(divisors != window):  # a window mean divides by K: rescale to the true count
        out = out * (window / divisors).astype(x.dtype)[:, :, None, None]
    return out.transpose(2, 3, 0, 1)


def _output_size(op: str, output_size, input_size: tuple[int, int]) -> tuple[int, int]:
    """(O_h, O_w) from an int, a pair, or a pair with None (keep that input size), as torch."""
    pair = (output_size, output_size) if not isinstance(output_size, (tuple, list)) else tuple(output_size)
    if len(pair) != 2 or not all(o is None or (isinstance(o, (int, np.integer)) and not isinstance(o, bool) and o >= 1)
                                 for o in pair):
        raise ValueError(f"{op}: output_size must be a positive int or a pair of positive ints or None, "
                         f"got {output_size!r}")
    return tuple(n if o is None else int(o) for o, n in zip(pair, input_size))


def _bins(size: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's adaptive bins along one axis: output i covers input [floor(i*n/o), ceil((i+1)*n/o))."""
    i = np.arange(out)
    return i * size // out, -(-(i + 1) * size // out)


def _averaging_matrix(size: int, out: int, dtype: np.dtype) -> np.ndarray:
    """(out, size): row i holds 1/len over output i's bin, so matrix @ v averages each bin."""
    start, end = _bins(size, out)
    inside = (np.arange(size) >= start[:, None]) & (np.arange(size) < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def adaptive_avg_pool2d(x: Tensor, output_size) -> Tensor:
    """Mean over PyTorch's adaptive bins: (B, C, H, W) -> (B, C, O_h, O_w) for any O.

    Averaging is linear and separable, so it is two matrix products: A_h (O_h, H) @ x
    (B, C, H, W) @ A_w^T (W, O_w), where row i of A holds 1/len over bin i. Bins may overlap
    (O not dividing H), as PyTorch's do. Output size 1 is the mean over H and W.
    """
    x = _float_input("adaptive_avg_pool2d", x)
    (oh, ow), (h, w) = _output_size("adaptive_avg_pool2d", output_size, x.shape[2:]), x.shape[2:]
    if (oh, ow) == (1, 1):  # global average pooling, the usual case: one mean, no matrices
        return x.mean(axis=(2, 3), keepdims=True)
    return _averaging_matrix(h, oh, x.dtype) @ (x @ _averaging_matrix(w, ow, x.dtype).T)


def _bin_taps(size: int, out: int) -> np.ndarray:
    """(out, K): the input positions of each bin, K the longest bin; a shorter bin repeats its
    last position, which never changes a max and never takes its gradient (the first one does)."""
    start, end = _bins(size, out)
    return np.minimum(start[:, None] + np.arange(np.max(end - start)), end[:, None] - 1)


def adaptive_max_pool2d(x: Tensor, output_size) -> Tensor:
    """Max over PyTorch's adaptive bins: (B, C, H, W) -> (B, C, O_h, O_w) for any O.

    Bins differ in size, so the windows are gathered by index instead of im2col:
    getitem (B, C, O_h, O_w, K_h, K_w) -> transpose (B, O_h, O_w, C, K_h, K_w)
    -> reshape (B*O_h*O_w, C*K) -> window max (B*O_h*O_w, C) -> reshape (B, O_h, O_w, C)
    -> transpose (B, C, O_h, O_w). The gradient goes to each bin's first maximum, as PyTorch's.
    """
    x = _float_input("adaptive_max_pool2d", x)
    (oh, ow), (b, c) = _output_size("adaptive_max_pool2d", output_size, x.shape[2:]), x.shape[:2]
    rows, cols = _bin_taps(x.shape[2], oh), _bin_taps(x.shape[3], ow)
    windows = x[:, :, rows[:, None, :, None], cols[None, :, None, :]].transpose(0, 2, 3, 1, 4, 5)
    pooled = WindowMax.apply(windows.reshape(b * oh * ow, -1), channels=c, columns="chw")
    return pooled.reshape(b, oh, ow, c).transpose(0, 3, 1, 2)
