"""Per-coordinate adaptive step sizes from running sums of squared gradients:
AdaGrad, RMSprop, RMSpropGraves, AdaDelta and SMORMS3."""
from __future__ import annotations

from typing import Iterable

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, check_hyper

__all__ = ["Adagrad", "RMSprop", "RMSpropGraves", "Adadelta", "SMORMS3"]


class Adagrad(Optimizer):
    """AdaGrad (Duchi et al., 2011), as torch.optim.Adagrad:

    s += g^2;  p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)
    """

    hyper_parameters = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10):
        super().__init__(params, lr)
        self.lr_decay = check_hyper("Adagrad", "lr_decay", lr_decay)
        self.weight_decay = check_hyper("Adagrad", "weight_decay", weight_decay)
        self.initial_accumulator_value = check_hyper("Adagrad", "initial_accumulator_value", initial_accumulator_value)
        self.eps = check_hyper("Adagrad", "eps", eps)

    def _update(self, param, grad, state):
        if not state:
            state.update(step=0, sum=np.full_like(param, self.initial_accumulator_value))
        state["step"] += 1
        grad = self._l2(param, grad)
        state["sum"] = state["sum"] + grad * grad
        step_size = self.lr / (1 + (state["step"] - 1) * self.lr_decay)
        return param - step_size * grad / (np.sqrt(state["sum"]) + self.eps)


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012), as torch.optim.RMSprop:

    v = alpha v + (1 - alpha) g^2;  avg = sqrt(v - mean_g^2 if centered else v) + eps;
    p -= lr * g / avg, or with momentum: buf = momentum buf + g / avg;  p -= lr * buf
    """

    hyper_parameters = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered")

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
        super().__init__(params, lr)
        self.alpha = check_hyper("RMSprop", "alpha", alpha, 0.0, 1.0)
        self.eps = check_hyper("RMSprop", "eps", eps)
        self.weight_decay = check_hyper("RMSprop", "weight_decay", weight_decay)
        self.momentum = check_hyper("RMSprop", "momentum", momentum)
        self.centered = centered

    def _update(self, param, grad, state):
        if not state:
            state.update(square_avg=np.zeros_like(param), grad_avg=np.zeros_like(param),
                         momentum_buffer=np.zeros_like(param))
        grad = self._l2(param, grad)
        state["square_avg"] = self.alpha * state["square_avg"] + (1 - self.alpha) * grad * grad
        variance = state["square_avg"]
        if self.centered:
            state["grad_avg"] = self.alpha * state["grad_avg"] + (1 - self.alpha) * grad
            variance = variance - state["grad_avg"] ** 2
        scaled = grad / (np.sqrt(variance) + self.eps)
        if self.momentum:
            state["momentum_buffer"] = self.momentum * state["momentum_buffer"] + scaled
            scaled = state["momentum_buffer"]
        return param - self.lr * scaled


class RMSpropGraves(Optimizer):
    """RMSprop as in Graves (2013), "Generating sequences with recurrent neural networks", eq. 38-41:

    n = alpha n + (1 - alpha) g^2;  m = alpha m + (1 - alpha) g;
    delta = momentum delta - lr g / sqrt(n - m^2 + eps);  p += delta
    """

    hyper_parameters = ("lr", "alpha", "momentum", "eps")

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-4, alpha: float = 0.95, momentum: float = 0.9,
                 eps: float = 1e-4):
        super().__init__(params, lr)
        self.alpha = check_hyper("RMSpropGraves", "alpha", alpha, 0.0, 1.0)
        self.momentum = check_hyper("RMSpropGraves", "momentum", momentum, 0.0, 1.0)
        self.eps = check_hyper("RMSpropGraves", "eps", eps)

    def _update(self, param, grad, state):
        if not state:
            state.update(n=np.zeros_like(param), m=np.zeros_like(param), delta=np.zeros_like(param))
        state["n"] = self.alpha * state["n"] + (1 - self.alpha) * grad * grad
        state["m"] = self.alpha * state["m"] + (1 - self.alpha) * grad
        state["delta"] = self.momentum * state["delta"] - self.lr * grad / np.sqrt(state["n"] - state["m"] ** 2 + self.eps)
        return param + state["delta"]


class Adadelta(Optimizer):
    """AdaDelta (Zeiler, 2012), as torch.optim.Adadelta:

    v = rho v + (1 - rho) g^2;  delta = sqrt(u + eps) / sqrt(v + eps) * g;
    u = rho u + (1 - rho) delta^2;  p -= lr * delta
    """

    hyper_parameters = ("lr", "rho", "eps", "weight_decay")

    def __init__(self, params: Iterable[Tensor], lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0):
        super().__init__(params, lr)
        self.rho = check_hyper("Adadelta", "rho", rho, 0.0, 1.0)
        self.eps = check_hyper("Adadelta", "eps", eps)
        self.weight_decay = check_hyper("Adadelta", "weight_decay", weight_decay)

    def _update(self, param, grad, state):
        if not state:
            state.update(square_avg=np.zeros_like(param), acc_delta=np.zeros_like(param))
        grad = self._l2(param, grad)
        state["square_avg"] = self.rho * state["square_avg"] + (1 - self.rho) * grad * grad
        delta = np.sqrt(state["acc_delta"] + self.eps) / np.sqrt(state["square_avg"] + self.eps) * grad
        state["acc_delta"] = self.rho * state["acc_delta"] + (1 - self.rho) * delta * delta
        return param - self.lr * delta


class SMORMS3(Optimizer):
    """SMORMS3 (S. Funk, 2015, "RMSprop loses to SMORMS3"): RMSprop whose averaging window
    adapts to how noisy each coordinate's gradient is:

    r = 1 / (mem + 1);  m = (1 - r) m + r g;  v = (1 - r) v + r g^2;  x = m^2 / (v + eps);
    p -= g * min(lr, x) / (sqrt(v) + eps);  mem = 1 + mem (1 - x)
    """

    hyper_parameters = ("lr", "eps")

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3, eps: float = 1e-16):
        super().__init__(params, lr)
        self.eps = check_hyper("SMORMS3", "eps", eps)

    def _update(self, param, grad, state):
        if not state:
            state.update(mem=np.ones_like(param), m=np.zeros_like(param), v=np.zeros_like(param))
        r = 1 / (state["mem"] + 1)
        state["m"] = (1 - r) * state["m"] + r * grad
        state["v"] = (1 - r) * state["v"] + r * grad * grad
        x = state["m"] ** 2 / (state["v"] + self.eps)
        state["mem"] = 1 + state["mem"] * (1 - x)
        return param - grad * np.minimum(self.lr, x) / (np.sqrt(state["v"]) + self.eps)
