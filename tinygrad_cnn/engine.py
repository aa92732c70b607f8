"""The backward pass: walk the recorded graph once, in reverse topological order.

Every op's backward rule sees gradients in its own output's shape and returns one gradient
per tensor input. The engine, not the rules, does the bookkeeping:

* sums the gradients of a tensor used several times (diamonds, residual connections);
* reduces a gradient back to its input's shape for ops that broadcast (``broadcasting = True``)
  and names the op when a returned gradient has the wrong count, shape or dtype;
* runs the hooks registered on tensors, then accumulates into the ``.grad`` of leaves;
* releases each node's saved arrays once its backward has run, unless ``retain_graph``, and
  then puts a :class:`ReleasedTensor` in place of each input that only the graph still holds,
  so a loss kept after backward (``losses.append(loss)``) keeps shapes, not activations.

With ``create_graph=True`` gradients are Tensors and each op's rule runs on Tensors in grad
mode, so the gradient has a graph of its own: its ``backward`` itself, when the op declares
``differentiable_backward``, or its ``graph_backward`` where the fast numpy rule must differ.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import numpy as np

from . import anomaly, function

if TYPE_CHECKING:
    from .function import Function
    from .tensor import Tensor


class ReleasedTensor:
    """Stands in a released graph for a tensor whose values backward no longer needs.

    It keeps what drawing the graph uses (shape, dtype, name, the op that produced it, the
    ``.grad`` it had at release) and drops the array. Only a tensor nothing else refers to is
    replaced, so a tensor the user holds stays in the graph as itself.
    """

    __slots__ = ("shape", "dtype", "name", "grad", "requires_grad", "_ctx")

    def __init__(self, tensor: Tensor):
        data = tensor._data
        self.shape, self.dtype, self.name = data.shape, data.dtype, tensor.name
        self.grad, self.requires_grad, self._ctx = tensor._grad, tensor._requires_grad, tensor._ctx

    @property
    def ndim(self) -> int:
        """Number of axes."""
        return len(self.shape)

    @property
    def data(self) -> np.ndarray:
        """Refused: the values were released by backward."""
        raise RuntimeError(
            f"the values of this {self.shape} {self.dtype} tensor were released by backward(); "
            f"the graph keeps only shapes and ops for drawing. Keep a reference to the tensor "
            f"itself, or pass retain_graph=True, to read them"
        )

    def __repr__(self) -> str:
        return f"ReleasedTensor(shape={self.shape}, dtype={self.dtype})"


_WORTH_RELEASING = 512
"""Bytes an input's array must exceed for a stand-in to save memory (a Tensor and its array
object alone take about 250), which also keeps constants, drawn with their value, as they are."""


def _stand_in_for_unheld_inputs(released: list[Function]) -> None:
    """After a backward that released these nodes: put a ReleasedTensor in place of each
    input that nothing but the released graph still refers to, so its array is freed.

    An input the user still holds (a variable, a label for drawing, another graph) stays
    itself, values and all. What holds a tensor is read from its reference count: every
    reference the released nodes make is counted, and anything beyond them is someone else's.
    """
    uses = _input_uses(released)
    stand_ins = {}
    for key, entry in uses.items():
        # references: one per use in a released node's inputs, the entry list and getrefcount's
        # own argument
        if sys.getrefcount(entry[0]) == entry[1] + 2:
            stand_ins[key] = ReleasedTensor(entry[0])
    uses.clear()
    if stand_ins:
        for ctx in released:
            ctx.parents = tuple([stand_ins.get(id(p), p) for p in ctx.parents])


def _input_uses(released: list[Function]) -> dict[int, list]:
    """{id: [tensor, uses]} for the inputs of the released nodes that would be worth freeing:
    not parameters (leaves that require grad), not stand-ins already, not tiny."""
    uses: dict[int, list] = {}
    for ctx in released:
        for parent in ctx.parents:
            if (
                type(parent) is ReleasedTensor
                or parent._data.nbytes <= _WORTH_RELEASING
                or (parent._ctx is None and parent._requires_grad)
            ):
                continue
            entry = uses.get(id(parent))
            if entry is None:
                uses[id(parent)] = [parent, 1]
            else:
                entry[1] += 1
    return uses


def topological_order(root: Tensor) -> list[Tensor]:
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


def sum_to(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum a broadcast gradient (array or Tensor) back to ``shape``: the adjoint of broadcasting.

    (2, 3, 4) -> (3, 1): sums axis 0 (added by broadcasting) and axis 2 (stretched from 1).
    """
    lead = len(grad.shape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape) if lead else grad


def _as_gradient(grad: Any, create_graph: bool) -> Any:
    """A returned gradient as an ndarray, or as a Tensor when building a graph of it."""
    Tensor = function.Tensor
    if create_graph:
        return grad if isinstance(grad, Tensor) else Tensor._from_op(np.asarray(grad), None, False)
    if type(grad) is np.ndarray:
        return grad
    return np.asarray(grad.data if isinstance(grad, Tensor) else grad)


def _fit_gradient(ctx: Function, index: int, parent: Tensor, grad: Any, create_graph: bool) -> Any:
    """Check one returned gradient against its input and bring it to the input's shape."""
    grad = _as_gradient(grad, create_graph)
    shape = parent._data.shape
    if grad.shape != shape:
        broadcastable = len(grad.shape) >= len(shape) and all(
            n == g or n == 1 for n, g in zip(shape[::-1], grad.shape[::-1])
        )
        if not (ctx.broadcasting and broadcastable):
            raise ValueError(
                f"op {ctx.name!r}: backward returned a gradient of shape {grad.shape} for input "
                f"{index}, expected {shape}"
            )
        grad = sum_to(grad, shape)
    if grad.dtype != parent._data.dtype:
        if grad.dtype.kind != "f":
            raise TypeError(
                f"op {ctx.name!r}: backward returned a gradient of dtype {grad.dtype} for input "
                f"{index}, expected a floating dtype ({parent._data.dtype})"
            )
        grad = grad.astype(parent._data.dtype)  # as a Tensor op too, when building a graph
    return grad


def supports_create_graph(op: type[Function]) -> bool:
    """Whether backward(create_graph=True) can differentiate through ``op``."""
    return op.differentiable_backward or hasattr(op, "graph_backward")


def _graph_rule(ctx: Function, output: Tensor, grad: Tensor) -> Any:
    """The op's gradient built from Tensor ops. A ``differentiable_backward`` runs with each
    saved input and the saved output replaced by its Tensor, so the gradient's graph reaches
    them; other saved arrays (masks, indices) are constants of that graph."""
    op = type(ctx)
    for index, parent in enumerate(ctx.parents):
        if getattr(parent, "_version", 0) > ctx.recorded_at:
            raise RuntimeError(
                f"op {ctx.name!r}: input {index} {tuple(parent.shape)} had its .data replaced "
                f"after the op ran; backward(create_graph=True) builds the gradient from the "
                f"inputs' current values, so it would differentiate the wrong ones. Run the "
                f"forward again after changing it"
            )
    if hasattr(op, "graph_backward"):
        return op.graph_backward(ctx, grad)
    if not op.differentiable_backward:
        supported = sorted(
            n for n, known in function.registry.items() if supports_create_graph(known)
        )
        raise RuntimeError(
            f"op {ctx.name!r} has no graph_backward, so backward(create_graph=True) cannot "
            f"differentiate through it; ops that can: {', '.join(supported)}"
        )
    return op.backward(_OnTensors(ctx, output), grad)


class _OnTensors:
    """A node as its ``differentiable_backward`` sees it under create_graph: the same
    attributes, but each saved input or output array as its Tensor. An array saved in the
    position of the input it is (``save_for_backward(a, b)``) maps to that input even when two
    inputs share one array (``x.detach() * x``); any other match goes by identity. The node
    itself is left untouched, so threads may differentiate one graph at once."""

    __slots__ = ("_node", "saved_tensors")

    def __init__(self, ctx: Function, output: Tensor):
        parents = ctx.parents
        by_identity = {id(p._data): p for p in parents}
        by_identity[id(output._data)] = output
        self._node = ctx
        self.saved_tensors = tuple(
            parents[i] if i < len(parents) and a is parents[i]._data else by_identity.get(id(a), a)
            for i, a in enumerate(ctx.saved_tensors)
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._node, name)


def _input_gradients(ctx: Function, output: Tensor, grad: Any, create_graph: bool) -> tuple:
    """Run one node's backward rule and check how many gradients it returned."""
    if ctx.freed:
        raise RuntimeError(
            f"op {ctx.name!r}: trying to backward through the graph a second time; its saved "
            f"arrays were freed by the first backward. Pass retain_graph=True to the first call."
        )
    grads = _graph_rule(ctx, output, grad) if create_graph else ctx.backward(ctx, grad)
    if not isinstance(grads, tuple):
        grads = (grads,)
    if len(grads) != len(ctx.parents):
        raise ValueError(
            f"op {ctx.name!r}: backward returned {len(grads)} gradient(s) for "
            f"{len(ctx.parents)} tensor input(s)"
        )
    return grads


def _run_hooks(tensor: Tensor, grad: Any, create_graph: bool) -> Any:
    """Let each hook registered on ``tensor`` see, and optionally replace, its gradient."""
    for hook in tensor._hooks:
        # a copy: the array may be shared with a sibling input (add hands both the same one),
        # so a hook that changes it in place changes this tensor's gradient only
        wrapped = (
            grad.clone() if create_graph else function.Tensor._from_op(grad.copy(), None, False)
        )
        result = hook(wrapped)
        if result is None:  # the copy, as the hook may have left it
            grad = wrapped if create_graph else wrapped._data
        else:
            result = _as_gradient(result, create_graph)
            if result.shape != grad.shape:
                raise ValueError(
                    f"hook {hook!r} returned a gradient of shape {result.shape}, "
                    f"expected {grad.shape}"
                )
            grad = result
    return grad


def _accumulate_leaf(leaf: Tensor, grad: Any) -> None:
    if isinstance(grad, function.Tensor):  # create_graph: .grad is part of the new graph
        # a node of its own: add hands both inputs the same gradient Tensor, and two leaves
        # sharing one .grad would see each other's later accumulation
        leaf.grad = grad.reshape(grad.shape) if leaf.grad is None else leaf.grad + grad
    elif leaf.grad is None:
        # A copy: the rule may have returned a view of another gradient or a saved array.
        leaf.grad = function.Tensor._from_op(np.array(grad, dtype=leaf._data.dtype), None, False)
    else:
        leaf.grad.data = leaf.grad.data + grad


def _initial_gradient(root: Tensor, grad: Any) -> np.ndarray:
    if grad is None:
        if root._data.size != 1:
            raise RuntimeError(
                f"backward: grad can be omitted only for a one-element output, got shape "
                f"{root.shape}; pass grad= with that shape (e.g. ones for a sum)"
            )
        return np.ones_like(root._data)
    grad = np.asarray(getattr(grad, "data", grad), dtype=root._data.dtype)
    if grad.shape != root._data.shape:
        raise ValueError(f"backward: grad has shape {grad.shape}, the output has {root.shape}")
    return grad


def _propagate(
    root: Tensor,
    grad: Any,
    retain_graph: bool | None,
    create_graph: bool,
    capture: dict[int, Tensor] | None = None,
) -> dict[int, tuple[Tensor, Any]]:
    """Push the gradient of ``root`` back through its graph.

    Returns {id: (leaf, gradient)} for the leaves reached; tensors in ``capture`` (by id)
    also have their summed gradient returned, whether leaves or not.
    """
    if not root.requires_grad:
        raise RuntimeError(
            f"backward: tensor of shape {root.shape} does not require grad and has no graph; "
            f"create its inputs with requires_grad=True (and outside no_grad())"
        )
    retain_graph = create_graph if retain_graph is None else retain_graph
    capture = capture or {}
    pending: dict[int, Any] = {id(root): _as_gradient(_initial_gradient(root, grad), create_graph)}
    leaves: dict[int, Tensor] = {id(root): root} if root._ctx is None else {}
    reached: dict[int, tuple[Tensor, Any]] = {}
    released: list[Function] = []
    with function._grad_mode(create_graph):
        _walk(
            root,
            pending,
            leaves,
            capture,
            reached,
            create_graph,
            None if retain_graph else released,
        )
        for key, leaf in leaves.items():
            grad = pending.pop(key)
            reached[key] = (leaf, _run_hooks(leaf, grad, create_graph) if leaf._hooks else grad)
    if released:
        _stand_in_for_unheld_inputs(released)
    return reached


def _walk(
    root: Tensor,
    pending: dict,
    leaves: dict,
    capture: dict,
    reached: dict,
    create_graph: bool,
    released: list | None,
) -> None:
    """Run every node's rule once, in reverse topological order, summing what reaches each
    tensor in ``pending`` and noting the leaves; release each node after its rule, into
    ``released``, unless that is None (retain_graph)."""
    profiler = function._mode.profiler if function.profiling else None
    rule = _input_gradients if profiler is None else profiler.timed_rules(_input_gradients)
    for tensor in topological_order(root) if root._ctx is not None else ():
        ctx = tensor._ctx
        out_grad = pending.pop(id(tensor), None)
        if out_grad is not None:  # else every path to it returned None: no gradient flows here
            if tensor._hooks:
                out_grad = _run_hooks(tensor, out_grad, create_graph)
            if id(tensor) in capture:
                reached[id(tensor)] = (tensor, out_grad)
            grads = rule(ctx, tensor, out_grad, create_graph)
            if anomaly.enabled:
                anomaly.check_backward(ctx, grads)
            for index, (parent, parent_grad) in enumerate(zip(ctx.parents, grads)):
                if parent_grad is None or not parent.requires_grad:
                    continue
                parent_grad = _fit_gradient(ctx, index, parent, parent_grad, create_graph)
                key = id(parent)
                pending[key] = pending[key] + parent_grad if key in pending else parent_grad
                if parent._ctx is None:
                    leaves[key] = parent
        if released is not None:
            ctx.release()
            released.append(ctx)


def backward(
    root: Tensor, grad: Any = None, retain_graph: bool | None = None, create_graph: bool = False
) -> None:
    """Accumulate d(root)/d(leaf) into the ``.grad`` of every leaf that requires grad.

    ``grad`` is the gradient flowing into ``root``; it may be omitted for a one-element root.
    ``retain_graph`` defaults to ``create_graph``.
    """
    for leaf, leaf_grad in _propagate(root, grad, retain_graph, create_graph).values():
        _accumulate_leaf(leaf, leaf_grad)


def grad(
    output: Tensor,
    inputs: Tensor | list[Tensor],
    grad_output: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> tuple:
    """d(output)/d(input) for each of ``inputs``, returned rather than stored in ``.grad``.

    With ``create_graph=True`` the results are Tensors with a graph of their own, so they can
    be differentiated again: ``(g,) = tc.grad(y, [x], create_graph=True); tc.grad(g.sum(), [x])``.
    An input the output does not depend on gets None.
    """
    Tensor = function.Tensor
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    for k, x in enumerate(inputs):
        if not isinstance(x, Tensor) or not x.requires_grad:
            raise TypeError(f"grad: input {k} must be a Tensor that requires grad")
    reached = _propagate(
        output, grad_output, retain_graph, create_graph, {id(x): x for x in inputs}
    )
    results = []
    for x in inputs:
        g = reached.get(id(x), (None, None))[1]
        results.append(g if g is None or create_graph else Tensor._from_op(g, None, False))
    return tuple(results)
