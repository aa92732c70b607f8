"""The backward pass: walk the recorded graph once, in reverse topological order.

Every op's backward rule sees gradients in its own output's shape and returns one gradient
per tensor input. The engine, not the rules, does the bookkeeping:

* sums the gradients of a tensor used several times (diamonds, residual connections);
* reduces a gradient back to its input's shape for ops that broadcast (``broadcasting = True``)
  and names the op when a returned gradient has the wrong count, shape or dtype;
* accumulates into the ``.grad`` of leaves that require grad;
* releases each node's saved arrays once its backward has run, unless ``retain_graph``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import function

if TYPE_CHECKING:
    from .function import Function
    from .tensor import Tensor


def topological_order(root: "Tensor") -> list["Tensor"]:
    """Non-leaf tensors that ``root`` depends on through the graph, root first.

    Iterative depth-first search, so a chain of 100,000 ops needs no recursion; the visited
    set holds ``id``s, so tensors defining ``__eq__``/``__hash__`` cannot confuse it.
    """
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        tensor, children_done = stack.pop()
        if children_done:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        for parent in tensor._ctx.parents:
            if parent._ctx is not None and id(parent) not in visited:
                stack.append((parent, False))
    order.reverse()
    return order


def sum_to(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum a broadcast gradient back to ``shape``: the adjoint of ``np.broadcast_to``.

    (2, 3, 4) -> (3, 1): sums axis 0 (added by broadcasting) and axis 2 (stretched from 1).
    """
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape) if lead else grad


def _fit_gradient(ctx: "Function", index: int, parent: "Tensor", grad) -> np.ndarray:
    """Check one returned gradient against its input and bring it to the input's shape."""
    if type(grad) is not np.ndarray:
        grad = np.asarray(grad)
    if grad.shape != parent.data.shape:
        broadcastable = grad.ndim >= parent.data.ndim and all(
            n == g or n == 1 for n, g in zip(parent.data.shape[::-1], grad.shape[::-1])
        )
        if not (ctx.broadcasting and broadcastable):
            raise ValueError(
                f"op {ctx.name!r}: backward returned a gradient of shape {grad.shape} for input "
                f"{index}, expected {parent.data.shape}"
            )
        grad = sum_to(grad, parent.data.shape)
    if grad.dtype != parent.data.dtype:
        if grad.dtype.kind != "f":
            raise TypeError(
                f"op {ctx.name!r}: backward returned a gradient of dtype {grad.dtype} for input "
                f"{index}, expected a floating dtype ({parent.data.dtype})"
            )
        grad = grad.astype(parent.data.dtype)
    return grad


def _input_gradients(ctx: "Function", grad: np.ndarray) -> tuple:
    """Run one node's backward rule and check how many gradients it returned."""
    if ctx.freed:
        raise RuntimeError(
            f"op {ctx.name!r}: trying to backward through the graph a second time; its saved "
            f"arrays were freed by the first backward. Pass retain_graph=True to the first call."
        )
    grads = ctx.backward(ctx, grad)
    if not isinstance(grads, tuple):
        grads = (grads,)
    if len(grads) != len(ctx.parents):
        raise ValueError(
            f"op {ctx.name!r}: backward returned {len(grads)} gradient(s) for "
            f"{len(ctx.parents)} tensor input(s)"
        )
    return grads


def _accumulate_leaf(leaf: "Tensor", grad: np.ndarray) -> None:
    if leaf.grad is None:
        # A copy: the rule may have returned a view of another gradient or a saved array.
        leaf.grad = function.Tensor(np.array(grad, dtype=leaf.data.dtype), dtype=leaf.data.dtype)
    else:
        leaf.grad.data = leaf.grad.data + grad


def backward(root: "Tensor", grad: np.ndarray | None = None, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) into the ``.grad`` of every leaf that requires grad.

    ``grad`` is the gradient flowing into ``root``; it may be omitted for a one-element root.
    """
    if not root.requires_grad:
        raise RuntimeError(
            f"backward: tensor of shape {root.shape} does not require grad and has no graph; "
            f"create its inputs with requires_grad=True (and outside no_grad())"
        )
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward: grad can be omitted only for a one-element output, got shape "
                f"{root.shape}; pass grad= with that shape (e.g. ones for a sum)"
            )
        grad = np.ones_like(root.data)
    else:
        grad = np.asarray(getattr(grad, "data", grad), dtype=root.data.dtype)
        if grad.shape != root.data.shape:
            raise ValueError(f"backward: grad has shape {grad.shape}, the output has {root.shape}")
    if root._ctx is None:
        _accumulate_leaf(root, grad)
        return
    pending: dict[int, np.ndarray] = {id(root): grad}
    for tensor in topological_order(root):
        ctx = tensor._ctx
        out_grad = pending.pop(id(tensor), None)
        if out_grad is None:  # every path to it returned None: no gradient flows here
            continue
        grads = _input_gradients(ctx, out_grad)
        for index, (parent, parent_grad) in enumerate(zip(ctx.parents, grads)):
            if parent_grad is None or not parent.requires_grad:
                continue
            parent_grad = _fit_gradient(ctx, index, parent, parent_grad)
            if parent._ctx is None:
                _accumulate_leaf(parent, parent_grad)
            elif id(parent) in pending:
                pending[id(parent)] = pending[id(parent)] + parent_grad
            else:
                pending[id(parent)] = parent_grad
        if not retain_graph:
            ctx.release()
