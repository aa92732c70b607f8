"""The built-in ops, grouped by kind; importing this package registers them all."""
from . import elementwise, linalg, movement, reduce, window

__all__ = ["elementwise", "linalg", "movement", "reduce", "window"]
