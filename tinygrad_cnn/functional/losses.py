"""Loss functions, with ``torch.nn.functional``'s names, arguments and ``reduction``
("mean", the default, "sum" or "none"; kl_div also "batchmean"). All are compositions of
registered ops."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from ..tensor_functions import where
from .activations import abs, clamp, log_softmax, softplus
from .common import as_tensor, reduce_loss

__all__ = [
    "cross_entropy",
    "nll_loss",
    "mse_loss",
    "l1_loss",
    "huber_loss",
    "smooth_l1_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "kl_div",
]


def _pair(op: str, prediction: Any, target: Any) -> tuple[Tensor, Tensor]:
    """Both arguments as tensors of one non-empty shape; a plain target takes the input's dtype."""
    prediction = as_tensor(op, "input", prediction)
    target = as_tensor(op, "target", target, dtype=prediction.dtype)
    if prediction.shape != target.shape:
        raise ValueError(
            f"{op}: input shape {prediction.shape} differs from target shape {target.shape}"
        )
    if prediction.size == 0:
        raise ValueError(f"{op}: empty input of shape {prediction.shape}")
    return prediction, target


def _class_targets(op: str, scores: Tensor, targets: Any, ignore_index: int) -> np.ndarray:
    """Integer targets checked against (B, K) scores; ``ignore_index`` entries are allowed."""
    targets = np.asarray(targets.data if isinstance(targets, Tensor) else targets)
    if scores.ndim != 2 or scores.shape[0] == 0:
        raise ValueError(f"{op}: input must have shape (B, K) with B > 0, got {scores.shape}")
    if targets.dtype.kind not in "iu":
        raise TypeError(f"{op}: targets must be integer class indices, got dtype {targets.dtype}")
    if targets.shape != (scores.shape[0],):
        raise ValueError(
            f"{op}: targets must have shape ({scores.shape[0]},) to match input {scores.shape}, "
            f"got {targets.shape}"
        )
    used = targets[targets != ignore_index]
    if used.size and (used.min() < 0 or used.max() >= scores.shape[1]):
        raise ValueError(
            f"{op}: targets must lie in [0, {scores.shape[1]}) for input {scores.shape}, "
            f"got values from {used.min()} to {used.max()}"
        )
    return targets


def _weight(
    op: str, name: str, weight: Any, like: Tensor, shape: tuple[int, ...] | None = None
) -> Tensor:
    """``weight`` as a tensor in ``like``'s dtype, of ``shape`` if given, else of a shape that
    broadcasts to ``like``'s."""
    weight = as_tensor(op, name, weight, dtype=like.dtype)
    if shape is not None and weight.shape != shape:
        raise ValueError(
            f"{op}: {name} must have shape {shape} for input {like.shape}, got {weight.shape}"
        )
    if shape is None and (
        weight.ndim > like.ndim
        or any(w not in (1, n) for w, n in zip(weight.shape[::-1], like.shape[::-1]))
    ):
        raise ValueError(
            f"{op}: {name} of shape {weight.shape} must broadcast to the input's shape {like.shape}"
        )
    return weight if weight.dtype == like.dtype else weight.astype(like.dtype)


def _check_options(op: str, reduction: str, label_smoothing: float) -> None:
    """The reduction is one PyTorch has, and label_smoothing a number in [0, 1]."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if (
        isinstance(label_smoothing, bool)
        or not isinstance(label_smoothing, (int, float, np.number))
        or not 0.0 <= label_smoothing <= 1.0
    ):
        raise ValueError(
            f"{op}: label_smoothing must be a number in [0, 1], got {label_smoothing!r}"
        )


def nll_loss(
    log_probs: Tensor,
    targets: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Negative log-likelihood of integer targets given log-probabilities (B, K).

    ``weight`` (K,) scales each sample's loss by its target's weight, and "mean" divides by
    the sum of those weights, as PyTorch. ``label_smoothing`` eps mixes in the uniform
    distribution: loss = (1 - eps) * w_t * nll + eps * mean_k(-w_k * log p_k). Targets equal
    to ``ignore_index`` contribute nothing, to the sum or to the mean's divisor (so when every
    target is ignored the mean is 0/0 = nan, the sum 0, as PyTorch).
    """
    log_probs = as_tensor("nll_loss", "input", log_probs)
    targets = _class_targets("nll_loss", log_probs, targets, ignore_index)
    _check_options("nll_loss", reduction, label_smoothing)
    used = targets != ignore_index
    classes = np.where(used, targets, 0)
    losses = -log_probs[np.arange(len(targets)), classes]
    # shares: each sample's part of the mean's divisor
    spread, shares = (
        log_probs,
        used.astype(log_probs.dtype),
    )
    if weight is not None:
        weight = _weight("nll_loss", "weight", weight, log_probs, (log_probs.shape[1],))
        picked_weight = weight[classes]
        losses, spread, shares = losses * picked_weight, log_probs * weight, picked_weight * shares
    if label_smoothing:
        losses = losses * (1.0 - label_smoothing) - spread.mean(axis=1) * label_smoothing
    if not used.all():
        losses = losses * used.astype(log_probs.dtype)
    if reduction == "mean" and (weight is not None or not used.all()):
        return losses.sum() / shares.sum()
    return reduce_loss("nll_loss", losses, reduction)


def cross_entropy(
    logits: Tensor,
    targets: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy of integer class targets: logits (B, K), targets (B,) in [0, K).

    nll_loss(log_softmax(logits)); see :func:`nll_loss` for the options."""
    logits = as_tensor("cross_entropy", "logits", logits)
    _class_targets("cross_entropy", logits, targets, ignore_index)
    _check_options("cross_entropy", reduction, label_smoothing)
    if weight is not None:
        weight = _weight("cross_entropy", "weight", weight, logits, (logits.shape[1],))
    return nll_loss(
        log_softmax(logits, axis=1), targets, weight, ignore_index, reduction, label_smoothing
    )


def mse_loss(prediction: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Squared differences; both arguments must have the same shape."""
    prediction, target = _pair("mse_loss", prediction, target)
    return reduce_loss("mse_loss", (prediction - target) ** 2, reduction)


def l1_loss(prediction: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Absolute differences."""
    prediction, target = _pair("l1_loss", prediction, target)
    return reduce_loss("l1_loss", abs(prediction - target), reduction)


def _huber(difference: Tensor, delta: float) -> Tensor:
    """0.5 d^2 for |d| < delta, else delta * (|d| - delta / 2), written as
    0.5 * min(|d|, delta)^2 + delta * relu(|d| - delta) with min(a, delta) = a - relu(a - delta)."""
    size = abs(difference)
    excess = (size - delta).relu()
    return (size - excess) ** 2 * 0.5 + excess * delta


def huber_loss(
    prediction: Tensor, target: Any, reduction: str = "mean", delta: float = 1.0
) -> Tensor:
    """Quadratic for small errors, linear (slope delta) beyond |error| = delta."""
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    prediction, target = _pair("huber_loss", prediction, target)
    return reduce_loss("huber_loss", _huber(prediction - target, delta), reduction)


def smooth_l1_loss(
    prediction: Tensor, target: Any, reduction: str = "mean", beta: float = 1.0
) -> Tensor:
    """huber_loss(delta=beta) / beta: 0.5 d^2 / beta below beta, |d| - beta / 2 above;
    l1 for beta 0."""
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    prediction, target = _pair("smooth_l1_loss", prediction, target)
    difference = prediction - target
    losses = abs(difference) if beta == 0 else _huber(difference, beta) / beta
    return reduce_loss("smooth_l1_loss", losses, reduction)


def binary_cross_entropy(
    probabilities: Tensor, target: Any, weight: Any = None, reduction: str = "mean"
) -> Tensor:
    """-(y log p + (1 - y) log(1 - p)) for probabilities p in [0, 1]; each log is clamped at
    -100, as PyTorch does, so p = 0 or 1 gives a finite loss. ``weight`` (broadcast to the
    input's shape) scales each element's loss."""
    probabilities, target = _pair("binary_cross_entropy", probabilities, target)
    p = probabilities.data
    if p.min() < 0 or p.max() > 1:
        raise ValueError(
            f"binary_cross_entropy: input must lie in [0, 1], "
            f"got values from {p.min()} to {p.max()}"
            " (for raw scores use binary_cross_entropy_with_logits)"
        )
    with np.errstate(divide="ignore"):
        log_p, log_not_p = (
            clamp(probabilities.log(), min=-100.0),
            clamp((1.0 - probabilities).log(), min=-100.0),
        )
    losses = -(target * log_p + (1.0 - target) * log_not_p)
    if weight is not None:
        losses = losses * _weight("binary_cross_entropy", "weight", weight, probabilities)
    return reduce_loss("binary_cross_entropy", losses, reduction)


def binary_cross_entropy_with_logits(
    logits: Tensor, target: Any, weight: Any = None, reduction: str = "mean", pos_weight: Any = None
) -> Tensor:
    """binary_cross_entropy(sigmoid(x), y) computed stably as softplus(x) - x * y.

    ``pos_weight`` p (broadcast to the input's shape, e.g. one per class) weighs the positive
    term: -(p y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))) = (1 + (p - 1) y) softplus(x)
    - p y x. ``weight`` (broadcast likewise) scales each element's loss."""
    op = "binary_cross_entropy_with_logits"
    logits, target = _pair(op, logits, target)
    if pos_weight is None:
        losses = softplus(logits) - logits * target
    else:
        positive = target * _weight(op, "pos_weight", pos_weight, logits)
        losses = softplus(logits) * (positive - target + 1.0) - logits * positive
    if weight is not None:
        losses = losses * _weight(op, "weight", weight, logits)
    return reduce_loss(op, losses, reduction)


def kl_div(
    log_probs: Tensor, target: Any, reduction: str = "mean", log_target: bool = False
) -> Tensor:
    """Kullback-Leibler divergence of the input log-probabilities from the target
    probabilities, pointwise target * (log target - log_probs), 0 where the target is 0;
    with ``log_target`` the target is log-probabilities too: exp(target) * (target - log_probs).

    ``reduction`` as PyTorch's: "batchmean" divides the sum by the batch size (axis 0), the
    true KL divergence per sample; "mean" (the default) divides by the element count.
    """
    log_probs, target = _pair("kl_div", log_probs, target)
    if reduction not in ("mean", "batchmean", "sum", "none"):
        raise ValueError(
            f"kl_div: reduction must be 'mean', 'batchmean', 'sum' or 'none', got {reduction!r}"
        )
    if log_target:
        losses = target.exp() * (target - log_probs)
    else:
        if target.data.min() < 0:
            raise ValueError(
                f"kl_div: target must be probabilities, got values down to {target.data.min()} "
                "(for log-probabilities pass log_target=True)"
            )
        # log(1) = 0 where the target is 0, so 0 * log 0 counts as 0
        # (and no nan reaches the gradient)
        losses = target * (where(target.data > 0, target, 1.0).log() - log_probs)
    if reduction == "batchmean":
        return losses.sum() / float(losses.shape[0]) if losses.ndim else losses.sum()
    return reduce_loss("kl_div", losses, reduction)
