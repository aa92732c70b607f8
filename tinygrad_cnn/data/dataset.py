"""A dataset over arrays, as torch.utils.data.TensorDataset."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["TensorDataset"]


class TensorDataset:
    """Samples are the i-th rows of ``arrays`` (each (N, ...)): ``dataset[i]`` is
    ``(arrays[0][i], arrays[1][i], ...)``."""

    def __init__(self, *arrays):
        self.arrays = tuple(np.asarray(a) for a in arrays)  # a Tensor gives its array
        if not self.arrays or any(len(a) != len(self.arrays[0]) for a in self.arrays):
            raise ValueError(
                f"TensorDataset: arrays must have the same first dimension, got "
                f"{[a.shape for a in self.arrays]}"
            )

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: int) -> tuple:
        return tuple(a[index] for a in self.arrays)

    def __getitems__(self, indices: Sequence[int]) -> tuple:
        """One batch: each array's rows ``indices``."""
        return tuple(a[indices] for a in self.arrays)
