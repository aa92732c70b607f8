"""tinygrad_cnn: a small numpy deep-learning framework whose every op you can read.

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor, nn, optim
import tinygrad_cnn.functional as F
"""

from . import (
    creation,
    functional,
    nn,
    optim,
    tensor_functions,
)
from .anomaly import AnomalyError, detect_anomaly
from .creation import (
    arange,
    eye,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    zeros,
    zeros_like,
)
from .engine import ReleasedTensor, grad
from .explorer import explore
from .function import Function, enable_grad, is_grad_enabled, list_ops, no_grad, registry, trace
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .profiler import profile
from .random import manual_seed
from .serialization import CheckpointError, load, save
from .tensor import Tensor
from .tensor_functions import (
    cat,
    concatenate,
    einsum,
    gather,
    maximum,
    minimum,
    one_hot,
    pad,
    stack,
    take_along_axis,
    where,
)
from .weights import load_weights, save_weights

__version__ = "0.1.0"

__all__ = [
    "Tensor",
    "Function",
    "registry",
    "list_ops",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "trace",
    "detect_anomaly",
    "AnomalyError",
    "profile",
    "explore",
    "grad",
    "ReleasedTensor",
    "gradcheck",
    "gradgradcheck",
    "GradcheckError",
    "manual_seed",
    "save",
    "load",
    "CheckpointError",
    "save_weights",
    "load_weights",
    "functional",
    "nn",
    "optim",
    *creation.__all__,
    *tensor_functions.__all__,
]


def __getattr__(name: str):
    # The graph drawing needs the optional graphviz package: import it only when asked for.
    if name in ("draw_graph", "render_graph", "memory_report"):
        from . import viz

        return getattr(viz, name)
    if name == "onnx":  # ONNX export needs the optional onnx package: imported when asked for
        import importlib

        return importlib.import_module(".onnx", __name__)
    raise AttributeError(f"module 'tinygrad_cnn' has no attribute {name!r}")
