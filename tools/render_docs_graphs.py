"""Regenerate the graphs shown in docs/ (DOT text and SVG) from the code itself.

    python tools/render_docs_graphs.py

tests/test_viz.py checks that docs/images/lenet_graph.dot matches what this produces.
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


if __name__ == "__main__":
    graph = lenet_step_graph()
    (IMAGES / "lenet_graph.dot").write_text(graph.source)
    (IMAGES / "lenet_graph.svg").write_bytes(graph.pipe(format="svg"))
    print(f"wrote {IMAGES / 'lenet_graph.dot'} and .svg")
