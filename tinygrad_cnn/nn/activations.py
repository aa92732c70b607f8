"""Activation modules: thin wrappers that call the function of the same name in
:mod:`tinygrad_cnn.functional` with the arguments given to the constructor."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from .. import functional as F
from ..tensor import Tensor
from .module import Module

__all__ = [
    "Identity",
    "Step",
    "BentIdentity",
    "Hardshrink",
    "Softshrink",
    "Threshold",
    "Sigmoid",
    "Hardsigmoid",
    "LogSigmoid",
    "Tanh",
    "Tanhshrink",
    "Hardtanh",
    "ReLU",
    "ReLU6",
    "LeakyReLU",
    "ELU",
    "SELU",
    "CELU",
    "GELU",
    "Softplus",
    "Softsign",
    "SiLU",
    "Swish",
    "Mish",
    "TanhExp",
    "Softmax",
    "Softmin",
    "LogSoftmax",
]


class _Activation(Module):
    """Calls ``function(x, *args, **kwargs)``; subclasses set ``function``."""

    function: Callable[..., Tensor]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__()
        try:  # wrong arguments fail here, where the model is built, not at its first forward
            inspect.signature(type(self).function).bind(None, *args, **kwargs)
        except TypeError as err:
            raise TypeError(f"{type(self).__name__}: {err}") from None
        self.args, self.kwargs = args, kwargs

    def forward(self, x: Tensor) -> Tensor:
        """Same shape in, same shape out."""
        return type(self).function(x, *self.args, **self.kwargs)

    def extra_repr(self) -> str:
        return ", ".join(
            [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        )


def _module(name: str, function: Callable[..., Tensor], doc: str) -> type[_Activation]:
    return type(
        name,
        (_Activation,),
        {"function": staticmethod(function), "__doc__": doc, "__module__": __name__},
    )


Identity = _module("Identity", F.identity, "x itself; a placeholder layer.")
Step = _module("Step", F.step, "Heaviside step (zero gradient).")
BentIdentity = _module("BentIdentity", F.bent_identity, "(sqrt(x^2 + 1) - 1) / 2 + x.")
Hardshrink = _module(
    "Hardshrink", F.hardshrink, "Hardshrink(lambd=0.5): x where |x| > lambd, else 0."
)
Softshrink = _module(
    "Softshrink", F.softshrink, "Softshrink(lambd=0.5): x -+ lambd outside [-lambd, lambd]."
)
Threshold = _module(
    "Threshold", F.threshold, "Threshold(threshold, value): x where x > threshold, else value."
)
Sigmoid = _module("Sigmoid", F.sigmoid, "1 / (1 + exp(-x)).")
Hardsigmoid = _module("Hardsigmoid", F.hardsigmoid, "clamp(x / 6 + 1/2, 0, 1).")
LogSigmoid = _module("LogSigmoid", F.logsigmoid, "log(sigmoid(x)), stable.")
Tanh = _module("Tanh", F.tanh, "Hyperbolic tangent.")
Tanhshrink = _module("Tanhshrink", F.tanhshrink, "x - tanh(x).")
Hardtanh = _module(
    "Hardtanh", F.hardtanh, "Hardtanh(min_val=-1, max_val=1): clamp(x, min_val, max_val)."
)
ReLU = _module("ReLU", F.relu, "max(x, 0).")
ReLU6 = _module("ReLU6", F.relu6, "min(max(x, 0), 6).")
LeakyReLU = _module("LeakyReLU", F.leaky_relu, "LeakyReLU(negative_slope=0.01).")
ELU = _module("ELU", F.elu, "ELU(alpha=1.0): x, or alpha * (exp(x) - 1) below 0.")
SELU = _module("SELU", F.selu, "Self-normalising ELU.")
CELU = _module("CELU", F.celu, "CELU(alpha=1.0): alpha * elu(x / alpha).")
GELU = _module("GELU", F.gelu, "GELU(approximate='none'): x * Phi(x), exact or 'tanh'.")
Softplus = _module("Softplus", F.softplus, "Softplus(beta=1.0): log(1 + exp(beta * x)) / beta.")
Softsign = _module("Softsign", F.softsign, "x / (1 + |x|).")
SiLU = _module("SiLU", F.silu, "x * sigmoid(x).")
Swish = _module("Swish", F.swish, "x * sigmoid(x) (the same as SiLU).")
Mish = _module("Mish", F.mish, "x * tanh(softplus(x)).")
TanhExp = _module("TanhExp", F.tanhexp, "x * tanh(exp(x)).")
Softmax = _module("Softmax", F.softmax, "Softmax(axis=-1).")
Softmin = _module("Softmin", F.softmin, "Softmin(axis=-1): softmax(-x).")
LogSoftmax = _module("LogSoftmax", F.log_softmax, "LogSoftmax(axis=-1).")
