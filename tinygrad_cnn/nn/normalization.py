"""Dropout, normalisation (batch, instance, group, layer) and global average pooling layers."""

from __future__ import annotations

import numpy as np

from .. import functional as F
from ..arguments import sizes
from ..tensor import Tensor
from .layers import _positive_int
from .module import Buffer, Module, Parameter

__all__ = [
    "Dropout",
    "Dropout2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "InstanceNorm2d",
    "GroupNorm",
    "LayerNorm",
    "GlobalAvgPool2d",
]


class Dropout(Module):
    """Zero elements with probability p (scaling the rest by 1 / (1 - p)) in training mode only."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: p must lie in [0, 1], got {p!r}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        """Same shape in, same shape out."""
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Dropout2d(Dropout):
    """Zero whole channels of (B, C, H, W) with probability p (scaling the rest by 1 / (1 - p))
    in training mode only."""

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> the same shape."""
        return F.dropout2d(x, self.p, self.training)


def _filled(shape: int | tuple[int, ...], value: float) -> Parameter:
    """A float32 Parameter full of ``value``: PyTorch's initial scale (1) or shift (0)."""
    return Parameter(np.full(shape, value, dtype=np.float32))


class _NormBase(Module):
    """Per-channel scale and shift and running statistics, with PyTorch's parameter and buffer
    names (weight, bias, running_mean, running_var, num_batches_tracked), so a state_dict
    loads into the same PyTorch model."""

    def __init__(
        self,
        num_features: int,
        eps: float,
        momentum: float,
        affine: bool,
        track_running_stats: bool,
        bias: bool,
    ):
        super().__init__()
        self.num_features = _positive_int(type(self).__name__, "num_features", num_features)
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = _filled(num_features, 1.0) if affine else None
        self.bias = _filled(num_features, 0.0) if affine and bias else None
        if track_running_stats:
            self.running_mean = Buffer(np.zeros(num_features, dtype=np.float32))
            self.running_var = Buffer(np.ones(num_features, dtype=np.float32))
            self.num_batches_tracked = Buffer(np.array(0, dtype=np.int64))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None


class _BatchNorm(_NormBase):
    """Batch normalisation: each channel normalised with the batch's statistics in training,
    the running ones in evaluation."""

    dims: tuple[int, ...] = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        bias: bool = True,
    ):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, bias)

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, ...) -> the same shape, each channel normalised."""
        name = type(self).__name__
        if x.ndim not in self.dims or x.shape[1] != self.num_features:
            raise ValueError(
                f"{name}: expected a {' or '.join(f'{d}-D' for d in self.dims)} input with "
                f"{self.num_features} channels on axis 1, got shape {x.shape}"
            )
        momentum = self.momentum
        if self.training and self.num_batches_tracked is not None:
            self.num_batches_tracked.data = self.num_batches_tracked.data + 1
            if (
                momentum is None
            ):  # PyTorch's cumulative moving average: the mean of every batch so far
                momentum = 1.0 / float(self.num_batches_tracked.data)
        return F.batch_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or self.running_mean is None,
            0.0 if momentum is None else momentum,
            self.eps,
        )

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (B, C) or (B, C, L) inputs, over B (and L)."""

    dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (B, C, H, W) inputs, over B, H and W."""

    dims = (4,)


class InstanceNorm2d(_NormBase):
    """Instance normalisation of (B, C, H, W): each channel of each sample normalised over its
    own H x W, as PyTorch's. With ``track_running_stats`` the running statistics move in
    training and normalise in evaluation; ``affine`` adds a learned per-channel scale and
    shift."""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        *,
        bias: bool = True,
    ):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, bias)

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> the same shape; one unbatched image (C, H, W) too, as PyTorch."""
        if x.ndim == 3 and x.shape[0] == self.num_features:
            return self.forward(x.reshape(1, *x.shape)).reshape(*x.shape)
        if x.ndim != 4 or x.shape[1] != self.num_features:
            raise ValueError(
                f"InstanceNorm2d: expected a 4-D input (B, C, H, W) or a 3-D (C, H, W) with "
                f"{self.num_features} channels, got shape {x.shape}"
            )
        momentum = 0.0 if self.momentum is None else self.momentum  # PyTorch reads None as 0 here
        return F.instance_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            momentum,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class GroupNorm(Module):
    """Group normalisation of (B, C, ...): each sample's channels normalised in ``num_groups``
    groups of C/G consecutive channels, with a learned per-channel weight and bias (``affine``),
    as PyTorch's."""

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        *,
        bias: bool = True,
    ):
        super().__init__()
        self.num_groups = _positive_int("GroupNorm", "num_groups", num_groups)
        self.num_channels = _positive_int("GroupNorm", "num_channels", num_channels)
        if num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_groups={num_groups} must divide num_channels={num_channels}"
            )
        self.eps, self.affine = eps, affine
        self.weight = _filled(num_channels, 1.0) if affine else None
        self.bias = _filled(num_channels, 0.0) if affine and bias else None

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, ...) -> the same shape."""
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(
                f"GroupNorm: expected a (B, C, ...) input with {self.num_channels} channels "
                f"on axis 1, got shape {x.shape}"
            )
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )


class LayerNorm(Module):
    """Layer normalisation: each sample normalised over its trailing axes ``normalized_shape``
    N, with a learned elementwise weight and bias of shape N (``elementwise_affine``), as
    PyTorch's: (*, *N) -> (*, *N)."""

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
    ):
        super().__init__()
        self.normalized_shape = sizes("LayerNorm", (normalized_shape,))
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self.weight = _filled(self.normalized_shape, 1.0) if elementwise_affine else None
        self.bias = _filled(self.normalized_shape, 0.0) if elementwise_affine and bias else None

    def forward(self, x: Tensor) -> Tensor:
        """(*, *N) -> the same shape."""
        shape = self.normalized_shape
        if x.shape[x.ndim - len(shape) :] != shape:
            raise ValueError(
                f"LayerNorm: expected an input whose trailing axes are normalized_shape {shape}, "
                f"got shape {x.shape}"
            )
        return F.layer_norm(x, shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )


class GlobalAvgPool2d(Module):
    """Mean of each channel over its whole map: (B, C, H, W) -> (B, C)."""

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, C)."""
        return F.global_avg_pool2d(x)
