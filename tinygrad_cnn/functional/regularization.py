"""Dropout, batch normalisation and global average pooling, composed from registered ops."""
from __future__ import annotations


from ..ops.linalg import BiasAdd
from ..random import generator
from ..tensor import Tensor
from .common import as_tensor

__all__ = ["dropout", "batch_norm", "global_avg_pool2d"]


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability p and scale the rest by 1 / (1 - p), in training;
    the identity otherwise. The mask comes from the framework's generator (``manual_seed``)."""
    x = as_tensor("dropout", "input", x)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must lie in [0, 1], got {p!r}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    keep = generator().random(x.shape) >= p
    return x * (keep / (1.0 - p)).astype(x.dtype)


def batch_norm(x: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (axis 1) of (B, C, ...) to zero mean and unit variance, then
    scale by ``weight`` and shift by ``bias`` (both (C,)), as PyTorch's batch_norm.

    Training uses the batch's statistics over every axis but 1, and moves the running ones
    towards them: running = (1 - momentum) * running + momentum * batch (the variance unbiased).
    Evaluation uses the running statistics.
    """
    x = as_tensor("batch_norm", "input", x)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: input must be (B, C, ...), got shape {x.shape}")
    channels = x.shape[1]
    per_channel = (1, channels) + (1,) * (x.ndim - 2)
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (channels,):
            raise ValueError(f"batch_norm: {name} must have shape ({channels},) for input {x.shape}, got {t.shape}")
    if training or running_mean is None or running_var is None:
        count = x.size // channels
        if count < 2 and training:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input {x.shape}")
        axes = (0, *range(2, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        centered = x - mean
        variance = (centered * centered).mean(axis=axes, keepdims=True)
        if training and running_mean is not None and running_var is not None:
            # new arrays, not in-place writes: a graph may hold the old statistics
            running_mean.data = ((1 - momentum) * running_mean.data + momentum * mean.data.reshape(channels)).astype(x.dtype)
            unbiased = variance.data.reshape(channels) * count / (count - 1)
            running_var.data = ((1 - momentum) * running_var.data + momentum * unbiased).astype(x.dtype)
    else:
        centered = x - running_mean.detach().reshape(*per_channel)
        variance = running_var.detach().reshape(*per_channel)
    out = centered / (variance + eps) ** 0.5
    if weight is not None:
        out = out * weight.reshape(*per_channel)
    if bias is not None:
        out = BiasAdd.apply(out, bias, axis=1)
    return out


def global_avg_pool2d(x: Tensor) -> Tensor:
    """Mean of each channel over its whole map: (B, C, H, W) -> (B, C)."""
    x = as_tensor("global_avg_pool2d", "input", x)
    if x.ndim != 4:
        raise ValueError(f"global_avg_pool2d: input must be (B, C, H, W), got {x.shape}")
    return x.mean(axis=(2, 3))
