"""The optimizer base class: parameters, per-parameter state, checks, state_dict."""
from __future__ import annotations

import inspect
import math
from typing import Any, Iterable

import numpy as np

from ..tensor import Tensor

__all__ = ["Optimizer", "check_hyper"]


def check_hyper(optimizer: str, name: str, value: float, low: float = 0.0, high: float = math.inf) -> float:
    """``value`` as a float, or a ValueError naming the optimizer and argument if it is not a
    number in [low, high) (NaN never is)."""
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
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__}: parameter {i} must be a Tensor, got {type(p).__name__}")
            if p.dtype.kind != "f":
                raise TypeError(f"{type(self).__name__}: parameter {i} {p.shape} has dtype {p.dtype}; "
                                f"only floating tensors can be optimized")
        # a frozen parameter (requires_grad=False) is kept, as in PyTorch: it has no gradient,
        # so step() skips it, and unfreezing it later needs no new optimizer
        self.lr = check_hyper(type(self).__name__, "lr", lr)
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's accumulated gradient: None (the default, as PyTorch), or
        zeros in place with ``set_to_none=False``."""
        for p in self.params:
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad.data = np.zeros_like(p.grad.data)

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

    def _l2(self, param: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """grad + weight_decay * param (L2 regularisation folded into the gradient)."""
        return grad + self.weight_decay * param if self.weight_decay else grad

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
        hyper = {key: tuple(value) if isinstance(value, list) else value for key, value in state["hyper"].items()}
        accepted = inspect.signature(type(self)).parameters  # AMSBound fixes amsgrad itself
        try:  # the constructor's checks, so a state cannot set what the constructor refuses (lr=-5)
            type(self)(self.params, **{k: v for k, v in hyper.items() if k in accepted})
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name}.load_state_dict: {err}") from None
        for key, value in hyper.items():
            setattr(self, key, value)
        self.state = [{k: np.array(v, dtype=p.dtype) if isinstance(v, np.ndarray) else v for k, v in s.items()}
                      for p, s in zip(self.params, state["state"])]
