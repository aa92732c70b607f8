"""Layers built from functional ops, and the Module base class that collects their parameters."""
from .activations import *  # noqa: F401,F403
from .activations import __all__ as _activations
from .layers import AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d
from .module import Module, Parameter, Sequential

__all__ = ["Module", "Parameter", "Sequential", "Conv2d", "MaxPool2d", "AvgPool2d", "Linear", "Flatten", *_activations]
