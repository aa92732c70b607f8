"""One table of gradcheck cases per registered op, each with its torch twin.

``CASES[op_name]`` lists Case(label, fn, make_inputs, torch_fn): ``fn`` maps our tensors to
one output tensor, ``make_inputs(rng)`` builds float64 inputs, ``torch_fn`` computes the
same thing with torch (None where torch has no direct twin).
"""

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from helpers import leaf, randn, torch

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn.ops.linalg import BiasAdd
from tinygrad_cnn.ops.movement import ScatterAdd
from tinygrad_cnn.ops.reduce import Standardize, Variance
from tinygrad_cnn.ops.window import WindowMax, WindowMean


class Case(NamedTuple):
    label: str
    fn: Callable
    make_inputs: Callable
    torch_fn: Callable | None


def positive(rng, *shape):
    return leaf(rng.uniform(0.5, 2.0, shape))


def distinct(rng, *shape):
    """Values at least 0.01 apart, so max and max-pool have no ties within a finite difference."""
    return leaf(rng.permutation(np.prod(shape)).reshape(shape) * 0.01 + rng.uniform(0, 1e-3))


def tf():
    return torch.nn.functional


def fold_twin(cols, input_shape, kernel, stride, padding, dilation=1):
    """torch's fold of im2col columns (rows (b, o_h, o_w), columns (c, k_h, k_w))."""
    b = input_shape[0]
    blocks = cols.reshape(b, -1, cols.shape[1]).transpose(1, 2)  # (B, C*K, L)
    return tf().fold(
        blocks, input_shape[2:], kernel, dilation=dilation, padding=padding, stride=stride
    )


def large(rng, *shape):
    """Values far into both tails, where naive formulas overflow (an even count: never 0)."""
    return leaf(np.linspace(-700.0, 700.0, int(np.prod(shape))).reshape(shape))


# Elementwise activation ops: (our function, torch's or None where torch has none, input kind).
ACTIVATIONS = {
    "clamp": (lambda a: F.clamp(a, -0.5, 0.7), lambda a: a.clamp(-0.5, 0.7), randn),
    "abs": (lambda a: F.abs(a), lambda a: a.abs(), randn),
    "step": (lambda a: F.step(a), None, randn),
    "hardshrink": (lambda a: F.hardshrink(a, 0.5), lambda a: tf().hardshrink(a, 0.5), randn),
    "softshrink": (lambda a: F.softshrink(a, 0.5), lambda a: tf().softshrink(a, 0.5), randn),
    "threshold": (
        lambda a: F.threshold(a, 0.1, -2.0),
        lambda a: tf().threshold(a, 0.1, -2.0),
        randn,
    ),
    "leaky_relu": (lambda a: F.leaky_relu(a, 0.1), lambda a: tf().leaky_relu(a, 0.1), randn),
    "elu": (lambda a: F.elu(a, 1.3), lambda a: tf().elu(a, 1.3), randn),
    "softplus": (lambda a: F.softplus(a, 2.0), lambda a: tf().softplus(a, beta=2.0), randn),
    "logsigmoid": (lambda a: F.logsigmoid(a), lambda a: tf().logsigmoid(a), randn),
    "softsign": (lambda a: F.softsign(a), lambda a: tf().softsign(a), randn),
    "silu": (lambda a: F.silu(a), lambda a: tf().silu(a), randn),
    "mish": (lambda a: F.mish(a), lambda a: tf().mish(a), randn),
    "tanhexp": (lambda a: F.tanhexp(a), lambda a: a * torch.tanh(torch.exp(a)), randn),
    "gelu": (lambda a: F.gelu(a), lambda a: tf().gelu(a), randn),
    "erf": (lambda a: a.erf(), lambda a: a.erf(), randn),
}
STABLE_IN_TAILS = [
    "elu",
    "softplus",
    "logsigmoid",
    "softsign",
    "silu",
    "mish",
    "tanhexp",
    "step",
    "leaky_relu",
]


CASES = {
    "add": [
        Case(
            "broadcast",
            lambda a, b: a + b,
            lambda r: (randn(r, 3, 4), randn(r, 4)),
            lambda a, b: a + b,
        ),
        Case(
            "both_sides",
            lambda a, b: a + b,
            lambda r: (randn(r, 2, 1, 3), randn(r, 4, 1)),
            lambda a, b: a + b,
        ),
        Case("scalar", lambda a: 1.5 + a, lambda r: (randn(r, 3),), lambda a: 1.5 + a),
    ],
    "sub": [
        Case(
            "broadcast",
            lambda a, b: a - b,
            lambda r: (randn(r, 3, 4), randn(r, 3, 1)),
            lambda a, b: a - b,
        ),
        Case("reflected", lambda a: 2.0 - a, lambda r: (randn(r, 3),), lambda a: 2.0 - a),
    ],
    "mul": [
        Case(
            "broadcast",
            lambda a, b: a * b,
            lambda r: (randn(r, 3, 4), randn(r, 1, 4)),
            lambda a, b: a * b,
        ),
        Case("same_tensor", lambda a: a * a, lambda r: (randn(r, 5),), lambda a: a * a),
    ],
    "div": [
        Case(
            "broadcast",
            lambda a, b: a / b,
            lambda r: (randn(r, 3, 4), positive(r, 4)),
            lambda a, b: a / b,
        ),
        Case("reflected", lambda a: 1.0 / a, lambda r: (positive(r, 3, 2),), lambda a: 1.0 / a),
    ],
    "neg": [Case("plain", lambda a: -a, lambda r: (randn(r, 2, 3),), lambda a: -a)],
    "pow": [
        Case("cube", lambda a: a**3, lambda r: (randn(r, 4, 2),), lambda a: a**3),
        Case("fractional", lambda a: a**-1.5, lambda r: (positive(r, 5),), lambda a: a**-1.5),
    ],
    "exp": [Case("plain", lambda a: a.exp(), lambda r: (randn(r, 3, 3),), lambda a: a.exp())],
    "log": [Case("plain", lambda a: a.log(), lambda r: (positive(r, 3, 3),), lambda a: a.log())],
    "relu": [Case("plain", lambda a: a.relu(), lambda r: (randn(r, 4, 5),), lambda a: a.relu())],
    "sigmoid": [
        Case("plain", lambda a: a.sigmoid(), lambda r: (randn(r, 4, 5),), lambda a: a.sigmoid()),
        Case(
            "large",
            lambda a: a.sigmoid(),
            lambda r: (leaf([-800.0, -30.0, 0.0, 30.0, 800.0]),),
            lambda a: a.sigmoid(),
        ),
    ],
    "tanh": [
        Case(
            "plain",
            lambda a: a.tanh(),
            lambda r: (leaf(2 * r.standard_normal((4, 5))),),
            lambda a: a.tanh(),
        )
    ],
    "matmul": [
        Case(
            "2d", lambda a, b: a @ b, lambda r: (randn(r, 3, 4), randn(r, 4, 5)), lambda a, b: a @ b
        ),
        Case(
            "batched",
            lambda a, b: a @ b,
            lambda r: (randn(r, 2, 3, 4), randn(r, 4, 5)),
            lambda a, b: a @ b,
        ),
        Case(
            "batch_broadcast",
            lambda a, b: a @ b,
            lambda r: (randn(r, 2, 1, 3, 4), randn(r, 3, 4, 2)),
            lambda a, b: a @ b,
        ),
        Case(
            "vector_left",
            lambda a, b: a @ b,
            lambda r: (randn(r, 4), randn(r, 2, 4, 3)),
            lambda a, b: a @ b,
        ),
        Case(
            "vector_right",
            lambda a, b: a @ b,
            lambda r: (randn(r, 2, 3, 4), randn(r, 4)),
            lambda a, b: a @ b,
        ),
    ],
    "bias_add": [
        Case(
            "last_axis",
            lambda x, b: BiasAdd.apply(x, b, axis=-1),
            lambda r: (randn(r, 5, 4), randn(r, 4)),
            lambda x, b: x + b,
        ),
        Case(
            "channels",
            lambda x, b: BiasAdd.apply(x, b, axis=1),
            lambda r: (randn(r, 2, 3, 4, 4), randn(r, 3)),
            lambda x, b: x + b[:, None, None],
        ),
    ],
    "reshape": [
        Case(
            "plain",
            lambda a: a.reshape(4, -1),
            lambda r: (randn(r, 2, 3, 4),),
            lambda a: a.reshape(4, -1),
        )
    ],
    "transpose": [
        Case(
            "permute",
            lambda a: a.transpose(2, 0, 1),
            lambda r: (randn(r, 2, 3, 4),),
            lambda a: a.permute(2, 0, 1),
        ),
        Case("reverse", lambda a: a.T, lambda r: (randn(r, 3, 5),), lambda a: a.T),
    ],
    "getitem": [
        Case("slices", lambda a: a[1:, ::2], lambda r: (randn(r, 4, 5),), lambda a: a[1:, ::2]),
        Case(
            "repeated_rows",
            lambda a: a[[0, 0, 2]],
            lambda r: (randn(r, 3, 2),),
            lambda a: a[[0, 0, 2]],
        ),
        Case(
            "pairs",
            lambda a: a[np.arange(3), np.array([1, 1, 0])],
            lambda r: (randn(r, 3, 2),),
            lambda a: a[torch.arange(3), torch.tensor([1, 1, 0])],
        ),
        Case("mask", lambda a: a[a.data > 0], lambda r: (randn(r, 4, 3),), lambda a: a[a > 0]),
    ],
    "sum": [
        Case("all", lambda a: a.sum(), lambda r: (randn(r, 3, 4),), lambda a: a.sum()),
        Case(
            "axes_keepdims",
            lambda a: a.sum(axis=(0, 2), keepdims=True),
            lambda r: (randn(r, 2, 3, 4),),
            lambda a: a.sum(dim=(0, 2), keepdim=True),
        ),
    ],
    "mean": [
        Case(
            "axis", lambda a: a.mean(axis=1), lambda r: (randn(r, 3, 4),), lambda a: a.mean(dim=1)
        ),
        Case("all", lambda a: a.mean(), lambda r: (randn(r, 2, 3),), lambda a: a.mean()),
    ],
    "variance": [
        Case(
            "channels",
            lambda a: Variance.apply(a, axes=(0, 2, 3)),
            lambda r: (randn(r, 3, 2, 2, 3),),
            lambda a: a.var(dim=(0, 2, 3), keepdim=True, correction=0),
        ),
        Case(
            "last_axis",
            lambda a: Variance.apply(a, axes=(-1,)),
            lambda r: (randn(r, 4, 5),),
            lambda a: a.var(dim=-1, keepdim=True, correction=0),
        ),
    ],
    "standardize": [
        Case(
            "batch_statistics",
            lambda x, m, v: Standardize.apply(x, m, v, eps=1e-3),
            lambda r: (randn(r, 3, 2, 4), randn(r, 1, 2, 1), positive(r, 1, 2, 1)),
            lambda x, m, v: (x - m) / (v + 1e-3).sqrt(),
        ),
        Case(
            "every_axis",
            lambda x, m, v: Standardize.apply(x, m, v, eps=0.0),
            lambda r: (randn(r, 2, 3), randn(r, 1, 1), positive(r, 1, 1)),
            lambda x, m, v: (x - m) / v.sqrt(),
        ),
    ],
    "min": [
        Case(
            "axis", lambda a: a.min(axis=1), lambda r: (distinct(r, 3, 4),), lambda a: a.amin(dim=1)
        ),
        Case(
            "all_keepdims",
            lambda a: a.min(keepdims=True),
            lambda r: (distinct(r, 2, 3),),
            lambda a: a.amin(dim=(0, 1), keepdim=True),
        ),
        Case(
            "values_of_dim",
            lambda a: a.min(dim=0).values,
            lambda r: (distinct(r, 3, 2),),
            lambda a: a.min(dim=0).values,
        ),
    ],
    "cumsum": [
        Case(
            "axis",
            lambda a: a.cumsum(axis=1),
            lambda r: (randn(r, 3, 4),),
            lambda a: a.cumsum(dim=1),
        ),
        Case(
            "flattened",
            lambda a: a.cumsum(),
            lambda r: (randn(r, 2, 3),),
            lambda a: a.reshape(-1).cumsum(dim=0),
        ),
    ],
    "max": [
        Case(
            "axis", lambda a: a.max(axis=1), lambda r: (distinct(r, 3, 4),), lambda a: a.amax(dim=1)
        ),
        Case(
            "axes_keepdims",
            lambda a: a.max(axis=(0, 2), keepdims=True),
            lambda r: (distinct(r, 2, 3, 4),),
            lambda a: a.amax(dim=(0, 2), keepdim=True),
        ),
        Case("all", lambda a: a.max(), lambda r: (distinct(r, 3, 3),), lambda a: a.amax()),
    ],
    "sqrt": [Case("plain", lambda a: a.sqrt(), lambda r: (positive(r, 3, 4),), lambda a: a.sqrt())],
    "maximum": [
        Case(
            "broadcast",
            lambda a, b: tc.maximum(a, b),
            lambda r: (distinct(r, 3, 4), distinct(r, 4)),
            lambda a, b: torch.maximum(a, b),
        ),
        Case(
            "scalar",
            lambda a: np.maximum(a, 0.3),
            lambda r: (distinct(r, 5),),
            lambda a: a.clamp(min=0.3),
        ),
    ],
    "minimum": [
        Case(
            "broadcast",
            lambda a, b: tc.minimum(a, b),
            lambda r: (distinct(r, 2, 1, 3), distinct(r, 4, 1)),
            lambda a, b: torch.minimum(a, b),
        ),
    ],
    "where": [
        Case(
            "broadcast",
            lambda a, b: tc.where(np.array([[True], [False], [True]]), a, b),
            lambda r: (randn(r, 3, 4), randn(r, 4)),
            lambda a, b: torch.where(torch.tensor([[True], [False], [True]]), a, b),
        ),
        Case(
            "masked_fill",
            lambda a: a.masked_fill(a.data > 0, -1.0),
            lambda r: (randn(r, 4, 3),),
            lambda a: a.masked_fill(a > 0, -1.0),
        ),
    ],
    "astype": [
        Case(
            "to_own_dtype",
            lambda a: a.to(a.dtype) * a,
            lambda r: (randn(r, 3, 2),),
            lambda a: a.to(a.dtype) * a,
        ),
        Case(
            "clone", lambda a: a.clone() * 2.0, lambda r: (randn(r, 4),), lambda a: a.clone() * 2.0
        ),
    ],
    "einsum": [
        Case(
            "batched",
            lambda a, b: tc.einsum("bij,bjk->bik", a, b),
            lambda r: (randn(r, 2, 3, 4), randn(r, 2, 4, 5)),
            lambda a, b: torch.einsum("bij,bjk->bik", a, b),
        ),
        Case(
            "implicit_sum_out",
            lambda a, b: tc.einsum("ij,j", a, b),
            lambda r: (randn(r, 3, 4), randn(r, 4)),
            lambda a, b: torch.einsum("ij,j", a, b),
        ),
        Case(
            "summed_away",
            lambda a, b: tc.einsum("ijk,j->i", a, b),
            lambda r: (randn(r, 2, 3, 4), randn(r, 3)),
            lambda a, b: torch.einsum("ijk,j->i", a, b),
        ),
        Case(
            "ellipsis_broadcast",
            lambda a, b: tc.einsum("...ij,...jk->...ik", a, b),
            lambda r: (randn(r, 2, 1, 3, 4), randn(r, 5, 4, 2)),
            lambda a, b: torch.einsum("...ij,...jk->...ik", a, b),
        ),
    ],
    "cat": [
        Case(
            "three",
            lambda a, b, c: tc.cat([a, b, c], axis=1),
            lambda r: (randn(r, 2, 1), randn(r, 2, 3), randn(r, 2, 2)),
            lambda a, b, c: torch.cat([a, b, c], dim=1),
        ),
        Case(
            "stack",
            lambda a, b: tc.stack([a, b], axis=-1),
            lambda r: (randn(r, 3, 2), randn(r, 3, 2)),
            lambda a, b: torch.stack([a, b], dim=-1),
        ),
        Case(
            "numpy_concatenate",
            lambda a: np.concatenate([a, a * 2.0]),
            lambda r: (randn(r, 2, 3),),
            lambda a: torch.cat([a, a * 2.0]),
        ),
    ],
    "expand": [
        Case(
            "expand",
            lambda a: a.expand(2, -1, 4),
            lambda r: (randn(r, 3, 1),),
            lambda a: a.expand(2, -1, 4),
        ),
        Case(
            "tile", lambda a: a.tile((2, 3)), lambda r: (randn(r, 2, 2),), lambda a: a.repeat(2, 3)
        ),
        Case(
            "repeat_interleave",
            lambda a: a.repeat_interleave(3, axis=0),
            lambda r: (randn(r, 2, 2),),
            lambda a: a.repeat_interleave(3, dim=0),
        ),
    ],
    "pad": [
        *[
            Case(
                mode,
                lambda a, mode=mode: F.pad(a, (1, 2, 2, 1), mode=mode),
                lambda r: (randn(r, 2, 3, 4, 5),),
                lambda a, mode=mode: tf().pad(a, (1, 2, 2, 1), mode=mode),
            )
            for mode in ("reflect", "replicate", "circular")
        ],
        Case(
            "constant",
            lambda a: F.pad(a, (0, 1, 2, 0, 1, 1), value=0.5),
            lambda r: (randn(r, 2, 3, 2),),
            lambda a: tf().pad(a, (0, 1, 2, 0, 1, 1), value=0.5),
        ),
    ],
    "gather": [
        Case(
            "repeated",
            lambda a: a.gather(1, np.array([[0, 0, 2], [1, 0, 1]])),
            lambda r: (randn(r, 3, 4),),
            lambda a: a.gather(1, torch.tensor([[0, 0, 2], [1, 0, 1]])),
        ),
        Case(
            "take_along_axis",
            lambda a: tc.take_along_axis(a, np.array([[1], [0]]), axis=1),
            lambda r: (randn(r, 2, 3),),
            lambda a: a.gather(1, torch.tensor([[1], [0]])),
        ),
    ],
    "log_softmax": [
        Case(
            "rows",
            lambda a: F.log_softmax(a, axis=1),
            lambda r: (randn(r, 3, 5),),
            lambda a: tf().log_softmax(a, dim=1),
        ),
        Case(
            "large",
            lambda a: F.log_softmax(a * 300, axis=0),
            lambda r: (randn(r, 4, 2),),
            lambda a: tf().log_softmax(a * 300, dim=0),
        ),
    ],
    **{
        name: [Case("plain", fn, lambda r, make=make: (make(r, 3, 5),), twin)]
        + ([Case("tails", fn, lambda r: (large(r, 12),), twin)] if name in STABLE_IN_TAILS else [])
        for name, (fn, twin, make) in ACTIVATIONS.items()
    },
    "gelu": [
        Case("exact", lambda a: F.gelu(a), lambda r: (randn(r, 3, 5),), lambda a: tf().gelu(a)),
        Case(
            "tanh",
            lambda a: F.gelu(a, approximate="tanh"),
            lambda r: (randn(r, 3, 5),),
            lambda a: tf().gelu(a, approximate="tanh"),
        ),
    ],
    "im2col": [
        Case(
            "overlap_padded",
            lambda x: F.im2col(x, (2, 3), stride=(2, 1), padding=1),
            lambda r: (randn(r, 2, 3, 5, 6),),
            lambda x: (
                tf().unfold(x, (2, 3), stride=(2, 1), padding=1).transpose(1, 2).reshape(-1, 18)
            ),
        ),
        Case(
            "stride_gt_kernel",
            lambda x: F.im2col(x, 2, stride=3),
            lambda r: (randn(r, 1, 2, 7, 8),),
            lambda x: tf().unfold(x, 2, stride=3).transpose(1, 2).reshape(-1, 8),
        ),
    ],
    "col2im": [
        Case(
            "overlap_padded",
            lambda c: F.col2im(c, (2, 3, 5, 6), (2, 3), stride=(2, 1), padding=1),
            lambda r: (randn(r, 2 * 3 * 6, 18),),
            lambda c: fold_twin(c, (2, 3, 5, 6), (2, 3), (2, 1), 1),
        ),
        Case(
            "dilated",
            lambda c: F.col2im(c, (1, 2, 7, 8), 2, stride=2, dilation=2),
            lambda r: (randn(r, 9, 8),),
            lambda c: fold_twin(c, (1, 2, 7, 8), 2, 2, 0, 2),
        ),
    ],
    "scatter_add": [
        Case(
            "repeated",
            lambda v: ScatterAdd.apply(v, np.array([[0, 4, 4], [1, 0, 5]]), (2, 3)),
            lambda r: (randn(r, 2, 3),),
            lambda v: (
                torch.zeros(6, dtype=v.dtype)
                .index_add(0, torch.tensor([0, 4, 4, 1, 0, 5]), v.reshape(-1))
                .reshape(2, 3)
            ),
        ),
    ],
    "window_max": [
        Case(
            "columns",
            lambda c: WindowMax.apply(c, channels=3),
            lambda r: (distinct(r, 10, 12),),
            lambda c: c.reshape(10, 3, 4).amax(dim=2),
        ),
        Case(
            "max_pool2d",
            lambda x: F.max_pool2d(x, 3, stride=2, padding=1),
            lambda r: (distinct(r, 2, 3, 7, 6),),
            lambda x: tf().max_pool2d(x, 3, stride=2, padding=1),
        ),
    ],
    "window_mean": [
        Case(
            "columns",
            lambda c: WindowMean.apply(c, channels=2),
            lambda r: (randn(r, 6, 8),),
            lambda c: c.reshape(6, 2, 4).mean(dim=2),
        ),
        Case(
            "avg_pool2d",
            lambda x: F.avg_pool2d(x, (2, 3), stride=1, padding=1),
            lambda r: (randn(r, 2, 3, 5, 6),),
            lambda x: tf().avg_pool2d(x, (2, 3), stride=1, padding=1),
        ),
    ],
}
