"""Tensor: a numpy array plus the op that made it, so gradients can flow back through it.

This module holds what makes a Tensor a graph node: its array, its gradient bookkeeping, the
operators and comparisons. The named methods (``sum``, ``reshape``, ``cat`` ...) are in
:mod:`tinygrad_cnn.tensor_methods`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import engine, function, write_guard
from .arguments import broadcast_shape
from .ops import elementwise as ew
from .ops import linalg, movement
from .tensor_methods import TensorMethods

__all__ = ["Tensor", "ElementCount", "as_array", "as_operands", "binary_operands", "float_dtype"]

NUMERIC_KINDS = "fiub"
FLOAT_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


def as_array(data: Any, dtype: Any = None, copy: bool = False) -> np.ndarray:
    """User data as a numeric array: floats become float32 unless ``dtype`` says otherwise."""
    if isinstance(data, Tensor):
        data = data._data
    elif data is None:  # numpy would make it nan
        raise TypeError("Tensor: got None where numbers were expected")
    elif isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in data):
        raise TypeError(
            "Tensor: got a list of Tensors; building a new Tensor from them would cut them "
            "from the graph (use tc.stack, or pass their .data arrays to copy the values)"
        )
    try:
        array = np.array(data, dtype=dtype, copy=True) if copy else np.asarray(data, dtype=dtype)
    except (ValueError, TypeError) as err:
        raise TypeError(
            f"Tensor: cannot convert {type(data).__name__} to a numeric array: {err}"
        ) from None
    if array.dtype.kind not in NUMERIC_KINDS:
        raise TypeError(
            f"Tensor: data must be numeric (float, int or bool), got dtype {array.dtype} "
            f"from {type(data).__name__}"
        )
    if dtype is None and array.dtype.kind == "f" and array.dtype != np.float32:
        array = array.astype(np.float32, copy=False)
    return array


def float_dtype(op: str, dtype: Any) -> np.dtype:
    """``dtype`` (a numpy dtype or type, or its name) as float16, float32 or float64, the
    dtypes a tensor converts to in place; anything else is a TypeError naming ``op``."""
    try:
        resolved = np.dtype(dtype) if dtype is not None else None
    except TypeError:
        resolved = None
    if resolved is None or resolved not in FLOAT_DTYPES:
        shown = repr(dtype) if resolved is None else resolved
        raise TypeError(f"{op}: only float16, float32 and float64 are accepted, got {shown}")
    return resolved


class ElementCount(int):
    """What ``t.size`` returns: numpy's element count, an int, that PyTorch users may call.

    ``t.size == 12`` (numpy); ``t.size()`` is the shape and ``t.size(1)`` one extent (PyTorch).
    """

    def __new__(cls, shape: tuple[int, ...]) -> ElementCount:
        count = super().__new__(cls, int(np.prod(shape, dtype=np.int64)))
        count.shape = shape
        return count

    def __call__(self, dim: int | None = None) -> tuple[int, ...] | int:
        """PyTorch's ``size()``: the shape, or with ``dim`` the extent of that axis."""
        if dim is None:
            return self.shape
        if not -len(self.shape) <= dim < len(self.shape):
            raise IndexError(f"size: dim {dim} is out of range for shape {self.shape}")
        return self.shape[dim]


class Tensor(TensorMethods):
    """An n-dimensional array that records the ops applied to it.

    ``Tensor(data, requires_grad=False, dtype=None)``: float data becomes float32 unless
    ``dtype`` is given (float64 for gradient checks); integer and bool tensors are constants.
    ``data`` is the underlying np.ndarray, a copy of the given data (as ``torch.tensor``), so
    later writes to your array cannot reach the graph. While an op keeps ``data`` for backward
    it is read-only. ``data`` may be replaced by another numeric array, never by a Tensor.

    Operators and methods keep numpy's meaning (``axis``, ``keepdims``, ``transpose(*axes)``,
    ``t.size``) and accept PyTorch's spellings beside them (``dim``, ``keepdim``, ``permute``,
    ``view``, ``t.size()``). One PyTorch meaning wins: ``repeat`` tiles; numpy's element-wise
    ``repeat`` is ``repeat_interleave``. docs/tensor.md lists every method.
    """

    __slots__ = (
        "_data",
        "_grad",
        "_requires_grad",
        "_ctx",
        "name",
        "_hooks",
        "_version",
        "__weakref__",
    )

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None):
        self._data: np.ndarray = as_array(data, dtype, copy=True)
        self._grad: Tensor | None = None
        self._ctx: function.Function | None = None
        self.name: str | None = None
        self._hooks: list = []
        self._version = 0  # when .data was last assigned (see function.next_data_version)
        self._requires_grad = False
        self.requires_grad = requires_grad

    @classmethod
    def _from_op(cls, data: Any, ctx: function.Function | None, requires_grad: bool) -> Tensor:
        """Fast constructor for op results: no conversion beyond wrapping numpy scalars."""
        tensor = cls.__new__(cls)
        tensor._data = data if type(data) is np.ndarray else np.asarray(data)
        tensor._grad = None
        tensor._ctx = ctx
        tensor._requires_grad = requires_grad
        tensor.name = None
        tensor._hooks = ()
        tensor._version = 0
        return tensor

    # ---- the array ---------------------------------------------------------------------------
    @property
    def data(self) -> np.ndarray:
        """The underlying np.ndarray. Assign a numeric array to replace it
        (``p.data = p.data - u``); a float tensor keeps its precision (float64 values assigned to
        a float32 tensor are cast). Assigning a Tensor is a TypeError, since it would hide a
        graph inside the array. While a graph keeps the memory for backward, the array handed
        out is a read-only view, even for a tensor that views memory saved through another."""
        if self._data.flags.writeable and write_guard.is_saved(self._data):
            view = self._data.view()
            view.setflags(write=False)
            return view
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        if isinstance(value, Tensor):
            raise TypeError(
                "Tensor.data: got a Tensor, expected a numpy array; assign its array "
                "(x.data = other.data), or update in place under tc.no_grad() (x -= lr * x.grad)"
            )
        if not isinstance(value, (np.ndarray, np.generic)):
            raise TypeError(f"Tensor.data: expected a numpy array, got {type(value).__name__}")
        value = np.asarray(value)
        if (
            value.dtype.kind == "f"
            and self._data.dtype.kind == "f"
            and value.dtype != self._data.dtype
        ):
            # numpy's habit (float64 from np.random, a float64 learning rate) would otherwise
            # turn a float32 model into a float64 one without a word
            value = value.astype(self._data.dtype)
        if value.dtype.kind not in NUMERIC_KINDS or (
            self._requires_grad and value.dtype.kind != "f"
        ):
            wanted = (
                "a floating array (this tensor requires grad)"
                if self._requires_grad
                else "a numeric array"
            )
            raise TypeError(f"Tensor.data: expected {wanted}, got dtype {value.dtype}")
        self._data = value
        self._version = function.next_data_version()

    def astype_(self, dtype: Any) -> Tensor:
        """Convert this float tensor, and its gradient, to the float ``dtype`` (float16, float32
        or float64) in place, keeping the object: what ``Module.to(dtype)`` does to each
        parameter and buffer, so an optimizer that holds them keeps working. Returns self.

        A leaf may be converted while a graph still uses it (the graph kept its old array;
        backward casts the gradients it brings to the new dtype), as PyTorch's ``Module.to``
        converts parameters. An op result may not: its graph's backward expects its dtype;
        ``astype`` gives a converted copy in the graph."""
        dtype = float_dtype("astype_", dtype)
        if self._data.dtype.kind != "f":
            raise TypeError(
                f"astype_: only a float tensor converts in place, this one has dtype {self.dtype} "
                f"(astype gives a converted copy)"
            )
        if self._ctx is not None:
            raise RuntimeError(
                f"astype_: this tensor is the result of op {self._ctx.name!r} in a recorded graph, "
                f"whose backward expects {self.dtype}; use astype({dtype}) for a converted copy"
            )
        if self._data.dtype != dtype:
            self._data = self._data.astype(dtype)
            self._version = function.next_data_version()
        if self._grad is not None and self._grad.dtype != dtype:
            # recorded when the gradient has a graph (create_graph)
            self._grad = self._grad.astype(dtype)
        return self

    @property
    def shape(self) -> tuple[int, ...]:
        """The array's shape."""
        return self._data.shape

    @property
    def dtype(self) -> np.dtype:
        """The array's dtype (float32 unless asked otherwise)."""
        return self._data.dtype

    @property
    def ndim(self) -> int:
        """Number of axes."""
        return self._data.ndim

    @property
    def size(self) -> ElementCount:
        """Number of elements (numpy); call it, ``t.size()`` or ``t.size(dim)``, for the shape."""
        return ElementCount(self._data.shape)

    def numel(self) -> int:
        """Number of elements."""
        return self._data.size

    def dim(self) -> int:
        """Number of axes (PyTorch's name for ndim)."""
        return self._data.ndim

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[Tensor]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self._data)))

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied; read-only while a graph saves it): the
        documented way out of the graph."""
        return self.data

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if copy:
            return np.array(self._data, dtype=dtype, copy=True)
        return self.data if dtype is None else self._data.astype(dtype, copy=False)

    # numpy's functions and ufuncs on Tensors run their counterparts here (see interop.py).
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        from . import interop  # imported on first use: interop builds on this module

        return interop.array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Callable, types: tuple, args: tuple, kwargs: dict) -> Any:
        from . import interop

        return interop.array_function(func, types, args, kwargs)

    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ValueError(
                f"item: tensor has {self._data.size} elements (shape {self.shape}), expected 1"
            )
        return self._data.item()

    def tolist(self) -> Any:
        """The values as (nested) Python lists of numbers."""
        return self._data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        return bool(self._data)  # numpy's "truth value ... is ambiguous" for several elements

    def __format__(self, spec: str) -> str:
        if not spec:
            return str(self)
        if self._data.size != 1:
            raise TypeError(f"format: {spec!r} needs a one-element tensor, got shape {self.shape}")
        return format(self.item(), spec)

    def __repr__(self) -> str:
        body = np.array2string(self._data, precision=4, threshold=20, prefix="Tensor(")
        grad = ", requires_grad=True" if self._requires_grad else ""
        op = f", op={self._ctx.name}" if self._ctx is not None else ""
        return f"Tensor({body}, dtype={self._data.dtype}{grad}{op})"

    # Pickle, deepcopy and multiprocessing keep the values, requires_grad, grad and name, never
    # the graph: a copied op result is a leaf (its graph's saved arrays belong to the original).
    def __getstate__(self) -> dict:
        return {
            "data": self._data,
            "requires_grad": self._requires_grad,
            "grad": self._grad,
            "name": self.name,
        }

    def __setstate__(self, state: dict) -> None:
        data = state["data"]
        self._data = data if data.flags.owndata else data.copy()  # numpy unpickles into bytes
        self._requires_grad, self._grad, self.name = (
            state["requires_grad"],
            state["grad"],
            state["name"],
        )
        self._ctx, self._hooks, self._version = None, [], 0

    # ---- gradient bookkeeping -----------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        """Whether gradients flow into (and, for a leaf, accumulate in) this tensor."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and self._data.dtype.kind != "f":
            raise TypeError(
                f"Tensor: only floating tensors can require grad; this one has dtype "
                f"{self._data.dtype} (integer and bool tensors are constants)"
            )
        if not value and self._ctx is not None:
            raise RuntimeError(
                "Tensor: cannot turn off requires_grad on an op result; use detach()"
            )
        self._requires_grad = bool(value)

    def requires_grad_(self, value: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return self."""
        self.requires_grad = value
        return self

    @property
    def grad(self) -> Tensor | None:
        """The gradient accumulated by backward: a Tensor of this tensor's shape, or None."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"Tensor.grad: expected a Tensor or None, got {type(value).__name__} "
                    f"(wrap an array as Tensor(array))"
                )
            if value.shape != self.shape or value.dtype.kind != "f":
                raise ValueError(
                    f"Tensor.grad: a gradient for shape {self.shape} must be a float "
                    f"tensor of that shape, got shape {value.shape}, dtype {value.dtype}"
                )
        self._grad = value

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op."""
        return self._ctx is None

    def backward(
        self, grad: Any = None, retain_graph: bool | None = None, create_graph: bool = False
    ) -> None:
        """Accumulate the gradient of this tensor into every leaf's ``.grad``.

        ``grad``: the gradient flowing in, needed unless this tensor has one element.
        ``retain_graph``: keep saved arrays for another backward (default: ``create_graph``).
        ``create_graph``: build a graph of the gradient itself, so ``x.grad`` can be
        differentiated again (second derivatives); see :mod:`tinygrad_cnn.engine`.
        """
        engine.backward(self, grad, retain_graph, create_graph)

    def register_hook(self, hook: Callable[[Tensor], Any]) -> HookHandle:
        """Call ``hook(grad)`` when this tensor's gradient has been summed during backward.

        The hook gets its own copy of the gradient: it may return a replacement (same shape),
        or change the copy in place and return None.
        Returns a handle whose ``remove()`` unregisters the hook.
        """
        if not self._requires_grad:
            raise RuntimeError(
                "register_hook: this tensor does not require grad, so no gradient reaches it"
            )
        if not isinstance(self._hooks, list):
            self._hooks = []
        self._hooks.append(hook)
        return HookHandle(self._hooks, hook)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient."""
        self.grad = None

    def detach(self) -> Tensor:
        """The same data, cut from the graph (shares memory)."""
        return Tensor._from_op(self._data, None, False)

    # ---- arithmetic -------------------------------------------------------------------------
    def __add__(self, other: Any) -> Tensor:
        return ew.Add.apply(*binary_operands(self, other, "+"))

    def __radd__(self, other: Any) -> Tensor:
        return ew.Add.apply(*binary_operands(other, self, "+"))

    def __sub__(self, other: Any) -> Tensor:
        return ew.Sub.apply(*binary_operands(self, other, "-"))

    def __rsub__(self, other: Any) -> Tensor:
        return ew.Sub.apply(*binary_operands(other, self, "-"))

    def __mul__(self, other: Any) -> Tensor:
        return ew.Mul.apply(*binary_operands(self, other, "*"))

    def __rmul__(self, other: Any) -> Tensor:
        return ew.Mul.apply(*binary_operands(other, self, "*"))

    def __truediv__(self, other: Any) -> Tensor:
        return ew.Div.apply(*_division_operands(self, other))

    def __rtruediv__(self, other: Any) -> Tensor:
        return ew.Div.apply(*_division_operands(other, self))

    def __neg__(self) -> Tensor:
        if self._data.dtype == bool:
            raise TypeError("-: negating a bool tensor is not supported; use ~ for logical not")
        return ew.Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return self.abs()

    def __pow__(self, exponent: float) -> Tensor:
        if isinstance(exponent, Tensor) or not np.isscalar(exponent):
            raise TypeError(
                f"pow: the exponent must be a Python or numpy scalar, got {type(exponent).__name__}"
            )
        exponent = float(exponent)
        integral = exponent.is_integer() and exponent >= 0
        # 4 ** 0.5 is 2.0
        base = self if self._data.dtype.kind == "f" or integral else self.astype(np.float32)
        return ew.Pow.apply(base, exponent=exponent)

    def __rpow__(self, base: float) -> Tensor:
        """``base ** x`` as exp(x * log(base)), for a positive scalar base."""
        if not (np.isscalar(base) and base > 0):
            raise ValueError(f"pow: a tensor exponent needs a positive scalar base, got {base!r}")
        return (self * float(np.log(base))).exp()

    def __matmul__(self, other: Any) -> Tensor:
        return linalg.Matmul.apply(*binary_operands(self, other))

    def __rmatmul__(self, other: Any) -> Tensor:
        return linalg.Matmul.apply(*binary_operands(other, self))

    # In place, as PyTorch's manual SGD step: `with tc.no_grad(): p -= lr * p.grad`. On an op
    # result in grad mode, `total += loss` records a new op instead (Python then falls back to
    # `total = total + loss`), as PyTorch records its in-place ops.
    def __iadd__(self, other: Any) -> Tensor:
        return self._update_in_place("+=", np.add, other)

    def __isub__(self, other: Any) -> Tensor:
        return self._update_in_place("-=", np.subtract, other)

    def __imul__(self, other: Any) -> Tensor:
        return self._update_in_place("*=", np.multiply, other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._update_in_place("/=", np.divide, other)

    def _update_in_place(self, symbol: str, ufunc: np.ufunc, other: Any) -> Tensor:
        """Write ``self (symbol) other`` into this tensor's array, or, in grad mode where the
        graph is involved, record a new op (NotImplemented: Python computes ``x = x (op) y``).
        A leaf that requires grad is refused there, as PyTorch refuses it."""
        if function.is_grad_enabled() and (
            self._requires_grad or getattr(other, "_requires_grad", False)
        ):
            if self._requires_grad and self._ctx is None:
                raise RuntimeError(
                    f"in-place {symbol}: a leaf tensor that requires grad cannot be updated in "
                    f"place while grad mode is on; update a parameter inside `with tc.no_grad():` "
                    f"(as an optimizer step does), or write x = x {symbol[0]} y for a new tensor"
                )
            return NotImplemented
        value = other._data if isinstance(other, Tensor) else as_array(other)
        if broadcast_shape(f"in-place {symbol}", self.shape, value.shape) != self.shape:
            raise ValueError(
                f"in-place {symbol}: operand of shape {value.shape} does not broadcast "
                f"to this tensor's shape {self.shape}"
            )
        self._make_writable(symbol)
        try:
            ufunc(self._data, value, out=self._data, casting="same_kind")
        except TypeError as err:
            raise TypeError(
                f"in-place {symbol}: cannot write {value.dtype} values into a {self.dtype} "
                f"tensor: {err}"
            ) from None
        return self

    def _make_writable(self, symbol: str) -> None:
        """Refuse to write memory a graph saved, even through a view taken before it was saved
        (numpy's read-only flag does not reach such views); a view taken while it was saved
        is read-only by itself, so it is made writable again."""
        if write_guard.is_saved(self._data):
            raise ValueError(
                f"in-place {symbol}: the array is read-only: a graph still alive saved it (or "
                f"the array it views) for its backward, e.g. a loss computed outside "
                f"tc.no_grad(); run that backward, or delete the result that holds the graph"
            )
        if not self._data.flags.writeable:
            if any(s == 0 and n > 1 for s, n in zip(self._data.strides, self._data.shape)):
                raise ValueError(
                    f"in-place {symbol}: the array is read-only: it is a broadcast view "
                    f"(expand, broadcast_to), whose elements share memory"
                )
            self._data.setflags(write=True)

    # ---- comparisons and logic: constants, never recorded ------------------------------------
    def _constant_elementwise(self, other: Any, ufunc: np.ufunc, symbol: str) -> Tensor:
        value = _comparable(other)
        if value is None:
            return NotImplemented  # e.g. `t == None`: Python falls back to identity
        broadcast_shape(symbol, self.shape, np.shape(value))
        return Tensor._from_op(ufunc(self._data, value), None, False)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._constant_elementwise(other, np.equal, "==")

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._constant_elementwise(other, np.not_equal, "!=")

    def __lt__(self, other: Any) -> Tensor:
        return self._constant_elementwise(other, np.less, "<")

    def __le__(self, other: Any) -> Tensor:
        return self._constant_elementwise(other, np.less_equal, "<=")

    def __gt__(self, other: Any) -> Tensor:
        return self._constant_elementwise(other, np.greater, ">")

    def __ge__(self, other: Any) -> Tensor:
        return self._constant_elementwise(other, np.greater_equal, ">=")

    __hash__ = object.__hash__  # identity: tensors stay usable as dict keys and in sets

    def __contains__(self, value: Any) -> bool:
        return bool((self._data == _comparable(value)).any())

    def _logical(self, other: Any, ufunc: np.ufunc, symbol: str) -> Tensor:
        for operand in (self, other):
            if np.asarray(_comparable(operand)).dtype.kind not in "biu":
                raise TypeError(
                    f"{symbol}: needs bool or integer tensors, got dtype "
                    f"{np.asarray(_comparable(operand)).dtype}"
                )
        return self._constant_elementwise(other, ufunc, symbol)

    def __and__(self, other: Any) -> Tensor:
        return self._logical(other, np.bitwise_and, "&")

    def __or__(self, other: Any) -> Tensor:
        return self._logical(other, np.bitwise_or, "|")

    __rand__, __ror__ = __and__, __or__

    def __invert__(self) -> Tensor:
        """Logical not of a bool tensor (bitwise not of an integer one); a constant."""
        if self._data.dtype.kind == "f":
            raise TypeError(f"~: needs a bool or integer tensor, got dtype {self.dtype}")
        return Tensor._from_op(~self._data, None, False)

    def __getitem__(self, index: Any) -> Tensor:
        return movement.Getitem.apply(self, index=movement.resolve_index(index))

    def __setitem__(self, index: Any, value: Any) -> None:
        """``t[index] = value`` writes into the array, as numpy: allowed under ``tc.no_grad()``
        and on tensors outside any graph; record a new tensor with ``tc.where`` instead."""
        if function.is_grad_enabled() and (
            self._requires_grad or getattr(value, "_requires_grad", False)
        ):
            raise RuntimeError(
                "item assignment: the graph cannot record a write into a tensor that requires grad "
                "(or of one that does); use tc.where(mask, value, t) or t.masked_fill(mask, value) "
                "for a new tensor, or write under `with tc.no_grad():`"
            )
        self._make_writable("item assignment")
        try:
            self._data[movement.resolve_index(index)] = (
                value._data if isinstance(value, Tensor) else value
            )
        except (IndexError, ValueError, TypeError) as err:
            raise type(err)(f"item assignment into shape {self.shape}: {err}") from None

    def __index__(self) -> int:
        """A one-element integer tensor as a Python index: ``labels[t.argmax()]``, ``range(t)``."""
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError(
                f"only one-element integer tensors can be used as an index, got dtype "
                f"{self.dtype}, shape {self.shape}"
            )
        return int(self._data.item())

    def __floordiv__(self, other: Any) -> Tensor:
        """Elementwise floor division: a constant (its gradient is zero almost everywhere)."""
        return Tensor._from_op(np.floor_divide(*_constant_operands("//", self, other)), None, False)

    def __mod__(self, other: Any) -> Tensor:
        """Elementwise remainder, as numpy's (the sign of the divisor): a constant."""
        return Tensor._from_op(np.mod(*_constant_operands("%", self, other)), None, False)


class HookHandle:
    """Returned by ``register_hook``: ``remove()`` takes the hook off again."""

    def __init__(self, hooks: list, hook: Callable):
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _comparable(value: Any) -> Any:
    """``value`` as numpy compares it elementwise (an array or a number), or None when it is
    not numeric data (None, strings, other objects)."""
    if isinstance(value, Tensor):
        return value._data
    if isinstance(value, (np.ndarray, np.generic, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        try:
            array = np.asarray(value)
        except ValueError:
            return None
        return array if array.dtype.kind in NUMERIC_KINDS else None
    return None


_SCALARS = (float, int, np.float32, np.float64)


def binary_operands(a: Any, b: Any, elementwise: str | None = None) -> tuple[Tensor, Tensor]:
    """The two inputs of a binary op as tensors, as :func:`as_operands`, with a fast path for
    the common ``tensor (op) scalar``. For an elementwise op (its symbol given) the shapes must
    broadcast, and bools may be added or multiplied but not subtracted, as numpy says."""
    if type(b) in _SCALARS and isinstance(a, Tensor) and a._data.dtype.kind == "f":
        return a, _scalar(b, a._data.dtype)
    if type(a) in _SCALARS and isinstance(b, Tensor) and b._data.dtype.kind == "f":
        return _scalar(a, b._data.dtype), b
    a, b = as_operands(a, b)
    if elementwise:
        a_shape, b_shape = a._data.shape, b._data.shape
        if a_shape != b_shape and a_shape and b_shape:  # a scalar always broadcasts
            broadcast_shape(elementwise, a_shape, b_shape)
        if elementwise == "-" and a._data.dtype == bool and b._data.dtype == bool:
            raise TypeError(
                "-: subtracting bool tensors is not supported; use ^ (xor) or cast to int"
            )
    return a, b


def _constant_operands(symbol: str, a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    """The arrays of a binary operation whose result is a constant (``//``, ``%``)."""
    a, b = binary_operands(a, b, symbol)
    return a._data, b._data


def _division_operands(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Operands of a true division: integers divide as float32 (numpy would give float64)."""
    a, b = binary_operands(a, b, "/")
    if a._data.dtype.kind != "f" and b._data.dtype.kind != "f":
        return a.astype(np.float32), b.astype(np.float32)
    return a, b


def _scalar(value: float, dtype: np.dtype) -> Tensor:
    """A number as a 0-d constant, read-only from birth: no one writes it, so an op that saves
    it needs no protection (and no lock) for it."""
    array = np.array(value, dtype=dtype)
    array.flags.writeable = False
    return Tensor._from_op(array, None, False)


def as_operands(*items: Any) -> list[Tensor]:
    """Inputs of one op as tensors, without silent upcasts.

    Non-tensor operands (Python or numpy scalars, arrays) and integer tensors take the float
    dtype of the float tensors, so ``x * 2`` and ``x + np.float64(1)`` stay float32 for a
    float32 ``x``; float tensors of different precision promote as in numpy; a float constant
    among integer tensors is float32. All-integer inputs stay integers.
    """
    floats = [t._data.dtype for t in items if isinstance(t, Tensor) and t._data.dtype.kind == "f"]
    if floats:
        float_dtype = np.result_type(*floats)
    elif any(not isinstance(t, Tensor) and np.asarray(t).dtype.kind == "f" for t in items):
        float_dtype = np.dtype(np.float32)
    else:
        float_dtype = None
    integers = [
        t._data.dtype for t in items if isinstance(t, Tensor) and t._data.dtype.kind in "iu"
    ]
    int_dtype = np.result_type(*integers) if integers and float_dtype is None else None
    return [_constant_as(t, float_dtype, int_dtype) for t in items]


def _constant_as(x: Any, float_dtype: np.dtype | None, int_dtype: np.dtype | None = None) -> Tensor:
    if isinstance(x, Tensor):
        if float_dtype is None or x._data.dtype.kind == "f":
            return x
        return Tensor._from_op(x._data.astype(float_dtype), None, False)
    if (
        int_dtype is not None
        and type(x) is int
        and np.iinfo(int_dtype).min <= x <= np.iinfo(int_dtype).max
    ):
        return Tensor._from_op(np.array(x, dtype=int_dtype), None, False)  # int32 * 2 stays int32
    # a copy of the caller's array: an op may save it, and saved memory turns read-only
    return Tensor._from_op(as_array(x, float_dtype, copy=isinstance(x, np.ndarray)), None, False)


function.Tensor = Tensor
