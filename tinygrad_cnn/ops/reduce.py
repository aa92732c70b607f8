"""Reductions (sum, mean, max, min, cumsum), log-softmax, and the variance and standardisation
that batch, instance, group and layer norm are made of, with numpy's ``axis``/``keepdims``."""

from __future__ import annotations

import string

import numpy as np

from ..function import Function


def _expand_reduced(grad: np.ndarray, axis: tuple[int, ...] | None, keepdims: bool) -> np.ndarray:
    """Reinsert the reduced axes as size 1, so the gradient broadcasts against the input."""
    if keepdims or axis is None:
        return grad
    return np.expand_dims(grad, axis)


class Sum(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        ctx.shape, ctx.axis, ctx.keepdims = a.shape, axis, keepdims
        return a.sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        return np.broadcast_to(_expand_reduced(grad, ctx.axis, ctx.keepdims), ctx.shape)


class Mean(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        ctx.shape, ctx.axis, ctx.keepdims = a.shape, axis, keepdims
        ctx.count = a.size if axis is None else int(np.prod([a.shape[i] for i in axis]))
        return a.mean(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        grad = _expand_reduced(grad, ctx.axis, ctx.keepdims) / grad.dtype.type(ctx.count)
        return np.broadcast_to(grad, ctx.shape)


def _tie_shares(hit: np.ndarray, axis: tuple[int, ...] | None, dtype: np.dtype) -> np.ndarray:
    """hit / count: 1 for a group's only maximum, 1/k for each of k tied ones, 0 elsewhere."""
    hit = hit.astype(dtype)
    return hit / hit.sum(axis=axis, keepdims=True)


class Max(Function):
    """Maximum over ``axis``. Tied maxima share the gradient evenly, as torch.amax does.

    Backward: grad * hit / count, with hit marking the elements equal to their group's
    maximum and count the number of them in each group.
    """

    differentiable_backward = True

    extremum = staticmethod(np.max)

    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        if 0 in (a.shape if axis is None else [a.shape[i] for i in axis]):
            raise ValueError(
                f"{ctx.name}: cannot reduce over axis {axis} of shape {a.shape}: it has no elements"
            )
        out = ctx.extremum(a, axis=axis, keepdims=True)
        hit = a == out
        if np.isnan(out).any():  # numpy's max is NaN where a NaN is: the gradient goes to the NaNs
            hit |= np.isnan(a) & np.isnan(out)
        ctx.save_for_backward(hit)
        ctx.axis, ctx.keepdims = axis, keepdims
        return out if keepdims else np.squeeze(out, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        (hit,) = ctx.saved_tensors
        shares = _tie_shares(hit, ctx.axis, grad.dtype)
        return _expand_reduced(grad, ctx.axis, ctx.keepdims) * shares


class Min(Max):
    """Minimum over ``axis``. Tied minima share the gradient evenly, as torch.amin does."""

    extremum = staticmethod(np.min)


class Cumsum(Function):
    """Running sum along ``axis``: out[i] = a[0] + ... + a[i].

    Backward: each a[j] reaches every out[i] with i >= j, so its gradient is the running sum
    of the output gradient taken from the end: flip, cumsum, flip.
    """

    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, axis):
        ctx.axis = axis
        return np.cumsum(a, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return np.flip(np.cumsum(np.flip(grad, ctx.axis), axis=ctx.axis), ctx.axis)


class LogSoftmax(Function):
    """log(softmax(a)) along ``axis``, computed as a - max - log(sum(exp(a - max)))."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, axis=-1):
        # initial: allows an empty axis
        shifted = a - a.max(axis=axis, keepdims=True, initial=-np.inf)
        out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad - np.exp(out) * grad.sum(axis=ctx.axis, keepdims=True)


def axis_sum(a, axes: tuple[int, ...], other=None):
    """The sum of ``a`` (times ``other``, elementwise, without building the product) over
    ``axes``, kept as size 1. Arrays go through ``np.einsum``, which sums in SIMD lanes without
    numpy's pairwise blocks: 2.5-3x faster on float32 activations, within a few ulps (5e-7
    relative error over 32,768 values, against 6e-8). float16 sums come back in float32: they
    pass float16's 65504 long before the means and variances made of them do. Tensors (under
    create_graph) sum in the graph."""
    if not isinstance(a, np.ndarray):
        return (a if other is None else a * other).sum(axis=axes, keepdims=True)
    letters = string.ascii_letters[: a.ndim]
    kept = "".join(letter for i, letter in enumerate(letters) if i not in axes)
    operands = (a,) if other is None else (a, other)
    wide = np.float32 if np.result_type(*operands) == np.float16 else None
    sums = np.einsum(",".join([letters] * len(operands)) + "->" + kept, *operands, dtype=wide)
    return sums.reshape([1 if i in axes else n for i, n in enumerate(a.shape)])


def _check_floating(op: str, a: np.ndarray) -> None:
    if not np.issubdtype(a.dtype, np.floating):
        raise TypeError(f"{op}: input must be floating point, got {a.dtype} of shape {a.shape}")


class Variance(Function):
    """Biased variance over ``axes``, kept as size 1: mean((x - mean(x))^2), N values each.

    Backward: dx = g * 2 (x - mean) / N. The mean depends on x too, but that path adds
    g * 2/N * sum(x - mean) * (-1/N) = 0: the deviations sum to zero.
    """

    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, axes):
        _check_floating("variance", x)
        wrapped = {a % x.ndim for a in axes if -x.ndim <= a < x.ndim}
        if len(wrapped) != len(axes):  # out of range, or named twice: (1, -1) of a 2-D x
            raise ValueError(f"variance: axes {axes} must be distinct axes of shape {x.shape}")
        axes = tuple(sorted(wrapped))
        count = int(np.prod([x.shape[a] for a in axes]))
        # an empty x has an empty gradient, whatever backward divides by
        ctx.axes, ctx.count = axes, max(count, 1)
        ctx.save_for_backward(x)
        if count == 0:  # as np.var: no values, a NaN variance (a layer or group norm of nothing)
            return np.full([1 if i in axes else n for i, n in enumerate(x.shape)], np.nan, x.dtype)
        centered = x - axis_sum(x, axes) / count
        return (axis_sum(centered, axes, centered) / count).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        mean = axis_sum(x, ctx.axes) * (1 / ctx.count)
        return (x - mean) * (grad * (2 / ctx.count))


class Standardize(Function):
    """(x - mean) / sqrt(var + eps), with ``mean`` and ``var`` of x's shape but 1 along the
    axes they were taken over (as :meth:`Tensor.mean` with keepdims and :class:`Variance` give
    them), broadcast along those axes.

    Backward, with s = 1 / sqrt(var + eps), x^ the output and sums over those axes:
      dx = g * s,  dmean = -s * sum(g),  dvar = -s^2 / 2 * sum(g * x^).
    """

    broadcasting = True
    differentiable_backward = True

    @staticmethod
    def forward(ctx, x, mean, var, eps=1e-5):
        _check_floating("standardize", x)
        if (
            mean.shape != var.shape
            or mean.ndim != x.ndim
            or any(m not in (1, n) for m, n in zip(mean.shape, x.shape))
        ):
            raise ValueError(
                f"standardize: mean and var must have the input's shape {x.shape} with 1 along "
                f"the standardised axes, got mean {mean.shape} and var {var.shape}"
            )
        ctx.axes = tuple(i for i, m in enumerate(mean.shape) if m == 1)
        ctx.eps = eps
        out = np.subtract(x, mean, dtype=np.result_type(x, mean, var))  # var may be the widest
        out *= (var + eps) ** -0.5
        ctx.save_for_backward(var, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        var, out = ctx.saved_tensors
        scale = (var + ctx.eps) ** -0.5
        _, need_mean, need_var = ctx.needs_input_grad
        grad_mean = -axis_sum(grad, ctx.axes) * scale if need_mean else None
        grad_var = axis_sum(grad, ctx.axes, out) * (scale * scale * -0.5) if need_var else None
        return grad * scale, grad_mean, grad_var
