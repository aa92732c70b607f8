"""ResNets for 32 x 32 images, as He et al. (2016) built them for CIFAR-10: depth 6n + 2, three
stages of n basic blocks at widths 16, 32 and 64, parameter-free shortcuts (their option A)."""

from __future__ import annotations

from .. import functional as F
from .. import nn
from ..tensor import Tensor

__all__ = ["BasicBlock", "ResNet", "resnet8", "resnet20"]


class BasicBlock(nn.Module):
    """conv 3x3 (stride S) -> BN -> ReLU -> conv 3x3 -> BN, plus the shortcut, then ReLU:
    (B, C, H, W) -> (B, M, H/S, W/S)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.stride, self.new_channels = stride, out_channels - in_channels

    def shortcut(self, x: Tensor) -> Tensor:
        """The input itself; where the block halves the map and widens it, every S-th pixel with
        zero channels appended (no parameters): (B, C, H, W) -> (B, M, H/S, W/S)."""
        if self.stride != 1:
            x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, 0, self.new_channels)) if self.new_channels else x

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, M, H/S, W/S)."""
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet(nn.Module):
    """(B, C, H, W) -> conv 3x3 + BN + ReLU (B, 16, H, W) -> n blocks (B, 16, H, W) -> n blocks
    (B, 32, H/2, W/2) -> n blocks (B, 64, H/4, W/4) -> average (B, 64) -> linear (B, classes),
    with depth = 6n + 2 (ResNet-20: n = 3, 269,722 parameters for 10 classes, the paper's 0.27M).
    Convolutions start from He initialisation (fan_out, ReLU gain), as in the paper."""

    def __init__(
        self, depth: int = 20, classes: int = 10, in_channels: int = 3, widths: tuple = (16, 32, 64)
    ):
        super().__init__()
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(
                f"ResNet: depth must be 6n + 2 with n >= 1 (8, 14, 20, 32, ...), got {depth}"
            )
        blocks = (depth - 2) // 6
        self.conv1 = nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.layer1 = self._stage(widths[0], widths[0], blocks, stride=1)
        self.layer2 = self._stage(widths[0], widths[1], blocks, stride=2)
        self.layer3 = self._stage(widths[1], widths[2], blocks, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[2], classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    @staticmethod
    def _stage(in_channels: int, out_channels: int, blocks: int, stride: int) -> nn.Sequential:
        """``blocks`` basic blocks; the first one changes the width and stride."""
        return nn.Sequential(
            BasicBlock(in_channels, out_channels, stride),
            *(BasicBlock(out_channels, out_channels) for _ in range(blocks - 1)),
        )

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, classes)."""
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(self.avgpool(x).flatten(1))


def resnet8(classes: int = 10, in_channels: int = 3) -> ResNet:
    """ResNet-8: one basic block per stage (75,290 parameters for 10 classes)."""
    return ResNet(8, classes, in_channels)


def resnet20(classes: int = 10, in_channels: int = 3) -> ResNet:
    """ResNet-20: three basic blocks per stage (269,722 parameters for 10 classes)."""
    return ResNet(20, classes, in_channels)
