"""A small U-Net (Ronneberger et al., 2015) for segmentation: an encoder that halves the map
at each level, a decoder that doubles it back with transposed convolutions, and skip
connections that concatenate each encoder level's features onto the decoder's."""

from __future__ import annotations

from .. import nn
from ..tensor import Tensor
from ..tensor_functions import cat

__all__ = ["DoubleConv", "Down", "UNet"]


class DoubleConv(nn.Sequential):
    """(conv 3x3 -> BN -> ReLU) twice: (B, C, H, W) -> (B, M, H, W)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )


class Down(nn.Sequential):
    """max-pool 2x2 -> DoubleConv: (B, C, H, W) -> (B, M, H/2, W/2), one level down."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))


class UNet(nn.Module):
    """(B, C, H, W) -> per-pixel class scores (B, classes, H, W); H and W divisible by 2^depth.

    With w = width and depth 2: inc (B, w, H, W) -> down[0] (B, 2w, H/2, W/2) -> down[1], the
    bottleneck, (B, 4w, H/4, W/4) -> up[0] (B, 2w, H/2, W/2), cat with down[0]'s output
    (B, 4w, H/2, W/2) -> decode[0] (B, 2w, H/2, W/2) -> up[1] (B, w, H, W), cat with inc's
    (B, 2w, H, W) -> decode[1] (B, w, H, W) -> head, a 1x1 conv, (B, classes, H, W).
    """

    def __init__(self, in_channels: int = 1, classes: int = 2, width: int = 16, depth: int = 2):
        super().__init__()
        widths = [width * 2**level for level in range(depth + 1)]
        self.depth = depth
        self.inc = DoubleConv(in_channels, width)
        self.down = nn.ModuleList(Down(c, m) for c, m in zip(widths, widths[1:]))
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(m, c, 2, stride=2) for c, m in zip(widths[-2::-1], widths[:0:-1])
        )
        self.decode = nn.ModuleList(DoubleConv(2 * c, c) for c in widths[-2::-1])
        self.head = nn.Conv2d(width, classes, 1)

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, classes, H, W)."""
        if x.ndim != 4 or x.shape[2] % 2**self.depth or x.shape[3] % 2**self.depth:
            raise ValueError(
                f"UNet: input must be (B, C, H, W) with H and W divisible by 2^depth = "
                f"{2**self.depth}, got {x.shape}"
            )
        skips = [self.inc(x)]
        for down in self.down:
            skips.append(down(skips[-1]))
        x = skips.pop()  # the bottleneck
        for up, decode, skip in zip(self.up, self.decode, reversed(skips)):
            x = decode(cat([skip, up(x)], axis=1))
        return self.head(x)
