"""Optimizers and learning-rate schedules.

Where torch.optim has the same method (SGD, Adagrad, RMSprop, Adadelta, Adam, AdamW, Adamax,
NAdam, Adam(amsgrad=True)) the update rule is torch's, step for step, and tests compare the
trajectories; the others follow their papers' reference implementations. Every optimizer takes
``(params, lr, ...)``, where ``params`` may be parameter groups with options of their own, as
torch.optim's, and has ``param_groups``, ``add_param_group``, ``zero_grad``, ``step``,
``state_dict`` and ``load_state_dict``.
"""

from __future__ import annotations

from collections.abc import Callable

from .adam import AdaBelief, AdaBound, Adam, Adamax, AdamW, AMSBound, NAdam
from .adaptive import SMORMS3, Adadelta, Adagrad, RMSprop, RMSpropGraves
from .lr_scheduler import (
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    LRScheduler,
    MultiplicativeLR,
    MultiStepLR,
    OneCycleLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)
from .optimizer import Optimizer, ParamsT
from .sgd import SGD

__all__ = [
    "Optimizer",
    "SGD",
    "Adagrad",
    "RMSprop",
    "RMSpropGraves",
    "Adadelta",
    "Adam",
    "AdamW",
    "Adamax",
    "NAdam",
    "AdaBound",
    "AMSBound",
    "AdaBelief",
    "SMORMS3",
    "LRScheduler",
    "StepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "LambdaLR",
    "MultiplicativeLR",
    "MultiStepLR",
    "LinearLR",
    "OneCycleLR",
    "CosineAnnealingWarmRestarts",
    "SequentialLR",
    "ReduceLROnPlateau",
    "OPTIMIZERS",
    "create",
]

OPTIMIZERS: dict[str, Callable[[ParamsT, float], Optimizer]] = {
    "sgd": lambda params, lr: SGD(params, lr),
    "momentum": lambda params, lr: SGD(params, lr, momentum=0.9),
    "nesterov": lambda params, lr: SGD(params, lr, momentum=0.9, nesterov=True),
    "adagrad": Adagrad,
    "rmsprop": RMSprop,
    "rmsprop_graves": RMSpropGraves,
    "adadelta": Adadelta,
    "adam": Adam,
    "adamw": AdamW,
    "adamax": Adamax,
    "nadam": NAdam,
    "amsgrad": lambda params, lr: Adam(params, lr, amsgrad=True),
    "adabound": AdaBound,
    "amsbound": AMSBound,
    "adabelief": AdaBelief,
    "smorms3": SMORMS3,
}
"""Every optimizer by name, built as ``OPTIMIZERS[name](params, lr)`` with default settings."""


def _key(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


def create(name: str, params: ParamsT, lr: float) -> Optimizer:
    """The optimizer called ``name`` over ``params`` (tensors or parameter groups; see
    :data:`OPTIMIZERS`; case, underscores and dashes are ignored, so "RMSpropGraves" and
    "rmsprop_graves" are the same)."""
    by_key = {_key(k): factory for k, factory in OPTIMIZERS.items()}
    if _key(name) not in by_key:
        raise ValueError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")
    return by_key[_key(name)](params, lr)
