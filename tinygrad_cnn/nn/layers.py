"""Layers with PyTorch's names, argument order, parameter shapes and default initialisation."""
from __future__ import annotations

import math

import numpy as np

from .. import functional as F
from ..ops.window import _pair
from ..random import generator
from ..tensor import Tensor
from .module import Module, Parameter

__all__ = ["Conv2d", "MaxPool2d", "AvgPool2d", "Linear", "Flatten"]


def _uniform(shape: tuple[int, ...], fan_in: int) -> Parameter:
    """U(-1/sqrt(fan_in), 1/sqrt(fan_in)): PyTorch's default for Linear and Conv2d weights
    (kaiming_uniform with a=sqrt(5)) and biases."""
    bound = 1.0 / math.sqrt(fan_in)
    return Parameter(generator().uniform(-bound, bound, size=shape).astype(np.float32))


def _arguments(**given) -> str:
    """Keyword arguments for a repr, as ``kernel_size=3, padding=1``."""
    return ", ".join(f"{k}={v!r}" for k, v in given.items())


def _positive_int(layer: str, name: str, value) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{layer}: {name} must be a positive int, got {value!r}")
    return int(value)


class Conv2d(Module):
    """2-D convolution: (B, C, H, W) -> (B, M, O_h, O_w) with C = in_channels, M = out_channels.

    weight (M, C/groups, K_h, K_w), bias (M,). Composed of im2col -> matmul -> bias add -> reshape ->
    transpose (see :func:`tinygrad_cnn.functional.conv2d`).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True):
        super().__init__()
        self.in_channels = _positive_int("Conv2d", "in_channels", in_channels)
        self.out_channels = _positive_int("Conv2d", "out_channels", out_channels)
        self.groups = _positive_int("Conv2d", "groups", groups)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"Conv2d: groups={groups} must divide in_channels={in_channels} and out_channels={out_channels}")
        self.kernel_size = _pair("Conv2d", "kernel_size", kernel_size, 1)
        self.stride, self.padding, self.dilation = stride, padding, dilation
        optional = {"stride": (stride, 1), "padding": (padding, 0), "dilation": (dilation, 1), "groups": (groups, 1),
                    "bias": (bias, True)}
        self._given = _arguments(kernel_size=kernel_size, **{k: v for k, (v, default) in optional.items() if v != default})
        fan_in = self.in_channels // groups * self.kernel_size[0] * self.kernel_size[1]
        self.weight = _uniform((self.out_channels, self.in_channels // groups, *self.kernel_size), fan_in)
        self.bias = _uniform((self.out_channels,), fan_in) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, M, O_h, O_w)."""
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, {self._given}"


class _Pool2d(Module):
    """Shared constructor and repr of the pooling layers; ``function`` is the pooling function."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, C, O_h, O_w)."""
        return self.function(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        optional = {k: v for k, v in (("stride", self.stride), ("padding", self.padding)) if v not in (None, 0)}
        return _arguments(kernel_size=self.kernel_size, **optional)


class MaxPool2d(_Pool2d):
    """Max over K_h x K_w windows: (B, C, H, W) -> (B, C, O_h, O_w); stride defaults to the kernel."""

    function = staticmethod(F.max_pool2d)


class AvgPool2d(_Pool2d):
    """Mean over K_h x K_w windows (padding zeros included): (B, C, H, W) -> (B, C, O_h, O_w)."""

    function = staticmethod(F.avg_pool2d)


class Linear(Module):
    """x @ weight^T + bias: (..., in_features) -> (..., out_features); weight (out, in)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True):
        super().__init__()
        self.in_features = _positive_int("Linear", "in_features", in_features)
        self.out_features = _positive_int("Linear", "out_features", out_features)
        self.weight = _uniform((self.out_features, self.in_features), self.in_features)
        self.bias = _uniform((self.out_features,), self.in_features) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        """(..., in_features) -> (..., out_features)."""
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Flatten(Module):
    """Merge axes ``start_dim`` .. ``end_dim``: (B, C, H, W) -> (B, C*H*W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, C*H*W) with the default axes."""
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
