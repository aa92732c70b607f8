"""Ready-made models."""
from __future__ import annotations

from . import nn

__all__ = ["lenet", "lenet_parameter_count"]


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


def lenet_parameter_count(in_channels: int = 1, image_size: int = 8, classes: int = 10, width: int = 8) -> int:
    """How many numbers :func:`lenet` with these arguments holds, computed without building it
    (to check a checkpoint's config against its arrays before allocating anything)."""
    conv1 = width * in_channels * 9 + width
    conv2 = 2 * width * width * 9 + 2 * width
    return conv1 + conv2 + classes * 2 * width * (image_size // 4) ** 2 + classes
