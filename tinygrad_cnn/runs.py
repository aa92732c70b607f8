"""The checkpoint of a command-line training run: everything needed to evaluate it, and to
continue it bit-exactly after an interruption.

A run checkpoint holds the model's weights and config, the optimizer's and the schedule's
state, the random generator's state (so shuffling continues where it stopped), the history of
finished epochs and the run's options. Reading one checks all of it before anything is built:
a config must account for exactly the arrays stored beside it, so a small file cannot make the
reader allocate a large model.
"""

from __future__ import annotations

import math
from typing import Any

from .models import ResNet, lenet, lenet_parameter_count
from .nn import Module
from .npz import CheckpointError
from .optim import OPTIMIZERS, LRScheduler, Optimizer
from .random import get_state
from .train import EpochResult

__all__ = ["OPTIONS", "MODELS", "run_checkpoint", "build_model", "check_model", "check_resumable"]

OPTIONS = ("data", "epochs", "batch_size", "optimizer", "lr", "width", "seed", "model", "augment")
"""The options of ``train`` that a resumed run keeps."""
ADDED_OPTIONS = {"model": "lenet", "augment": False}
"""Options added after checkpoints were first written, with what those older runs did."""

MODELS = ("lenet", "resnet")
RESNET_DEPTH = 8  # ResNet-8: the zoo's smallest, quick enough for a CPU
_MAX_CLASSES = 1 << 16  # a hostile config must not make the reader build a huge final layer

CONFIG = ("in_channels", "image_size", "classes", "width")
RESNET_CONFIG = ("model", "depth", "in_channels", "image_size", "classes")


def build_model(config: dict[str, Any]) -> Module:
    """The model a run config describes: LeNet (``config`` has ``width``) or a ResNet
    (``model`` "resnet" and ``depth``)."""
    if config.get("model") == "resnet":
        return ResNet(config["depth"], config["classes"], config["in_channels"])
    return lenet(**config)


def run_checkpoint(
    model: Module,
    optimizer: Optimizer,
    scheduler: LRScheduler,
    history: list[EpochResult],
    options: dict[str, Any],
    config: dict[str, int],
) -> dict[str, Any]:
    """What ``train`` saves after each epoch."""
    return {
        "model": model.state_dict(),
        "config": config,
        "data": options["data"],
        "history": [r._asdict() for r in history],
        "options": options,
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "rng": get_state(),
    }


def check_model(checkpoint: Any, path: str) -> None:
    """A checkpoint with a model and a LeNet or ResNet config that describes exactly its arrays."""
    if not isinstance(checkpoint, dict) or not {"model", "config"} <= set(checkpoint):
        raise CheckpointError(
            f"{path} is not a checkpoint written by 'train' (no model and config)"
        )
    config, state = checkpoint["config"], checkpoint["model"]
    if not (isinstance(state, dict) and all(hasattr(a, "size") for a in state.values())):
        raise CheckpointError(f"{path}: its model is not a dict of arrays")
    implied, stored = _implied_size(config, path), sum(int(a.size) for a in state.values())
    if implied != stored:
        raise CheckpointError(
            f"{path}: its config {config} implies {implied:,} parameters, but it holds {stored:,}"
        )


def _implied_size(config: Any, path: str) -> int:
    """How many numbers the state_dict of ``config``'s model holds,
    checked before anything large is built."""
    if isinstance(config, dict) and config.get("model") == "resnet":
        numbers = [k for k in RESNET_CONFIG if k != "model"]
        if not (
            set(config) == set(RESNET_CONFIG)
            and all(type(config[k]) is int and config[k] > 0 for k in numbers)
            and config["depth"] <= 110
            and config["classes"] <= _MAX_CLASSES
            and config["in_channels"] <= 4096
        ):
            raise CheckpointError(
                f"{path}: its ResNet config is not {', '.join(RESNET_CONFIG)} within bounds: "
                f"{config!r:.200}"
            )
        return sum(int(a.size) for a in build_model(config).state_dict().values())
    if not (
        isinstance(config, dict)
        and set(config) == set(CONFIG)
        and all(type(config[k]) is int and config[k] > 0 for k in CONFIG)
    ):
        raise CheckpointError(
            f"{path}: its config is not four positive integers {', '.join(CONFIG)}: {config!r:.200}"
        )
    return lenet_parameter_count(**config)


def check_resumable(checkpoint: Any, path: str) -> None:
    """A run checkpoint with valid options and every state a resumed run restores."""
    check_model(checkpoint, path)
    missing = [
        k for k in ("options", "optimizer", "scheduler", "rng", "history") if k not in checkpoint
    ]
    if missing:
        raise CheckpointError(
            f"{path} cannot be resumed: it has no {', '.join(missing)} "
            f"(written before --resume existed?)"
        )
    options = checkpoint["options"]
    if isinstance(options, dict) and set(OPTIONS) - set(options) <= set(ADDED_OPTIONS):
        options = {**ADDED_OPTIONS, **options}  # an older run: it trained as these defaults do
    if not (isinstance(options, dict) and set(options) == set(OPTIONS) and _valid_options(options)):
        raise CheckpointError(f"{path}: its training options are invalid: {options!r:.200}")
    history = checkpoint["history"]
    if not (
        isinstance(history, list)
        and all(
            isinstance(r, dict)
            and set(r) == set(EpochResult._fields)
            and all(type(v) in (int, float) for v in r.values())
            for r in history
        )
    ):
        raise CheckpointError(f"{path}: its history is not a list of epoch results (numbers)")


def _valid_options(options: dict[str, Any]) -> bool:
    counts = [options[k] for k in ("epochs", "batch_size", "width")]
    lr = options["lr"]
    return (
        isinstance(options["data"], str)
        and options["optimizer"] in OPTIMIZERS
        and options["model"] in MODELS
        and type(options["augment"]) is bool
        and all(type(n) is int and n > 0 for n in counts)
        and type(options["seed"]) is int
        and options["seed"] >= 0
        and type(lr) in (int, float)
        and math.isfinite(lr)
        and lr > 0
    )
