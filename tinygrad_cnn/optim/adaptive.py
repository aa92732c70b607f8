"""Per-coordinate adaptive step sizes from running sums of squared gradients:
AdaGrad, RMSprop, RMSpropGraves, AdaDelta and SMORMS3."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, ParamsT, check_flag, check_hyper, check_rate

__all__ = ["Adagrad", "RMSprop", "RMSpropGraves", "Adadelta", "SMORMS3"]


class Adagrad(Optimizer):
    """AdaGrad (Duchi et al., 2011), as torch.optim.Adagrad:

    s += g^2;  p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)
    """

    hyper_parameters = {
        "lr": check_hyper,
        "lr_decay": check_hyper,
        "weight_decay": check_hyper,
        "initial_accumulator_value": check_hyper,
        "eps": check_hyper,
    }

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ):
        super().__init__(
            params,
            dict(
                lr=lr,
                lr_decay=lr_decay,
                weight_decay=weight_decay,
                initial_accumulator_value=initial_accumulator_value,
                eps=eps,
            ),
        )

    def _update(self, param, grad, state, group):
        if not state:
            state.update(step=0, sum=np.full_like(param, group["initial_accumulator_value"]))
        state["step"] += 1
        grad = self._l2(param, grad, group["weight_decay"])
        state["sum"] = state["sum"] + grad * grad
        step_size = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        return param - step_size * grad / (np.sqrt(state["sum"]) + group["eps"])


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012), as torch.optim.RMSprop:

    v = alpha v + (1 - alpha) g^2;  avg = sqrt(v - mean_g^2 if centered else v) + eps;
    p -= lr * g / avg, or with momentum: buf = momentum buf + g / avg;  p -= lr * buf
    """

    hyper_parameters = {
        "lr": check_hyper,
        "alpha": check_rate,
        "eps": check_hyper,
        "weight_decay": check_hyper,
        "momentum": check_hyper,
        "centered": check_flag,
    }

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ):
        super().__init__(
            params,
            dict(
                lr=lr,
                alpha=alpha,
                eps=eps,
                weight_decay=weight_decay,
                momentum=momentum,
                centered=centered,
            ),
        )

    def _update(self, param, grad, state, group):
        alpha, momentum = group["alpha"], group["momentum"]
        if not state:
            state.update(
                square_avg=np.zeros_like(param),
                grad_avg=np.zeros_like(param),
                momentum_buffer=np.zeros_like(param),
            )
        grad = self._l2(param, grad, group["weight_decay"])
        state["square_avg"] = alpha * state["square_avg"] + (1 - alpha) * grad * grad
        variance = state["square_avg"]
        if group["centered"]:
            state["grad_avg"] = alpha * state["grad_avg"] + (1 - alpha) * grad
            variance = variance - state["grad_avg"] ** 2
        scaled = grad / (np.sqrt(variance) + group["eps"])
        if momentum:
            state["momentum_buffer"] = momentum * state["momentum_buffer"] + scaled
            scaled = state["momentum_buffer"]
        return param - group["lr"] * scaled


class RMSpropGraves(Optimizer):
    """RMSprop as in Graves (2013), "Generating sequences with recurrent neural
    networks", eq. 38-41:

    n = alpha n + (1 - alpha) g^2;  m = alpha m + (1 - alpha) g;
    delta = momentum delta - lr g / sqrt(n - m^2 + eps);  p += delta
    """

    hyper_parameters = {
        "lr": check_hyper,
        "alpha": check_rate,
        "momentum": check_rate,
        "eps": check_hyper,
    }

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-4,
        alpha: float = 0.95,
        momentum: float = 0.9,
        eps: float = 1e-4,
    ):
        super().__init__(params, dict(lr=lr, alpha=alpha, momentum=momentum, eps=eps))

    def _update(self, param, grad, state, group):
        alpha = group["alpha"]
        if not state:
            state.update(n=np.zeros_like(param), m=np.zeros_like(param), delta=np.zeros_like(param))
        state["n"] = alpha * state["n"] + (1 - alpha) * grad * grad
        state["m"] = alpha * state["m"] + (1 - alpha) * grad
        step = group["lr"] * grad / np.sqrt(state["n"] - state["m"] ** 2 + group["eps"])
        state["delta"] = group["momentum"] * state["delta"] - step
        return param + state["delta"]


class Adadelta(Optimizer):
    """AdaDelta (Zeiler, 2012), as torch.optim.Adadelta:

    v = rho v + (1 - rho) g^2;  delta = sqrt(u + eps) / sqrt(v + eps) * g;
    u = rho u + (1 - rho) delta^2;  p -= lr * delta
    """

    hyper_parameters = {
        "lr": check_hyper,
        "rho": check_rate,
        "eps": check_hyper,
        "weight_decay": check_hyper,
    }

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay))

    def _update(self, param, grad, state, group):
        rho, eps = group["rho"], group["eps"]
        if not state:
            state.update(square_avg=np.zeros_like(param), acc_delta=np.zeros_like(param))
        grad = self._l2(param, grad, group["weight_decay"])
        state["square_avg"] = rho * state["square_avg"] + (1 - rho) * grad * grad
        delta = np.sqrt(state["acc_delta"] + eps) / np.sqrt(state["square_avg"] + eps) * grad
        state["acc_delta"] = rho * state["acc_delta"] + (1 - rho) * delta * delta
        return param - group["lr"] * delta


class SMORMS3(Optimizer):
    """SMORMS3 (S. Funk, 2015, "RMSprop loses to SMORMS3"): RMSprop whose averaging window
    adapts to how noisy each coordinate's gradient is:

    r = 1 / (mem + 1);  m = (1 - r) m + r g;  v = (1 - r) v + r g^2;  x = m^2 / (v + eps);
    p -= g * min(lr, x) / (sqrt(v) + eps);  mem = 1 + mem (1 - x)
    """

    hyper_parameters = {"lr": check_hyper, "eps": check_hyper}

    def __init__(self, params: ParamsT, lr: float = 1e-3, eps: float = 1e-16):
        super().__init__(params, dict(lr=lr, eps=eps))

    def _update(self, param, grad, state, group):
        eps = group["eps"]
        if not state:
            state.update(mem=np.ones_like(param), m=np.zeros_like(param), v=np.zeros_like(param))
        r = 1 / (state["mem"] + 1)
        state["m"] = (1 - r) * state["m"] + r * grad
        state["v"] = (1 - r) * state["v"] + r * grad * grad
        x = state["m"] ** 2 / (state["v"] + eps)
        state["mem"] = 1 + state["mem"] * (1 - x)
        return param - grad * np.minimum(group["lr"], x) / (np.sqrt(state["v"]) + eps)
