"""Dropout and global average pooling, composed from registered ops."""

from __future__ import annotations

from ..random import generator
from ..tensor import Tensor
from .common import as_tensor

__all__ = ["dropout", "dropout2d", "global_avg_pool2d"]


def _drop(op: str, x: Tensor, p: float, training: bool, mask_shape: tuple[int, ...]) -> Tensor:
    """x times a keep-mask of ``mask_shape`` (broadcast over x) scaled by 1 / (1 - p)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: p must lie in [0, 1], got {p!r}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    keep = generator().random(mask_shape) >= p
    return x * (keep / (1.0 - p)).astype(x.dtype)


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability p and scale the rest by 1 / (1 - p), in training;
    the identity otherwise. The mask comes from the framework's generator (``manual_seed``)."""
    x = as_tensor("dropout", "input", x)
    return _drop("dropout", x, p, training, x.shape)


def dropout2d(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each whole channel of (B, C, H, W) with probability p and scale the rest by
    1 / (1 - p), in training; the identity otherwise. The (B, C, 1, 1) mask comes from the
    framework's generator (``manual_seed``)."""
    x = as_tensor("dropout2d", "input", x)
    if x.ndim != 4:
        raise ValueError(f"dropout2d: input must be (B, C, H, W), got shape {x.shape}")
    return _drop("dropout2d", x, p, training, (*x.shape[:2], 1, 1))


def global_avg_pool2d(x: Tensor) -> Tensor:
    """Mean of each channel over its whole map: (B, C, H, W) -> (B, C)."""
    x = as_tensor("global_avg_pool2d", "input", x)
    if x.ndim != 4:
        raise ValueError(f"global_avg_pool2d: input must be (B, C, H, W), got {x.shape}")
    return x.mean(axis=(2, 3))
