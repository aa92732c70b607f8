"""Draw the recorded graph with graphviz: every op a model ran, with shapes, grouped by module.

    graph = tc.draw_graph(loss)                  # a graphviz.Digraph; .source is DOT text
    tc.render_graph(loss, "step.svg")            # runs Graphviz's `dot` to write the file

Tensor nodes are ellipses (inputs blue, parameters green boxes, outputs gold), op nodes grey
rounded boxes with the op's attributes; ops run inside a module's forward sit in a box
labelled with the module's qualified name. Only what was recorded is drawn: plain training
records the ops backward needs, ``with tc.trace():`` records everything.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .recorded import (
    Recorded,
    bytes_text,
    collect,
    module_names,
    parameter_names,
    short_text,
    tensor_kind,
)
from .tensor import Tensor

__all__ = ["draw_graph", "render_graph", "memory_report"]

DEFAULT_MAX_NODES = 1500
_STYLE = {
    "input": dict(shape="ellipse", style="filled", fillcolor="lightblue"),
    "parameter": dict(shape="box", style="filled", fillcolor="palegreen"),
    "output": dict(shape="ellipse", style="filled,bold", fillcolor="gold"),
    "leaf": dict(shape="ellipse", style="filled", fillcolor="lightblue"),
    "intermediate": dict(shape="ellipse", fontsize="10"),
    "constant": dict(shape="plaintext", fontsize="10"),
    "op": dict(shape="box", style="rounded,filled", fillcolor="#e0e0e0"),
    "module": dict(shape="box3d", style="filled", fillcolor="#f5deb3"),
}


class _Drawing:
    """Decides what each node looks like and where it goes, then emits the Digraph."""

    def __init__(
        self,
        recorded: Recorded,
        outputs: list[Tensor],
        labels: Mapping[Tensor, str] | None,
        model: Any,
        show_grad: bool,
        show_saved: bool,
    ):
        self.r = recorded
        self.output_ids = {id(t) for t in outputs}
        self.labels = {id(t): text for t, text in (labels or {}).items()}
        self.show_grad, self.show_saved = show_grad, show_saved
        self.scopes = [getattr(op, "scope", ()) for op in recorded.ops]
        self.names = module_names(self.scopes)
        self.params = parameter_names(recorded, self.names, model)
        self.consumers: list[list[int]] = [[] for _ in recorded.tensors]
        for o, inputs in enumerate(recorded.inputs):
            for i in inputs:
                self.consumers[i].append(o)

    # ---- node kinds and labels ----------------------------------------------------------
    def tensor_kind(self, i: int) -> str:
        return tensor_kind(self.r, i, self.params, self.output_ids)

    def tensor_label(self, i: int, kind: str) -> str:
        t = self.r.tensors[i]
        if kind == "constant":
            return short_text(t.data.item())
        title = (
            self.labels.get(id(t)) or t.name or (self.params[i][0] if i in self.params else None)
        )
        lines = [title or (kind if kind in ("input", "output") else "")]
        lines.append(f"{t.shape} {t.dtype}")
        if self.show_grad and t.grad is not None:
            g = t.grad.data
            lines.append(f"grad {g.shape} |g|={np.linalg.norm(g):.3g}")
        return "\n".join(line for line in lines if line)

    def op_label(self, o: int) -> str:
        op = self.r.ops[o]
        lines = [op.name] + [f"{k}={short_text(v)}" for k, v in op.attrs.items()]
        if self.show_saved:
            if op.freed:
                lines.append("saved: released")
            for a in op.saved_tensors:
                if a is not None:
                    lines.append(f"saved {a.shape} {a.dtype} {bytes_text(a.nbytes)}")
        return "\n".join(lines)

    def module_label(self, prefix: tuple) -> str:
        module, name = prefix[-1], self.names[prefix]
        text = repr(module)
        text = text if "\n" not in text else type(module).__name__
        return f"{name}: {text}" if name else text

    # ---- collapsing -----------------------------------------------------------------------
    def representative(self, scope: tuple, collapse: Any) -> tuple | None:
        """The outermost collapsed module in ``scope`` (drawn in place of its ops), if any."""
        if collapse is None:
            return None
        for depth in range(1, len(scope) + 1):
            prefix = scope[:depth]
            if (
                (depth - 1 >= collapse)
                if isinstance(collapse, int)
                else (self.names[prefix] in collapse)
            ):
                return prefix
        return None

    def layout(self, collapse: Any):
        """Visible nodes, edges and cluster of each, for one choice of ``collapse``."""
        op_node, placed = {}, {}
        for o, scope in enumerate(self.scopes):
            rep = self.representative(scope, collapse)
            op_node[o] = ("module", rep) if rep else ("op", o)
            placed[op_node[o]] = rep[:-1] if rep else scope
        tensor_node = {}
        for i, t in enumerate(self.r.tensors):
            owner = op_node[self.r.producer[i]] if i in self.r.producer else None
            scope = placed[owner] if owner else ()
            if i in self.params:
                rep = self.representative(self.params[i][1], collapse)
                owner = ("module", rep) if rep else None
                scope = rep[:-1] if rep else self.params[i][1]
            users = {op_node[o] for o in self.consumers[i]}
            if owner is None and len(users) == 1 and self.tensor_kind(i) == "constant":
                # a number used only inside one collapsed module is part of it
                owner = next(iter(users))
            hidden = (
                owner is not None
                and owner[0] == "module"
                and users <= {owner}
                and id(t) not in self.output_ids
            )
            if not hidden:
                tensor_node[i] = ("tensor", i)
                placed[("tensor", i)] = scope
        edges = []
        seen = set()
        for o, inputs in enumerate(self.r.inputs):
            for i in inputs:
                if i in tensor_node:
                    edges.append((tensor_node[i], op_node[o]))
        for i, o in self.r.producer.items():
            if i in tensor_node:
                edges.append((op_node[o], tensor_node[i]))
        unique = []
        for a, b in edges:
            if (a, b) not in seen and not (a[0] == "module" and a == b):
                seen.add((a, b))
                unique.append((a, b))
        return placed, unique

    # ---- emission -------------------------------------------------------------------------
    def node_id(self, node: tuple, module_ids: dict) -> str:
        kind, key = node
        if kind == "module":
            return module_ids.setdefault(key, f"m{len(module_ids)}")
        return f"{kind[0]}{key}"

    def emit(self, graph, placed: dict, edges: list) -> None:
        """Add nodes, module clusters and edges to ``graph``.

        One Digraph per module cluster; the deepest are attached to their parents first, as
        graphviz copies a subgraph's lines when it is attached.
        """
        import graphviz

        module_ids: dict[tuple, str] = {}
        scopes = dict.fromkeys(
            scope[:d] for scope in placed.values() for d in range(1, len(scope) + 1)
        )
        clusters = {(): graph}
        for n, scope in enumerate(sorted(scopes, key=len)):
            clusters[scope] = graphviz.Digraph(name=f"cluster_{n}")
            clusters[scope].attr(
                label=self.module_label(scope),
                style="rounded,dashed",
                color="gray50",
                fontname="Helvetica",
                fontsize="11",
                labeljust="l",
            )
        for node, scope in placed.items():
            clusters[scope].node(self.node_id(node, module_ids), **self.node_attrs(node))
        for scope in sorted(scopes, key=len, reverse=True):
            clusters[scope[:-1]].subgraph(clusters[scope])
        for a, b in edges:
            graph.edge(self.node_id(a, module_ids), self.node_id(b, module_ids))

    def node_attrs(self, node: tuple) -> dict:
        kind, key = node
        if kind == "module":
            return dict(label=self.module_label(key), **_STYLE["module"])
        if kind == "op":
            return dict(label=self.op_label(key), **_STYLE["op"])
        tensor_kind = self.tensor_kind(key)
        return dict(label=self.tensor_label(key, tensor_kind), **_STYLE[tensor_kind])


def _graphviz():
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            "draw_graph needs the graphviz Python package: pip install graphviz "
            "(and, to render files, the system package: apt-get install graphviz)"
        ) from None
    return graphviz


def draw_graph(
    *outputs: Tensor,
    labels: Mapping[Tensor, str] | None = None,
    model: Any = None,
    show_grad: bool = False,
    show_saved: bool = False,
    rankdir: str = "TB",
    collapse: int | Iterable[str] | None = None,
    max_nodes: int = DEFAULT_MAX_NODES,
):
    """A graphviz.Digraph of everything recorded on the way to ``outputs``.

    labels:     {tensor: text} titles for chosen tensors (``Tensor.name`` works too).
    model:      a Module whose ``named_parameters()`` name the parameters (otherwise names come
                from the modules that ran the ops).
    show_grad:  add each tensor's gradient shape and norm (after backward).
    show_saved: list the arrays each op keeps for backward, with their sizes.
    rankdir:    "TB" (top to bottom) or "LR" (left to right).
    collapse:   draw modules as one node each: an int collapses every module at that depth or
                deeper (0 = the outermost), a list of qualified names collapses those.
    max_nodes:  above this many nodes, modules are collapsed automatically (with a warning
                and a note in the graph) unless ``collapse`` was given.
    """
    graphviz = _graphviz()
    for k, t in enumerate(outputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"draw_graph: output {k} must be a Tensor, got {type(t).__name__}")
    if not outputs:
        raise ValueError("draw_graph: give at least one output tensor")
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"draw_graph: rankdir must be 'TB', 'LR', 'BT' or 'RL', got {rankdir!r}")
    if collapse is not None and not isinstance(collapse, int):
        collapse = set(collapse)
    drawing = _Drawing(collect(outputs), list(outputs), labels, model, show_grad, show_saved)
    placed, edges = drawing.layout(collapse)
    note = None
    if len(placed) > max_nodes and collapse is None:
        total = len(placed)
        depth = max((len(s) for s in drawing.scopes), default=0) - 1
        while depth >= 0 and len(placed) > max_nodes:
            placed, edges = drawing.layout(depth)
            depth -= 1
        note = (
            f"{total} nodes exceed max_nodes={max_nodes}; modules at depth {depth + 1} and "
            f"below drawn as single nodes"
            if depth + 1 < max((len(s) for s in drawing.scopes), default=0)
            else f"{total} nodes exceed max_nodes={max_nodes}, and no module ran these ops "
            f"to collapse"
        )
        warnings.warn(f"draw_graph: {note} (pass collapse= or max_nodes= to choose)", stacklevel=2)
    graph = graphviz.Digraph(
        graph_attr=dict(rankdir=rankdir, fontname="Helvetica"),
        node_attr=dict(fontname="Helvetica", fontsize="11"),
        edge_attr=dict(arrowsize="0.7"),
    )
    if note:
        graph.attr(label=note, labelloc="t")
    drawing.emit(graph, placed, edges)
    return graph


def render_graph(
    outputs: Tensor | Iterable[Tensor],
    path: str | os.PathLike,
    format: str | None = None,
    **options: Any,
) -> str:
    """Draw the graph of ``outputs`` (see :func:`draw_graph` for ``options``) and write it to
    ``path`` through Graphviz's ``dot`` program. ``format`` ("svg", "png", "pdf") defaults to
    the path's extension. Returns the path."""
    graphviz = _graphviz()
    path = os.fspath(path)
    format = format or os.path.splitext(path)[1].lstrip(".").lower() or "svg"
    if format not in ("svg", "png", "pdf"):
        raise ValueError(f"render_graph: format must be 'svg', 'png' or 'pdf', got {format!r}")
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    graph = draw_graph(*outputs, **options)
    try:
        data = graph.pipe(format=format)
    except graphviz.ExecutableNotFound:
        raise RuntimeError(
            "render_graph: Graphviz's `dot` program was not found on PATH. `pip install graphviz` "
            "installs only the Python bindings; install the system package too: "
            "`apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS) or "
            "`conda install graphviz`. The DOT text is available without it: draw_graph(...).source"
        ) from None
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def memory_report(*outputs: Tensor, top: int = 10) -> str:
    """A table of the largest arrays the graph behind ``outputs`` keeps for backward: which op
    saved each, its shape, dtype and size, largest first, with the total. Needs no graphviz."""
    recorded = collect(outputs)
    rows = [
        (a.nbytes, op.name, k, a.shape, a.dtype)
        for op in recorded.ops
        for k, a in enumerate(op.saved_tensors)
        if a is not None
    ]
    rows.sort(key=lambda row: -row[0])
    lines = [f"{'op':<14} {'#':>2} {'shape':<22} {'dtype':<8} {'size':>10}"]
    lines += [
        f"{name:<14} {k:>2} {str(shape):<22} {str(dtype):<8} {bytes_text(size):>10}"
        for size, name, k, shape, dtype in rows[:top]
    ]
    if len(rows) > top:
        lines.append(f"... and {len(rows) - top} smaller arrays")
    lines.append(
        f"total: {bytes_text(sum(row[0] for row in rows))} in {len(rows)} arrays saved by "
        f"{len(recorded.ops)} ops"
    )
    return "\n".join(lines)
