"""Learning-rate schedules, stepped once per epoch, as torch.optim.lr_scheduler's."""
from __future__ import annotations

import bisect
import math
from typing import Any, Callable, Iterable

import numpy as np

from .optimizer import Optimizer, check_hyper

__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR", "MultiplicativeLR", "MultiStepLR",
           "LinearLR", "OneCycleLR", "CosineAnnealingWarmRestarts", "ReduceLROnPlateau"]


class LRScheduler:
    """Sets ``optimizer.lr`` from its initial value and the number of ``step()`` calls."""

    def __init__(self, optimizer: Optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer, self.base_lr, self.last_epoch = optimizer, optimizer.lr, 0

    def _start(self) -> None:
        """Set the learning rate of epoch 0, as PyTorch's constructors do (a warm-up starts low);
        subclasses call it once their own arguments are set."""
        self.optimizer.lr = self.lr_at(0)

    def get_last_lr(self) -> list[float]:
        """The learning rate the last step set, one per parameter group (one here), as PyTorch."""
        return [self.optimizer.lr]

    def lr_at(self, epoch: int) -> float:
        """The learning rate after ``epoch`` steps."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and set the optimizer's lr."""
        self.last_epoch += 1
        self.optimizer.lr = self.lr_at(self.last_epoch)

    def state_dict(self) -> dict[str, Any]:
        """The schedule's position and initial lr, for a checkpoint."""
        return {"base_lr": self.base_lr, "last_epoch": self.last_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        name = f"{type(self).__name__}.load_state_dict"
        if set(state) != {"base_lr", "last_epoch"}:
            raise ValueError(f"{name}: unexpected keys {sorted(state)}")
        epoch = state["last_epoch"]
        if not isinstance(epoch, (int, np.integer)) or isinstance(epoch, bool) or epoch < 0:
            raise ValueError(f"{name}: last_epoch must be a non-negative integer, got {epoch!r}")
        self.base_lr, self.last_epoch = check_hyper(name, "base_lr", state["base_lr"]), int(epoch)


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (epoch // step_size)."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        super().__init__(optimizer)
        if not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive int, got {step_size!r}")
        self.step_size, self.gamma = step_size, check_hyper("StepLR", "gamma", gamma)

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRScheduler):
    """lr = base_lr * gamma ** epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float):
        super().__init__(optimizer)
        self.gamma = check_hyper("ExponentialLR", "gamma", gamma)

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** epoch


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0):
        super().__init__(optimizer)
        if not isinstance(T_max, int) or T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive int, got {T_max!r}")
        self.T_max, self.eta_min = T_max, check_hyper("CosineAnnealingLR", "eta_min", eta_min)

    def lr_at(self, epoch: int) -> float:
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2


class LambdaLR(LRScheduler):
    """lr = base_lr * lr_lambda(epoch)."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float]):
        super().__init__(optimizer)
        if not callable(lr_lambda):
            raise TypeError(f"LambdaLR: lr_lambda must be callable, got {type(lr_lambda).__name__}")
        self.lr_lambda = lr_lambda
        self._start()

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.lr_lambda(epoch)


class MultiplicativeLR(LambdaLR):
    """lr = base_lr * lr_lambda(1) * ... * lr_lambda(epoch): each step multiplies the last lr."""

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * math.prod(self.lr_lambda(k) for k in range(1, epoch + 1))


class MultiStepLR(LRScheduler):
    """lr = base_lr * gamma ** (number of milestones reached)."""

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1):
        super().__init__(optimizer)
        self.milestones = sorted(int(m) for m in milestones)
        self.gamma = check_hyper("MultiStepLR", "gamma", gamma)

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** bisect.bisect_right(self.milestones, epoch)


class LinearLR(LRScheduler):
    """A linear warm-up (or decay) of the factor from ``start_factor`` to ``end_factor`` over
    ``total_iters`` steps, then constant: lr = base_lr * factor."""

    def __init__(self, optimizer: Optimizer, start_factor: float = 1 / 3, end_factor: float = 1.0,
                 total_iters: int = 5):
        super().__init__(optimizer)
        if not 0 < start_factor <= 1 or not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: factors must lie in (0, 1] and [0, 1], got {start_factor}, {end_factor}")
        if not isinstance(total_iters, int) or total_iters < 1:
            raise ValueError(f"LinearLR: total_iters must be a positive int, got {total_iters!r}")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        self._start()

    def lr_at(self, epoch: int) -> float:
        done = min(epoch, self.total_iters) / self.total_iters
        return self.base_lr * (self.start_factor + (self.end_factor - self.start_factor) * done)


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith and Topin, 2017), stepped every batch: from max_lr/div_factor
    up to ``max_lr`` over the first ``pct_start`` of ``total_steps``, then down to
    max_lr/(div_factor*final_div_factor), by cosine ("cos") or linear ("linear") annealing, as
    torch's with ``three_phase=False``. Momentum is not cycled (PyTorch's cycle_momentum)."""

    def __init__(self, optimizer: Optimizer, max_lr: float, total_steps: int, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", div_factor: float = 25.0, final_div_factor: float = 1e4):
        super().__init__(optimizer)
        if not isinstance(total_steps, int) or total_steps < 2:
            raise ValueError(f"OneCycleLR: total_steps must be an int of at least 2, got {total_steps!r}")
        if not 0 < pct_start < 1 or anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: pct_start must lie in (0, 1) and anneal_strategy be 'cos' or 'linear', "
                             f"got {pct_start}, {anneal_strategy!r}")
        self.max_lr, self.total_steps, self.anneal_strategy = check_hyper("OneCycleLR", "max_lr", max_lr), total_steps, anneal_strategy
        self.initial_lr = self.max_lr / div_factor
        self.min_lr = self.initial_lr / final_div_factor
        self.peak = float(pct_start * total_steps) - 1
        self._start()

    def _anneal(self, start: float, end: float, fraction: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2 * (math.cos(math.pi * fraction) + 1)
        return start + (end - start) * fraction

    def lr_at(self, epoch: int) -> float:
        if epoch > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {epoch} times, beyond total_steps={self.total_steps}")
        if epoch <= self.peak:
            return self._anneal(self.initial_lr, self.max_lr, epoch / self.peak)
        return self._anneal(self.max_lr, self.min_lr, (epoch - self.peak) / (self.total_steps - 1 - self.peak))


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing from base_lr to eta_min over T_i epochs, then a restart; T_0 first,
    each next period T_mult times longer (SGDR, Loshchilov and Hutter, 2017)."""

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0):
        super().__init__(optimizer)
        if not isinstance(T_0, int) or T_0 < 1 or not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"CosineAnnealingWarmRestarts: T_0 and T_mult must be positive ints, got {T_0!r}, {T_mult!r}")
        self.T_0, self.T_mult = T_0, T_mult
        self.eta_min = check_hyper("CosineAnnealingWarmRestarts", "eta_min", eta_min)

    def lr_at(self, epoch: int) -> float:
        period, position = self.T_0, epoch
        while position >= period:  # which restart the epoch falls in
            position, period = position - period, period * self.T_mult
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * position / period)) / 2


class ReduceLROnPlateau:
    """Multiply the lr by ``factor`` when a metric has not improved for ``patience`` epochs,
    as torch's: ``scheduler.step(val_loss)`` after each epoch. "Improved" means below
    best * (1 - threshold) in "min" mode with the "rel" threshold (above best * (1 + threshold)
    in "max" mode; "abs" compares with best -/+ threshold). After a reduction, ``cooldown``
    epochs pass before counting again; the lr never goes below ``min_lr``."""

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0, min_lr: float = 0.0,
                 eps: float = 1e-8):
        if mode not in ("min", "max") or threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max' and threshold_mode 'rel' or 'abs', "
                             f"got {mode!r}, {threshold_mode!r}")
        if not 0 <= factor < 1:
            raise ValueError(f"ReduceLROnPlateau: factor must lie in [0, 1), got {factor}")
        self.optimizer, self.mode, self.factor, self.patience = optimizer, mode, factor, patience
        self.threshold, self.threshold_mode, self.cooldown, self.min_lr, self.eps = (
            threshold, threshold_mode, cooldown, min_lr, eps)
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = self.last_epoch = 0

    def _better(self, value: float) -> bool:
        if self.mode == "min":
            bar = self.best * (1 - self.threshold) if self.threshold_mode == "rel" else self.best - self.threshold
            return value < bar
        bar = self.best * (1 + self.threshold) if self.threshold_mode == "rel" else self.best + self.threshold
        return value > bar

    def step(self, metric: float) -> None:
        """Record this epoch's metric and lower the lr if it has stalled."""
        value = float(metric)
        self.last_epoch += 1
        if self._better(value):
            self.best, self.num_bad_epochs = value, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            new_lr = max(self.optimizer.lr * self.factor, self.min_lr)
            if self.optimizer.lr - new_lr > self.eps:
                self.optimizer.lr = new_lr
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0

    def get_last_lr(self) -> list[float]:
        """The current learning rate, one per parameter group (one here)."""
        return [self.optimizer.lr]

    def state_dict(self) -> dict[str, Any]:
        """The plateau bookkeeping, for a checkpoint."""
        return {"best": self.best, "num_bad_epochs": self.num_bad_epochs, "cooldown_counter": self.cooldown_counter,
                "last_epoch": self.last_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        if set(state) != {"best", "num_bad_epochs", "cooldown_counter", "last_epoch"}:
            raise ValueError(f"ReduceLROnPlateau.load_state_dict: unexpected keys {sorted(state)}")
        self.best = float(state["best"])
        self.num_bad_epochs, self.cooldown_counter, self.last_epoch = (
            int(state["num_bad_epochs"]), int(state["cooldown_counter"]), int(state["last_epoch"]))
