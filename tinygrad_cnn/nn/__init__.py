"""Layers built from functional ops, and the Module base class that collects their parameters."""
from .activations import *  # noqa: F401,F403
from .activations import __all__ as _activations
from .layers import AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d
from .module import Buffer, IncompatibleKeys, Module, ModuleDict, ModuleList, Parameter, Sequential
from .normalization import BatchNorm1d, BatchNorm2d, Dropout, GlobalAvgPool2d
from . import init, utils  # noqa: F401  (submodules: nn.init.kaiming_normal_, nn.utils.clip_grad_norm_)

__all__ = ["Module", "Parameter", "Buffer", "Sequential", "ModuleList", "ModuleDict", "IncompatibleKeys", "Conv2d", "MaxPool2d", "AvgPool2d", "Linear", "Flatten", "Dropout",
           "BatchNorm1d", "BatchNorm2d", "GlobalAvgPool2d", *_activations]
