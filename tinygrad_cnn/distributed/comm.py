"""MPI through mpi4py: start it, ask who this process is, and collectives on numpy buffers.

Nothing here imports mpi4py until :func:`init` runs, so the package imports without it.
Buffers travel as raw memory (mpi4py's upper-case ``Allreduce``/``Bcast``), never pickled.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

__all__ = [
    "init",
    "is_initialized",
    "rank",
    "world_size",
    "barrier",
    "all_reduce",
    "broadcast",
    "abort",
]

INSTALL = "pip install 'tinygrad_cnn[distributed]' (mpi4py and the mpich wheel)"

_state: dict[str, Any] = {}  # "MPI": the mpi4py.MPI module, "comm": COMM_WORLD, once init() ran

_OPS = {"sum": "SUM", "mean": "SUM", "max": "MAX", "min": "MIN"}


def init() -> None:
    """Start MPI for this process (a second call does nothing).

    Launched by ``mpiexec -n N python ...`` each process becomes one rank of N; launched
    alone it is rank 0 of 1, and every collective below returns its input unchanged.
    With more than one rank, an uncaught exception on any rank prints its traceback and ends
    all of them (``MPI_Abort``): the others would otherwise wait forever in their next
    collective. Raises ImportError, in one line, when mpi4py or an MPI library is missing.
    """
    if _state:
        return
    try:
        from mpi4py import MPI
    except ImportError:
        raise ImportError(f"tinygrad_cnn.distributed.init: mpi4py is missing; {INSTALL}") from None
    except RuntimeError as err:  # mpi4py is there, but no MPI library it can load
        reason = "; ".join(str(err).splitlines())
        raise ImportError(f"tinygrad_cnn.distributed.init: {reason}; {INSTALL}") from None
    _state.update(MPI=MPI, comm=MPI.COMM_WORLD)
    if MPI.COMM_WORLD.Get_size() > 1:
        sys.excepthook = _abort_after(sys.excepthook)


def _abort_after(hook):
    """``hook`` (the traceback printer), then MPI_Abort of every rank."""

    def excepthook(kind, value, traceback) -> None:
        hook(kind, value, traceback)
        abort(1)

    return excepthook


def abort(code: int = 1) -> None:
    """End every rank's process with exit status ``code`` (``MPI_Abort``); does nothing in a
    single-rank run, where the caller's own exit is enough. Call it when this rank must stop
    and the others cannot know: they would wait in their next collective for ever."""
    if _state and _state["comm"].Get_size() > 1:
        sys.stdout.flush()
        sys.stderr.flush()
        _state["comm"].Abort(code)


def is_initialized() -> bool:
    """Whether :func:`init` has run in this process."""
    return bool(_state)


def _world(caller: str):
    """COMM_WORLD, or an error naming ``caller`` when init() has not run."""
    if not _state:
        raise RuntimeError(
            f"tinygrad_cnn.distributed.{caller}: call tinygrad_cnn.distributed.init() first"
        )
    return _state["comm"]


def rank() -> int:
    """This process's number, 0 to ``world_size() - 1``; rank 0 prints and writes files."""
    return _world("rank").Get_rank()


def world_size() -> int:
    """How many processes (ranks) take part."""
    return _world("world_size").Get_size()


def barrier() -> None:
    """Wait until every rank has reached this call."""
    _world("barrier").Barrier()


def _buffer(caller: str, array: Any) -> np.ndarray:
    """``array`` checked to be a writeable numpy array, or an error naming ``caller``."""
    if not isinstance(array, np.ndarray):
        raise TypeError(
            f"tinygrad_cnn.distributed.{caller}: array must be a numpy array, "
            f"got {type(array).__name__}"
        )
    if not array.flags.writeable:
        raise ValueError(
            f"tinygrad_cnn.distributed.{caller}: the array {array.shape} is read-only; "
            f"it is reduced in place"
        )
    return array


def _in_place(array: np.ndarray, collective) -> np.ndarray:
    """Run ``collective(buffer)`` on ``array``'s own memory when it is contiguous, else on a
    contiguous copy whose result is written back (MPI needs one block of memory)."""
    buffer = array if array.flags.c_contiguous else np.ascontiguousarray(array)
    collective(buffer)
    if buffer is not array:
        array[...] = buffer
    return array


def all_reduce(array: np.ndarray, op: str = "mean") -> np.ndarray:
    """Combine ``array`` (any shape, the same shape and dtype on every rank) element by element
    across the ranks, in place: every rank ends with the result. Returns ``array``.

    op: "mean" (floating arrays only), "sum", "max" or "min".
    """
    _buffer("all_reduce", array)
    if op not in _OPS:
        raise ValueError(
            f"tinygrad_cnn.distributed.all_reduce: op must be one of {', '.join(_OPS)}, got {op!r}"
        )
    if array.dtype.kind not in "iufc" or (array.dtype.kind == "c" and op in ("max", "min")):
        # MPI defines these ops on numbers only (and orders no complex ones); its own error is
        # a many-line stack that names neither this function nor the array
        raise TypeError(
            f"tinygrad_cnn.distributed.all_reduce: op={op!r} is not defined on {array.dtype} "
            f"arrays; convert it first (e.g. array.astype(np.int64))"
        )
    if op == "mean" and array.dtype.kind != "f":
        raise TypeError(
            f"tinygrad_cnn.distributed.all_reduce: op='mean' needs a floating array, got "
            f"{array.dtype}; use op='sum'"
        )
    comm, MPI = _world("all_reduce"), _state["MPI"]

    def reduce(buffer: np.ndarray) -> None:
        comm.Allreduce(MPI.IN_PLACE, buffer, op=getattr(MPI, _OPS[op]))
        if op == "mean":
            buffer /= comm.Get_size()

    return _in_place(array, reduce)


def broadcast(array: np.ndarray, root: int = 0) -> np.ndarray:
    """Overwrite ``array`` on every rank with rank ``root``'s (same shape and dtype on all
    ranks), in place. Returns ``array``."""
    _buffer("broadcast", array)
    comm = _world("broadcast")
    if not 0 <= root < comm.Get_size():
        raise ValueError(
            f"tinygrad_cnn.distributed.broadcast: root must be a rank 0..{comm.Get_size() - 1}, "
            f"got {root}"
        )
    return _in_place(array, lambda buffer: comm.Bcast(buffer, root=root))


def node_communicator():
    """The ranks sharing this machine's memory (MPI_COMM_TYPE_SHARED), as an mpi4py Comm."""
    comm = _world("node_communicator")
    return comm.Split_type(_state["MPI"].COMM_TYPE_SHARED)
