"""The named methods of Tensor: dtype, math, reductions and shape, in numpy's and PyTorch's words.

Each records one registered op or a short composition of them, so gradients reach through it.
:class:`TensorMethods` is a base of :class:`tinygrad_cnn.Tensor`; it holds no state of its own.
A few methods call :mod:`tinygrad_cnn.tensor_functions` (``cat``, ``where``, ...), which is
imported on first use because it builds on Tensor.
"""

from __future__ import annotations

from collections import namedtuple
from typing import TYPE_CHECKING, Any

import numpy as np

from . import function
from .arguments import (
    Axes,
    axis_index,
    broadcast_shape,
    either,
    normalize_axis,
    reduction_axes,
    resolve_axes,
    resolve_shape,
    sizes,
)
from .ops import activation, movement, reduce
from .ops import elementwise as ew

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["TensorMethods", "MinMax", "requested_dtype"]

MinMax = namedtuple("MinMax", ["values", "indices"])
"""What ``t.max(dim=d)`` and ``t.min(dim=d)`` return, as PyTorch: the values and their indices."""


def _constant(array: np.ndarray) -> Tensor:
    """A plain Tensor without graph (never a subclass such as a Parameter the method ran on)."""
    return function.Tensor._from_op(array, None, False)


def _check_one_dim(op: str, dim: Any) -> None:
    if dim is not None and (isinstance(dim, bool) or not isinstance(dim, (int, np.integer))):
        raise TypeError(
            f"{op}: dim must be one int (PyTorch's {op}(dim) returns values and indices), "
            f"got {dim!r}"
        )


def _own_memory(result: Tensor, source: Tensor) -> Tensor:
    """``result`` if it owns writable memory, else a copy in the graph (``astype``): repeat and
    tile return new tensors, as numpy's and PyTorch's do, not views of ``source``."""
    data = result.data
    if data.flags.writeable and not np.may_share_memory(data, source.data):
        return result
    return result.clone()


def requested_dtype(op: str, args: tuple, device: str | None = None, dtype: Any = None) -> Any:
    """The dtype PyTorch's ``to(*args, device=, dtype=)`` asks for (None: unchanged). Device
    names may stand among ``args``; the CPU is the only device, any other is a TypeError."""
    for arg in args:
        is_device = isinstance(arg, str) and arg.split(":")[0] in (
            "cpu",
            "cuda",
            "mps",
            "xpu",
            "meta",
        )
        device, dtype = (arg, dtype) if is_device else (device, arg)
    if device is not None and device != "cpu":
        raise TypeError(f"{op}: {device!r}: numpy runs on the CPU, the only device here")
    return dtype


class TensorMethods:
    """The methods of :class:`tinygrad_cnn.Tensor` beyond its operators; see docs/tensor.md."""

    __slots__ = ()

    # ---- dtype ------------------------------------------------------------------------------
    def astype(self, dtype: Any) -> Tensor:
        """A copy in ``dtype``. Between float dtypes it records the ``astype`` op, so gradients
        flow (cast back); to an integer or bool dtype the result is a constant."""
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"astype: {dtype!r} is not a numpy dtype") from None
        if dtype.kind == "f" and self.dtype.kind == "f":
            return ew.Astype.apply(self, dtype=dtype)
        if dtype.kind not in "biuf":
            raise TypeError(f"astype: {dtype} is not a numeric dtype")
        return _constant(self.data.astype(dtype))

    def to(self, *args: Any, device: str | None = None, dtype: Any = None) -> Tensor:
        """PyTorch's ``to``: ``t.to(np.float64)``, ``t.to("cpu")``, ``t.to(device=..., dtype=...)``.
        The CPU is the only device: moving there returns the tensor itself."""
        dtype = requested_dtype("to", args, device, dtype)
        return self if dtype is None else self.astype(dtype)

    def float(self) -> Tensor:
        """As float32."""
        return self.astype(np.float32)

    def double(self) -> Tensor:
        """As float64."""
        return self.astype(np.float64)

    def long(self) -> Tensor:
        """As int64 (a constant)."""
        return self.astype(np.int64)

    def clone(self) -> Tensor:
        """A copy that stays in the graph (records ``astype`` to the same dtype)."""
        return self.astype(self.dtype)

    def _floating(self) -> Tensor:
        """Itself if it is a float tensor, else its values as float32 (a constant): math that
        leaves the integers gives float32, as PyTorch, not numpy's float64."""
        return self if self.dtype.kind == "f" else self.astype(np.float32)

    # ---- elementwise math -----------------------------------------------------------------
    def exp(self) -> Tensor:
        """e ** x, elementwise."""
        return ew.Exp.apply(self._floating())

    def log(self) -> Tensor:
        """Natural logarithm, elementwise."""
        return ew.Log.apply(self._floating())

    def sqrt(self) -> Tensor:
        """Square root, elementwise."""
        return ew.Sqrt.apply(self._floating())

    def abs(self) -> Tensor:
        """|x|, elementwise; the gradient is sign(x) (0 at 0)."""
        return activation.Abs.apply(self)

    def relu(self) -> Tensor:
        """max(x, 0), elementwise."""
        return ew.Relu.apply(self)

    def sigmoid(self) -> Tensor:
        """1 / (1 + e ** -x), elementwise, computed without overflow."""
        return ew.Sigmoid.apply(self._floating())

    def tanh(self) -> Tensor:
        """Hyperbolic tangent, elementwise."""
        return ew.Tanh.apply(self._floating())

    def erf(self) -> Tensor:
        """The error function, elementwise (torch.erf)."""
        return activation.Erf.apply(self._floating())

    def maximum(self, other: Any) -> Tensor:
        """Elementwise max(x, other), broadcasting; ties share the gradient evenly."""
        from .tensor_functions import maximum

        return maximum(self, other)

    def minimum(self, other: Any) -> Tensor:
        """Elementwise min(x, other), broadcasting; ties share the gradient evenly."""
        from .tensor_functions import minimum

        return minimum(self, other)

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:
        """Limit to [min, max] (either may be None), as numpy's clip; the gradient is 1 within the
        bounds, ends included (as torch.clamp), and 0 outside."""
        return self._clamp("clip", min, max)

    def clamp(self, min: float | None = None, max: float | None = None) -> Tensor:
        """PyTorch's name for :meth:`clip`."""
        return self._clamp("clamp", min, max)

    def _clamp(self, op: str, low: float | None, high: float | None) -> Tensor:
        if low is None and high is None:
            raise ValueError(f"{op}: give min, max or both")
        for name, bound in (("min", low), ("max", high)):
            if bound is not None and not (np.isscalar(bound) and np.isreal(bound)):
                raise TypeError(
                    f"{op}: {name} must be a number or None, got {type(bound).__name__}"
                )
        if low is not None and high is not None and low > high:
            raise ValueError(f"{op}: min ({low}) is above max ({high})")
        fractional = any(b is not None and not float(b).is_integer() for b in (low, high))
        x = self._floating() if fractional else self  # an integer tensor clipped at 2.5 is float
        return activation.Clamp.apply(x, low=low, high=high, inclusive=True)

    def masked_fill(self, mask: Any, value: float) -> Tensor:
        """``value`` (a number) where ``mask`` (bool, broadcasting to x) is True, else x."""
        from .tensor_functions import where

        value = np.asarray(value.data if hasattr(value, "data") else value)
        if value.size != 1 or value.dtype.kind not in "biuf":
            raise TypeError(
                f"masked_fill: value must be one number, got shape {value.shape}, "
                f"dtype {value.dtype}"
            )
        value = value.item()  # a number takes x's dtype; a float64 array would promote x
        mask = np.asarray(mask.data if hasattr(mask, "data") else mask)
        if mask.dtype != bool:
            raise TypeError(
                f"masked_fill: mask must be a bool tensor or array, got dtype {mask.dtype}"
            )
        if broadcast_shape("masked_fill", self.shape, mask.shape) != self.shape:
            raise ValueError(
                f"masked_fill: mask of shape {mask.shape} does not broadcast to {self.shape}"
            )
        return where(mask, value, self)

    # ---- reductions (numpy's axis=/keepdims= or PyTorch's dim=/keepdim=) ---------------------
    def sum(
        self,
        axis: Axes = None,
        keepdims: bool = False,
        *,
        dim: Axes = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Sum over ``axis`` (an int, a tuple, or None for all), as numpy's."""
        axis, keepdims = reduction_axes("sum", self.ndim, axis, keepdims, dim, keepdim)
        return reduce.Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(
        self,
        axis: Axes = None,
        keepdims: bool = False,
        *,
        dim: Axes = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Mean over ``axis`` (an int, a tuple, or None for all), as numpy's."""
        axis, keepdims = reduction_axes("mean", self.ndim, axis, keepdims, dim, keepdim)
        return reduce.Mean.apply(self._floating(), axis=axis, keepdims=keepdims)

    def max(
        self,
        axis: Axes = None,
        keepdims: bool = False,
        *,
        dim: int | None = None,
        keepdim: bool | None = None,
    ) -> Tensor | MinMax:
        """Maximum over ``axis``, as numpy's; tied maxima share the gradient evenly (torch.amax).
        With PyTorch's ``dim=`` or ``keepdim=`` it returns ``(values, indices)``, as
        torch.max(dim) does."""
        if dim is None and keepdim is None:
            return self.amax(axis, keepdims, keepdim=keepdim)
        _check_one_dim("max", dim)
        return MinMax(
            self.amax(axis, keepdims, dim=dim, keepdim=keepdim),
            self.argmax(axis if dim is None else None, keepdims, dim=dim, keepdim=keepdim),
        )

    def min(
        self,
        axis: Axes = None,
        keepdims: bool = False,
        *,
        dim: int | None = None,
        keepdim: bool | None = None,
    ) -> Tensor | MinMax:
        """Minimum over ``axis``, as numpy's; ``dim=``/``keepdim=`` give ``(values, indices)``."""
        if dim is None and keepdim is None:
            return self.amin(axis, keepdims, keepdim=keepdim)
        _check_one_dim("min", dim)
        return MinMax(
            self.amin(axis, keepdims, dim=dim, keepdim=keepdim),
            self.argmin(axis if dim is None else None, keepdims, dim=dim, keepdim=keepdim),
        )

    def amax(
        self,
        axis: Axes = None,
        keepdims: bool = False,
        *,
        dim: Axes = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """The values of the maximum over ``axis`` (torch.amax, np.amax)."""
        axis, keepdims = reduction_axes("max", self.ndim, axis, keepdims, dim, keepdim)
        return reduce.Max.apply(self, axis=axis, keepdims=keepdims)

    def amin(
        self,
        axis: Axes = None,
        keepdims: bool = False,
        *,
        dim: Axes = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """The values of the minimum over ``axis`` (torch.amin, np.amin)."""
        axis, keepdims = reduction_axes("min", self.ndim, axis, keepdims, dim, keepdim)
        return reduce.Min.apply(self, axis=axis, keepdims=keepdims)

    def argmax(
        self,
        axis: int | None = None,
        keepdims: bool = False,
        *,
        dim: int | None = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Index of the (first) largest element along ``axis`` (None: flattened); int64."""
        return self._arg("argmax", self.data.argmax, axis, keepdims, dim, keepdim)

    def argmin(
        self,
        axis: int | None = None,
        keepdims: bool = False,
        *,
        dim: int | None = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Index of the (first) smallest element along ``axis`` (None: flattened); int64."""
        return self._arg("argmin", self.data.argmin, axis, keepdims, dim, keepdim)

    def _arg(self, op, find, axis, keepdims, dim, keepdim) -> Tensor:
        axis, keepdims = reduction_axes(op, self.ndim, axis, keepdims, dim, keepdim)
        if axis is not None and len(axis) != 1:
            raise ValueError(f"{op}: axis must be one int or None, got {axis}")
        if 0 in (self.shape if axis is None else [self.shape[axis[0]]]):
            raise ValueError(f"{op}: axis {axis} of shape {self.shape} has no elements")
        return _constant(find(axis=axis and axis[0], keepdims=keepdims))

    def any(
        self,
        axis: Axes = None,
        keepdims: bool = False,
        *,
        dim: Axes = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Whether any element (along ``axis``) is nonzero: a bool constant."""
        axis, keepdims = reduction_axes("any", self.ndim, axis, keepdims, dim, keepdim)
        return _constant(self.data.any(axis=axis, keepdims=keepdims))

    def all(
        self,
        axis: Axes = None,
        keepdims: bool = False,
        *,
        dim: Axes = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Whether every element (along ``axis``) is nonzero: a bool constant."""
        axis, keepdims = reduction_axes("all", self.ndim, axis, keepdims, dim, keepdim)
        return _constant(self.data.all(axis=axis, keepdims=keepdims))

    def var(
        self,
        axis: Axes = None,
        ddof: int | None = None,
        keepdims: bool = False,
        *,
        dim: Axes = None,
        correction: int | None = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Variance over ``axis``: sum((x - mean)^2) / (N - ddof). ``ddof`` defaults to 0, as
        numpy's; PyTorch's ``correction`` is the same number (torch defaults to 1)."""
        axis, keepdims = reduction_axes("var", self.ndim, axis, keepdims, dim, keepdim)
        ddof = either("var", "ddof", ddof, "correction", correction) or 0
        count = self.data.size if axis is None else int(np.prod([self.shape[i] for i in axis]))
        if count - ddof <= 0:
            raise ValueError(
                f"var: {count} element(s) along axis {axis} of {self.shape} leave no degrees "
                f"of freedom with ddof={ddof}"
            )
        deviation = self - self.mean(axis=axis, keepdims=True)
        return (deviation * deviation).sum(axis=axis, keepdims=keepdims) / float(count - ddof)

    def std(
        self,
        axis: Axes = None,
        ddof: int | None = None,
        keepdims: bool = False,
        *,
        dim: Axes = None,
        correction: int | None = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Standard deviation, sqrt(var); ``ddof``/``correction`` as in :meth:`var`. Where a group
        has no spread the gradient is 0, as PyTorch's."""
        from .tensor_functions import where

        variance = self.var(axis, ddof, keepdims, dim=dim, correction=correction, keepdim=keepdim)
        spread = variance.data > 0
        # sqrt's slope is infinite at 0 and 0 * inf = nan: take those groups' sqrt at 1 instead,
        # then put 0 in their place, so no gradient reaches them
        return where(spread, where(spread, variance, 1.0).sqrt(), 0.0)

    def logsumexp(
        self,
        axis: Axes = None,
        keepdims: bool = False,
        *,
        dim: Axes = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """log(sum(exp(x))) over ``axis``, as m + log(sum(exp(x - m))) with m the maximum, a
        constant: it cancels in the gradient, which is softmax(x)."""
        axis, keepdims = reduction_axes("logsumexp", self.ndim, axis, keepdims, dim, keepdim)
        x = self._floating()
        shift = x.data.max(axis=axis, keepdims=True, initial=-np.inf)
        # a group of -inf (or none) gives -inf, not nan
        shift = np.where(np.isfinite(shift), shift, 0)
        total = (x - shift).exp().sum(axis=axis, keepdims=keepdims).log()
        return total + shift.reshape(total.shape)

    def softmax(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        """exp(x) / sum(exp(x)) along ``axis`` (default: the last), as exp(log_softmax(x))."""
        return self.log_softmax(axis, dim=dim).exp()

    def log_softmax(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        """log(softmax(x)) along ``axis`` (default: the last), stable for large inputs."""
        axis = either("log_softmax", "axis", axis, "dim", dim)
        axis = axis_index("log_softmax", -1 if axis is None else axis, self.ndim)
        return reduce.LogSoftmax.apply(self._floating(), axis=axis)

    def cumsum(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        """Running sum along ``axis`` (None: over the flattened tensor, as numpy)."""
        axis = either("cumsum", "axis", axis, "dim", dim)
        if axis is None:
            return reduce.Cumsum.apply(self.reshape(-1), axis=0)
        return reduce.Cumsum.apply(self, axis=axis_index("cumsum", axis, self.ndim))

    # ---- shape ------------------------------------------------------------------------------
    def reshape(self, *shape: int | tuple[int, ...]) -> Tensor:
        """numpy's reshape: ``x.reshape(2, -1)`` or ``x.reshape((2, -1))``."""
        return movement.Reshape.apply(
            self, shape=resolve_shape(self.shape, sizes("reshape", shape, True))
        )

    def view(self, *shape: int | tuple[int, ...]) -> Tensor:
        """PyTorch's name for :meth:`reshape` (which copies where numpy's reshape must)."""
        return self.reshape(*shape)

    def flatten(
        self,
        start_axis: int = 0,
        end_axis: int = -1,
        *,
        start_dim: int | None = None,
        end_dim: int | None = None,
    ) -> Tensor:
        """Merge axes ``start_axis`` .. ``end_axis`` (PyTorch: ``start_dim``, ``end_dim``):
        (B, C, H, W) -> (B, C*H*W) for start 1."""
        start_axis = start_axis if start_dim is None else start_dim
        end_axis = end_axis if end_dim is None else end_dim
        if self.ndim == 0:
            return self.reshape(1)
        start, end = (axis_index("flatten", a, self.ndim) for a in (start_axis, end_axis))
        if start > end:
            raise ValueError(
                f"flatten: start_axis {start_axis} comes after end_axis {end_axis} "
                f"in shape {self.shape}"
            )
        merged = int(np.prod(self.shape[start : end + 1]))
        return self.reshape(*self.shape[:start], merged, *self.shape[end + 1 :])

    def ravel(self) -> Tensor:
        """All elements in one axis."""
        return self.reshape(-1)

    def transpose(self, *axes: int | tuple[int, ...]) -> Tensor:
        """numpy's transpose: no axes reverses them; ``x.transpose(0, 2, 1)`` permutes all axes.
        Not PyTorch's ``transpose(dim0, dim1)``, which swaps two axes: that is :meth:`swapaxes`."""
        return self._permute("transpose", axes)

    def permute(self, *dims: int | tuple[int, ...]) -> Tensor:
        """Reorder all axes (PyTorch's permute, numpy's transpose with axes)."""
        if not dims:
            raise ValueError(f"permute: give an order for all {self.ndim} axes")
        return self._permute("permute", dims)

    def _permute(self, op: str, axes: tuple) -> Tensor:
        axes = tuple(axes[0]) if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        return movement.Transpose.apply(self, axes=resolve_axes(op, self.ndim, axes))

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        """Exchange two axes (numpy's swapaxes, PyTorch's transpose(dim0, dim1))."""
        order = list(range(self.ndim))
        a, b = (axis_index("swapaxes", x, self.ndim) for x in (axis1, axis2))
        order[a], order[b] = order[b], order[a]
        return self.transpose(*order)

    @property
    def T(self) -> Tensor:
        """All axes reversed: (M, N) -> (N, M)."""
        return self.transpose()

    def squeeze(self, axis: Axes = None, *, dim: Axes = None) -> Tensor:
        """Drop size-1 axes: all, or those in ``axis`` (which must have size 1, as numpy)."""
        axis = either("squeeze", "axis", axis, "dim", dim)
        if self.ndim == 0 and axis is not None:
            raise ValueError(f"squeeze: a 0-d tensor has no axis {axis}")
        axes = normalize_axis("squeeze", axis, self.ndim)
        axes = tuple(i for i, n in enumerate(self.shape) if n == 1) if axes is None else axes
        if any(self.shape[i] != 1 for i in axes):
            raise ValueError(f"squeeze: axis {axis} of shape {self.shape} does not have size 1")
        return self.reshape(*(n for i, n in enumerate(self.shape) if i not in axes))

    def unsqueeze(self, dim: int) -> Tensor:
        """Insert a size-1 axis at position ``dim`` of the result (PyTorch's name)."""
        return self.expand_dims(dim)

    def expand_dims(self, axis: int | tuple[int, ...]) -> Tensor:
        """Insert size-1 axes at positions ``axis`` of the result, as numpy's expand_dims."""
        axes = normalize_axis("expand_dims", axis, self.ndim + len(np.atleast_1d(axis)))
        kept = iter(self.shape)
        return self.reshape(*(1 if i in axes else next(kept) for i in range(self.ndim + len(axes))))

    def expand(self, *shape: int | tuple[int, ...]) -> Tensor:
        """Broadcast to ``shape`` without copying (PyTorch's expand; -1 keeps an axis)."""
        shape = sizes("expand", shape, allow_minus_one=True)
        lead = len(shape) - self.ndim
        if lead < 0:
            raise ValueError(
                f"expand: {len(shape)} sizes {shape} for a tensor of {self.ndim} axes {self.shape}"
            )
        return self.broadcast_to(
            tuple(self.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(shape))
        )

    def broadcast_to(self, shape: int | tuple[int, ...]) -> Tensor:
        """A read-only broadcast view of shape ``shape`` (numpy's broadcast_to); gradients sum
        back."""
        shape = sizes("broadcast_to", (shape,))
        if broadcast_shape("broadcast_to", self.shape, shape) != shape:
            raise ValueError(f"broadcast_to: cannot broadcast shape {self.shape} to {shape}")
        return movement.Expand.apply(self, shape=shape)

    def repeat(self, *repeats: int | tuple[int, ...], axis: None = None) -> Tensor:
        """Tile the tensor ``repeats[i]`` times along axis i: PyTorch's repeat, numpy's tile.
        numpy's element-wise ``ndarray.repeat(n, axis)`` is :meth:`repeat_interleave`."""
        if axis is not None:
            raise TypeError(
                "repeat: tiles the tensor, as PyTorch's repeat; numpy's element-wise "
                "repeat(n, axis) is repeat_interleave(n, axis)"
            )
        repeats = sizes("repeat", repeats)
        if len(repeats) < self.ndim:
            raise ValueError(
                f"repeat: {len(repeats)} counts {repeats} for a tensor of {self.ndim} axes; "
                f"give one per axis"
            )
        return self.tile(repeats)

    def tile(self, reps: int | tuple[int, ...]) -> Tensor:
        """numpy's tile: (n_0, ..., n_k) with reps (r_0, ..., r_k) -> (r_0*n_0, ..., r_k*n_k), as
        reshape to (1, n_0, ..., 1, n_k), expand to (r_0, n_0, ..., r_k, n_k), reshape."""
        reps = sizes("tile", tuple(np.atleast_1d(reps).tolist()))
        ndim = max(len(reps), self.ndim)
        reps, shape = (1,) * (ndim - len(reps)) + reps, (1,) * (ndim - self.ndim) + self.shape
        spread = self.reshape(*(m for n in shape for m in (1, n)))
        tiled = spread.broadcast_to(tuple(m for r, n in zip(reps, shape) for m in (r, n)))
        return _own_memory(tiled.reshape(*(r * n for r, n in zip(reps, shape))), self)

    def repeat_interleave(
        self, repeats: int, axis: int | None = None, *, dim: int | None = None
    ) -> Tensor:
        """Repeat each element ``repeats`` times along ``axis`` (None: flattened first): numpy's
        ndarray.repeat, PyTorch's repeat_interleave. (N,) -> (N*repeats,), as reshape to
        (N, 1), expand to (N, repeats), reshape."""
        axis = either("repeat_interleave", "axis", axis, "dim", dim)
        if not isinstance(repeats, (int, np.integer)):
            raise TypeError(f"repeat_interleave: repeats must be one int, got {repeats!r}")
        (repeats,) = sizes("repeat_interleave", (repeats,))
        x = self.reshape(-1) if axis is None else self
        axis = 0 if axis is None else axis_index("repeat_interleave", axis, self.ndim)
        spread = x.expand_dims(axis + 1)
        target = spread.shape[: axis + 1] + (repeats,) + spread.shape[axis + 2 :]
        repeated = spread.broadcast_to(target).reshape(
            *x.shape[:axis], x.shape[axis] * repeats, *x.shape[axis + 1 :]
        )
        return _own_memory(repeated, self)

    def flip(self, *axes: int | tuple[int, ...], dims: tuple[int, ...] | None = None) -> Tensor:
        """Reverse the order along ``axes`` (PyTorch: ``dims``; all when none are given): a
        getitem with step -1."""
        axes = tuple(axes[0]) if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        axes = either("flip", "axes", axes or None, "dims", None if dims is None else tuple(dims))
        axes = normalize_axis("flip", axes or None, self.ndim)
        flipped = range(self.ndim) if axes is None else axes
        return self[
            tuple(slice(None, None, -1) if i in flipped else slice(None) for i in range(self.ndim))
        ]

    # ---- splitting: pieces are getitem views ----------------------------------------------
    def split(
        self,
        split_size_or_sections: int | list[int],
        axis: int | None = None,
        *,
        dim: int | None = None,
    ) -> tuple[Tensor, ...]:
        """PyTorch's split: pieces of ``split_size`` along ``axis`` (the last may be shorter),
        or pieces of the given sizes."""
        axis = axis_index("split", either("split", "axis", axis, "dim", dim) or 0, self.ndim)
        n = self.shape[axis]
        if isinstance(split_size_or_sections, (int, np.integer)):
            (size,) = sizes("split", (split_size_or_sections,))
            if size == 0:
                raise ValueError("split: the piece size must be positive, got 0")
            lengths = [min(size, n - start) for start in range(0, n, size)]
        else:
            lengths = sizes("split", tuple(split_size_or_sections))
            if sum(lengths) != n:
                raise ValueError(
                    f"split: sizes {lengths} must be non-negative and add up to {n}, "
                    f"the length of axis {axis} of {self.shape}"
                )
        return self.tensor_split(np.cumsum(lengths)[:-1].tolist(), axis)

    def chunk(
        self, chunks: int, axis: int | None = None, *, dim: int | None = None
    ) -> tuple[Tensor, ...]:
        """PyTorch's chunk: at most ``chunks`` pieces of ceil(N / chunks) along ``axis``."""
        axis = axis_index("chunk", either("chunk", "axis", axis, "dim", dim) or 0, self.ndim)
        (chunks,) = sizes("chunk", (chunks,))
        if chunks == 0:
            raise ValueError("chunk: chunks must be positive, got 0")
        return self.split(max(1, -(-self.shape[axis] // chunks)), axis)

    def tensor_split(
        self,
        indices_or_sections: int | list[int],
        axis: int | None = None,
        *,
        dim: int | None = None,
    ) -> tuple[Tensor, ...]:
        """PyTorch's tensor_split, numpy's array_split: ``n`` pieces as equal as they can be (the
        first ones one longer), or the pieces between the given indices along ``axis``."""
        axis = axis_index(
            "tensor_split", either("tensor_split", "axis", axis, "dim", dim) or 0, self.ndim
        )
        n = self.shape[axis]
        if isinstance(indices_or_sections, (int, np.integer)):
            (sections,) = sizes("tensor_split", (indices_or_sections,))
            if sections == 0:
                raise ValueError("tensor_split: the number of sections must be positive, got 0")
            lengths = [n // sections + (i < n % sections) for i in range(sections)]
            indices_or_sections = np.cumsum(lengths)[:-1].tolist()
        elif not all(isinstance(i, (int, np.integer)) for i in indices_or_sections):
            raise TypeError(f"tensor_split: indices must be ints, got {indices_or_sections!r}")
        bounds = [0, *(int(i) for i in indices_or_sections), n]
        return tuple(
            self[(slice(None),) * axis + (slice(a, b),)] for a, b in zip(bounds[:-1], bounds[1:])
        )

    def gather(self, dim: int, index: Any) -> Tensor:
        """PyTorch's gather: out[i][j] = x[index[i][j]][j] for dim=0, with ``index`` no larger
        than x on the other axes; see :func:`tinygrad_cnn.take_along_axis`."""
        from .tensor_functions import gather

        return gather(self, dim, index)
