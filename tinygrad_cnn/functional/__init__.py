"""Neural-network functions composed from registered ops; none has a backward of its own.

``import tinygrad_cnn.functional as F``; names and arguments follow ``torch.nn.functional``.
"""

from ..tensor_functions import one_hot, pad
from .activations import *  # noqa: F401,F403
from .activations import __all__ as _activations
from .common import as_tensor
from .layers import *  # noqa: F401,F403
from .layers import __all__ as _layers
from .losses import *  # noqa: F401,F403
from .losses import __all__ as _losses
from .normalization import *  # noqa: F401,F403
from .normalization import __all__ as _normalization
from .pooling import *  # noqa: F401,F403
from .pooling import __all__ as _pooling
from .regularization import *  # noqa: F401,F403
from .regularization import __all__ as _regularization
from .resampling import interpolate

__all__ = [
    *_layers,
    *_pooling,
    "interpolate",
    *_regularization,
    *_normalization,
    *_activations,
    *_losses,
    "pad",
    "one_hot",
    "as_tensor",
]
