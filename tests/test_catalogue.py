"""Activations composed of ops, and the losses: gradchecks, PyTorch cross-checks, stability."""

import numpy as np
import pytest
from helpers import assert_close, assert_matches_torch, leaf, needs_torch, torch, torch_leaf

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, nn

COMPOSED = {  # name: (ours, torch's)
    "identity": (F.identity, lambda a: a),
    "bent_identity": (F.bent_identity, lambda a: ((a * a + 1) ** 0.5 - 1) / 2 + a),
    "tanhshrink": (F.tanhshrink, lambda a: torch.nn.functional.tanhshrink(a)),
    "hardtanh": (
        lambda a: F.hardtanh(a, -0.5, 1.5),
        lambda a: torch.nn.functional.hardtanh(a, -0.5, 1.5),
    ),
    "relu6": (F.relu6, lambda a: torch.nn.functional.relu6(a)),
    "hardsigmoid": (F.hardsigmoid, lambda a: torch.nn.functional.hardsigmoid(a)),
    "selu": (F.selu, lambda a: torch.nn.functional.selu(a)),
    "celu": (lambda a: F.celu(a, 0.7), lambda a: torch.nn.functional.celu(a, 0.7)),
    "softmin": (lambda a: F.softmin(a, axis=1), lambda a: torch.nn.functional.softmin(a, dim=1)),
    "softmax": (lambda a: F.softmax(a, axis=0), lambda a: torch.nn.functional.softmax(a, dim=0)),
    "swish": (F.swish, lambda a: torch.nn.functional.silu(a)),
    "gelu_tanh": (
        lambda a: F.gelu(a, approximate="tanh"),
        lambda a: torch.nn.functional.gelu(a, approximate="tanh"),
    ),
}


def inputs(seed=0):
    return leaf(np.random.default_rng(seed).standard_normal((3, 4)) * 4)


@pytest.mark.parametrize("name", list(COMPOSED))
def test_composed_activation_gradcheck(name):
    assert tc.gradcheck(COMPOSED[name][0], inputs())


@needs_torch
@pytest.mark.parametrize("name", list(COMPOSED))
def test_composed_activation_matches_torch(name):
    assert_matches_torch(*COMPOSED[name], inputs())


@pytest.mark.parametrize(
    "fn",
    [
        F.sigmoid,
        F.logsigmoid,
        F.softplus,
        F.elu,
        F.selu,
        F.celu,
        F.silu,
        F.mish,
        F.tanhexp,
        F.gelu,
        F.softsign,
        F.tanh,
        lambda a: F.softmax(a, 0),
        lambda a: F.log_softmax(a, 0),
        lambda a: F.softmin(a, 0),
    ],
)
def test_stable_for_huge_inputs(fn):
    x = Tensor(np.array([-1e4, -500.0, -50.0, 0.5, 50.0, 500.0, 1e4]), requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        out = fn(x)
        out.sum().backward()
    assert np.isfinite(out.data).all() and np.isfinite(x.grad.data).all()


def test_gelu_uses_an_exact_erf():
    x = np.array([-3.0, -0.5, 0.0, 0.7, 2.5])
    from math import erf

    expected = x * (1 + np.array([erf(v / np.sqrt(2)) for v in x])) / 2
    assert_close(F.gelu(Tensor(x, dtype=np.float64)).data, expected, atol=1e-15, rtol=1e-15)


def test_activation_modules_follow_the_functions():
    x = inputs()
    assert_close(nn.LeakyReLU(0.2)(x).data, F.leaky_relu(x, 0.2).data)
    assert_close(nn.Softmax(axis=0)(x).data, F.softmax(x, axis=0).data)
    assert repr(nn.ELU(alpha=0.5)) == "ELU(alpha=0.5)" and repr(nn.ReLU()) == "ReLU()"
    assert nn.Identity()(x) is x


# ---- losses -------------------------------------------------------------------------------------
def class_inputs(seed=0, batch=6, classes=4):
    rng = np.random.default_rng(seed)
    return leaf(rng.standard_normal((batch, classes)) * 3), rng.integers(0, classes, batch)


LOSSES = {  # name: (ours, torch's, make inputs)
    "cross_entropy": (
        F.cross_entropy,
        lambda x, t: torch.nn.functional.cross_entropy(x, torch.tensor(t)),
        class_inputs,
    ),
    "cross_entropy_smoothing_sum": (
        lambda x, t: F.cross_entropy(x, t, reduction="sum", label_smoothing=0.2),
        lambda x, t: torch.nn.functional.cross_entropy(
            x, torch.tensor(t), reduction="sum", label_smoothing=0.2
        ),
        class_inputs,
    ),
    "cross_entropy_ignore": (
        lambda x, t: F.cross_entropy(
            x, np.where(np.arange(6) % 3 == 0, 7, t), ignore_index=7, label_smoothing=0.1
        ),
        lambda x, t: torch.nn.functional.cross_entropy(
            x,
            torch.tensor(np.where(np.arange(6) % 3 == 0, 7, t)),
            ignore_index=7,
            label_smoothing=0.1,
        ),
        class_inputs,
    ),
    "cross_entropy_none": (
        lambda x, t: F.cross_entropy(x, np.where(np.arange(6) == 2, -100, t), reduction="none"),
        lambda x, t: torch.nn.functional.cross_entropy(
            x, torch.tensor(np.where(np.arange(6) == 2, -100, t)), reduction="none"
        ),
        class_inputs,
    ),
    "nll_loss": (
        lambda x, t: F.nll_loss(F.log_softmax(x, 1), t),
        lambda x, t: torch.nn.functional.nll_loss(torch.log_softmax(x, 1), torch.tensor(t)),
        class_inputs,
    ),
}


def regression_inputs(seed=1):
    rng = np.random.default_rng(seed)
    return leaf(rng.standard_normal((4, 3)) * 2), rng.standard_normal((4, 3)) * 2


def probability_inputs(seed=2):
    rng = np.random.default_rng(seed)
    return leaf(rng.uniform(0.05, 0.95, (5, 2))), rng.uniform(0, 1, (5, 2))


LOSSES.update(
    {
        "mse_loss": (
            F.mse_loss,
            lambda x, t: torch.nn.functional.mse_loss(x, torch.tensor(t)),
            regression_inputs,
        ),
        "l1_loss": (
            F.l1_loss,
            lambda x, t: torch.nn.functional.l1_loss(x, torch.tensor(t)),
            regression_inputs,
        ),
        "huber_loss": (
            lambda x, t: F.huber_loss(x, t, delta=1.5),
            lambda x, t: torch.nn.functional.huber_loss(x, torch.tensor(t), delta=1.5),
            regression_inputs,
        ),
        "smooth_l1_loss": (
            lambda x, t: F.smooth_l1_loss(x, t, beta=0.7, reduction="sum"),
            lambda x, t: torch.nn.functional.smooth_l1_loss(
                x, torch.tensor(t), beta=0.7, reduction="sum"
            ),
            regression_inputs,
        ),
        "smooth_l1_beta0": (
            lambda x, t: F.smooth_l1_loss(x, t, beta=0.0),
            lambda x, t: torch.nn.functional.smooth_l1_loss(x, torch.tensor(t), beta=0.0),
            regression_inputs,
        ),
        "binary_cross_entropy": (
            F.binary_cross_entropy,
            lambda x, t: torch.nn.functional.binary_cross_entropy(x, torch.tensor(t)),
            probability_inputs,
        ),
        "binary_cross_entropy_with_logits": (
            F.binary_cross_entropy_with_logits,
            lambda x, t: torch.nn.functional.binary_cross_entropy_with_logits(x, torch.tensor(t)),
            regression_inputs,
        ),
    }
)


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_gradcheck(name):
    ours, _, make = LOSSES[name]
    x, target = make()
    assert tc.gradcheck(lambda x: ours(x, target), x)


@needs_torch
@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_matches_torch(name):
    ours, theirs, make = LOSSES[name]
    x, target = make()
    assert_matches_torch(lambda x: ours(x, target), lambda x: theirs(x, target), x)


def test_bce_with_logits_is_stable():
    x = Tensor([-1000.0, 1000.0], requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, np.array([1.0, 0.0]))
    loss.backward()
    assert_close(loss.data, 1000.0) and np.isfinite(x.grad.data).all()


def test_bce_clamps_its_logs():
    loss = F.binary_cross_entropy(Tensor([0.0, 1.0]), np.array([1.0, 0.0]))
    assert_close(loss.data, 100.0)


@pytest.mark.parametrize(
    "call,message",
    [
        (
            lambda: F.binary_cross_entropy(Tensor([1.5]), np.array([1.0])),
            r"binary_cross_entropy: input must lie in \[0, 1\], got values from 1.5",
        ),
        (
            lambda: F.cross_entropy(Tensor(np.zeros((2, 3))), [0, 1], label_smoothing=1.5),
            r"cross_entropy: label_smoothing must be a number in \[0, 1\], got 1.5",
        ),
        (
            lambda: F.cross_entropy(Tensor(np.zeros((2, 3))), [0, 1], label_smoothing="a"),
            r"cross_entropy: label_smoothing must be a number in \[0, 1\], got 'a'",
        ),
        (
            lambda: F.cross_entropy(Tensor(np.zeros((2, 3))), [0, 1], reduction="avg"),
            "cross_entropy: reduction must be 'mean', 'sum' or 'none', got 'avg'",
        ),
        (
            lambda: F.mse_loss(Tensor([1.0]), np.array([1.0]), reduction="avg"),
            "mse_loss: reduction must be 'mean', 'sum' or 'none', got 'avg'",
        ),
        (
            lambda: F.huber_loss(Tensor([1.0]), np.array([1.0]), delta=0),
            "huber_loss: delta must be positive",
        ),
        (
            lambda: F.hardtanh(Tensor([1.0]), 1.0, 0.0),
            r"hardtanh: min_val \(1.0\) must be below max_val \(0.0\)",
        ),
        (
            lambda: F.gelu(Tensor([1.0]), approximate="erf"),
            "gelu: approximate must be 'none' or 'tanh', got 'erf'",
        ),
    ],
)
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_with_every_target_ignored_is_torchs(reduction, weighted):
    """A batch with no labelled sample (a segmentation crop of unlabelled pixels): mean 0/0 =
    nan, sum 0, none zeros, and zero gradients for sum and none, as PyTorch."""
    logits, targets = leaf(np.random.default_rng(0).standard_normal((3, 4))), np.array([-1, -1, -1])
    weight = np.array([1.0, 2.0, 3.0, 4.0]) if weighted else None
    with np.errstate(invalid="ignore"):  # 0/0, as PyTorch computes it
        ours = F.cross_entropy(logits, targets, weight, ignore_index=-1, reduction=reduction)
    theirs = torch.nn.functional.cross_entropy(
        torch_leaf(logits),
        torch.tensor(targets),
        None if weight is None else torch.tensor(weight),
        ignore_index=-1,
        reduction=reduction,
    )
    np.testing.assert_array_equal(ours.data, theirs.detach().numpy())
    if reduction != "mean":
        ours.sum().backward()
        assert np.all(logits.grad.data == 0)
