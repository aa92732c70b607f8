"""LeNet: the small CNN the CLI trains on the bundled digits, and LeCun's LeNet-5."""

from __future__ import annotations

from .. import nn

__all__ = ["lenet", "lenet_parameter_count", "lenet5"]


def lenet(
    in_channels: int = 1, image_size: int = 8, classes: int = 10, width: int = 8
) -> nn.Sequential:
    """LeNet-style CNN: two (Conv2d 3x3 pad 1 - ReLU - MaxPool2d 2) stages, then Linear.

    (B, C, S, S) -> (B, w, S/2, S/2) -> (B, 2w, S/4, S/4) -> (B, 2w*(S/4)^2) -> (B, classes),
    with S = image_size (a multiple of 4) and w = width.
    """
    if image_size % 4:
        raise ValueError(f"lenet: image_size must be a multiple of 4, got {image_size}")
    return nn.Sequential(
        nn.Conv2d(in_channels, width, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(width, 2 * width, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(2 * width * (image_size // 4) ** 2, classes),
    )


def lenet_parameter_count(
    in_channels: int = 1, image_size: int = 8, classes: int = 10, width: int = 8
) -> int:
    """How many numbers :func:`lenet` with these arguments holds, computed without building it
    (to check a checkpoint's config against its arrays before allocating anything)."""
    conv1 = width * in_channels * 9 + width
    conv2 = 2 * width * width * 9 + 2 * width
    return conv1 + conv2 + classes * 2 * width * (image_size // 4) ** 2 + classes


def lenet5(in_channels: int = 1, classes: int = 10, image_size: int = 32) -> nn.Sequential:
    """LeNet-5 (LeCun et al., 1998) with tanh and average-pooling subsampling, every C3 map
    reading all six S2 maps; 61,706 parameters for a 32 x 32 image, 10 classes.

    (B, C, 32, 32) -> conv 5x5 (B, 6, 28, 28) -> pool (B, 6, 14, 14) -> conv 5x5 (B, 16, 10, 10)
    -> pool (B, 16, 5, 5) -> flatten (B, 400) -> (B, 120) -> (B, 84) -> (B, classes).
    A 28 x 28 image (MNIST) is padded by 2 in the first convolution to the same sizes.
    """
    if image_size not in (28, 32):
        raise ValueError(f"lenet5: image_size must be 28 (padded to 32) or 32, got {image_size}")
    return nn.Sequential(
        nn.Conv2d(in_channels, 6, 5, padding=(32 - image_size) // 2),
        nn.Tanh(),
        nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.Tanh(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120),
        nn.Tanh(),
        nn.Linear(120, 84),
        nn.Tanh(),
        nn.Linear(84, classes),
    )
