"""Op base class, its context, the op registry and the grad-mode switch (per thread).

An op is a subclass of :class:`Function` with two static methods on numpy arrays::

    class Mul(Function):
        broadcasting = True          # the engine sums gradients back to each input's shape

        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            return grad * b, grad * a

Subclassing registers the op under ``name`` (default: the class name in snake case), and
``Mul.apply(x, y)`` runs it on tensors. Each application creates one instance, which is both
the ``ctx`` handed to forward/backward and the node recorded in the graph.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from . import anomaly
from .write_guard import lock, unlock

__all__ = [
    "Function",
    "registry",
    "list_ops",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "trace",
    "module_scope",
]

registry: dict[str, type[Function]] = {}
"""Every registered op, by name, in registration order."""

Tensor: Any = None  # bound by tensor.py once Tensor exists; importing it here would be circular


class _Mode(threading.local):
    """The switches ops read, one set per thread (as PyTorch's grad mode), so one thread's
    ``no_grad`` never reaches another thread's training. Each thread starts with grad mode on,
    no trace, and no module running."""

    def __init__(self) -> None:
        self.grad_enabled = True
        self.trace_all = False
        self.scope: tuple = ()  # the modules whose forward is running, outermost first
        self.profiler: Any = None  # this thread's running tc.profile(), which times each op


_mode = _Mode()

profiling = 0
"""How many ``tc.profile()``s are running, in all threads. While none is, ops skip reading
their thread's ``profiler``: a thread-local read costs several times this global's."""


def is_grad_enabled() -> bool:
    """Whether ops currently record the graph (in this thread)."""
    return _mode.grad_enabled


@contextmanager
def _switch(name: str, value: Any) -> Iterator[None]:
    """Set one of this thread's switches for the duration of a ``with`` block."""
    mode = _mode
    previous = getattr(mode, name)
    setattr(mode, name, value)
    try:
        yield
    finally:
        setattr(mode, name, previous)


def _grad_mode(enabled: bool):
    return _switch("grad_enabled", enabled)


def no_grad():
    """Context manager: ops inside it record no graph and their results need no gradient."""
    return _grad_mode(False)


def enable_grad():
    """Context manager: turn graph recording back on inside a ``no_grad`` block."""
    return _grad_mode(True)


def trace():
    """Context manager: record every op, even those whose inputs need no gradient.

    Plain training records only what backward needs; a forward pass run inside ``trace()``
    keeps the whole computation (e.g. the first conv's im2col on the image) for drawing.
    """
    return _switch("trace_all", True)


def module_scope(module: Any):
    """Context manager: ops run inside it record ``module`` (after the modules already running)
    as their scope, so a drawing can box each module's ops."""
    return _switch("scope", _mode.scope + (module,))


_data_version = 0


def next_data_version() -> int:
    """A new stamp for a ``Tensor.data`` assignment. A node remembers the stamp current when it
    was recorded, so backward(create_graph=True), whose rules read the inputs' current values,
    can tell an input that was reassigned after the op ran."""
    global _data_version
    _data_version += 1
    return _data_version


def list_ops() -> list[str]:
    """Names of all registered ops, in registration order."""
    return list(registry)


def _snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Function:
    """Base class of every differentiable op; an instance is the op's ctx and graph node.

    Class attributes a subclass may set:
      name:         unique registry name (default: class name in snake case).
      broadcasting: True if forward broadcasts its inputs; the engine then sums each returned
                    gradient back to its input's shape, so backward rules never un-broadcast.
      register:     False to keep a helper subclass out of the registry.
      override:     True to replace an op already registered under the same name.
      differentiable_backward:
                    True when ``backward`` uses only operations Tensors support too, and
                    every array it saves is an input, the output, or piecewise constant in
                    them (a mask, an index). Under ``create_graph`` the engine then runs that
                    same ``backward`` with the inputs and the output as Tensors, so the rule
                    is written once. An op whose fast rule must differ defines
                    ``graph_backward(ctx, grad)`` instead, on ``ctx.parents``.

    Instance attributes, set by :meth:`apply`:
      parents:          the input tensors, in order.
      needs_input_grad: one bool per input (set before forward runs); forward may skip saving
                        what only an unneeded gradient uses, and backward may return None there.
      attrs:            the non-tensor arguments, recorded for printing and drawing the graph.
      scope:            the modules whose forward ran this op, outermost first.
    """

    name: str = "function"
    broadcasting: bool = False
    differentiable_backward: bool = False
    __slots__ = (
        "parents",
        "needs_input_grad",
        "attrs",
        "scope",
        "saved_tensors",
        "freed",
        "_locks",
        "recorded_at",
        "__dict__",
        "__weakref__",  # a profile refers to nodes weakly
    )

    def __init_subclass__(cls, register: bool = True, override: bool = False, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = _snake_case(cls.__name__)
        if not register:
            return
        if cls.name in registry and not override:
            raise ValueError(
                f"op {cls.name!r} is already registered (by {registry[cls.name].__qualname__}); "
                f"pass override=True in the class statement to replace it"
            )
        registry[cls.name] = cls

    def save_for_backward(self, *arrays: np.ndarray) -> None:
        """Keep arrays for backward; they are released once backward has used them.

        Until then each array's memory is read-only, so an in-place write (through a tensor's
        ``.data`` or a view of it) fails at the write instead of silently changing the
        gradient. An op that records no node (no input needs grad) keeps nothing.
        """
        if self.freed:
            return
        self.saved_tensors = arrays
        locks = []
        for array in arrays:
            root = lock(array)
            if root is not None:
                locks.append(root)
        self._locks = locks

    @staticmethod
    def forward(ctx: Function, *args: Any, **attrs: Any) -> np.ndarray:
        """Compute the result from numpy arrays (tensor inputs) and attributes."""
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Function, grad: np.ndarray) -> Any:
        """Return one gradient per tensor input (a tuple, or one array for a single input)."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *args: Any, **attrs: Any):
        """Run the op on tensors; non-tensor positional and keyword arguments are attributes.

        Records a graph node when grad mode is on and some tensor input requires grad.
        """
        ctx = cls.__new__(cls)
        parents = []
        arrays = []
        for a in args:
            if isinstance(a, Tensor):
                parents.append(a)
                arrays.append(a._data)
            else:
                arrays.append(a)
        needs = tuple([p._requires_grad for p in parents])
        mode = _mode
        record = mode.grad_enabled and (True in needs or mode.trace_all)
        ctx.saved_tensors = ctx._locks = ()
        ctx.needs_input_grad = (
            needs  # set before forward, so it can save only what backward will use
        )
        ctx.freed = not record  # save_for_backward keeps nothing for a node never recorded
        if profiling and mode.profiler is not None:
            out = mode.profiler.run_forward(cls, ctx, arrays, attrs)
        else:
            out = cls.forward(ctx, *arrays, **attrs)
        if type(out) is not np.ndarray:  # numpy gives scalars for 0-d results: keep the saved one
            out = _as_output(ctx, out)
        if anomaly.enabled:
            anomaly.check_forward(cls.name, parents, out)
            if record:
                ctx.created_at = anomaly.user_frames()
        if record:
            ctx.parents = tuple(parents)
            ctx.attrs = attrs if len(parents) == len(args) else _attributes(args, attrs)
            ctx.scope = mode.scope
            ctx.recorded_at = _data_version
            return Tensor._from_op(out, ctx, True in needs)
        return Tensor._from_op(out, None, False)

    def release(self) -> None:
        """Drop the saved arrays after backward; a later backward through this node raises."""
        for root in self._locks:
            unlock(root)
        self._locks = self.saved_tensors = ()
        self.freed = True

    def __del__(self) -> None:
        # A graph dropped without backward must still give its arrays back to writers.
        if getattr(self, "_locks", ()):
            self.release()

    def __repr__(self) -> str:
        attrs = (
            ", ".join(f"{k}={v!r}" for k, v in self.attrs.items()) if hasattr(self, "attrs") else ""
        )
        return f"<op {self.name}({attrs})>"


def _as_output(ctx: Function, out: Any) -> np.ndarray:
    """A 0-d array for a scalar result; if forward saved that scalar, the array replaces it, so
    the saved output stays the output's own array (create_graph matches the two by identity)."""
    array = np.asarray(out)
    if any(s is out for s in ctx.saved_tensors):
        ctx.saved_tensors = tuple(array if s is out else s for s in ctx.saved_tensors)
    return array


def _attributes(args: tuple, attrs: dict) -> dict:
    """Non-tensor arguments of one op call, for the graph: positional ones keyed by index."""
    positional = {f"arg{i}": a for i, a in enumerate(args) if not isinstance(a, Tensor)}
    return {**positional, **attrs}
