"""A training report: PNG figures and one HTML page that shows them together.

    write_report("runs/digits", model, history, test_images, test_labels, graph="graph.svg")

writes curves.png (loss and accuracy per epoch), filters.png (the first convolution's
filters), feature_maps.png (one test image after each convolution), confusion.png, and
index.html. Needs matplotlib (``pip install matplotlib``).
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence

import numpy as np

from .metrics import confusion_matrix
from .nn import Conv2d, Module
from .train import EpochResult, predict_logits

__all__ = ["write_report"]


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError("the training report needs matplotlib: pip install matplotlib") from None
    matplotlib.use("Agg")  # files only; no display needed
    import matplotlib.pyplot as plt

    return plt


def plot_curves(history: Sequence[EpochResult], path: str) -> None:
    """Loss and accuracy, train and test, per epoch."""
    plt = _pyplot()
    epochs = [r.epoch for r in history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    left.plot(epochs, [r.train_loss for r in history], "o-", label="train")
    left.plot(epochs, [r.test_loss for r in history], "s-", label="test")
    left.set(xlabel="epoch", ylabel="cross-entropy", title="Loss", yscale="log")
    right.plot(epochs, [r.train_accuracy for r in history], "o-", label="train")
    right.plot(epochs, [r.test_accuracy for r in history], "s-", label="test")
    right.set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
    for axes in (left, right):
        axes.legend()
        axes.grid(alpha=0.3)
        axes.xaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _grid(
    plt, images: np.ndarray, titles: Sequence[str], path: str, suptitle: str, columns: int = 8
) -> None:
    rows = -(-len(images) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.1, rows * 1.25), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, title in zip(axes.flat, images, titles):
        if image is not None:  # None leaves a cell empty, to start a new row
            ax.imshow(image, cmap="gray", interpolation="nearest")
            ax.set_title(title, fontsize=7)
    fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def convolutions(model: Module) -> list[tuple[str, Conv2d]]:
    """The model's Conv2d layers with their qualified names, in order."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, Conv2d)]


def plot_filters(model: Module, path: str) -> None:
    """The first convolution's filters, one image per output channel (its first input channel)."""
    name, conv = convolutions(model)[0]
    weights = conv.weight.data[:, 0]
    _grid(
        _pyplot(),
        weights,
        [f"filter {i}" for i in range(len(weights))],
        path,
        f"{name}: {conv!r}, input channel 0",
    )


def plot_feature_maps(model: Module, image: np.ndarray, path: str, per_layer: int = 8) -> None:
    """One input image, then the first ``per_layer`` channels after each convolution."""
    captured: list[tuple[str, np.ndarray]] = []
    handles = [
        conv.register_forward_hook(
            lambda m, args, out, name=name: captured.append((name, out.data[0]))
        )
        for name, conv in convolutions(model)
    ]
    try:
        predict_logits(model, image[None])
    finally:
        for handle in handles:
            handle.remove()
    images, titles = [image[0]] + [None] * (per_layer - 1), ["input"] + [""] * (per_layer - 1)
    for name, maps in captured:  # one row per convolution
        shown = list(maps[:per_layer])
        images += shown + [None] * (per_layer - len(shown))
        titles += [f"{name} ch {c}" for c in range(len(shown))] + [""] * (per_layer - len(shown))
    _grid(
        _pyplot(),
        images,
        titles,
        path,
        "feature maps of one test image after each convolution",
        columns=per_layer,
    )


def plot_confusion(matrix: np.ndarray, path: str) -> None:
    """Counts of true class (rows) against predicted class (columns)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    ax.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(
            j,
            i,
            str(count),
            ha="center",
            va="center",
            fontsize=7,
            color="white" if count > matrix.max() / 2 else "black",
        )
    ax.set(
        xlabel="predicted",
        ylabel="true",
        title="Confusion matrix (test set)",
        xticks=range(len(matrix)),
        yticks=range(len(matrix)),
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}}
figure{{margin:1.5em 0}} img{{max-width:100%;border:1px solid #ddd}}
figcaption{{color:#555}}</style>
</head><body>
<h1>{title}</h1>
<p>{summary}</p>
{figures}
<script>
// Lets a headless browser (and you) check that every picture loaded.
window.addEventListener("load", () => {{
  const images = [...document.images];
  const loaded = images.filter(img => img.complete && img.naturalWidth > 0).length;
  document.body.dataset.imagesLoaded = loaded + "/" + images.length;
}});
</script>
</body></html>
"""


def write_report(
    folder: str,
    model: Module,
    history: Sequence[EpochResult],
    images: np.ndarray,
    labels: np.ndarray,
    graph: str | None = None,
    title: str = "Training report",
    explorer: str | None = None,
) -> str:
    """Write the figures and index.html into ``folder``; ``graph`` is an SVG file in that folder
    (e.g. from :func:`tinygrad_cnn.render_graph`), ``explorer`` an HTML page there (from
    :func:`tinygrad_cnn.explore`), linked from the report. Returns the path of index.html."""
    os.makedirs(folder, exist_ok=True)
    predictions = predict_logits(model, images).argmax(axis=1)
    matrix = confusion_matrix(predictions, labels)
    plot_curves(history, os.path.join(folder, "curves.png"))
    plot_filters(model, os.path.join(folder, "filters.png"))
    plot_feature_maps(model, images[0], os.path.join(folder, "feature_maps.png"))
    plot_confusion(matrix, os.path.join(folder, "confusion.png"))
    figures = [
        (
            "curves.png",
            "Loss (log scale) and accuracy per epoch, on the training and the test set.",
        ),
        ("filters.png", "The first convolution's learned 3x3 filters."),
        (
            "feature_maps.png",
            f"One test image (label {labels[0]}, predicted {predictions[0]}) and the "
            f"first channels after each convolution.",
        ),
        (
            "confusion.png",
            "Where the test errors are: true class by row, predicted class by column.",
        ),
    ]
    if graph is not None:
        figures.append(
            (
                os.path.basename(graph),
                "The graph of one training step: every op, with shapes, "
                "grouped by the module that ran it.",
            )
        )
    last = history[-1]
    summary = (
        f"{len(history)} epochs, {sum(r.seconds for r in history):.1f} s of training; final test "
        f"accuracy <b>{last.test_accuracy:.2%}</b> "
        f"({int(np.trace(matrix))} of {len(labels)} correct), "
        f"test loss {last.test_loss:.4f}."
    )
    body = "\n".join(
        f'<figure><img src="{html.escape(src)}" alt="{html.escape(caption)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        for src, caption in figures
    )
    if explorer is not None:
        summary += (
            f' <a id="explorer" href="{html.escape(os.path.basename(explorer))}">Explore the graph '
            f"of one training step</a>: modules that open, each op's values and gradients, time "
            f"and memory per op, the backward pass step by step."
        )
    path = os.path.join(folder, "index.html")
    with open(path, "w") as f:
        f.write(_PAGE.format(title=html.escape(title), summary=summary, figures=body))
    return path
