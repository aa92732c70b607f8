"""Stochastic gradient descent, with momentum and Nesterov momentum."""

from __future__ import annotations

from typing import Any

from .optimizer import Optimizer, ParamsT, check_flag, check_hyper

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay,
    as torch.optim.SGD:

    g = grad + weight_decay * p;  buf = momentum * buf + g (buf = g on the first step);
    p -= lr * (g + momentum * buf if nesterov else buf)   (plain g when momentum = 0)
    """

    hyper_parameters = {
        "lr": check_hyper,
        "momentum": check_hyper,
        "weight_decay": check_hyper,
        "nesterov": check_flag,
    }

    def __init__(
        self,
        params: ParamsT,
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ):
        super().__init__(
            params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov)
        )

    def _checked(self, options: dict[str, Any], owner: str) -> dict[str, Any]:
        checked = super()._checked(options, owner)
        if checked["nesterov"] and checked["momentum"] == 0:
            raise ValueError(f"{owner}: nesterov=True needs a momentum > 0")
        return checked

    def _update(self, param, grad, state, group):
        momentum = group["momentum"]
        grad = self._l2(param, grad, group["weight_decay"])
        if momentum:
            if "momentum_buffer" in state:
                state["momentum_buffer"] = momentum * state["momentum_buffer"] + grad
            else:
                state["momentum_buffer"] = grad.copy()
            buf = state["momentum_buffer"]
            grad = grad + momentum * buf if group["nesterov"] else buf
        return param - group["lr"] * grad
