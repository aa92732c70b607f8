"""Pooling layers: max and mean over sliding windows, and adaptive pooling to a fixed size."""

from __future__ import annotations

from .. import functional as F
from ..tensor import Tensor
from .layers import _arguments, _changed
from .module import Module

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d"]


class MaxPool2d(Module):
    """Max over K_h x K_w windows: (B, C, H, W) -> (B, C, O_h, O_w); stride defaults to the
    kernel. See :func:`tinygrad_cnn.functional.max_pool2d` for dilation and ceil_mode."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False):
        super().__init__()
        # as PyTorch
        self.kernel_size, self.stride = (
            kernel_size,
            kernel_size if stride is None else stride,
        )
        self.padding, self.dilation, self.ceil_mode = padding, dilation, ceil_mode

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, C, O_h, O_w)."""
        return F.max_pool2d(
            x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode
        )

    def extra_repr(self) -> str:
        return _arguments(
            kernel_size=self.kernel_size,
            **_changed(
                stride=(self.stride, self.kernel_size),
                padding=(self.padding, 0),
                dilation=(self.dilation, 1),
                ceil_mode=(self.ceil_mode, False),
            ),
        )


class AvgPool2d(Module):
    """Mean over K_h x K_w windows: (B, C, H, W) -> (B, C, O_h, O_w); stride defaults to the
    kernel. See :func:`tinygrad_cnn.functional.avg_pool2d` for ceil_mode, count_include_pad
    and divisor_override."""

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ):
        super().__init__()
        # as PyTorch
        self.kernel_size, self.stride = (
            kernel_size,
            kernel_size if stride is None else stride,
        )
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, C, O_h, O_w)."""
        return F.avg_pool2d(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self) -> str:
        return _arguments(
            kernel_size=self.kernel_size,
            **_changed(
                stride=(self.stride, self.kernel_size),
                padding=(self.padding, 0),
                ceil_mode=(self.ceil_mode, False),
                count_include_pad=(self.count_include_pad, True),
                divisor_override=(self.divisor_override, None),
            ),
        )


class _AdaptivePool2d(Module):
    """The output size both adaptive pools keep, and their repr."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size!r}"


class AdaptiveAvgPool2d(_AdaptivePool2d):
    """Mean over PyTorch's adaptive bins: (B, C, H, W) -> (B, C, O_h, O_w) for ``output_size``
    (an int, a pair, None keeping that axis). ``AdaptiveAvgPool2d(1)`` is global average pooling."""

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, C, O_h, O_w)."""
        return F.adaptive_avg_pool2d(x, self.output_size)


class AdaptiveMaxPool2d(_AdaptivePool2d):
    """Max over PyTorch's adaptive bins: (B, C, H, W) -> (B, C, O_h, O_w) for ``output_size``."""

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, C, O_h, O_w)."""
        return F.adaptive_max_pool2d(x, self.output_size)
