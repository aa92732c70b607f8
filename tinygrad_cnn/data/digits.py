"""The UCI optical-recognition handwritten digits, 8x8 images, as distributed with scikit-learn.

1,797 images of the digits 0-9, each pixel a count 0..16 of set pixels in a 4x4 block of a
32x32 bitmap. Source: E. Alpaydin and C. Kaynak, "Optical Recognition of Handwritten Digits",
UCI Machine Learning Repository (1998), https://doi.org/10.24432/C50P49, licensed CC BY 4.0.
"""

from __future__ import annotations

from importlib import resources
from typing import NamedTuple

import numpy as np

__all__ = ["Split", "load_digits"]


class Split(NamedTuple):
    """Images (N, 1, 8, 8) float32 in [0, 1] and labels (N,) int64."""

    images: np.ndarray
    labels: np.ndarray


def load_digits(test_fraction: float = 0.2, seed: int = 0) -> tuple[Split, Split]:
    """The bundled digits as (train, test) splits, stratified by class and fixed by ``seed``."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"load_digits: test_fraction must lie in (0, 1), got {test_fraction!r}")
    with (
        resources.files(__package__).joinpath("digits.npz").open("rb") as f,
        np.load(f, allow_pickle=False) as archive,
    ):
        images = (archive["images"].astype(np.float32) / 16.0)[:, None]
        labels = archive["labels"].astype(np.int64)
    rng = np.random.default_rng(seed)
    test = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        members = rng.permutation(np.flatnonzero(labels == digit))
        test[members[: round(len(members) * test_fraction)]] = True
    return Split(images[~test], labels[~test]), Split(images[test], labels[test])
