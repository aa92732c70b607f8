import numpy as np
import pytest

import tinygrad_cnn as tc


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _seed():
    tc.manual_seed(0)
