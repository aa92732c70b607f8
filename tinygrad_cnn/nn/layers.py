"""Layers with PyTorch's names, argument order, parameter shapes and default initialisation."""

from __future__ import annotations

import math

import numpy as np

from .. import functional as F
from ..arguments import int_pair
from ..functional.layers import transposed_size
from ..ops.window import window_geometry
from ..random import generator
from ..tensor import Tensor
from .module import Module, Parameter

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")

__all__ = ["Conv2d", "ConvTranspose2d", "Linear", "Flatten", "Upsample"]


def _uniform(shape: tuple[int, ...], fan_in: int) -> Parameter:
    """U(-1/sqrt(fan_in), 1/sqrt(fan_in)): PyTorch's default for Linear and Conv2d weights
    (kaiming_uniform with a=sqrt(5)) and biases."""
    bound = 1.0 / math.sqrt(fan_in)
    return Parameter(generator().uniform(-bound, bound, size=shape).astype(np.float32))


def _arguments(**given) -> str:
    """Keyword arguments for a repr, as ``kernel_size=3, padding=1``."""
    return ", ".join(f"{k}={v!r}" for k, v in given.items())


def _changed(**given: tuple) -> dict:
    """The arguments whose value differs from their default, given as name=(value, default)."""
    return {name: value for name, (value, default) in given.items() if value != default}


def _positive_int(layer: str, name: str, value) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{layer}: {name} must be a positive int, got {value!r}")
    return int(value)


class Conv2d(Module):
    """2-D convolution: (B, C, H, W) -> (B, M, O_h, O_w) with C = in_channels, M = out_channels.

    weight (M, C/groups, K_h, K_w), bias (M,). Composed of im2col -> matmul -> bias add ->
    reshape -> transpose (see :func:`tinygrad_cnn.functional.conv2d`).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
    ):
        super().__init__()
        self.in_channels = _positive_int("Conv2d", "in_channels", in_channels)
        self.out_channels = _positive_int("Conv2d", "out_channels", out_channels)
        self.groups = _positive_int("Conv2d", "groups", groups)
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"Conv2d: groups={groups} must divide in_channels={in_channels} "
                f"and out_channels={out_channels}"
            )
        if padding_mode not in PADDING_MODES:
            raise ValueError(
                f"Conv2d: padding_mode must be one of {', '.join(PADDING_MODES)}, "
                f"got {padding_mode!r}"
            )
        self.kernel_size = int_pair("Conv2d", "kernel_size", kernel_size, 1)
        # pairs, as PyTorch keeps them (padding stays "same" or a nested pair if given so)
        self.stride, self.dilation = (
            int_pair("Conv2d", "stride", stride, 1),
            int_pair("Conv2d", "dilation", dilation, 1),
        )
        self.padding = (
            int_pair("Conv2d", "padding", padding, 0)
            if isinstance(padding, (int, np.integer))
            else padding
        )
        self.padding_mode = padding_mode
        self._given = _arguments(
            kernel_size=kernel_size,
            **_changed(
                stride=(stride, 1),
                padding=(padding, 0),
                dilation=(dilation, 1),
                groups=(groups, 1),
                bias=(bias, True),
                padding_mode=(padding_mode, "zeros"),
            ),
        )
        fan_in = self.in_channels // groups * self.kernel_size[0] * self.kernel_size[1]
        self.weight = _uniform(
            (self.out_channels, self.in_channels // groups, *self.kernel_size), fan_in
        )
        self.bias = _uniform((self.out_channels,), fan_in) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, M, O_h, O_w). A padding_mode other than zeros pads first (F.pad)."""
        if self.padding_mode == "zeros":
            return F.conv2d(
                x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
            )
        shape = x.shape if isinstance(x, Tensor) else np.shape(x)
        g = window_geometry(
            "Conv2d", shape, self.kernel_size, self.stride, self.padding, self.dilation
        )
        (top, bottom), (left, right) = g.padding
        x = F.pad(x, (left, right, top, bottom), mode=self.padding_mode)
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, {self._given}"


class ConvTranspose2d(Module):
    """Transposed convolution: (B, C, H, W) -> (B, M, O_h, O_w) with C = in_channels,
    M = out_channels, O = (H - 1)*S - 2P + D*(K - 1) + output_padding + 1.

    weight (C, M/groups, K_h, K_w), bias (M,), as PyTorch's (both drawn from
    U(-1/sqrt(M/groups*K_h*K_w), +)). Composed of matmul -> col2im -> bias add (see
    :func:`tinygrad_cnn.functional.conv_transpose2d`).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups: int = 1,
        bias: bool = True,
        dilation=1,
        padding_mode: str = "zeros",
    ):
        super().__init__()
        name = "ConvTranspose2d"
        self.in_channels = _positive_int(name, "in_channels", in_channels)
        self.out_channels = _positive_int(name, "out_channels", out_channels)
        self.groups = _positive_int(name, "groups", groups)
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: groups={groups} must divide in_channels={in_channels} "
                f"and out_channels={out_channels}"
            )
        if padding_mode != "zeros":
            raise ValueError(
                f"{name}: only padding_mode='zeros' is supported (as in PyTorch), "
                f"got {padding_mode!r}"
            )
        self.kernel_size = int_pair(name, "kernel_size", kernel_size, 1)
        self.stride, self.padding = (
            int_pair(name, "stride", stride, 1),
            int_pair(name, "padding", padding, 0),
        )
        self.output_padding = int_pair(name, "output_padding", output_padding, 0)
        self.dilation = int_pair(name, "dilation", dilation, 1)
        self._given = _arguments(
            kernel_size=kernel_size,
            **_changed(
                stride=(stride, 1),
                padding=(padding, 0),
                output_padding=(output_padding, 0),
                groups=(groups, 1),
                bias=(bias, True),
                dilation=(dilation, 1),
            ),
        )
        fan_in = self.out_channels // groups * self.kernel_size[0] * self.kernel_size[1]
        self.weight = _uniform(
            (self.in_channels, self.out_channels // groups, *self.kernel_size), fan_in
        )
        self.bias = _uniform((self.out_channels,), fan_in) if bias else None

    def forward(self, x: Tensor, output_size: tuple[int, ...] | None = None) -> Tensor:
        """(B, C, H, W) -> (B, M, O_h, O_w). ``output_size`` (O_h, O_w), or a shape ending in
        them, picks the output padding that gives that size, as PyTorch (a stride-2 layer can
        make 2H or 2H + 1, e.g. to match a U-Net skip of odd size)."""
        output_padding = (
            self.output_padding if output_size is None else self._output_padding(x, output_size)
        )
        return F.conv_transpose2d(
            x,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            output_padding,
            self.groups,
            self.dilation,
        )

    def _output_padding(self, x: Tensor, output_size: tuple[int, ...]) -> tuple[int, int]:
        """The output padding that makes an (O_h, O_w) output;
        a size out of reach is a ValueError."""
        wanted = tuple(output_size)[-2:]
        spans = [
            transposed_size("ConvTranspose2d", n, k, s, p, 0, d)
            for n, k, s, p, d in zip(
                np.shape(x)[2:], self.kernel_size, self.stride, self.padding, self.dilation
            )
        ]
        extra = tuple(int(o) - span for o, span in zip(wanted, spans))
        limits = [max(s, d) for s, d in zip(self.stride, self.dilation)]
        if len(wanted) != 2 or any(not 0 <= e < limit for e, limit in zip(extra, limits)):
            raise ValueError(
                f"ConvTranspose2d: output_size {tuple(output_size)} is out of reach for input "
                f"{np.shape(x)}: each of (O_h, O_w) must lie in "
                f"[{spans[0]}, {spans[0] + limits[0]}) "
                f"and [{spans[1]}, {spans[1] + limits[1]})"
            )
        return extra

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, {self._given}"


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
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


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


class Upsample(Module):
    """Resize (B, C, H, W) -> (B, C, O_h, O_w) to ``size`` or by ``scale_factor``, with
    :func:`tinygrad_cnn.functional.interpolate`'s modes ("nearest", "nearest-exact", "bilinear")."""

    def __init__(
        self, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None
    ):
        super().__init__()
        if isinstance(scale_factor, (tuple, list)):  # floats, as PyTorch keeps them
            scale_factor = tuple(float(f) for f in scale_factor)
        elif scale_factor is not None:
            scale_factor = float(scale_factor)
        self.size, self.scale_factor, self.mode, self.align_corners = (
            size,
            scale_factor,
            mode,
            align_corners,
        )

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, C, O_h, O_w)."""
        return F.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners)

    def extra_repr(self) -> str:
        given = {
            "size": self.size,
            "scale_factor": self.scale_factor,
            "mode": self.mode,
            "align_corners": self.align_corners,
        }
        return _arguments(**{k: v for k, v in given.items() if v is not None})
