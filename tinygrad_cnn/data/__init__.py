"""Data sets that ship with the package (nothing is downloaded), readers for common formats, and
mini-batching (downloadable datasets: :mod:`tinygrad_cnn.datasets`)."""

from .dataset import TensorDataset
from .digits import load_digits
from .idx import load_idx, load_mnist
from .loader import DataLoader, batches

__all__ = ["load_digits", "load_idx", "load_mnist", "batches", "DataLoader", "TensorDataset"]
