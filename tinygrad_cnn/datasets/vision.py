"""In-memory image classification datasets: what MNIST, FashionMNIST and CIFAR10 share."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["ImageDataset"]


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 pixels 0..255 -> float32 in [0, 1] (torchvision's ToTensor); floats -> float32."""
    if images.dtype == np.uint8:
        return images.astype(np.float32) / np.float32(255)
    return images.astype(np.float32, copy=False)


class ImageDataset:
    """Images ``data`` (N, C, H, W) and class numbers ``targets`` (N,) int64, held in memory.

    ``dataset[i]`` is ``(image, label)``: the image as float32 (C, H, W) in [0, 1] (uint8 data
    is divided by 255, as torchvision's ``ToTensor``), passed through ``transform`` when given;
    the label an int. :class:`tinygrad_cnn.data.DataLoader` fetches whole batches at once through
    ``__getitems__``.
    """

    classes: Sequence[str] = ()

    def __init__(
        self,
        data: np.ndarray,
        targets: np.ndarray,
        transform: Callable | None = None,
        classes: Sequence[str] | None = None,
    ):
        if data.ndim != 4 or targets.shape != (len(data),):
            raise ValueError(
                f"{type(self).__name__}: data must be (N, C, H, W) and targets (N,), "
                f"got {data.shape} and {targets.shape}"
            )
        self.data, self.targets, self.transform = (
            data,
            targets.astype(np.int64, copy=False),
            transform,
        )
        if classes is not None:
            self.classes = list(classes)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[np.ndarray, int]:
        """(image (C, H, W) float32, label)."""
        image = to_float(self.data[index])
        return (image if self.transform is None else self.transform(image)), int(
            self.targets[index]
        )

    def __getitems__(self, indices: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """(images (B, C, H, W) float32, labels (B,) int64) for ``indices``; the transform, if
        any, takes the whole batch when it is marked ``batched`` (tinygrad_cnn.transforms),
        else each image in turn."""
        images = to_float(self.data[indices])
        if getattr(self.transform, "batched", False):
            images = self.transform(images)
        elif self.transform is not None:
            images = np.stack([self.transform(image) for image in images])
        return images, self.targets[indices]

    def __repr__(self) -> str:
        shape = "x".join(map(str, self.data.shape[1:]))
        return (
            f"{type(self).__name__}({len(self)} images of {shape}, "
            f"{len(self.classes) or '?'} classes)"
        )
