"""The data an explorer page is drawn from: the recorded graph as JSON-ready dicts.

    data = graph_data(loss, model=model, profile=prof)
    data["ops"][0]       # {"id": "o0", "op": "transpose", "module": "m8", "inputs": ["t1"], ...}

Tensors ("t0", "t1", ...) and ops ("o0", ...) are numbered in the order :func:`collect` finds
them (roughly forward order); modules ("m0", ...) in the order their first op ran. Each tensor
carries statistics of its value and of the gradient of ``output`` with respect to it, taken
with the engine's own gradient function so that no ``.grad`` changes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import engine
from ..recorded import Recorded, collect, module_names, parameter_names, short_text, tensor_kind
from ..tensor import Tensor

__all__ = ["graph_data", "array_stats", "HISTOGRAM_BINS"]

HISTOGRAM_BINS = 16
_HUGE, _TINY = 2.0**400, 2.0**-400  # magnitudes whose squares and sums stay finite and nonzero


def array_stats(array: np.ndarray) -> dict[str, Any] | None:
    """Summary of an array of any shape: ``size``, ``zeros`` (fraction of elements equal to 0),
    ``nan`` and ``inf`` (counts), and over the finite elements ``min``, ``max``, ``mean``,
    ``std``, ``norm`` (L2) and a histogram (``hist``: HISTOGRAM_BINS counts over ``hist_range``).

    The finite-only statistics are absent when no element is finite; None for an empty or
    non-numeric array. A statistic too large for float64 (the norm of values near 1e308) is
    None, as JSON has no infinity."""
    a = np.asarray(array)
    if a.size == 0 or a.dtype.kind not in "biuf":
        return None
    a = a.astype(np.float64, copy=False).ravel()
    finite = np.isfinite(a)
    values = a if finite.all() else a[finite]
    nan = int(np.isnan(a).sum())
    stats: dict[str, Any] = {
        "size": int(a.size),
        "zeros": float(np.count_nonzero(a == 0) / a.size),
        "nan": nan,
        "inf": int(a.size - values.size - nan),
    }
    if values.size:
        stats.update(_finite_stats(values))
    return stats


def _finite_stats(values: np.ndarray) -> dict[str, Any]:
    """min, max, mean, std, norm and the histogram of finite float64 values (1-D, not empty).

    Squares of values beyond about 1e154 overflow float64 (and those below 1e-154 vanish), and
    so does the histogram's range near 1e308: such values are summed and binned scaled by the
    power of two that brings the largest into [1, 2), then scaled back. Other values are not
    scaled, so their statistics are numpy's own."""
    largest = float(np.abs(values).max())
    ordinary = largest == 0 or _TINY < largest < _HUGE
    scale = 1.0 if ordinary else 2.0 ** (math.frexp(largest)[1] - 1)  # exact: a power of two
    scaled = values / scale
    counts, edges = np.histogram(scaled, bins=HISTOGRAM_BINS)
    with np.errstate(over="ignore"):  # a norm beyond float64 becomes inf, then None
        found = {
            "min": float(values.min()),
            "max": float(values.max()),
            "mean": float(scaled.mean() * scale),
            "std": float(scaled.std() * scale),
            "norm": float(np.linalg.norm(scaled) * scale),
        }
    found = {k: v if math.isfinite(v) else None for k, v in found.items()}
    return {
        **found,
        "hist": counts.tolist(),
        "hist_range": [float(edges[0] * scale), float(edges[-1] * scale)],
    }


def _values(tensor: Any) -> np.ndarray | None:
    """The tensor's array, or None where backward released it (a ReleasedTensor)."""
    return None if isinstance(tensor, engine.ReleasedTensor) else tensor.data


def _op_kind(op: Any) -> str:
    """The ops/ file an op comes from ('elementwise', 'window', ...), 'custom' for others."""
    package, _, file = type(op).__module__.rpartition(".")
    return file if package.endswith("tinygrad_cnn.ops") else "custom"


def _gradients(
    output: Tensor, recorded: Recorded, released: bool
) -> tuple[dict[int, np.ndarray], set[int]]:
    """d(output)/d(tensor) by tensor index, and the indices of the non-leaf tensors whose op's
    backward rule runs (those some gradient reaches).

    A graph still held (before backward, or after ``retain_graph=True``) is differentiated
    again through ``tc.grad`` with ``retain_graph``: every tensor is an input, so the engine
    hands back each summed gradient and leaves ``.grad`` alone. A graph ``output.backward()``
    has released can only show the ``.grad`` its leaves kept; which rules ran is then read from
    which inputs need a gradient, as the engine decides. A graph partly released by a backward
    from another tensor is refused: its leaves' ``.grad`` are that tensor's gradient.
    """
    if not output.requires_grad:
        return {}, set()
    index = {id(t): i for i, t in enumerate(recorded.tensors)}
    if released:
        if not output._ctx.freed:  # the leaves' .grad hold another output's gradient
            raise ValueError(
                "explore: part of the graph behind output was released by a backward() from "
                "another tensor, so the gradients of output cannot be taken; call that "
                "backward with retain_graph=True, or explore before it"
            )
        grads = {i: t.grad.data for i, t in enumerate(recorded.tensors) if t.grad is not None}
        reached, ran = {id(output)}, set()
        for t in engine.topological_order(output) if output._ctx is not None else ():
            if id(t) in reached:
                ran.add(index[id(t)])
                reached.update(id(p) for p in t._ctx.parents if p.requires_grad)
        return grads, ran
    wanted = [i for i, t in enumerate(recorded.tensors) if t.requires_grad]
    seed = None if output.data.size == 1 else np.ones_like(output.data)
    found = engine.grad(output, [recorded.tensors[i] for i in wanted], seed, retain_graph=True)
    grads = {i: g.data for i, g in zip(wanted, found) if g is not None}
    return grads, {i for i in grads if i in recorded.producer}


def _definition_order(prefix: tuple) -> list[int]:
    """Where each module of a scope prefix comes in its parent's ``named_modules()``, so
    modules are listed as the model defines them, not in the order the graph finds them."""
    key = []
    for parent, child in zip(prefix, prefix[1:]):
        below = [m for _, m in parent.named_modules()] if hasattr(parent, "named_modules") else []
        key.append(next((k for k, m in enumerate(below) if m is child), len(below)))
    return key


def _modules(names: dict[tuple, str]) -> tuple[list[dict[str, Any]], dict[tuple, str]]:
    """The module tree, one dict per module that ran an op (``names`` from module_names), and
    the id of each scope prefix."""
    ids = {prefix: f"m{k}" for k, prefix in enumerate(sorted(names, key=_definition_order))}
    modules = []
    for prefix, key in ids.items():
        module = prefix[-1]
        text = repr(module)
        modules.append(
            {
                "id": key,
                "path": names[prefix],
                "type": type(module).__name__,
                "repr": text if "\n" not in text else type(module).__name__,
                "parent": ids.get(prefix[:-1]),
                "children": [ids[p] for p in ids if len(p) == len(prefix) + 1 and p[:-1] == prefix],
            }
        )
    return modules, ids


def _tensor(t: Any, i: int, kind: str, name: str, grad: np.ndarray | None) -> dict[str, Any]:
    """A tensor's fields: id, kind (see tensor_kind), name (its own or its parameter name),
    shape, dtype, bytes, released (backward dropped its array), value and grad (statistics, see
    array_stats; None when unknown). graph_data adds producer (an op id or None) and module
    (the module owning a parameter)."""
    values = _values(t)
    return {
        "id": f"t{i}",
        "kind": kind,
        "name": name,
        "shape": list(t.shape),
        "dtype": str(t.dtype),
        "bytes": math.prod(t.shape) * np.dtype(t.dtype).itemsize,
        "released": values is None,
        "value": None if values is None else array_stats(values),
        "grad": None if grad is None else array_stats(grad),
    }


def _op(op: Any, o: int, recorded: Recorded, output: int, record: Any) -> dict[str, Any]:
    """An op's fields: id, op (registered name), kind (its ops/ file), attrs (as text),
    inputs and output (tensor ids), saved (the arrays it holds now: shape, dtype, bytes),
    saved_bytes (at the end of forward when profiled, else held now), forward_s and backward_s
    (from the profile's ``record``, else None). graph_data adds module (the innermost)."""
    saved = [a for a in op.saved_tensors if isinstance(a, np.ndarray)]
    return {
        "id": f"o{o}",
        "op": op.name,
        "kind": _op_kind(op),
        "attrs": {k: short_text(v) for k, v in op.attrs.items()},
        "inputs": [f"t{i}" for i in recorded.inputs[o]],
        "output": f"t{output}",
        "saved": [
            {"shape": list(a.shape), "dtype": str(a.dtype), "bytes": a.nbytes} for a in saved
        ],
        "saved_bytes": record.saved_bytes if record else sum(a.nbytes for a in saved),
        "forward_s": record.forward_s if record else None,
        "backward_s": record.backward_s if record else None,
    }


def graph_data(output: Tensor, model: Any = None, profile: Any = None) -> dict[str, Any]:
    """Everything the explorer page shows about the graph behind ``output``, as JSON-ready dicts.

    Keys: ``tensors`` and ``ops`` (see :func:`_tensor` and :func:`_op` for their fields),
    ``edges`` ([source id, target id]: tensor -> op for each input, op -> tensor for each
    output), ``modules`` (the tree: id, path, type, repr, parent, children), ``outputs``,
    ``backward_order`` (op ids in the order the engine applies their backward rules),
    ``profiled`` (whether times come from ``profile``, a :func:`tinygrad_cnn.profile` record),
    ``released`` (whether a backward released the graph: the gradients are then the leaves'
    ``.grad``, which that backward filled, whichever tensor it started from).
    Gradients are of ``output`` (of its sum, when it has more than one element).
    """
    recorded = collect([output])
    names = module_names(getattr(op, "scope", ()) for op in recorded.ops)
    params = parameter_names(recorded, names, model)
    modules, module_ids = _modules(names)
    released = any(op.freed for op in recorded.ops)
    grads, ran = _gradients(output, recorded, released)
    op_of = {o: i for i, o in recorded.producer.items()}
    tensors = []
    for i, t in enumerate(recorded.tensors):
        kind = tensor_kind(recorded, i, params, {id(output)})
        name = t.name or (params[i][0] if i in params else "")
        entry = _tensor(t, i, kind, name, grads.get(i))
        entry["producer"] = f"o{recorded.producer[i]}" if i in recorded.producer else None
        entry["module"] = module_ids.get(params[i][1]) if i in params else None
        tensors.append(entry)
    ops = []
    for o, op in enumerate(recorded.ops):
        record = profile.node_record(op) if profile is not None else None
        entry = _op(op, o, recorded, op_of[o], record)
        entry["module"] = module_ids.get(getattr(op, "scope", ()))
        ops.append(entry)
    edges = [[f"t{i}", f"o{o}"] for o, inputs in enumerate(recorded.inputs) for i in inputs]
    edges += [[f"o{o}", f"t{i}"] for i, o in recorded.producer.items()]
    order = engine.topological_order(output) if output._ctx is not None else []
    index = {id(t): i for i, t in enumerate(recorded.tensors)}
    return {
        "tensors": tensors,
        "ops": ops,
        "edges": edges,
        "modules": modules,
        "outputs": [f"t{index[id(output)]}"],
        "backward_order": [
            f"o{recorded.producer[index[id(t)]]}" for t in order if index[id(t)] in ran
        ],
        "profiled": profile is not None,
        "released": released,
    }
