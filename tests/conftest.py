import os

import numpy as np
import pytest

# Convolutions take the fixed default orders, so graphs, drawings and bit-for-bit comparisons
# do not depend on timings; tests/test_layout.py switches the measurement on where it tests it.
os.environ["TINYGRAD_CNN_AUTOTUNE"] = "0"

import tinygrad_cnn as tc  # noqa: E402


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _seed():
    tc.manual_seed(0)


@pytest.fixture
def clean_registry():
    """Take ops a test registers out of the registry again, so other tests see the built-ins."""
    before = dict(tc.registry)
    yield
    tc.registry.clear()
    tc.registry.update(before)
