"""Batch, instance, group and layer normalisation, composed from registered ops (mean,
variance, standardize, mul, reshape, bias add), with PyTorch's arguments. Variances are
biased, as PyTorch's; running statistics move with the unbiased one."""

from __future__ import annotations

import numpy as np

from ..arguments import sizes
from ..ops.linalg import BiasAdd
from ..ops.reduce import Standardize, Variance
from ..tensor import Tensor
from .common import as_tensor

__all__ = ["batch_norm", "instance_norm", "group_norm", "layer_norm"]


def _standardize(x: Tensor, axes: tuple[int, ...], eps: float) -> tuple[Tensor, Tensor, Tensor]:
    """(x - mean) / sqrt(var + eps) over ``axes``, with that mean and (biased) variance, their
    axes kept: three ops, mean -> variance -> standardize."""
    mean = x.mean(axis=axes, keepdims=True)
    variance = Variance.apply(x, axes=axes)
    return Standardize.apply(x, mean, variance, eps=eps), mean, variance


def _per_channel_shape(x: Tensor) -> tuple[int, ...]:
    """(1, C, 1, ...): a channel vector broadcast along axis 1 of ``x``."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _check_channels(op: str, x: Tensor, **vectors: Tensor | None) -> None:
    """Each given vector (running statistics, weight, bias) has one value per channel of x."""
    for name, t in vectors.items():
        if t is not None and t.shape != (x.shape[1],):
            raise ValueError(
                f"{op}: {name} must have shape ({x.shape[1]},) for input {x.shape}, got {t.shape}"
            )


def _from_running(x: Tensor, running_mean: Tensor, running_var: Tensor, eps: float) -> Tensor:
    """x standardised per channel with the running statistics, constants of the graph."""
    per_channel = _per_channel_shape(x)
    centered = x - running_mean.detach().reshape(*per_channel)
    return centered / (running_var.detach().reshape(*per_channel) + eps) ** 0.5


def _update_running(
    running_mean: Tensor,
    running_var: Tensor,
    mean: np.ndarray,
    unbiased_var: np.ndarray,
    momentum: float,
) -> None:
    """running = (1 - momentum) * running + momentum * observed, for both statistics."""
    # new arrays, not in-place writes: a graph may hold the old statistics
    running_mean.data = (1 - momentum) * running_mean.data + momentum * mean
    running_var.data = (1 - momentum) * running_var.data + momentum * unbiased_var


def _channel_affine(out: Tensor, weight: Tensor | None, bias: Tensor | None) -> Tensor:
    """out * weight + bias, both (C,) along axis 1."""
    if weight is not None:
        out = out * weight.reshape(*_per_channel_shape(out))
    if bias is not None:
        out = BiasAdd.apply(out, bias, axis=1)
    return out


def batch_norm(
    x: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel (axis 1) of (B, C, ...) to zero mean and unit variance, then
    scale by ``weight`` and shift by ``bias`` (both (C,)), as PyTorch's batch_norm.

    Training uses the batch's statistics over every axis but 1, and moves the running ones
    towards them: running = (1 - momentum) * running + momentum * batch (the variance unbiased).
    Evaluation uses the running statistics, which it needs.
    """
    x = as_tensor("batch_norm", "input", x)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: input must be (B, C, ...), got shape {x.shape}")
    _check_channels(
        "batch_norm",
        x,
        running_mean=running_mean,
        running_var=running_var,
        weight=weight,
        bias=bias,
    )
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError(
                "batch_norm: evaluation (training=False) needs both running_mean and running_var"
            )
        return _channel_affine(_from_running(x, running_mean, running_var, eps), weight, bias)
    channels = x.shape[1]
    count = x.size // channels
    if count < 2 and training:
        raise ValueError(
            f"batch_norm: expected more than 1 value per channel when training, got input {x.shape}"
        )
    out, mean, variance = _standardize(x, (0, *range(2, x.ndim)), eps)
    if training and running_mean is not None and running_var is not None:
        _update_running(
            running_mean,
            running_var,
            mean.data.reshape(channels),
            variance.data.reshape(channels) * (count / (count - 1)),
            momentum,
        )
    return _channel_affine(out, weight, bias)


def instance_norm(
    x: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel of each sample of (B, C, *S) over its own S axes, then scale by
    ``weight`` and shift by ``bias`` (both (C,)), as PyTorch's instance_norm.

    ``use_input_stats`` (training, or no running statistics kept) uses each sample's
    statistics and, given running ones, moves them towards the batch's average of them (the
    variances unbiased), as PyTorch; otherwise the running statistics normalise.
    """
    x = as_tensor("instance_norm", "input", x)
    if x.ndim < 3:
        raise ValueError(
            f"instance_norm: input must be (B, C, ...) with at least one spatial axis, "
            f"got shape {x.shape}"
        )
    _check_channels(
        "instance_norm",
        x,
        running_mean=running_mean,
        running_var=running_var,
        weight=weight,
        bias=bias,
    )
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError(
                "instance_norm: use_input_stats=False needs running_mean and running_var"
            )
        return _channel_affine(_from_running(x, running_mean, running_var, eps), weight, bias)
    count = int(np.prod(x.shape[2:]))
    if count < 2:
        raise ValueError(
            f"instance_norm: expected more than 1 spatial element per channel, got input {x.shape}"
        )
    out, mean, variance = _standardize(x, tuple(range(2, x.ndim)), eps)
    if running_mean is not None and running_var is not None:
        channels = x.shape[1]
        _update_running(
            running_mean,
            running_var,
            mean.data.reshape(-1, channels).mean(axis=0),
            variance.data.reshape(-1, channels).mean(axis=0) * (count / (count - 1)),
            momentum,
        )
    return _channel_affine(out, weight, bias)


def group_norm(
    x: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each sample's channels in ``num_groups`` groups of C/G consecutive channels,
    then scale by ``weight`` and shift by ``bias`` (both (C,)), as PyTorch's group_norm:
    (B, C, *S) -> reshape (B, G, C/G * prod(S)) -> standardise the last axis -> reshape
    (B, C, *S) -> * weight + bias per channel.
    """
    x = as_tensor("group_norm", "input", x)
    if x.ndim < 2:
        raise ValueError(f"group_norm: input must be (B, C, ...), got shape {x.shape}")
    channels = x.shape[1]
    if (
        not isinstance(num_groups, (int, np.integer))
        or isinstance(num_groups, bool)
        or num_groups < 1
        or channels % num_groups
    ):
        raise ValueError(
            f"group_norm: num_groups must be a positive int dividing the {channels} channels of "
            f"input {x.shape}, got {num_groups!r}"
        )
    _check_channels("group_norm", x, weight=weight, bias=bias)
    group_size = channels // num_groups * int(np.prod(x.shape[2:]))
    out, _, _ = _standardize(x.reshape(x.shape[0], int(num_groups), group_size), (2,), eps)
    return _channel_affine(out.reshape(*x.shape), weight, bias)


def layer_norm(
    x: Tensor,
    normalized_shape: int | tuple[int, ...],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the trailing axes ``normalized_shape`` N, then multiply by ``weight`` and
    add ``bias`` (both of shape N) elementwise, as PyTorch's layer_norm: (*, *N) -> (*, *N).
    """
    x = as_tensor("layer_norm", "input", x)
    shape = sizes("layer_norm", (normalized_shape,))
    if not shape:
        raise ValueError("layer_norm: normalized_shape must name at least one axis, got ()")
    if x.shape[x.ndim - len(shape) :] != shape:
        raise ValueError(
            f"layer_norm: normalized_shape {shape} must be the trailing axes of input {x.shape}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != shape:
            raise ValueError(
                f"layer_norm: {name} must have the normalized_shape {shape}, got {t.shape}"
            )
    out, _, _ = _standardize(x, tuple(range(x.ndim - len(shape), x.ndim)), eps)
    if weight is not None:
        out = out * weight
    return out if bias is None else out + bias
