"""Data parallelism: every rank holds the whole model and computes the gradient of its own
shard of the batch; the gradients are averaged across ranks, so every rank takes the same step.

The average is an all-reduce over a few large flat buffers ("buckets") rather than one per
parameter: every MPI message pays a fixed cost (a Python call, a handshake, a network round
trip between hosts) before its first byte moves, so a few large messages beat many small ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..nn import Module
from ..tensor import Tensor
from .comm import _world, all_reduce, broadcast, rank

__all__ = ["broadcast_parameters", "plan_buckets", "DistributedDataParallel"]

BUCKET_CAP_MB = 25.0
"""Default bucket size in MiB, as PyTorch's DDP: large enough that a small CNN's gradients
travel as one message."""


def _by_dtype(tensors: Iterable[Tensor]) -> dict[np.dtype, list[Tensor]]:
    """The tensors grouped by their dtype, in order within each group."""
    groups: dict[np.dtype, list[Tensor]] = {}
    for tensor in tensors:
        groups.setdefault(tensor.data.dtype, []).append(tensor)
    return groups


def _offsets(arrays: Sequence[Any]) -> list[int]:
    """Where each array starts in their concatenation, and the end: [0, n0, n0 + n1, ...]."""
    return np.cumsum([0] + [a.size for a in arrays]).tolist()


def _last_hooks(named: Sequence[tuple[str, Tensor]]) -> list[tuple]:
    """Each parameter's name, dtype and last gradient hook: what the wrapper's hooks and
    buckets depend on."""
    return [(name, p.dtype, p._hooks[-1] if p._hooks else None) for name, p in named]


def _broadcast_tensors(tensors: Iterable[Tensor], root: int) -> None:
    """Replace every rank's arrays by ``root``'s, one message per dtype."""
    for dtype, group in _by_dtype(tensors).items():
        at = _offsets(group)
        flat = np.empty(at[-1], dtype)
        for tensor, start, stop in zip(group, at, at[1:]):
            flat[start:stop] = tensor.data.ravel()
        broadcast(flat, root)
        if rank() != root:
            for tensor, start, stop in zip(group, at, at[1:]):
                tensor.data = flat[start:stop].reshape(tensor.shape).copy()


def broadcast_parameters(model: Module, root: int = 0) -> None:
    """Give every rank ``root``'s parameters and buffers (BatchNorm's running statistics), so
    all ranks start from the same weights however each initialised its own. Collective."""
    _world("broadcast_parameters")
    _broadcast_tensors([*model.parameters(), *model.buffers()], root)


def plan_buckets(
    parameters: Sequence[tuple[str, Tensor]], cap_bytes: int = int(BUCKET_CAP_MB * 2**20)
) -> list[list[str]]:
    """Group named parameters into buckets, each all-reduced as one flat buffer.

    In reverse order (backward finishes the last layer's gradient first), one dtype per
    bucket, a new bucket when the next parameter would take it past ``cap_bytes``; a
    parameter larger than the cap gets a bucket of its own. Returns the names per bucket.
    """
    buckets: list[list[str]] = []
    size, dtype = 0, None
    for name, parameter in reversed(parameters):
        nbytes = parameter.data.nbytes
        if not buckets or parameter.data.dtype != dtype or size + nbytes > cap_bytes:
            buckets.append([])
            size, dtype = 0, parameter.data.dtype
        buckets[-1].append(name)
        size += nbytes
    return buckets


class DistributedDataParallel(Module):
    """``module`` trained on every rank at once: call this wrapper where you called the model.

    On construction every rank takes rank 0's parameters and buffers. In training mode each
    forward first takes rank 0's buffers again (as PyTorch's ``broadcast_buffers=True``),
    then runs ``module`` on this rank's inputs: BatchNorm normalises with this rank's shard's
    statistics, as PyTorch's DDP without SyncBatchNorm. After ``backward()``, once every
    parameter's gradient has arrived, the gradients are averaged across ranks, bucket by
    bucket, before they reach ``.grad``: every rank then holds the same ``.grad`` and its
    optimizer takes the same step.

    Every rank must run the same number of training forwards and backwards (they are
    collectives); eval-mode forwards communicate nothing. Every parameter that requires grad
    must receive a gradient in each backward; the next forward or backward raises, naming
    those that did not. Each forward first looks at the parameters again, so freezing one
    (``requires_grad=False``), ``to(dtype)`` or a hook of your own registered on a parameter
    (it then runs before the average, as in PyTorch) takes effect from the next forward.
    ``close()`` (or leaving a ``with`` block) takes the gradient hooks off the parameters.

    bucket_cap_mb: largest bucket in MiB (:func:`plan_buckets`); ``buckets`` lists the
    parameter names in each.
    """

    def __init__(
        self, module: Module, bucket_cap_mb: float = BUCKET_CAP_MB, broadcast_buffers: bool = True
    ):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(
                f"DistributedDataParallel: module must be a tinygrad_cnn Module, "
                f"got {type(module).__name__}"
            )
        _world("DistributedDataParallel")
        self.module, self.broadcast_buffers = module, broadcast_buffers
        self.cap_bytes = int(bucket_cap_mb * 2**20)
        broadcast_parameters(module)
        self.buckets: list[list[str]] = []
        self._arrived: dict[str, np.ndarray] = {}  # name -> the gradient backward will store
        self._handles: list | None = []  # None once closed
        self._attached: list[tuple] = []  # _last_hooks of the parameters when hooked
        self._attach()

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """``module(*args, **kwargs)``, after rank 0's buffers in training mode."""
        if self._handles is None:
            raise RuntimeError(
                "DistributedDataParallel: closed, its gradients are no longer averaged; "
                "call the module itself, or wrap it again"
            )
        self._check_last_backward()
        self._attach()
        if self.broadcast_buffers and self.training:
            _broadcast_tensors(self.module.buffers(), 0)
        return self.module(*args, **kwargs)

    def _attach(self) -> None:
        """Hook every parameter that requires grad now, and plan the buckets for their dtypes.

        Again at each forward, each hook after any other on its parameter: a hook running
        after the average would hand ``.grad`` its own result, computed from this rank's
        gradient alone, and the ranks would step apart.
        """
        named = [(name, p) for name, p in self.module.named_parameters() if p.requires_grad]
        if _last_hooks(named) == self._attached:  # nothing changed since the last forward
            return
        for handle in self._handles:
            handle.remove()
        self.buckets = plan_buckets(named, self.cap_bytes)
        self._handles = [p.register_hook(self._hook(name, p)) for name, p in named]
        self._attached = _last_hooks(named)

    def _hook(self, name: str, parameter: Tensor):
        """The hook that collects ``parameter``'s gradient and, when it is the last of the
        backward pass to arrive, averages all of them."""

        def hook(grad: Tensor) -> None:
            if grad.requires_grad:
                raise RuntimeError(
                    "DistributedDataParallel: backward(create_graph=True) is not supported: "
                    "the averaged gradient would lose its graph"
                )
            if parameter._hooks[-1] is not hook:  # registered since the forward: too late
                self._arrived.clear()
                raise RuntimeError(
                    f"DistributedDataParallel: a hook was registered on {name} after the "
                    f"forward; it would change the gradient after the average, on this rank "
                    f"only. Register it before the forward"
                )
            if name in self._arrived:  # a second backward, and the first did not finish
                self._check_last_backward()
            # the engine stores this array (its own copy) in .grad after every hook has run,
            # so averaging it in place, once all have arrived, is what .grad receives
            self._arrived[name] = grad.data
            if len(self._arrived) == len(self._handles):
                self._average()

        return hook

    def _average(self) -> None:
        """All-reduce each bucket (the same order on every rank) and write the means back."""
        for names in self.buckets:
            grads = [self._arrived[n] for n in names]
            flat = all_reduce(np.concatenate([grad.ravel() for grad in grads]), "mean")
            at = _offsets(grads)
            for grad, start, stop in zip(grads, at, at[1:]):
                grad[...] = flat[start:stop].reshape(grad.shape)
        self._arrived.clear()

    def _check_last_backward(self) -> None:
        """Raise, naming them, when the last backward left parameters without a gradient:
        then nothing was averaged."""
        if self._arrived:
            missing = [n for names in self.buckets for n in names if n not in self._arrived]
            self._arrived.clear()
            raise RuntimeError(
                f"DistributedDataParallel: the last backward gave no gradient to "
                f"{', '.join(missing)}, so no gradient was averaged; every parameter that "
                f"requires grad must take part in the loss (or set requires_grad=False)"
            )

    def close(self) -> None:
        """Take the gradient hooks off the parameters: ``module`` trains alone again."""
        for handle in self._handles or ():
            handle.remove()
        self._handles = None

    def __enter__(self) -> DistributedDataParallel:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
