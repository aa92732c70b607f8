# Each target sets up what it needs: a virtual environment in .venv with the package installed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test torch clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m tinygrad_cnn train --out runs/digits

test: $(STAMP)
	$(PY) -m pytest -q

# Optional: lets the tests cross-check forward and gradients against PyTorch (CPU build).
torch: $(STAMP)
	$(PY) -m pip install -q torch==2.13.0

clean:
	rm -rf $(VENV) runs build *.egg-info
