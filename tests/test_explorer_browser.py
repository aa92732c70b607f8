"""The explorer page in a real headless Chromium (Debian's, driven by Playwright): boxes,
opening a module, the node panel, colour modes, search, the backward stepper, no console
errors, and a readable first view. Screenshots go to each test's tmp_path."""

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import load_tool

pytest.importorskip("playwright", reason="playwright is not installed (pip install playwright)")

ROOT = Path(__file__).resolve().parents[1]
driver = load_tool("render_explorer_screenshots")  # the Playwright driver of the docs' screenshots

if driver.chromium_path() is None:
    pytest.skip("no system Chromium (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

import tinygrad_cnn as tc  # noqa: E402
from tinygrad_cnn.explorer import explore  # noqa: E402
from tinygrad_cnn.recorded import collect  # noqa: E402

CONV_CHAIN = ["im2col", "matmul", "bias_add", "reshape", "transpose"]
MIN_BOX_HEIGHT = 20  # pixels of a node box in the first view: its text is readable


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = driver.launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def lenet(tmp_path_factory):
    path = tmp_path_factory.mktemp("explorer") / "lenet.html"
    page, loss, model, prof = driver.lenet_step(path)
    return path, page, loss, model, prof


@pytest.fixture
def page(browser, lenet, tmp_path):
    """The LeNet page, open; at the end, a screenshot and the check that nothing was logged as
    an error."""
    opened = driver.open_page(browser, lenet[0])
    yield opened
    opened.screenshot(path=str(tmp_path / "final.png"))
    assert opened.errors == []
    opened.close()


page_data = driver.page_data


def boxes(page):
    return page.eval_on_selector_all(".node", "nodes => nodes.map(n => n.dataset.id)")


def fills(page):
    return page.eval_on_selector_all(
        ".node rect.body", "rects => rects.map(r => r.getAttribute('fill'))"
    )


def module_id(data, path):
    return next(m["id"] for m in data["modules"] if m["path"] == path)


def test_opens_with_each_layer_one_box(page, lenet):
    model = lenet[3]
    data = page_data(lenet[0])
    layers = [name for name, _ in model.named_children()]
    loss_ops = ["log_softmax", "getitem", "neg", "mean"]  # cross_entropy, outside modules
    assert len(boxes(page)) == len(layers) + len(loss_ops) + 1 == 13  # and the images
    shown = page.eval_on_selector_all(".node.module", "n => n.map(m => m.dataset.path)")
    assert shown == layers
    outside = page.eval_on_selector_all(".node.op", "n => n.map(m => m.dataset.op)")
    assert sorted(outside) == sorted(loss_ops)
    assert page.locator(f"#frame-{module_id(data, '')}").count() == 1  # the Sequential, open


def test_clicking_conv2d_shows_its_im2col_chain(page, lenet, tmp_path):
    data = page_data(lenet[0])
    conv = module_id(data, "0")
    page.click('.node.module[data-path="0"]')
    assert page.locator(f"#frame-{conv}").count() == 1
    inside = page.eval_on_selector_all(
        '.node.op[data-path="0"]', "n => n.map(m => [m.dataset.id, m.dataset.op])"
    )
    assert sorted(op for _, op in inside) == sorted(CONV_CHAIN + ["transpose", "reshape"])
    edges = set(
        map(
            tuple,
            page.eval_on_selector_all(".edge", "e => e.map(x => [x.dataset.src, x.dataset.dst])"),
        )
    )
    ops = {o["id"]: o for o in data["ops"]}
    chain = [next(i for i, op in inside if op == "im2col")]
    while len(chain) < len(CONV_CHAIN):  # follow the edges down from im2col
        chain.append(next(d for s, d in edges if s == chain[-1] and d in ops))
    assert [ops[o]["op"] for o in chain] == CONV_CHAIN
    page.screenshot(path=str(tmp_path / "conv_open.png"))
    page.click(f"#frame-{conv} .frame-title")
    assert len(boxes(page)) == 13 and page.locator(f"#frame-{conv}").count() == 0


def test_clicking_a_node_shows_its_shapes_in_the_panel(page, lenet):
    data = page_data(lenet[0])
    log_softmax = next(o for o in data["ops"] if o["op"] == "log_softmax")
    page.click(f"#node-{log_softmax['id']}")
    panel = page.inner_text("#panel")
    assert page.inner_text("#panel .output .shape") == "(2, 10)"
    assert "log_softmax" in panel and "axis" in panel and "(2, 10) float32" in panel
    assert page.locator("#panel table[data-stats=value]").count() == 1
    assert page.locator("#panel table[data-stats=grad]").count() == 1
    assert page.locator("#panel svg.hist").count() == 2  # value and gradient histograms
    value = next(t for t in data["tensors"] if t["id"] == log_softmax["output"])["value"]
    assert f"{value['min']:.4g}" in panel


def test_colour_modes_change_the_fills(page, tmp_path):
    seen = {}
    for mode in ["kind", "forward", "backward", "memory", "grad"]:
        page.select_option("#colour-mode", mode)
        seen[mode] = fills(page)
        assert page.get_attribute("body", "data-mode") == mode
        page.screenshot(path=str(tmp_path / f"colour_{mode}.png"))
    assert len({tuple(f) for f in seen.values()}) == 5
    assert "gradient norm" in page.inner_text("#legend")
    assert len(set(seen["grad"])) > 3  # a heat map, not one colour


def test_search_highlights_matches(page, lenet):
    page.fill("#search", "matmul")
    lit = page.eval_on_selector_all(".node.match", "n => n.map(m => m.dataset.path)")
    assert sorted(lit) == ["0", "3", "7"]  # two Conv2d and the Linear hold a matmul
    assert page.inner_text("#search-count") == "3 found in 3 boxes"
    page.fill("#search", "7")  # a module path: the Linear's ops and parameters
    assert page.eval_on_selector_all(".node.match", "n => n.map(m => m.dataset.path)") == ["7"]
    assert page.inner_text("#search-count") == "5 found in 1 box"
    page.fill("#search", "")
    assert page.locator(".node.match").count() == 0 and page.locator(".node.dim").count() == 0


def test_backward_stepper_visits_nodes_in_the_engines_order(page, lenet, tmp_path):
    path, _, loss, _, prof = lenet
    data = page_data(path)
    recorded = collect([loss])
    (applied,) = prof.backward_order  # the records of the actual backward, in its order
    expected = [data["ops"][recorded.ops.index(r.node)]["id"] for r in applied]
    assert expected == data["backward_order"]
    page.click("#expand-all")
    visited = []
    for k in range(len(expected)):
        page.keyboard.press("n")
        visited.append(page.get_attribute("body", "data-step-op"))
        assert page.get_attribute(".node.step-current", "data-id") == visited[-1]
        assert page.locator(".node.step-current").count() == 1
        if k == 5:
            page.screenshot(path=str(tmp_path / "step.png"))
            assert page.locator(".edge.grad-flow").count() >= 1  # the gradient arriving
            assert "receives" in page.inner_text("#step-status")
    assert visited == expected
    page.keyboard.press("n")
    assert "backward done" in page.inner_text("#step-status")
    page.keyboard.press("Escape")
    assert page.locator(".step-current, .step-done").count() == 0


def test_stepper_lights_the_closed_module_holding_the_node(page, lenet):
    data = page_data(lenet[0])
    ops = {o["id"]: o for o in data["ops"]}
    for _ in range(5):  # mean, neg, getitem, log_softmax, then the Linear's bias_add
        page.keyboard.press("n")
    op = ops[page.get_attribute("body", "data-step-op")]
    assert op["op"] == "bias_add" and op["module"] == module_id(data, "7")
    assert page.get_attribute(".node.step-current", "data-path") == "7"


def test_stepper_labels_the_gradient_arriving(page, lenet):
    data = page_data(lenet[0])
    tensors = {t["id"]: t for t in data["tensors"]}
    for _ in range(4):  # mean, neg, getitem, then log_softmax
        page.keyboard.press("n")
    op = next(o for o in data["ops"] if o["id"] == page.get_attribute("body", "data-step-op"))
    norm = tensors[op["output"]]["grad"]["norm"]
    assert op["op"] == "log_softmax"
    assert page.text_content(".grad-badge") == f"∇ (2, 10) |g|={norm:.4g}"


def test_drag_pans_without_opening_the_box_under_it(page):
    before = page.get_attribute("#viewport", "transform")
    scale = page.get_attribute("body", "data-scale")
    box = page.locator('.node.module[data-path="0"]').bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 120, y + 80, steps=5)
    page.mouse.up()
    moved = page.locator('.node.module[data-path="0"]').bounding_box()
    assert (moved["x"] - box["x"], moved["y"] - box["y"]) == pytest.approx((-120, 80), abs=1)
    assert page.get_attribute("#viewport", "transform") != before
    assert page.get_attribute("body", "data-scale") == scale
    assert page.locator('.node.module[data-path="0"]').count() == 1  # still closed


def test_zoom_and_fit(page):
    scale = float(page.get_attribute("body", "data-scale"))
    page.mouse.move(400, 400)
    page.mouse.wheel(0, -300)
    assert float(page.get_attribute("body", "data-scale")) > scale
    page.click("#fit")
    box = page.locator("#viewport").bounding_box()
    canvas = page.locator("#canvas").bounding_box()
    assert box["height"] <= canvas["height"] and box["width"] <= canvas["width"]


def node_heights(page):
    """The height on screen of every box, in pixels (one call, however many boxes)."""
    return page.eval_on_selector_all(
        ".node rect.body", "rects => rects.map(r => r.getBoundingClientRect().height)"
    )


@pytest.mark.parametrize("step", ["lenet_step", "resnet_block_step"])
def test_first_view_is_readable(browser, step, tmp_path):
    getattr(driver, step)(tmp_path / "page.html")
    page = driver.open_page(browser, tmp_path / "page.html")
    assert min(node_heights(page)) >= MIN_BOX_HEIGHT
    page.screenshot(path=str(tmp_path / "first.png"))
    page.click("#expand-all")  # every op: the view starts at the top, still readable
    assert min(node_heights(page)) >= MIN_BOX_HEIGHT
    page.screenshot(path=str(tmp_path / "open.png"))
    assert page.errors == []
    page.close()


def loop_step(path, steps):
    """A recurrent loop without modules, h = tanh(h @ w) ``steps`` times: one weight read by
    every step, which gives the layout a long edge to each of them."""
    w = tc.Tensor(np.eye(4, dtype=np.float32) * 0.5, requires_grad=True)
    h = tc.Tensor(np.ones((1, 4), dtype=np.float32))
    for _ in range(steps):
        h = (h @ w).tanh()
    explore(h.sum(), path)


def scalar_chain(path, steps):
    """y = x * 1.0001 ``steps`` times: a chain with a constant beside every step."""
    y = tc.Tensor(np.ones(1, dtype=np.float32), requires_grad=True)
    for _ in range(steps):
        y = y * 1.0001
    explore(y.sum(), path)


@pytest.mark.parametrize("build", [loop_step, scalar_chain])
def test_a_long_graph_opens_as_one_column(browser, build, tmp_path):
    """1,200 or 1,500 ops: the page opens without errors, legible at the top, and the layout
    stays a few boxes wide (a weight read by every step of a loop once gave each step's edge
    its own column of dummies, stack overflows and a page thousands of pixels wide; a chain
    with a side input at every step leaned a little further at each step)."""
    build(tmp_path / "page.html", 600 if build is loop_step else 1500)
    page = driver.open_page(browser, tmp_path / "page.html")
    width = page.evaluate("explorer.view.placed.width")
    assert width < 400  # the widest layer: a step and its side input
    assert min(node_heights(page)) >= MIN_BOX_HEIGHT
    page.screenshot(path=str(tmp_path / "long.png"))
    assert page.errors == []
    page.close()


def test_hostile_text_shows_as_text(browser, tmp_path):
    x = tc.Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    x.name = '<!--<script></script><img src=x onerror="document.title=1">'
    explore((x * 2).sum(), tmp_path / "page.html", title="<i>odd</i>")
    page = driver.open_page(browser, tmp_path / "page.html")
    leaf = next(t for t in page_data(tmp_path / "page.html")["tensors"] if t["kind"] == "leaf")
    page.click(f"#node-{leaf['id']}")
    assert x.name in page.inner_text("#panel") and page.locator("#panel img").count() == 0
    assert page.title() == "<i>odd</i>" and page.errors == []
    page.close()


def test_after_a_plain_backward_the_panel_calls_gradients_dot_grad(browser, tmp_path):
    """A released graph shows the leaves' .grad, which the backward that released it filled
    (from whichever tensor it started), so the panel does not call it output's gradient."""
    x = tc.Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    h = x.exp()
    (h * 3).sum().backward()
    explore(h, tmp_path / "page.html")  # x.grad is 3 exp(x), not d sum(h) / dx = exp(x)
    page = driver.open_page(browser, tmp_path / "page.html")
    data = page_data(tmp_path / "page.html")
    page.click(f"#node-{data['tensors'][0]['id']}")
    assert ".grad left by backward" in page.inner_text("#panel").lower()
    assert page.locator("#panel table[data-stats=grad]").count() == 1
    page.click(f"#node-{data['ops'][0]['id']}")  # exp: no .grad kept on its output
    assert "only leaves keep one" in page.inner_text("#panel") and page.errors == []
    page.close()


@pytest.mark.parametrize("name", list(driver.SCENES))
def test_docs_screenshot_is_current(browser, name, tmp_path):
    """docs/images/NAME.json records the boxes the screenshot shows; the scene played again
    today shows the same ones (the PNG is taken again here, as its bytes vary with Chromium)."""
    record = driver.take(browser, name, tmp_path, tmp_path / f"{name}.png")
    saved = json.loads((ROOT / "docs" / "images" / f"{name}.json").read_text())
    assert record["errors"] == [] and record["boxes"] == saved["boxes"]
    assert (tmp_path / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_notebook_cell_shows_the_page_inline(browser, lenet):
    """What Jupyter shows for a returned explorer: the same page, in an iframe."""
    page = browser.new_page(viewport=driver.VIEWPORT)
    page.set_content(lenet[1]._repr_html_())
    inline = page.frame_locator("iframe")
    inline.locator("body[data-ready=true]").wait_for(timeout=20_000)
    assert inline.locator(".node").count() == 13
    page.close()
