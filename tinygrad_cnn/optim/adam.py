"""Adam and its relatives: moment estimates of the gradient and of its square, bias-corrected.

Adam (with AMSGrad), AdamW, Adamax and NAdam follow torch.optim step for step; AdaBound,
AMSBound and AdaBelief follow their authors' published reference implementations.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT, check_betas, check_flag, check_hyper, check_rate

__all__ = ["Adam", "AdamW", "Adamax", "NAdam", "AdaBound", "AMSBound", "AdaBelief"]


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015), as torch.optim.Adam; ``amsgrad=True`` is AMSGrad (Reddi et al.):

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2  (v_max = max(v_max, v) for AMSGrad);
    p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
    """

    hyper_parameters = {
        "lr": check_hyper,
        "betas": check_betas,
        "eps": check_hyper,
        "weight_decay": check_hyper,
        "amsgrad": check_flag,
    }

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ):
        super().__init__(
            params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
        )

    @staticmethod
    def _first_moment(
        grad: np.ndarray, state: dict[str, Any], beta1: float, second: str
    ) -> tuple[int, np.ndarray]:
        """Advance the step count and m = b1 m + (1 - b1) g; returns (t, m). On the first step
        the state is created with a zero buffer named ``second`` for the method's other estimate."""
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(grad), **{second: np.zeros_like(grad)})
        state["step"] += 1
        state["exp_avg"] = state["exp_avg"] + (1 - beta1) * (grad - state["exp_avg"])
        return state["step"], state["exp_avg"]

    def _moments(
        self, grad: np.ndarray, state: dict[str, Any], betas: tuple[float, float]
    ) -> tuple[int, np.ndarray, np.ndarray]:
        """Advance the step count and the two moment estimates; returns (t, m, v)."""
        beta1, beta2 = betas
        t, m = self._first_moment(grad, state, beta1, "exp_avg_sq")
        state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * grad * grad
        return t, m, state["exp_avg_sq"]

    @staticmethod
    def _second_moment(v: np.ndarray, state: dict[str, Any], amsgrad: bool) -> np.ndarray:
        """v, or its running maximum for AMSGrad."""
        if not amsgrad:
            return v
        state["max_exp_avg_sq"] = np.maximum(state.get("max_exp_avg_sq", v), v)
        return state["max_exp_avg_sq"]

    def _update(self, param, grad, state, group):
        beta1, beta2 = group["betas"]
        t, m, v = self._moments(self._l2(param, grad, group["weight_decay"]), state, group["betas"])
        denom = (
            np.sqrt(self._second_moment(v, state, group["amsgrad"])) / math.sqrt(1 - beta2**t)
            + group["eps"]
        )
        return param - group["lr"] / (1 - beta1**t) * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019), as torch.optim.AdamW:
    p *= 1 - lr * weight_decay, then the Adam step on the plain gradient."""

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)

    def _l2(self, param, grad, weight_decay):
        return grad  # the decay is applied to the parameter instead, in _update

    def _update(self, param, grad, state, group):
        return super()._update(
            param * (1 - group["lr"] * group["weight_decay"]), grad, state, group
        )


class Adamax(Adam):
    """Adamax (Kingma and Ba, 2015, section 7), as torch.optim.Adamax: the infinity norm
    replaces the second moment.  u = max(b2 u, |g| + eps);  p -= lr / (1 - b1^t) * m / u."""

    hyper_parameters = {
        "lr": check_hyper,
        "betas": check_betas,
        "eps": check_hyper,
        "weight_decay": check_hyper,
    }

    def __init__(
        self,
        params: ParamsT,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        # Optimizer's constructor, not Adam's, whose options (amsgrad) differ from this method's
        Optimizer.__init__(
            self, params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        )

    def _update(self, param, grad, state, group):
        beta1, beta2 = group["betas"]
        grad = self._l2(param, grad, group["weight_decay"])
        t, m = self._first_moment(grad, state, beta1, "exp_inf")
        state["exp_inf"] = np.maximum(beta2 * state["exp_inf"], np.abs(grad) + group["eps"])
        return param - group["lr"] / (1 - beta1**t) * m / state["exp_inf"]


class NAdam(Adam):
    """Adam with Nesterov momentum (Dozat, 2016), as torch.optim.NAdam, with the momentum
    schedule mu_t = b1 (1 - 0.96^(t * momentum_decay) / 2)."""

    hyper_parameters = {
        "lr": check_hyper,
        "betas": check_betas,
        "eps": check_hyper,
        "weight_decay": check_hyper,
        "momentum_decay": check_hyper,
    }

    def __init__(
        self,
        params: ParamsT,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum_decay: float = 4e-3,
    ):
        Optimizer.__init__(
            self,
            params,
            dict(
                lr=lr,
                betas=betas,
                eps=eps,
                weight_decay=weight_decay,
                momentum_decay=momentum_decay,
            ),
        )

    def _update(self, param, grad, state, group):
        (beta1, beta2), lr, momentum_decay = group["betas"], group["lr"], group["momentum_decay"]
        grad = self._l2(param, grad, group["weight_decay"])
        t, m, v = self._moments(grad, state, group["betas"])
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        state["mu_product"] = state.get("mu_product", 1.0) * mu
        denom = np.sqrt(v / (1 - beta2**t)) + group["eps"]
        param = param - lr * (1 - mu) / (1 - state["mu_product"]) * grad / denom
        return param - lr * mu_next / (1 - state["mu_product"] * mu_next) * m / denom


class AdaBound(Adam):
    """AdaBound (Luo et al., 2019): Adam whose per-coordinate step size is clipped to bounds
    that close in on ``final_lr`` (scaled with lr), so it ends as SGD:

    step = clip(lr sqrt(1 - b2^t) / (1 - b1^t) / (sqrt(v) + eps), lower_t, upper_t) * m,
    lower_t = final_lr (1 - 1 / (gamma t + 1)),  upper_t = final_lr (1 + 1 / (gamma t))

    final_lr follows the lr a schedule sets, relative to the group's lr when the group was
    created (kept in the group as "base_lr"), as the authors' implementation scales it. A group
    with lr 0 takes no step; gamma = 0 leaves the upper bound open.
    """

    hyper_parameters = {
        "lr": check_hyper,
        "betas": check_betas,
        "final_lr": check_hyper,
        "gamma": check_rate,
        "eps": check_hyper,
        "weight_decay": check_hyper,
        "amsgrad": check_flag,
    }
    # base_lr is AdaBound's own, not torch's initial_lr, which a scheduler may overwrite
    # (OneCycleLR does)
    recorded_keys = (*Optimizer.recorded_keys, "base_lr")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        final_lr: float = 0.1,
        gamma: float = 1e-3,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ):
        Optimizer.__init__(
            self,
            params,
            dict(
                lr=lr,
                betas=betas,
                final_lr=final_lr,
                gamma=gamma,
                eps=eps,
                weight_decay=weight_decay,
                amsgrad=amsgrad,
            ),
        )

    def _checked(self, options: dict[str, Any], owner: str) -> dict[str, Any]:
        # a new group's lr becomes its base_lr, which final_lr is scaled against
        return super()._checked({"base_lr": options["lr"], **options}, owner)

    @staticmethod
    def _final_lr(group: dict[str, Any]) -> float:
        """final_lr scaled by the group's lr over its base_lr: 0 when lr is 0 (a frozen group),
        unscaled for a group created with lr 0 and given one since (no base to scale against)."""
        lr, base_lr = group["lr"], group["base_lr"]
        if lr == 0:
            return 0.0
        return group["final_lr"] * lr / base_lr if base_lr else group["final_lr"]

    def _update(self, param, grad, state, group):
        (beta1, beta2), lr, gamma = group["betas"], group["lr"], group["gamma"]
        t, m, v = self._moments(self._l2(param, grad, group["weight_decay"]), state, group["betas"])
        denom = np.sqrt(self._second_moment(v, state, group["amsgrad"])) + group["eps"]
        final_lr = self._final_lr(group)
        lower = final_lr * (1 - 1 / (gamma * t + 1))
        upper = final_lr * (1 + 1 / (gamma * t)) if gamma else math.inf
        step_size = lr * math.sqrt(1 - beta2**t) / (1 - beta1**t)
        return param - np.clip(step_size / denom, lower, upper) * m


class AMSBound(AdaBound):
    """AdaBound on AMSGrad's running maximum of the second moment (Luo et al., 2019)."""

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        final_lr: float = 0.1,
        gamma: float = 1e-3,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr, betas, final_lr, gamma, eps, weight_decay, amsgrad=True)


class AdaBelief(Adam):
    """AdaBelief (Zhuang et al., 2020): the second moment tracks the gradient's deviation from
    its mean, the "belief", rather than its square:

    m = b1 m + (1 - b1) g;  s = b2 s + (1 - b2) (g - m)^2 + eps;
    p -= lr / (1 - b1^t) * m / (sqrt(s / (1 - b2^t)) + eps)
    """

    hyper_parameters = {
        "lr": check_hyper,
        "betas": check_betas,
        "eps": check_hyper,
        "weight_decay": check_hyper,
    }

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-16,
        weight_decay: float = 0.0,
    ):
        Optimizer.__init__(
            self, params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        )

    def _update(self, param, grad, state, group):
        (beta1, beta2), eps = group["betas"], group["eps"]
        grad = self._l2(param, grad, group["weight_decay"])
        t, m = self._first_moment(grad, state, beta1, "exp_avg_var")
        residual = grad - m
        state["exp_avg_var"] = (
            beta2 * state["exp_avg_var"] + (1 - beta2) * residual * residual + eps
        )
        denom = np.sqrt(state["exp_avg_var"] / (1 - beta2**t)) + eps
        return param - group["lr"] / (1 - beta1**t) * m / denom
