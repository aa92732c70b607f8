"""Learning-rate schedules, stepped once per epoch (OneCycleLR once per batch), as
torch.optim.lr_scheduler's, with torch's chainable forms:
several stepped on one optimizer combine."""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from .optimizer import Optimizer, check_hyper

__all__ = [
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
]


def _check_optimizer(owner: str, optimizer: Any) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{owner}: expected an Optimizer, got {type(optimizer).__name__}")


def _per_group(owner: str, name: str, value: Any, optimizer: Optimizer) -> list[Any]:
    """``value`` for each parameter group: a list or tuple gives one per group, as torch's,
    anything else is repeated."""
    count = len(optimizer.param_groups)
    if not isinstance(value, (list, tuple)):
        return [value] * count
    if len(value) != count:
        raise ValueError(
            f"{owner}: {name} has {len(value)} values, the optimizer has {count} parameter groups"
        )
    return list(value)


class LRScheduler:
    """Sets each parameter group's lr on every ``step()``, as torch.optim.lr_scheduler's.

    The first scheduler of an optimizer records each group's lr as the group's "initial_lr", and
    every scheduler takes its ``base_lrs`` (one per group) from there. As torch's, StepLR,
    MultiStepLR, ExponentialLR, LinearLR, CosineAnnealingLR and MultiplicativeLR are chainable:
    a step changes each group's current lr by the schedule's own factor, so several stepped on
    one optimizer combine (ExponentialLR(gamma=0.9) with MultiStepLR([3]) gives 0.9, 0.81,
    0.0729), and an lr set by hand carries on. LambdaLR, OneCycleLR and
    CosineAnnealingWarmRestarts set each lr from base_lrs, replacing what others set.
    :class:`SequentialLR` runs schedulers one after another. The lrs live in the optimizer, so a
    resumed run restores the optimizer's state as well as the scheduler's.
    """

    def __init__(self, optimizer: Optimizer):
        _check_optimizer(type(self).__name__, optimizer)
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.optimizer = optimizer
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = 0

    def _start(self) -> None:
        """Set the learning rates of epoch 0, as PyTorch's constructors do (a warm-up starts
        low); subclasses whose epoch 0 changes the lr call it once their own arguments are set."""
        self._set_lrs(self._initial_lrs())

    def _initial_lrs(self) -> list[float]:
        """The learning rates of epoch 0, set at construction and when this scheduler opens a
        SequentialLR: by default each group's current lr, unchanged."""
        return self._chained(1.0)

    def _restart_lrs(self) -> list[float]:
        """The learning rates when SequentialLR hands over to this scheduler at a milestone:
        the closed form at epoch 0, as torch's ``step(0)``."""
        return self.lr_at(0)

    def _chained(self, factor: float) -> list[float]:
        """Each group's current lr times ``factor``: a chainable scheduler's step."""
        return [group["lr"] * factor for group in self.optimizer.param_groups]

    def _set_lrs(self, lrs: list[float]) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.base_lrs):
            raise ValueError(
                f"{type(self).__name__}: the optimizer has {len(groups)} parameter groups, "
                f"the scheduler was built for {len(self.base_lrs)}; build it after add_param_group"
            )
        for group, lr in zip(groups, lrs):
            group["lr"] = lr

    def get_last_lr(self) -> list[float]:
        """Each parameter group's lr: the one the last step set, unless something (another
        scheduler, stepped after this one) has changed it since; torch's keeps this scheduler's."""
        return [group["lr"] for group in self.optimizer.param_groups]

    def lr_at(self, epoch: int) -> list[float]:
        """The learning rates after ``epoch`` steps of this scheduler alone, from ``base_lrs``
        (the closed form), one per parameter group."""
        return [self._lr(base_lr, epoch) for base_lr in self.base_lrs]

    def _lr(self, base_lr: float, epoch: int) -> float:
        """One group's learning rate after ``epoch`` steps, from its initial ``base_lr``."""
        raise NotImplementedError

    def _lrs(self) -> list[float]:
        """The learning rates that stepping to ``last_epoch`` sets: the closed form, unless the
        scheduler is chainable."""
        return self.lr_at(self.last_epoch)

    def step(self) -> None:
        """Advance one epoch and set every group's lr."""
        self.last_epoch += 1
        self._set_lrs(self._lrs())

    def state_dict(self) -> dict[str, Any]:
        """The schedule's position and initial lrs, for a checkpoint."""
        return {"base_lrs": list(self.base_lrs), "last_epoch": self.last_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (or, for one group, what it returned before
        parameter groups existed); nothing changes if the state is refused."""
        self.__dict__.update(self._checked_state(state))

    def _checked_state(self, state: Any) -> dict[str, Any]:
        """The attributes ``state`` restores, checked."""
        name = f"{type(self).__name__}.load_state_dict"
        if isinstance(state, dict) and set(state) == {
            "base_lr",
            "last_epoch",
        }:  # saved before parameter groups
            state = {"base_lrs": [state["base_lr"]], "last_epoch": state["last_epoch"]}
        if not isinstance(state, dict) or set(state) != {"base_lrs", "last_epoch"}:
            raise ValueError(
                f"{name}: unexpected keys "
                f"{sorted(state) if isinstance(state, dict) else state!r:.80}, "
                f"expected base_lrs, last_epoch"
            )
        epoch, base_lrs = state["last_epoch"], state["base_lrs"]
        if not isinstance(epoch, (int, np.integer)) or isinstance(epoch, bool) or epoch < 0:
            raise ValueError(f"{name}: last_epoch must be a non-negative integer, got {epoch!r}")
        if not isinstance(base_lrs, list) or len(base_lrs) != len(self.base_lrs):
            raise ValueError(
                f"{name}: base_lrs must be a list of {len(self.base_lrs)} learning rates, one per "
                f"parameter group, got {base_lrs!r:.80}"
            )
        return {
            "base_lrs": [check_hyper(name, f"base_lrs[{i}]", lr) for i, lr in enumerate(base_lrs)],
            "last_epoch": int(epoch),
        }


class StepLR(LRScheduler):
    """Every ``step_size`` steps, the lr times ``gamma``: lr = base_lr * gamma ** (epoch //
    step_size) when nothing else changes it."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        super().__init__(optimizer)
        if not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive int, got {step_size!r}")
        self.step_size, self.gamma = step_size, check_hyper("StepLR", "gamma", gamma)

    def _lr(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)

    def _lrs(self) -> list[float]:
        return self._chained(self.gamma if self.last_epoch % self.step_size == 0 else 1.0)


class ExponentialLR(LRScheduler):
    """Each step, the lr times ``gamma``: lr = base_lr * gamma ** epoch when nothing else
    changes it."""

    def __init__(self, optimizer: Optimizer, gamma: float):
        super().__init__(optimizer)
        self.gamma = check_hyper("ExponentialLR", "gamma", gamma)

    def _lr(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma**epoch

    def _lrs(self) -> list[float]:
        return self._chained(self.gamma)


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2 when nothing else
    changes it: each step scales lr - eta_min by the cosine's ratio to the last epoch's, as
    torch's chainable form."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0):
        super().__init__(optimizer)
        if not isinstance(T_max, int) or T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive int, got {T_max!r}")
        self.T_max, self.eta_min = T_max, check_hyper("CosineAnnealingLR", "eta_min", eta_min)

    def _lr(self, base_lr: float, epoch: int) -> float:
        return (
            self.eta_min
            + (base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2
        )

    def _lrs(self) -> list[float]:
        # torch's chainable form: the step's ratio of the cosine applies to lr - eta_min
        epoch, period, eta_min, groups = (
            self.last_epoch,
            self.T_max,
            self.eta_min,
            self.optimizer.param_groups,
        )
        if (epoch - 1 - period) % (
            2 * period
        ) == 0:  # leaving the minimum, where that ratio is 0 / 0
            return [
                group["lr"] + (base_lr - eta_min) * (1 - math.cos(math.pi / period)) / 2
                for base_lr, group in zip(self.base_lrs, groups)
            ]
        ratio = (1 + math.cos(math.pi * epoch / period)) / (
            1 + math.cos(math.pi * (epoch - 1) / period)
        )
        return [ratio * (group["lr"] - eta_min) + eta_min for group in groups]


def _lambdas(owner: str, lr_lambda: Any, optimizer: Optimizer) -> list[Callable[[int], float]]:
    """One function per parameter group: a list or tuple of them, or one shared by all."""
    lambdas = _per_group(owner, "lr_lambda", lr_lambda, optimizer)
    for i, fn in enumerate(lambdas):
        if not callable(fn):
            raise TypeError(
                f"{owner}: lr_lambda must be callable (or a list of callables), got "
                f"{type(fn).__name__}"
                f"{f' at index {i}' if isinstance(lr_lambda, (list, tuple)) else ''}"
            )
    return lambdas


class LambdaLR(LRScheduler):
    """lr = base_lr * lr_lambda(epoch); ``lr_lambda`` is one function, or a list of them, one per
    parameter group."""

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
    ):
        super().__init__(optimizer)
        self.lr_lambdas = _lambdas("LambdaLR", lr_lambda, optimizer)
        self._start()

    def lr_at(self, epoch: int) -> list[float]:
        return [base_lr * fn(epoch) for fn, base_lr in zip(self.lr_lambdas, self.base_lrs)]

    def _initial_lrs(self) -> list[float]:
        return self.lr_at(0)


class MultiplicativeLR(LRScheduler):
    """Each step multiplies every group's current lr by ``lr_lambda(epoch)`` (one function, or
    one per group), as torch's: lr = base_lr * lr_lambda(1) * ... * lr_lambda(epoch) when
    nothing else changes the lr."""

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
    ):
        super().__init__(optimizer)
        self.lr_lambdas = _lambdas("MultiplicativeLR", lr_lambda, optimizer)

    def lr_at(self, epoch: int) -> list[float]:
        return [
            base_lr * math.prod(fn(k) for k in range(1, epoch + 1))
            for fn, base_lr in zip(self.lr_lambdas, self.base_lrs)
        ]

    def _lrs(self) -> list[float]:
        return [
            group["lr"] * fn(self.last_epoch)
            for fn, group in zip(self.lr_lambdas, self.optimizer.param_groups)
        ]

    def _restart_lrs(self) -> list[float]:
        # torch's has no closed form, so its step(0) scales the current lr by lr_lambda(0)
        return self._lrs()


class MultiStepLR(LRScheduler):
    """At each milestone, the lr times ``gamma`` (gamma^k for a milestone listed k times):
    lr = base_lr * gamma ** (number of milestones reached) when nothing else changes it."""

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1):
        super().__init__(optimizer)
        self.milestones = sorted(int(m) for m in milestones)
        self.gamma = check_hyper("MultiStepLR", "gamma", gamma)

    def _lr(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** bisect.bisect_right(self.milestones, epoch)

    def _lrs(self) -> list[float]:
        return self._chained(self.gamma ** self.milestones.count(self.last_epoch))


class LinearLR(LRScheduler):
    """A linear warm-up (or decay) of the factor from ``start_factor`` to ``end_factor`` over
    ``total_iters`` steps, then constant: lr = base_lr * factor when nothing else changes it;
    each step scales the current lr by the factor's ratio to the last one's, as torch's."""

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
    ):
        super().__init__(optimizer)
        if not 0 < start_factor <= 1 or not 0 <= end_factor <= 1:
            raise ValueError(
                f"LinearLR: factors must lie in (0, 1] and [0, 1], got {start_factor}, {end_factor}"
            )
        if not isinstance(total_iters, int) or total_iters < 1:
            raise ValueError(f"LinearLR: total_iters must be a positive int, got {total_iters!r}")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        self._start()

    def _lr(self, base_lr: float, epoch: int) -> float:
        done = min(epoch, self.total_iters) / self.total_iters
        return base_lr * (self.start_factor + (self.end_factor - self.start_factor) * done)

    def _initial_lrs(self) -> list[float]:
        return self._chained(self.start_factor)

    def _lrs(self) -> list[float]:
        if self.last_epoch > self.total_iters:
            return self._chained(1.0)
        # the ratio of this epoch's factor to the last one's
        change = self.end_factor - self.start_factor
        return self._chained(
            1.0 + change / (self.total_iters * self.start_factor + (self.last_epoch - 1) * change)
        )


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith and Topin, 2017), stepped every batch: from max_lr/div_factor
    up to ``max_lr`` (one, or a list with one per parameter group) over the first ``pct_start``
    of ``total_steps``, then down to max_lr/(div_factor*final_div_factor), by cosine ("cos")
    or linear ("linear") annealing, as torch's with ``three_phase=False``. Momentum is not
    cycled (PyTorch's cycle_momentum). As torch's, it writes each group's "initial_lr" (the
    starting lr, max_lr/div_factor, also its ``base_lrs``), "max_lr" and "min_lr", so a
    scheduler built after it starts from that initial lr."""

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | Sequence[float],
        total_steps: int,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
    ):
        super().__init__(optimizer)
        if not isinstance(total_steps, int) or total_steps < 2:
            raise ValueError(
                f"OneCycleLR: total_steps must be an int of at least 2, got {total_steps!r}"
            )
        if not 0 < pct_start < 1 or anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                "OneCycleLR: pct_start must lie in (0, 1) and anneal_strategy be 'cos' or "
                f"'linear', got {pct_start}, {anneal_strategy!r}"
            )
        for name, value in (("div_factor", div_factor), ("final_div_factor", final_div_factor)):
            if check_hyper("OneCycleLR", name, value) == 0:
                raise ValueError(f"OneCycleLR: {name} must be positive, got {value!r}")
        self.max_lrs = [
            check_hyper("OneCycleLR", "max_lr", lr)
            for lr in _per_group("OneCycleLR", "max_lr", max_lr, optimizer)
        ]
        for group, peak in zip(optimizer.param_groups, self.max_lrs):
            group["initial_lr"] = peak / div_factor
            group["max_lr"], group["min_lr"] = peak, group["initial_lr"] / final_div_factor
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.min_lrs = [group["min_lr"] for group in optimizer.param_groups]
        self.total_steps, self.anneal_strategy = total_steps, anneal_strategy
        self.peak = float(pct_start * total_steps) - 1
        self._start()

    def _anneal(self, start: float, end: float, fraction: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2 * (math.cos(math.pi * fraction) + 1)
        return start + (end - start) * fraction

    def lr_at(self, epoch: int) -> list[float]:
        if epoch > self.total_steps:
            raise ValueError(
                f"OneCycleLR: stepped {epoch} times, beyond total_steps={self.total_steps}"
            )
        if epoch <= self.peak:
            return [
                self._anneal(start, peak, epoch / self.peak)
                for start, peak in zip(self.base_lrs, self.max_lrs)
            ]
        fraction = (epoch - self.peak) / (self.total_steps - 1 - self.peak)
        return [
            self._anneal(peak, final, fraction) for peak, final in zip(self.max_lrs, self.min_lrs)
        ]

    def _initial_lrs(self) -> list[float]:
        return self.lr_at(0)


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing from base_lr to eta_min over T_i epochs, then a restart; T_0 first,
    each next period T_mult times longer (SGDR, Loshchilov and Hutter, 2017)."""

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0):
        super().__init__(optimizer)
        if not isinstance(T_0, int) or T_0 < 1 or not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(
                f"CosineAnnealingWarmRestarts: T_0 and T_mult must be positive ints, "
                f"got {T_0!r}, {T_mult!r}"
            )
        self.T_0, self.T_mult = T_0, T_mult
        self.eta_min = check_hyper("CosineAnnealingWarmRestarts", "eta_min", eta_min)
        self._start()

    def _lr(self, base_lr: float, epoch: int) -> float:
        period, position = self.T_0, epoch
        while position >= period:  # which restart the epoch falls in
            position, period = position - period, period * self.T_mult
        return (
            self.eta_min
            + (base_lr - self.eta_min) * (1 + math.cos(math.pi * position / period)) / 2
        )

    def _initial_lrs(self) -> list[float]:
        return self.lr_at(0)


class SequentialLR(LRScheduler):
    """Runs ``schedulers`` (built on the same optimizer) one after another: the first until
    epoch ``milestones[0]``, the next until ``milestones[1]``, and so on, as torch's. At a
    milestone the next scheduler starts over from its own epoch 0 (torch calls its step(0)),
    so a warm-up then a decay reads::

        warmup = LinearLR(optimizer, start_factor=0.1, total_iters=5)
        decay = CosineAnnealingLR(optimizer, T_max=95)
        scheduler = SequentialLR(optimizer, [warmup, decay], milestones=[5])
    """

    def __init__(
        self, optimizer: Optimizer, schedulers: Sequence[LRScheduler], milestones: Sequence[int]
    ):
        super().__init__(optimizer)
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError("SequentialLR: expected at least one scheduler, got none")
        for i, scheduler in enumerate(schedulers):
            if isinstance(scheduler, ReduceLROnPlateau):
                raise ValueError(
                    f"SequentialLR: scheduler {i} is a ReduceLROnPlateau, which steps on a metric, "
                    f"so it cannot be sequenced"
                )
            if not isinstance(scheduler, LRScheduler):
                raise TypeError(
                    f"SequentialLR: scheduler {i} must be an LRScheduler, "
                    f"got {type(scheduler).__name__}"
                )
            if scheduler.optimizer is not optimizer:
                raise ValueError(
                    f"SequentialLR: scheduler {i} ({type(scheduler).__name__}) is built on "
                    f"another optimizer"
                )
        self.schedulers, self.milestones = schedulers, _milestones(milestones, len(schedulers))
        # as torch: each scheduler's construction set some lr; the groups go back to their
        # initial_lr (OneCycleLR's, if one was built) and the first scheduler's epoch 0 applies
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        schedulers[0].last_epoch = 0
        self._set_lrs(schedulers[0]._initial_lrs())

    def _current(self, epoch: int) -> tuple[LRScheduler, int]:
        """The scheduler in charge at ``epoch``, and the milestone it started at."""
        index = bisect.bisect_right(self.milestones, epoch)
        return self.schedulers[index], self.milestones[index - 1] if index else 0

    def lr_at(self, epoch: int) -> list[float]:
        """The learning rates after ``epoch`` steps, by the closed form of the scheduler in
        charge then, counted from its milestone."""
        scheduler, start = self._current(epoch)
        return scheduler.lr_at(epoch - start)

    def step(self) -> None:
        """Advance one epoch: step the scheduler in charge, or start the next one at a milestone."""
        self.last_epoch += 1
        scheduler, start = self._current(self.last_epoch)
        if start == self.last_epoch and start > 0:
            scheduler.last_epoch = 0
            scheduler._set_lrs(scheduler._restart_lrs())
        else:
            scheduler.step()

    def state_dict(self) -> dict[str, Any]:
        """The position, initial lrs and every scheduler's state, for a checkpoint."""
        return {**super().state_dict(), "schedulers": [s.state_dict() for s in self.schedulers]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned, the schedulers' states too; all of it is
        checked first, so nothing changes if any is refused."""
        saved = state.get("schedulers") if isinstance(state, dict) else None
        if not isinstance(saved, list) or len(saved) != len(self.schedulers):
            raise ValueError(
                "SequentialLR.load_state_dict: expected the states of "
                f"{len(self.schedulers)} schedulers under 'schedulers'"
            )
        checked = [s._checked_state(s_state) for s, s_state in zip(self.schedulers, saved)]
        own = self._checked_state({k: v for k, v in state.items() if k != "schedulers"})
        for scheduler, attributes in zip(self.schedulers, checked):
            scheduler.__dict__.update(attributes)
        self.__dict__.update(own)


def _milestones(milestones: Sequence[int], count: int) -> list[int]:
    """SequentialLR's milestones as ints, checked: ``count - 1`` of them, increasing, positive
    (numpy integers accepted)."""
    milestones = list(milestones)
    if len(milestones) != count - 1:
        raise ValueError(
            f"SequentialLR: {count} schedulers need {count - 1} milestones, got {len(milestones)}"
        )
    if (
        not all(isinstance(m, (int, np.integer)) and not isinstance(m, bool) for m in milestones)
        or [int(m) for m in milestones] != sorted({int(m) for m in milestones})
        or min(milestones, default=1) < 1
    ):
        raise ValueError(
            f"SequentialLR: milestones must be increasing positive ints, got {milestones!r}"
        )
    return [int(m) for m in milestones]


class ReduceLROnPlateau:
    """Multiply every group's lr by ``factor`` when a metric has not improved for ``patience``
    epochs, as torch's: ``scheduler.step(val_loss)`` after each epoch. "Improved" means below
    best * (1 - threshold) in "min" mode with the "rel" threshold (above best * (1 + threshold)
    in "max" mode; "abs" compares with best -/+ threshold). After a reduction, ``cooldown``
    epochs pass before counting again; a group's lr never goes below ``min_lr`` (one, or a list
    with one per parameter group)."""

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | Sequence[float] = 0.0,
        eps: float = 1e-8,
    ):
        _check_optimizer("ReduceLROnPlateau", optimizer)
        self.optimizer = optimizer
        self.__dict__.update(
            self._checked_settings(
                "ReduceLROnPlateau",
                dict(
                    mode=mode,
                    factor=factor,
                    patience=patience,
                    threshold=threshold,
                    threshold_mode=threshold_mode,
                    cooldown=cooldown,
                    min_lr=min_lr,
                    eps=eps,
                ),
            )
        )
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = self.last_epoch = 0

    def _checked_settings(self, owner: str, settings: dict[str, Any]) -> dict[str, Any]:
        """The constructor's arguments, checked (``owner`` names the caller in errors); min_lr
        stays one number or becomes a list, one per group."""
        if settings["mode"] not in ("min", "max") or settings["threshold_mode"] not in (
            "rel",
            "abs",
        ):
            raise ValueError(
                f"{owner}: mode must be 'min' or 'max' and threshold_mode 'rel' or 'abs', "
                f"got {settings['mode']!r}, {settings['threshold_mode']!r}"
            )
        min_lr = settings["min_lr"]
        min_lrs = [
            check_hyper(owner, "min_lr", lr)
            for lr in _per_group(owner, "min_lr", min_lr, self.optimizer)
        ]
        return {
            **settings,
            "factor": check_hyper(owner, "factor", settings["factor"], 0.0, 1.0),
            "patience": _count(owner, "patience", settings["patience"]),
            "threshold": check_hyper(owner, "threshold", settings["threshold"]),
            "cooldown": _count(owner, "cooldown", settings["cooldown"]),
            "min_lr": min_lrs if isinstance(min_lr, (list, tuple)) else min_lrs[0],
            "eps": check_hyper(owner, "eps", settings["eps"]),
        }

    def _better(self, value: float) -> bool:
        if self.mode == "min":
            bar = (
                self.best * (1 - self.threshold)
                if self.threshold_mode == "rel"
                else self.best - self.threshold
            )
            return value < bar
        bar = (
            self.best * (1 + self.threshold)
            if self.threshold_mode == "rel"
            else self.best + self.threshold
        )
        return value > bar

    def step(self, metric: float) -> None:
        """Record this epoch's metric and lower the lrs if it has stalled."""
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
            self._reduce()
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0

    def _reduce(self) -> None:
        # a list of min_lr must still match the groups (one added since is an error, as torch's)
        min_lrs = _per_group("ReduceLROnPlateau", "min_lr", self.min_lr, self.optimizer)
        for group, min_lr in zip(self.optimizer.param_groups, min_lrs):
            new_lr = max(group["lr"] * self.factor, min_lr)
            if group["lr"] - new_lr > self.eps:
                group["lr"] = new_lr

    def get_last_lr(self) -> list[float]:
        """The current learning rates, one per parameter group."""
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """The settings and the plateau bookkeeping, for a checkpoint, under torch's names
        (min_lr as given: one number, or a list with one per group)."""
        min_lr = list(self.min_lr) if isinstance(self.min_lr, list) else self.min_lr
        return {
            **{key: getattr(self, key) for key in _PLATEAU_SETTINGS},
            "min_lr": min_lr,
            **{key: getattr(self, key) for key in _PLATEAU_COUNTS},
            "best": self.best,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned, settings included, as torch's (or the
        bookkeeping alone, as saved before the settings were); everything is checked first, as
        the constructor checks it, so nothing changes if the state is refused."""
        name = "ReduceLROnPlateau.load_state_dict"
        counters = {"best", *_PLATEAU_COUNTS}
        if not isinstance(state, dict) or set(state) not in (counters, set(self.state_dict())):
            got = (
                ", ".join(sorted(map(str, state)))
                if isinstance(state, dict)
                else type(state).__name__
            )
            raise ValueError(
                f"{name}: expected the keys {', '.join(self.state_dict())} "
                f"(or, as saved before the settings were, {', '.join(sorted(counters))}), "
                f"got {got}"
            )
        settings = {
            key: state.get(key, getattr(self, key)) for key in (*_PLATEAU_SETTINGS, "min_lr")
        }
        checked = self._checked_settings(name, settings)
        counts = {key: _count(name, key, state[key]) for key in _PLATEAU_COUNTS}
        best = state["best"]
        if (
            isinstance(best, bool)
            or not isinstance(best, (int, float, np.integer, np.floating))
            or math.isnan(best)
        ):
            raise ValueError(f"{name}: best must be a number, got {best!r:.80}")
        self.__dict__.update(checked, **counts, best=float(best))


_PLATEAU_SETTINGS = ("mode", "factor", "patience", "threshold", "threshold_mode", "cooldown", "eps")
_PLATEAU_COUNTS = ("num_bad_epochs", "cooldown_counter", "last_epoch")


def _count(owner: str, name: str, value: Any) -> int:
    """``value`` as an int, or a ValueError if it is not a non-negative integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{owner}: {name} must be a non-negative integer, got {value!r:.80}")
    return int(value)
