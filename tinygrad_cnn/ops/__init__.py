"""The built-in ops, grouped by kind; importing this package registers them all."""

from . import activation, elementwise, linalg, movement, reduce, window

__all__ = ["activation", "elementwise", "linalg", "movement", "reduce", "window"]
