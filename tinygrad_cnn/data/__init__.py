"""Data sets that ship with the package (nothing is downloaded) and readers for common formats."""
from .digits import load_digits
from .idx import load_idx
from .loader import batches

__all__ = ["load_digits", "load_idx", "batches"]
