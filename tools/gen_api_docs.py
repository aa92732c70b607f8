"""Write docs/api.md, the API reference, from the docstrings of the public names.

    python tools/gen_api_docs.py

tests/test_docs.py checks that docs/api.md is what this produces, and that every public
function, class and method has a docstring.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

OUTPUT = Path(__file__).resolve().parents[1] / "docs" / "api.md"

# (module, names shown); None means the module's __all__.
SECTIONS = [
    (
        "tinygrad_cnn",
        [
            "Tensor",
            "Function",
            "no_grad",
            "enable_grad",
            "trace",
            "list_ops",
            "grad",
            "gradcheck",
            "gradgradcheck",
            "detect_anomaly",
            "manual_seed",
            "save",
            "load",
            "save_weights",
            "load_weights",
            "CheckpointError",
            "ReleasedTensor",
            "draw_graph",
            "render_graph",
            "explore",
        ],
    ),
    ("tinygrad_cnn.tensor_methods", ["TensorMethods", "MinMax"]),
    ("tinygrad_cnn.creation", None),
    ("tinygrad_cnn.tensor_functions", None),
    ("tinygrad_cnn.functional", None),
    ("tinygrad_cnn.nn", None),
    ("tinygrad_cnn.nn.utils", None),
    ("tinygrad_cnn.nn.init", None),
    (
        "tinygrad_cnn.optim",
        [n for n in importlib.import_module("tinygrad_cnn.optim").__all__ if n != "OPTIMIZERS"],
    ),
    ("tinygrad_cnn.data", None),
    ("tinygrad_cnn.datasets", None),
    ("tinygrad_cnn.transforms", None),
    ("tinygrad_cnn.train", None),
    ("tinygrad_cnn.distributed", None),
    ("tinygrad_cnn.profiler", None),
    ("tinygrad_cnn.runs", None),
    ("tinygrad_cnn.onnx", None),
    ("tinygrad_cnn.metrics", None),
    ("tinygrad_cnn.report", None),
    ("tinygrad_cnn.testing", None),
    ("tinygrad_cnn.layers", None),
    ("tinygrad_cnn.random", ["manual_seed", "get_state", "set_state"]),
]


def signature(obj) -> str:
    """Parameters with defaults, without annotations: ``(x, kernel_size, stride=1)``."""
    try:
        parameters = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):
        return "(...)"
    shown = []
    for p in parameters:
        if p.name == "self":
            continue
        prefix = {p.VAR_POSITIONAL: "*", p.VAR_KEYWORD: "**"}.get(p.kind, "")
        default = "" if p.default is p.empty else f"={p.default!r}"
        shown.append(f"{prefix}{p.name}{default}")
    return f"({', '.join(shown)})"


def public_members(cls) -> list[tuple[str, object]]:
    """Methods and properties a class defines itself, in source order, without _private ones."""
    return [
        (n, v)
        for n, v in vars(cls).items()
        if not n.startswith("_")
        and (inspect.isfunction(v) or isinstance(v, (property, staticmethod, classmethod)))
    ]


def documented(module_name: str, names: list[str] | None):
    """(qualified name, object) of every public thing in a section, classes with their members."""
    module = importlib.import_module(module_name)
    for name in names if names is not None else module.__all__:
        obj = getattr(module, name)
        yield f"{module_name}.{name}", obj
        if inspect.isclass(obj):
            for member, value in public_members(obj):
                yield f"{module_name}.{name}.{member}", value


def render() -> str:
    lines = [
        "# API reference",
        "",
        "Generated from the docstrings by `tools/gen_api_docs.py`; shapes use the notation of",
        "[design.md](design.md) (B batch, C channels, H x W size, M filters, K_h x K_w kernel).",
        "",
    ]
    for module_name, names in SECTIONS:
        lines += [f"## `{module_name}`", ""]
        for qualified, obj in documented(module_name, names):
            depth = "####" if qualified.count(".") > module_name.count(".") + 1 else "###"
            target = obj.__func__ if isinstance(obj, (staticmethod, classmethod)) else obj
            if isinstance(obj, property):
                lines.append(f"{depth} `{qualified.rsplit('.', 1)[1]}` (property)")
            elif inspect.isclass(obj):
                lines.append(f"{depth} class `{qualified.rsplit('.', 1)[1]}{signature(obj)}`")
            else:
                lines.append(f"{depth} `{qualified.rsplit('.', 1)[1]}{signature(target)}`")
            doc = inspect.getdoc(target.fget if isinstance(obj, property) else target) or ""
            lines += ["", doc, ""] if doc else [""]
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    OUTPUT.write_text(render())
    print(f"wrote {OUTPUT}")
