"""Loss modules: PyTorch's names and options around the loss functions of
:mod:`tinygrad_cnn.functional`. They have no parameters; class and positive weights are
buffers, so ``state_dict`` keys match PyTorch's.

PyTorch's deprecated ``size_average`` and ``reduce`` are left out, so the options after
``weight`` are keyword-only: a call that passes them by position, written for PyTorch's
order, fails instead of setting the wrong option. (HuberLoss never had them: its
``reduction, delta`` keep their places.)
"""

from __future__ import annotations

from typing import Any

from .. import functional as F
from ..tensor import Tensor
from .module import Buffer, Module

__all__ = [
    "L1Loss",
    "MSELoss",
    "SmoothL1Loss",
    "HuberLoss",
    "NLLLoss",
    "CrossEntropyLoss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "KLDivLoss",
]


def _buffer(value: Any) -> Buffer | None:
    """An optional weight as a Buffer, kept in ``state_dict`` as PyTorch keeps it; a Tensor
    keeps its dtype."""
    if value is None:
        return None
    return Buffer(value, dtype=value.dtype if isinstance(value, Tensor) else None)


class _Loss(Module):
    """A loss: ``loss(input, target)`` reduced by ``reduction`` ("mean", "sum" or "none")."""

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        self.reduction = reduction


class _ElementLoss(_Loss):
    """A loss of input and target of one shape with no option but the reduction: ``function``
    -> a scalar, or that shape with reduction="none"."""

    function: Any = None

    def __init__(self, *, reduction: str = "mean"):
        super().__init__(reduction)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """(*), (*) -> () or (*)."""
        return type(self).function(input, target, self.reduction)


class L1Loss(_ElementLoss):
    """Mean absolute error (:func:`~tinygrad_cnn.functional.l1_loss`)."""

    function = staticmethod(F.l1_loss)


class MSELoss(_ElementLoss):
    """Mean squared error (:func:`~tinygrad_cnn.functional.mse_loss`)."""

    function = staticmethod(F.mse_loss)


class SmoothL1Loss(_Loss):
    """Quadratic below ``beta``, absolute above
    (:func:`~tinygrad_cnn.functional.smooth_l1_loss`)."""

    def __init__(self, *, reduction: str = "mean", beta: float = 1.0):
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """(*), (*) -> () or (*)."""
        return F.smooth_l1_loss(input, target, self.reduction, self.beta)


class HuberLoss(_Loss):
    """Quadratic below ``delta``, linear (slope delta) above
    (:func:`~tinygrad_cnn.functional.huber_loss`)."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """(*), (*) -> () or (*)."""
        return F.huber_loss(input, target, self.reduction, self.delta)


class NLLLoss(_Loss):
    """Negative log-likelihood of class targets given log-probabilities
    (:func:`~tinygrad_cnn.functional.nll_loss`); ``weight`` (K,) is a buffer."""

    def __init__(self, weight: Any = None, *, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(reduction)
        self.weight = _buffer(weight)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """(B, K) log-probabilities, (B,) class indices -> () or (B,)."""
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of class targets (:func:`~tinygrad_cnn.functional.cross_entropy`);
    ``weight`` (K,) is a buffer."""

    def __init__(
        self,
        weight: Any = None,
        *,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ):
        super().__init__(reduction)
        self.weight = _buffer(weight)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """(B, K) logits, (B,) class indices -> () or (B,)."""
        return F.cross_entropy(
            input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing
        )


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities
    (:func:`~tinygrad_cnn.functional.binary_cross_entropy`); ``weight`` (broadcast to the input)
    is a buffer."""

    def __init__(self, weight: Any = None, *, reduction: str = "mean"):
        super().__init__(reduction)
        self.weight = _buffer(weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """(*) probabilities, (*) targets in [0, 1] -> () or (*)."""
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits, computed stably
    (:func:`~tinygrad_cnn.functional.binary_cross_entropy_with_logits`); ``weight`` and
    ``pos_weight`` (each broadcast to the input) are buffers."""

    def __init__(self, weight: Any = None, *, reduction: str = "mean", pos_weight: Any = None):
        super().__init__(reduction)
        self.weight = _buffer(weight)
        self.pos_weight = _buffer(pos_weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """(*) logits, (*) targets in [0, 1] -> () or (*)."""
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, self.reduction, self.pos_weight
        )


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence of input log-probabilities from the target
    (:func:`~tinygrad_cnn.functional.kl_div`); ``reduction="batchmean"`` gives the true
    divergence per sample."""

    def __init__(self, *, reduction: str = "mean", log_target: bool = False):
        super().__init__(reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Any) -> Tensor:
        """(B, *) log-probabilities, (B, *) target -> () or (B, *)."""
        return F.kl_div(input, target, self.reduction, self.log_target)
