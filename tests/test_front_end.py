"""The tutorial-style front end: layers by name, inferred shapes, per-layer optimizers."""

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor, optim
from tinygrad_cnn.layers import ConvLayer, LayerManager, PoolingLayer, activation


def test_shapes_are_inferred_and_same_padding_is_whole_pixels():
    lm = LayerManager()
    conv = lm.append(name="c", I_shape=(3, 7, 9), F_shape=(4, 2, 3), stride=2, pad="same")
    assert conv.O_shape == (4, 4, 5)  # ceil(7 / 2), ceil(9 / 2)
    assert conv.conv.padding == ((0, 1), (1, 1))  # even kernel: the odd pixel after
    pool = lm.append(name="p", pool=2)
    assert pool.I_shape == (4, 4, 5) and pool.O_shape == (4, 2, 2)
    fc = lm.append(name="m", n=6, act="tanh")
    assert fc.I_shape == (4, 2, 2) and fc.O_shape == (6,)
    lm.append(name="o", n=3)
    out = lm(Tensor(np.ones((5, 3, 7, 9))))
    assert out.shape == (5, 3)
    probabilities = lm.predict(np.ones((5, 3, 7, 9), dtype=np.float32))
    assert np.allclose(probabilities.sum(axis=1), 1.0)


def test_each_layer_has_its_own_optimizer():
    lm = LayerManager(opt="SGD", opt_dic={"lr": 0.1})
    lm.append(
        name="c",
        I_shape=(1, 4, 4),
        F_shape=(2, 3, 3),
        opt="RMSpropGraves",
        opt_dic={"lr": 1e-3, "momentum": 0.8},
    )
    lm.append(name="p", pool=2)
    lm.append(name="o", n=2)
    assert (
        isinstance(lm[0].optimizer, optim.RMSpropGraves)
        and lm[0].optimizer.param_groups[0]["momentum"] == 0.8
    )
    assert (
        lm[1].optimizer is None
        and isinstance(lm[2].optimizer, optim.SGD)
        and lm[2].optimizer.param_groups[0]["lr"] == 0.1
    )
    assert lm[0].optimizer.params == lm[0].parameters()


def test_training_learns_a_separable_problem():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 1, 4, 4)).astype(np.float32)
    t = (x[:, 0, :2].sum(axis=(1, 2)) > x[:, 0, 2:].sum(axis=(1, 2))).astype(np.int64)
    lm = LayerManager(opt_dic={"lr": 1e-2})
    lm.append(name="c", I_shape=(1, 4, 4), F_shape=(4, 3, 3))
    lm.append(name="m", n=8)
    lm.append(name="o", n=2)
    history = lm.fit(x, t, epochs=15, batch_size=16, verbose=False)
    assert history[-1]["loss"] < history[0]["loss"] / 3 and lm.accuracy(x, t) > 0.9


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: LayerManager().append(name="x"), "unknown layer name 'x'"),
        (lambda: LayerManager().append(name="p", pool=2), "the first layer needs I_shape"),
        (lambda: activation("sparkle"), "unknown activation 'sparkle'"),
        (lambda: ConvLayer((1, 4, 4), (2, 3, 3), opt="Adamm"), "unknown optimizer 'Adamm'"),
        (
            lambda: ConvLayer((1, 4, 4), (2, 3, 3), opt="Adam", opt_dic={"momentum": 0.9}),
            "Adam has no setting 'momentum'",
        ),
        (
            lambda: ConvLayer((1, 4, 4), (2, 3, 3), opt="RMSpropGraves", opt_dic={"momentum": 2.0}),
            r"RMSpropGraves parameter group 0: momentum must be a number in \[0.0, 1.0\), got 2.0",
        ),
    ],
)
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_activation_names_are_forgiving():
    assert activation("LeakyReLU") is activation("leaky_relu") is tc.functional.leaky_relu
    assert (
        activation("TanhExp") is tc.functional.tanhexp
        and activation(None) is tc.functional.identity
    )
    assert isinstance(PoolingLayer((1, 4, 4)), tc.nn.Module)
