"""Optimizers and schedules give torch.optim's numbers, step for step, parameter group by group."""

import copy

import numpy as np
import pytest
from helpers import assert_close, needs_torch, torch

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor, optim


def loss_of(w, x):
    """A non-quadratic loss so momentum and Adam's moments matter: sum(tanh(x @ w)^2)."""
    return ((x @ w).tanh() ** 2).sum()


def run_ours(make, steps=6):
    rng = np.random.default_rng(0)
    w = Tensor(rng.standard_normal((3, 2)), requires_grad=True, dtype=np.float64)
    x = Tensor(rng.standard_normal((4, 3)), dtype=np.float64)
    opt = make([w])
    trajectory = []
    for _ in range(steps):
        opt.zero_grad()
        loss_of(w, x).backward()
        opt.step()
        trajectory.append(w.data.copy())
    return np.array(trajectory)


def run_torch(make, steps=6):
    """The same run in torch, with float64 as its default dtype: torch keeps some scalar state
    (NAdam's momentum product) in the default dtype, and we compare to float64 precision."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        return _run_torch(make, steps)
    finally:
        torch.set_default_dtype(previous)


def _run_torch(make, steps):
    rng = np.random.default_rng(0)
    w = torch.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    x = torch.tensor(rng.standard_normal((4, 3)))
    opt = make([w])
    trajectory = []
    for _ in range(steps):
        opt.zero_grad()
        (torch.tanh(x @ w) ** 2).sum().backward()
        opt.step()
        trajectory.append(w.detach().numpy().copy())
    return np.array(trajectory)


SETTINGS = {  # label: (our class, torch's class name, keyword arguments)
    "sgd": ("SGD", dict(lr=0.1)),
    "sgd_momentum": ("SGD", dict(lr=0.1, momentum=0.9)),
    "sgd_nesterov_decay": ("SGD", dict(lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.01)),
    "adagrad": ("Adagrad", dict(lr=0.1)),
    "adagrad_decay": (
        "Adagrad",
        dict(lr=0.1, lr_decay=0.1, weight_decay=0.05, initial_accumulator_value=0.2),
    ),
    "rmsprop": ("RMSprop", dict(lr=0.01)),
    "rmsprop_centered_momentum": (
        "RMSprop",
        dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.1),
    ),
    "adadelta": ("Adadelta", dict()),
    "adadelta_decay": ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.1)),
    "adam": ("Adam", dict(lr=0.05)),
    "adam_decay_betas": ("Adam", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    "amsgrad": ("Adam", dict(lr=0.05, amsgrad=True)),
    "adamw": ("AdamW", dict(lr=0.05)),
    "adamw_amsgrad": ("AdamW", dict(lr=0.05, weight_decay=0.1, amsgrad=True)),
    "adamax": ("Adamax", dict(lr=0.05)),
    "adamax_decay": ("Adamax", dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1)),
    "nadam": ("NAdam", dict(lr=0.05)),
    "nadam_decay": ("NAdam", dict(lr=0.05, weight_decay=0.1, momentum_decay=0.01)),
}


@needs_torch
@pytest.mark.parametrize("label", list(SETTINGS))
def test_trajectory_matches_torch(label):
    name, kwargs = SETTINGS[label]
    ours, theirs = getattr(optim, name), getattr(torch.optim, name)
    assert_close(
        run_ours(lambda p: ours(p, **kwargs)),
        run_torch(lambda p: theirs(p, **kwargs)),
        atol=1e-12,
        rtol=1e-10,
    )


def one_step(make, w0=1.0, steps=1):
    """Minimise w^2 from w0 (gradient 2w) and return w after ``steps``."""
    w = Tensor([w0], requires_grad=True, dtype=np.float64)
    opt = make([w])
    for _ in range(steps):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
    return w.data[0], opt


def test_rmsprop_graves_by_hand():
    # g = 2: n = 0.05 * 4 = 0.2, m = 0.05 * 2 = 0.1, delta = -0.1 * 2 / sqrt(0.2 - 0.01 + 1e-4)
    w, _ = one_step(lambda p: optim.RMSpropGraves(p, lr=0.1))
    assert_close(w, 1 - 0.2 / np.sqrt(0.1901))


def test_adabound_lower_bound_by_hand():
    # m = 0.2, v = 0.004: step_size / denom = 1e-3 * sqrt(1e-3) / 0.1 / sqrt(0.004) = 0.005, but the
    # lower bound 0.1 * (1 - 1 / (0.5 + 1)) = 1/30 wins, so w = 1 - 0.2 / 30
    w, _ = one_step(lambda p: optim.AdaBound(p, lr=1e-3, gamma=0.5))
    assert_close(w, 1 - 0.2 / 30)
    # inside the bounds: plain Adam step
    w, _ = one_step(lambda p: optim.AdaBound(p, lr=1e-3, gamma=1e-3))
    assert_close(w, 1 - 0.005 * 0.2, rtol=1e-6)


def test_amsbound_keeps_the_largest_second_moment():
    w = Tensor([1.0], requires_grad=True, dtype=np.float64)
    opt = optim.AMSBound([w], lr=1e-3)
    for g in (10.0, 0.01):  # v falls after the large gradient; its maximum must not
        w.grad = Tensor([g], dtype=np.float64)
        opt.step()
    state = opt.state[0]
    assert_close(state["max_exp_avg_sq"], [0.001 * 100])
    assert state["exp_avg_sq"][0] < state["max_exp_avg_sq"][0]


def test_adabelief_by_hand():
    # g = 2: m = 0.2, s = 0.001 * (2 - 0.2)^2 = 0.00324; m_hat = 2, s_hat = 3.24;
    # w = 1 - 0.1 * 2 / 1.8
    w, _ = one_step(lambda p: optim.AdaBelief(p, lr=0.1))
    assert_close(w, 1 - 0.1 * 2 / 1.8)


def test_smorms3_by_hand():
    # step 1: r = 1/2, m = 1, v = 2, x = 1/2, w = 1 - 2 * min(0.01, 0.5) / sqrt(2), mem = 1.5
    w1 = 1 - 2 * 0.01 / np.sqrt(2)
    # step 2: g = 2 w1, r = 1/2.5, m = 0.6 * 1 + 0.4 g, v = 0.6 * 2 + 0.4 g^2
    g = 2 * w1
    m, v = 0.6 + 0.4 * g, 1.2 + 0.4 * g * g
    w2 = w1 - g * min(0.01, m * m / v) / np.sqrt(v)
    w, opt = one_step(lambda p: optim.SMORMS3(p, lr=0.01), steps=2)
    assert_close(w, w2)
    assert_close(opt.state[0]["mem"], 1 + 1.5 * (1 - m * m / v))


@pytest.mark.parametrize("name", list(optim.OPTIMIZERS))
def test_every_optimizer_decreases_a_quadratic(name):
    w, _ = one_step(
        lambda p: optim.create(name, p, 0.05 if name != "adadelta" else 1.0), w0=2.0, steps=30
    )
    assert abs(w) < 2.0


def test_sgd_by_hand():
    w = Tensor([1.0, -2.0], requires_grad=True, dtype=np.float64)
    opt = optim.SGD([w], lr=0.1, momentum=0.5)
    for _ in range(2):
        opt.zero_grad()
        (w * w).sum().backward()  # grad = 2w
        opt.step()
    # step 1: buf = 2w0 = (2, -4), w1 = (0.8, -1.6); step 2: buf = 0.5*buf + 2w1 = (2.6, -5.2)
    assert_close(w.data, [0.8 - 0.26, -1.6 + 0.52])


def test_adam_first_step_moves_each_weight_by_lr():
    w = Tensor([3.0, -0.001], requires_grad=True, dtype=np.float64)
    opt = optim.Adam([w], lr=0.01)
    (w * w).sum().backward()
    opt.step()
    assert_close(w.data, [3.0 - 0.01, -0.001 + 0.01], atol=1e-7)


def test_step_keeps_float32():
    w = Tensor(np.ones(3), requires_grad=True)
    for opt in (
        optim.SGD([w], lr=0.1, momentum=0.9, weight_decay=0.1),
        optim.Adam([w], weight_decay=0.1),
    ):
        (w * w).sum().backward()
        opt.step()
        assert w.dtype == np.float32


def test_parameters_without_grad_are_skipped():
    a, b = Tensor([1.0], requires_grad=True), Tensor([1.0], requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    (a * 2.0).sum().backward()
    opt.step()
    assert b.data[0] == 1.0 and a.data[0] != 1.0


# ---- parameter groups ----------------------------------------------------------------------------
# optimizer name: (class, constructor options (group 0 takes them), group 1's own options)
GROUPS = {
    "sgd": ("SGD", dict(lr=0.1), dict(lr=0.03, weight_decay=0.1)),
    "momentum": ("SGD", dict(lr=0.1, momentum=0.9), dict(lr=0.03, momentum=0.5, weight_decay=0.1)),
    "nesterov": (
        "SGD",
        dict(lr=0.1, momentum=0.9, nesterov=True),
        dict(lr=0.03, momentum=0.6, weight_decay=0.05),
    ),
    "adagrad": (
        "Adagrad",
        dict(lr=0.1, initial_accumulator_value=0.2),
        dict(lr=0.05, lr_decay=0.1, weight_decay=0.05),
    ),
    "rmsprop": (
        "RMSprop",
        dict(lr=0.01),
        dict(lr=0.03, momentum=0.5, centered=True, weight_decay=0.1),
    ),
    "rmsprop_graves": ("RMSpropGraves", dict(lr=0.01), dict(lr=0.003, momentum=0.5, alpha=0.9)),
    "adadelta": ("Adadelta", dict(lr=1.0), dict(lr=0.5, rho=0.8, weight_decay=0.1)),
    "adam": ("Adam", dict(lr=0.05), dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
    "adamw": ("AdamW", dict(lr=0.05), dict(lr=0.01, weight_decay=0.1)),
    "adamax": ("Adamax", dict(lr=0.05), dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
    "nadam": ("NAdam", dict(lr=0.05), dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01)),
    "amsgrad": ("Adam", dict(lr=0.05, amsgrad=True), dict(lr=0.01, weight_decay=0.1)),
    "adabound": (
        "AdaBound",
        dict(lr=0.01, gamma=0.1),
        dict(lr=0.002, final_lr=0.05, weight_decay=0.1),
    ),
    "amsbound": (
        "AMSBound",
        dict(lr=0.01, gamma=0.1),
        dict(lr=0.002, final_lr=0.05, weight_decay=0.1),
    ),
    "adabelief": ("AdaBelief", dict(lr=0.05), dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
    "smorms3": ("SMORMS3", dict(lr=0.05), dict(lr=0.01, eps=1e-8)),
}
IN_TORCH = (
    [
        name
        for name, (cls, _, _) in GROUPS.items()
        if hasattr(torch, "optim") and hasattr(torch.optim, cls)
    ]
    if torch is not None
    else []
)


def test_the_group_table_covers_every_optimizer():
    assert list(GROUPS) == list(optim.OPTIMIZERS)
    for name, (cls, _, _) in GROUPS.items():  # the factory builds the same class
        assert type(optim.create(name, [Tensor([1.0])], 0.1)) is getattr(optim, cls)


def two_parameters(lib):
    """w (3, 2) and a bias b (2,) of the loss sum(tanh(x @ w + b)^2), float64, in our Tensors or
    torch's."""
    rng = np.random.default_rng(1)
    w, b, x = rng.standard_normal((3, 2)), rng.standard_normal(2), rng.standard_normal((4, 3))
    if lib == "ours":
        return (
            Tensor(w, requires_grad=True, dtype=np.float64),
            Tensor(b, requires_grad=True, dtype=np.float64),
            Tensor(x, dtype=np.float64),
        )
    return torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True), torch.tensor(x)


def train(lib, make, steps=5, add_at=None, group=None):
    """The (w, b) trajectory of ``steps`` steps of ``make(params)``; with ``add_at``, the
    optimizer starts with w alone and b joins as ``group`` after ``add_at`` steps."""
    w, b, x = two_parameters(lib)
    opt = make([w] if add_at is not None else [{"params": [w]}, {"params": [b], **group}])
    trajectory = []
    for step in range(steps):
        if step == add_at:
            opt.add_param_group({"params": [b], **group})
        opt.zero_grad()
        loss = (
            ((x @ w + b).tanh() ** 2).sum() if lib == "ours" else (torch.tanh(x @ w + b) ** 2).sum()
        )
        loss.backward()
        opt.step()
        trajectory.append(
            [t.detach().numpy().copy() if lib == "torch" else t.data.copy() for t in (w, b)]
        )
    return trajectory


def torch_train(make, **kwargs):
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # NAdam's scalar state, as run_torch
    try:
        return train("torch", make, **kwargs)
    finally:
        torch.set_default_dtype(previous)


def assert_same_trajectories(ours, theirs, atol=1e-12, rtol=1e-10):
    for step, (mine, other) in enumerate(zip(ours, theirs, strict=True)):
        for name, a, b in zip("wb", mine, other):
            np.testing.assert_allclose(
                a, b, atol=atol, rtol=rtol, err_msg=f"{name} after step {step + 1}"
            )


@needs_torch
@pytest.mark.parametrize("name", IN_TORCH)
def test_two_groups_match_torch(name):
    cls, defaults, group = GROUPS[name]
    ours = train("ours", lambda p: getattr(optim, cls)(p, **defaults), group=group)
    theirs = torch_train(lambda p: getattr(torch.optim, cls)(p, **defaults), group=group)
    assert_same_trajectories(ours, theirs)
    assert not np.allclose(ours[-1][1], two_parameters("ours")[1].data)  # group 1 did move


@pytest.mark.parametrize("name", list(GROUPS))
def test_two_groups_step_as_two_optimizers_would(name):
    """Each group follows its own options: the same steps as one optimizer per parameter,
    built with that group's options (also for the optimizers torch lacks)."""
    cls, defaults, group = GROUPS[name]
    make = getattr(optim, cls)
    grouped = train("ours", lambda p: make(p, **defaults), group=group)

    w, b, x = two_parameters("ours")
    apart = [make([w], **defaults), make([b], **{**defaults, **group})]
    separate = []
    for _ in range(5):
        for opt in apart:
            opt.zero_grad()
        ((x @ w + b).tanh() ** 2).sum().backward()
        for opt in apart:
            opt.step()
        separate.append([w.data.copy(), b.data.copy()])
    assert_same_trajectories(grouped, separate, atol=0, rtol=0)
    # group 1 on the defaults moves elsewhere
    shared = train("ours", lambda p: make(p, **defaults), group={})
    assert not np.allclose(shared[-1][1], grouped[-1][1])


@needs_torch
@pytest.mark.parametrize("name", IN_TORCH)
def test_add_param_group_mid_training_matches_torch(name):
    cls, defaults, group = GROUPS[name]
    ours = train("ours", lambda p: getattr(optim, cls)(p, **defaults), add_at=2, group=group)
    theirs = torch_train(lambda p: getattr(torch.optim, cls)(p, **defaults), add_at=2, group=group)
    assert_same_trajectories(ours, theirs)
    assert np.array_equal(ours[1][1], two_parameters("ours")[1].data) and not np.array_equal(
        ours[2][1], ours[1][1]
    )


def test_adagrad_reads_initial_accumulator_value_per_group():
    # torch.optim.Adagrad fills every group's sum from the constructor's value; each group's own
    # is used here
    a, b = (
        Tensor([1.0], requires_grad=True, dtype=np.float64),
        Tensor([1.0], requires_grad=True, dtype=np.float64),
    )
    opt = optim.Adagrad(
        [{"params": [a]}, {"params": [b], "initial_accumulator_value": 5.0}], lr=0.1
    )
    (a * a + b * b).sum().backward()  # both gradients are 2
    opt.step()
    assert_close([a.data[0], b.data[0]], [1 - 0.1 * 2 / 2, 1 - 0.1 * 2 / 3])


def test_groups_take_missing_options_from_the_defaults():
    a, b = Tensor([1.0]), Tensor([2.0])
    opt = optim.SGD(
        [{"params": [a]}, {"params": b, "lr": 0.5, "name": "head"}], lr=0.1, momentum=0.9
    )
    assert opt.defaults == {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.0, "nesterov": False}
    first, second = opt.param_groups
    assert first["params"] == [a] and {k: first[k] for k in opt.defaults} == opt.defaults
    assert second["params"][0] is b and second["lr"] == 0.5 and second["momentum"] == 0.9
    assert second["name"] == "head"  # other keys are kept, as PyTorch
    assert len(opt.params) == 2 and opt.params[1] is b and len(opt.state) == 2


def test_hyper_parameters_live_in_the_groups_only():
    opt = optim.Adam([Tensor([1.0], requires_grad=True)], lr=0.1)
    with pytest.raises(
        AttributeError,
        match=r"Adam has no attribute 'lr': each parameter group has its own, "
        r"optimizer.param_groups\[i\]\['lr'\]",
    ):
        _ = opt.lr
    with pytest.raises(AttributeError, match=r"Adam: set betas per parameter group"):
        opt.betas = (0.5, 0.9)  # would otherwise be silently ignored by step()
    with pytest.raises(AttributeError, match="'Adam' object has no attribute 'nonsense'"):
        _ = opt.nonsense


@pytest.mark.parametrize(
    "groups, error, message",
    [
        (
            [{"params": [Tensor([1.0])], "lr": -1.0}],
            ValueError,
            r"SGD parameter group 0: lr must be a number in \[0.0, inf\), got -1.0",
        ),
        (
            [
                {"params": [Tensor([1.0])]},
                {"params": [Tensor([1.0])], "momentum": 0.0, "nesterov": True},
            ],
            ValueError,
            r"SGD parameter group 1: nesterov=True needs a momentum > 0",
        ),
        (
            [{"params": [Tensor([1.0])], "nesterov": "yes"}],
            TypeError,
            r"SGD parameter group 0: nesterov must be True or False, got 'yes'",
        ),
        ([{"lr": 0.1}], TypeError, r"SGD.add_param_group: expected a dict with a 'params' entry"),
        (
            [{"params": {Tensor([1.0])}}],
            TypeError,
            r"SGD parameter group 0: params must be an ordered collection of Tensors, got set",
        ),
        (
            [{"params": [Tensor([1.0]), np.ones(2)]}],
            TypeError,
            r"SGD parameter group 0: parameter 1 must be a Tensor, got ndarray",
        ),
    ],
)
def test_groups_are_checked_as_the_constructor_checks(groups, error, message):
    with pytest.raises(error, match=message):
        optim.SGD(groups, lr=0.1, momentum=0.9)


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda p: optim.SGD([{"params": p, "maximize": True}], lr=0.1, momentum=0.9),
            r"SGD parameter group 0: 'maximize' is an option of torch.optim "
            r"that SGD does not implement",
        ),
        (
            lambda p: optim.SGD([{"params": p, "dampening": 0.5}], lr=0.1, momentum=0.9),
            r"SGD parameter group 0: 'dampening' is an option of torch.optim "
            r"that SGD does not implement",
        ),
        (
            lambda p: optim.Adam([{"params": p, "weight_decy": 0.1}]),
            r"Adam parameter group 0: unknown option 'weight_decy'; did you mean 'weight_decay'\?",
        ),
        (
            lambda p: optim.Adam([{"params": p, "LR": 0.1}]),
            r"Adam parameter group 0: unknown option 'LR'; did you mean 'lr'\?",
        ),
        (
            lambda p: optim.Adam([{"params": p, "momentum": 0.9}]),
            r"Adam parameter group 0: 'momentum' is an option of RMSprop, RMSpropGraves, SGD, "
            r"not of Adam, whose options are lr, betas, eps, weight_decay, amsgrad",
        ),
        (
            lambda p: optim.SMORMS3([{"params": p, "weight_decay": 0.1}]),
            r"SMORMS3 parameter group 0: 'weight_decay' is an option of AMSBound, AdaBelief, .*, "
            r"SGD, not of SMORMS3, whose options are lr, eps",
        ),
        (
            lambda p: optim.AdamW(p).add_param_group({"params": [Tensor([2.0])], "foreach": True}),
            r"AdamW parameter group 1: 'foreach' is an option of torch.optim "
            r"that AdamW does not implement",
        ),
        (
            lambda p: optim.AdaBound([{"params": p, "final_lr": 0.1, "fnal_lr": 0.2}]),
            r"AdaBound parameter group 0: unknown option 'fnal_lr'; did you mean 'final_lr'\?",
        ),
    ],
)
def test_group_options_the_optimizer_would_ignore_are_refused(make, message):
    """torch keeps unknown group keys; an option of torch or of another optimizer, or a
    misspelt one, would be silently ignored by step(), so it is refused by name."""
    with pytest.raises(ValueError, match=message):
        make([Tensor([1.0], requires_grad=True)])


def test_free_group_keys_stay_and_refused_ones_are_refused_on_load_too():
    opt = optim.SGD(
        [{"params": [Tensor([1.0], requires_grad=True)], "name": "head", "layer_id": 3}], lr=0.1
    )
    # metadata, as torch
    assert opt.param_groups[0]["name"] == "head" and opt.param_groups[0]["layer_id"] == 3
    saved = opt.state_dict()
    saved["param_groups"][0]["maximize"] = True
    with pytest.raises(
        ValueError,
        match=r"SGD.load_state_dict: SGD parameter group 0: 'maximize' is an option of "
        r"torch.optim that SGD does not implement",
    ):
        opt.load_state_dict(saved)
    assert "maximize" not in opt.param_groups[0]


def test_non_leaf_tensors_are_refused_as_torch():
    w = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(
        ValueError,
        match=r"SGD: parameter 1 of shape \(2,\) is the result of an operation; can't "
        r"optimize a non-leaf Tensor",
    ):
        optim.SGD([w, w * 2.0], lr=0.1)
    opt = optim.Adam([w])
    with pytest.raises(
        ValueError,
        match=r"Adam parameter group 1: parameter 0 of shape \(2,\) is the result of an "
        r"operation",
    ):
        opt.add_param_group({"params": [w + 1.0]})
    optim.SGD([(w * 2.0).detach()], lr=0.1)  # cut from the graph, it is a leaf again


def test_a_parameter_in_two_groups_is_refused_by_name():
    a, b = Tensor([1.0]), Tensor(np.zeros((2, 3)))
    b.name = "fc.weight"
    with pytest.raises(
        ValueError,
        match=r"SGD parameter group 1: parameter 0 \(fc.weight\) of shape \(2, 3\) is "
        r"already in parameter group 0; a parameter may be in one group only",
    ):
        optim.SGD([{"params": [a, b]}, {"params": [b]}], lr=0.1)
    opt = optim.Adam([a])
    with pytest.raises(
        ValueError,
        match=r"Adam parameter group 1: parameter 1 of shape \(1,\) "
        r"is already in parameter group 0",
    ):
        opt.add_param_group({"params": [b, a]})
    with pytest.raises(
        ValueError,
        match=r"Adam parameter group 1: parameter 1 \(fc.weight\) of shape \(2, 3\) "
        r"is listed twice",
    ):
        opt.add_param_group({"params": [b, b]})
    with pytest.raises(ValueError, match=r"Adam parameter group 1: lr must be a number"):
        opt.add_param_group({"params": [b], "lr": float("nan")})
    # every refusal left the optimizer as it was
    assert len(opt.param_groups) == 1 and len(opt.state) == 1
    with pytest.raises(
        TypeError, match=r"Adam: params must be an iterable of Tensors or of dicts, got a Tensor"
    ):
        optim.Adam(a)


def test_frozen_parameters_in_a_group_are_kept_and_skipped():
    frozen, live = Tensor([1.0], requires_grad=False), Tensor([1.0], requires_grad=True)
    opt = optim.SGD([{"params": [frozen], "lr": 1.0}, {"params": [live]}], lr=0.1)
    (live * frozen * 3.0).sum().backward()
    opt.step()
    assert frozen.data[0] == 1.0 and live.data[0] == pytest.approx(0.7) and opt.state[0] == {}


def stepped(name, lr_scale=1.0, steps=2):
    """A two-group optimizer ``name`` after ``steps`` steps on two_parameters, with (w, b, x)."""
    cls, defaults, group = GROUPS[name]
    w, b, x = two_parameters("ours")
    opt = getattr(optim, cls)(
        [{"params": [w]}, {"params": [b], **group}], **{**defaults, "lr": defaults["lr"] * lr_scale}
    )
    for _ in range(steps):
        opt.zero_grad()
        ((x @ w + b).tanh() ** 2).sum().backward()
        opt.step()
    return opt, (w, b, x)


@pytest.mark.parametrize("name", list(GROUPS))
def test_state_dict_round_trips_groups_through_a_checkpoint(name, tmp_path):
    opt, (w, b, x) = stepped(name)
    tc.save({"optimizer": opt.state_dict()}, tmp_path / "c.npz")
    twin, (w2, b2, _) = stepped(name, lr_scale=3.0, steps=0)  # other lrs, no state
    w2.data, b2.data = w.data.copy(), b.data.copy()
    twin.load_state_dict(tc.load(tmp_path / "c.npz")["optimizer"])
    for mine, theirs in zip(opt.param_groups, twin.param_groups):
        assert {k: v for k, v in mine.items() if k != "params"} == {
            k: v for k, v in theirs.items() if k != "params"
        }
    assert twin.param_groups[1]["params"][0] is b2  # the twin keeps its own tensors
    for _ in range(3):  # and continues exactly as the original
        for o, (p, q) in ((opt, (w, b)), (twin, (w2, b2))):
            o.zero_grad()
            ((x @ p + q).tanh() ** 2).sum().backward()
            o.step()
    np.testing.assert_array_equal(w2.data, w.data)
    np.testing.assert_array_equal(b2.data, b.data)


@pytest.mark.parametrize("name", list(GROUPS))
def test_load_state_dict_refuses_a_bad_group_option_and_changes_nothing(name):
    opt, _ = stepped(name)
    twin, _ = stepped(name, lr_scale=3.0, steps=1)
    params = [[id(p) for p in g["params"]] for g in twin.param_groups]
    options = [{k: v for k, v in g.items() if k != "params"} for g in twin.param_groups]
    state = copy.deepcopy(twin.state)
    saved = opt.state_dict()
    saved["param_groups"][1]["lr"] = -5.0
    with pytest.raises(
        ValueError,
        match=rf"{type(opt).__name__}.load_state_dict: {type(opt).__name__} parameter "
        rf"group 1: lr must be a number in \[0.0, inf\), got -5",
    ):
        twin.load_state_dict(saved)
    assert [[id(p) for p in g["params"]] for g in twin.param_groups] == params
    assert [{k: v for k, v in g.items() if k != "params"} for g in twin.param_groups] == options
    for mine, before in zip(twin.state, state, strict=True):
        assert mine.keys() == before.keys() and all(
            np.array_equal(mine[k], before[k]) for k in mine
        )


def test_load_state_dict_checks_the_groups_shape():
    opt, _ = stepped("adam")
    state = opt.state_dict()
    single = optim.Adam([Tensor(np.zeros((3, 2))), Tensor(np.zeros(2))])
    with pytest.raises(
        ValueError,
        match=r"Adam.load_state_dict: parameter groups of sizes \[1, 1\], this optimizer has \[2\]",
    ):
        single.load_state_dict(state)
    with pytest.raises(
        ValueError, match=r"Adam.load_state_dict: parameter group 1 has no betas, amsgrad"
    ):
        opt.load_state_dict(
            {
                **state,
                "param_groups": [
                    state["param_groups"][0],
                    {
                        k: v
                        for k, v in state["param_groups"][1].items()
                        if k not in ("betas", "amsgrad")
                    },
                ],
            }
        )
    with pytest.raises(
        ValueError,
        match=r"Adam.load_state_dict: param_groups must be a list of dicts with a 'params' entry",
    ):
        opt.load_state_dict({**state, "param_groups": [{"lr": 0.1}]})


def test_a_state_saved_before_parameter_groups_still_loads():
    w = Tensor([1.0, -2.0], requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    old = {
        "type": "Adam",
        "hyper": {
            "lr": 0.02,
            "betas": (0.5, 0.9),
            "eps": 1e-8,
            "weight_decay": 0.0,
            "amsgrad": False,
        },
        "state": [{"step": 3, "exp_avg": np.ones(2), "exp_avg_sq": np.ones(2)}],
    }
    opt.load_state_dict(old)
    assert opt.param_groups[0]["lr"] == 0.02 and opt.param_groups[0]["betas"] == (0.5, 0.9)
    assert opt.state[0]["step"] == 3 and opt.state[0]["exp_avg"].dtype == np.float32


# ---- learning-rate schedules ---------------------------------------------------------------------
def two_group_optimizers():
    """SGD over two groups with lrs 0.1 and 0.02, ours and torch's."""
    ours = optim.SGD(
        [
            {"params": [Tensor([1.0], requires_grad=True)]},
            {"params": [Tensor([1.0], requires_grad=True)], "lr": 0.02},
        ],
        lr=0.1,
    )
    theirs = torch.optim.SGD(
        [
            {"params": [torch.zeros(1, requires_grad=True)]},
            {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.02},
        ],
        lr=0.1,
    )
    return ours, theirs


def assert_same_lrs(ours, theirs, torch_opt, steps=100):
    for step in range(steps):
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12, abs=1e-15), (
            f"step {step}"
        )
        torch_opt.step()
        ours.step()
        theirs.step()
    assert len(ours.get_last_lr()) == 2


@needs_torch
@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("StepLR", dict(step_size=3, gamma=0.5)),
        ("ExponentialLR", dict(gamma=0.95)),
        ("CosineAnnealingLR", dict(T_max=7, eta_min=0.001)),
        ("CosineAnnealingLR", dict(T_max=60)),
        ("LambdaLR", dict(lr_lambda=lambda e: 0.9**e + 0.01 * (e % 3))),
        ("LambdaLR", dict(lr_lambda=[lambda e: 0.97**e, lambda e: 1 / (1 + e)])),
        ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.97 if e % 2 else 1.01)),
        ("MultiplicativeLR", dict(lr_lambda=[lambda e: 0.97, lambda e: 0.99 if e < 50 else 1.02])),
        ("MultiStepLR", dict(milestones=[10, 35, 35, 70], gamma=0.5)),
        ("LinearLR", dict(start_factor=0.2, end_factor=0.9, total_iters=30)),
        ("OneCycleLR", dict(max_lr=0.5, total_steps=101, pct_start=0.25)),
        (
            "OneCycleLR",
            dict(
                max_lr=[0.5, 0.05],
                total_steps=101,
                anneal_strategy="linear",
                div_factor=10,
                final_div_factor=100,
            ),
        ),
        ("CosineAnnealingWarmRestarts", dict(T_0=7, T_mult=2, eta_min=0.001)),
        ("CosineAnnealingWarmRestarts", dict(T_0=9)),
    ],
)
def test_schedules_match_torchs_learning_rates_per_group_over_100_steps(name, kwargs):
    ours_opt, torch_opt = two_group_optimizers()
    extra = {"cycle_momentum": False} if name == "OneCycleLR" else {}
    ours = getattr(optim, name)(ours_opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(torch_opt, **kwargs, **extra)
    assert ours.base_lrs == pytest.approx(theirs.base_lrs, rel=1e-15)
    assert_same_lrs(ours, theirs, torch_opt)


# label: (builder of the schedulers from the optimizer and a module of scheduler classes,
# milestones)
SEQUENCES = {
    "linear_warmup_then_cosine": (
        lambda o, m: [
            m.LinearLR(o, start_factor=0.1, total_iters=5),
            m.CosineAnnealingLR(o, T_max=95, eta_min=0.001),
        ],
        [5],
    ),
    "constant_then_exponential": (
        lambda o, m: [m.LambdaLR(o, lr_lambda=lambda e: 0.1), m.ExponentialLR(o, gamma=0.95)],
        [20],
    ),
    "three_with_a_multiplicative": (
        lambda o, m: [
            m.ExponentialLR(o, gamma=0.9),
            m.StepLR(o, step_size=7, gamma=0.5),
            m.MultiplicativeLR(o, lr_lambda=lambda e: 0.98),
        ],
        [10, 40],
    ),
    "warmup_then_restarts_then_linear": (
        lambda o, m: [
            m.LinearLR(o, start_factor=0.5, end_factor=1.0, total_iters=8),
            m.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2),
            m.LinearLR(o, start_factor=0.3, end_factor=0.1, total_iters=20),
        ],
        [8, 60],
    ),
    "multistep_then_lambdas": (
        lambda o, m: [
            m.MultiStepLR(o, milestones=[3, 6], gamma=0.5),
            m.LambdaLR(o, lr_lambda=[lambda e: 1 / (1 + e), lambda e: 0.99**e]),
        ],
        [9],
    ),
    # OneCycleLR rewrites each group's initial_lr, which the others start from, as torch's
    "one_cycle_then_constant": (
        lambda o, m: [
            one_cycle(o, m, max_lr=[0.5, 0.05], total_steps=20),
            m.LambdaLR(o, lr_lambda=lambda e: 1.0),
        ],
        [20],
    ),
    "step_then_one_cycle": (
        lambda o, m: [
            m.StepLR(o, step_size=3, gamma=0.5),
            one_cycle(o, m, max_lr=0.5, total_steps=90, anneal_strategy="linear"),
        ],
        [10],
    ),
}


def one_cycle(optimizer, module, **kwargs):
    """OneCycleLR, without torch's momentum cycling, which ours lacks."""
    extra = {"cycle_momentum": False} if module is not optim else {}
    return module.OneCycleLR(optimizer, **kwargs, **extra)


@needs_torch
@pytest.mark.parametrize("label", list(SEQUENCES))
def test_sequential_lr_matches_torch_over_100_steps(label):
    build, milestones = SEQUENCES[label]
    ours_opt, torch_opt = two_group_optimizers()
    ours = optim.SequentialLR(ours_opt, build(ours_opt, optim), milestones=milestones)
    theirs = torch.optim.lr_scheduler.SequentialLR(
        torch_opt, build(torch_opt, torch.optim.lr_scheduler), milestones=milestones
    )
    assert_same_lrs(ours, theirs, torch_opt)


@needs_torch
def test_one_cycle_records_its_lrs_in_the_groups_as_torch():
    ours_opt, torch_opt = two_group_optimizers()
    one_cycle(ours_opt, optim, max_lr=[0.5, 0.05], total_steps=10, div_factor=10)
    one_cycle(
        torch_opt, torch.optim.lr_scheduler, max_lr=[0.5, 0.05], total_steps=10, div_factor=10
    )
    for ours, theirs in zip(ours_opt.param_groups, torch_opt.param_groups):
        assert {k: ours[k] for k in ("initial_lr", "max_lr", "min_lr")} == pytest.approx(
            {k: theirs[k] for k in ("initial_lr", "max_lr", "min_lr")}, rel=1e-15
        )


# label: builder of schedulers stepped together on one optimizer, from it and a module of
# scheduler classes
CHAINS = {
    "exponential_and_multistep": lambda o, m: [
        m.ExponentialLR(o, gamma=0.9),
        m.MultiStepLR(o, milestones=[3, 20], gamma=0.1),
    ],
    "step_and_linear_warmup": lambda o, m: [
        m.StepLR(o, step_size=7, gamma=0.5),
        m.LinearLR(o, start_factor=0.2, end_factor=1.0, total_iters=10),
    ],
    "cosine_and_multiplicative": lambda o, m: [
        m.CosineAnnealingLR(o, T_max=12, eta_min=0.001),
        m.MultiplicativeLR(o, lr_lambda=[lambda e: 0.99, lambda e: 1.01]),
    ],
    "linear_then_lambda_overrides": lambda o, m: [
        m.LinearLR(o, start_factor=0.5, total_iters=4),
        m.LambdaLR(o, lr_lambda=lambda e: 0.95**e),
    ],
}


@needs_torch
@pytest.mark.parametrize("label", list(CHAINS))
def test_schedulers_stepped_together_chain_as_torch(label):
    """Chainable schedulers each scale the group's current lr, so they compose (and an lr set
    by hand carries on), as torch's; LambdaLR sets its closed form over them."""
    ours_opt, torch_opt = two_group_optimizers()
    ours, theirs = (
        CHAINS[label](ours_opt, optim),
        CHAINS[label](torch_opt, torch.optim.lr_scheduler),
    )
    for step in range(40):
        if step == 15:
            for opt in (ours_opt, torch_opt):
                opt.param_groups[1]["lr"] *= 3.0
        torch_opt.step()
        for scheduler in (*ours, *theirs):
            scheduler.step()
        assert [g["lr"] for g in ours_opt.param_groups] == pytest.approx(
            [g["lr"] for g in torch_opt.param_groups], rel=1e-12, abs=1e-15
        ), f"step {step + 1}"


def test_two_schedulers_on_one_optimizer_multiply():
    opt = optim.SGD([Tensor([1.0])], lr=1.0)
    exponential, multistep = (
        optim.ExponentialLR(opt, 0.5),
        optim.MultiStepLR(opt, milestones=[2], gamma=0.1),
    )
    seen = []
    for _ in range(3):
        exponential.step()
        multistep.step()
        seen.append(opt.param_groups[0]["lr"])
    assert seen == pytest.approx([0.5, 0.025, 0.0125], rel=1e-15)


def test_sequential_lr_takes_numpy_milestones():
    opt = optim.SGD([Tensor([1.0])], lr=1.0)
    scheduler = optim.SequentialLR(
        opt, [optim.StepLR(opt, 2), optim.ExponentialLR(opt, 0.5)], [np.int64(3)]
    )
    assert scheduler.milestones == [3] and type(scheduler.milestones[0]) is int


def test_sequential_lr_restarts_the_next_scheduler_at_its_epoch_0():
    opt = optim.SGD([Tensor([1.0])], lr=1.0)
    warmup, decay = (
        optim.LinearLR(opt, start_factor=0.5, total_iters=2),
        optim.ExponentialLR(opt, gamma=0.5),
    )
    decay.step()  # stepped before: a milestone restarts it all the same
    scheduler = optim.SequentialLR(opt, [warmup, decay], milestones=[3])
    seen = [scheduler.get_last_lr()[0]]
    for _ in range(5):
        scheduler.step()
        seen.append(scheduler.get_last_lr()[0])
    assert seen == [0.5, 0.75, 1.0, 1.0, 0.5, 0.25]
    assert [scheduler.lr_at(e)[0] for e in range(6)] == seen


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (
            dict(schedulers=[], milestones=[]),
            ValueError,
            "SequentialLR: expected at least one scheduler, got none",
        ),
        (
            dict(schedulers=["warmup"], milestones=[]),
            TypeError,
            "SequentialLR: scheduler 0 must be an LRScheduler, got str",
        ),
        (dict(milestones=[]), ValueError, "SequentialLR: 2 schedulers need 1 milestones, got 0"),
        (
            dict(milestones=[0]),
            ValueError,
            r"SequentialLR: milestones must be increasing positive ints, got \[0\]",
        ),
    ],
)
def test_sequential_lr_checks(kwargs, error, message):
    opt = optim.SGD([Tensor([1.0])], lr=1.0)
    arguments = {"schedulers": [optim.StepLR(opt, 2), optim.ExponentialLR(opt, 0.5)], **kwargs}
    with pytest.raises(error, match=message):
        optim.SequentialLR(opt, **arguments)


def test_sequential_lr_refuses_plateaus_and_other_optimizers():
    opt, other = optim.SGD([Tensor([1.0])], lr=1.0), optim.SGD([Tensor([1.0])], lr=1.0)
    with pytest.raises(
        ValueError,
        match="SequentialLR: scheduler 1 is a ReduceLROnPlateau, which steps on a metric",
    ):
        optim.SequentialLR(
            opt, [optim.StepLR(opt, 2), optim.ReduceLROnPlateau(opt)], milestones=[3]
        )
    with pytest.raises(
        ValueError, match=r"SequentialLR: scheduler 0 \(StepLR\) is built on another optimizer"
    ):
        optim.SequentialLR(opt, [optim.StepLR(other, 2)], milestones=[])


def test_scheduler_states_round_trip_per_group():
    def build():
        opt = optim.SGD(
            [{"params": [Tensor([1.0])]}, {"params": [Tensor([1.0])], "lr": 0.02}], lr=0.1
        )
        return opt, optim.SequentialLR(
            opt,
            [optim.LinearLR(opt, 0.1, total_iters=4), optim.StepLR(opt, step_size=3, gamma=0.5)],
            milestones=[4],
        )

    opt, scheduler = build()
    for _ in range(6):
        scheduler.step()
    state = scheduler.state_dict()
    assert state["base_lrs"] == [0.1, 0.02] and state["schedulers"][1]["last_epoch"] == 2
    twin_opt, twin = build()
    twin_opt.load_state_dict(opt.state_dict())  # the lrs live in the optimizer, as torch's
    twin.load_state_dict(state)
    for _ in range(5):
        scheduler.step()
        twin.step()
        assert twin.get_last_lr() == scheduler.get_last_lr()
    bad = {
        **state,
        "schedulers": [state["schedulers"][0], {**state["schedulers"][1], "base_lrs": [0.1]}],
    }
    with pytest.raises(
        ValueError, match=r"StepLR.load_state_dict: base_lrs must be a list of 2 learning rates"
    ):
        twin.load_state_dict(bad)
    assert twin.state_dict() == scheduler.state_dict()  # unchanged by the refused state


def test_a_scheduler_state_saved_before_parameter_groups_still_loads():
    opt = optim.SGD([Tensor([1.0])], lr=9.0)
    scheduler = optim.ExponentialLR(opt, gamma=0.5)
    # the lr a run saved then: 0.4 * 0.5^2
    opt.load_state_dict(
        {
            "type": "SGD",
            "hyper": {"lr": 0.1, "momentum": 0.0, "weight_decay": 0.0, "nesterov": False},
            "state": [{}],
        }
    )
    scheduler.load_state_dict({"base_lr": 0.4, "last_epoch": 2})
    scheduler.step()
    assert (
        scheduler.base_lrs == [0.4]
        and scheduler.last_epoch == 3
        and scheduler.get_last_lr() == [0.05]
    )


def test_per_group_scheduler_arguments_are_checked():
    opt, _ = stepped("sgd", steps=0)
    with pytest.raises(
        ValueError, match="LambdaLR: lr_lambda has 3 values, the optimizer has 2 parameter groups"
    ):
        optim.LambdaLR(opt, [lambda e: 1.0] * 3)
    with pytest.raises(
        TypeError, match="MultiplicativeLR: lr_lambda must be callable .*, got float at index 1"
    ):
        optim.MultiplicativeLR(opt, [lambda e: 1.0, 0.5])
    with pytest.raises(
        ValueError, match="OneCycleLR: max_lr has 1 values, the optimizer has 2 parameter groups"
    ):
        optim.OneCycleLR(opt, max_lr=[0.1], total_steps=10)
    with pytest.raises(ValueError, match="OneCycleLR: div_factor must be positive, got 0"):
        optim.OneCycleLR(opt, max_lr=0.1, total_steps=10, div_factor=0)
    with pytest.raises(
        ValueError, match=r"ReduceLROnPlateau: min_lr must be a number in \[0.0, inf\), got -1"
    ):
        optim.ReduceLROnPlateau(opt, min_lr=[0.0, -1])
    scheduler = optim.StepLR(opt, step_size=1)
    opt.add_param_group({"params": [Tensor([1.0])]})
    with pytest.raises(
        ValueError,
        match="StepLR: the optimizer has 3 parameter groups, the scheduler was built for 2",
    ):
        scheduler.step()


@needs_torch
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(),
        dict(
            mode="max",
            factor=0.5,
            patience=2,
            threshold_mode="abs",
            threshold=0.01,
            cooldown=3,
            min_lr=[0.002, 0.005],
        ),
    ],
)
def test_reduce_on_plateau_matches_torch_per_group(kwargs):
    ours_opt, torch_opt = two_group_optimizers()
    ours = optim.ReduceLROnPlateau(ours_opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(torch_opt, **kwargs)
    metrics = np.concatenate(
        [np.linspace(1.0, 0.5, 20), np.full(30, 0.5), np.linspace(0.5, 0.49, 20), np.full(30, 0.7)]
    )
    for step, metric in enumerate(metrics):
        ours.step(metric)
        theirs.step(metric)
        assert ours.get_last_lr() == pytest.approx(
            [g["lr"] for g in torch_opt.param_groups], rel=1e-12
        ), f"step {step}"
    assert ours.get_last_lr()[0] < 0.1 and ours.get_last_lr()[1] < 0.02  # both did reduce


@needs_torch
def test_reduce_on_plateau_state_holds_torchs_settings_and_restores_them(tmp_path):
    ours_opt, torch_opt = two_group_optimizers()
    settings = dict(
        mode="max",
        factor=0.5,
        patience=2,
        threshold=0.01,
        threshold_mode="abs",
        cooldown=3,
        eps=1e-9,
    )
    ours = optim.ReduceLROnPlateau(ours_opt, min_lr=[0.002, 0.005], **settings)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(
        torch_opt, min_lr=[0.002, 0.005], **settings
    )
    metrics = np.concatenate([np.linspace(0.5, 0.6, 10), np.full(30, 0.6)])
    for metric in metrics[:15]:
        ours.step(metric)
        theirs.step(metric)
    state, torch_state = ours.state_dict(), theirs.state_dict()
    assert {
        k: state[k] for k in (*settings, "best", "num_bad_epochs", "cooldown_counter", "last_epoch")
    } == {
        k: torch_state[k]
        for k in (*settings, "best", "num_bad_epochs", "cooldown_counter", "last_epoch")
    }
    assert state["min_lr"] == torch_state["min_lrs"]
    twin_opt, _ = two_group_optimizers()
    twin = optim.ReduceLROnPlateau(twin_opt)  # the defaults: mode, factor... come from the state
    twin_opt.load_state_dict(ours_opt.state_dict())
    tc.save({"scheduler": state}, tmp_path / "c.npz")
    twin.load_state_dict(tc.load(tmp_path / "c.npz")["scheduler"])
    assert twin.state_dict() == state
    for metric in metrics[15:]:
        twin.step(metric)
        theirs.step(metric)
        assert twin.get_last_lr() == pytest.approx(
            [g["lr"] for g in torch_opt.param_groups], rel=1e-12
        )
    assert twin.get_last_lr()[0] < 0.1  # it did reduce, by the restored factor


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(num_bad_epochs="x"), r"num_bad_epochs must be a non-negative integer, got 'x'"),
        (dict(cooldown_counter=-1), r"cooldown_counter must be a non-negative integer, got -1"),
        (dict(last_epoch=2.5), r"last_epoch must be a non-negative integer, got 2.5"),
        (dict(best=float("nan")), r"best must be a number, got nan"),
        (
            dict(mode="lowest"),
            r"mode must be 'min' or 'max' and threshold_mode 'rel' or 'abs', got 'lowest', 'rel'",
        ),
        (dict(factor=1.5), r"factor must be a number in \[0.0, 1.0\), got 1.5"),
        (dict(patience=True), r"patience must be a non-negative integer, got True"),
        (dict(min_lr=[0.1]), r"min_lr has 1 values, the optimizer has 2 parameter groups"),
        (dict(threshold=-0.1), r"threshold must be a number in \[0.0, inf\), got -0.1"),
        (
            dict(extra=1),
            r"expected the keys mode, factor, .*, "
            r"got best, cooldown, cooldown_counter, eps, extra, factor",
        ),
    ],
)
def test_reduce_on_plateau_load_checks_everything_first(change, message):
    opt, _ = stepped("sgd", steps=0)
    scheduler = optim.ReduceLROnPlateau(opt, patience=1)
    for metric in (1.0, 0.9, 0.95):
        scheduler.step(metric)
    before = scheduler.state_dict()
    with pytest.raises(ValueError, match=r"ReduceLROnPlateau.load_state_dict: " + message):
        scheduler.load_state_dict({**before, "best": 0.5, **change})
    assert scheduler.state_dict() == before  # nothing applied, best included


def test_reduce_on_plateau_loads_a_state_saved_before_the_settings():
    opt, _ = stepped("sgd", steps=0)
    scheduler = optim.ReduceLROnPlateau(opt, mode="max", factor=0.5)
    scheduler.load_state_dict(
        {"best": 0.7, "num_bad_epochs": 2, "cooldown_counter": 0, "last_epoch": 9}
    )
    assert scheduler.best == 0.7 and scheduler.num_bad_epochs == 2
    assert scheduler.mode == "max" and scheduler.factor == 0.5  # the settings it was built with
    with pytest.raises(
        ValueError, match=r"ReduceLROnPlateau: patience must be a non-negative integer, got -1"
    ):
        optim.ReduceLROnPlateau(opt, patience=-1)


def test_adabound_final_lr_follows_each_groups_schedule():
    """final_lr scales with a group's lr relative to its initial lr: a group whose lr a schedule
    halved is clipped to half the bounds."""
    w = Tensor([1.0], requires_grad=True, dtype=np.float64)
    opt = optim.AdaBound([{"params": [w]}], lr=1e-3, gamma=0.5)
    opt.param_groups[0]["lr"] = 5e-4
    w.grad = Tensor([2.0], dtype=np.float64)
    opt.step()
    # as test_adabound_lower_bound_by_hand, with final_lr 0.1 * 0.5: w = 1 - 0.2 / 60
    assert_close(w.data, [1 - 0.2 / 60])
    assert opt.param_groups[0]["base_lr"] == 1e-3 and "initial_lr" not in opt.param_groups[0]


def adabound_run(cls, grads, resume_at=None, saved_as="groups"):
    """w after a step per gradient of ``cls`` under a StepLR decay; with ``resume_at``, the run
    stops there and a new optimizer and scheduler continue it from their states, the optimizer's
    saved as now ("groups"), as before base_lr existed ("groups before base_lr", with the
    initial_lr AdaBound then kept), or as before parameter groups ("hyper")."""

    def build():
        w = Tensor(np.linspace(-1.0, 1.0, grads.shape[1]), requires_grad=True, dtype=np.float64)
        opt = getattr(optim, cls)([w], lr=0.01, final_lr=0.1, gamma=0.1)
        return w, opt, optim.StepLR(opt, step_size=3, gamma=0.1)

    w, opt, scheduler = build()
    for step, grad in enumerate(grads):
        if step == resume_at:
            state, group = opt.state_dict(), opt.state_dict()["param_groups"][0]
            if saved_as == "hyper":
                state = {
                    "type": cls,
                    "hyper": {k: group[k] for k in opt.hyper_parameters},
                    "state": state["state"],
                }
            elif saved_as == "groups before base_lr":
                state["param_groups"][0] = {
                    **{k: v for k, v in group.items() if k != "base_lr"},
                    "initial_lr": 0.01,
                }
            data, scheduler_state = w.data.copy(), scheduler.state_dict()
            w, opt, scheduler = build()
            w.data = data
            opt.load_state_dict(state)
            scheduler.load_state_dict(scheduler_state)
            assert opt.param_groups[0]["base_lr"] == 0.01 and opt.param_groups[0][
                "lr"
            ] == pytest.approx(1e-5)
        w.grad = Tensor(grad, dtype=np.float64)
        opt.step()
        scheduler.step()
    return w.data


@pytest.mark.parametrize("cls", ["AdaBound", "AMSBound"])
@pytest.mark.parametrize("saved_as", ["groups", "groups before base_lr", "hyper"])
def test_adabound_resumed_after_a_decay_continues_exactly(cls, saved_as):
    """The bounds are scaled by lr / base_lr, base_lr being the lr the group was built with; a
    resumed run keeps it, even from a checkpoint that does not hold it, rather than taking the
    decayed lr it saved (which would widen the bounds a hundredfold here)."""
    grads = np.random.default_rng(0).standard_normal((16, 5))
    straight = adabound_run(cls, grads)
    np.testing.assert_array_equal(
        adabound_run(cls, grads, resume_at=9, saved_as=saved_as), straight
    )


def test_adabound_bounds_ignore_a_scheduler_that_rewrites_initial_lr():
    """OneCycleLR sets initial_lr (to max_lr / div_factor) as torch's; AdaBound's bounds follow
    the lr relative to base_lr, the group's first lr, all the same."""
    w = Tensor([1.0], requires_grad=True, dtype=np.float64)
    opt = optim.AdaBound([w], lr=1e-3, gamma=0.5)
    optim.OneCycleLR(opt, max_lr=0.0125, total_steps=10)
    group = opt.param_groups[0]
    assert (
        group["lr"] == pytest.approx(5e-4)
        and group["initial_lr"] == 5e-4
        and group["base_lr"] == 1e-3
    )
    w.grad = Tensor([2.0], dtype=np.float64)
    opt.step()
    # final_lr 0.1 * 5e-4 / 1e-3, as in test_adabound_final_lr_follows_...
    assert_close(w.data, [1 - 0.2 / 60])


@pytest.mark.parametrize("cls", ["AdaBound", "AMSBound"])
def test_adabound_group_with_lr_0_takes_no_step(cls):
    frozen, live = Tensor([1.0], requires_grad=True), Tensor([1.0], requires_grad=True)
    opt = getattr(optim, cls)([{"params": [frozen], "lr": 0.0}, {"params": [live]}], lr=1e-3)
    for _ in range(3):
        (frozen * live * 3.0).sum().backward()
        opt.step()
    # its moments still advance
    assert frozen.data[0] == 1.0 and live.data[0] < 1.0 and opt.state[0]["step"] == 3
    opt.param_groups[0]["lr"] = (
        1e-3  # unfrozen: with no base to scale against, final_lr applies as given
    )
    opt.step()
    assert frozen.data[0] < 1.0


def test_adabound_gamma_0_leaves_the_upper_bound_open():
    w, _ = one_step(lambda p: optim.AdaBound(p, lr=1e-3, gamma=0.0, final_lr=1e-4))
    assert_close(w, 1 - 0.005 * 0.2, rtol=1e-6)  # lower bound 0, upper inf: the plain Adam step
