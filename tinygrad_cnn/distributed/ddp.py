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
    groups: dict[np.dtype, list[Tensor]] = {}
    for tensor in tensors:
        groups.setdefault(tensor.data.dtype, []).append(tensor)
    return groups


def _offsets(arrays: Sequence[Any]) -> list[int]:
    """Where each array starts in their concatenation, and the end: [0, n0, n0 + n1, ...]."""
    return np.cumsum([0] + [a.size for a in arrays]).tolist()


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
    must receive a gradient in each backward; the next forward raises, naming those that did
    not. ``close()`` (or leaving a ``with`` block) takes the gradient hooks off the parameters.

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
        broadcast_parameters(module)
        named = [(name, p) for name, p in module.named_parameters() if p.requires_grad]
        self.buckets = plan_buckets(named, int(bucket_cap_mb * 2**20))
        sizes = {name: p.data.size for name, p in named}
        dtypes = {name: p.data.dtype for name, p in named}
        self._flat = [
            np.empty(sum(sizes[n] for n in names), dtypes[names[0]]) for names in self.buckets
        ]
        self._arrived: dict[str, np.ndarray] = {}  # name -> the gradient backward will store
        self._handles = [p.register_hook(self._hook(name)) for name, p in named]

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """``module(*args, **kwargs)``, after rank 0's buffers in training mode."""
        self._check_last_backward()
        if self.broadcast_buffers and self.training:
            _broadcast_tensors(self.module.buffers(), 0)
        return self.module(*args, **kwargs)

    def _hook(self, name: str):
        def hook(grad: Tensor) -> None:
            if grad.requires_grad:
                raise RuntimeError(
                    "DistributedDataParallel: backward(create_graph=True) is not supported: "
                    "the averaged gradient would lose its graph"
                )
            # the engine stores this array (its own copy) in .grad after every hook has run,
            # so averaging it in place, once all have arrived, is what .grad receives
            self._arrived[name] = grad.data
            if len(self._arrived) == len(self._handles):
                self._average()

        return hook

    def _average(self) -> None:
        """All-reduce each bucket (the same order on every rank) and write the means back."""
        for names, flat in zip(self.buckets, self._flat):
            grads = [self._arrived[n] for n in names]
            at = _offsets(grads)
            for grad, start, stop in zip(grads, at, at[1:]):
                flat[start:stop] = grad.ravel()
            all_reduce(flat, "mean")
            for grad, start, stop in zip(grads, at, at[1:]):
                grad[...] = flat[start:stop].reshape(grad.shape)
        self._arrived.clear()

    def _check_last_backward(self) -> None:
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
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self) -> DistributedDataParallel:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
