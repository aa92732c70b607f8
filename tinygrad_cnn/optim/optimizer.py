"""The optimizer base class: parameter groups, per-parameter state, checks, state_dict."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from ..tensor import Tensor

__all__ = ["Optimizer", "ParamsT", "check_hyper", "check_rate", "check_flag", "check_betas"]

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]
"""What an optimizer takes, as torch.optim: tensors, or parameter groups (dicts with a "params"
list and any options of their own)."""


_TORCH_OPTIONS = frozenset(
    {
        "adjust_lr_fn",
        "alpha",
        "amsgrad",
        "beta2_decay",
        "betas",
        "capturable",
        "centered",
        "d",
        "dampening",
        "decoupled_weight_decay",
        "differentiable",
        "eps",
        "etas",
        "foreach",
        "fused",
        "history_size",
        "initial_accumulator_value",
        "lambd",
        "line_search_fn",
        "lr",
        "lr_decay",
        "max_eval",
        "max_iter",
        "maximize",
        "momentum",
        "momentum_decay",
        "nesterov",
        "ns_coefficients",
        "ns_steps",
        "rho",
        "step_sizes",
        "t0",
        "tolerance_change",
        "tolerance_grad",
        "weight_decay",
    }
)
# every option of torch.optim's optimizers (torch 2.x): a group holding one that the optimizer
# does not implement (maximize, dampening, foreach...) is refused, where torch would use it


def check_hyper(
    optimizer: str, name: str, value: float, low: float = 0.0, high: float = math.inf
) -> float:
    """``value`` as a float, or a ValueError naming the optimizer and argument if it is not a
    number in [low, high) (NaN never is)."""
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not low <= value < high
    ):
        raise ValueError(f"{optimizer}: {name} must be a number in [{low}, {high}), got {value!r}")
    return float(value)


def check_rate(optimizer: str, name: str, value: float) -> float:
    """A decay rate: a number in [0, 1)."""
    return check_hyper(optimizer, name, value, 0.0, 1.0)


def check_flag(optimizer: str, name: str, value: bool) -> bool:
    """True or False; anything else (1, "yes") is a TypeError."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{optimizer}: {name} must be True or False, got {value!r}")
    return bool(value)


def check_betas(optimizer: str, name: str, value: tuple[float, float]) -> tuple[float, float]:
    """Two decay rates, as a tuple (a list, as a checkpoint may hold, is accepted)."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(
            f"{optimizer}: {name} must be a pair of numbers in [0.0, 1.0), got {value!r}"
        )
    first, second = (check_rate(optimizer, f"{name}[{i}]", b) for i, b in enumerate(value))
    return first, second


class Optimizer:
    """Holds parameter groups and per-parameter state (momentum buffers, moments), as
    torch.optim.Optimizer.

    ``params`` is an iterable of tensors, or of dicts ``{"params": [...], "lr": ..., ...}``: one
    parameter group each, whose missing options take the constructor's (``defaults``).
    ``param_groups`` is that list of dicts, every option filled in; a scheduler, or you, may
    change a group's options between steps (``optimizer.param_groups[0]["lr"] = 0.01``).
    Subclasses map each option to its check in ``hyper_parameters`` and implement ``_update``,
    which gets the group's options.
    """

    hyper_parameters: dict[str, Callable[[str, str, Any], Any]] = {"lr": check_hyper}
    recorded_keys: tuple[str, ...] = ("initial_lr", "max_lr", "min_lr")
    """Learning rates a group may hold besides its options: what torch's schedulers record there."""

    def __init__(self, params: ParamsT, defaults: dict[str, Any]):
        name = type(self).__name__
        checked = self._checked(defaults, name)
        self.defaults = {key: checked[key] for key in defaults}
        self.param_groups: list[dict[str, Any]] = []
        self.state: list[dict[str, Any]] = []  # one dict per parameter, in ``params`` order
        if isinstance(params, Tensor):
            raise TypeError(
                f"{name}: params must be an iterable of Tensors or of dicts, got a Tensor; "
                f"pass [tensor]"
            )
        groups = list(params)
        if not groups:
            raise ValueError(f"{name}: got an empty parameter list")
        if isinstance(groups[0], dict):
            for group in groups:
                self.add_param_group(group)
        else:  # one group, which errors name by the optimizer alone
            self._add_group({"params": groups}, name)

    def __getattr__(self, name: str) -> Any:
        # only reached when normal lookup fails: point old habits (optimizer.lr) at the groups
        if name in type(self).hyper_parameters:
            raise AttributeError(
                f"{type(self).__name__} has no attribute {name!r}: each parameter group has its "
                f"own, optimizer.param_groups[i][{name!r}]"
            )
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        # optimizer.lr = 0.01 would otherwise be silently ignored by step()
        if name in type(self).hyper_parameters:
            raise AttributeError(
                f"{type(self).__name__}: set {name} per parameter group, "
                f"optimizer.param_groups[i][{name!r}] = {value!r}"
            )
        super().__setattr__(name, value)

    @property
    def params(self) -> list[Tensor]:
        """Every parameter, group by group: the order of ``state`` and of ``state_dict``."""
        return [p for group in self.param_groups for p in group["params"]]

    def _checked(self, options: dict[str, Any], owner: str) -> dict[str, Any]:
        """Every hyper-parameter of ``options``, validated (``owner`` names the optimizer or
        group in errors); the learning rates schedulers record in a group (``recorded_keys``)
        too. A key that is an option of torch.optim or of another optimizer here, or a
        misspelling of one of this optimizer's, is refused: step() would ignore it."""
        for key in options:
            self._check_key(key, owner)
        checked = {
            key: check(owner, key, options[key]) for key, check in self.hyper_parameters.items()
        }
        checked.update(
            {
                key: check_hyper(owner, key, options[key])
                for key in self.recorded_keys
                if key in options
            }
        )
        return checked

    def _check_key(self, key: Any, owner: str) -> None:
        """Refuse a group key this optimizer would silently ignore; any other key ("name") is
        kept in the group as metadata, as PyTorch keeps it."""
        name, own = type(self).__name__, type(self).hyper_parameters
        if key in own or key in self.recorded_keys or key == "params":
            return
        others = sorted(
            {
                cls.__name__
                for cls in _subclasses(Optimizer)
                if cls.__module__.startswith(__package__) and key in cls.hyper_parameters
            }
            - {name}
        )
        if others:
            raise ValueError(
                f"{owner}: {key!r} is an option of {', '.join(others)}, not of {name}, "
                f"whose options are {', '.join(own)}"
            )
        if key in _TORCH_OPTIONS:
            raise ValueError(
                f"{owner}: {key!r} is an option of torch.optim that {name} does not implement"
            )
        close = [option for option in own if isinstance(key, str) and _is_typo(key, option)]
        if close:
            raise ValueError(f"{owner}: unknown option {key!r}; did you mean {close[0]!r}?")

    def _group_params(self, params: Any, where: str) -> list[Tensor]:
        """A group's parameters as a list, each a floating Tensor not already in a group."""
        if isinstance(params, Tensor):
            return self._group_params([params], where)
        if isinstance(params, (set, frozenset)) or not isinstance(params, Iterable):
            raise TypeError(
                f"{where}: params must be an ordered collection of Tensors, "
                f"got {type(params).__name__}"
            )
        params = list(params)
        owners = {id(p): i for i, group in enumerate(self.param_groups) for p in group["params"]}
        seen: set[int] = set()
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{where}: parameter {i} must be a Tensor, got {type(p).__name__}")
            label = f"parameter {i}{f' ({p.name})' if p.name else ''} of shape {p.shape}"
            if (
                p._ctx is not None
            ):  # step() would write to an op's result, not to what it was computed from
                raise ValueError(
                    f"{where}: {label} is the result of an operation; can't optimize a non-leaf "
                    f"Tensor (optimize the tensors it is computed from)"
                )
            if p.dtype.kind != "f":
                raise TypeError(
                    f"{where}: parameter {i} {p.shape} has dtype {p.dtype}; "
                    "only floating tensors can be optimized"
                )
            # a frozen parameter (requires_grad=False) is kept, as in PyTorch: it has no gradient,
            # so step() skips it, and unfreezing it later needs no new optimizer
            if id(p) in owners:
                raise ValueError(
                    f"{where}: {label} is already in parameter group {owners[id(p)]}; "
                    f"a parameter may be in one group only"
                )
            if id(p) in seen:
                raise ValueError(f"{where}: {label} is listed twice")
            seen.add(id(p))
        return params

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with options of its own (those missing take ``defaults``),
        checked as the constructor checks them; e.g. layers unfrozen during fine-tuning.
        Other keys are kept in the group, as PyTorch, except an option step() would ignore
        (torch's ``maximize``, another optimizer's, a misspelt one), which is refused."""
        name = type(self).__name__
        if not isinstance(param_group, dict) or "params" not in param_group:
            raise TypeError(
                f"{name}.add_param_group: expected a dict with a 'params' entry, "
                f"got {param_group!r:.80}"
            )
        self._add_group(param_group, f"{name} parameter group {len(self.param_groups)}")

    def _add_group(self, param_group: dict[str, Any], where: str) -> None:
        """Check and append a group; ``where`` names it in errors."""
        params = self._group_params(param_group["params"], where)
        options = {**self.defaults, **param_group}
        self.param_groups.append({**options, **self._checked(options, where), "params": params})
        self.state.extend({} for _ in params)

    def _members(self) -> Iterator[tuple[Tensor, dict[str, Any], dict[str, Any]]]:
        """(parameter, its state, its group's options) for every parameter, in state order."""
        states = iter(self.state)
        for group in self.param_groups:
            for p in group["params"]:
                yield p, next(states), group

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's accumulated gradient: None (the default, as PyTorch), or
        zeros in place with ``set_to_none=False``."""
        for p in self.params:
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad.data = np.zeros_like(p.grad.data)

    def step(self) -> None:
        """Update every parameter that has a gradient, with its group's options.

        Each parameter gets a new array rather than an in-place write, so a graph that still
        holds the old values for its backward is left intact.
        """
        for p, state, group in self._members():
            if p.grad is not None:
                p.data = self._update(p.data, p.grad.data, state, group)

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> np.ndarray:
        """The parameter's new value, given its gradient, its state and its group's options."""
        raise NotImplementedError

    def _l2(self, param: np.ndarray, grad: np.ndarray, weight_decay: float) -> np.ndarray:
        """grad + weight_decay * param (L2 regularisation folded into the gradient)."""
        return grad + weight_decay * param if weight_decay else grad

    def _indices(self) -> list[list[int]]:
        """Each group's parameters as their indices in ``params``,
        as PyTorch's state_dict lists them."""
        indices, start = [], 0
        for group in self.param_groups:
            indices.append(list(range(start, start + len(group["params"]))))
            start += len(group["params"])
        return indices

    def state_dict(self) -> dict[str, Any]:
        """The groups' options and the per-parameter state (copies), for :func:`tinygrad_cnn.save`.
        As PyTorch's, a group lists its parameters by their index in ``params``."""
        groups = [
            {**group, "params": indices}
            for group, indices in zip(self.param_groups, self._indices())
        ]
        return {
            "type": type(self).__name__,
            "param_groups": groups,
            "state": [
                {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in s.items()}
                for s in self.state
            ],
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (or what it returned before parameter
        groups existed). Every group's options get the constructor's checks, and everything is
        checked before anything is applied, so a mismatch leaves the optimizer unchanged."""
        name = f"{type(self).__name__}.load_state_dict"
        state_dict = _upgraded(state_dict)
        if not isinstance(state_dict, dict) or set(state_dict) != {"type", "param_groups", "state"}:
            raise ValueError(f"{name}: expected a dict with keys type, param_groups, state")
        if state_dict["type"] != type(self).__name__:
            raise ValueError(f"{name}: the state is from a {state_dict['type']} optimizer")
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved_groups, list) or not all(
            isinstance(g, dict) and "params" in g for g in saved_groups
        ):
            raise ValueError(f"{name}: param_groups must be a list of dicts with a 'params' entry")
        if [g["params"] for g in saved_groups] != self._indices():
            raise ValueError(
                f"{name}: parameter groups of sizes {[_size(g['params']) for g in saved_groups]}, "
                f"this optimizer has {[len(g['params']) for g in self.param_groups]}"
            )
        if not isinstance(saved_state, list) or len(saved_state) != len(self.state):
            raise ValueError(
                f"{name}: state for {_size(saved_state)} parameters, "
                f"this optimizer has {len(self.state)}"
            )
        self._check_state(saved_state, name)
        groups = [
            self._loaded_group(current, saved, i, name)
            for i, (current, saved) in enumerate(zip(self.param_groups, saved_groups))
        ]
        self.param_groups = groups
        self.state = [
            {
                k: np.array(v, dtype=p.dtype) if isinstance(v, np.ndarray) else v
                for k, v in s.items()
            }
            for p, s in zip(self.params, saved_state)
        ]

    def _loaded_group(
        self, current: dict[str, Any], saved: dict[str, Any], index: int, name: str
    ) -> dict[str, Any]:
        """The group ``current`` with the options ``saved`` gives it, checked as the constructor
        checks them, so a state cannot set what the constructor refuses (lr=-5)."""
        missing = [key for key in self.hyper_parameters if key not in saved]
        if missing:
            raise ValueError(f"{name}: parameter group {index} has no {', '.join(missing)}")
        # a key the saved group lacks keeps its current value: AdaBound's base_lr, in a checkpoint
        # written before it existed, stays the one this optimizer was built with
        options = {**current, **saved, "params": current["params"]}
        try:
            checked = self._checked(options, f"{type(self).__name__} parameter group {index}")
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name}: {err}") from None
        return {**options, **checked}

    def _check_state(self, saved_state: list[Any], name: str) -> None:
        """Each parameter's saved state is a dict whose arrays have the parameter's shape."""
        for i, (p, s) in enumerate(zip(self.params, saved_state)):
            if not isinstance(s, dict):
                raise ValueError(
                    f"{name}: parameter {i} state is a {type(s).__name__}, expected a dict"
                )
            for key, value in s.items():
                if isinstance(value, np.ndarray) and value.shape != p.shape:
                    raise ValueError(
                        f"{name}: parameter {i} state {key!r} has shape "
                        f"{value.shape}, the parameter has {p.shape}"
                    )


def _size(items: Any) -> Any:
    """How many entries a saved list has ("?" when it is not a list)."""
    return len(items) if isinstance(items, list) else "?"


def _upgraded(state: Any) -> Any:
    """A state in the format before parameter groups (one "hyper" dict) as one group, so
    checkpoints written then still load."""
    if (
        isinstance(state, dict)
        and set(state) == {"type", "hyper", "state"}
        and isinstance(state["hyper"], dict)
    ):
        count = len(state["state"]) if isinstance(state["state"], list) else 0
        return {
            "type": state["type"],
            "state": state["state"],
            "param_groups": [{**state["hyper"], "params": list(range(count))}],
        }
    return state


def _subclasses(cls: type) -> Iterator[type]:
    """Every subclass of ``cls``, at any depth."""
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _is_typo(key: str, option: str) -> bool:
    """Whether ``key`` looks like a misspelling of ``option``: at most two edits apart (one for a
    name of up to four letters, "lr", "eps", where two would catch unrelated names), case aside."""
    return _edits(key.lower(), option) <= (1 if len(option) <= 4 else 2)


def _edits(a: str, b: str) -> int:
    """The edit distance from ``a`` to ``b``: insertions, deletions, substitutions and swaps of
    two neighbours (optimal string alignment)."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i]
        for j in range(1, len(b) + 1):
            row.append(
                min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (a[i - 1] != b[j - 1]))
            )
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]
