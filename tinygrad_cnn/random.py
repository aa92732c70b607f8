"""The framework's random number generator, so one seed makes a run reproducible."""
from __future__ import annotations

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Reseed the generator behind parameter initialisation and data shuffling."""
    global _generator
    _generator = np.random.default_rng(seed)


def generator() -> np.random.Generator:
    """The current generator (replaced by :func:`manual_seed`)."""
    return _generator
