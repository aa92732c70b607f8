"""Optimizers. Update rules follow torch.optim's, step for step, so trajectories match."""
from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from .tensor import Tensor

__all__ = ["Optimizer", "SGD", "Adam", "CosineAnnealingLR", "OPTIMIZERS", "create"]


def _check_hyper(optimizer: str, name: str, value: float, low: float = 0.0, high: float = math.inf) -> float:
    if not isinstance(value, (int, float, np.floating)) or not low <= value < high:
        raise ValueError(f"{optimizer}: {name} must be a number in [{low}, {high}), got {value!r}")
    return float(value)


class Optimizer:
    """Holds the parameters to update and per-parameter state (momentum buffers, moments).

    Subclasses list their hyper-parameters in ``hyper_parameters`` (saved by ``state_dict``)
    and implement ``_update``.
    """

    hyper_parameters: tuple[str, ...] = ("lr",)

    def __init__(self, params: Iterable[Tensor], lr: float):
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(f"{type(self).__name__}: parameter {i} must be a Tensor that requires grad, got {p!r:.60}")
        self.lr = _check_hyper(type(self).__name__, "lr", lr)
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    def zero_grad(self) -> None:
        """Forget every parameter's accumulated gradient."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient.

        Each parameter gets a new array rather than an in-place write, so a graph that still
        holds the old values for its backward is left intact.
        """
        for p, state in zip(self.params, self.state):
            if p.grad is not None:
                p.data = self._update(p.data, p.grad.data, state)

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any]) -> np.ndarray:
        """The parameter's new value, given its gradient and its per-parameter state."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """Hyper-parameters and per-parameter state (copies), for :func:`tinygrad_cnn.save`."""
        return {
            "type": type(self).__name__,
            "hyper": {name: getattr(self, name) for name in self.hyper_parameters},
            "state": [{k: v.copy() if isinstance(v, np.ndarray) else v for k, v in s.items()} for s in self.state],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned. Everything is checked before anything is
        applied, so a mismatch leaves the optimizer unchanged."""
        name = type(self).__name__
        if not isinstance(state, dict) or set(state) != {"type", "hyper", "state"}:
            raise ValueError(f"{name}.load_state_dict: expected a dict with keys type, hyper, state")
        if state["type"] != name:
            raise ValueError(f"{name}.load_state_dict: the state is from a {state['type']} optimizer")
        if set(state["hyper"]) != set(self.hyper_parameters):
            raise ValueError(f"{name}.load_state_dict: hyper-parameters {sorted(state['hyper'])}, "
                             f"expected {sorted(self.hyper_parameters)}")
        if len(state["state"]) != len(self.params):
            raise ValueError(f"{name}.load_state_dict: state for {len(state['state'])} parameters, "
                             f"this optimizer has {len(self.params)}")
        for i, (p, s) in enumerate(zip(self.params, state["state"])):
            for key, value in s.items():
                if isinstance(value, np.ndarray) and value.shape != p.shape:
                    raise ValueError(f"{name}.load_state_dict: parameter {i} state {key!r} has shape "
                                     f"{value.shape}, the parameter has {p.shape}")
        for key, value in state["hyper"].items():
            setattr(self, key, tuple(value) if isinstance(value, list) else value)
        self.state = [{k: np.array(v, dtype=p.dtype) if isinstance(v, np.ndarray) else v for k, v in s.items()}
                      for p, s in zip(self.params, state["state"])]


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay.

    g = grad + weight_decay * p;  buf = momentum * buf + g (buf = g on the first step);
    p -= lr * (g + momentum * buf if nesterov else buf)   (plain g when momentum = 0)
    """

    hyper_parameters = ("lr", "momentum", "weight_decay", "nesterov")

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False):
        super().__init__(params, lr)
        self.momentum = _check_hyper("SGD", "momentum", momentum)
        self.weight_decay = _check_hyper("SGD", "weight_decay", weight_decay)
        if nesterov and self.momentum == 0:
            raise ValueError("SGD: nesterov=True needs a momentum > 0")
        self.nesterov = nesterov

    def _update(self, param, grad, state):
        if self.weight_decay:
            grad = grad + param.dtype.type(self.weight_decay) * param
        if self.momentum:
            momentum = param.dtype.type(self.momentum)
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = grad.copy()
            else:
                buf = state["momentum_buffer"]
                buf *= momentum
                buf += grad
            buf = state["momentum_buffer"]
            grad = grad + momentum * buf if self.nesterov else buf
        return param - param.dtype.type(self.lr) * grad


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction, as torch.optim.Adam:

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
    p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
    """

    hyper_parameters = ("lr", "betas", "eps", "weight_decay")

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(params, lr)
        self.betas = tuple(_check_hyper("Adam", f"betas[{i}]", b, 0.0, 1.0) for i, b in enumerate(betas))
        self.eps = _check_hyper("Adam", "eps", eps)
        self.weight_decay = _check_hyper("Adam", "weight_decay", weight_decay)

    def _update(self, param, grad, state):
        beta1, beta2 = self.betas
        if self.weight_decay:
            grad = grad + param.dtype.type(self.weight_decay) * param
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(param), exp_avg_sq=np.zeros_like(param))
        state["step"] += 1
        t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        m += (1 - beta1) * (grad - m)
        v *= param.dtype.type(beta2)
        v += param.dtype.type(1 - beta2) * grad * grad
        step_size = self.lr / (1 - beta1 ** t)
        denom = np.sqrt(v) / param.dtype.type(math.sqrt(1 - beta2 ** t)) + param.dtype.type(self.eps)
        return param - param.dtype.type(step_size) * (m / denom)


class CosineAnnealingLR:
    """Cosine learning-rate schedule, as torch.optim.lr_scheduler.CosineAnnealingLR:
    after ``step()`` number t, lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0):
        if not isinstance(T_max, int) or T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive int, got {T_max!r}")
        self.optimizer, self.T_max = optimizer, T_max
        self.eta_min = _check_hyper("CosineAnnealingLR", "eta_min", eta_min)
        self.base_lr, self.last_epoch = optimizer.lr, 0

    def step(self) -> None:
        """Advance one epoch and set the optimizer's lr."""
        self.last_epoch += 1
        cosine = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        self.optimizer.lr = self.eta_min + (self.base_lr - self.eta_min) * cosine

    def state_dict(self) -> dict[str, Any]:
        """The schedule's position and settings, for a checkpoint."""
        return {"T_max": self.T_max, "eta_min": self.eta_min, "base_lr": self.base_lr, "last_epoch": self.last_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        if set(state) != {"T_max", "eta_min", "base_lr", "last_epoch"}:
            raise ValueError(f"CosineAnnealingLR.load_state_dict: unexpected keys {sorted(state)}")
        self.T_max, self.eta_min, self.base_lr, self.last_epoch = (state[k] for k in ("T_max", "eta_min", "base_lr", "last_epoch"))


OPTIMIZERS = {
    "sgd": lambda params, lr: SGD(params, lr),
    "momentum": lambda params, lr: SGD(params, lr, momentum=0.9),
    "nesterov": lambda params, lr: SGD(params, lr, momentum=0.9, nesterov=True),
    "adam": lambda params, lr: Adam(params, lr),
}
"""Optimizers by name, each built as ``OPTIMIZERS[name](params, lr)``."""


def create(name: str, params: Iterable[Tensor], lr: float) -> Optimizer:
    """The optimizer called ``name`` (see :data:`OPTIMIZERS`) over ``params``."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name](params, lr)
