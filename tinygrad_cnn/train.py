"""A small training loop with progress reporting, and evaluation."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from . import functional as F
from .data import DataLoader
from .function import no_grad
from .memory import keep_freed_memory
from .metrics import accuracy
from .nn import Module
from .optim import Optimizer
from .tensor import Tensor

__all__ = ["EpochResult", "predict_logits", "evaluate", "fit"]


class TrainingDiverged(ArithmeticError):
    """The loss became NaN or infinite; raised before the step that would spread it."""


class EpochResult(NamedTuple):
    """One epoch: mean training loss and accuracy, test loss and accuracy after it, duration."""

    epoch: int
    train_loss: float
    train_accuracy: float
    test_loss: float
    test_accuracy: float
    seconds: float


def predict_logits(model: Module, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """The model's outputs (N, K) for ``images``, in eval mode and without recording a graph."""
    was_training = model.training
    model.eval()
    with no_grad():
        outputs = [
            model(Tensor(images[i : i + batch_size])).data
            for i in range(0, len(images), batch_size)
        ]
    model.train(was_training)
    return np.concatenate(outputs)


def evaluate(model: Module, images: np.ndarray, labels: np.ndarray, batch_size: int = 512) -> float:
    """Classification accuracy of ``model`` on (images, labels)."""
    return accuracy(predict_logits(model, images, batch_size).argmax(axis=1), labels)


def _progress(total: int, description: str, quiet: bool):
    """A tqdm bar when tqdm is installed and output is wanted, else None."""
    if quiet:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    # disable=None: no bar when stdout is not a terminal (CI logs, pipes), only the epoch lines
    return tqdm(
        total=total, desc=description, unit="img", leave=False, file=sys.stdout, disable=None
    )


def fit(
    model: Module,
    optimizer: Optimizer,
    train: tuple[np.ndarray, np.ndarray] | Any,
    test: tuple[np.ndarray, np.ndarray],
    epochs: int,
    batch_size: int = 32,
    on_epoch_end: Callable[[], None] | None = None,
    quiet: bool = False,
    first_epoch: int = 1,
    after_epoch: Callable[[EpochResult], None] | None = None,
    distributed: bool = False,
) -> list[EpochResult]:
    """Train with cross-entropy, printing a line per epoch (and a tqdm bar while it runs).

    ``train``: (images (N, C, H, W), labels (N,)) arrays, or a dataset (``dataset[i] ->
    (image, label)``, e.g. one with a random transform); ``test``: arrays.

    Runs epochs ``first_epoch`` to ``epochs`` (a later first epoch continues a resumed run).
    ``on_epoch_end()`` runs after each epoch's training (e.g. a scheduler's ``step``);
    ``after_epoch(result)`` after its evaluation (e.g. saving a checkpoint). A loss that is
    NaN or infinite raises :class:`TrainingDiverged` before its step, and before
    ``after_epoch`` sees an epoch that ended with one.

    ``distributed=True``: one rank of an MPI job (after ``tinygrad_cnn.distributed.init()``),
    ``model`` a :class:`~tinygrad_cnn.distributed.DistributedDataParallel`. Each rank
    trains on its share of every epoch, ``batch_size`` (the batch of all ranks together)
    split evenly between them, and evaluates every R-th test image (R ranks); the metrics are
    summed over the ranks, so every rank returns the same history.
    """
    rank, ranks = _world(distributed, model)
    if batch_size % ranks:
        raise ValueError(
            f"fit: batch_size {batch_size} must be a multiple of the {ranks} ranks, "
            f"each taking an equal share of every batch"
        )
    keep_freed_memory()  # each step frees and reallocates the same large arrays
    history = []
    for epoch in range(first_epoch, epochs + 1):
        start = time.perf_counter()
        bar = _progress(
            len(train[1]) if isinstance(train, tuple) else len(train),
            f"epoch {epoch}/{epochs}",
            quiet,
        )
        try:
            seen, loss_sum, correct = _train_epoch(
                model, optimizer, train, batch_size // ranks, epoch, bar, distributed
            )
        finally:
            if bar is not None:
                bar.close()
        if on_epoch_end is not None:
            on_epoch_end()
        seconds = time.perf_counter() - start
        if distributed:
            seen, loss_sum, correct = _sum_over_ranks(seen, loss_sum, correct)
        test_loss, test_accuracy = _test_metrics(model, test, rank, ranks)
        if not np.isfinite(test_loss):
            raise TrainingDiverged(
                f"the test loss is {test_loss} after epoch {epoch}; training diverged "
                f"(try a smaller learning rate)"
            )
        result = EpochResult(
            epoch,
            loss_sum / seen,
            correct / seen,
            test_loss,
            test_accuracy,
            seconds,
        )
        history.append(result)
        if after_epoch is not None:
            after_epoch(result)
        if not quiet:
            print(
                f"epoch {epoch:3d}/{epochs}  loss {result.train_loss:.4f}  "
                f"train acc {result.train_accuracy:.3f}  test loss {test_loss:.4f}  "
                f"test acc {result.test_accuracy:.3f}  ({seen / seconds:,.0f} img/s)",
                flush=True,
            )
    return history


def _world(distributed: bool, model: Module | None = None) -> tuple[int, int]:
    """(this rank, ranks) of a distributed run; (0, 1) otherwise. A ``model`` given is
    checked to average its gradients."""
    if not distributed:
        return 0, 1
    from .distributed import DistributedDataParallel, rank, world_size

    if model is not None and not isinstance(model, DistributedDataParallel):
        raise TypeError(
            f"fit: distributed=True needs the model wrapped in DistributedDataParallel, got "
            f"{type(model).__name__}: otherwise each rank would step on its own gradients"
        )
    return rank(), world_size()


def _sum_over_ranks(*counts: float) -> tuple[float, ...]:
    """Each count summed over the ranks (one message)."""
    from .distributed import all_reduce

    return tuple(all_reduce(np.array(counts, dtype=np.float64), "sum").tolist())


def _test_metrics(
    model: Module, test: tuple[np.ndarray, np.ndarray], rank: int, ranks: int
) -> tuple[float, float]:
    """Test loss and accuracy. With several ranks each evaluates every ``ranks``-th image,
    with rank 0's BatchNorm statistics, and the sums are combined."""
    if ranks > 1:
        from .distributed import broadcast_parameters

        broadcast_parameters(model)  # each rank's last batch moved its own running statistics
    images, labels = test[0][rank::ranks], test[1][rank::ranks]
    logits = predict_logits(model, images)
    with no_grad():
        loss = F.cross_entropy(Tensor(logits), labels).item()
    right = accuracy(logits.argmax(axis=1), labels)
    if ranks == 1:
        return loss, right
    loss_sum, correct, count = _sum_over_ranks(loss * len(labels), right * len(labels), len(labels))
    return loss_sum / count, correct / count


def _train_epoch(
    model: Module,
    optimizer: Optimizer,
    train: tuple[np.ndarray, np.ndarray] | Any,
    batch_size: int,
    epoch: int,
    bar,
    distributed: bool = False,
) -> tuple[int, float, int]:
    """One pass over the shuffled training data (this rank's share of it, when distributed);
    returns (images seen, summed loss, correct)."""
    seen, loss_sum, correct = 0, 0.0, 0
    model.train()
    arrays = train if isinstance(train, tuple) else (train,)
    loader = DataLoader(*arrays, batch_size=batch_size, distributed=distributed)
    ranks = _world(distributed)[1]  # the bar counts the images of all ranks
    for batch, (xb, yb) in enumerate(loader, start=1):
        # a dataset's loader gives Tensors
        xb, yb = (
            Tensor(xb) if isinstance(xb, np.ndarray) else xb,
            np.asarray(yb),
        )
        logits = model(xb)
        loss = F.cross_entropy(logits, yb)
        # summed over the ranks, not finite if any rank's is not: all stop at this batch,
        # not one alone while the others wait in the all-reduce for its gradients
        checked = _sum_over_ranks(loss.item())[0] if distributed else loss.item()
        if not np.isfinite(checked):  # stop before the step writes NaN into every weight
            raise TrainingDiverged(
                f"the loss is {checked} at epoch {epoch}, batch {batch}; "
                f"training diverged (try a smaller learning rate)"
            )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        seen += len(yb)
        loss_sum += loss.item() * len(yb)
        correct += int((logits.data.argmax(axis=1) == yb).sum())
        if bar is not None:
            bar.update(len(yb) * ranks)
            bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.3f}")
    return seen, loss_sum, correct
