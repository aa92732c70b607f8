"""examples/tutorial.ipynb is what tools/build_tutorial_notebook.py builds from the docs today,
and every cell of it runs."""

import importlib.util
import json
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "tutorial.ipynb"


def _tool():
    spec = importlib.util.spec_from_file_location(
        "build_tutorial_notebook", ROOT / "tools" / "build_tutorial_notebook.py"
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_notebook_is_current():
    """Run `python tools/build_tutorial_notebook.py` after editing docs/autograd.md or
    docs/tutorial.md."""
    assert NOTEBOOK.read_text() == _tool().render(), "run: python tools/build_tutorial_notebook.py"


def test_notebook_follows_the_docs_and_is_stored_clean():
    notebook = json.loads(NOTEBOOK.read_text())
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code)
    sources = ["".join(cell["source"]) for cell in code]
    assert not any(line.startswith((">>>", "...")) for s in sources for line in s.splitlines())
    assert sum("tc.draw_graph(" in s for s in sources) >= 4
    assert any("tc.grad(L, [d, e, a])" in s for s in sources)  # the autograd chapter
    assert any("F.im2col(x, kernel_size=2)" in s for s in sources)  # the tutorial


def test_notebook_runs(tmp_path, monkeypatch):
    """Every cell executes without an error (images are not required, only that cells run)."""
    nbclient = pytest.importorskip(
        "nbclient", reason="nbclient is not installed (pip install -e '.[dev]')"
    )
    nbformat = pytest.importorskip(
        "nbformat", reason="nbformat is not installed (pip install -e '.[dev]')"
    )
    pytest.importorskip("ipykernel", reason="ipykernel is not installed (pip install -e '.[dev]')")
    from jupyter_client.kernelspec import KernelSpecManager

    # ipykernel's spec (in the venv's share/jupyter, or the native one jupyter_client makes from
    # the running interpreter); its argv "python" is started as sys.executable.
    if "python3" not in KernelSpecManager().find_kernel_specs():
        pytest.skip("no python3 Jupyter kernelspec is found (ipykernel installs one into the venv)")
    monkeypatch.chdir(tmp_path)
    notebook = nbformat.read(str(NOTEBOOK), as_version=4)
    nbformat.validate(notebook)
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError on the first cell that errors
    print(f"examples/tutorial.ipynb executed in {time.perf_counter() - start:.1f} s")
    errors = [
        out
        for cell in notebook.cells
        if cell.cell_type == "code" and "raises-exception" not in cell.metadata.get("tags", [])
        for out in cell.outputs
        if out.output_type == "error"
    ]
    assert errors == []
