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


def get_state() -> dict:
    """The generator's state (JSON-able), to store in a checkpoint."""
    return _generator.bit_generator.state


def set_state(state: dict) -> None:
    """Restore a state from :func:`get_state`, so shuffling continues exactly as it would have."""
    _generator.bit_generator.state = state
