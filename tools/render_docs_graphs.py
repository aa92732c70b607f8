"""Regenerate the graphs shown in docs/ (DOT text and SVG) from the code itself.

    python tools/render_docs_graphs.py

tests/test_viz.py checks that each docs/images/*.dot matches what this produces.
"""

import re
from collections.abc import Callable
from html import escape as html_escape
from pathlib import Path

import numpy as np

import tinygrad_cnn as tc
from tinygrad_cnn import models
from tinygrad_cnn.cli import training_step
from tinygrad_cnn.models import lenet

IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"


def lenet_step_graph():
    """The graph of one training step of the digits CNN (batch of 2), every op recorded."""
    tc.manual_seed(0)
    model = lenet()
    images = tc.Tensor(np.zeros((2, 1, 8, 8), dtype=np.float32))
    loss = training_step(model, images, np.array([3, 7]))
    return tc.draw_graph(loss, model=model)


def lenet_step_collapsed_graph():
    """docs/graphs.md's figure: the same step as its code (trace, cross-entropy, backward), drawn
    with gradients, each layer one box but the first Conv2d, whose ops are drawn."""
    import tinygrad_cnn.functional as F

    tc.manual_seed(0)
    model = lenet()
    images = tc.Tensor(np.random.default_rng(0).random((2, 1, 8, 8)))
    labels = np.array([3, 7])
    with tc.trace():  # record every op, even those on the raw images
        loss = F.cross_entropy(model(images), labels)
    loss.backward()
    closed = [name for name, _ in model.named_children() if name != "0"]  # all but the first Conv2d
    graph = tc.draw_graph(loss, model=model, show_grad=True, collapse=closed)
    graph.attr(ranksep="0.2")
    return graph


def legend_graph():
    """docs/graphs.md's legend, drawn by draw_graph itself: y = scale * Linear(x) * 2.0 with a
    collapsed ReLU, so every kind of node appears once (input, parameter, non-parameter leaf,
    constant, op, intermediate, module frame, collapsed module, output)."""
    tc.manual_seed(0)
    model = tc.nn.Sequential(tc.nn.Linear(3, 2), tc.nn.ReLU())
    x = tc.Tensor(np.ones((1, 3), dtype=np.float32))
    scale = tc.Tensor(np.ones((1, 2), dtype=np.float32), requires_grad=True)
    y = scale * model(x) * 2.0
    labels = {x: "input: x", scale: "leaf: scale\n(requires_grad, no module's)", y: "output: y"}
    graph = tc.draw_graph(y, model=model, labels=labels, collapse=["1"])
    graph.attr(ranksep="0.2")
    return graph


def conv_pool_graph():
    """The forward graph of a Conv2d(1, 2, 2) and a MaxPool2d(2) on the tutorial's 4x4 image."""
    tc.manual_seed(0)
    model = tc.nn.Sequential(tc.nn.Conv2d(1, 2, 2), tc.nn.MaxPool2d(2))
    with tc.trace():
        y = model(tc.Tensor(np.zeros((1, 1, 4, 4), dtype=np.float32)))
    graph = annotate_backward(tc.draw_graph(y, model=model))
    graph.attr(ranksep="0.25")  # top to bottom, kept short enough to read at page width
    return graph


BACKWARD_RULES = {  # one line per op: what its backward sends to its inputs, given dY
    "im2col": "backward: col2im (overlaps add up)",
    "matmul": "backward: dA = dY·Bᵀ, dB = Aᵀ·dY",
    "bias_add": "backward: dx = dY, db = dY summed per channel",
    "reshape": "backward: reshape back (the inverse)",
    "transpose": "backward: transpose back (the inverse)",
    "window_max": "backward: route dY to each window's max",
}


def annotate_backward(graph, rules: dict = BACKWARD_RULES):
    """Add each op node's backward rule, in red, as the last line of its label (op nodes are
    the ``o<k>`` nodes draw_graph emits; their label's first line is the op's name)."""
    node = re.compile(r'^(\s*o\d+ \[label=)(?:"([^"]*)"|(\w+))( .*)$', re.S)
    for k, line in enumerate(graph.body):
        m = node.match(line)
        if m:
            label = m.group(2) if m.group(2) is not None else m.group(3)
            rule = rules[label.split("\n")[0]]
            html = "<br/>".join(html_escape(part) for part in label.split("\n"))
            graph.body[k] = (
                f'{m.group(1)}<{html}<br/><font color="#b00000">{html_escape(rule)}</font>>'
                f"{m.group(4)}"
            )
    return graph


def model_graph(make: Callable, shape: tuple, collapse: int = 1) -> Callable:
    """The forward graph of a zoo model on a zero input of ``shape``, each module at depth
    ``collapse`` (or each named one) drawn as one box, top to bottom."""

    def build():
        tc.manual_seed(0)
        model = make()
        with tc.trace():
            y = model(tc.Tensor(np.zeros(shape, dtype=np.float32)))
        return tc.draw_graph(y, model=model, collapse=collapse)

    return build


def autograd_walk_graph():
    """docs/autograd.md's backward walk: b = a*2, L = b*b + b at a = 2, each op numbered in the
    order the engine runs its backward, each red edge the gradient it sends to one input.

    The walk is the engine's: ``topological_order`` gives the order, each node's own
    ``backward`` rule gives what it sends, and ``sum_to`` un-broadcasts it (all public names)."""
    import graphviz

    from tinygrad_cnn import engine

    a = tc.Tensor(2.0, requires_grad=True, dtype=np.float64)
    b = a * 2
    bb = b * b
    loss = bb + b
    names = {id(a): "a", id(b): "b", id(bb): "b*b", id(loss): "L"}
    graph = graphviz.Digraph(
        graph_attr=dict(rankdir="BT", fontname="Helvetica", nodesep="0.6"),
        node_attr=dict(fontname="Helvetica", fontsize="12"),
        edge_attr=dict(fontname="Helvetica", fontsize="11", arrowsize="0.7"),
    )
    total = {id(loss): np.ones(())}
    tensors = [loss, bb, b, a]
    for k, tensor in enumerate(engine.topological_order(loss), start=1):  # root first
        ctx, out_grad = tensor._ctx, total[id(tensor)]
        op = f"op{k}"
        graph.node(
            op,
            f"step {k}: {ctx.name} backward",
            shape="box",
            style="rounded,filled",
            fillcolor="#e0e0e0",
        )
        # forward: the op makes its output
        graph.edge(op, f"t{tensors.index(tensor)}", color="gray50")
        sent = ctx.backward(ctx, out_grad)
        sent = sent if isinstance(sent, tuple) else (sent,)
        for parent, g in zip(ctx.parents, sent):
            if parent._ctx is None and not parent.requires_grad:  # a constant: drawn as a label
                graph.node(f"c{k}", f"{float(parent.data):g}", shape="plaintext")
                graph.edge(f"c{k}", op, color="gray50")
                continue
            g = engine.sum_to(np.asarray(g), parent.shape)
            total[id(parent)] = total.get(id(parent), 0) + g
            target = f"t{tensors.index(parent)}"
            graph.edge(target, op, color="gray50")
            graph.edge(
                op,
                target,
                label=f" sends {float(g):g}",
                color="red",
                fontcolor="red",
                style="dashed",
                constraint="false",
            )
    for i, tensor in enumerate(tensors):
        style = (
            dict(style="filled,bold", fillcolor="gold")
            if tensor is loss
            else dict(style="filled", fillcolor="lightblue")
            if tensor is a
            else {}
        )
        graph.node(
            f"t{i}",
            f"{names[id(tensor)]} = {float(tensor.data):g}\ngrad {float(total[id(tensor)]):g}",
            shape="ellipse",
            **style,
        )
    return graph


def data_parallel_graph():
    """docs/distributed.md's figure: one DistributedDataParallel step of the digits LeNet on two
    ranks, each gradient feeding the all-reduce of its bucket. The buckets are plan_buckets'
    for a 4 KiB cap (at the default 25 MiB the whole LeNet is one bucket)."""
    import graphviz

    from tinygrad_cnn.distributed import plan_buckets

    tc.manual_seed(0)
    named = list(lenet().named_parameters())
    shapes = {name: p.shape for name, p in named}
    buckets = plan_buckets(named, cap_bytes=4096)
    graph = graphviz.Digraph(
        graph_attr=dict(
            rankdir="LR", ordering="out", fontname="Helvetica", nodesep="0.15", ranksep="0.5"
        ),
        node_attr=dict(fontname="Helvetica", fontsize="11"),
        edge_attr=dict(arrowsize="0.7"),
    )
    box = dict(shape="box", style="rounded,filled", fillcolor="#e0e0e0")
    for r in range(2):
        with graph.subgraph(name=f"cluster_rank{r}") as rank:
            rank.attr(label=f"rank {r}", style="rounded,dashed", color="gray50", labeljust="l")
            rank.node(f"shard{r}", f"its 16 of the 32 images\n(rows {r}, {r + 2}, {r + 4}, ...)")
            rank.node(f"pass{r}", "forward and backward\non this rank alone", **box)
            rank.edge(f"shard{r}", f"pass{r}")
            for name in (n for names in buckets for n in names):  # as the buckets take them
                grad = f"grad{r}_{name}"
                rank.node(grad, f"{name}.grad\n{shapes[name]}", fontsize="10")
                rank.edge(f"pass{r}", grad)
        graph.node(
            f"step{r}",
            f"rank {r}: optimizer.step()\nthe mean gradient: the same new weights",
            **box,
        )
    for k, names in enumerate(buckets):
        floats = sum(int(np.prod(shapes[n])) for n in names)
        graph.node(
            f"bucket{k}",
            f"all_reduce(mean), bucket {k}\n{floats} floats: {', '.join(names)}",
            shape="box",
            style="filled,bold",
            fillcolor="#ffd8a8",
        )
        for r in range(2):
            for name in names:
                graph.edge(f"grad{r}_{name}", f"bucket{k}", color="#c05000")
            graph.edge(f"bucket{k}", f"step{r}", color="#c05000")
    return graph


MODEL_GRAPHS = {  # docs/models.md shows these
    "model_lenet5": model_graph(models.lenet5, (1, 1, 32, 32)),
    "model_resnet8": model_graph(models.resnet8, (1, 3, 32, 32)),
    "model_resnet_block": model_graph(lambda: models.resnet8().layer2[0], (1, 16, 32, 32)),
    "model_unet": model_graph(lambda: models.UNet(width=8), (1, 1, 32, 32)),
    "model_generator": model_graph(lambda: models.Generator(32, 1, 32, 8), (1, 32), 2),
    "model_discriminator": model_graph(lambda: models.Discriminator(1, 32, 8), (1, 1, 8, 8), 2),
}
GRAPHS = {
    "lenet_graph": lenet_step_graph,
    "lenet_step": lenet_step_collapsed_graph,
    "graph_legend": legend_graph,
    "conv_pool_graph": conv_pool_graph,
    "autograd_walk": autograd_walk_graph,
    "data_parallel": data_parallel_graph,
    **MODEL_GRAPHS,
}

if __name__ == "__main__":
    for name, build in GRAPHS.items():
        graph = build()
        (IMAGES / f"{name}.dot").write_text(graph.source)
        (IMAGES / f"{name}.svg").write_bytes(graph.pipe(format="svg"))
        print(f"wrote {IMAGES / name}.dot and .svg")
