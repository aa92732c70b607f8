"""Write the explorer page: one HTML file holding the graph's data, the script and the styles.

The script and styles are files in ``static/`` beside this module (package data); nothing is
loaded from the network, so the page works offline and can be mailed or archived alone.
"""

from __future__ import annotations

import html
import json
import os
import re
from importlib import resources
from typing import Any

from ..tensor import Tensor
from .data import graph_data

__all__ = ["explore", "Explorer"]

_SCRIPTS = ("layout.js", "explorer.js")
_NOTEBOOK_HEIGHT = 640
# Inside <script>, "</script" ends the element and "<!--" followed by "<script" hides its real
# end from the HTML parser: with every "<" (and ">", "&") written as a JSON escape, no text in
# the data (a tensor's name, a module's repr) can do either, and JSON.parse reads the same string.
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def _static(name: str) -> str:
    return resources.files(__package__).joinpath("static", name).read_text(encoding="utf-8")


def page_html(data: dict[str, Any], title: str) -> str:
    """The whole page for ``data`` (from :func:`graph_data`), as one string."""
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False).translate(_SCRIPT_SAFE)
    parts = {
        "__CSS__": _static("explorer.css"),
        "__JS__": "\n".join(_static(name) for name in _SCRIPTS),
        "__DATA__": payload,
        "__TITLE__": html.escape(title),
    }
    # one pass, so a placeholder's text inside the data or the script is left alone
    return re.sub(r"__(TITLE|CSS|JS|DATA)__", lambda m: parts[m.group(0)], _static("page.html"))


class Explorer:
    """A written explorer page. ``path`` is the HTML file; as the last expression of a Jupyter
    cell it shows inline (an iframe holding the same page)."""

    def __init__(self, path: str, page: str):
        self.path = path
        self.html = page

    def _repr_html_(self) -> str:
        return (
            f'<iframe srcdoc="{html.escape(self.html)}" title="graph explorer" '
            f'style="width:100%;height:{_NOTEBOOK_HEIGHT}px;border:1px solid #ddd"></iframe>'
        )

    def __repr__(self) -> str:
        return f"Explorer({self.path!r})"


def explore(
    output: Tensor,
    path: str | os.PathLike = "graph.html",
    profile: Any = None,
    model: Any = None,
    title: str | None = None,
) -> Explorer:
    """Write an interactive page of the graph behind ``output`` to ``path`` and return it.

    The page opens with each top-level module closed into one box; a click opens it. Clicking
    an op shows its attributes, shapes, saved bytes and statistics of its value and gradient;
    boxes can be coloured by op kind, forward or backward time (from ``profile``, a
    ``tc.profile()`` record), output memory or gradient norm; keys step through the backward
    pass in the engine's order.

    Call it after the forward pass (under ``tc.trace()`` to see the ops on the inputs too),
    or after ``backward(retain_graph=True)``: gradients are taken again through the engine
    without touching any ``.grad``. After a plain ``output.backward()`` the graph has released
    its arrays, and the page shows only what is left (leaves' ``.grad``); a graph partly
    released by a backward from another tensor raises ValueError.

    output:  the tensor to explore back from (a loss); gradients are of its sum if it has
             more than one element.
    model:   a Module whose ``named_parameters()`` name the parameters.
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"explore: output must be a Tensor, got {type(output).__name__}")
    if profile is not None and profile.running:
        raise ValueError(
            "explore: call it after the `with tc.profile()` block: the page's own gradient pass "
            "would be timed into the profile"
        )
    path = os.fspath(path)
    data = graph_data(output, model=model, profile=profile)
    page = page_html(data, title or f"graph of {len(data['ops'])} ops")
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
    return Explorer(path, page)
