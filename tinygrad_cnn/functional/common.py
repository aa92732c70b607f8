"""Argument handling shared by the functional modules."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor

__all__ = ["as_tensor", "float_input", "reduce_loss"]


def as_tensor(op: str, name: str, x: Any, dtype: Any = None) -> Tensor:
    """``x`` as a Tensor (arrays and numbers are wrapped, in ``dtype`` if given, else floats
    become float32); anything else is a TypeError."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (np.ndarray, np.number, int, float)) and not isinstance(x, bool):
        return Tensor(x, dtype=dtype)
    raise TypeError(f"{op}: {name} must be a Tensor or numpy array, got {type(x).__name__}")


def float_input(op: str, x: Any) -> Tensor:
    """The input as a Tensor, integers as float32 (a constant): for functions whose values are
    not integers (an activation, a mean, -inf padding), as PyTorch, not numpy's float64."""
    x = as_tensor(op, "input", x)
    return x if x.dtype.kind == "f" else x.astype(np.float32)


def reduce_loss(op: str, losses: Tensor, reduction: str) -> Tensor:
    """Per-element losses reduced as PyTorch's ``reduction``: "mean", "sum" or "none"."""
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    if reduction == "none":
        return losses
    raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
