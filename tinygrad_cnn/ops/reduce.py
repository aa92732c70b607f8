"""Reductions (sum, mean, max) and log-softmax, with numpy's ``axis``/``keepdims``."""
from __future__ import annotations

from typing import Iterable

import numpy as np

from ..function import Function


def normalize_axis(op: str, axis: int | Iterable[int] | None, ndim: int) -> tuple[int, ...] | None:
    """``axis`` as a sorted tuple of non-negative axes (None: all), checked against ``ndim``."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    for a in axes:
        if not isinstance(a, (int, np.integer)) or not -ndim <= a < max(ndim, 1):
            raise ValueError(f"{op}: axis {a!r} is out of range for a tensor of {ndim} dimension(s)")
    normalized = tuple(sorted(int(a) % max(ndim, 1) for a in axes))
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{op}: repeated axis in {axis!r}")
    return normalized


def _expand_reduced(grad: np.ndarray, axis: tuple[int, ...] | None, keepdims: bool) -> np.ndarray:
    """Reinsert the reduced axes as size 1, so the gradient broadcasts against the input."""
    if keepdims or axis is None:
        return grad
    return np.expand_dims(grad, axis)


def _broadcast_tensor(grad, axis, keepdims, shape):
    """Tensor version of broadcasting a reduced gradient back: reshape to keep the reduced
    axes as size 1, then add zeros of the full shape (the add op broadcasts)."""
    kept = [1 if axis is None or i in axis else n for i, n in enumerate(shape)]
    zeros = type(grad)._from_op(np.zeros(shape, dtype=grad.dtype), None, False)
    return grad.reshape(*kept) + zeros


class Sum(Function):
    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        ctx.shape, ctx.axis, ctx.keepdims = a.shape, axis, keepdims
        return a.sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        return np.broadcast_to(_expand_reduced(grad, ctx.axis, ctx.keepdims), ctx.shape)

    @staticmethod
    def graph_backward(ctx, grad):
        return _broadcast_tensor(grad, ctx.axis, ctx.keepdims, ctx.shape)


class Mean(Function):
    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        ctx.shape, ctx.axis, ctx.keepdims = a.shape, axis, keepdims
        ctx.count = a.size if axis is None else int(np.prod([a.shape[i] for i in axis]))
        return a.mean(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        grad = _expand_reduced(grad, ctx.axis, ctx.keepdims) / grad.dtype.type(ctx.count)
        return np.broadcast_to(grad, ctx.shape)

    @staticmethod
    def graph_backward(ctx, grad):
        return _broadcast_tensor(grad, ctx.axis, ctx.keepdims, ctx.shape) / float(ctx.count)


def max_along_last(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximum over the last axis and the index of its first occurrence: (..., K) -> (...)."""
    index = a.argmax(axis=-1)
    return np.take_along_axis(a, index[..., None], axis=-1)[..., 0], index


def scatter_to_index(grad: np.ndarray, index: np.ndarray, k: int) -> np.ndarray:
    """Adjoint of :func:`max_along_last`: (...) -> (..., K), ``grad`` at ``index``, zero elsewhere.

    Flat-index arithmetic: element i of the output row block is i * K + index[i].
    """
    out = np.zeros(index.size * k, dtype=grad.dtype)
    out[np.arange(0, index.size * k, k) + index.ravel()] = grad.ravel()
    return out.reshape(*index.shape, k)


class Max(Function):
    """Maximum over ``axis``; the gradient goes to the first maximum of each reduced group."""

    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        axes = tuple(range(a.ndim)) if axis is None else axis
        kept = tuple(i for i in range(a.ndim) if i not in axes)
        ctx.order = kept + axes
        ctx.moved_shape = tuple(a.shape[i] for i in ctx.order)
        ctx.reduced_size = int(np.prod([a.shape[i] for i in axes]))
        moved = a.transpose(ctx.order).reshape(*(a.shape[i] for i in kept), ctx.reduced_size)
        out, index = max_along_last(moved)
        ctx.save_for_backward(index)
        if keepdims:
            out = out.reshape([1 if i in axes else n for i, n in enumerate(a.shape)])
        return out

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        routed = scatter_to_index(grad.reshape(index.shape), index, ctx.reduced_size)
        return routed.reshape(ctx.moved_shape).transpose(np.argsort(ctx.order))


class LogSoftmax(Function):
    """log(softmax(a)) along ``axis``, computed as a - max - log(sum(exp(a - max)))."""

    @staticmethod
    def forward(ctx, a, axis=-1):
        shifted = a - a.max(axis=axis, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad - np.exp(out) * grad.sum(axis=ctx.axis, keepdims=True)
