"""Layers built from functional ops, and the Module base class that collects their parameters."""
from .activations import *  # noqa: F401,F403
from .activations import __all__ as _activations
from .layers import AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d
from .module import Buffer, Module, Parameter, Sequential
from .normalization import BatchNorm1d, BatchNorm2d, Dropout, GlobalAvgPool2d

__all__ = ["Module", "Parameter", "Buffer", "Sequential", "Conv2d", "MaxPool2d", "AvgPool2d", "Linear", "Flatten", "Dropout",
           "BatchNorm1d", "BatchNorm2d", "GlobalAvgPool2d", *_activations]
