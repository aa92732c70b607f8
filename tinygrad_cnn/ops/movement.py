"""Ops that move elements without arithmetic: reshape, transpose, indexing, cat, expand,
pad, gather."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..function import Function
from . import layout


class Reshape(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, shape):
        ctx.input_shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.input_shape)


class Transpose(Function):
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, axes):
        ctx.axes = axes
        return a.transpose(axes)

    @staticmethod
    def backward(ctx, grad):
        return grad.transpose(tuple(int(a) for a in np.argsort(ctx.axes)))


def resolve_index(index: Any) -> Any:
    """An index with tensors and lists turned into arrays, so numpy reads it as it would. Index
    arrays are copied: backward reads them later, after the caller may have changed theirs."""

    def one(i):
        if hasattr(i, "data") and isinstance(i.data, np.ndarray):  # a Tensor
            return i.data.copy()
        return np.array(i) if isinstance(i, (list, np.ndarray)) else i

    return tuple(one(i) for i in index) if isinstance(index, tuple) else one(index)


def _is_basic(index: Any) -> bool:
    """Basic indexing (ints, slices, None, ...) never repeats an element."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(
        isinstance(i, (slice, type(None), type(Ellipsis)))
        or (isinstance(i, (int, np.integer)) and not isinstance(i, bool))
        for i in parts
    )


def scatter_add(positions: np.ndarray, grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """An array of ``shape`` whose flat element p holds the sum of ``grad`` where ``positions``
    is p: the adjoint of reading those positions. (bincount sums in float64; cast back.)"""
    flat = np.broadcast_to(positions, grad.shape).ravel()
    summed = np.bincount(flat, weights=grad.ravel(), minlength=int(np.prod(shape)))
    return summed.astype(grad.dtype).reshape(shape)


class ScatterAdd(Function):
    """An array of ``shape``, zero but for ``values`` added at the flat (C-order) ``positions``
    (an integer array that broadcasts to ``values``): repeated positions accumulate. The
    adjoint of reading ``positions``, so it is getitem's and gather's backward; and its own
    backward reads ``positions`` back: the gradient at each position it wrote to.
    """

    differentiable_backward = True

    @staticmethod
    def forward(ctx, values, positions, shape):
        ctx.positions = np.broadcast_to(positions, values.shape)
        return scatter_add(ctx.positions, values, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(-1)[ctx.positions]


def _element_positions(shape: tuple[int, ...], index: Any) -> np.ndarray:
    """The flat position in an array of ``shape`` of each element ``array[index]`` reads."""
    return np.arange(int(np.prod(shape))).reshape(shape)[index]


class Getitem(Function):
    """``a[index]`` for basic and advanced indices; repeated indices accumulate their gradients."""

    @staticmethod
    def forward(ctx, a, index):
        ctx.input_shape, ctx.input_strides, ctx.index = a.shape, a.strides, index
        try:
            return a[index]
        except IndexError as err:
            raise IndexError(
                f"getitem: index {index!r} does not fit shape {a.shape}: {err}"
            ) from None

    @staticmethod
    def backward(ctx, grad):
        shape, index = ctx.input_shape, ctx.index
        if _is_basic(index):
            out = layout.full_in_order(shape, 0, grad.dtype, ctx.input_strides)
            out[index] = grad
            return out
        # Advanced indices may repeat: find which flat element each output came from, then
        # sum the gradients per element.
        return scatter_add(_element_positions(shape, index), grad, shape)

    @staticmethod
    def graph_backward(ctx, grad):
        return ScatterAdd.apply(
            grad, _element_positions(ctx.input_shape, ctx.index), ctx.input_shape
        )


class Cat(Function):
    """Join arrays along ``axis``: (n_1, ...), (n_2, ...) -> (n_1 + n_2, ...) for axis 0.

    Backward hands each input its own slice of the gradient (views, no copies).
    """

    differentiable_backward = True

    @staticmethod
    def forward(ctx, *arrays, axis=0):
        ctx.axis = axis
        ctx.bounds = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(np.split(grad, ctx.bounds, axis=ctx.axis))


class Expand(Function):
    """Broadcast to ``shape`` as a read-only view, no copy; the engine sums the gradient back."""

    broadcasting = True
    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, shape):
        return np.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad  # the engine sums it back to the input's shape, on Tensors too


PAD_MODES = ("constant", "reflect", "replicate", "circular")
_NUMPY_PAD_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _along(axis: int, index: Any) -> tuple:
    """An index that applies ``index`` to ``axis`` and takes everything on the axes before it."""
    return (slice(None),) * axis + (index,)


def _unpad_axis(grad: np.ndarray, axis: int, before: int, after: int, mode: str) -> np.ndarray:
    """Adjoint of padding one axis: the inner block, plus each padded element's gradient added
    to the element it was copied from. Every mode copies whole slabs, so this is slab adds."""
    n = grad.shape[axis] - before - after
    inner = grad[_along(axis, slice(before, before + n))]
    if mode == "constant":
        return inner
    inner = inner.copy()  # the padded elements' gradients are added into it
    left, right = grad[_along(axis, slice(0, before))], grad[_along(axis, slice(before + n, None))]
    if (
        mode == "reflect"
    ):  # left element p copied inner[before - p], right element k inner[n - 2 - k]
        inner[_along(axis, slice(1, before + 1))] += np.flip(left, axis)
        inner[_along(axis, slice(n - 1 - after, n - 1))] += np.flip(right, axis)
    elif mode == "replicate":  # every left element copied inner[0], every right one inner[n - 1]
        inner[_along(axis, slice(0, 1))] += left.sum(axis=axis, keepdims=True)
        inner[_along(axis, slice(n - 1, n))] += right.sum(axis=axis, keepdims=True)
    elif mode == "circular":  # the left pad is the inner block's end, the right pad its start
        inner[_along(axis, slice(n - before, n))] += left
        inner[_along(axis, slice(0, after))] += right
    return inner


def _unpad_axis_graph(grad, axis: int, before: int, after: int, mode: str):
    """:func:`_unpad_axis` with Tensor ops, for second derivatives: the same slabs, each padded
    with zeros to the inner block's length and added, instead of added in place."""
    n = grad.shape[axis] - before - after
    inner = grad[_along(axis, slice(before, before + n))]
    if mode == "constant":
        return inner
    left, right = grad[_along(axis, slice(0, before))], grad[_along(axis, slice(before + n, None))]

    def at(slab, start):  # the slab, placed at ``start`` of the inner block along the axis
        widths = [(0, 0)] * grad.ndim
        widths[axis] = (start, n - start - slab.shape[axis])
        return Pad.apply(slab, widths=tuple(widths), mode="constant", value=0.0)

    if mode == "reflect":
        return inner + at(left.flip(axis), 1) + at(right.flip(axis), n - 1 - after)
    if mode == "replicate":
        edges = left.sum(axis=axis, keepdims=True), right.sum(axis=axis, keepdims=True)
        return inner + at(edges[0], 0) + at(edges[1], n - 1)
    return inner + at(left, n - before) + at(right, 0)  # circular


class Pad(Function):
    """Pad axis i by ``widths[i] = (before, after)`` elements, as torch.nn.functional.pad:
    "constant" (``value``), "reflect" (mirror, edge not repeated), "replicate" (repeat the
    edge) or "circular" (wrap around). (H, W) -> (H + top + bottom, W + left + right).

    Backward crops the gradient back and, except for constant, adds each padded element's
    gradient to the element it copied; the axes are independent, so one axis at a time.
    """

    @staticmethod
    def forward(ctx, a, widths, mode="constant", value=0.0):
        ctx.widths, ctx.mode = widths, mode
        if a.ndim == 0:  # nothing to pad (and np.pad refuses 0-d arrays)
            return a.copy()
        if mode == "constant":
            shape = tuple(n + before + after for n, (before, after) in zip(a.shape, widths))
            # the value cast as np.pad did: NaN or inf into integers raises instead of filling junk
            out = layout.full_in_order(shape, a.dtype.type(value), a.dtype, a.strides)
            out[tuple(slice(before, before + n) for n, (before, _) in zip(a.shape, widths))] = a
            return out
        return np.pad(a, widths, mode=_NUMPY_PAD_MODE[mode])

    @staticmethod
    def backward(ctx, grad):
        return _unpad(grad, ctx.widths, ctx.mode, _unpad_axis)

    @staticmethod
    def graph_backward(ctx, grad):
        return _unpad(grad, ctx.widths, ctx.mode, _unpad_axis_graph)


def _unpad(grad, widths, mode: str, unpad_axis) -> Any:
    """Undo the padding one padded axis at a time, with ``unpad_axis`` (on arrays or Tensors)."""
    for axis, (before, after) in enumerate(widths):
        if before or after:
            grad = unpad_axis(grad, axis, before, after, mode)
    return grad


def _source_positions(shape: tuple[int, ...], index: np.ndarray, axis: int) -> np.ndarray:
    """For take_along_axis(a, index, axis): the flat (C-order) position in ``a`` of every output.

    Along ``axis`` the position is the index; along every other axis it is the output's own
    coordinate (0 where ``a`` has size 1 there and broadcasts).
    """
    strides = np.cumprod((*shape[1:], 1)[::-1])[::-1]
    flat = index * strides[axis]
    for d, n in enumerate(shape):
        if d != axis and n > 1:
            along_d = [-1 if k == d else 1 for k in range(len(shape))]
            flat = flat + (np.arange(n) * strides[d]).reshape(along_d)
    return flat


class Gather(Function):
    """out[..., i, ...] = a[..., index[..., i, ...], ...] along ``axis``: numpy's
    take_along_axis, torch.gather. ``index`` is an integer input without gradient.

    Backward adds each output's gradient to the element it was taken from, so indices that
    repeat accumulate.
    """

    @staticmethod
    def forward(ctx, a, index, axis):
        ctx.save_for_backward(index)
        ctx.shape, ctx.axis = a.shape, axis
        return np.take_along_axis(a, index, axis)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        return scatter_add(_source_positions(ctx.shape, index, ctx.axis), grad, ctx.shape), None

    @staticmethod
    def graph_backward(ctx, grad):
        (index,) = ctx.saved_tensors
        return ScatterAdd.apply(
            grad, _source_positions(ctx.shape, index, ctx.axis), ctx.shape
        ), None
