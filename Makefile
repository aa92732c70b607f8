# Each target sets up what it needs: a virtual environment in .venv with the package installed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test lint torch distributed bench system-graphviz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP) system-graphviz
	$(PY) -m tinygrad_cnn train --out runs/digits

# Graphviz's `dot` renders the graph; as root on Debian/Ubuntu, install it if it is missing.
system-graphviz:
	@command -v dot >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& apt-get update -qq && apt-get install -y -qq graphviz >/dev/null; } \
		|| echo "note: Graphviz's dot is missing; the demo writes DOT text instead of SVG (install the graphviz system package)"

test: $(STAMP)
	$(PY) -m pytest -q

# The code is formatted by ruff at 100 columns and passes its checks (settings in pyproject.toml).
lint: $(STAMP)
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .

# Optional: lets the tests cross-check forward and gradients against PyTorch (CPU build).
torch: $(STAMP)
	$(PY) -m pip install -q torch==2.13.0

# Optional: MPI (mpi4py and MPICH's wheel, with mpiexec in .venv/bin) for tinygrad_cnn.distributed;
# without it the tests of tests/test_distributed.py that run under mpiexec are skipped.
distributed: $(STAMP)
	$(PY) -m pip install -q -e '.[distributed]'

# Times the workloads of benchmarks/run.py against torch, DeZero and MyGrad (installed here).
bench: $(STAMP)
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) runs build *.egg-info
