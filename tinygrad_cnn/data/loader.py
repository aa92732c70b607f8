"""Mini-batches over in-memory arrays."""
from __future__ import annotations

from typing import Iterator

import numpy as np

from ..random import generator

__all__ = ["batches", "DataLoader"]


def batches(inputs: np.ndarray, targets: np.ndarray, batch_size: int, shuffle: bool = True,
            drop_last: bool = False, rng: np.random.Generator | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (inputs, targets) mini-batches, shuffled with ``rng`` or else the framework's
    generator (see :func:`tinygrad_cnn.manual_seed`)."""
    if len(inputs) != len(targets):
        raise ValueError(f"batches: {len(inputs)} inputs but {len(targets)} targets")
    if len(inputs) == 0:
        raise ValueError("batches: no samples to batch")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batches: batch_size must be a positive int, got {batch_size!r}")
    order = (rng or generator()).permutation(len(inputs)) if shuffle else np.arange(len(inputs))
    stop = len(order) - len(order) % batch_size if drop_last else len(order)
    for start in range(0, stop, batch_size):
        chosen = order[start : start + batch_size]
        yield inputs[chosen], targets[chosen]


class DataLoader:
    """Iterate over (inputs, targets) in mini-batches, as often as you like (one pass = one epoch).

    ``seed`` gives this loader its own generator, so its order does not depend on anything else
    drawing random numbers; without it the framework's generator is used.
    """

    def __init__(self, inputs: np.ndarray, targets: np.ndarray, batch_size: int = 32, shuffle: bool = True,
                 drop_last: bool = False, seed: int | None = None):
        if len(inputs) != len(targets):
            raise ValueError(f"DataLoader: {len(inputs)} inputs but {len(targets)} targets")
        if len(inputs) == 0:
            raise ValueError("DataLoader: no samples")
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        self.inputs, self.targets = inputs, targets
        self.batch_size, self.shuffle, self.drop_last = int(batch_size), shuffle, drop_last
        self.rng = None if seed is None else np.random.default_rng(seed)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        return batches(self.inputs, self.targets, self.batch_size, self.shuffle, self.drop_last, self.rng)

    def __len__(self) -> int:
        """Batches per epoch."""
        full, rest = divmod(len(self.inputs), self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)
