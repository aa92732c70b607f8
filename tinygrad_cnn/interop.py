"""What numpy's functions and ufuncs do when given Tensors (NEP 13 and NEP 18).

* A ufunc or function with a counterpart here runs that counterpart, so the result is a Tensor
  that records the graph: ``np.exp(t)``, ``np.maximum(t, 0)``, ``np.concatenate([a, b])``,
  ``np.mean(t, axis=0)``, ``ndarray + t``.
* Predicates (``np.isfinite``, ``np.equal``, ``np.allclose``, ...) run on the arrays and give
  bool tensors (or a Python bool), without gradient.
* Anything else is a TypeError that names the function: numpy would otherwise turn the
  tensor into a plain array and cut it from the graph without a word. ``t.numpy()`` and
  ``np.asarray(t)`` are the explicit ways out of the graph.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import creation, tensor_functions
from .arguments import axis_index, broadcast_shape
from .tensor import Tensor

__all__ = ["array_ufunc", "array_function", "UFUNCS", "CONSTANT_UFUNCS", "FUNCTIONS"]

EXIT = (
    "call it on a plain array instead, t.numpy() or np.asarray(t) (the explicit way out of the "
    "graph); docs/tensor.md lists the numpy functions that keep the graph"
)


def _binary(name: str) -> Callable[[Any, Any], Tensor]:
    """np.add(a, b) as ``a + b``, or as ``b``'s reflected operator when only ``b`` is a Tensor."""
    return lambda a, b: (
        getattr(a, f"__{name}__")(b) if isinstance(a, Tensor) else getattr(b, f"__r{name}__")(a)
    )


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _in_dtype(x: Any, dtype: Any) -> Tensor:
    """numpy's ``dtype=`` of a reduction: the tensor cast first (recorded between floats)."""
    return _tensor(x) if dtype is None else _tensor(x).astype(dtype)


UFUNCS: dict[np.ufunc, Callable[..., Tensor]] = {
    np.add: _binary("add"),
    np.subtract: _binary("sub"),
    np.multiply: _binary("mul"),
    np.divide: _binary("truediv"),
    np.power: _binary("pow"),
    np.matmul: _binary("matmul"),
    np.maximum: tensor_functions.maximum,
    np.minimum: tensor_functions.minimum,
    np.negative: lambda a: -a,
    np.positive: lambda a: a,
    np.square: lambda a: a * a,
    np.exp: lambda a: a.exp(),
    np.log: lambda a: a.log(),
    np.sqrt: lambda a: a.sqrt(),
    np.absolute: lambda a: a.abs(),
    np.tanh: lambda a: a.tanh(),
}
"""Differentiable ufuncs and the Tensor operation each runs."""

CONSTANT_UFUNCS = (
    np.isfinite,
    np.isnan,
    np.isinf,
    np.signbit,
    np.equal,
    np.not_equal,
    np.greater,
    np.greater_equal,
    np.less,
    np.less_equal,
    np.logical_and,
    np.logical_or,
    np.logical_xor,
    np.logical_not,
    np.bitwise_and,
    np.bitwise_or,
    np.bitwise_xor,
    np.invert,
    np.sign,
)
"""Ufuncs whose results are constants (bools, integers, signs): run on the arrays, no gradient."""


def _plain(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def array_ufunc(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Any:
    """``Tensor.__array_ufunc__``: run the counterpart of ``ufunc`` (see the module doc)."""
    name = f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
    if "out" in kwargs:
        raise TypeError(
            f"{name}: cannot write a Tensor result into an array (out=, or an in-place operator "
            f"such as `p.data -= lr * p.grad`); use arrays on both sides (p.grad.data), or update "
            f"the tensor itself under tc.no_grad() (p -= lr * p.grad)"
        )
    if method == "__call__" and ufunc in CONSTANT_UFUNCS:
        broadcast_shape(name, *(np.shape(_plain(x)) for x in inputs))
        return Tensor._from_op(np.asarray(ufunc(*map(_plain, inputs), **kwargs)), None, False)
    if method != "__call__" or ufunc not in UFUNCS:
        raise TypeError(f"{name} has no counterpart for Tensors here; {EXIT}")
    if kwargs:
        raise TypeError(
            f"{name}: keyword arguments {sorted(kwargs)} are not supported with Tensors"
        )
    return UFUNCS[ufunc](*inputs)


FUNCTIONS: dict[Callable, Callable] = {}
"""numpy functions with a counterpart here, and the handler that runs it."""


def implements(*numpy_functions: Callable) -> Callable:
    """Decorator: the handler runs when one of ``numpy_functions`` is called with a Tensor."""

    def register(handler: Callable) -> Callable:
        for f in numpy_functions:
            FUNCTIONS[f] = handler
        return handler

    return register


def array_function(func: Callable, types: tuple, args: tuple, kwargs: dict) -> Any:
    """``Tensor.__array_function__``: run the counterpart of ``func`` (see the module doc)."""
    if not all(issubclass(t, (Tensor, np.ndarray)) for t in types):
        return NotImplemented
    handler = FUNCTIONS.get(func)
    if handler is None:
        raise TypeError(
            f"{func.__module__}.{func.__name__} has no counterpart for Tensors here; {EXIT}"
        )
    return handler(*args, **kwargs)


def _refuse(name: str, **given: Any) -> None:
    """A TypeError for numpy keywords that have no meaning here (dtype=, out=, where=, ...)."""
    used = sorted(k for k, v in given.items() if v is not None)
    if used:
        raise TypeError(
            f"numpy.{name}: {', '.join(k + '=' for k in used)} not supported with Tensors"
        )


# ---- reductions ------------------------------------------------------------------------------
@implements(np.sum)
def _sum(a, axis=None, dtype=None, out=None, keepdims=False, **rest):
    _refuse("sum", out=out, **rest)
    return _in_dtype(a, dtype).sum(axis=axis, keepdims=keepdims)


@implements(np.mean)
def _mean(a, axis=None, dtype=None, out=None, keepdims=False, **rest):
    _refuse("mean", out=out, **rest)
    return _in_dtype(a, dtype).mean(axis=axis, keepdims=keepdims)


@implements(np.max, np.amax)
def _max(a, axis=None, out=None, keepdims=False, **rest):
    _refuse("max", out=out, **rest)
    return _tensor(a).max(axis=axis, keepdims=keepdims)


@implements(np.min, np.amin)
def _min(a, axis=None, out=None, keepdims=False, **rest):
    _refuse("min", out=out, **rest)
    return _tensor(a).min(axis=axis, keepdims=keepdims)


@implements(np.var)
def _var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **rest):
    _refuse("var", out=out, **rest)
    return _in_dtype(a, dtype).var(axis=axis, ddof=ddof, keepdims=keepdims)


@implements(np.std)
def _std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **rest):
    _refuse("std", out=out, **rest)
    return _in_dtype(a, dtype).std(axis=axis, ddof=ddof, keepdims=keepdims)


@implements(np.argmax)
def _argmax(a, axis=None, out=None, keepdims=False):
    _refuse("argmax", out=out)
    return _tensor(a).argmax(axis=axis, keepdims=keepdims)


@implements(np.argmin)
def _argmin(a, axis=None, out=None, keepdims=False):
    _refuse("argmin", out=out)
    return _tensor(a).argmin(axis=axis, keepdims=keepdims)


@implements(np.cumsum)
def _cumsum(a, axis=None, dtype=None, out=None):
    _refuse("cumsum", out=out)
    return _in_dtype(a, dtype).cumsum(axis=axis)


# ---- elementwise -------------------------------------------------------------------------------
@implements(np.clip)
def _clip(a, a_min=None, a_max=None, out=None, *, min=None, max=None, **rest):
    _refuse("clip", out=out, **rest)
    return _tensor(a).clip(a_min if min is None else min, a_max if max is None else max)


@implements(np.nonzero)
def _nonzero(a):
    return tuple(Tensor._from_op(i, None, False) for i in np.nonzero(_plain(a)))


@implements(np.where)
def _where(condition, x=None, y=None):
    if x is None and y is None:  # np.where(condition) is np.nonzero: indices, no gradient
        return _nonzero(condition)
    if x is None or y is None:
        raise ValueError("numpy.where: give both x and y, or neither")
    return tensor_functions.where(condition, x, y)


# ---- joining, splitting, shape -------------------------------------------------------------------
@implements(np.concatenate)
def _concatenate(arrays, axis=0, out=None, **rest):
    _refuse("concatenate", out=out, **rest)
    if axis is None:
        return tensor_functions.cat([_tensor(a).reshape(-1) for a in arrays])
    return tensor_functions.cat(list(arrays), axis=axis)


@implements(np.stack)
def _stack(arrays, axis=0, out=None, **rest):
    _refuse("stack", out=out, **rest)
    return tensor_functions.stack(list(arrays), axis=axis)


@implements(np.array_split)
def _array_split(ary, indices_or_sections, axis=0):
    return _tensor(ary).tensor_split(indices_or_sections, axis)


@implements(np.split)
def _split(ary, indices_or_sections, axis=0):
    x = _tensor(ary)
    axis = axis_index("numpy.split", axis, x.ndim)
    sections = indices_or_sections
    if isinstance(sections, (int, np.integer)) and sections > 0 and x.shape[axis] % sections:
        raise ValueError(
            f"numpy.split: {indices_or_sections} sections do not divide axis {axis} of shape "
            f"{x.shape} equally (np.array_split allows that)"
        )
    return x.tensor_split(indices_or_sections, axis)


@implements(np.reshape)
def _reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    if order != "C":
        raise TypeError(f"numpy.reshape: only order='C' is supported with Tensors, got {order!r}")
    return _tensor(a).reshape(shape if newshape is None else newshape)


@implements(np.ravel)
def _ravel(a, order="C"):
    return _reshape(a, -1, order)


@implements(np.transpose)
def _transpose(a, axes=None):
    return _tensor(a).transpose(*(() if axes is None else axes))


@implements(np.swapaxes)
def _swapaxes(a, axis1, axis2):
    return _tensor(a).swapaxes(axis1, axis2)


@implements(np.squeeze)
def _squeeze(a, axis=None):
    return _tensor(a).squeeze(axis)


@implements(np.expand_dims)
def _expand_dims(a, axis):
    return _tensor(a).expand_dims(axis)


@implements(np.broadcast_to)
def _broadcast_to(array, shape, subok=False):
    return _tensor(array).broadcast_to(tuple(np.atleast_1d(shape).tolist()))


@implements(np.tile)
def _tile(A, reps):
    return _tensor(A).tile(reps)


@implements(np.repeat)
def _repeat(a, repeats, axis=None):
    return _tensor(a).repeat_interleave(repeats, axis)


@implements(np.flip)
def _flip(m, axis=None):
    return _tensor(m).flip(*(() if axis is None else np.atleast_1d(axis).tolist()))


@implements(np.pad)
def _pad(array, pad_width, mode="constant", constant_values=0, **rest):
    _refuse("pad", **rest)
    modes = {"constant": "constant", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}
    if mode not in modes:
        raise TypeError(
            f"numpy.pad: mode {mode!r} has no counterpart for Tensors "
            f"(use one of {', '.join(modes)})"
        )
    if not np.isscalar(constant_values):
        raise TypeError("numpy.pad: constant_values must be one number with Tensors")
    x = _tensor(array)
    try:
        widths = np.broadcast_to(np.asarray(pad_width), (x.ndim, 2)).tolist()
    except ValueError:
        raise ValueError(
            f"numpy.pad: pad_width {pad_width!r} does not fit the {x.ndim} axes of {x.shape}"
        ) from None
    return tensor_functions.pad_axes(x, widths, modes[mode], constant_values)


@implements(np.take_along_axis)
def _take_along_axis(arr, indices, axis):
    return tensor_functions.take_along_axis(_tensor(arr), indices, axis)


@implements(np.einsum)
def _einsum(subscripts, *operands, out=None, optimize=None, **rest):
    _refuse("einsum", out=out, **rest)
    return tensor_functions.einsum(subscripts, *operands)


@implements(np.dot)
def _dot(a, b, out=None):
    _refuse("dot", out=out)
    if np.ndim(_plain(a)) == 0 or np.ndim(_plain(b)) == 0:
        return _binary("mul")(a, b)
    if max(np.ndim(_plain(a)), np.ndim(_plain(b))) > 2:
        raise TypeError(
            "numpy.dot: with Tensors only 0-, 1- and 2-D operands are supported; use np.matmul or @"
        )
    return _binary("matmul")(a, b)


# ---- facts and predicates: no graph ------------------------------------------------------------
@implements(np.shape)
def _shape(a):
    return _tensor(a).shape


@implements(np.ndim)
def _ndim(a):
    return _tensor(a).ndim


@implements(np.size)
def _size(a, axis=None):
    x = _tensor(a)
    return int(x.size) if axis is None else x.shape[axis_index("numpy.size", axis, x.ndim)]


def _on_arrays(func: Callable, wrap: bool) -> Callable:
    """``func`` run on the tensors' arrays; the result as a constant Tensor if ``wrap``."""

    def handler(*args, **kwargs):
        args = [[_plain(x) for x in a] if isinstance(a, (list, tuple)) else _plain(a) for a in args]
        try:
            result = func(*args, **kwargs)
        except ValueError as err:  # e.g. shapes that do not broadcast: say which function
            raise ValueError(f"numpy.{func.__name__}: {err}") from None
        return Tensor._from_op(np.asarray(result), None, False) if wrap else result

    return handler


for _func in (np.allclose, np.array_equal, np.array_equiv):
    FUNCTIONS[_func] = _on_arrays(_func, wrap=False)  # a Python bool, as numpy gives
for _func in (np.isclose, np.any, np.all, np.count_nonzero, np.argsort):
    FUNCTIONS[_func] = _on_arrays(_func, wrap=True)
FUNCTIONS.update(
    {
        np.zeros_like: creation.zeros_like,
        np.ones_like: creation.ones_like,
        np.full_like: creation.full_like,
    }
)
