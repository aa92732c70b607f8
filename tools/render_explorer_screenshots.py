"""Screenshots of the graph explorer for docs/graphs.md, taken in a real headless Chromium.

    python tools/render_explorer_screenshots.py

For each scene in SCENES it writes docs/images/NAME.png and NAME.json: the page it opened,
what it clicked and pressed, the boxes then on screen, and the structure of the graph (op
names, modules, backward order). tests/test_explorer.py checks that structure against the
code today, and tests/test_explorer_browser.py replays each scene and compares the boxes, so a
change to the graph or the page fails until the screenshots are taken again. (PNG bytes vary
with Chromium's version and fonts, so the PNGs themselves are not compared.)

The same functions drive the browser tests: Playwright drives the system's Chromium (Debian's
``chromium`` package) and downloads no browser of its own. Needs ``pip install playwright``
(in the dev extra).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import models
from tinygrad_cnn.explorer import explore

IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"

VIEWPORT = {"width": 1280, "height": 800}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]


def chromium_path() -> str | None:
    """The system Chromium (or Chrome) executable, or None."""
    names = ("chromium", "chromium-browser", "google-chrome")
    return next((shutil.which(name) for name in names if shutil.which(name)), None)


def launch(playwright):
    """A headless system Chromium under Playwright."""
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)


def open_page(browser, path: str | Path, viewport: dict | None = None):
    """Open an explorer page and wait until it has drawn; ``page.errors`` collects every
    console error and uncaught exception from then on."""
    page = browser.new_page(viewport=viewport or VIEWPORT)
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(Path(path).resolve().as_uri())
    page.wait_for_selector("body[data-ready=true]", timeout=20_000)
    return page


def lenet_step(path: str | Path) -> tuple:
    """The page of one LeNet training step (the digits CNN, a batch of 2, every op recorded,
    profiled, backward run keeping the graph). Returns (explorer, loss, model, profile)."""
    tc.manual_seed(0)
    model = models.lenet()
    images = tc.Tensor(np.random.default_rng(0).random((2, 1, 8, 8), dtype=np.float32))
    with tc.profile() as prof:
        with tc.trace():  # the first convolution's im2col on the images too
            loss = F.cross_entropy(model(images), np.array([3, 7]))
        loss.backward(retain_graph=True)
    page = explore(loss, path, profile=prof, model=model, title="LeNet: one training step")
    return page, loss, model, prof


def resnet_block_step(path: str | Path) -> tuple:
    """The page of one training step of a ResNet basic block (ResNet-8's first block of
    stage 2: stride 2, 16 -> 32 channels) on a (2, 16, 8, 8) input, with a mean-square loss.
    Returns (explorer, loss, model, profile)."""
    tc.manual_seed(0)
    block = models.resnet8().layer2[0]
    x = tc.Tensor(np.random.default_rng(0).standard_normal((2, 16, 8, 8), dtype=np.float32))
    with tc.profile() as prof:
        with tc.trace():
            out = block(x)
            loss = (out * out).mean()
        loss.backward(retain_graph=True)
    page = explore(loss, path, profile=prof, model=block, title="ResNet block: one training step")
    return page, loss, block, prof


# name: (page builder, actions). An action is (kind, argument): "click" a selector, "mode" a
# colour mode, "key" a key pressed once.
SCENES = {
    "explorer_lenet": (
        lenet_step,
        [("click", '.node.module[data-path="0"]'), ("click", '.node.op[data-op="im2col"]')],
    ),
    "explorer_gradients": (
        resnet_block_step,
        [("mode", "grad"), ("click", '.node.module[data-path="bn2"]')],
    ),
    "explorer_backward": (
        lenet_step,
        [("click", "#expand-all"), *[("key", "n")] * 12],
    ),
}


def play(page, actions: list) -> None:
    """Do the scene's actions on an open page."""
    for kind, argument in actions:
        if kind == "click":
            page.click(argument)
        elif kind == "mode":
            page.select_option("#colour-mode", argument)
        else:
            page.keyboard.press(argument)


def boxes_shown(page) -> list[str]:
    """The label of every box drawn, in reading order (top to bottom)."""
    return page.eval_on_selector_all(
        ".node",
        "nodes => nodes.map(n => [...n.querySelectorAll('text')].map(t => t.textContent)"
        ".join(' '))",
    )


def structure(data: dict) -> dict:
    """What a screenshot shows of the graph that does not vary between runs: op names in
    order, module paths and types, and the backward order as op names."""
    names = {o["id"]: o["op"] for o in data["ops"]}
    return {
        "ops": [o["op"] for o in data["ops"]],
        "modules": [f"{m['path']}: {m['type']}" for m in data["modules"]],
        "backward_order": [names[o] for o in data["backward_order"]],
    }


def page_data(path: str | Path) -> dict:
    """The graph data embedded in an explorer page."""
    text = Path(path).read_text()
    return json.loads(text.split('id="graph-data">')[1].split("</script>")[0])


def take(browser, name: str, folder: Path, shot: Path) -> dict:
    """Build the scene's page in ``folder``, play it, save the screenshot to ``shot``; returns
    the scene's record (what NAME.json holds)."""
    build, actions = SCENES[name]
    html = folder / f"{name}.html"
    build(html)
    page = open_page(browser, html)
    play(page, actions)
    page.screenshot(path=str(shot))
    record = {
        "page": build.__name__,
        "actions": [list(a) for a in actions],
        "boxes": boxes_shown(page),
        "errors": page.errors,
        "structure": structure(page_data(html)),
    }
    page.close()
    return record


def as_json(record: dict) -> str:
    """A scene's record as the text of NAME.json."""
    return json.dumps(record, indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    import tempfile

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as folder:
        browser = launch(playwright)
        for name in SCENES:
            record = take(browser, name, Path(folder), IMAGES / f"{name}.png")
            if record["errors"]:
                raise SystemExit(f"{name}: the page logged errors: {record['errors']}")
            (IMAGES / f"{name}.json").write_text(as_json(record))
            print(f"wrote {IMAGES / name}.png and .json")
        browser.close()
