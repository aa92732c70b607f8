import numpy as np
import pytest

import tinygrad_cnn as tc


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
