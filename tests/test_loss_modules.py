"""Loss modules and the loss options they need (class weights, pos_weight, kl_div): PyTorch
cross-checks of values and gradients, first and second gradchecks, buffers, reprs, errors."""

import numpy as np
import pytest
from helpers import assert_close, assert_matches_torch, leaf, needs_torch, torch

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, nn

RNG = np.random.default_rng(11)
CLASS_WEIGHT = RNG.uniform(0.2, 3.0, 4)
TARGETS = np.array([0, 3, 1, 1, 2, 3])
IGNORED = np.where(np.arange(6) % 3 == 1, -1, TARGETS)  # two samples ignored with ignore_index=-1
PROBABILITY_TARGET = RNG.uniform(0, 1, (5, 3))
ELEMENT_WEIGHT = RNG.uniform(0.5, 2.0, (5, 3))
POS_WEIGHT = RNG.uniform(0.5, 4.0, 3)
DISTRIBUTION = RNG.dirichlet(np.ones(4), 3)
DISTRIBUTION[0, 1] = 0.0  # a zero target probability contributes 0, as PyTorch's xlogy


def scores():
    return leaf(RNG.standard_normal((6, 4)) * 2)


def log_probs():
    return F.log_softmax(leaf(RNG.standard_normal((6, 4)) * 2), axis=1).detach().requires_grad_()


def values():
    return leaf(RNG.standard_normal((5, 3)) * 2)


def probabilities():
    return leaf(RNG.uniform(0.05, 0.95, (5, 3)))


def distributions():
    return F.log_softmax(leaf(RNG.standard_normal((3, 4))), axis=1).detach().requires_grad_()


def w(array):
    return Tensor(array, dtype=np.float64)


def tw(array):
    return torch.tensor(array)


TN = None if torch is None else torch.nn
CASES = {  # name: (our module, torch's, input maker, target)
    "cross_entropy": (
        lambda: nn.CrossEntropyLoss(),
        lambda: TN.CrossEntropyLoss(),
        scores,
        TARGETS,
    ),
    "cross_entropy_weight": (
        lambda: nn.CrossEntropyLoss(w(CLASS_WEIGHT)),
        lambda: TN.CrossEntropyLoss(tw(CLASS_WEIGHT)),
        scores,
        TARGETS,
    ),
    "cross_entropy_weight_smoothing_ignore": (
        lambda: nn.CrossEntropyLoss(w(CLASS_WEIGHT), ignore_index=-1, label_smoothing=0.2),
        lambda: TN.CrossEntropyLoss(tw(CLASS_WEIGHT), ignore_index=-1, label_smoothing=0.2),
        scores,
        IGNORED,
    ),
    "cross_entropy_weight_smoothing_sum": (
        lambda: nn.CrossEntropyLoss(w(CLASS_WEIGHT), reduction="sum", label_smoothing=0.3),
        lambda: TN.CrossEntropyLoss(tw(CLASS_WEIGHT), reduction="sum", label_smoothing=0.3),
        scores,
        TARGETS,
    ),
    "cross_entropy_weight_none_ignore": (
        lambda: nn.CrossEntropyLoss(
            w(CLASS_WEIGHT), ignore_index=-1, reduction="none", label_smoothing=0.1
        ),
        lambda: TN.CrossEntropyLoss(
            tw(CLASS_WEIGHT), ignore_index=-1, reduction="none", label_smoothing=0.1
        ),
        scores,
        IGNORED,
    ),
    "nll_weight": (
        lambda: nn.NLLLoss(w(CLASS_WEIGHT)),
        lambda: TN.NLLLoss(tw(CLASS_WEIGHT)),
        log_probs,
        TARGETS,
    ),
    "nll_weight_ignore": (
        lambda: nn.NLLLoss(w(CLASS_WEIGHT), ignore_index=-1),
        lambda: TN.NLLLoss(tw(CLASS_WEIGHT), ignore_index=-1),
        log_probs,
        IGNORED,
    ),
    "nll_none": (
        lambda: nn.NLLLoss(reduction="none"),
        lambda: TN.NLLLoss(reduction="none"),
        log_probs,
        TARGETS,
    ),
    "mse": (lambda: nn.MSELoss(), lambda: TN.MSELoss(), values, PROBABILITY_TARGET),
    "mse_sum": (
        lambda: nn.MSELoss(reduction="sum"),
        lambda: TN.MSELoss(reduction="sum"),
        values,
        PROBABILITY_TARGET,
    ),
    "l1_none": (
        lambda: nn.L1Loss(reduction="none"),
        lambda: TN.L1Loss(reduction="none"),
        values,
        PROBABILITY_TARGET,
    ),
    "smooth_l1": (
        lambda: nn.SmoothL1Loss(beta=0.4),
        lambda: TN.SmoothL1Loss(beta=0.4),
        values,
        PROBABILITY_TARGET,
    ),
    "huber": (
        lambda: nn.HuberLoss("sum", 0.6),
        lambda: TN.HuberLoss("sum", 0.6),
        values,
        PROBABILITY_TARGET,
    ),
    "bce": (lambda: nn.BCELoss(), lambda: TN.BCELoss(), probabilities, PROBABILITY_TARGET),
    "bce_weight": (
        lambda: nn.BCELoss(w(ELEMENT_WEIGHT)),
        lambda: TN.BCELoss(tw(ELEMENT_WEIGHT)),
        probabilities,
        PROBABILITY_TARGET,
    ),
    "bce_row_weight_none": (
        lambda: nn.BCELoss(w(ELEMENT_WEIGHT[:1]), reduction="none"),
        lambda: TN.BCELoss(tw(ELEMENT_WEIGHT[:1]), reduction="none"),
        probabilities,
        PROBABILITY_TARGET,
    ),
    "bce_logits_pos_weight": (
        lambda: nn.BCEWithLogitsLoss(pos_weight=w(POS_WEIGHT)),
        lambda: TN.BCEWithLogitsLoss(pos_weight=tw(POS_WEIGHT)),
        values,
        PROBABILITY_TARGET,
    ),
    "bce_logits_both_sum": (
        lambda: nn.BCEWithLogitsLoss(w(ELEMENT_WEIGHT), reduction="sum", pos_weight=w(POS_WEIGHT)),
        lambda: TN.BCEWithLogitsLoss(
            tw(ELEMENT_WEIGHT), reduction="sum", pos_weight=tw(POS_WEIGHT)
        ),
        values,
        PROBABILITY_TARGET,
    ),
    "kl_div": (lambda: nn.KLDivLoss(), lambda: TN.KLDivLoss(), distributions, DISTRIBUTION),
    "kl_div_batchmean": (
        lambda: nn.KLDivLoss(reduction="batchmean"),
        lambda: TN.KLDivLoss(reduction="batchmean"),
        distributions,
        DISTRIBUTION,
    ),
    "kl_div_sum": (
        lambda: nn.KLDivLoss(reduction="sum"),
        lambda: TN.KLDivLoss(reduction="sum"),
        distributions,
        DISTRIBUTION,
    ),
    "kl_div_log_target_none": (
        lambda: nn.KLDivLoss(reduction="none", log_target=True),
        lambda: TN.KLDivLoss(reduction="none", log_target=True),
        distributions,
        np.log(DISTRIBUTION[::-1] + 0.1),
    ),
}


@needs_torch
# torch's kl_div notice
@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")
@pytest.mark.parametrize("name", list(CASES))
def test_loss_modules_match_torch(name):
    ours, theirs, make, target = CASES[name]
    ours, theirs = ours(), theirs()
    torch_target = torch.tensor(target)
    assert_matches_torch(lambda x: ours(x, target), lambda x: theirs(x, torch_target), make())


@pytest.mark.parametrize("name", list(CASES))
def test_loss_modules_gradcheck_once_and_twice(name):
    ours, _, make, target = CASES[name]
    loss = ours()
    assert tc.gradcheck(lambda x: loss(x, target), make())
    assert tc.gradgradcheck(lambda x: loss(x, target), make())


@needs_torch
@pytest.mark.parametrize("name", list(CASES))
def test_no_parameters_buffers_named_and_repr_as_torch(name):
    ours, theirs, _, _ = CASES[name]
    ours, theirs = ours(), theirs()
    assert ours.parameters() == []
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert_close(ours.state_dict()[key], value.numpy())
    assert repr(ours) == repr(theirs)


@needs_torch
def test_the_functional_options_match_torch():
    x, target = scores(), TARGETS
    assert_matches_torch(
        lambda x: F.cross_entropy(x, target, w(CLASS_WEIGHT), label_smoothing=0.15),
        lambda x: torch.nn.functional.cross_entropy(
            x, tw(target), tw(CLASS_WEIGHT), label_smoothing=0.15
        ),
        x,
    )
    assert_matches_torch(
        lambda x: F.nll_loss(x, IGNORED, CLASS_WEIGHT, ignore_index=-1, reduction="sum"),
        lambda x: torch.nn.functional.nll_loss(
            x, tw(IGNORED), tw(CLASS_WEIGHT), ignore_index=-1, reduction="sum"
        ),
        log_probs(),
    )
    assert_matches_torch(
        lambda x: F.binary_cross_entropy_with_logits(
            x, PROBABILITY_TARGET, ELEMENT_WEIGHT, pos_weight=POS_WEIGHT
        ),
        lambda x: torch.nn.functional.binary_cross_entropy_with_logits(
            x, tw(PROBABILITY_TARGET), tw(ELEMENT_WEIGHT), pos_weight=tw(POS_WEIGHT)
        ),
        values(),
    )
    assert_matches_torch(
        lambda x: F.kl_div(x, DISTRIBUTION, reduction="batchmean"),
        lambda x: torch.nn.functional.kl_div(x, tw(DISTRIBUTION), reduction="batchmean"),
        distributions(),
    )


def test_gradients_reach_the_weights():
    # torch refuses to differentiate pos_weight; ours is a composition, so the gradient is there
    x = values()
    assert tc.gradcheck(
        lambda x, w, p: F.binary_cross_entropy_with_logits(x, PROBABILITY_TARGET, w, pos_weight=p),
        x,
        leaf(ELEMENT_WEIGHT),
        leaf(POS_WEIGHT),
    )
    assert tc.gradcheck(
        lambda x, w: F.cross_entropy(x, IGNORED, w, ignore_index=-1, label_smoothing=0.2),
        scores(),
        leaf(CLASS_WEIGHT),
    )


@needs_torch
def test_gradient_reaches_the_kl_target():
    target = leaf(DISTRIBUTION + 0.05)
    their_target = torch.tensor(target.data, requires_grad=True)
    log_q = distributions()
    F.kl_div(log_q, target, reduction="sum").backward()
    torch.nn.functional.kl_div(torch.tensor(log_q.data), their_target, reduction="sum").backward()
    assert_close(target.grad.data, their_target.grad.numpy())


def test_batchmean_is_the_kl_divergence_per_sample():
    q = F.softmax(Tensor(RNG.standard_normal((3, 4)), dtype=np.float64), axis=1)
    p = DISTRIBUTION
    per_sample = np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1) / q.data), 0.0), axis=1)
    assert_close(F.kl_div(q.log(), p, reduction="batchmean").item(), per_sample.mean())
    assert_close(F.kl_div(q.log(), p).item(), per_sample.sum() / p.size)


def test_float32_stays_float32_with_float64_weights():
    x = Tensor(RNG.standard_normal((6, 4)), requires_grad=True)
    for loss in (
        nn.CrossEntropyLoss(w(CLASS_WEIGHT), label_smoothing=0.1)(x, TARGETS),
        nn.BCEWithLogitsLoss(w(CLASS_WEIGHT), pos_weight=w(CLASS_WEIGHT))(x, np.ones((6, 4))),
    ):
        loss.backward()
        assert loss.dtype == x.grad.dtype == np.float32


def test_weights_are_buffers_that_keep_a_tensors_dtype_and_follow_to():
    loss = nn.BCEWithLogitsLoss(w(ELEMENT_WEIGHT), pos_weight=POS_WEIGHT)
    assert [n for n, _ in loss.named_buffers()] == ["weight", "pos_weight"]
    # an array: float32, as Tensor()
    assert loss.weight.dtype == np.float64 and loss.pos_weight.dtype == np.float32
    loss.to(np.float64)
    assert loss.pos_weight.dtype == np.float64
    assert_close(loss.pos_weight.data, POS_WEIGHT.astype(np.float32))


@pytest.mark.parametrize(
    "call,message",
    [
        (
            lambda: F.cross_entropy(Tensor(np.zeros((2, 3))), [0, 1], np.ones(4)),
            r"cross_entropy: weight must have shape \(3,\) for input \(2, 3\), got \(4,\)",
        ),
        (
            lambda: nn.NLLLoss(np.ones((3, 1)))(Tensor(np.zeros((2, 3))), [0, 1]),
            r"nll_loss: weight must have shape \(3,\) for input \(2, 3\), got \(3, 1\)",
        ),
        (
            lambda: F.binary_cross_entropy(
                Tensor(np.full((2, 3), 0.5)), np.ones((2, 3)), np.ones((3, 3))
            ),
            r"binary_cross_entropy: weight of shape \(3, 3\) "
            r"must broadcast to the input's shape \(2, 3\)",
        ),
        (
            lambda: nn.BCEWithLogitsLoss(pos_weight=np.ones(2))(
                Tensor(np.zeros((2, 3))), np.ones((2, 3))
            ),
            r"binary_cross_entropy_with_logits: pos_weight of shape \(2,\) "
            r"must broadcast to the input's shape \(2, 3\)",
        ),
        (
            lambda: F.kl_div(Tensor(np.zeros((2, 3))), np.ones((2, 3)), reduction="avg"),
            "kl_div: reduction must be 'mean', 'batchmean', 'sum' or 'none', got 'avg'",
        ),
        (
            lambda: nn.KLDivLoss()(Tensor(np.zeros((2, 3))), np.full((2, 3), -0.5)),
            r"kl_div: target must be probabilities, got values down to -0.5 "
            r"\(for log-probabilities pass log_target=True\)",
        ),
        (
            lambda: nn.KLDivLoss()(Tensor(np.zeros((2, 3))), np.ones((3, 2))),
            r"kl_div: input shape \(2, 3\) differs from target shape \(3, 2\)",
        ),
        (
            lambda: nn.MSELoss(reduction="batchmean")(Tensor(np.zeros(2)), np.zeros(2)),
            "mse_loss: reduction must be 'mean', 'sum' or 'none', got 'batchmean'",
        ),
    ],
)
def test_bad_options_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_options_after_weight_are_keyword_only():
    with pytest.raises(TypeError):
        nn.CrossEntropyLoss(None, None, -100)  # torch's order has the deprecated size_average here
    assert nn.HuberLoss("sum", 0.5).delta == 0.5  # HuberLoss has no deprecated arguments
