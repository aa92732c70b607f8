"""Gradient clipping, as torch.nn.utils: applied between ``backward()`` and ``step()``."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _with_grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale all gradients together so that their joint ``norm_type``-norm (the norm of all of
    them as one vector; ``inf`` for the largest magnitude) is at most ``max_norm``. Returns
    that norm before clipping, as a 0-d Tensor. A NaN or infinite norm raises with
    ``error_if_nonfinite``; otherwise the gradients are scaled by it like any other, as PyTorch."""
    parameters = _with_grads(parameters)  # once: a generator can be read only once
    grads = [p.grad.data for p in parameters]
    if not grads:
        return Tensor(0.0)
    norm_type = float(norm_type)
    if norm_type == math.inf:
        total = max(float(np.abs(g).max(initial=0.0)) for g in grads)
    else:
        total = float(
            sum(float(np.sum(np.abs(g.astype(np.float64)) ** norm_type)) for g in grads)
            ** (1.0 / norm_type)
        )
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of the gradients is {total}; "
            f"set error_if_nonfinite=False to clip anyway"
        )
    scale = float(max_norm) / (total + 1e-6)
    if scale < 1.0:
        for p in parameters:
            p.grad.data = p.grad.data * p.grad.dtype.type(scale)
    return Tensor(np.float32(total))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clip every gradient element to [-clip_value, clip_value]."""
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    for p in _with_grads(parameters):
        p.grad.data = np.clip(p.grad.data, -clip_value, clip_value)
