"""Dropout, batch normalisation and global average pooling layers."""
from __future__ import annotations

import numpy as np

from .. import functional as F
from ..tensor import Tensor
from .layers import _positive_int
from .module import Buffer, Module, Parameter

__all__ = ["Dropout", "BatchNorm1d", "BatchNorm2d", "GlobalAvgPool2d"]


class Dropout(Module):
    """Zero elements with probability p (scaling the rest by 1 / (1 - p)) in training mode only."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must lie in [0, 1], got {p!r}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        """Same shape in, same shape out."""
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class _BatchNorm(Module):
    """Per-channel normalisation with learned scale and shift and running statistics, with
    PyTorch's parameter and buffer names (weight, bias, running_mean, running_var,
    num_batches_tracked), so a state_dict loads into the same PyTorch model."""

    dims: tuple[int, ...] = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, affine: bool = True,
                 track_running_stats: bool = True):
        super().__init__()
        self.num_features = _positive_int(type(self).__name__, "num_features", num_features)
        self.eps, self.momentum = eps, momentum
        self.weight = Parameter(np.ones(num_features, dtype=np.float32)) if affine else None
        self.bias = Parameter(np.zeros(num_features, dtype=np.float32)) if affine else None
        if track_running_stats:
            self.running_mean = Buffer(np.zeros(num_features, dtype=np.float32))
            self.running_var = Buffer(np.ones(num_features, dtype=np.float32))
            self.num_batches_tracked = Buffer(np.array(0, dtype=np.int64))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, ...) -> the same shape, each channel normalised."""
        name = type(self).__name__
        if x.ndim not in self.dims or x.shape[1] != self.num_features:
            raise ValueError(f"{name}: expected a {' or '.join(f'{d}-D' for d in self.dims)} input with "
                             f"{self.num_features} channels on axis 1, got shape {x.shape}")
        if self.training and self.num_batches_tracked is not None:
            self.num_batches_tracked.data = self.num_batches_tracked.data + 1
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or self.running_mean is None, self.momentum, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (B, C) or (B, C, L) inputs, over B (and L)."""

    dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (B, C, H, W) inputs, over B, H and W."""

    dims = (4,)


class GlobalAvgPool2d(Module):
    """Mean of each channel over its whole map: (B, C, H, W) -> (B, C)."""

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, C)."""
        return F.global_avg_pool2d(x)
