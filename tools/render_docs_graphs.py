"""Regenerate the graphs shown in docs/ (DOT text and SVG) from the code itself.

    python tools/render_docs_graphs.py

tests/test_viz.py checks that each docs/images/*.dot matches what this produces.
"""
from pathlib import Path

import numpy as np

import tinygrad_cnn as tc
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


def conv_pool_graph():
    """The forward graph of a Conv2d(1, 2, 2) and a MaxPool2d(2) on the tutorial's 4x4 image."""
    tc.manual_seed(0)
    model = tc.nn.Sequential(tc.nn.Conv2d(1, 2, 2), tc.nn.MaxPool2d(2))
    with tc.trace():
        y = model(tc.Tensor(np.zeros((1, 1, 4, 4), dtype=np.float32)))
    return tc.draw_graph(y, model=model, rankdir="LR")


GRAPHS = {"lenet_graph": lenet_step_graph, "conv_pool_graph": conv_pool_graph}

if __name__ == "__main__":
    for name, build in GRAPHS.items():
        graph = build()
        (IMAGES / f"{name}.dot").write_text(graph.source)
        (IMAGES / f"{name}.svg").write_bytes(graph.pipe(format="svg"))
        print(f"wrote {IMAGES / name}.dot and .svg")
