"""MNIST and Fashion-MNIST: 28x28 grayscale images in 10 classes, 60,000 to train and 10,000 to
test, as four gzip-compressed IDX files."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from ..data.idx import load_idx
from .download import Resource, cache_dir, fetch
from .vision import ImageDataset

__all__ = ["MNIST", "FashionMNIST"]


class MNIST(ImageDataset):
    """MNIST handwritten digits, as ``torchvision.datasets.MNIST``.

    ``data`` uint8 (N, 1, 28, 28), ``targets`` int64 (N,), N = 60,000 (``train``) or 10,000.
    Files live in ``<cache>/MNIST/`` (see :func:`tinygrad_cnn.datasets.cache_dir`; ``root``
    comes first); missing ones are downloaded when ``download`` allows, from ``mirrors`` in
    order, each checked against ``resources`` (class attributes: replace them to use your own
    mirror). ``dataset[i]`` is (image float32 (1, 28, 28) in [0, 1] after ``transform``, label).
    """

    mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ]
    # SHA-256 of the decompressed IDX files, as published by several independent
    # projects (docs/data.md): not computed here, as MNIST cannot be downloaded on the
    # machine that wrote this
    resources = {
        "train": (
            Resource(
                "train-images-idx3-ubyte.gz",
                "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            ),
            Resource(
                "train-labels-idx1-ubyte.gz",
                "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            ),
        ),
        "test": (
            Resource(
                "t10k-images-idx3-ubyte.gz",
                "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            ),
            Resource(
                "t10k-labels-idx1-ubyte.gz",
                "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            ),
        ),
    }
    system_dirs: tuple[str, ...] = ()
    """Folders where a system package may have installed the files already."""
    classes = [
        "0 - zero",
        "1 - one",
        "2 - two",
        "3 - three",
        "4 - four",
        "5 - five",
        "6 - six",
        "7 - seven",
        "8 - eight",
        "9 - nine",
    ]

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        download: bool = True,
        transform: Callable | None = None,
    ):
        name = type(self).__name__
        folder = os.path.join(cache_dir(root), name)
        images_file, labels_file = (
            fetch(name, resource, folder, self.mirrors, self.system_dirs, download)
            for resource in self.resources["train" if train else "test"]
        )
        images, labels = load_idx(images_file), load_idx(labels_file)
        if (
            images.ndim != 3
            or images.dtype != np.uint8
            or labels.shape != (len(images),)
            or labels.dtype != np.uint8
        ):
            raise ValueError(
                f"{name}: {images_file} {images.dtype}{images.shape} and {labels_file} "
                f"{labels.dtype}{labels.shape} are not N uint8 images and N uint8 labels"
            )
        if len(labels) and labels.max() >= len(self.classes):
            raise ValueError(
                f"{name}: {labels_file} holds label {labels.max()}, "
                f"beyond its {len(self.classes)} classes"
            )
        super().__init__(images[:, None], labels, transform)
        self.root, self.train = folder, train


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: ten kinds of clothing in MNIST's format, as
    ``torchvision.datasets.FashionMNIST``.

    Debian's ``dataset-fashion-mnist`` package installs the four files in
    ``/usr/share/datasets/fashion-mnist``; they are used from there, with no network.
    """

    mirrors = [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
    ]
    # SHA-256 of the decompressed files, computed from Debian's package (docs/data.md: their MD5s
    # match those published for the upstream files' decompressed content)
    resources = {
        "train": (
            Resource(
                "train-images-idx3-ubyte.gz",
                "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            ),
            Resource(
                "train-labels-idx1-ubyte.gz",
                "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            ),
        ),
        "test": (
            Resource(
                "t10k-images-idx3-ubyte.gz",
                "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            ),
            Resource(
                "t10k-labels-idx1-ubyte.gz",
                "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
            ),
        ),
    }
    system_dirs = ("/usr/share/datasets/fashion-mnist",)
    classes = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]
