"""Drive explorer pages in a real headless Chromium through Playwright, for the browser tests
(tests/test_explorer_browser.py) and the documentation's screenshots
(tools/render_explorer_screenshots.py), so both see the pages the same way.

Playwright drives the system's Chromium (Debian's ``chromium`` package); it downloads no
browser of its own. Needs ``pip install playwright`` (in the dev extra).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import models
from tinygrad_cnn.explorer import explore

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
