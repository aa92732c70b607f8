"""Argument checks shared by the Tensor methods, the array functions and the ops.

Each turns what a user may write (numpy's or PyTorch's spelling, negative axes, ``f(2, 3)`` or
``f((2, 3))``) into one normal form, or raises an error that names the op, the argument and
the shapes, before numpy could fail somewhere inside.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = [
    "Axes",
    "sizes",
    "either",
    "normalize_axis",
    "axis_index",
    "reduction_axes",
    "resolve_shape",
    "resolve_axes",
    "broadcast_shape",
    "int_pair",
]

Axes = int | Iterable[int] | None


def sizes(op: str, args: tuple, allow_minus_one: bool = False) -> tuple[int, ...]:
    """``f(2, 3)`` or ``f((2, 3))`` as a tuple of non-negative ints (and -1 if allowed)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    low = -1 if allow_minus_one else 0
    if not all(
        isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= low for n in args
    ):
        raise ValueError(
            f"{op}: sizes must be non-negative ints{' or -1' if allow_minus_one else ''}, "
            f"got {args}"
        )
    return tuple(int(n) for n in args)


def either(op: str, numpy_name: str, numpy_value: Any, torch_name: str, torch_value: Any) -> Any:
    """The argument given under numpy's name or PyTorch's (None: not given). Both at once is
    an error unless they agree."""
    if torch_value is None:
        return numpy_value
    if numpy_value is not None and numpy_value != torch_value:
        raise TypeError(
            f"{op}: got {numpy_name}={numpy_value!r} (numpy) and {torch_name}={torch_value!r} "
            f"(PyTorch); pass one"
        )
    return torch_value


def normalize_axis(op: str, axis: Axes, ndim: int) -> tuple[int, ...] | None:
    """``axis`` as a sorted tuple of non-negative axes (None: all), checked against ``ndim``."""
    if axis is None:
        return None
    if not isinstance(axis, (int, np.integer, tuple, list)):
        raise TypeError(f"{op}: axis must be an int, a tuple of ints or None, got {axis!r}")
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    for a in axes:
        if not isinstance(a, (int, np.integer)) or not -ndim <= a < max(ndim, 1):
            raise ValueError(
                f"{op}: axis {a!r} is out of range for a tensor of {ndim} dimension(s)"
            )
    normalized = tuple(sorted(int(a) % max(ndim, 1) for a in axes))
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{op}: repeated axis in {axis!r}")
    return normalized


def axis_index(op: str, axis: int, ndim: int) -> int:
    """One ``axis`` (negative counts from the end) as a non-negative int below ``ndim``."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{op}: axis must be an int, got {axis!r}")
    if ndim == 0:
        raise ValueError(f"{op}: a 0-d tensor has no axis {axis}")
    (index,) = normalize_axis(op, axis, ndim)
    return index


def reduction_axes(
    op: str, ndim: int, axis: Axes, keepdims: bool, dim: Axes, keepdim: bool | None
) -> tuple[tuple[int, ...] | None, bool]:
    """(axes as a sorted tuple or None, keepdims) from numpy's ``axis``/``keepdims`` or
    PyTorch's ``dim``/``keepdim``."""
    axis = either(op, "axis", axis, "dim", dim)
    if keepdim is not None and keepdims and not keepdim:
        raise TypeError(f"{op}: got keepdims=True (numpy) and keepdim=False (PyTorch); pass one")
    axes = normalize_axis(op, axis, ndim)
    # axis 0 of a 0-d tensor: itself, as PyTorch
    return (None if ndim == 0 else axes), bool(keepdims or keepdim)


def resolve_shape(old: tuple[int, ...], new: tuple) -> tuple[int, ...]:
    """``new`` with its one allowed -1 filled in; checks the element count is unchanged."""
    if (
        not all(isinstance(n, (int, np.integer)) and n >= -1 for n in new)
        or list(new).count(-1) > 1
    ):
        raise ValueError(
            f"reshape: invalid target shape {new} (non-negative ints and at most one -1)"
        )
    size = int(np.prod(old))
    known = int(np.prod([n for n in new if n != -1]))
    if -1 in new:
        if known == 0 or size % known:
            raise ValueError(f"reshape: cannot reshape {old} ({size} elements) into {new}")
        new = tuple(size // known if n == -1 else n for n in new)
    elif known != size:
        raise ValueError(
            f"reshape: cannot reshape {old} ({size} elements) into {new} ({known} elements)"
        )
    return tuple(int(n) for n in new)


def resolve_axes(op: str, ndim: int, axes: tuple) -> tuple[int, ...]:
    """numpy's transpose axes: () reverses; otherwise a permutation of range(ndim)."""
    if not axes:
        return tuple(range(ndim))[::-1]
    normalized = tuple(
        int(a) % ndim if isinstance(a, (int, np.integer)) and -ndim <= a < ndim else None
        for a in axes
    )
    if None in normalized or sorted(normalized) != list(range(ndim)):
        hint = (
            " (to swap two axes, as PyTorch's transpose(d0, d1) does, use swapaxes)"
            if len(axes) == 2
            else ""
        )
        raise ValueError(f"{op}: axes {axes} are not a permutation of the {ndim} axes{hint}")
    return normalized


def broadcast_shape(op: str, *shapes: tuple[int, ...]) -> tuple[int, ...]:
    """The shape ``shapes`` broadcast to, or a ValueError naming ``op`` and the shapes."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(
            f"{op}: shapes {', '.join(map(str, shapes))} do not broadcast together"
        ) from None


def int_pair(op: str, name: str, value: Any, minimum: int) -> tuple[int, int]:
    """``value`` (an int, or a pair of ints, each >= ``minimum``) as a pair: kernel sizes,
    strides, paddings and dilations of 2-D windows."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else value
    if (
        not isinstance(pair, (tuple, list))
        or len(pair) != 2
        or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in pair)
    ):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])
