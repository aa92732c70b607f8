"""Ready-made models."""
from __future__ import annotations

from . import nn

__all__ = ["lenet"]


def lenet(in_channels: int = 1, image_size: int = 8, classes: int = 10, width: int = 8) -> nn.Sequential:
    """LeNet-style CNN: two (Conv2d 3x3 pad 1 - ReLU - MaxPool2d 2) stages, then Linear.

    (B, C, S, S) -> (B, w, S/2, S/2) -> (B, 2w, S/4, S/4) -> (B, 2w*(S/4)^2) -> (B, classes),
    with S = image_size (a multiple of 4) and w = width.
    """
    if image_size % 4:
        raise ValueError(f"lenet: image_size must be a multiple of 4, got {image_size}")
    return nn.Sequential(
        nn.Conv2d(in_channels, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(2 * width * (image_size // 4) ** 2, classes),
    )
