"""The explorer's page data: every node and edge of the graph, statistics as numpy computes
them, gradients as tc.grad gives them, the module tree, and the engine's backward order."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from helpers import load_tool

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, models
from tinygrad_cnn.explorer import explore, graph_data
from tinygrad_cnn.explorer.data import HISTOGRAM_BINS, array_stats
from tinygrad_cnn.recorded import collect

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = load_tool("render_explorer_screenshots")
page_data = SCREENSHOTS.page_data  # the graph data embedded in a page


def lenet_step(backward=False):
    """A LeNet training step recorded under trace: (loss, model)."""
    model = models.lenet()
    images = Tensor(np.random.default_rng(0).random((2, 1, 8, 8), dtype=np.float32))
    with tc.trace():
        loss = F.cross_entropy(model(images), np.array([3, 7]))
    if backward:
        loss.backward()
    return loss, model


def reachable(output):
    """Tensors and op nodes behind ``output``, found by walking ``_ctx.parents`` here."""
    tensors, nodes, stack = {}, {}, [output]
    while stack:
        t = stack.pop()
        if id(t) in tensors:
            continue
        tensors[id(t)] = t
        if t._ctx is not None:
            nodes[id(t._ctx)] = t._ctx
            stack.extend(t._ctx.parents)
    return tensors, nodes


def engine_visits(loss):
    """Op nodes in the order an actual backward applies their rules: a hook on a tensor runs
    just before the engine applies the rule of the op that made it."""
    visited = []
    for t in reachable(loss)[0].values():
        if t._ctx is not None and t.requires_grad:
            t.register_hook(lambda g, node=t._ctx: visited.append(node))
    loss.backward(retain_graph=True)
    return visited


def expected_stats(array):
    a = np.asarray(array, dtype=np.float64).ravel()
    finite = a[np.isfinite(a)]
    counts, edges = np.histogram(finite, bins=HISTOGRAM_BINS)
    return {
        "size": a.size,
        "zeros": np.mean(a == 0),
        "nan": np.isnan(a).sum(),
        "inf": np.isinf(a).sum(),
        "min": finite.min(),
        "max": finite.max(),
        "mean": finite.mean(),
        "std": finite.std(),
        "norm": np.sqrt((finite**2).sum()),
        "hist": counts.tolist(),
        "hist_range": [edges[0], edges[-1]],
    }


def assert_stats(stats, array):
    want = expected_stats(array)
    assert set(stats) == set(want)
    for key, value in want.items():
        np.testing.assert_allclose(stats[key], value, rtol=1e-9, atol=1e-12, err_msg=key)


def test_every_tensor_op_and_edge_of_the_graph_is_there():
    loss, model = lenet_step()
    data = graph_data(loss, model=model)
    tensors, nodes = reachable(loss)
    assert len(data["tensors"]) == len(tensors) == 39 and len(data["ops"]) == len(nodes) == 32
    recorded = collect([loss])  # ids number the tensors and ops in collect's order
    for entry, t in zip(data["tensors"], recorded.tensors):
        assert entry["shape"] == list(t.shape) and entry["dtype"] == str(t.dtype)
        assert entry["bytes"] == t.data.nbytes
    for entry, op in zip(data["ops"], recorded.ops):
        assert entry["op"] == op.name
        inputs = [recorded.tensors[int(i[1:])] for i in entry["inputs"]]
        assert all(a is b for a, b in zip(inputs, op.parents)) and len(inputs) == len(op.parents)
        assert recorded.tensors[int(entry["output"][1:])]._ctx is op
    edges = {tuple(e) for e in data["edges"]}
    assert len(edges) == len(data["edges"]) == sum(len(op.parents) for op in nodes.values()) + 32
    for entry in data["ops"]:
        assert {(t, entry["id"]) for t in entry["inputs"]} | {
            (entry["id"], entry["output"])
        } <= edges
    kinds = {t["kind"] for t in data["tensors"]}
    assert kinds == {"input", "parameter", "intermediate", "output"}
    assert data["outputs"] == [data["tensors"][-1]["id"]]
    params = {t["name"]: t for t in data["tensors"] if t["kind"] == "parameter"}
    assert set(params) == {name for name, _ in model.named_parameters()}
    im2col = next(o for o in data["ops"] if o["op"] == "im2col")
    assert im2col["attrs"]["kernel_size"] == "(3, 3)" and im2col["kind"] == "window"


def test_value_statistics_are_numpys_on_the_arrays():
    loss, model = lenet_step()
    data = graph_data(loss, model=model)
    for entry, t in zip(data["tensors"], collect([loss]).tensors):
        assert_stats(entry["value"], t.data)


def test_statistics_count_nan_inf_and_zeros_apart():
    stats = array_stats(np.array([0.0, 1.0, np.nan, np.inf, -np.inf, 2.0, 0.0]))
    assert (stats["nan"], stats["inf"], stats["size"]) == (1, 2, 7)
    assert stats["zeros"] == pytest.approx(2 / 7)
    assert (stats["min"], stats["max"], stats["mean"]) == (0.0, 2.0, 0.75)
    assert sum(stats["hist"]) == 4 and len(stats["hist"]) == HISTOGRAM_BINS
    only_nan = array_stats(np.full(3, np.nan))
    assert only_nan["nan"] == 3 and "min" not in only_nan and "hist" not in only_nan
    assert array_stats(np.zeros((0, 3))) is None
    assert array_stats(np.arange(5))["mean"] == 2.0  # integers too
    assert array_stats(np.array(["a"])) is None


def test_statistics_of_values_near_the_float64_limits():
    big = array_stats(np.array([1.5e308, -1.5e308]))  # numpy's histogram of these raises
    assert (big["min"], big["max"], big["mean"], big["std"]) == (-1.5e308, 1.5e308, 0.0, 1.5e308)
    assert big["norm"] is None  # sqrt(2) * 1.5e308 is beyond float64; JSON has no infinity
    assert big["hist"] == [1] + [0] * (HISTOGRAM_BINS - 2) + [1]
    assert big["hist_range"] == [-1.5e308, 1.5e308]
    for a in (1e200, 1e-200):  # squares overflow or vanish; the statistics do not
        stats = array_stats(np.array([a, -a, a, -a]))
        assert stats["mean"] == 0.0 and stats["std"] == a
        assert stats["norm"] == pytest.approx(2 * a, rel=1e-15)
    constant = array_stats(np.full(3, 1e300))
    assert constant["mean"] == 1e300 and constant["std"] == 0.0 and sum(constant["hist"]) == 3


def test_a_page_of_values_near_the_float64_limit_is_written(tmp_path):
    x = Tensor(np.array([1e308, 1.7e308]), requires_grad=True, dtype=np.float64)
    with np.errstate(over="ignore"):
        y = (x * 1.0).sum()  # inf: the sum is beyond float64
    page = explore(y, tmp_path / "g.html")
    data = page_data(page.path)
    leaf = next(t for t in data["tensors"] if t["kind"] == "leaf")
    assert leaf["value"]["norm"] is None and leaf["value"]["max"] == 1.7e308
    assert data["tensors"][-1]["value"] == {"size": 1, "zeros": 0.0, "nan": 0, "inf": 1}


def test_gradient_statistics_are_tc_grads_and_no_grad_changes():
    loss, model = lenet_step()
    data = graph_data(loss, model=model)
    assert all(p.grad is None for p in model.parameters())  # the page's pass left .grad alone
    tensors = collect([loss]).tensors
    wanted = [t for t in tensors if t.requires_grad]
    grads = tc.grad(loss, wanted, retain_graph=True)
    by_tensor = {id(t): g for t, g in zip(wanted, grads)}
    checked = 0
    for entry, t in zip(data["tensors"], tensors):
        if id(t) in by_tensor:
            assert_stats(entry["grad"], by_tensor[id(t)].data)
            checked += 1
        else:
            assert entry["grad"] is None
    assert checked == len(wanted) == 37  # all but the images and their im2col
    loss.backward()  # the graph is still there, and .grad agrees with the page
    for name, p in model.named_parameters():
        entry = next(t for t in data["tensors"] if t["name"] == name)
        assert entry["grad"]["norm"] == pytest.approx(float(np.linalg.norm(p.grad.data)), rel=1e-6)


def test_module_tree_names_modules_as_draw_graph():
    loss, model = lenet_step()
    data = graph_data(loss, model=model)
    modules = {m["id"]: m for m in data["modules"]}
    root = next(m for m in data["modules"] if m["parent"] is None)
    assert (root["path"], root["type"]) == ("", "Sequential")
    children = [modules[c] for c in root["children"]]
    assert [(m["path"], m["type"]) for m in children] == [
        (name, type(child).__name__) for name, child in model.named_children()
    ]
    assert all(modules[c]["parent"] == root["id"] for c in root["children"])
    assert children[0]["repr"] == repr(model[0])
    by_path = {m["path"]: m["id"] for m in data["modules"]}
    conv_ops = [o["op"] for o in data["ops"] if o["module"] == by_path["0"]]
    assert sorted(conv_ops) == sorted(
        ["transpose", "reshape", "im2col", "matmul", "bias_add", "reshape", "transpose"]
    )
    loss_ops = [o["op"] for o in data["ops"] if o["module"] is None]
    assert loss_ops == ["log_softmax", "getitem", "neg", "mean"]
    weight = next(t for t in data["tensors"] if t["name"] == "0.weight")
    assert weight["module"] == by_path["0"]


def test_backward_order_is_the_engines():
    loss, model = lenet_step()
    data = graph_data(loss, model=model)
    recorded = collect([loss])
    order = [recorded.ops[int(o[1:])] for o in data["backward_order"]]
    visits = engine_visits(loss)
    assert len(order) == len(visits) == 31  # every op but the im2col on the images
    assert all(a is b for a, b in zip(order, visits))


def test_backward_order_matches_the_profilers():
    loss, model = lenet_step()
    with tc.profile() as prof:
        loss.backward(retain_graph=True)
    data = graph_data(loss, model=model, profile=prof)
    recorded = collect([loss])
    (applied,) = prof.backward_order
    assert [prof.node_record(recorded.ops[int(o[1:])]) for o in data["backward_order"]] == applied


def test_times_and_saved_bytes_come_from_the_profile():
    tc.manual_seed(0)
    model = models.lenet()
    images = Tensor(np.random.default_rng(0).random((2, 1, 8, 8), dtype=np.float32))
    with tc.profile() as prof:
        with tc.trace():
            loss = F.cross_entropy(model(images), np.array([3, 7]))
        loss.backward(retain_graph=True)
    data = graph_data(loss, model=model, profile=prof)
    assert data["profiled"]
    for entry, op in zip(data["ops"], collect([loss]).ops):
        record = prof.node_record(op)
        assert entry["forward_s"] == record.forward_s and entry["backward_s"] == record.backward_s
        assert entry["saved_bytes"] == record.saved_bytes
        assert entry["saved_bytes"] == sum(a["bytes"] for a in entry["saved"])
    matmul = next(o for o in data["ops"] if o["op"] == "matmul")
    assert matmul["saved_bytes"] > 0 and matmul["backward_s"] > 0
    without = graph_data(loss, model=model)
    assert not without["profiled"] and all(o["forward_s"] is None for o in without["ops"])


def test_after_a_plain_backward_the_page_shows_what_is_left():
    loss, model = lenet_step(backward=True)
    data = graph_data(loss, model=model)
    released = [t for t in data["tensors"] if t["released"]]
    assert released and all(t["value"] is None for t in released)
    for name, p in model.named_parameters():  # leaves kept their .grad
        entry = next(t for t in data["tensors"] if t["name"] == name)
        assert_stats(entry["grad"], p.grad.data)
    held, _ = lenet_step()
    assert data["released"] and not graph_data(held, model=model)["released"]
    assert data["backward_order"] == graph_data(held, model=model)["backward_order"]


def test_non_scalar_output_differentiates_its_sum():
    values = np.array([[1.0, -2.0], [3.0, 0.0]])
    x = Tensor(values, requires_grad=True)
    y = (x * x).relu()
    data = graph_data(y)
    assert_stats(data["tensors"][0]["grad"], 2 * values)  # d sum(relu(x^2)) / dx, by hand
    assert data["tensors"][0]["grad"]["zeros"] == 0.25
    assert [data["ops"][int(o[1:])]["op"] for o in data["backward_order"]] == ["relu", "mul"]


def test_a_graph_partly_released_by_another_backward_is_refused():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = x.exp()
    first, second = h.sum(), (h * h).sum()
    first.backward()  # releases exp, which second also goes through
    with pytest.raises(ValueError, match="explore: part of the graph behind output was released"):
        graph_data(second)
    data = graph_data(first)  # the graph first.backward() released: its leaves' .grad
    assert_stats(data["tensors"][0]["grad"], np.exp(np.array([1.0, 2.0], dtype=np.float32)))


def test_text_in_the_data_cannot_end_or_hide_the_end_of_its_script(tmp_path):
    class Odd(tc.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = tc.nn.Linear(2, 2)

        def forward(self, x):
            return self.inner(x)

        def __repr__(self):
            return """Odd("</script>" & '<!--<script>')"""

    model = Odd()
    x = Tensor(np.ones((1, 2), dtype=np.float32))
    x.name = "<!--<script>"  # "<!--" then "<script" hides the real "</script>" from the parser
    loss = model(x).sum()
    page = explore(loss, tmp_path / "g.html", model=model, title="<b>odd</b>")
    assert "<!--" not in page.html and page.html.count("<script") == 2  # the data and the code
    assert (
        page.html.count("</script>") == 2 and "<title>&lt;b&gt;odd&lt;/b&gt;</title>" in page.html
    )
    data = page_data(page.path)
    assert data == json.loads(json.dumps(graph_data(loss, model=model)))
    assert data["modules"][0]["repr"] == repr(model) and "<!--<script>" in [
        t["name"] for t in data["tensors"]
    ]


def test_page_is_one_offline_file_with_the_data(tmp_path):
    loss, model = lenet_step()
    loss.name = "</script><b>loss</b>"  # must not end the data's script element
    page = explore(loss, tmp_path / "g.html", model=model)
    text = (tmp_path / "g.html").read_text()
    assert page.path == str(tmp_path / "g.html") and text == page.html
    assert not re.search(r"<script[^>]+src=|<link|https?://(?!www\.w3\.org)", text)
    assert page_data(page.path) == json.loads(json.dumps(graph_data(loss, model=model)))
    assert "function layeredLayout" in text and ".node" in text  # script and styles inlined
    inline = page._repr_html_()
    assert inline.startswith("<iframe srcdoc=") and "&lt;script" in inline


def test_explore_errors(tmp_path):
    with pytest.raises(TypeError, match="explore: output must be a Tensor, got ndarray"):
        explore(np.zeros(2), tmp_path / "g.html")
    loss, _ = lenet_step()
    with tc.profile() as prof, pytest.raises(ValueError, match="after the `with tc.profile"):
        explore(loss, tmp_path / "g.html", profile=prof)


@pytest.mark.parametrize("name", ["explorer_lenet", "explorer_gradients", "explorer_backward"])
def test_docs_screenshot_shows_todays_graph(name, tmp_path):
    """docs/images/NAME.json, written with NAME.png by tools/render_explorer_screenshots.py,
    describes the graph the code builds today (tests/test_explorer_browser.py compares the
    boxes on screen)."""
    build, actions = SCREENSHOTS.SCENES[name]
    build(tmp_path / "page.html")
    saved = json.loads((ROOT / "docs" / "images" / f"{name}.json").read_text())
    assert saved["structure"] == SCREENSHOTS.structure(page_data(tmp_path / "page.html"))
    assert saved["actions"] == [list(a) for a in actions] and saved["page"] == build.__name__
    assert (ROOT / "docs" / "images" / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_graph_html_writes_the_explorer(tmp_path, capsys):
    from tinygrad_cnn.cli import main

    assert main(["graph", "--html", "--width", "4", "--out", str(tmp_path / "step.svg")]) == 0
    path = tmp_path / "step.html"
    assert capsys.readouterr().out.strip() == str(path)
    data = page_data(path)
    assert data["profiled"] and len(data["ops"]) == 32
    assert all(o["forward_s"] is not None for o in data["ops"])


def test_cli_train_links_the_explorer_from_the_report(tmp_path):
    pytest.importorskip("matplotlib")
    from tinygrad_cnn.cli import main

    out = tmp_path / "run"
    argv = ["train", "--epochs", "1", "--width", "2", "--quiet", "--out", str(out)]
    assert main(argv) == 0
    assert (out / "explorer.html").read_text().startswith("<!DOCTYPE html>")
    assert '<a id="explorer" href="explorer.html">' in (out / "index.html").read_text()
