"""Tensor: a numpy array plus the op that made it, so gradients can flow back through it."""
from __future__ import annotations

from collections import namedtuple
from typing import Any, Callable, Iterable, Iterator, Union

import numpy as np

from . import engine, function
from .ops import activation, linalg, movement, reduce
from .ops import elementwise as ew

__all__ = ["Tensor", "Size", "MinMax", "binary_operands", "comparable"]

_NUMERIC_KINDS = "fiub"
Axes = Union[int, Iterable[int], None]


def _as_array(data: Any, dtype: Any, copy: bool = False) -> np.ndarray:
    """Convert user data to an array: floats become float32 unless ``dtype`` says otherwise."""
    if isinstance(data, Tensor):
        data = data._data
    elif isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in data):
        raise TypeError("Tensor: got a list of Tensors; building a new Tensor from them would cut them "
                        "from the graph (pass one Tensor, or their .data arrays to copy the values)")
    try:
        array = np.array(data, dtype=dtype, copy=True) if copy else np.asarray(data, dtype=dtype)
    except (ValueError, TypeError) as err:
        raise TypeError(f"Tensor: cannot convert {type(data).__name__} to a numeric array: {err}") from None
    if array.dtype.kind not in _NUMERIC_KINDS:
        raise TypeError(
            f"Tensor: data must be numeric (float, int or bool), got dtype {array.dtype} "
            f"from {type(data).__name__}"
        )
    if dtype is None and array.dtype.kind == "f" and array.dtype != np.float32:
        array = array.astype(np.float32, copy=False)
    return array


class Size(int):
    """numpy's ``t.size``, the element count, that can also be called as PyTorch's ``t.size()``.

    ``t.size`` is an int (numpy); ``t.size()`` is the shape and ``t.size(dim)`` one extent
    (PyTorch).
    """

    def __new__(cls, shape: tuple[int, ...]) -> "Size":
        size = super().__new__(cls, int(np.prod(shape, dtype=np.int64)))
        size.shape = shape
        return size

    def __call__(self, dim: int | None = None) -> tuple[int, ...] | int:
        if dim is None:
            return self.shape
        return self.shape[reduce.axis_index("size", dim, len(self.shape))]


MinMax = namedtuple("MinMax", ["values", "indices"])
"""What ``t.max(dim=d)`` / ``t.min(dim=d)`` return, as PyTorch: the values and their indices."""


class Tensor:
    """An n-dimensional array that records the ops applied to it.

    ``Tensor(data, requires_grad=False, dtype=None)``: float data becomes float32 unless
    ``dtype`` is given (float64 for gradient checks); integer and bool tensors are constants.
    ``data`` is the underlying np.ndarray, a copy of the given data (as ``torch.tensor``), so
    later writes to your array cannot reach the graph. While an op keeps ``data`` for backward
    it is read-only. ``data`` may be replaced by another numeric array, never by a Tensor.

    Operators, comparisons and methods follow numpy (``axis``, ``keepdims``,
    ``transpose(*axes)``) and accept PyTorch's spellings where they do not clash (``dim``,
    ``keepdim``, ``permute``, ``view``); docs/tensor.md lists them all.
    """

    __slots__ = ("_data", "grad", "_requires_grad", "_ctx", "name", "_hooks", "__weakref__")

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None):
        self._data: np.ndarray = _as_array(data, dtype, copy=True)
        self.grad: Tensor | None = None
        self._ctx: function.Function | None = None
        self.name: str | None = None
        self._hooks: list = []
        self._requires_grad = False
        self.requires_grad = requires_grad

    @classmethod
    def _from_op(cls, data: Any, ctx: function.Function | None, requires_grad: bool) -> "Tensor":
        """Fast constructor for op results: no conversion beyond wrapping numpy scalars."""
        tensor = cls.__new__(cls)
        tensor._data = data if type(data) is np.ndarray else np.asarray(data)
        tensor.grad = None
        tensor._ctx = ctx
        tensor._requires_grad = requires_grad
        tensor.name = None
        tensor._hooks = ()
        return tensor

    # ---- the array ---------------------------------------------------------------------------
    @property
    def data(self) -> np.ndarray:
        """The underlying np.ndarray. Assign a numeric array to replace it (``p.data = p.data - u``);
        assigning a Tensor is a TypeError, since it would hide a graph inside the array."""
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        if isinstance(value, Tensor):
            raise TypeError(
                "Tensor.data: got a Tensor, expected a numpy array; assign its array (x.data = other.data), "
                "or update in place under tc.no_grad() (x -= lr * x.grad)"
            )
        if not isinstance(value, (np.ndarray, np.generic)):
            raise TypeError(f"Tensor.data: expected a numpy array, got {type(value).__name__}")
        value = np.asarray(value)
        if value.dtype.kind not in _NUMERIC_KINDS or (self._requires_grad and value.dtype.kind != "f"):
            wanted = "a floating array (this tensor requires grad)" if self._requires_grad else "a numeric array"
            raise TypeError(f"Tensor.data: expected {wanted}, got dtype {value.dtype}")
        self._data = value

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
    def size(self) -> Size:
        """Number of elements (numpy); call it, ``t.size()`` or ``t.size(dim)``, for PyTorch's shape."""
        return Size(self._data.shape)

    def numel(self) -> int:
        """Number of elements."""
        return self._data.size

    def dim(self) -> int:
        """Number of axes (PyTorch's name for ndim)."""
        return self._data.ndim

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator["Tensor"]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self._data)))

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied): the documented way out of the graph."""
        return self._data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self._data if dtype is None else self._data.astype(dtype)

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
            raise ValueError(f"item: tensor has {self._data.size} elements (shape {self.shape}), expected 1")
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
        if spec and self._data.size == 1:
            return format(self.item(), spec)
        return format(str(self), spec)

    def __repr__(self) -> str:
        body = np.array2string(self._data, precision=4, threshold=20, prefix="Tensor(")
        grad = ", requires_grad=True" if self._requires_grad else ""
        op = f", op={self._ctx.name}" if self._ctx is not None else ""
        return f"Tensor({body}, dtype={self._data.dtype}{grad}{op})"

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
            raise RuntimeError("Tensor: cannot turn off requires_grad on an op result; use detach()")
        self._requires_grad = bool(value)

    def requires_grad_(self, value: bool = True) -> "Tensor":
        """Set ``requires_grad`` in place and return self."""
        self.requires_grad = value
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op."""
        return self._ctx is None

    def backward(self, grad: Any = None, retain_graph: bool | None = None, create_graph: bool = False) -> None:
        """Accumulate the gradient of this tensor into every leaf's ``.grad``.

        ``grad``: the gradient flowing in, needed unless this tensor has one element.
        ``retain_graph``: keep saved arrays for another backward (default: ``create_graph``).
        ``create_graph``: build a graph of the gradient itself, so ``x.grad`` can be
        differentiated again (second derivatives); see :mod:`tinygrad_cnn.engine`.
        """
        engine.backward(self, grad, retain_graph, create_graph)

    def register_hook(self, hook: Callable[["Tensor"], Any]) -> "HookHandle":
        """Call ``hook(grad)`` when this tensor's gradient has been summed during backward.

        The hook may return a replacement gradient (same shape) or None to keep it.
        Returns a handle whose ``remove()`` unregisters the hook.
        """
        if not self._requires_grad:
            raise RuntimeError("register_hook: this tensor does not require grad, so no gradient reaches it")
        if not isinstance(self._hooks, list):
            self._hooks = []
        self._hooks.append(hook)
        return HookHandle(self._hooks, hook)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient."""
        self.grad = None

    def detach(self) -> "Tensor":
        """The same data, cut from the graph (shares memory)."""
        return Tensor._from_op(self._data, None, False)

    # ---- dtype ------------------------------------------------------------------------------
    def astype(self, dtype: Any) -> "Tensor":
        """A copy in ``dtype``. Between float dtypes it records the ``astype`` op, so gradients
        flow (cast back); to an integer or bool dtype the result is a constant."""
        dtype = np.dtype(dtype)
        if dtype.kind == "f" and self._data.dtype.kind == "f":
            return ew.Astype.apply(self, dtype=dtype)
        return Tensor._from_op(self._data.astype(dtype), None, False)

    def to(self, dtype: Any) -> "Tensor":
        """PyTorch's name for :meth:`astype` (``"cpu"``, the only device, returns self)."""
        return self if isinstance(dtype, str) and dtype == "cpu" else self.astype(dtype)

    def float(self) -> "Tensor":
        """As float32."""
        return self.astype(np.float32)

    def double(self) -> "Tensor":
        """As float64."""
        return self.astype(np.float64)

    def long(self) -> "Tensor":
        """As int64 (a constant)."""
        return self.astype(np.int64)

    def clone(self) -> "Tensor":
        """A copy that stays in the graph (records ``astype`` to the same dtype)."""
        return self.astype(self._data.dtype)

    # ---- arithmetic -------------------------------------------------------------------------
    def __add__(self, other: Any) -> "Tensor":
        return ew.Add.apply(*binary_operands(self, other))

    def __radd__(self, other: Any) -> "Tensor":
        return ew.Add.apply(*binary_operands(other, self))

    def __sub__(self, other: Any) -> "Tensor":
        return ew.Sub.apply(*binary_operands(self, other))

    def __rsub__(self, other: Any) -> "Tensor":
        return ew.Sub.apply(*binary_operands(other, self))

    def __mul__(self, other: Any) -> "Tensor":
        return ew.Mul.apply(*binary_operands(self, other))

    def __rmul__(self, other: Any) -> "Tensor":
        return ew.Mul.apply(*binary_operands(other, self))

    def __truediv__(self, other: Any) -> "Tensor":
        return ew.Div.apply(*binary_operands(self, other))

    def __rtruediv__(self, other: Any) -> "Tensor":
        return ew.Div.apply(*binary_operands(other, self))

    def __neg__(self) -> "Tensor":
        return ew.Neg.apply(self)

    def __pos__(self) -> "Tensor":
        return self

    def __abs__(self) -> "Tensor":
        return self.abs()

    def __pow__(self, exponent: float) -> "Tensor":
        if isinstance(exponent, Tensor) or not np.isscalar(exponent):
            raise TypeError(f"pow: the exponent must be a Python or numpy scalar, got {type(exponent).__name__}")
        return ew.Pow.apply(self, exponent=float(exponent))

    def __rpow__(self, base: float) -> "Tensor":
        """``base ** x`` as exp(x * log(base)), for a positive scalar base."""
        if not (np.isscalar(base) and base > 0):
            raise ValueError(f"pow: a tensor exponent needs a positive scalar base, got {base!r}")
        return (self * float(np.log(base))).exp()

    def __matmul__(self, other: Any) -> "Tensor":
        return linalg.Matmul.apply(*binary_operands(self, other))

    def __rmatmul__(self, other: Any) -> "Tensor":
        return linalg.Matmul.apply(*binary_operands(other, self))

    # In place, as PyTorch's manual SGD step: `with tc.no_grad(): p -= lr * p.grad`.
    def __iadd__(self, other: Any) -> "Tensor":
        return self._update_in_place("+=", np.add, other)

    def __isub__(self, other: Any) -> "Tensor":
        return self._update_in_place("-=", np.subtract, other)

    def __imul__(self, other: Any) -> "Tensor":
        return self._update_in_place("*=", np.multiply, other)

    def __itruediv__(self, other: Any) -> "Tensor":
        return self._update_in_place("/=", np.divide, other)

    def _update_in_place(self, symbol: str, ufunc: np.ufunc, other: Any) -> "Tensor":
        """Write ``self (symbol) other`` into this tensor's array; the graph is not involved, so
        it is refused while grad mode is on for a tensor that requires grad (or an operand that does)."""
        other_needs_grad = isinstance(other, Tensor) and other._requires_grad
        if function.is_grad_enabled() and (self._requires_grad or other_needs_grad):
            which = "this tensor" if self._requires_grad else "the right-hand operand"
            raise RuntimeError(
                f"in-place {symbol}: {which} requires grad, and an in-place update would not be "
                f"recorded in the graph; update a parameter inside `with tc.no_grad():` (as an optimizer "
                f"step does), or write x = x {symbol[0]} y to record a new op"
            )
        value = other._data if isinstance(other, Tensor) else np.asarray(other)
        if movement.broadcast_shape(f"in-place {symbol}", self.shape, value.shape) != self.shape:
            raise ValueError(f"in-place {symbol}: operand of shape {value.shape} does not broadcast "
                             f"to this tensor's shape {self.shape}")
        try:
            ufunc(self._data, value, out=self._data, casting="same_kind")
        except TypeError as err:
            raise TypeError(f"in-place {symbol}: cannot write {value.dtype} values into a {self.dtype} "
                            f"tensor: {err}") from None
        except ValueError as err:  # numpy's "output array is read-only"
            raise ValueError(f"in-place {symbol}: the array is read-only ({err}); a graph saved it "
                             f"for backward, or it is a broadcast view") from None
        return self

    # ---- comparisons: boolean tensors, never recorded ---------------------------------------
    def _compare(self, other: Any, ufunc: np.ufunc, symbol: str) -> "Tensor":
        value = comparable(other)
        if value is None:
            return NotImplemented  # e.g. `t == None`: Python falls back to identity
        movement.broadcast_shape(symbol, self.shape, np.shape(value))
        return Tensor._from_op(ufunc(self._data, value), None, False)


    def __eq__(self, other: Any) -> "Tensor":  # type: ignore[override]
        return self._compare(other, np.equal, "==")

    def __ne__(self, other: Any) -> "Tensor":  # type: ignore[override]
        return self._compare(other, np.not_equal, "!=")

    def __lt__(self, other: Any) -> "Tensor":
        return self._compare(other, np.less, "<")

    def __le__(self, other: Any) -> "Tensor":
        return self._compare(other, np.less_equal, "<=")

    def __gt__(self, other: Any) -> "Tensor":
        return self._compare(other, np.greater, ">")

    def __ge__(self, other: Any) -> "Tensor":
        return self._compare(other, np.greater_equal, ">=")

    __hash__ = object.__hash__  # identity: tensors stay usable as dict keys and in sets

    def __contains__(self, value: Any) -> bool:
        return bool((self._data == comparable(value)).any())

    def __invert__(self) -> "Tensor":
        """Logical not of a bool tensor (bitwise not of an integer one); a constant."""
        if self._data.dtype.kind == "f":
            raise TypeError(f"~: needs a bool or integer tensor, got dtype {self.dtype}")
        return Tensor._from_op(~self._data, None, False)

    def __and__(self, other: Any) -> "Tensor":
        return self._compare(other, np.bitwise_and, "&")

    def __or__(self, other: Any) -> "Tensor":
        return self._compare(other, np.bitwise_or, "|")

    __rand__, __ror__ = __and__, __or__

    def any(self, axis: Axes = None, keepdims: bool = False) -> "Tensor":
        """Whether any element (along ``axis``) is nonzero: a bool constant."""
        return Tensor._from_op(self._data.any(axis=axis, keepdims=keepdims), None, False)

    def all(self, axis: Axes = None, keepdims: bool = False) -> "Tensor":
        """Whether every element (along ``axis``) is nonzero: a bool constant."""
        return Tensor._from_op(self._data.all(axis=axis, keepdims=keepdims), None, False)

    # ---- elementwise math -----------------------------------------------------------------
    def exp(self) -> "Tensor":
        """e ** x, elementwise."""
        return ew.Exp.apply(self)

    def log(self) -> "Tensor":
        """Natural logarithm, elementwise."""
        return ew.Log.apply(self)

    def sqrt(self) -> "Tensor":
        """Square root, elementwise."""
        return ew.Sqrt.apply(self)

    def abs(self) -> "Tensor":
        """|x|, elementwise; the gradient is sign(x) (0 at 0)."""
        return activation.Abs.apply(self)

    def relu(self) -> "Tensor":
        """max(x, 0), elementwise."""
        return ew.Relu.apply(self)

    def sigmoid(self) -> "Tensor":
        """1 / (1 + e ** -x), elementwise, computed without overflow."""
        return ew.Sigmoid.apply(self)

    def tanh(self) -> "Tensor":
        """Hyperbolic tangent, elementwise."""
        return ew.Tanh.apply(self)

    def maximum(self, other: Any) -> "Tensor":
        """Elementwise max(x, other), broadcasting; ties share the gradient evenly."""
        return ew.Maximum.apply(*binary_operands(self, other))

    def minimum(self, other: Any) -> "Tensor":
        """Elementwise min(x, other), broadcasting; ties share the gradient evenly."""
        return ew.Minimum.apply(*binary_operands(self, other))

    def clip(self, min: float | None = None, max: float | None = None) -> "Tensor":
        """Limit to [min, max] (either may be None), as numpy's clip; gradient 1 strictly inside."""
        if min is None and max is None:
            raise ValueError("clip: give min, max or both")
        for name, bound in (("min", min), ("max", max)):
            if bound is not None and not np.isscalar(bound):
                raise TypeError(f"clip: {name} must be a number or None, got {type(bound).__name__}")
        return activation.Clamp.apply(self, low=min, high=max)

    clamp = clip

    def masked_fill(self, mask: Any, value: float) -> "Tensor":
        """``value`` where ``mask`` (bool, broadcasting to this shape) is True, else x."""
        mask = np.asarray(comparable(mask))
        if mask.dtype != bool:
            raise TypeError(f"masked_fill: mask must be a bool tensor or array, got dtype {mask.dtype}")
        if movement.broadcast_shape("masked_fill", self.shape, mask.shape) != self.shape:
            raise ValueError(f"masked_fill: mask of shape {mask.shape} does not broadcast to {self.shape}")
        from .functions import where
        return where(mask, value, self)

    # ---- reductions -------------------------------------------------------------------------
    def sum(self, axis: Axes = None, keepdims: bool = False, *, dim: Axes = None, keepdim: bool | None = None) -> "Tensor":
        """Sum over ``axis`` (an int, a tuple, or None for all), as numpy's."""
        axis, keepdims = _axis_args("sum", self.ndim, axis, keepdims, dim, keepdim)
        return reduce.Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Axes = None, keepdims: bool = False, *, dim: Axes = None, keepdim: bool | None = None) -> "Tensor":
        """Mean over ``axis`` (an int, a tuple, or None for all), as numpy's."""
        axis, keepdims = _axis_args("mean", self.ndim, axis, keepdims, dim, keepdim)
        return reduce.Mean.apply(self, axis=axis, keepdims=keepdims)

    def max(self, axis: Axes = None, keepdims: bool = False, *, dim: int | None = None,
            keepdim: bool | None = None) -> "Tensor | MinMax":
        """Maximum over ``axis``, as numpy's (tied maxima share the gradient evenly, as torch.amax).
        With PyTorch's ``dim=`` it returns ``(values, indices)``, as torch.max(dim) does."""
        return self._extremum("max", reduce.Max, self._data.argmax, axis, keepdims, dim, keepdim)

    def min(self, axis: Axes = None, keepdims: bool = False, *, dim: int | None = None,
            keepdim: bool | None = None) -> "Tensor | MinMax":
        """Minimum over ``axis``, as numpy's; ``dim=`` gives ``(values, indices)``, as torch.min(dim)."""
        return self._extremum("min", reduce.Min, self._data.argmin, axis, keepdims, dim, keepdim)

    def _extremum(self, op, cls, arg, axis, keepdims, dim, keepdim):
        if dim is None:
            axis, keepdims = _axis_args(op, self.ndim, axis, keepdims, None, keepdim)
            return cls.apply(self, axis=axis, keepdims=keepdims)
        if not isinstance(dim, (int, np.integer)):
            raise TypeError(f"{op}: dim must be one int (PyTorch's {op}(dim) returns values and indices), got {dim!r}")
        (axis,), keepdims = _axis_args(op, self.ndim, axis, keepdims, dim, keepdim)
        values = cls.apply(self, axis=(axis,), keepdims=keepdims)
        return MinMax(values, Tensor._from_op(arg(axis=axis, keepdims=keepdims), None, False))

    amax, amin = max, min

    def argmax(self, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None,
               keepdim: bool | None = None) -> "Tensor":
        """Index of the (first) largest element along ``axis``, or of the flattened tensor: int64, no grad."""
        return self._arg("argmax", self._data.argmax, axis, keepdims, dim, keepdim)

    def argmin(self, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None,
               keepdim: bool | None = None) -> "Tensor":
        """Index of the (first) smallest element along ``axis``, or of the flattened tensor: int64, no grad."""
        return self._arg("argmin", self._data.argmin, axis, keepdims, dim, keepdim)

    def _arg(self, op, arg, axis, keepdims, dim, keepdim):
        axis, keepdims = _axis_args(op, self.ndim, axis, keepdims, dim, keepdim)
        if axis is not None and len(axis) != 1:
            raise ValueError(f"{op}: axis must be one int or None, got {axis}")
        if self._data.size == 0:
            raise ValueError(f"{op}: the tensor of shape {self.shape} has no elements")
        return Tensor._from_op(arg(axis=axis and axis[0], keepdims=keepdims), None, False)

    def var(self, axis: Axes = None, ddof: int = 0, keepdims: bool = False, *, dim: Axes = None,
            correction: int | None = None, keepdim: bool | None = None) -> "Tensor":
        """Variance over ``axis``: sum((x - mean)^2) / (N - ddof). ``ddof`` defaults to 0, as
        numpy's; PyTorch's ``correction`` is the same number (torch defaults to 1)."""
        axis, keepdims = _axis_args("var", self.ndim, axis, keepdims, dim, keepdim)
        ddof = _pick("var", "ddof", ddof if ddof != 0 else None, "correction", correction) or 0
        count = self._data.size if axis is None else int(np.prod([self.shape[i] for i in axis]))
        if count - ddof <= 0:
            raise ValueError(f"var: {count} element(s) along axis {axis} leave no degrees of freedom with ddof={ddof}")
        deviation = self - self.mean(axis=axis, keepdims=True)
        return (deviation * deviation).sum(axis=axis, keepdims=keepdims) / float(count - ddof)

    def std(self, axis: Axes = None, ddof: int = 0, keepdims: bool = False, *, dim: Axes = None,
            correction: int | None = None, keepdim: bool | None = None) -> "Tensor":
        """Standard deviation, sqrt(var); ``ddof``/``correction`` as in :meth:`var`."""
        return self.var(axis, ddof, keepdims, dim=dim, correction=correction, keepdim=keepdim).sqrt()

    def logsumexp(self, axis: Axes = None, keepdims: bool = False, *, dim: Axes = None,
                  keepdim: bool | None = None) -> "Tensor":
        """log(sum(exp(x))) over ``axis``, as m + log(sum(exp(x - m))) with m the (constant) max."""
        axis, keepdims = _axis_args("logsumexp", self.ndim, axis, keepdims, dim, keepdim)
        shift = self._data.max(axis=axis, keepdims=True)
        shift = np.where(np.isfinite(shift), shift, 0)  # a group of -inf gives -inf, not nan
        total = (self - shift).exp().sum(axis=axis, keepdims=keepdims).log()
        return total + shift.reshape(total.shape)

    def softmax(self, axis: int | None = None, *, dim: int | None = None) -> "Tensor":
        """exp(x) / sum(exp(x)) along ``axis`` (default: the last)."""
        return self.log_softmax(axis, dim=dim).exp()

    def log_softmax(self, axis: int | None = None, *, dim: int | None = None) -> "Tensor":
        """log(softmax(x)) along ``axis`` (default: the last), stable for large inputs."""
        axis = _pick("log_softmax", "axis", axis, "dim", dim)
        return reduce.LogSoftmax.apply(self, axis=reduce.axis_index("log_softmax", -1 if axis is None else axis, self.ndim))

    def cumsum(self, axis: int | None = None, *, dim: int | None = None) -> "Tensor":
        """Running sum along ``axis`` (None: over the flattened tensor, as numpy)."""
        axis = _pick("cumsum", "axis", axis, "dim", dim)
        if axis is None:
            return reduce.Cumsum.apply(self.reshape(-1), axis=0)
        return reduce.Cumsum.apply(self, axis=reduce.axis_index("cumsum", axis, self.ndim))

    # ---- shape ------------------------------------------------------------------------------
    def reshape(self, *shape: int | tuple[int, ...]) -> "Tensor":
        """numpy's reshape: ``x.reshape(2, -1)`` or ``x.reshape((2, -1))``."""
        return movement.Reshape.apply(self, shape=movement.resolve_shape(self.shape, _unpack(shape)))

    view = reshape  # PyTorch's name; here it copies when numpy's reshape must

    def flatten(self, start_axis: int = 0, end_axis: int = -1) -> "Tensor":
        """Merge axes ``start_axis`` .. ``end_axis``: (B, C, H, W) -> (B, C*H*W) for start_axis=1."""
        if self.ndim == 0:
            return self.reshape(1)
        start, end = (reduce.axis_index("flatten", a, self.ndim) for a in (start_axis, end_axis))
        return self.reshape(*self.shape[:start], -1, *self.shape[end + 1 :])

    def ravel(self) -> "Tensor":
        """All elements in one axis."""
        return self.reshape(-1)

    def transpose(self, *axes: int | tuple[int, ...]) -> "Tensor":
        """numpy's transpose: no axes reverses them; ``x.transpose(0, 2, 1)`` permutes all axes.

        Not PyTorch's ``transpose(dim0, dim1)``, which swaps two axes: that is :meth:`swapaxes`.
        """
        return movement.Transpose.apply(self, axes=movement.resolve_axes(self.ndim, _unpack(axes)))

    def permute(self, *dims: int | tuple[int, ...]) -> "Tensor":
        """Reorder all axes (PyTorch's permute; numpy's transpose with axes)."""
        if not _unpack(dims):
            raise ValueError(f"permute: give an order for all {self.ndim} axes")
        return self.transpose(*dims)

    def swapaxes(self, axis1: int, axis2: int) -> "Tensor":
        """Exchange two axes (numpy's swapaxes, PyTorch's transpose(dim0, dim1))."""
        order = list(range(self.ndim))
        a, b = (reduce.axis_index("swapaxes", x, self.ndim) for x in (axis1, axis2))
        order[a], order[b] = order[b], order[a]
        return self.transpose(*order)

    @property
    def T(self) -> "Tensor":
        """All axes reversed: (M, N) -> (N, M)."""
        return self.transpose()

    def squeeze(self, axis: Axes = None, *, dim: Axes = None) -> "Tensor":
        """Drop size-1 axes: all of them, or those in ``axis`` (which must have size 1, as numpy)."""
        axis = _pick("squeeze", "axis", axis, "dim", dim)
        axes = reduce.normalize_axis("squeeze", axis, self.ndim)
        axes = tuple(i for i, n in enumerate(self.shape) if n == 1) if axes is None else axes
        if any(self.shape[i] != 1 for i in axes):
            raise ValueError(f"squeeze: axis {axis} of shape {self.shape} does not have size 1")
        return self.reshape(*(n for i, n in enumerate(self.shape) if i not in axes))

    def unsqueeze(self, dim: int) -> "Tensor":
        """Insert a size-1 axis at position ``dim`` of the result (PyTorch's name)."""
        return self.expand_dims(dim)

    def expand_dims(self, axis: int | tuple[int, ...]) -> "Tensor":
        """Insert size-1 axes at positions ``axis`` of the result, as numpy's expand_dims."""
        axes = reduce.normalize_axis("expand_dims", axis, self.ndim + len(np.atleast_1d(axis)))
        shape = iter(self.shape)
        return self.reshape(*(1 if i in axes else next(shape) for i in range(self.ndim + len(axes))))

    def expand(self, *sizes: int | tuple[int, ...]) -> "Tensor":
        """Broadcast to ``sizes`` without copying (PyTorch's expand; -1 keeps an axis)."""
        sizes = _unpack(sizes)
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: {len(sizes)} sizes {sizes} for a tensor of {self.ndim} axes {self.shape}")
        shape = tuple(self.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(sizes))
        return self.broadcast_to(shape)

    def broadcast_to(self, shape: tuple[int, ...]) -> "Tensor":
        """A read-only broadcast view of shape ``shape`` (numpy's broadcast_to); gradients sum back."""
        shape = tuple(int(n) for n in np.atleast_1d(shape)) if not isinstance(shape, tuple) else shape
        if any(not isinstance(n, (int, np.integer)) or n < 0 for n in shape) or \
                movement.broadcast_shape("broadcast_to", self.shape, shape) != shape:
            raise ValueError(f"broadcast_to: cannot broadcast shape {self.shape} to {shape}")
        return movement.Expand.apply(self, shape=tuple(int(n) for n in shape))

    def repeat(self, *repeats: int | tuple[int, ...]) -> "Tensor":
        """Tile the tensor ``repeats[i]`` times along axis i: PyTorch's repeat, numpy's tile
        (numpy's element-wise ``repeat`` is :meth:`repeat_interleave`)."""
        repeats = _unpack(repeats)
        if len(repeats) < self.ndim:
            raise ValueError(f"repeat: {len(repeats)} counts {repeats} for a tensor of {self.ndim} axes; give one per axis")
        return self.tile(repeats)

    def tile(self, reps: int | tuple[int, ...]) -> "Tensor":
        """numpy's tile: (n_0, ..., n_k) with reps (r_0, ..., r_k) -> (r_0*n_0, ..., r_k*n_k),
        as reshape to (1, n_0, ..., 1, n_k), expand to (r_0, n_0, ...), reshape."""
        reps = tuple(np.atleast_1d(reps).tolist())
        if any(not isinstance(r, int) or r < 0 for r in reps):
            raise ValueError(f"tile: repetitions must be non-negative ints, got {reps}")
        ndim = max(len(reps), self.ndim)
        reps, shape = (1,) * (ndim - len(reps)) + reps, (1,) * (ndim - self.ndim) + self.shape
        spread = self.reshape(*(m for n in shape for m in (1, n)))
        tiled = spread.broadcast_to(tuple(m for r, n in zip(reps, shape) for m in (r, n)))
        return tiled.reshape(*(r * n for r, n in zip(reps, shape)))

    def repeat_interleave(self, repeats: int, axis: int | None = None, *, dim: int | None = None) -> "Tensor":
        """Repeat each element ``repeats`` times along ``axis`` (None: flattened first): numpy's
        ndarray.repeat, PyTorch's repeat_interleave. (N,) -> (N*repeats,)."""
        axis = _pick("repeat_interleave", "axis", axis, "dim", dim)
        if not isinstance(repeats, (int, np.integer)) or repeats < 0:
            raise ValueError(f"repeat_interleave: repeats must be a non-negative int, got {repeats!r}")
        x = self.reshape(-1) if axis is None else self
        axis = 0 if axis is None else reduce.axis_index("repeat_interleave", axis, self.ndim)
        spread = x.expand_dims(axis + 1)
        target = spread.shape[: axis + 1] + (int(repeats),) + spread.shape[axis + 2 :]
        return spread.broadcast_to(target).reshape(*x.shape[:axis], -1, *x.shape[axis + 1 :])

    def flip(self, *axes: int | tuple[int, ...]) -> "Tensor":
        """Reverse the order along ``axes`` (all when none are given)."""
        axes = reduce.normalize_axis("flip", _unpack(axes) or None, self.ndim)
        axes = range(self.ndim) if axes is None else axes
        return self[tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(self.ndim))]

    def split(self, split_size_or_sections: int | list[int], axis: int | None = None, *,
              dim: int | None = None) -> tuple["Tensor", ...]:
        """PyTorch's split: pieces of ``split_size`` along ``axis`` (the last may be shorter), or
        pieces of the given sizes. Each piece is a slice (a ``getitem`` view)."""
        axis = reduce.axis_index("split", _pick("split", "axis", axis, "dim", dim) or 0, self.ndim)
        n = self.shape[axis]
        if isinstance(split_size_or_sections, (int, np.integer)):
            if split_size_or_sections <= 0:
                raise ValueError(f"split: the piece size must be positive, got {split_size_or_sections}")
            sizes = [min(split_size_or_sections, n - start) for start in range(0, n, split_size_or_sections)]
        else:
            sizes = list(split_size_or_sections)
            if sum(sizes) != n or any(s < 0 for s in sizes):
                raise ValueError(f"split: sizes {sizes} must be non-negative and add up to {n}, the length of axis {axis}")
        return self.split_at(np.cumsum(sizes)[:-1].tolist(), axis)

    def chunk(self, chunks: int, axis: int | None = None, *, dim: int | None = None) -> tuple["Tensor", ...]:
        """PyTorch's chunk: at most ``chunks`` pieces of ceil(N / chunks) along ``axis``."""
        axis = reduce.axis_index("chunk", _pick("chunk", "axis", axis, "dim", dim) or 0, self.ndim)
        if not isinstance(chunks, (int, np.integer)) or chunks <= 0:
            raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
        return self.split(max(1, -(-self.shape[axis] // chunks)), axis)

    def split_at(self, indices: list[int], axis: int = 0) -> tuple["Tensor", ...]:
        """Pieces between consecutive ``indices`` along ``axis``: numpy's split with indices."""
        bounds = [0, *indices, self.shape[axis]]
        return tuple(self[(slice(None),) * axis + (slice(a, b),)] for a, b in zip(bounds[:-1], bounds[1:]))

    def gather(self, dim: int, index: Any) -> "Tensor":
        """PyTorch's gather: out[i][j] = x[index[i][j]][j] for dim=0, with ``index`` no larger
        than x on the other axes; see :func:`tinygrad_cnn.take_along_axis`."""
        from .functions import gather
        return gather(self, dim, index)

    def __getitem__(self, index: Any) -> "Tensor":
        return movement.Getitem.apply(self, index=movement.resolve_index(index))


class HookHandle:
    """Returned by ``register_hook``: ``remove()`` takes the hook off again."""

    def __init__(self, hooks: list, hook: Callable):
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)



def _unpack(args: tuple) -> tuple:
    """``f(2, 3)`` and ``f((2, 3))`` alike, as numpy's reshape and PyTorch's view accept."""
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args


def _pick(op: str, numpy_name: str, numpy_value: Any, torch_name: str, torch_value: Any) -> Any:
    """The argument given under numpy's name or PyTorch's; both at once is an error."""
    if torch_value is None:
        return numpy_value
    if numpy_value is not None:
        raise TypeError(f"{op}: got both {numpy_name}= (numpy) and {torch_name}= (PyTorch); pass one")
    return torch_value


def _axis_args(op: str, ndim: int, axis: Axes, keepdims: bool, dim: Axes, keepdim: bool | None):
    """(axes as a sorted tuple or None, keepdims) from numpy's or PyTorch's keywords."""
    axis = _pick(op, "axis", axis, "dim", dim)
    keepdims = _pick(op, "keepdims", keepdims or None, "keepdim", keepdim) or False
    return reduce.normalize_axis(op, axis, ndim), bool(keepdims)


def comparable(value: Any) -> Any:
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
        return array if array.dtype.kind in _NUMERIC_KINDS else None
    return None


_SCALARS = (float, int, np.float32, np.float64)


def binary_operands(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """The two inputs of a binary op as tensors, without silent upcasts.

    Non-tensor operands (Python or numpy scalars, arrays) and integer tensors take the float
    dtype of the other operand, so ``x * 2`` and ``x + np.float64(1)`` stay float32 for a
    float32 ``x``; two float tensors of different precision promote as in numpy.
    """
    # Fast path for the common `tensor (op) scalar`, one branch each way.
    if type(b) in _SCALARS and isinstance(a, Tensor) and a._data.dtype.kind == "f":
        return a, Tensor._from_op(np.array(b, dtype=a._data.dtype), None, False)
    if type(a) in _SCALARS and isinstance(b, Tensor) and b._data.dtype.kind == "f":
        return Tensor._from_op(np.array(a, dtype=b._data.dtype), None, False), b
    floats = [t._data.dtype for t in (a, b) if isinstance(t, Tensor) and t._data.dtype.kind == "f"]
    if floats:
        float_dtype = np.result_type(*floats)
    elif any(not isinstance(t, Tensor) and np.asarray(t).dtype.kind == "f" for t in (a, b)):
        float_dtype = np.dtype(np.float32)
    else:
        float_dtype = None
    return _constant_as(a, float_dtype), _constant_as(b, float_dtype)


def _constant_as(x: Any, float_dtype: np.dtype | None) -> Tensor:
    if isinstance(x, Tensor):
        if float_dtype is None or x._data.dtype.kind == "f":
            return x
        return Tensor._from_op(x._data.astype(float_dtype), None, False)
    return Tensor._from_op(_as_array(x, float_dtype), None, False)


function.Tensor = Tensor
