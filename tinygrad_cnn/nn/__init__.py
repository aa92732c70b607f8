"""Layers built from functional ops, and the Module base class that collects their parameters."""

from . import init, utils  # noqa: F401  (submodules: nn.init.kaiming_normal_, nn.utils.clip_grad_norm_)
from .activations import *  # noqa: F401,F403
from .activations import __all__ as _activations
from .layers import Conv2d, ConvTranspose2d, Flatten, Linear, Upsample
from .losses import *  # noqa: F401,F403
from .losses import __all__ as _losses
from .module import Buffer, IncompatibleKeys, Module, ModuleDict, ModuleList, Parameter, Sequential
from .normalization import (
    BatchNorm1d,
    BatchNorm2d,
    Dropout,
    Dropout2d,
    GlobalAvgPool2d,
    GroupNorm,
    InstanceNorm2d,
    LayerNorm,
)
from .pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d

__all__ = [
    "Module",
    "Parameter",
    "Buffer",
    "Sequential",
    "ModuleList",
    "ModuleDict",
    "IncompatibleKeys",
    "Conv2d",
    "ConvTranspose2d",
    "MaxPool2d",
    "AvgPool2d",
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool2d",
    "Upsample",
    "Linear",
    "Flatten",
    "Dropout",
    "BatchNorm1d",
    "BatchNorm2d",
    "InstanceNorm2d",
    "GroupNorm",
    "LayerNorm",
    "Dropout2d",
    "GlobalAvgPool2d",
    *_activations,
    *_losses,
]
