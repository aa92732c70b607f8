"""Tensor: a numpy array plus the op that made it, so gradients can flow back through it."""
from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np

from . import engine, function
from .ops import elementwise as ew
from .ops import linalg, movement, reduce

__all__ = ["Tensor"]

_NUMERIC_KINDS = "fiub"


def _as_array(data: Any, dtype: Any, copy: bool = False) -> np.ndarray:
    """Convert user data to an array: floats become float32 unless ``dtype`` says otherwise."""
    if isinstance(data, Tensor):
        data = data.data
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


class Tensor:
    """An n-dimensional array that records the ops applied to it.

    ``Tensor(data, requires_grad=False, dtype=None)``: float data becomes float32 unless
    ``dtype`` is given (float64 for gradient checks); integer and bool tensors are constants.
    ``data`` is the underlying np.ndarray, a copy of the given data (as ``torch.tensor``), so
    later writes to your array cannot reach the graph. While an op keeps ``data`` for backward
    it is read-only; assigning a new array to ``data`` is always allowed.
    """

    __slots__ = ("data", "grad", "_requires_grad", "_ctx", "name", "_hooks", "__weakref__")
    # Make numpy defer to Tensor's reflected operators: ndarray + Tensor -> Tensor.__radd__.
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None):
        self.data: np.ndarray = _as_array(data, dtype, copy=True)
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
        tensor.data = data if type(data) is np.ndarray else np.asarray(data)
        tensor.grad = None
        tensor._ctx = ctx
        tensor._requires_grad = requires_grad
        tensor.name = None
        tensor._hooks = ()
        return tensor

    # ---- gradient bookkeeping -----------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        """Whether gradients flow into (and, for a leaf, accumulate in) this tensor."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and self.data.dtype.kind != "f":
            raise TypeError(
                f"Tensor: only floating tensors can require grad; this one has dtype "
                f"{self.data.dtype} (integer and bool tensors are constants)"
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
        return Tensor._from_op(self.data, None, False)

    # ---- array facts ----------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The array's shape."""
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        """The array's dtype (float32 unless asked otherwise)."""
        return self.data.dtype

    @property
    def ndim(self) -> int:
        """Number of axes."""
        return self.data.ndim

    @property
    def size(self) -> int:
        """Number of elements."""
        return self.data.size

    def __len__(self) -> int:
        return len(self.data)

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self.data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: tensor has {self.data.size} elements (shape {self.shape}), expected 1")
        return self.data.item()

    def argmax(self, axis: int | None = None) -> "Tensor":
        """Index of the largest element along ``axis`` (an integer constant)."""
        return Tensor(self.data.argmax(axis=axis))

    def __repr__(self) -> str:
        body = np.array2string(self.data, precision=4, threshold=20, prefix="Tensor(")
        grad = ", requires_grad=True" if self._requires_grad else ""
        op = f", op={self._ctx.name}" if self._ctx is not None else ""
        return f"Tensor({body}, dtype={self.data.dtype}{grad}{op})"

    # ---- arithmetic -------------------------------------------------------------------------
    def __add__(self, other: Any) -> "Tensor":
        return ew.Add.apply(*_operands(self, other))

    def __radd__(self, other: Any) -> "Tensor":
        return ew.Add.apply(*_operands(other, self))

    def __sub__(self, other: Any) -> "Tensor":
        return ew.Sub.apply(*_operands(self, other))

    def __rsub__(self, other: Any) -> "Tensor":
        return ew.Sub.apply(*_operands(other, self))

    def __mul__(self, other: Any) -> "Tensor":
        return ew.Mul.apply(*_operands(self, other))

    def __rmul__(self, other: Any) -> "Tensor":
        return ew.Mul.apply(*_operands(other, self))

    def __truediv__(self, other: Any) -> "Tensor":
        return ew.Div.apply(*_operands(self, other))

    def __rtruediv__(self, other: Any) -> "Tensor":
        return ew.Div.apply(*_operands(other, self))

    def __neg__(self) -> "Tensor":
        return ew.Neg.apply(self)

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
        return linalg.Matmul.apply(*_operands(self, other))

    def __rmatmul__(self, other: Any) -> "Tensor":
        return linalg.Matmul.apply(*_operands(other, self))

    def exp(self) -> "Tensor":
        """e ** x, elementwise."""
        return ew.Exp.apply(self)

    def log(self) -> "Tensor":
        """Natural logarithm, elementwise."""
        return ew.Log.apply(self)

    def relu(self) -> "Tensor":
        """max(x, 0), elementwise."""
        return ew.Relu.apply(self)

    def sigmoid(self) -> "Tensor":
        """1 / (1 + e ** -x), elementwise, computed without overflow."""
        return ew.Sigmoid.apply(self)

    def tanh(self) -> "Tensor":
        """Hyperbolic tangent, elementwise."""
        return ew.Tanh.apply(self)

    # ---- reductions ---------------------------------------------------------------------------
    def sum(self, axis: int | Iterable[int] | None = None, keepdims: bool = False) -> "Tensor":
        """Sum over ``axis`` (an int, a tuple, or None for all), as numpy's."""
        return reduce.Sum.apply(self, axis=reduce.normalize_axis("sum", axis, self.ndim), keepdims=keepdims)

    def mean(self, axis: int | Iterable[int] | None = None, keepdims: bool = False) -> "Tensor":
        """Mean over ``axis`` (an int, a tuple, or None for all), as numpy's."""
        return reduce.Mean.apply(self, axis=reduce.normalize_axis("mean", axis, self.ndim), keepdims=keepdims)

    def max(self, axis: int | Iterable[int] | None = None, keepdims: bool = False) -> "Tensor":
        """Maximum over ``axis``; the gradient goes to the first maximum of each group."""
        return reduce.Max.apply(self, axis=reduce.normalize_axis("max", axis, self.ndim), keepdims=keepdims)

    # ---- shape -----------------------------------------------------------------------------------
    def reshape(self, *shape: int | tuple[int, ...]) -> "Tensor":
        """numpy's reshape: ``x.reshape(2, -1)`` or ``x.reshape((2, -1))``."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return movement.Reshape.apply(self, shape=movement.resolve_shape(self.shape, shape))

    def flatten(self, start_axis: int = 0, end_axis: int = -1) -> "Tensor":
        """Merge axes ``start_axis`` .. ``end_axis``: (B, C, H, W) -> (B, C*H*W) for start_axis=1."""
        start, end = (a % max(self.ndim, 1) for a in (start_axis, end_axis))
        return self.reshape(*self.shape[:start], -1, *self.shape[end + 1 :])

    def transpose(self, *axes: int | tuple[int, ...]) -> "Tensor":
        """numpy's transpose: no axes reverses them; ``x.transpose(0, 2, 1)`` permutes."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return movement.Transpose.apply(self, axes=movement.resolve_axes(self.ndim, axes))

    @property
    def T(self) -> "Tensor":
        """All axes reversed: (M, N) -> (N, M)."""
        return self.transpose()

    def __getitem__(self, index: Any) -> "Tensor":
        return movement.Getitem.apply(self, index=movement.resolve_index(index))


class HookHandle:
    """Returned by ``register_hook``: ``remove()`` takes the hook off again."""

    def __init__(self, hooks: list, hook: Callable):
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


_SCALARS = (float, int, np.float32, np.float64)


def _operands(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """The two inputs of a binary op as tensors, without silent upcasts.

    Non-tensor operands (Python or numpy scalars, arrays) and integer tensors take the float
    dtype of the other operand, so ``x * 2`` and ``x + np.float64(1)`` stay float32 for a
    float32 ``x``; two float tensors of different precision promote as in numpy.
    """
    # Fast path for the common `tensor (op) scalar`, one branch each way.
    if type(b) in _SCALARS and isinstance(a, Tensor) and a.data.dtype.kind == "f":
        return a, Tensor._from_op(np.array(b, dtype=a.data.dtype), None, False)
    if type(a) in _SCALARS and isinstance(b, Tensor) and b.data.dtype.kind == "f":
        return Tensor._from_op(np.array(a, dtype=b.data.dtype), None, False), b
    floats = [t.data.dtype for t in (a, b) if isinstance(t, Tensor) and t.data.dtype.kind == "f"]
    if floats:
        float_dtype = np.result_type(*floats)
    elif any(not isinstance(t, Tensor) and np.asarray(t).dtype.kind == "f" for t in (a, b)):
        float_dtype = np.dtype(np.float32)
    else:
        float_dtype = None
    return _constant_as(a, float_dtype), _constant_as(b, float_dtype)


def _constant_as(x: Any, float_dtype: np.dtype | None) -> Tensor:
    if isinstance(x, Tensor):
        if float_dtype is None or x.data.dtype.kind == "f":
            return x
        return Tensor._from_op(x.data.astype(float_dtype), None, False)
    return Tensor._from_op(_as_array(x, float_dtype), None, False)


function.Tensor = Tensor
