"""Build examples/tutorial.ipynb from docs/autograd.md and docs/tutorial.md.

    python tools/build_tutorial_notebook.py

The notebook follows the docs rather than a copy that drifts: each ```pycon block becomes code
cells (prompts and printed outputs stripped; a cell ends after every line the page shows the
output of, so running the notebook shows the same numbers), the prose between blocks becomes
markdown cells, and a few cells draw the page's graphs inline with tc.draw_graph. The notebook
is stored without outputs. tests/test_notebook.py checks that examples/tutorial.ipynb is what
this produces and runs it.
"""

import doctest
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "tutorial.ipynb"
DOCS = ["docs/autograd.md", "docs/tutorial.md"]

# Graph cells: (document, a line of a pycon block) -> (markdown, code); the cells go right after
# that block. A missing anchor is an error, so an edit of the docs cannot drop a graph silently.
GRAPHS = {
    ("docs/autograd.md", ">>> [float(t.grad.data) for t in (a, b, c, f)]"): (
        "The graph just recorded, drawn inline (`tc.draw_graph`, see "
        "[graphs.md](../docs/graphs.md)), with each leaf's gradient:",
        'tc.draw_graph(L, labels={a: "a", b: "b", c: "c", f: "f", e: "e", d: "d", L: "L"}, '
        "show_grad=True)",
    ),
    ("docs/autograd.md", ">>> (dL_db,) = tc.grad(L, [b], retain_graph=True)"): (
        "The diamond: `b` feeds both the multiply `b * b` and the final add.",
        'tc.draw_graph(L, labels={a: "a", b: "b", L: "L"}, show_grad=True)',
    ),
    ("docs/tutorial.md", ">>> F.conv2d(x, weight).sum().backward()"): (
        "The convolution's chain of ops, with the gradients of the image and the filter:",
        'tc.draw_graph(F.conv2d(x, weight), labels={x: "image", weight: "filter"}, show_grad=True)',
    ),
    ("docs/tutorial.md", ">>> chain[::-1]"): (
        "The Conv2d + MaxPool2d graph, drawn here rather than read from `docs/images`:",
        "tc.draw_graph(y, model=model)",
    ),
}

HEADER = """# tinygrad_cnn: autograd, then convolution from im2col

This notebook runs [docs/autograd.md](../docs/autograd.md) and then
[docs/tutorial.md](../docs/tutorial.md), with the computation graphs drawn inline (Graphviz's
`dot` program renders them). It is generated from those pages by
`python tools/build_tutorial_notebook.py`: edit the pages, not this notebook.
`tests/test_notebook.py` runs it, so every cell works with today's code."""

FENCE = re.compile(r"^```pycon\n(.*?)^```\n", flags=re.S | re.M)
DIRECTIVE = re.compile(r"\s*# doctest:.*$", flags=re.M)


def _markdown(text: str) -> str:
    """Prose from a page, with its relative links pointing from examples/ to docs/."""
    text = re.sub(r"\]\((?!https?:|#|/)([^)]+)\)", r"](../docs/\1)", text)
    return text.strip()


def _code_cells(block: str, name: str):
    """The examples of one pycon block as (source, raises) cells, each ending at a shown output."""
    cells, lines = [], []
    for example in doctest.DocTestParser().get_examples(block, name):
        lines.append(DIRECTIVE.sub("", example.source.rstrip("\n")))
        if example.want or example.exc_msg is not None:
            cells.append(("\n".join(lines), example.exc_msg is not None))
            lines = []
    if lines:
        cells.append(("\n".join(lines), False))
    return cells


def cells():
    """The notebook's cells in order: dicts with "cell_type", "source" and optional "tags"."""
    out = [{"cell_type": "markdown", "source": HEADER}]
    used = set()
    for document in DOCS:
        text = (ROOT / document).read_text()
        position = 0
        for match in FENCE.finditer(text):
            prose = _markdown(text[position : match.start()])
            if prose:
                out.append({"cell_type": "markdown", "source": prose})
            block = match.group(1)
            for source, raises in _code_cells(block, document):
                out.append(
                    {
                        "cell_type": "code",
                        "source": source,
                        "tags": ["raises-exception"] if raises else [],
                    }
                )
            for (doc, anchor), (note, code) in GRAPHS.items():
                if doc == document and (doc, anchor) not in used and anchor in block.splitlines():
                    used.add((doc, anchor))
                    out.append({"cell_type": "markdown", "source": note})
                    out.append({"cell_type": "code", "source": code, "tags": []})
            position = match.end()
        prose = _markdown(text[position:])
        if prose:
            out.append({"cell_type": "markdown", "source": prose})
    missing = [anchor for anchor in GRAPHS if anchor not in used]
    if missing:
        raise ValueError(
            f"build_tutorial_notebook: no pycon block has these graph anchors any more: {missing}"
        )
    return out


def render() -> str:
    """The notebook's JSON text (nbformat 4.5, no outputs, stable cell ids)."""
    notebook_cells = []
    for k, cell in enumerate(cells()):
        entry = {
            "cell_type": cell["cell_type"],
            "id": f"cell-{k:03d}",
            "metadata": {},
            "source": cell["source"].splitlines(keepends=True),
        }
        if cell.get("tags"):
            entry["metadata"]["tags"] = cell["tags"]
        if cell["cell_type"] == "code":
            entry["execution_count"] = None
            entry["outputs"] = []
        notebook_cells.append(entry)
    notebook = {
        "cells": notebook_cells,
        "metadata": {
            "kernelspec": {
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
                "name": "python3",
            },
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def main() -> int:
    NOTEBOOK.write_text(render())
    print(f"wrote {NOTEBOOK.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
