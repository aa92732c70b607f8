"""Neural-network functions composed from registered ops; none has a backward of its own.

``import tinygrad_cnn.functional as F``; names and arguments follow ``torch.nn.functional``.
"""
from .activations import *  # noqa: F401,F403
from .activations import __all__ as _activations
from ..tensor_functions import one_hot, pad
from .common import as_tensor
from .layers import *  # noqa: F401,F403
from .layers import __all__ as _layers
from .losses import *  # noqa: F401,F403
from .losses import __all__ as _losses
from .regularization import *  # noqa: F401,F403
from .regularization import __all__ as _regularization

__all__ = [*_layers, *_regularization, *_activations, *_losses, "pad", "one_hot", "as_tensor"]
