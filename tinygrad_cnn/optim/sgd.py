"""Stochastic gradient descent, with momentum and Nesterov momentum."""
from __future__ import annotations

from typing import Iterable

from ..tensor import Tensor
from .optimizer import Optimizer, check_hyper

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay,
    as torch.optim.SGD:

    g = grad + weight_decay * p;  buf = momentum * buf + g (buf = g on the first step);
    p -= lr * (g + momentum * buf if nesterov else buf)   (plain g when momentum = 0)
    """

    hyper_parameters = ("lr", "momentum", "weight_decay", "nesterov")

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False):
        super().__init__(params, lr)
        self.momentum = check_hyper("SGD", "momentum", momentum)
        self.weight_decay = check_hyper("SGD", "weight_decay", weight_decay)
        if nesterov and self.momentum == 0:
            raise ValueError("SGD: nesterov=True needs a momentum > 0")
        self.nesterov = nesterov

    def _update(self, param, grad, state):
        grad = self._l2(param, grad)
        if self.momentum:
            if "momentum_buffer" in state:
                state["momentum_buffer"] = self.momentum * state["momentum_buffer"] + grad
            else:
                state["momentum_buffer"] = grad.copy()
            buf = state["momentum_buffer"]
            grad = grad + self.momentum * buf if self.nesterov else buf
        return param - self.lr * grad
