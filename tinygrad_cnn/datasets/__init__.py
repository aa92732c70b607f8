"""Datasets in torchvision's shape, fetched once into a cache with mirrors and checksums:
MNIST, FashionMNIST and CIFAR10 (docs/data.md)."""

from .cifar import CIFAR10
from .download import ChecksumError, DatasetNotFoundError, DownloadError, Resource, cache_dir
from .mnist import MNIST, FashionMNIST
from .vision import ImageDataset

__all__ = [
    "MNIST",
    "FashionMNIST",
    "CIFAR10",
    "ImageDataset",
    "Resource",
    "cache_dir",
    "DownloadError",
    "ChecksumError",
    "DatasetNotFoundError",
]
