"""Ops that move elements without arithmetic: reshape, transpose, indexing."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function


def resolve_shape(old: tuple[int, ...], new: tuple) -> tuple[int, ...]:
    """``new`` with its one allowed -1 filled in; checks the element count is unchanged."""
    if not all(isinstance(n, (int, np.integer)) and n >= -1 for n in new) or list(new).count(-1) > 1:
        raise ValueError(f"reshape: invalid target shape {new} (non-negative ints and at most one -1)")
    size = int(np.prod(old))
    known = int(np.prod([n for n in new if n != -1]))
    if -1 in new:
        if known == 0 or size % known:
            raise ValueError(f"reshape: cannot reshape {old} ({size} elements) into {new}")
        new = tuple(size // known if n == -1 else n for n in new)
    elif known != size:
        raise ValueError(f"reshape: cannot reshape {old} ({size} elements) into {new} ({known} elements)")
    return tuple(int(n) for n in new)


def resolve_axes(ndim: int, axes: tuple) -> tuple[int, ...]:
    """numpy's transpose axes: () reverses; otherwise a permutation of range(ndim)."""
    if not axes:
        return tuple(range(ndim))[::-1]
    normalized = tuple(int(a) % ndim if isinstance(a, (int, np.integer)) and -ndim <= a < ndim else None for a in axes)
    if None in normalized or sorted(normalized) != list(range(ndim)):
        raise ValueError(f"transpose: axes {axes} are not a permutation of the {ndim} axes")
    return normalized


class Reshape(Function):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.input_shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.input_shape)

    graph_backward = backward  # the same call works on a Tensor


class Transpose(Function):
    @staticmethod
    def forward(ctx, a, axes):
        ctx.axes = axes
        return a.transpose(axes)

    @staticmethod
    def backward(ctx, grad):
        return grad.transpose(tuple(int(a) for a in np.argsort(ctx.axes)))

    graph_backward = backward  # the same call works on a Tensor


def resolve_index(index: Any) -> Any:
    """An index with tensors and lists turned into arrays, so numpy reads it as it would."""
    def one(i):
        if hasattr(i, "data") and isinstance(i.data, np.ndarray):  # a Tensor
            return i.data
        return np.asarray(i) if isinstance(i, list) else i
    return tuple(one(i) for i in index) if isinstance(index, tuple) else one(index)


def _is_basic(index: Any) -> bool:
    """Basic indexing (ints, slices, None, ...) never repeats an element."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(
        isinstance(i, (slice, type(None), type(Ellipsis))) or (isinstance(i, (int, np.integer)) and not isinstance(i, bool))
        for i in parts
    )


class Getitem(Function):
    """``a[index]`` for basic and advanced indices; repeated indices accumulate their gradients."""

    @staticmethod
    def forward(ctx, a, index):
        ctx.input_shape, ctx.index = a.shape, index
        try:
            return a[index]
        except IndexError as err:
            raise IndexError(f"getitem: index {index!r} does not fit shape {a.shape}: {err}") from None

    @staticmethod
    def backward(ctx, grad):
        shape, index = ctx.input_shape, ctx.index
        if _is_basic(index):
            out = np.zeros(shape, dtype=grad.dtype)
            out[index] = grad
            return out
        # Advanced indices may repeat: find which flat element each output came from, then
        # sum the gradients per element (bincount accumulates in float64, cast back after).
        size = int(np.prod(shape))
        flat_source = np.arange(size).reshape(shape)[index]
        summed = np.bincount(flat_source.ravel(), weights=grad.ravel(), minlength=size)
        return summed.astype(grad.dtype).reshape(shape)
