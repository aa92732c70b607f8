"""Activation ops: elementwise nonlinearities with their derivatives.

Each is stable for large positive and negative inputs: exponentials are only taken of
non-positive numbers (or clipped), and logs go through ``logaddexp``/``log1p``. Activations
that are plain compositions (ReLU6 = clamp, SELU = scale * ELU, softmin, ...) live in
:mod:`tinygrad_cnn.functional` and have no op of their own.

Second derivatives: a rule that saves only the input, or masks, is written once and marked
``differentiable_backward``. A rule that reuses what forward computed (SiLU's sigmoid, GELU's
erf) keeps that fast numpy form, with a ``graph_backward`` beside it that recomputes those
values with Tensor ops, so their own derivatives reach the input.
"""

from __future__ import annotations

import math

import numpy as np

from .. import function
from ..function import Function
from .elementwise import Minimum, Where, stable_sigmoid


def _constant(array: np.ndarray):
    """An array as a Tensor without gradient, for a graph rule."""
    return function.Tensor._from_op(array, None, False)


def tensor_where(condition: np.ndarray, a, b):
    """Tensor ``a`` where the (constant) condition holds, else ``b``, as the where op."""
    return Where.apply(_constant(condition), a, b)


def tensor_minimum(a, bound: float):
    """min(a, bound) of a Tensor, as the minimum op."""
    return Minimum.apply(a, _constant(np.asarray(bound, dtype=a.dtype)))


def _where(condition: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """grad where condition holds, zero elsewhere, in grad's dtype."""
    return grad * condition.astype(grad.dtype)


class Clamp(Function):
    """min(max(a, low), high); either bound may be None. The gradient is 1 inside the bounds
    and 0 outside. At a bound it is 1 with ``inclusive=True`` (torch.clamp) and 0 without (the
    hard tanh, ReLU6 and hard sigmoid built on it, as PyTorch's)."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, low=None, high=None, inclusive=False):
        # numpy scalars as bounds would promote float32 to their own dtype
        low, high = (None if b is None else a.dtype.type(b) for b in (low, high))
        if not ctx.freed:  # the mask of elements the gradient passes
            above, below = (np.greater_equal, np.less_equal) if inclusive else (np.greater, np.less)
            inside = np.ones(a.shape, dtype=bool)
            if low is not None:
                inside &= above(a, low)
            if high is not None:
                inside &= below(a, high)
            ctx.save_for_backward(inside)
        return np.clip(a, low, high)

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved_tensors
        return _where(inside, grad)


class Abs(Function):
    """|a|, with gradient sign(a) (0 at 0)."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * np.sign(a)


class Step(Function):
    """Heaviside step: 1 where a > 0, else 0. Its gradient is zero everywhere."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, a):
        return (a > 0).astype(a.dtype)

    @staticmethod
    def backward(ctx, grad):
        return np.zeros_like(grad)


class Hardshrink(Function):
    """a where |a| > lambd, else 0."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, lambd=0.5):
        keep = np.abs(a) > lambd
        ctx.save_for_backward(keep)
        return a * keep

    @staticmethod
    def backward(ctx, grad):
        (keep,) = ctx.saved_tensors
        return _where(keep, grad)


class Softshrink(Function):
    """a - lambd where a > lambd, a + lambd where a < -lambd, else 0."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, lambd=0.5):
        keep = np.abs(a) > lambd
        ctx.save_for_backward(keep)
        return (a - np.sign(a) * a.dtype.type(lambd)) * keep

    @staticmethod
    def backward(ctx, grad):
        (keep,) = ctx.saved_tensors
        return _where(keep, grad)


class Threshold(Function):
    """a where a > threshold, else value."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, threshold, value):
        keep = a > threshold
        ctx.save_for_backward(keep)
        return np.where(keep, a, a.dtype.type(value))

    @staticmethod
    def backward(ctx, grad):
        (keep,) = ctx.saved_tensors
        return _where(keep, grad)


class LeakyRelu(Function):
    """a where a > 0, else negative_slope * a."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, negative_slope=0.01):
        positive = a > 0
        ctx.save_for_backward(positive)
        ctx.slope = negative_slope
        return np.where(positive, a, a * a.dtype.type(negative_slope))

    @staticmethod
    def backward(ctx, grad):
        (positive,) = ctx.saved_tensors
        return np.where(positive, grad, grad * grad.dtype.type(ctx.slope))


class Elu(Function):
    """a where a > 0, else alpha * (e^a - 1); expm1 of min(a, 0) never overflows."""

    @staticmethod
    def forward(ctx, a, alpha=1.0):
        negative_part = a.dtype.type(alpha) * np.expm1(np.minimum(a, 0))
        ctx.save_for_backward(a, negative_part)
        ctx.alpha = alpha
        return np.where(a > 0, a, negative_part)

    @staticmethod
    def backward(ctx, grad):
        a, negative_part = ctx.saved_tensors
        # d/da alpha*(e^a - 1) = alpha*e^a = negative_part + alpha
        return np.where(a > 0, grad, grad * (negative_part + grad.dtype.type(ctx.alpha)))

    @staticmethod
    def graph_backward(ctx, grad):
        (a,) = ctx.parents
        return tensor_where(a.data > 0, grad, grad * tensor_minimum(a, 0.0).exp() * ctx.alpha)


class Softplus(Function):
    """log(1 + e^(beta*a)) / beta, as logaddexp(0, beta*a): no overflow."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, a, beta=1.0):
        ctx.save_for_backward(a)
        ctx.beta = beta
        return np.logaddexp(0, a * a.dtype.type(beta)) / a.dtype.type(beta)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * stable_sigmoid(a * a.dtype.type(ctx.beta))


class Logsigmoid(Function):
    """log(sigmoid(a)) = -log(1 + e^-a), as -logaddexp(0, -a)."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return -np.logaddexp(0, -a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * stable_sigmoid(-a)


class Softsign(Function):
    """a / (1 + |a|)."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a / (1 + np.abs(a))

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad / (1 + np.abs(a)) ** 2


class Silu(Function):
    """Swish / SiLU: a * sigmoid(a). d/da = s + a * s * (1 - s)."""

    @staticmethod
    def forward(ctx, a):
        s = stable_sigmoid(a)
        ctx.save_for_backward(a, s)
        return a * s

    @staticmethod
    def backward(ctx, grad):
        a, s = ctx.saved_tensors
        return grad * (s + a * s * (1 - s))

    @staticmethod
    def graph_backward(ctx, grad):
        (a,) = ctx.parents
        s = a.sigmoid()
        return grad * (s + a * s * (1 - s))


class Mish(Function):
    """a * tanh(softplus(a)). d/da = t + a * (1 - t^2) * sigmoid(a), t = tanh(softplus(a))."""

    @staticmethod
    def forward(ctx, a):
        t = np.tanh(np.logaddexp(0, a))
        ctx.save_for_backward(a, t)
        return a * t

    @staticmethod
    def backward(ctx, grad):
        a, t = ctx.saved_tensors
        return grad * (t + a * (1 - t * t) * stable_sigmoid(a))

    @staticmethod
    def graph_backward(ctx, grad):
        (a,) = ctx.parents
        t = Softplus.apply(a).tanh()
        return grad * (t + a * (1 - t * t) * a.sigmoid())


class Tanhexp(Function):
    """TanhExp: a * tanh(e^a). e^a is clipped at e^20, where tanh is already exactly 1."""

    @staticmethod
    def forward(ctx, a):
        e = np.exp(np.minimum(a, 20))
        t = np.tanh(e)
        ctx.save_for_backward(a, e, t)
        return a * t

    @staticmethod
    def backward(ctx, grad):
        a, e, t = ctx.saved_tensors
        return grad * (t + a * e * (1 - t * t))

    @staticmethod
    def graph_backward(ctx, grad):
        (a,) = ctx.parents
        e = tensor_minimum(a, 20.0).exp()
        t = e.tanh()
        return grad * (t + a * e * (1 - t * t))


_erf = np.frompyfunc(math.erf, 1, 1)


def erf(a: np.ndarray) -> np.ndarray:
    """The error function, elementwise, from the standard library (float64-accurate)."""
    return np.asarray(_erf(a.astype(np.float64)), dtype=np.float64).astype(a.dtype)


class Erf(Function):
    """The error function: d/da erf(a) = 2/sqrt(pi) * e^(-a^2). Exact GELU's derivative
    needs it as an op, so that it can be differentiated once more."""

    differentiable_backward = True

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return erf(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * np.exp(-a * a) * (2 / math.sqrt(math.pi))


class Gelu(Function):
    """GELU: a * Phi(a), with Phi the standard normal CDF (``approximate="none"``, exact, via
    erf) or its tanh approximation (``approximate="tanh"``), as PyTorch's."""

    @staticmethod
    def forward(ctx, a, approximate="none"):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        ctx.approximate = approximate
        if approximate == "none":  # erf is the slow part: computed once, kept for backward
            cdf = (1 + erf(a / a.dtype.type(math.sqrt(2)))) / 2
            ctx.save_for_backward(a, cdf)
            return a * cdf
        k = a.dtype.type(math.sqrt(2 / math.pi))
        t = np.tanh(k * (a + a.dtype.type(0.044715) * a**3))
        ctx.save_for_backward(a, t)
        return a * (1 + t) / 2

    @staticmethod
    def backward(ctx, grad):
        a, kept = ctx.saved_tensors
        if ctx.approximate == "none":  # d/da a*Phi(a) = Phi(a) + a*phi(a)
            pdf = np.exp(-a * a / 2) / a.dtype.type(math.sqrt(2 * math.pi))
            return grad * (kept + a * pdf)
        k, t = a.dtype.type(math.sqrt(2 / math.pi)), kept
        return grad * (
            (1 + t) / 2 + a * (1 - t * t) * k * (1 + a.dtype.type(3 * 0.044715) * a * a) / 2
        )

    @staticmethod
    def graph_backward(ctx, grad):
        (a,) = ctx.parents
        if ctx.approximate == "none":
            cdf = (1 + Erf.apply(a * (1 / math.sqrt(2)))) / 2
            pdf = (-a * a / 2).exp() * (1 / math.sqrt(2 * math.pi))
            return grad * (cdf + a * pdf)
        k = math.sqrt(2 / math.pi)
        t = ((a + 0.044715 * a**3) * k).tanh()
        return grad * ((1 + t) / 2 + a * (1 - t * t) * k * (1 + 3 * 0.044715 * a * a) / 2)
