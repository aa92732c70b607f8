"""Segment generated shapes with a small U-Net: every pixel is background, circle or square.

    python examples/unet_segmentation.py

Each 32 x 32 image holds a circle and a square of random sizes and places on Gaussian noise,
both drawn at the same brightness, so a pixel can only be classified from the shape around
it: that is what the U-Net's skip connections and growing receptive field are for. Prints the
loss per epoch and the intersection over union (IoU) of each class on held-out images.
"""

import time

import numpy as np

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, no_grad, optim
from tinygrad_cnn.data import batches
from tinygrad_cnn.models import UNet

CLASSES = ("background", "circle", "square")


def shapes(n: int, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Images (n, 1, size, size) float32 and masks (n, size, size) int64 of class indices."""
    rows, cols = np.mgrid[:size, :size]
    masks = np.zeros((n, size, size), dtype=np.int64)
    for mask in masks:
        r = rng.integers(3, size // 5, endpoint=True)  # circle radius
        cy, cx = rng.integers(r, size - r, size=2)
        half = rng.integers(3, size // 5, endpoint=True)  # half the square's side
        sy, sx = rng.integers(half, size - half, size=2)
        mask[(rows - cy) ** 2 + (cols - cx) ** 2 <= r * r] = 1
        mask[(abs(rows - sy) < half) & (abs(cols - sx) < half)] = (
            2  # drawn on top where they overlap
        )
    images = (masks > 0) + 0.4 * rng.standard_normal(masks.shape)
    return images[:, None].astype(np.float32), masks


def iou(predicted: np.ndarray, truth: np.ndarray, k: int) -> float:
    """|predicted ∩ truth| / |predicted ∪ truth| for class k."""
    return np.sum((predicted == k) & (truth == k)) / max(np.sum((predicted == k) | (truth == k)), 1)


def main(epochs: int = 12, size: int = 32) -> None:
    tc.manual_seed(0)
    rng = np.random.default_rng(0)
    (train_x, train_y), (test_x, test_y) = shapes(1200, size, rng), shapes(100, size, rng)
    model = UNet(in_channels=1, classes=len(CLASSES), width=8, depth=2)
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    scheduler = optim.CosineAnnealingLR(optimizer, T_max=epochs)
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        losses = []
        for images, masks in batches(train_x, train_y, batch_size=8):
            scores = model(Tensor(images))  # (B, 3, H, W): one score per class and pixel
            # cross-entropy per pixel: (B, 3, H, W) -> (B*H*W, 3) rows against (B*H*W,) labels
            loss = F.cross_entropy(
                scores.transpose(0, 2, 3, 1).reshape(-1, len(CLASSES)), masks.ravel()
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
        print(
            f"epoch {epoch:2d}  loss {np.mean(losses):.4f}  ({time.perf_counter() - start:.0f} s)"
        )
    model.eval()
    with no_grad():
        predicted = model(Tensor(test_x)).data.argmax(axis=1)
    scores = [iou(predicted, test_y, k) for k in range(len(CLASSES))]
    print(
        "test IoU  "
        + "  ".join(f"{name} {s:.3f}" for name, s in zip(CLASSES, scores))
        + f"  mean {np.mean(scores):.3f}"
    )


if __name__ == "__main__":
    main()
