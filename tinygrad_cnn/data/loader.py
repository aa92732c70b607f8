"""Mini-batches over in-memory arrays."""
from __future__ import annotations

from typing import Iterator

import numpy as np

from ..random import generator

__all__ = ["batches"]


def batches(inputs: np.ndarray, targets: np.ndarray, batch_size: int, shuffle: bool = True,
            drop_last: bool = False) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (inputs, targets) mini-batches; shuffled with the framework's generator
    (see :func:`tinygrad_cnn.manual_seed`)."""
    if len(inputs) != len(targets):
        raise ValueError(f"batches: {len(inputs)} inputs but {len(targets)} targets")
    if len(inputs) == 0:
        raise ValueError("batches: no samples to batch")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batches: batch_size must be a positive int, got {batch_size!r}")
    order = generator().permutation(len(inputs)) if shuffle else np.arange(len(inputs))
    stop = len(order) - len(order) % batch_size if drop_last else len(order)
    for start in range(0, stop, batch_size):
        chosen = order[start : start + batch_size]
        yield inputs[chosen], targets[chosen]
