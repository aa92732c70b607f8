"""The front end of the convolution tutorial series this framework grew from, on our modules.

Layers are added by name, each one's input shape taken from the previous one's output, and
each layer trains with its own optimizer chosen by name from :data:`tinygrad_cnn.optim.OPTIMIZERS`::

    lm = LayerManager()
    lm.append(name="c", I_shape=(1, 8, 8), F_shape=(16, 3, 3), pad="same", act="ReLU", opt="Adam")
    lm.append(name="p", pool=2)
    lm.append(name="m", n=64, act="ReLU")
    lm.append(name="o", n=10)
    history = lm.fit(x_train, t_train, epochs=20, batch_size=32, x_test=x_test, t_test=t_test)

Nothing here has a backward of its own: the layers are Conv2d, MaxPool2d, Linear and the
activation functions, and gradients come from the registered ops they are made of.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import functional as F
from . import optim
from .data import DataLoader
from .nn import Conv2d, Linear, Module
from .tensor import Tensor
from .train import predict_logits

__all__ = [
    "ConvLayer",
    "PoolingLayer",
    "FullyConnectedLayer",
    "OutputLayer",
    "LayerManager",
    "activation",
]


def _key(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


_ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    _key(n): getattr(F, n)
    for n in (
        "identity",
        "step",
        "bent_identity",
        "hardshrink",
        "softshrink",
        "sigmoid",
        "hardsigmoid",
        "logsigmoid",
        "tanh",
        "tanhshrink",
        "hardtanh",
        "relu",
        "relu6",
        "leaky_relu",
        "elu",
        "selu",
        "celu",
        "gelu",
        "softplus",
        "softsign",
        "silu",
        "swish",
        "mish",
        "tanhexp",
    )
}


def activation(name: str | None) -> Callable[[Tensor], Tensor]:
    """The activation function called ``name`` ("ReLU", "leaky_relu", "TanhExp", ...; case,
    underscores and dashes are ignored); None means the identity."""
    if name is None:
        return F.identity
    if _key(name) not in _ACTIVATIONS:
        raise ValueError(
            f"unknown activation {name!r}; choose from {', '.join(sorted(_ACTIVATIONS))}"
        )
    return _ACTIVATIONS[_key(name)]


def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """Whole-pixel padding (before, after) giving ceil(size / stride) outputs."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class _Layer(Module):
    """A layer with an input shape (without the batch axis), an output shape and an optimizer."""

    I_shape: tuple[int, ...]
    O_shape: tuple[int, ...]

    def _optimizer(self, opt: str | None, opt_dic: dict[str, Any] | None) -> None:
        params = self.parameters()
        if opt is None or not params:
            self.optimizer = None
            return
        settings = dict(opt_dic or {})
        lr = settings.pop("lr", 1e-3)
        # built on its defaults first, to name the settings it has before its own group
        # check refuses one
        defaults = optim.create(opt, params, lr).defaults
        unknown = [key for key in settings if key not in defaults]
        if unknown:
            raise ValueError(
                f"{type(self).__name__}: {opt} has no setting {unknown[0]!r}; "
                f"it has {tuple(defaults)}"
            )
        # the settings as a parameter group's options, so the optimizer checks them as
        # its constructor's
        self.optimizer = optim.create(opt, [{**settings, "params": params}], lr)

    def extra_repr(self) -> str:
        return f"I_shape={self.I_shape}, O_shape={self.O_shape}"


class ConvLayer(_Layer):
    """Convolution then activation: I_shape (C, H, W), F_shape (M, K_h, K_w) -> O_shape
    (M, O_h, O_w). ``pad`` is an int or "same" (whole pixels, the odd one after)."""

    def __init__(
        self,
        I_shape: tuple[int, int, int],
        F_shape: tuple[int, int, int],
        stride: int = 1,
        pad: int | str = "same",
        act: str | None = "ReLU",
        opt: str | None = "Adam",
        opt_dic: dict[str, Any] | None = None,
    ):
        super().__init__()
        (c, h, w), (m, kh, kw) = I_shape, F_shape
        if pad == "same":
            padding = (_same_padding(h, kh, stride), _same_padding(w, kw, stride))
        else:
            padding = ((pad, pad), (pad, pad))
        self.conv = Conv2d(c, m, (kh, kw), stride=stride, padding=padding)
        self.act_name, self.act = act, activation(act)
        out_h = (h + sum(padding[0]) - kh) // stride + 1
        out_w = (w + sum(padding[1]) - kw) // stride + 1
        self.I_shape, self.O_shape = tuple(I_shape), (m, out_h, out_w)
        self._optimizer(opt, opt_dic)

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, M, O_h, O_w)."""
        return self.act(self.conv(x))


class PoolingLayer(_Layer):
    """Max-pooling over pool x pool windows with stride pool: I_shape (C, H, W) -> (C, H', W')."""

    def __init__(self, I_shape: tuple[int, int, int], pool: int = 2, pad: int = 0):
        super().__init__()
        c, h, w = I_shape
        self.pool, self.pad = pool, pad
        self.I_shape = tuple(I_shape)
        self.O_shape = (c, (h + 2 * pad - pool) // pool + 1, (w + 2 * pad - pool) // pool + 1)
        self.optimizer = None

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, C, H', W')."""
        return F.max_pool2d(x, self.pool, self.pool, self.pad)


class FullyConnectedLayer(_Layer):
    """Linear layer then activation; a multi-axis input is flattened first: I_shape -> (n,)."""

    def __init__(
        self,
        I_shape: tuple[int, ...] | int,
        n: int,
        act: str | None = "ReLU",
        opt: str | None = "Adam",
        opt_dic: dict[str, Any] | None = None,
    ):
        super().__init__()
        self.I_shape = (I_shape,) if isinstance(I_shape, int) else tuple(I_shape)
        self.linear = Linear(int(np.prod(self.I_shape)), n)
        self.act_name, self.act = act, activation(act)
        self.O_shape = (n,)
        self._optimizer(opt, opt_dic)

    def forward(self, x: Tensor) -> Tensor:
        """(B, *I_shape) -> (B, n)."""
        return self.act(self.linear(x.flatten(1) if x.ndim > 2 else x))


class OutputLayer(FullyConnectedLayer):
    """The last layer: class scores (logits); LayerManager applies softmax with the loss."""

    def __init__(
        self,
        I_shape: tuple[int, ...] | int,
        n: int,
        opt: str | None = "Adam",
        opt_dic: dict[str, Any] | None = None,
    ):
        super().__init__(I_shape, n, act=None, opt=opt, opt_dic=opt_dic)


_KINDS = {
    "c": ConvLayer,
    "conv": ConvLayer,
    "convolution": ConvLayer,
    "p": PoolingLayer,
    "pool": PoolingLayer,
    "pooling": PoolingLayer,
    "m": FullyConnectedLayer,
    "middle": FullyConnectedLayer,
    "fc": FullyConnectedLayer,
    "o": OutputLayer,
    "output": OutputLayer,
}


class LayerManager(Module):
    """A stack of layers added by name, trained with softmax cross-entropy and per-layer optimizers.

    ``opt`` and ``opt_dic`` given here are the defaults for layers that do not name their own.
    """

    def __init__(self, opt: str = "Adam", opt_dic: dict[str, Any] | None = None):
        super().__init__()
        self.default_opt, self.default_opt_dic = opt, opt_dic
        self.count = 0

    def append(self, name: str, **kwargs: Any) -> _Layer:
        """Add a layer: name "c" (ConvLayer), "p" (PoolingLayer), "m" (FullyConnectedLayer) or
        "o" (OutputLayer), with that class's arguments; ``I_shape`` defaults to the previous
        layer's ``O_shape``."""
        kind = _KINDS.get(name.lower())
        if kind is None:
            raise ValueError(
                f"LayerManager.append: unknown layer name {name!r}; use one of {', '.join(_KINDS)}"
            )
        if "I_shape" not in kwargs:
            if not self.count:
                raise ValueError("LayerManager.append: the first layer needs I_shape")
            kwargs["I_shape"] = self[-1].O_shape
        if kind is not PoolingLayer:
            kwargs.setdefault("opt", self.default_opt)
            kwargs.setdefault("opt_dic", self.default_opt_dic)
        layer = kind(**kwargs)
        setattr(self, str(self.count), layer)
        self.count += 1
        return layer

    def __getitem__(self, index: int) -> _Layer:
        return list(self.children())[index]

    def forward(self, x: Tensor) -> Tensor:
        """(B, *I_shape of the first layer) -> class scores (B, n)."""
        for layer in self.children():
            x = layer(x)
        return x

    def fit(
        self,
        x_train: np.ndarray,
        t_train: np.ndarray,
        epochs: int = 10,
        batch_size: int = 32,
        x_test: np.ndarray | None = None,
        t_test: np.ndarray | None = None,
        verbose: bool = True,
    ) -> list[dict]:
        """Train every layer with its own optimizer; returns one dict per epoch (loss, accuracy)."""
        history = []
        optimizers = [layer.optimizer for layer in self.children() if layer.optimizer is not None]
        for epoch in range(1, epochs + 1):
            self.train()
            total, seen = 0.0, 0
            for xb, tb in DataLoader(x_train, t_train, batch_size):
                loss = F.cross_entropy(self(Tensor(xb)), tb)
                self.zero_grad()
                loss.backward()
                for optimizer in optimizers:
                    optimizer.step()
                total, seen = total + loss.item() * len(tb), seen + len(tb)
            record = {
                "epoch": epoch,
                "loss": total / seen,
                "train_accuracy": self.accuracy(x_train, t_train),
            }
            if x_test is not None and t_test is not None:
                record["test_accuracy"] = self.accuracy(x_test, t_test)
            history.append(record)
            if verbose:
                print(
                    "  ".join(
                        f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                        for k, v in record.items()
                    )
                )
        return history

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities (B, n) for inputs (B, *I_shape)."""
        logits = predict_logits(self, x)
        return F.softmax(Tensor(logits), axis=1).data

    def accuracy(self, x: np.ndarray, t: np.ndarray) -> float:
        """Fraction of inputs whose most probable class is the target."""
        return float(np.mean(predict_logits(self, x).argmax(axis=1) == t))

    def __repr__(self) -> str:
        return (
            "LayerManager(\n"
            + "\n".join(f"  ({i}): {layer!r}" for i, layer in enumerate(self.children()))
            + "\n)"
        )
