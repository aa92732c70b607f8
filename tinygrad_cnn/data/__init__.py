"""Data sets that ship with the package (nothing is downloaded) and readers for common formats."""
from .digits import load_digits
from .idx import load_idx, load_mnist
from .loader import DataLoader, batches

__all__ = ["load_digits", "load_idx", "load_mnist", "batches", "DataLoader"]
