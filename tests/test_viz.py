"""Graph drawing: structure of the DOT text, module clusters, collapsing, rendering with dot."""

import re
import shutil

import numpy as np
import pytest

graphviz = pytest.importorskip("graphviz", reason="the graphviz Python package is not installed")

import tinygrad_cnn as tc  # noqa: E402
from tinygrad_cnn import Tensor, nn  # noqa: E402
from tinygrad_cnn.cli import main  # noqa: E402
from tinygrad_cnn.models import lenet  # noqa: E402

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz's dot is not installed (apt-get install graphviz)"
)


def nodes(source):
    """{node id: label} of every node in DOT text."""
    return dict(
        re.findall(
            r'^\s+([tom]\d+) \[label="?(.*?)"? (?:fillcolor|fontsize|shape)',
            source,
            flags=re.M | re.S,
        )
    )


def edges(source):
    return re.findall(r"^\s+([tom]\d+) -> ([tom]\d+)", source, flags=re.M)


def op_names(source):
    return [label.split("\n")[0] for key, label in nodes(source).items() if key.startswith("o")]


def test_small_graph_counts():
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    y = (a * b).sum()
    source = tc.draw_graph(y).source
    assert len([k for k in nodes(source) if k.startswith("t")]) == 4  # a, b, a*b, y
    assert sorted(op_names(source)) == ["mul", "sum"]
    assert len(edges(source)) == 5  # a->mul, b->mul, mul->a*b, a*b->sum, sum->y


def test_tensor_nodes_show_shape_dtype_and_role():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    y = (x * 2.0).sum()
    labels = list(nodes(tc.draw_graph(y, labels={x: "my x"}).source).values())
    assert "my x\n(2, 3) float32" in labels
    assert "output\n() float32" in labels
    assert "2.0" in labels  # the constant


def conv_chain(source, cluster_label):
    """Op names inside the cluster labelled ``cluster_label``, in edge order."""
    block = source.split(f'label="{cluster_label}"')[1].split("}")[0]
    inside = [k for k in re.findall(r"^\s+(o\d+) \[", block, flags=re.M)]
    labels = nodes(source)
    producer_of = {b: a for a, b in edges(source) if a.startswith("o")}
    consumers = {}
    for a, b in edges(source):
        consumers.setdefault(a, []).append(b)
    order, current = [], next(o for o in inside if labels[o].startswith("im2col"))
    while current in inside:
        order.append(labels[current].split("\n")[0])
        out = consumers[current][0]
        current = next((o for o in consumers.get(out, []) if o in inside), None)
    assert producer_of  # edges were parsed
    return order


def test_conv2d_shows_its_ops_in_order_inside_its_cluster():
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.MaxPool2d(2))
    with tc.trace():
        y = model(Tensor(np.ones((1, 1, 4, 4))))
    source = tc.draw_graph(y).source
    assert conv_chain(source, "0: Conv2d(1, 2, kernel_size=3, padding=1)") == [
        "im2col",
        "matmul",
        "bias_add",
        "reshape",
        "transpose",
    ]
    assert conv_chain(source, "1: MaxPool2d(kernel_size=2)") == [
        "im2col",
        "window_max",
        "reshape",
        "transpose",
    ]
    assert "0.weight\n(2, 1, 3, 3) float32" in nodes(source).values()
    assert "kernel_size=(3, 3)" in source and "stride=(1, 1)" in source


def test_plain_training_records_only_what_backward_needs():
    model = lenet()
    x = Tensor(np.ones((2, 1, 8, 8)))
    plain = op_names(tc.draw_graph(model(x)).source)
    with tc.trace():
        traced = op_names(tc.draw_graph(model(x)).source)
    # not the first conv's on the image
    assert plain.count("im2col") == 3 and traced.count("im2col") == 4


def test_multiple_outputs():
    x = Tensor([1.0, 2.0], requires_grad=True)
    source = tc.draw_graph(x.exp(), x.relu()).source
    assert sorted(op_names(source)) == ["exp", "relu"]
    assert list(nodes(source).values()).count("output\n(2,) float32") == 2


def test_collapse_reduces_nodes_and_labels_modules():
    model = lenet()
    with tc.trace():
        y = model(Tensor(np.ones((2, 1, 8, 8))))
    full, collapsed = tc.draw_graph(y).source, tc.draw_graph(y, collapse=1).source
    assert len(nodes(collapsed)) < len(nodes(full)) / 3
    assert (
        'label="0: Conv2d(1, 8, kernel_size=3, padding=1)" fillcolor="#f5deb3" shape=box3d'
        in collapsed
    )
    one = tc.draw_graph(y, collapse=["3"]).source
    assert "3: Conv2d(8, 16, kernel_size=3, padding=1)" in one and "im2col" in one
    assert len(nodes(collapsed)) < len(nodes(one)) < len(nodes(full))


def test_show_grad_and_saved():
    model = nn.Linear(3, 2)
    y = model(Tensor(np.ones((4, 3)))).sum()
    saved = tc.draw_graph(y, show_saved=True).source
    assert "saved (4, 3) float32 48 B" in saved
    y.backward()
    after = tc.draw_graph(y, show_grad=True, show_saved=True).source
    assert "grad (2, 3) |g|=" in after and "saved: released" in after


def test_large_graph_builds_without_recursion():
    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    with pytest.warns(UserWarning, match="exceed max_nodes=1500, and no module ran these ops"):
        source = tc.draw_graph(y).source
    assert len(op_names(source)) == 10_000


def test_auto_collapse_past_the_node_limit():
    model = lenet()
    with tc.trace():
        y = model(Tensor(np.ones((2, 1, 8, 8))))
    with pytest.warns(
        UserWarning,
        match=r"exceed max_nodes=20; modules at depth 1 and below drawn as single nodes",
    ):
        source = tc.draw_graph(y, max_nodes=20).source
    assert "shape=box3d" in source and "exceed max_nodes=20" in source


def test_argument_errors():
    with pytest.raises(TypeError, match="draw_graph: output 0 must be a Tensor, got ndarray"):
        tc.draw_graph(np.ones(2))
    with pytest.raises(ValueError, match="draw_graph: rankdir must be"):
        tc.draw_graph(Tensor([1.0], requires_grad=True) * 2.0, rankdir="XY")


def test_user_op_appears_by_name(clean_registry):
    class Twice(tc.Function):
        @staticmethod
        def forward(ctx, x):
            return 2 * x

        @staticmethod
        def backward(ctx, grad):
            return 2 * grad

    assert "twice" in tc.list_ops()
    assert "twice" in op_names(tc.draw_graph(Twice.apply(Tensor([1.0], requires_grad=True))).source)


@needs_dot
@pytest.mark.parametrize("fmt,magic", [("svg", b"<svg"), ("png", b"\x89PNG"), ("pdf", b"%PDF")])
def test_render_writes_files(tmp_path, fmt, magic):
    model = lenet()
    with tc.trace():
        y = model(Tensor(np.ones((2, 1, 8, 8))))
    path = tc.render_graph(y, tmp_path / f"g.{fmt}", rankdir="LR")
    data = open(path, "rb").read()
    assert magic in data[:400] and len(data) > 5000
    if fmt == "svg":
        assert b"im2col" in data and b"window_max" in data


def test_missing_dot_is_explained(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(
        RuntimeError, match=r"`dot` program was not found on PATH.*apt-get install graphviz"
    ):
        tc.render_graph(Tensor([1.0], requires_grad=True) * 2.0, tmp_path / "g.svg")


def test_cli_graph_of_a_user_model(tmp_path, capsys):
    factory = tmp_path / "mymodel.py"
    factory.write_text(
        "from tinygrad_cnn import nn\ndef build():\n"
        "    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(4 * 4 * 4, 5))\n"
    )
    out = tmp_path / "g.dot"
    assert (
        main(
            ["graph", "--model", f"{factory}:build", "--input-shape", "2,3,6,6", "--out", str(out)]
        )
        == 0
    )
    source = out.read_text()
    assert "0: Conv2d(3, 4, kernel_size=3)" in source and "grad (4, 3, 3, 3)" in source


def test_cli_graph_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["graph", "--model", "missing.py:build"])
    assert exit_info.value.code == 2
    assert (
        capsys.readouterr().err.strip()
        == "python -m tinygrad_cnn graph: error: --model: no such file 'missing.py'"
    )


@pytest.mark.parametrize(
    "name",
    [
        "lenet_graph",
        "lenet_step",
        "graph_legend",
        "conv_pool_graph",
        "autograd_walk",
        "model_lenet5",
        "model_resnet8",
        "model_resnet_block",
        "model_unet",
        "model_generator",
        "model_discriminator",
    ],
)
def test_docs_graph_is_current(name):
    """docs/images/NAME.dot was produced by tools/render_docs_graphs.py from this code."""
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location(
        "render_docs_graphs", root / "tools" / "render_docs_graphs.py"
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.GRAPHS[name]().source == (root / "docs" / "images" / f"{name}.dot").read_text()


def test_memory_report_lists_saved_arrays_largest_first():
    model = lenet(width=4)
    loss = tc.functional.cross_entropy(model(Tensor(np.ones((8, 1, 8, 8)))), np.arange(8) % 10)
    report = tc.memory_report(loss, top=3)
    lines = report.splitlines()
    assert lines[0].split()[:3] == ["op", "#", "shape"] and len(lines) == 6
    # the largest are the two convolutions' im2col columns, which matmul keeps for the
    # weight's gradient
    assert {line.split()[2] + line.split()[3] for line in lines[1:3]} == {"(512,9)", "(128,36)"}
    assert re.match(r"total: [0-9.]+ KiB in \d+ arrays saved by \d+ ops", lines[-1])
    loss.backward()
    assert tc.memory_report(loss).splitlines()[-1].startswith("total: 0 B in 0 arrays")


def test_collapsed_modules_in_a_module_list_are_named_by_their_path_and_keep_their_constants():
    class Quarter(nn.Module):
        def forward(self, x):
            return x * 0.25  # inside a collapsed block: part of its box

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList(
                [nn.Sequential(nn.Linear(3, 3), Quarter()) for _ in range(2)]
            )

        def forward(self, x):
            for block in self.blocks:
                x = block(x) * 0.5  # Net's own op: its constant is drawn
            return x

    model = Net()
    source = tc.draw_graph(model(Tensor(np.ones((2, 3)))), model=model, collapse=1).source
    assert "blocks.0: Sequential" in source and "blocks.1: Sequential" in source
    assert source.count("label=0.5") == 2 and "0.25" not in source


@pytest.mark.parametrize("name", ["im2col_windows", "col2im_slabs", "memory_order"])
def test_docs_figure_is_current(name, tmp_path):
    """docs/images/NAME.json holds the numbers tools/render_docs_figures.py computes with the ops
    today, and NAME.png is drawn from them (drawn again here, as PNG bytes vary with matplotlib)."""
    import importlib.util
    from pathlib import Path

    pytest.importorskip("matplotlib")
    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location(
        "render_docs_figures", root / "tools" / "render_docs_figures.py"
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    make, _ = tool.FIGURES[name]
    assert tool.as_json(make()) == (root / "docs" / "images" / f"{name}.json").read_text()
    assert (root / "docs" / "images" / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    tool.render(name, tmp_path / f"{name}.png")
    assert (tmp_path / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
