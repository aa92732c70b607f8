"""Optimizers and schedules give torch.optim's numbers, step for step, parameter group by group."""
import copy

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor, optim

from helpers import assert_close, needs_torch, torch


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
    "adagrad_decay": ("Adagrad", dict(lr=0.1, lr_decay=0.1, weight_decay=0.05, initial_accumulator_value=0.2)),
    "rmsprop": ("RMSprop", dict(lr=0.01)),
    "rmsprop_centered_momentum": ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.1)),
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
    assert_close(run_ours(lambda p: ours(p, **kwargs)), run_torch(lambda p: theirs(p, **kwargs)), atol=1e-12, rtol=1e-10)


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
    w, _ = one_step(lambda p: optim.AdaBound(p, lr=1e-3, gamma=1e-3))  # inside the bounds: plain Adam step
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
    # g = 2: m = 0.2, s = 0.001 * (2 - 0.2)^2 = 0.00324; m_hat = 2, s_hat = 3.24; w = 1 - 0.1 * 2 / 1.8
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
    w, _ = one_step(lambda p: optim.create(name, p, 0.05 if name != "adadelta" else 1.0), w0=2.0, steps=30)
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
    for opt in (optim.SGD([w], lr=0.1, momentum=0.9, weight_decay=0.1), optim.Adam([w], weight_decay=0.1)):
        (w * w).sum().backward()
        opt.step()
        assert w.dtype == np.float32


def test_parameters_without_grad_are_skipped():
    a, b = Tensor([1.0], requires_grad=True), Tensor([1.0], requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    (a * 2.0).sum().backward()
    opt.step()
    assert b.data[0] == 1.0 and a.data[0] != 1.0



# ---- parameter groups ------------------------------------------------------------------------------
GROUPS = {  # optimizer name: (class, constructor options (group 0 takes them), group 1's own options)
    "sgd": ("SGD", dict(lr=0.1), dict(lr=0.03, weight_decay=0.1)),
    "momentum": ("SGD", dict(lr=0.1, momentum=0.9), dict(lr=0.03, momentum=0.5, weight_decay=0.1)),
    "nesterov": ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True), dict(lr=0.03, momentum=0.6, weight_decay=0.05)),
    "adagrad": ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.2), dict(lr=0.05, lr_decay=0.1, weight_decay=0.05)),
    "rmsprop": ("RMSprop", dict(lr=0.01), dict(lr=0.03, momentum=0.5, centered=True, weight_decay=0.1)),
    "rmsprop_graves": ("RMSpropGraves", dict(lr=0.01), dict(lr=0.003, momentum=0.5, alpha=0.9)),
    "adadelta": ("Adadelta", dict(lr=1.0), dict(lr=0.5, rho=0.8, weight_decay=0.1)),
    "adam": ("Adam", dict(lr=0.05), dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
    "adamw": ("AdamW", dict(lr=0.05), dict(lr=0.01, weight_decay=0.1)),
    "adamax": ("Adamax", dict(lr=0.05), dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
    "nadam": ("NAdam", dict(lr=0.05), dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01)),
    "amsgrad": ("Adam", dict(lr=0.05, amsgrad=True), dict(lr=0.01, weight_decay=0.1)),
    "adabound": ("AdaBound", dict(lr=0.01, gamma=0.1), dict(lr=0.002, final_lr=0.05, weight_decay=0.1)),
    "amsbound": ("AMSBound", dict(lr=0.01, gamma=0.1), dict(lr=0.002, final_lr=0.05, weight_decay=0.1)),
    "adabelief": ("AdaBelief", dict(lr=0.05), dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
    "smorms3": ("SMORMS3", dict(lr=0.05), dict(lr=0.01, eps=1e-8)),
}
IN_TORCH = [name for name, (cls, _, _) in GROUPS.items() if hasattr(torch, "optim") and hasattr(torch.optim, cls)] \
    if torch is not None else []


def test_the_group_table_covers_every_optimizer():
    assert list(GROUPS) == list(optim.OPTIMIZERS)
    for name, (cls, _, _) in GROUPS.items():  # the factory builds the same class
        assert type(optim.create(name, [Tensor([1.0])], 0.1)) is getattr(optim, cls)


def two_parameters(lib):
    """w (3, 2) and a bias b (2,) of the loss sum(tanh(x @ w + b)^2), float64, in our Tensors or torch's."""
    rng = np.random.default_rng(1)
    w, b, x = rng.standard_normal((3, 2)), rng.standard_normal(2), rng.standard_normal((4, 3))
    if lib == "ours":
        return (Tensor(w, requires_grad=True, dtype=np.float64), Tensor(b, requires_grad=True, dtype=np.float64),
                Tensor(x, dtype=np.float64))
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
        loss = ((x @ w + b).tanh() ** 2).sum() if lib == "ours" else (torch.tanh(x @ w + b) ** 2).sum()
        loss.backward()
        opt.step()
        trajectory.append([t.detach().numpy().copy() if lib == "torch" else t.data.copy() for t in (w, b)])
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
            np.testing.assert_allclose(a, b, atol=atol, rtol=rtol, err_msg=f"{name} after step {step + 1}")


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
    shared = train("ours", lambda p: make(p, **defaults), group={})  # group 1 on the defaults moves elsewhere
    assert not np.allclose(shared[-1][1], grouped[-1][1])


@needs_torch
@pytest.mark.parametrize("name", IN_TORCH)
def test_add_param_group_mid_training_matches_torch(name):
    cls, defaults, group = GROUPS[name]
    ours = train("ours", lambda p: getattr(optim, cls)(p, **defaults), add_at=2, group=group)
    theirs = torch_train(lambda p: getattr(torch.optim, cls)(p, **defaults), add_at=2, group=group)
    assert_same_trajectories(ours, theirs)
    assert np.array_equal(ours[1][1], two_parameters("ours")[1].data) and not np.array_equal(ours[2][1], ours[1][1])


def test_adagrad_reads_initial_accumulator_value_per_group():
    # torch.optim.Adagrad fills every group's sum from the constructor's value; each group's own is used here
    a, b = Tensor([1.0], requires_grad=True, dtype=np.float64), Tensor([1.0], requires_grad=True, dtype=np.float64)
    opt = optim.Adagrad([{"params": [a]}, {"params": [b], "initial_accumulator_value": 5.0}], lr=0.1)
    (a * a + b * b).sum().backward()  # both gradients are 2
    opt.step()
    assert_close([a.data[0], b.data[0]], [1 - 0.1 * 2 / 2, 1 - 0.1 * 2 / 3])


def test_groups_take_missing_options_from_the_defaults():
    a, b = Tensor([1.0]), Tensor([2.0])
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5, "name": "head"}], lr=0.1, momentum=0.9)
    assert opt.defaults == {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.0, "nesterov": False}
    first, second = opt.param_groups
    assert first["params"] == [a] and {k: first[k] for k in opt.defaults} == opt.defaults
    assert second["params"][0] is b and second["lr"] == 0.5 and second["momentum"] == 0.9
    assert second["name"] == "head"  # other keys are kept, as PyTorch
    assert len(opt.params) == 2 and opt.params[1] is b and len(opt.state) == 2


def test_hyper_parameters_live_in_the_groups_only():
    opt = optim.Adam([Tensor([1.0], requires_grad=True)], lr=0.1)
    with pytest.raises(AttributeError, match=r"Adam has no attribute 'lr': each parameter group has its own, "
                                             r"optimizer.param_groups\[i\]\['lr'\]"):
        _ = opt.lr
    with pytest.raises(AttributeError, match=r"Adam: set betas per parameter group"):
        opt.betas = (0.5, 0.9)  # would otherwise be silently ignored by step()
    with pytest.raises(AttributeError, match="'Adam' object has no attribute 'nonsense'"):
        _ = opt.nonsense


@pytest.mark.parametrize("groups, error, message", [
    ([{"params": [Tensor([1.0])], "lr": -1.0}], ValueError, r"SGD parameter group 0: lr must be a number in \[0.0, inf\), got -1.0"),
    ([{"params": [Tensor([1.0])]}, {"params": [Tensor([1.0])], "momentum": 0.0, "nesterov": True}], ValueError,
     r"SGD parameter group 1: nesterov=True needs a momentum > 0"),
    ([{"params": [Tensor([1.0])], "nesterov": "yes"}], TypeError, r"SGD parameter group 0: nesterov must be True or False, got 'yes'"),
    ([{"lr": 0.1}], TypeError, r"SGD.add_param_group: expected a dict with a 'params' entry"),
    ([{"params": {Tensor([1.0])}}], TypeError, r"SGD parameter group 0: params must be an ordered collection of Tensors, got set"),
    ([{"params": [Tensor([1.0]), np.ones(2)]}], TypeError, r"SGD parameter group 0: parameter 1 must be a Tensor, got ndarray"),
])
def test_groups_are_checked_as_the_constructor_checks(groups, error, message):
    with pytest.raises(error, match=message):
        optim.SGD(groups, lr=0.1, momentum=0.9)


def test_a_parameter_in_two_groups_is_refused_by_name():
    a, b = Tensor([1.0]), Tensor(np.zeros((2, 3)))
    b.name = "fc.weight"
    with pytest.raises(ValueError, match=r"SGD parameter group 1: parameter 0 \(fc.weight\) of shape \(2, 3\) is "
                                         r"already in parameter group 0; a parameter may be in one group only"):
        optim.SGD([{"params": [a, b]}, {"params": [b]}], lr=0.1)
    opt = optim.Adam([a])
    with pytest.raises(ValueError, match=r"Adam parameter group 1: parameter 1 of shape \(1,\) is already in parameter group 0"):
        opt.add_param_group({"params": [b, a]})
    with pytest.raises(ValueError, match=r"Adam parameter group 1: parameter 1 \(fc.weight\) of shape \(2, 3\) is listed twice"):
        opt.add_param_group({"params": [b, b]})
    with pytest.raises(ValueError, match=r"Adam parameter group 1: lr must be a number"):
        opt.add_param_group({"params": [b], "lr": float("nan")})
    assert len(opt.param_groups) == 1 and len(opt.state) == 1  # every refusal left the optimizer as it was
    with pytest.raises(TypeError, match=r"Adam: params must be an iterable of Tensors or of dicts, got a Tensor"):
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
    opt = getattr(optim, cls)([{"params": [w]}, {"params": [b], **group}],
                              **{**defaults, "lr": defaults["lr"] * lr_scale})
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
        assert {k: v for k, v in mine.items() if k != "params"} == {k: v for k, v in theirs.items() if k != "params"}
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
    with pytest.raises(ValueError, match=rf"{type(opt).__name__}.load_state_dict: {type(opt).__name__} parameter "
                                         rf"group 1: lr must be a number in \[0.0, inf\), got -5"):
        twin.load_state_dict(saved)
    assert [[id(p) for p in g["params"]] for g in twin.param_groups] == params
    assert [{k: v for k, v in g.items() if k != "params"} for g in twin.param_groups] == options
    for mine, before in zip(twin.state, state, strict=True):
        assert mine.keys() == before.keys() and all(np.array_equal(mine[k], before[k]) for k in mine)


def test_load_state_dict_checks_the_groups_shape():
    opt, _ = stepped("adam")
    state = opt.state_dict()
    single = optim.Adam([Tensor(np.zeros((3, 2))), Tensor(np.zeros(2))])
    with pytest.raises(ValueError, match=r"Adam.load_state_dict: parameter groups of sizes \[1, 1\], this optimizer has \[2\]"):
        single.load_state_dict(state)
    with pytest.raises(ValueError, match=r"Adam.load_state_dict: parameter group 1 has no betas, amsgrad"):
        opt.load_state_dict({**state, "param_groups": [state["param_groups"][0],
                                                       {k: v for k, v in state["param_groups"][1].items()
                                                        if k not in ("betas", "amsgrad")}]})
    with pytest.raises(ValueError, match=r"Adam.load_state_dict: param_groups must be a list of dicts with a 'params' entry"):
        opt.load_state_dict({**state, "param_groups": [{"lr": 0.1}]})


def test_a_state_saved_before_parameter_groups_still_loads():
    w = Tensor([1.0, -2.0], requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    old = {"type": "Adam", "hyper": {"lr": 0.02, "betas": (0.5, 0.9), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False},
           "state": [{"step": 3, "exp_avg": np.ones(2), "exp_avg_sq": np.ones(2)}]}
    opt.load_state_dict(old)
    assert opt.param_groups[0]["lr"] == 0.02 and opt.param_groups[0]["betas"] == (0.5, 0.9)
    assert opt.state[0]["step"] == 3 and opt.state[0]["exp_avg"].dtype == np.float32


# ---- learning-rate schedules -----------------------------------------------------------------------
def two_group_optimizers():
    """SGD over two groups with lrs 0.1 and 0.02, ours and torch's."""
    ours = optim.SGD([{"params": [Tensor([1.0], requires_grad=True)]},
                      {"params": [Tensor([1.0], requires_grad=True)], "lr": 0.02}], lr=0.1)
    theirs = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)]},
                              {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.02}], lr=0.1)
    return ours, theirs


def assert_same_lrs(ours, theirs, torch_opt, steps=100):
    for step in range(steps):
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12, abs=1e-15), f"step {step}"
        torch_opt.step()
        ours.step()
        theirs.step()
    assert len(ours.get_last_lr()) == 2


@needs_torch
@pytest.mark.parametrize("name, kwargs", [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("ExponentialLR", dict(gamma=0.95)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.001)),
    ("CosineAnnealingLR", dict(T_max=60)),
    ("LambdaLR", dict(lr_lambda=lambda e: 0.9 ** e + 0.01 * (e % 3))),
    ("LambdaLR", dict(lr_lambda=[lambda e: 0.97 ** e, lambda e: 1 / (1 + e)])),
    ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.97 if e % 2 else 1.01)),
    ("MultiplicativeLR", dict(lr_lambda=[lambda e: 0.97, lambda e: 0.99 if e < 50 else 1.02])),
    ("MultiStepLR", dict(milestones=[10, 35, 35, 70], gamma=0.5)),
    ("LinearLR", dict(start_factor=0.2, end_factor=0.9, total_iters=30)),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=101, pct_start=0.25)),
    ("OneCycleLR", dict(max_lr=[0.5, 0.05], total_steps=101, anneal_strategy="linear", div_factor=10, final_div_factor=100)),
    ("CosineAnnealingWarmRestarts", dict(T_0=7, T_mult=2, eta_min=0.001)),
    ("CosineAnnealingWarmRestarts", dict(T_0=9)),
])
def test_schedules_match_torchs_learning_rates_per_group_over_100_steps(name, kwargs):
    ours_opt, torch_opt = two_group_optimizers()
    extra = {"cycle_momentum": False} if name == "OneCycleLR" else {}
    ours = getattr(optim, name)(ours_opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(torch_opt, **kwargs, **extra)
    assert ours.base_lrs == pytest.approx(theirs.base_lrs, rel=1e-15)
    assert_same_lrs(ours, theirs, torch_opt)


SEQUENCES = {  # label: (builder of the schedulers from the optimizer and a module of scheduler classes, milestones)
    "linear_warmup_then_cosine": (lambda o, m: [m.LinearLR(o, start_factor=0.1, total_iters=5),
                                                m.CosineAnnealingLR(o, T_max=95, eta_min=0.001)], [5]),
    "constant_then_exponential": (lambda o, m: [m.LambdaLR(o, lr_lambda=lambda e: 0.1),
                                                m.ExponentialLR(o, gamma=0.95)], [20]),
    "three_with_a_multiplicative": (lambda o, m: [m.ExponentialLR(o, gamma=0.9), m.StepLR(o, step_size=7, gamma=0.5),
                                                  m.MultiplicativeLR(o, lr_lambda=lambda e: 0.98)], [10, 40]),
    "warmup_then_restarts_then_linear": (lambda o, m: [m.LinearLR(o, start_factor=0.5, end_factor=1.0, total_iters=8),
                                                       m.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2),
                                                       m.LinearLR(o, start_factor=0.3, end_factor=0.1, total_iters=20)],
                                         [8, 60]),
    "multistep_then_lambdas": (lambda o, m: [m.MultiStepLR(o, milestones=[3, 6], gamma=0.5),
                                             m.LambdaLR(o, lr_lambda=[lambda e: 1 / (1 + e), lambda e: 0.99 ** e])], [9]),
}


@needs_torch
@pytest.mark.parametrize("label", list(SEQUENCES))
def test_sequential_lr_matches_torch_over_100_steps(label):
    build, milestones = SEQUENCES[label]
    ours_opt, torch_opt = two_group_optimizers()
    ours = optim.SequentialLR(ours_opt, build(ours_opt, optim), milestones=milestones)
    theirs = torch.optim.lr_scheduler.SequentialLR(torch_opt, build(torch_opt, torch.optim.lr_scheduler),
                                                   milestones=milestones)
    assert_same_lrs(ours, theirs, torch_opt)


def test_sequential_lr_restarts_the_next_scheduler_at_its_epoch_0():
    opt = optim.SGD([Tensor([1.0])], lr=1.0)
    warmup, decay = optim.LinearLR(opt, start_factor=0.5, total_iters=2), optim.ExponentialLR(opt, gamma=0.5)
    decay.step()  # stepped before: a milestone restarts it all the same
    scheduler = optim.SequentialLR(opt, [warmup, decay], milestones=[3])
    seen = [scheduler.get_last_lr()[0]]
    for _ in range(5):
        scheduler.step()
        seen.append(scheduler.get_last_lr()[0])
    assert seen == [0.5, 0.75, 1.0, 1.0, 0.5, 0.25]
    assert [scheduler.lr_at(e)[0] for e in range(6)] == seen


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(schedulers=[], milestones=[]), ValueError, "SequentialLR: expected at least one scheduler, got none"),
    (dict(schedulers=["warmup"], milestones=[]), TypeError, "SequentialLR: scheduler 0 must be an LRScheduler, got str"),
    (dict(milestones=[]), ValueError, "SequentialLR: 2 schedulers need 1 milestones, got 0"),
    (dict(milestones=[0]), ValueError, r"SequentialLR: milestones must be increasing positive ints, got \[0\]"),
])
def test_sequential_lr_checks(kwargs, error, message):
    opt = optim.SGD([Tensor([1.0])], lr=1.0)
    arguments = {"schedulers": [optim.StepLR(opt, 2), optim.ExponentialLR(opt, 0.5)], **kwargs}
    with pytest.raises(error, match=message):
        optim.SequentialLR(opt, **arguments)


def test_sequential_lr_refuses_plateaus_and_other_optimizers():
    opt, other = optim.SGD([Tensor([1.0])], lr=1.0), optim.SGD([Tensor([1.0])], lr=1.0)
    with pytest.raises(ValueError, match="SequentialLR: scheduler 1 is a ReduceLROnPlateau, which steps on a metric"):
        optim.SequentialLR(opt, [optim.StepLR(opt, 2), optim.ReduceLROnPlateau(opt)], milestones=[3])
    with pytest.raises(ValueError, match=r"SequentialLR: scheduler 0 \(StepLR\) is built on another optimizer"):
        optim.SequentialLR(opt, [optim.StepLR(other, 2)], milestones=[])


def test_scheduler_states_round_trip_per_group():
    def build():
        opt = optim.SGD([{"params": [Tensor([1.0])]}, {"params": [Tensor([1.0])], "lr": 0.02}], lr=0.1)
        return opt, optim.SequentialLR(opt, [optim.LinearLR(opt, 0.1, total_iters=4),
                                             optim.StepLR(opt, step_size=3, gamma=0.5)], milestones=[4])

    _, scheduler = build()
    for _ in range(6):
        scheduler.step()
    state = scheduler.state_dict()
    assert state["base_lrs"] == [0.1, 0.02] and state["schedulers"][1]["last_epoch"] == 2
    _, twin = build()
    twin.load_state_dict(state)
    for _ in range(5):
        scheduler.step()
        twin.step()
        assert twin.get_last_lr() == scheduler.get_last_lr()
    bad = {**state, "schedulers": [state["schedulers"][0], {**state["schedulers"][1], "base_lrs": [0.1]}]}
    with pytest.raises(ValueError, match=r"StepLR.load_state_dict: base_lrs must be a list of 2 learning rates"):
        twin.load_state_dict(bad)
    assert twin.state_dict() == scheduler.state_dict()  # unchanged by the refused state


def test_a_scheduler_state_saved_before_parameter_groups_still_loads():
    scheduler = optim.ExponentialLR(optim.SGD([Tensor([1.0])], lr=9.0), gamma=0.5)
    scheduler.load_state_dict({"base_lr": 0.4, "last_epoch": 2})
    scheduler.step()
    assert scheduler.base_lrs == [0.4] and scheduler.get_last_lr() == [0.05]


def test_per_group_scheduler_arguments_are_checked():
    opt, _ = stepped("sgd", steps=0)
    with pytest.raises(ValueError, match="LambdaLR: lr_lambda has 3 values, the optimizer has 2 parameter groups"):
        optim.LambdaLR(opt, [lambda e: 1.0] * 3)
    with pytest.raises(TypeError, match="MultiplicativeLR: lr_lambda must be callable .*, got float at index 1"):
        optim.MultiplicativeLR(opt, [lambda e: 1.0, 0.5])
    with pytest.raises(ValueError, match="OneCycleLR: max_lr has 1 values, the optimizer has 2 parameter groups"):
        optim.OneCycleLR(opt, max_lr=[0.1], total_steps=10)
    with pytest.raises(ValueError, match=r"ReduceLROnPlateau: min_lr must be a number in \[0.0, inf\), got -1"):
        optim.ReduceLROnPlateau(opt, min_lr=[0.0, -1])
    scheduler = optim.StepLR(opt, step_size=1)
    opt.add_param_group({"params": [Tensor([1.0])]})
    with pytest.raises(ValueError, match="StepLR: the optimizer has 3 parameter groups, the scheduler was built for 2"):
        scheduler.step()


@needs_torch
@pytest.mark.parametrize("kwargs", [dict(), dict(mode="max", factor=0.5, patience=2, threshold_mode="abs", threshold=0.01,
                                                 cooldown=3, min_lr=[0.002, 0.005])])
def test_reduce_on_plateau_matches_torch_per_group(kwargs):
    ours_opt, torch_opt = two_group_optimizers()
    ours = optim.ReduceLROnPlateau(ours_opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(torch_opt, **kwargs)
    metrics = np.concatenate([np.linspace(1.0, 0.5, 20), np.full(30, 0.5), np.linspace(0.5, 0.49, 20), np.full(30, 0.7)])
    for step, metric in enumerate(metrics):
        ours.step(metric)
        theirs.step(metric)
        assert ours.get_last_lr() == pytest.approx([g["lr"] for g in torch_opt.param_groups], rel=1e-12), f"step {step}"
    assert ours.get_last_lr()[0] < 0.1 and ours.get_last_lr()[1] < 0.02  # both did reduce


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
    assert opt.param_groups[0]["initial_lr"] == 1e-3
