"""Adam and its relatives: moment estimates of the gradient and of its square, bias-corrected.

Adam (with AMSGrad), AdamW, Adamax and NAdam follow torch.optim step for step; AdaBound,
AMSBound and AdaBelief follow their authors' published reference implementations.
"""
from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, check_hyper

__all__ = ["Adam", "AdamW", "Adamax", "NAdam", "AdaBound", "AMSBound", "AdaBelief"]


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015), as torch.optim.Adam; ``amsgrad=True`` is AMSGrad (Reddi et al.):

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2  (v_max = max(v_max, v) for AMSGrad);
    p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
    """

    hyper_parameters = ("lr", "betas", "eps", "weight_decay", "amsgrad")

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False):
        super().__init__(params, lr)
        name = type(self).__name__
        self.betas = tuple(check_hyper(name, f"betas[{i}]", b, 0.0, 1.0) for i, b in enumerate(betas))
        self.eps = check_hyper(name, "eps", eps)
        self.weight_decay = check_hyper(name, "weight_decay", weight_decay)
        self.amsgrad = amsgrad

    def _first_moment(self, grad: np.ndarray, state: dict[str, Any], second: str) -> tuple[int, np.ndarray]:
        """Advance the step count and m = b1 m + (1 - b1) g; returns (t, m). On the first step
        the state is created with a zero buffer named ``second`` for the method's other estimate."""
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(grad), **{second: np.zeros_like(grad)})
        state["step"] += 1
        state["exp_avg"] = state["exp_avg"] + (1 - self.betas[0]) * (grad - state["exp_avg"])
        return state["step"], state["exp_avg"]

    def _moments(self, grad: np.ndarray, state: dict[str, Any]) -> tuple[int, np.ndarray, np.ndarray]:
        """Advance the step count and the two moment estimates; returns (t, m, v)."""
        t, m = self._first_moment(grad, state, "exp_avg_sq")
        beta2 = self.betas[1]
        state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * grad * grad
        return t, m, state["exp_avg_sq"]

    def _second_moment(self, v: np.ndarray, state: dict[str, Any]) -> np.ndarray:
        """v, or its running maximum for AMSGrad."""
        if not self.amsgrad:
            return v
        state["max_exp_avg_sq"] = np.maximum(state.get("max_exp_avg_sq", v), v)
        return state["max_exp_avg_sq"]

    def _update(self, param, grad, state):
        t, m, v = self._moments(self._l2(param, grad), state)
        beta1, beta2 = self.betas
        denom = np.sqrt(self._second_moment(v, state)) / math.sqrt(1 - beta2 ** t) + self.eps
        return param - self.lr / (1 - beta1 ** t) * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019), as torch.optim.AdamW:
    p *= 1 - lr * weight_decay, then the Adam step on the plain gradient."""

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)

    def _l2(self, param, grad):
        return grad  # the decay is applied to the parameter instead, in _update

    def _update(self, param, grad, state):
        return super()._update(param * (1 - self.lr * self.weight_decay), grad, state)


class Adamax(Adam):
    """Adamax (Kingma and Ba, 2015, section 7), as torch.optim.Adamax: the infinity norm
    replaces the second moment.  u = max(b2 u, |g| + eps);  p -= lr / (1 - b1^t) * m / u."""

    hyper_parameters = ("lr", "betas", "eps", "weight_decay")

    def __init__(self, params: Iterable[Tensor], lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(params, lr, betas, eps, weight_decay)

    def _update(self, param, grad, state):
        beta1, beta2 = self.betas
        grad = self._l2(param, grad)
        t, m = self._first_moment(grad, state, "exp_inf")
        state["exp_inf"] = np.maximum(beta2 * state["exp_inf"], np.abs(grad) + self.eps)
        return param - self.lr / (1 - beta1 ** t) * m / state["exp_inf"]


class NAdam(Adam):
    """Adam with Nesterov momentum (Dozat, 2016), as torch.optim.NAdam, with the momentum
    schedule mu_t = b1 (1 - 0.96^(t * momentum_decay) / 2)."""

    hyper_parameters = ("lr", "betas", "eps", "weight_decay", "momentum_decay")

    def __init__(self, params: Iterable[Tensor], lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum_decay: float = 4e-3):
        super().__init__(params, lr, betas, eps, weight_decay)
        self.momentum_decay = check_hyper("NAdam", "momentum_decay", momentum_decay)

    def _update(self, param, grad, state):
        beta1, beta2 = self.betas
        grad = self._l2(param, grad)
        t, m, v = self._moments(grad, state)
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * self.momentum_decay))
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * self.momentum_decay))
        state["mu_product"] = state.get("mu_product", 1.0) * mu
        denom = np.sqrt(v / (1 - beta2 ** t)) + self.eps
        param = param - self.lr * (1 - mu) / (1 - state["mu_product"]) * grad / denom
        return param - self.lr * mu_next / (1 - state["mu_product"] * mu_next) * m / denom


class AdaBound(Adam):
    """AdaBound (Luo et al., 2019): Adam whose per-coordinate step size is clipped to bounds
    that close in on ``final_lr`` (scaled with lr), so it ends as SGD:

    step = clip(lr sqrt(1 - b2^t) / (1 - b1^t) / (sqrt(v) + eps), lower_t, upper_t) * m,
    lower_t = final_lr (1 - 1 / (gamma t + 1)),  upper_t = final_lr (1 + 1 / (gamma t))
    """

    hyper_parameters = ("lr", "betas", "final_lr", "gamma", "eps", "weight_decay", "amsgrad")

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 final_lr: float = 0.1, gamma: float = 1e-3, eps: float = 1e-8, weight_decay: float = 0.0,
                 amsgrad: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
        name = type(self).__name__
        self.final_lr = check_hyper(name, "final_lr", final_lr)
        self.gamma = check_hyper(name, "gamma", gamma, 0.0, 1.0)
        self.base_lr = self.lr

    def _update(self, param, grad, state):
        beta1, beta2 = self.betas
        t, m, v = self._moments(self._l2(param, grad), state)
        denom = np.sqrt(self._second_moment(v, state)) + self.eps
        final_lr = self.final_lr * self.lr / self.base_lr
        lower, upper = final_lr * (1 - 1 / (self.gamma * t + 1)), final_lr * (1 + 1 / (self.gamma * t))
        step_size = self.lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
        return param - np.clip(step_size / denom, lower, upper) * m


class AMSBound(AdaBound):
    """AdaBound on AMSGrad's running maximum of the second moment (Luo et al., 2019)."""

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 final_lr: float = 0.1, gamma: float = 1e-3, eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(params, lr, betas, final_lr, gamma, eps, weight_decay, amsgrad=True)


class AdaBelief(Adam):
    """AdaBelief (Zhuang et al., 2020): the second moment tracks the gradient's deviation from
    its mean, the "belief", rather than its square:

    m = b1 m + (1 - b1) g;  s = b2 s + (1 - b2) (g - m)^2 + eps;
    p -= lr / (1 - b1^t) * m / (sqrt(s / (1 - b2^t)) + eps)
    """

    hyper_parameters = ("lr", "betas", "eps", "weight_decay")

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-16, weight_decay: float = 0.0):
        super().__init__(params, lr, betas, eps, weight_decay)

    def _update(self, param, grad, state):
        beta1, beta2 = self.betas
        grad = self._l2(param, grad)
        t, m = self._first_moment(grad, state, "exp_avg_var")
        residual = grad - m
        state["exp_avg_var"] = beta2 * state["exp_avg_var"] + (1 - beta2) * residual * residual + self.eps
        denom = np.sqrt(state["exp_avg_var"] / (1 - beta2 ** t)) + self.eps
        return param - self.lr / (1 - beta1 ** t) * m / denom
