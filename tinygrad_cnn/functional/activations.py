"""Activation functions, elementwise unless they take an ``axis``.

Names and arguments follow ``torch.nn.functional``; numpy's ``axis`` replaces PyTorch's ``dim``.
Each is a registered op (see :mod:`tinygrad_cnn.ops.activation`) or a composition of ops.
"""

from __future__ import annotations

from ..ops.activation import (
    Abs,
    Clamp,
    Elu,
    Erf,
    Gelu,
    Hardshrink,
    LeakyRelu,
    Logsigmoid,
    Mish,
    Silu,
    Softplus,
    Softshrink,
    Softsign,
    Step,
    Tanhexp,
    Threshold,
)
from ..tensor import Tensor
from .common import as_tensor, float_input

__all__ = [
    "identity",
    "step",
    "bent_identity",
    "hardshrink",
    "softshrink",
    "threshold",
    "sigmoid",
    "hardsigmoid",
    "logsigmoid",
    "tanh",
    "tanhshrink",
    "hardtanh",
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "selu",
    "celu",
    "gelu",
    "softplus",
    "softsign",
    "silu",
    "swish",
    "mish",
    "tanhexp",
    "softmax",
    "softmin",
    "log_softmax",
    "clamp",
    "abs",
    "erf",
]

# SELU's constants (Klambauer et al., 2017), as in PyTorch.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def identity(x: Tensor) -> Tensor:
    """x itself."""
    return as_tensor("identity", "input", x)


def step(x: Tensor) -> Tensor:
    """1 where x > 0, else 0; the gradient is zero."""
    return Step.apply(as_tensor("step", "input", x))


def bent_identity(x: Tensor) -> Tensor:
    """(sqrt(x^2 + 1) - 1) / 2 + x."""
    x = float_input("bent_identity", x)
    return ((x * x + 1.0) ** 0.5 - 1.0) / 2.0 + x


def hardshrink(x: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > lambd, else 0."""
    return Hardshrink.apply(float_input("hardshrink", x), lambd=lambd)


def softshrink(x: Tensor, lambd: float = 0.5) -> Tensor:
    """x -+ lambd outside [-lambd, lambd], else 0."""
    return Softshrink.apply(float_input("softshrink", x), lambd=lambd)


def threshold(x: Tensor, threshold: float, value: float) -> Tensor:
    """x where x > threshold, else value."""
    return Threshold.apply(float_input("threshold", x), threshold=threshold, value=value)


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + exp(-x)), without overflow."""
    return as_tensor("sigmoid", "input", x).sigmoid()


def hardsigmoid(x: Tensor) -> Tensor:
    """clamp(x / 6 + 1/2, 0, 1), PyTorch's piecewise-linear sigmoid (gradient 0 at the kinks)."""
    return Clamp.apply(float_input("hardsigmoid", x) / 6.0 + 0.5, low=0.0, high=1.0)


def logsigmoid(x: Tensor) -> Tensor:
    """log(sigmoid(x)), stable for large |x|."""
    return Logsigmoid.apply(float_input("logsigmoid", x))


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return as_tensor("tanh", "input", x).tanh()


def tanhshrink(x: Tensor) -> Tensor:
    """x - tanh(x)."""
    x = float_input("tanhshrink", x)
    return x - x.tanh()


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """clamp(x, min_val, max_val), with gradient 0 at the bounds (as PyTorch's hardtanh)."""
    if not min_val < max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must be below max_val ({max_val})")
    return Clamp.apply(as_tensor("hardtanh", "input", x), low=min_val, high=max_val)


def relu(x: Tensor) -> Tensor:
    """max(x, 0)."""
    return as_tensor("relu", "input", x).relu()


def relu6(x: Tensor) -> Tensor:
    """min(max(x, 0), 6)."""
    return hardtanh(as_tensor("relu6", "input", x), 0.0, 6.0)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else negative_slope * x."""
    return LeakyRelu.apply(float_input("leaky_relu", x), negative_slope=negative_slope)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x where x > 0, else alpha * (exp(x) - 1)."""
    return Elu.apply(float_input("elu", x), alpha=alpha)


def selu(x: Tensor) -> Tensor:
    """scale * elu(x, alpha) with the self-normalising constants of Klambauer et al."""
    return elu(float_input("selu", x), SELU_ALPHA) * SELU_SCALE


def celu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1)) = alpha * elu(x / alpha)."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0")
    return elu(float_input("celu", x) / alpha) * alpha


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x) with Phi the normal CDF: exact by erf ("none", PyTorch's default) or "tanh"."""
    return Gelu.apply(float_input("gelu", x), approximate=approximate)


def softplus(x: Tensor, beta: float = 1.0) -> Tensor:
    """log(1 + exp(beta * x)) / beta, computed without overflow (PyTorch switches to x above
    beta * x = 20, where the two differ by under 1e-8)."""
    if beta <= 0:
        raise ValueError(f"softplus: beta must be positive, got {beta}")
    return Softplus.apply(float_input("softplus", x), beta=beta)


def softsign(x: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return Softsign.apply(float_input("softsign", x))


def silu(x: Tensor) -> Tensor:
    """x * sigmoid(x) (SiLU, also called Swish)."""
    return Silu.apply(float_input("silu", x))


swish = silu


def mish(x: Tensor) -> Tensor:
    """x * tanh(softplus(x))."""
    return Mish.apply(float_input("mish", x))


def tanhexp(x: Tensor) -> Tensor:
    """x * tanh(exp(x)) (TanhExp, Liu and Di, 2020)."""
    return Tanhexp.apply(float_input("tanhexp", x))


def log_softmax(x: Tensor, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """log(softmax(x)) along ``axis`` (PyTorch: ``dim``; default the last), stable for large
    inputs (:meth:`Tensor.log_softmax`)."""
    return as_tensor("log_softmax", "input", x).log_softmax(axis, dim=dim)


def softmax(x: Tensor, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis`` (PyTorch: ``dim``; default the last), as
    exp(log_softmax(x)) (:meth:`Tensor.softmax`)."""
    return as_tensor("softmax", "input", x).softmax(axis, dim=dim)


def softmin(x: Tensor, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """softmax(-x) along ``axis`` (PyTorch: ``dim``; default the last)."""
    return softmax(-as_tensor("softmin", "input", x), axis, dim=dim)


def clamp(x: Tensor, min: float | None = None, max: float | None = None) -> Tensor:
    """Limit x to [min, max] (either may be None); gradient 1 up to the bounds (Tensor.clamp)."""
    return as_tensor("clamp", "input", x).clamp(min, max)


def abs(x: Tensor) -> Tensor:
    """|x|; the gradient is sign(x)."""
    return Abs.apply(as_tensor("abs", "input", x))


def erf(x: Tensor) -> Tensor:
    """The error function, 2/sqrt(pi) * integral of e^(-t^2) from 0 to x; the gradient is
    2/sqrt(pi) * e^(-x^2)."""
    return Erf.apply(float_input("erf", x))
