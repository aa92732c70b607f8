"""Layers built from functional ops, and the Module base class that collects their parameters."""
from .layers import AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU
from .module import Module, Parameter, Sequential

__all__ = ["Module", "Parameter", "Sequential", "Conv2d", "MaxPool2d", "AvgPool2d", "Linear", "ReLU", "Flatten"]
