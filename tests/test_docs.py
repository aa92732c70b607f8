"""The README's Python snippets and the examples run as written."""

import re
import runpy
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


DOCUMENTS = [
    "README.md",
    *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md")),
]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_python_snippets_run(document, tmp_path, monkeypatch, clean_registry):
    """Each document's ```python blocks run in order, in one namespace."""
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / document).read_text(), flags=re.S)
    if any("render_graph" in b for b in blocks) and shutil.which("dot") is None:
        pytest.skip(f"{document} renders graphs and Graphviz's dot is not installed")
    namespace = {}
    for block in blocks:
        exec(compile(block, document, "exec"), namespace)


@pytest.mark.parametrize("script", ["custom_op.py", "train_digits.py", "layer_manager_digits.py"])
def test_examples_run(script, tmp_path, monkeypatch, capsys, clean_registry):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", [script])
    runpy.run_path(str(ROOT / "examples" / script), run_name="__main__")
    out = capsys.readouterr().out
    assert "accuracy" in out
    if script == "custom_op.py":
        checks = re.findall(r"^(.*): (True|False)$", out, flags=re.M)
        assert len(checks) >= 6 and all(value == "True" for _, value in checks), checks
    if script in ("train_digits.py", "layer_manager_digits.py"):  # the same CNN, two front ends
        final = float(re.findall(r"test accuracy ([0-9.]+)", out)[-1])
        assert final >= 0.97


@pytest.mark.parametrize("document", ["docs/autograd.md", "docs/tutorial.md"])
def test_doctests_in_docs(document):
    """Every printed number in the tutorial and the autograd chapter is what the code prints
    today."""
    import doctest

    failures, tried = doctest.testfile(
        str(ROOT / document), module_relative=False, optionflags=doctest.NORMALIZE_WHITESPACE
    )
    assert tried > 20 and failures == 0


def _api_tool():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "gen_api_docs", ROOT / "tools" / "gen_api_docs.py"
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_api_reference_is_current():
    """docs/api.md is what tools/gen_api_docs.py writes from today's docstrings."""
    assert _api_tool().render() == (ROOT / "docs" / "api.md").read_text()


def test_every_public_name_has_a_docstring():
    import inspect

    tool = _api_tool()
    missing = []
    for module, names in tool.SECTIONS:
        for qualified, obj in tool.documented(module, names):
            target = obj.__func__ if isinstance(obj, (staticmethod, classmethod)) else obj
            target = target.fget if isinstance(target, property) else target
            if not inspect.getdoc(target):
                missing.append(qualified)
    assert missing == []


def test_compare_optimizers_example(tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "optimizers.png"
    monkeypatch.setattr("sys.argv", ["compare_optimizers.py", "--epochs", "1", "--out", str(out)])
    runpy.run_path(str(ROOT / "examples" / "compare_optimizers.py"), run_name="__main__")
    rows = [
        line
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("| ") and "%" in line
    ]
    import tinygrad_cnn as tc

    assert [row.split("|")[1].strip() for row in rows] == list(tc.optim.OPTIMIZERS)
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_tensor_doc_lists_every_method_and_function():
    """docs/tensor.md's table names every public Tensor member and every tc function of
    creation.py and tensor_functions.py, and every op it says a call records is a registered op."""
    import tinygrad_cnn as tc

    rows = [
        re.split(r"(?<!\\)\|", line)[1:-1]
        for line in (ROOT / "docs" / "tensor.md").read_text().splitlines()
        if line.startswith("| `")
    ]
    listed = {name for row in rows for name in re.findall(r"`(?:tc\.)?(\w+)", row[0])}
    members = {n for cls in tc.Tensor.__mro__[:-1] for n in vars(cls) if not n.startswith("_")}
    public = members | {*tc.creation.__all__, *tc.tensor_functions.__all__}
    assert public - listed == set()
    recorded = {name for row in rows for name in re.findall(r"`(\w+)`", row[3])}
    assert recorded and recorded <= set(tc.list_ops())


def test_unet_example_segments_the_shapes(monkeypatch, capsys):
    """The full example (about a minute): its U-Net must find both shapes on held-out images."""
    monkeypatch.setattr("sys.argv", ["unet_segmentation.py"])
    runpy.run_path(str(ROOT / "examples" / "unet_segmentation.py"), run_name="__main__")
    scores = dict(re.findall(r"(background|circle|square|mean) ([0-9.]+)", capsys.readouterr().out))
    assert float(scores["mean"]) >= 0.85 and min(float(v) for v in scores.values()) >= 0.75, scores


def test_dcgan_example_generates_every_digit(tmp_path, monkeypatch, capsys):
    """The full example (under a minute): the judge CNN reads many samples as digits, spread over
    all ten, and the grid is a PNG."""
    pytest.importorskip("matplotlib")
    grid = tmp_path / "samples.png"
    monkeypatch.setattr("sys.argv", ["dcgan_digits.py", str(grid)])
    runpy.run_path(str(ROOT / "examples" / "dcgan_digits.py"), run_name="__main__")
    line = next(
        line
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("generated samples")
    )
    share, per_digit = re.search(r"(\d+)% read .* per digit (\[.*\])", line).groups()
    # 1,000 samples: no digit left out
    assert int(share) >= 40 and min(int(n) for n in per_digit.strip("[]").split(",")) >= 20, line
    assert grid.read_bytes()[:4] == b"\x89PNG"


def test_design_ops_table_lists_every_registered_op():
    """docs/design.md's ops table names each built-in op once, in the row of the file defining
    it."""
    import tinygrad_cnn as tc

    text = (ROOT / "docs" / "design.md").read_text()
    listed = {}
    for module, ops in re.findall(r"^\| \w+ \(`ops/(\w+)\.py`\) \| (.*) \|$", text, flags=re.M):
        ops = re.sub(r"\([^()]*\)", "", re.sub(r"\([^()]*\)", "", ops))  # notes, nested once
        for item in re.split(r",| and ", ops):
            if item.strip():
                listed.setdefault(f"tinygrad_cnn.ops.{module}", []).append(item.split()[0])
    registered = {}
    for name, op in tc.registry.items():
        if op.__module__.startswith("tinygrad_cnn.ops."):
            registered.setdefault(op.__module__, []).append(name)
    assert {m: sorted(names) for m, names in listed.items()} == {
        m: sorted(names) for m, names in registered.items()
    }
