"""Factories: new tensors from a shape, a range or the random generator.

Float results are float32 unless ``dtype`` says otherwise; random ones draw from the generator
that :func:`tinygrad_cnn.manual_seed` seeds, so a seeded run is reproducible.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import random
from .arguments import sizes
from .tensor import Tensor

__all__ = [
    "zeros",
    "ones",
    "full",
    "arange",
    "linspace",
    "eye",
    "rand",
    "randn",
    "randint",
    "zeros_like",
    "ones_like",
    "full_like",
    "rand_like",
    "randn_like",
]


def _dtype(op: str, dtype: Any) -> np.dtype:
    dtype = np.dtype(np.float32 if dtype is None else dtype)
    if dtype.kind not in "fiub":
        raise TypeError(f"{op}: dtype must be numeric, got {dtype}")
    return dtype


def _make(array: np.ndarray, requires_grad: bool) -> Tensor:
    return Tensor._from_op(array, None, False).requires_grad_(requires_grad)


def zeros(*shape: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """All zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _make(np.zeros(sizes("zeros", shape), _dtype("zeros", dtype)), requires_grad)


def ones(*shape: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """All ones: ``ones(2, 3)`` or ``ones((2, 3))``."""
    return _make(np.ones(sizes("ones", shape), _dtype("ones", dtype)), requires_grad)


def full(
    shape: int | tuple[int, ...], fill_value: float, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """Every element ``fill_value``."""
    shape = sizes("full", (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape))
    return _make(np.full(shape, fill_value, _dtype("full", dtype)), requires_grad)


def arange(
    start: float,
    stop: float | None = None,
    step: float = 1,
    dtype: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """start, start + step, ... below stop (``arange(n)`` is 0 .. n-1). int64 when every
    argument is an int, as numpy and PyTorch; otherwise float32."""
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange: step must not be zero")
    if dtype is None:
        integral = all(isinstance(v, (int, np.integer)) for v in (start, stop, step))
        dtype = np.int64 if integral else np.float32
    return _make(np.arange(start, stop, step, dtype=_dtype("arange", dtype)), requires_grad)


def linspace(
    start: float, stop: float, num: int = 50, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """``num`` evenly spaced values from start to stop, both included."""
    if not isinstance(num, (int, np.integer)) or num < 0:
        raise ValueError(f"linspace: num must be a non-negative int, got {num!r}")
    return _make(np.linspace(start, stop, num, dtype=_dtype("linspace", dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """The (n, m) identity matrix (m defaults to n)."""
    rows, cols = sizes("eye", (n, n if m is None else m))
    return _make(np.eye(rows, cols, dtype=_dtype("eye", dtype)), requires_grad)


def _random_float(op: str, dtype: Any) -> np.dtype:
    dtype = _dtype(op, dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"{op}: dtype must be float32 or float64, got {dtype}")
    return dtype


def rand(*shape: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform on [0, 1), from the generator :func:`tinygrad_cnn.manual_seed` seeds."""
    array = random.generator().random(sizes("rand", shape), dtype=_random_float("rand", dtype))
    return _make(array, requires_grad)


def randn(*shape: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal, from the generator :func:`tinygrad_cnn.manual_seed` seeds."""
    array = random.generator().standard_normal(
        sizes("randn", shape), dtype=_random_float("randn", dtype)
    )
    return _make(array, requires_grad)


def randint(
    low: int, high: int | None = None, size: int | tuple[int, ...] = (), dtype: Any = np.int64
) -> Tensor:
    """Integers in [low, high) (``randint(high, size=...)``: from 0), int64 by default."""
    if high is None:
        low, high = 0, low
    if np.dtype(dtype).kind not in "iu":
        raise TypeError(f"randint: dtype must be an integer dtype, got {np.dtype(dtype)}")
    if high <= low:
        raise ValueError(f"randint: high must be above low, got low={low}, high={high}")
    shape = sizes("randint", (size,) if isinstance(size, (int, np.integer)) else tuple(size))
    return _make(random.generator().integers(low, high, shape, dtype=np.dtype(dtype)), False)


def _like(other: Any, dtype: Any) -> tuple[tuple[int, ...], Any]:
    array = other.data if isinstance(other, Tensor) else np.asarray(other)
    return array.shape, array.dtype if dtype is None else dtype


def zeros_like(other: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with ``other``'s shape and dtype."""
    shape, dtype = _like(other, dtype)
    return zeros(shape, dtype=dtype, requires_grad=requires_grad)


def ones_like(other: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with ``other``'s shape and dtype."""
    shape, dtype = _like(other, dtype)
    return ones(shape, dtype=dtype, requires_grad=requires_grad)


def full_like(
    other: Any, fill_value: float, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """``fill_value`` everywhere, with ``other``'s shape and dtype."""
    shape, dtype = _like(other, dtype)
    return full(shape, fill_value, dtype=dtype, requires_grad=requires_grad)


def rand_like(other: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform on [0, 1) with ``other``'s shape (and dtype, if it is a float)."""
    shape, dtype = _like(other, dtype)
    return rand(
        shape, dtype=dtype if np.dtype(dtype).kind == "f" else None, requires_grad=requires_grad
    )


def randn_like(other: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal with ``other``'s shape (and dtype, if it is a float)."""
    shape, dtype = _like(other, dtype)
    return randn(
        shape, dtype=dtype if np.dtype(dtype).kind == "f" else None, requires_grad=requires_grad
    )
