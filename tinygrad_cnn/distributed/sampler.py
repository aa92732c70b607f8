"""Each rank's share of an epoch: the indices of its samples."""

from __future__ import annotations

from collections.abc import Iterator, Sized

import numpy as np

from ..random import generator
from . import comm

__all__ = ["DistributedSampler"]


class DistributedSampler:
    """The indices of this rank's samples for one epoch; each iteration is the next epoch.

    Every epoch all ranks agree on one order of the ``len(dataset)`` samples, and rank r takes
    every ``num_replicas``-th of it, starting at r. Batching each rank's share in B's then
    gives, at step k, ranks whose batches together are exactly samples ``k*B*R`` to
    ``(k+1)*B*R`` of that order (R ranks): the batch of B*R one process would take.

    The order (with ``shuffle``) is a fresh permutation per epoch, drawn

    * with ``seed=None``: from the framework's generator (:func:`tinygrad_cnn.manual_seed`) on
      rank 0 and sent to the others, so it is the order a single-process
      ``DataLoader(shuffle=True)`` would take with the same seed;
    * with an int ``seed``: from a generator of the sampler's own, identical on every rank (no
      message), as ``DataLoader(seed=seed)``'s successive epochs.

    Unless the ranks divide the dataset, the order is padded by repeating its start
    (``drop_last=False``: each sample at least once, at most num_replicas - 1 twice) or cut
    (``drop_last=True``: at most num_replicas - 1 left out this epoch), so every rank gets
    ``len(self)`` indices: the ranks must run the same number of steps.

    num_replicas, rank: default to ``world_size()`` and ``rank()`` (after ``init()``).
    """

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int | None = None,
        drop_last: bool = False,
    ):
        self.num_replicas = comm.world_size() if num_replicas is None else num_replicas
        self.rank = comm.rank() if rank is None else rank
        if not isinstance(self.num_replicas, (int, np.integer)) or self.num_replicas < 1:
            raise ValueError(
                f"DistributedSampler: num_replicas must be a positive int, got {num_replicas!r}"
            )
        if not isinstance(self.rank, (int, np.integer)) or not 0 <= self.rank < self.num_replicas:
            raise ValueError(
                f"DistributedSampler: rank must be 0..{self.num_replicas - 1}, got {rank!r}"
            )
        self.size, self.shuffle, self.drop_last = len(dataset), shuffle, drop_last
        if self.size == 0:
            raise ValueError("DistributedSampler: the dataset is empty")
        self.seed, self.epoch = seed, 0
        self.rng = None if seed is None else np.random.default_rng(seed)

    def __len__(self) -> int:
        """How many indices each rank gets per epoch."""
        whole, rest = divmod(self.size, self.num_replicas)
        return whole + (1 if rest and not self.drop_last else 0)

    def _order(self) -> np.ndarray:
        """This epoch's order of all samples, the same on every rank."""
        if not self.shuffle:
            return np.arange(self.size)
        if self.rng is not None:
            return self.rng.permutation(self.size)
        if self.rank == 0:
            order = generator().permutation(self.size).astype(np.int64, copy=False)
        else:
            order = np.empty(self.size, np.int64)
        return order if self.num_replicas == 1 else comm.broadcast(order, root=0)

    def set_epoch(self, epoch: int) -> None:
        """Make the next pass epoch ``epoch`` (from 0), as PyTorch's ``set_epoch``. With an int
        ``seed`` its order is the one the epoch-th pass draws, whatever came before, so a loop
        restarted at epoch 5 reshuffles as one that never stopped. With ``seed=None`` the
        orders come from the framework's generator, which cannot be rewound here: only the
        epoch that comes next anyway is accepted (restore the generator's state instead)."""
        if not isinstance(epoch, (int, np.integer)) or epoch < 0:
            raise ValueError(
                f"DistributedSampler.set_epoch: epoch must be an int >= 0, got {epoch!r}"
            )
        if self.seed is None and epoch != self.epoch:
            raise ValueError(
                f"DistributedSampler.set_epoch: with seed=None the next pass is epoch "
                f"{self.epoch}, got {epoch}; pass an int seed to choose epochs freely"
            )
        if self.seed is not None and self.shuffle and epoch != self.epoch:
            self.rng = np.random.default_rng(self.seed)
            for _ in range(epoch):
                self.rng.permutation(self.size)  # the draws of the passes before it
        self.epoch = int(epoch)

    def indices(self) -> np.ndarray:
        """The next epoch's indices for this rank, ``len(self)`` of them (int64)."""
        total = len(self) * self.num_replicas
        order = self._order()
        self.epoch += 1
        return np.resize(order, total)[self.rank :: self.num_replicas]

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())
