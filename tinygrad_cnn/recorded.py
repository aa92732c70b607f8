"""The recorded graph behind some outputs, read back for drawing and exploring it.

    recorded = collect([loss])        # tensors, op nodes, and who made and used what
    names = module_names(op.scope for op in recorded.ops)
    params = parameter_names(recorded, names, model)

viz.py draws it with graphviz; explorer/ turns it into an interactive page. Both name modules
and parameters through these functions, so the two show the same names.
"""

from __future__ import annotations

import math
from collections.abc import Container, Iterable, Mapping
from typing import Any, NamedTuple

import numpy as np

from .function import Function
from .tensor import Tensor

__all__ = [
    "Recorded",
    "collect",
    "module_names",
    "parameter_names",
    "tensor_kind",
    "short_text",
    "bytes_text",
]


class Recorded(NamedTuple):
    """The graph behind some outputs: tensors and op nodes in discovery order, with links."""

    tensors: list[Tensor]
    ops: list[Function]
    producer: dict[int, int]  # tensor index -> index of the op that made it
    inputs: list[list[int]]  # op index -> tensor indices of its inputs


def collect(outputs: Iterable[Tensor]) -> Recorded:
    """Walk back from the outputs with an explicit stack, then number everything in reverse
    discovery order (roughly forward order), so the same computation gives the same numbering."""
    found: list[Tensor] = []
    seen: set[int] = set()
    stack = list(outputs)[::-1]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        found.append(t)
        if t._ctx is not None:
            stack.extend(t._ctx.parents[::-1])
    tensors = found[::-1]
    index = {id(t): i for i, t in enumerate(tensors)}
    ops: list[Function] = []
    producer: dict[int, int] = {}
    for i, t in enumerate(tensors):
        if t._ctx is not None:
            producer[i] = len(ops)
            ops.append(t._ctx)
    inputs = [[index[id(p)] for p in op.parents] for op in ops]
    return Recorded(tensors, ops, producer, inputs)


def module_names(scopes: Iterable[tuple]) -> dict[tuple, str]:
    """Qualified name of every module prefix in the scopes: '' for the outermost module,
    then attribute names joined by dots ('features.0')."""
    names: dict[tuple, str] = {}
    for scope in scopes:
        for depth in range(1, len(scope) + 1):
            prefix = scope[:depth]
            if prefix in names:
                continue
            if depth == 1:
                names[prefix] = ""
                continue
            parent, child = scope[depth - 2], scope[depth - 1]
            # named_modules also finds a child kept in a ModuleList or ModuleDict ("down.0")
            below = (
                parent.named_modules() if hasattr(parent, "named_modules") else vars(parent).items()
            )
            attr = next((k for k, v in below if v is child and k), type(child).__name__)
            names[prefix] = (
                f"{names[scope[: depth - 1]]}.{attr}" if names[scope[: depth - 1]] else attr
            )
    return names


def parameter_names(
    recorded: Recorded, names: dict[tuple, str], model: Any
) -> dict[int, tuple[str, tuple]]:
    """Tensor index -> (qualified parameter name, scope of its module), for leaves that are
    attributes of a module that ran an op using them (or of ``model``, if given)."""
    found: dict[int, tuple[str, tuple]] = {}
    if model is not None:
        by_id = {id(p): n for n, p in model.named_parameters()}
        for i, t in enumerate(recorded.tensors):
            if id(t) in by_id:
                found[i] = (by_id[id(t)], ())
    for op, inputs in zip(recorded.ops, recorded.inputs):
        scope = getattr(op, "scope", ())
        for i in inputs:
            if recorded.tensors[i]._ctx is not None:
                continue
            for depth in range(len(scope), 0, -1):
                attr = next(
                    (k for k, v in vars(scope[depth - 1]).items() if v is recorded.tensors[i]), None
                )
                if attr is not None:
                    prefix = names[scope[:depth]]
                    name = found[i][0] if i in found else (f"{prefix}.{attr}" if prefix else attr)
                    found[i] = (name, scope[:depth])
                    break
    return found


def tensor_kind(
    recorded: Recorded, i: int, parameters: Mapping[int, Any], output_ids: Container[int]
) -> str:
    """What tensor ``i`` is in the graph: 'output' (one of the tensors asked for, by ``id``),
    'intermediate' (made by an op), 'parameter' (a key of ``parameters``), 'constant' (one
    element, needs no gradient), 'leaf' (needs a gradient) or 'input'."""
    t = recorded.tensors[i]
    if id(t) in output_ids:
        return "output"
    if i in recorded.producer:
        return "intermediate"
    if i in parameters:
        return "parameter"
    if math.prod(t.shape) == 1 and not t.requires_grad:
        return "constant"
    return "leaf" if t.requires_grad else "input"


def _slice(s: slice) -> str:
    """A slice as written in brackets: ``::2``, ``1:5``, ``:``."""
    text = ":".join("" if v is None else str(v) for v in (s.start, s.stop, s.step))
    return text[:-1] if text.endswith(":") and s.step is None else text


def short_text(value: Any) -> str:
    """An op attribute (or a constant's value) in at most 40 characters: an index as written in
    brackets, a large array as its shape."""
    if isinstance(value, np.ndarray):
        return f"array{value.shape}" if value.size > 4 else np.array2string(value, separator=",")
    parts = value if isinstance(value, tuple) else (value,)
    if any(isinstance(p, slice) for p in parts):  # an index, written as in brackets
        value = (
            "["
            + ", ".join(
                _slice(p) if isinstance(p, slice) else "..." if p is Ellipsis else short_text(p)
                for p in parts
            )
            + "]"
        )
        return value if len(value) <= 40 else value[:37] + "..."
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def bytes_text(size: int) -> str:
    """A byte count in binary units, as graphs, memory reports and profiles print it: '48 B',
    '1.5 KiB', '12.3 MiB', '1.2 GiB'."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"
