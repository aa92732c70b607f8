"""Each rank's share of its machine's cores for BLAS (numpy's matmul).

OpenBLAS starts one thread per core by default, in every process: two ranks on two cores
would run four threads that take turns. The thread count is read from OPENBLAS_NUM_THREADS
(or OMP_NUM_THREADS) when numpy loads OpenBLAS, which is before any of our code runs
(``import tinygrad_cnn`` imports numpy) and before MPI knows how many ranks share the
machine. So it is changed afterwards, through threadpoolctl, which calls OpenBLAS's own
``openblas_set_num_threads``. A count given in the environment is left alone.
"""

from __future__ import annotations

import os

from .comm import node_communicator

__all__ = ["limit_blas_threads"]

_ENVIRONMENT = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _usable_cores() -> set[int]:
    """The cores this process may run on (its affinity: mpiexec or a container may bind it)."""
    try:
        return os.sched_getaffinity(0)
    except AttributeError:  # macOS has no affinity call
        return set(range(os.cpu_count() or 1))


def share_of_cores() -> int:
    """This rank's share: its usable cores divided by the ranks on this machine that may run
    on them too (all of them unless mpiexec bound each rank to its own cores), at least 1.
    Collective over the ranks of this machine."""
    mine = _usable_cores()
    everyone = node_communicator().allgather(mine)  # small sets, once: pickling is fine here
    sharing = sum(1 for cores in everyone if cores & mine)
    return max(1, len(mine) // sharing)


def limit_blas_threads() -> int | None:
    """Set this rank's BLAS threads to :func:`share_of_cores`; returns that count, or None
    when BLAS was left as it was.

    Leaves an explicit ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS`` (as ``mpiexec -genv
    OPENBLAS_NUM_THREADS 1``) alone, and returns None when threadpoolctl is not installed
    (``pip install threadpoolctl``, part of the ``[distributed]`` extra). Collective over the
    ranks of this machine: call it on every rank, after ``init()``.
    """
    threads = share_of_cores()
    if any(name in os.environ for name in _ENVIRONMENT):
        return None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    threadpool_limits(threads, user_api="blas")
    return threads
