"""Reductions (sum, mean, max, min, cumsum) and log-softmax, with numpy's ``axis``/``keepdims``."""

from __future__ import annotations

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
