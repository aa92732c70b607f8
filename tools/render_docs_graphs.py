"""Regenerate the graphs shown in docs/ (DOT text and SVG) from the code itself.

    python tools/render_docs_graphs.py

tests/test_viz.py checks that each docs/images/*.dot matches what this produces.
"""
from pathlib import Path
from typing import Callable

import numpy as np

import tinygrad_cnn as tc
from tinygrad_cnn.cli import training_step
from tinygrad_cnn import models
from tinygrad_cnn.models import lenet

IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"


def lenet_step_graph():
    """The graph of one training step of the digits CNN (batch of 2), every op recorded."""
    tc.manual_seed(0)
    model = lenet()
    images = tc.Tensor(np.zeros((2, 1, 8, 8), dtype=np.float32))
    loss = training_step(model, images, np.array([3, 7]))
    return tc.draw_graph(loss, model=model)


def conv_pool_graph():
    """The forward graph of a Conv2d(1, 2, 2) and a MaxPool2d(2) on the tutorial's 4x4 image."""
    tc.manual_seed(0)
    model = tc.nn.Sequential(tc.nn.Conv2d(1, 2, 2), tc.nn.MaxPool2d(2))
    with tc.trace():
        y = model(tc.Tensor(np.zeros((1, 1, 4, 4), dtype=np.float32)))
    return tc.draw_graph(y, model=model, rankdir="LR")


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


MODEL_GRAPHS = {  # docs/models.md shows these
    "model_lenet5": model_graph(models.lenet5, (1, 1, 32, 32)),
    "model_resnet8": model_graph(models.resnet8, (1, 3, 32, 32)),
    "model_resnet_block": model_graph(lambda: models.resnet8().layer2[0], (1, 16, 32, 32)),
    "model_unet": model_graph(lambda: models.UNet(width=8), (1, 1, 32, 32)),
    "model_generator": model_graph(lambda: models.Generator(32, 1, 32, 8), (1, 32), 2),
    "model_discriminator": model_graph(lambda: models.Discriminator(1, 32, 8), (1, 1, 8, 8), 2),
}
GRAPHS = {"lenet_graph": lenet_step_graph, "conv_pool_graph": conv_pool_graph, **MODEL_GRAPHS}

if __name__ == "__main__":
    for name, build in GRAPHS.items():
        graph = build()
        (IMAGES / f"{name}.dot").write_text(graph.source)
        (IMAGES / f"{name}.svg").write_bytes(graph.pipe(format="svg"))
        print(f"wrote {IMAGES / name}.dot and .svg")
