"""Data-parallel training on MPI (through mpi4py): the same model on N processes or hosts, each
computing gradients on its shard of the batch, the gradients averaged with an all-reduce.

    mpiexec -n 2 python train.py          # or: python -m tinygrad_cnn train --distributed

Needs the ``[distributed]`` extra (mpi4py, an MPI library, threadpoolctl); importing this
module does not, only :func:`init` does. See docs/distributed.md.
"""

from .blas import limit_blas_threads
from .comm import (
    abort,
    all_reduce,
    barrier,
    broadcast,
    init,
    is_initialized,
    rank,
    world_size,
)
from .ddp import DistributedDataParallel, broadcast_parameters, plan_buckets
from .sampler import DistributedSampler

__all__ = [
    "init",
    "is_initialized",
    "rank",
    "world_size",
    "barrier",
    "all_reduce",
    "broadcast",
    "abort",
    "broadcast_parameters",
    "DistributedDataParallel",
    "plan_buckets",
    "DistributedSampler",
    "limit_blas_threads",
]
