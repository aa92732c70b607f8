"""Mini-batches over in-memory arrays."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..random import generator
from ..tensor import Tensor

__all__ = ["batches", "DataLoader"]


def batches(
    inputs: np.ndarray,
    targets: np.ndarray,
    batch_size: int,
    shuffle: bool = True,
    drop_last: bool = False,
    rng: np.random.Generator | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (inputs, targets) mini-batches, shuffled with ``rng`` or else the framework's
    generator (see :func:`tinygrad_cnn.manual_seed`)."""
    if len(inputs) != len(targets):
        raise ValueError(f"batches: {len(inputs)} inputs but {len(targets)} targets")
    if len(inputs) == 0:
        raise ValueError("batches: no samples to batch")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batches: batch_size must be a positive int, got {batch_size!r}")
    order = (rng or generator()).permutation(len(inputs)) if shuffle else np.arange(len(inputs))
    for chosen in _slices(order, batch_size, drop_last):
        yield inputs[chosen], targets[chosen]


def _slices(order: np.ndarray, batch_size: int, drop_last: bool) -> Iterator[np.ndarray]:
    """``order`` cut into runs of ``batch_size`` (a shorter last one unless ``drop_last``)."""
    stop = len(order) - len(order) % batch_size if drop_last else len(order)
    for start in range(0, stop, batch_size):
        yield order[start : start + batch_size]


class DataLoader:
    """Iterate in mini-batches, as often as you like (one pass = one epoch), over either a
    dataset or today's ``(inputs, targets)`` arrays.

    ``DataLoader(dataset)``: any object with ``len()`` and ``dataset[i] -> (field, ...)``, such
    as ``(image, label)`` (:class:`tinygrad_cnn.datasets.MNIST`, :class:`TensorDataset` of any
    number of arrays); yields one Tensor per field, stacked (B, ...): floating fields as
    float32, integer ones in their own dtype (int64 class numbers), as PyTorch's collate keeps
    them. A dataset with ``__getitems__(indices)`` is asked for a whole batch at once, as
    PyTorch does. ``DataLoader(inputs, targets)``: yields numpy ``(inputs[batch],
    targets[batch])``, as before.

    ``seed`` gives this loader its own generator, so its order does not depend on anything else
    drawing random numbers; without it the framework's generator is used.

    ``distributed=True`` (after :func:`tinygrad_cnn.distributed.init`): this rank's share of
    each epoch, through a :class:`~tinygrad_cnn.distributed.DistributedSampler` with the same
    ``shuffle`` and ``seed``; ``batch_size`` is per rank, and the ranks' batches at each step
    together are the batch of ``batch_size * world_size()`` one process would take.
    """

    def __init__(
        self,
        dataset,
        targets: np.ndarray | None = None,
        batch_size: int = 32,
        shuffle: bool = True,
        drop_last: bool = False,
        seed: int | None = None,
        distributed: bool = False,
    ):
        if targets is not None and len(dataset) != len(targets):
            raise ValueError(f"DataLoader: {len(dataset)} inputs but {len(targets)} targets")
        if len(dataset) == 0:
            raise ValueError("DataLoader: no samples")
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        self.dataset, self.targets = dataset, targets
        self.batch_size, self.shuffle, self.drop_last = int(batch_size), shuffle, drop_last
        self.rng = None if seed is None else np.random.default_rng(seed)
        self.sampler = None
        if distributed:
            from ..distributed import DistributedSampler

            self.sampler = DistributedSampler(dataset, shuffle=shuffle, seed=seed)

    def _order(self) -> np.ndarray:
        """This epoch's sample indices (this rank's, when distributed)."""
        if self.sampler is not None:
            return self.sampler.indices()
        if self.shuffle:
            return (self.rng or generator()).permutation(len(self.dataset))
        return np.arange(len(self.dataset))

    def __iter__(self) -> Iterator[tuple]:
        chunks = _slices(self._order(), self.batch_size, self.drop_last)
        if self.targets is not None:
            return ((self.dataset[chosen], self.targets[chosen]) for chosen in chunks)
        return self._dataset_batches(chunks)

    def _dataset_batches(self, chunks: Iterator[np.ndarray]) -> Iterator[tuple]:
        fetch = getattr(self.dataset, "__getitems__", None)
        for chosen in chunks:
            fields = fetch(chosen) if fetch else _stack([self.dataset[int(i)] for i in chosen])
            yield tuple(Tensor(_float32(np.asarray(field))) for field in fields)

    def __len__(self) -> int:
        """Batches per epoch (this rank's, when distributed)."""
        samples = len(self.dataset) if self.sampler is None else len(self.sampler)
        full, rest = divmod(samples, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)


def _stack(samples: list[tuple]) -> tuple[np.ndarray, ...]:
    """[(image, label), ...] -> (images (B, ...), labels (B,)); any number of fields."""
    return tuple(np.stack([np.asarray(value) for value in field]) for field in zip(*samples))


def _float32(array: np.ndarray) -> np.ndarray:
    """Floating arrays as float32 (the framework's default); integers (labels, token ids) kept."""
    return array.astype(np.float32, copy=False) if array.dtype.kind == "f" else array
