"""Image transforms as small callables, as torchvision.transforms: each takes a float32 image
(C, H, W) and returns one. Random ones draw from the framework's generator at call time, so
``tc.manual_seed`` fixes them (and a resumed run continues them).

Each also takes a batch (B, C, H, W), drawing for every image on its own (unlike torchvision,
which draws once per call), without a Python loop. One transform on a batch equals it applied
image by image under the same seed; a Compose of random ones draws in another order (all the
crops, then all the flips), so the same seed gives other, equally random, results batched.
:class:`tinygrad_cnn.datasets.ImageDataset` passes whole batches to transforms marked
``batched`` (all of these, and a Compose of them)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .random import generator

__all__ = ["Compose", "Normalize", "RandomCrop", "RandomHorizontalFlip"]


class Compose:
    """Apply ``transforms`` one after another."""

    def __init__(self, transforms: Sequence[Callable[[np.ndarray], np.ndarray]]):
        self.transforms = list(transforms)
        self.batched = all(getattr(t, "batched", False) for t in self.transforms)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        for transform in self.transforms:
            image = transform(image)
        return image

    def __repr__(self) -> str:
        return f"Compose({self.transforms})"


class Normalize:
    """(image - mean) / std per channel: (C, H, W) -> (C, H, W) float32 (also (..., C, H, W))."""

    batched = True

    def __init__(self, mean: Sequence[float], std: Sequence[float]):
        self.mean = np.asarray(mean, np.float32).reshape(-1, 1, 1)
        self.std = np.asarray(std, np.float32).reshape(-1, 1, 1)
        if (self.std == 0).any():
            raise ValueError(f"Normalize: std must not be zero, got {list(std)}")

    def __call__(self, image: np.ndarray) -> np.ndarray:
        if self.mean.shape[0] not in (1, image.shape[-3]):
            raise ValueError(
                f"Normalize: {self.mean.shape[0]} means for an image of {image.shape[-3]} channels"
            )
        return ((image - self.mean) / self.std).astype(np.float32, copy=False)

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean.ravel().tolist()}, std={self.std.ravel().tolist()})"


class RandomCrop:
    """A ``size`` crop at a random place, after padding each side with ``padding`` pixels of
    ``fill``: (C, H, W) -> (C, size, size), or (B, C, H, W) -> (B, C, size, size) with a place
    drawn per image (``size`` may be an (h, w) pair)."""

    batched = True

    def __init__(self, size: int | tuple[int, int], padding: int = 0, fill: float = 0.0):
        whole = (int, np.integer)
        self.size = (
            (size, size)
            if isinstance(size, whole)
            else tuple(size)
            if isinstance(size, (tuple, list))
            else ()
        )
        if (
            len(self.size) != 2
            or not all(isinstance(n, whole) and n >= 1 for n in self.size)
            or not isinstance(padding, whole)
            or padding < 0
        ):
            raise ValueError(
                "RandomCrop: size must be a positive int or an (h, w) pair of them, and padding "
                f"an int >= 0 (the same on every side), got size={size!r}, padding={padding!r}"
            )
        self.size, self.padding, self.fill = tuple(int(n) for n in self.size), int(padding), fill

    def __call__(self, image: np.ndarray) -> np.ndarray:
        return self._crop(image) if image.ndim == 4 else self._crop(image[None])[0]

    def _crop(self, images: np.ndarray) -> np.ndarray:
        p = self.padding
        if p:
            images = np.pad(images, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=self.fill)
        (b, c, h, w), (th, tw) = images.shape, self.size
        if th > h or tw > w:
            raise ValueError(f"RandomCrop: crop {th}x{tw} is larger than the padded image {h}x{w}")
        # (top, left) per image
        corner = generator().integers(0, [h - th + 1, w - tw + 1], size=(b, 2))
        rows = (corner[:, 0, None] + np.arange(th))[:, None, :, None]
        cols = (corner[:, 1, None] + np.arange(tw))[:, None, None, :]
        return images[
            np.arange(b)[:, None, None, None], np.arange(c)[None, :, None, None], rows, cols
        ]

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror the image left to right with probability ``p``: (C, H, W) -> (C, H, W), or
    (B, C, H, W) with a draw per image."""

    batched = True

    def __init__(self, p: float = 0.5):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: p must lie in [0, 1], got {p!r}")
        self.p = p

    def __call__(self, image: np.ndarray) -> np.ndarray:
        if image.ndim != 4:
            # no negative strides
            return image[..., ::-1].copy() if generator().random() < self.p else image
        flip = generator().random(len(image)) < self.p
        return np.where(flip[:, None, None, None], image[..., ::-1], image)

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"
