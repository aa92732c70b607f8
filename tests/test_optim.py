"""Optimizers give torch.optim's numbers, step for step."""
import numpy as np
import pytest

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


@needs_torch
@pytest.mark.parametrize("ours,theirs,kwargs", [
    ("StepLR", "StepLR", dict(step_size=3, gamma=0.5)),
    ("ExponentialLR", "ExponentialLR", dict(gamma=0.8)),
    ("CosineAnnealingLR", "CosineAnnealingLR", dict(T_max=7, eta_min=0.01)),
])
def test_schedules_match_torch(ours, theirs, kwargs):
    w = Tensor([1.0], requires_grad=True)
    ours = getattr(optim, ours)(optim.SGD([w], lr=0.1), **kwargs)
    t = torch.zeros(1, requires_grad=True)
    torch_opt = torch.optim.SGD([t], lr=0.1)
    theirs = getattr(torch.optim.lr_scheduler, theirs)(torch_opt, **kwargs)
    for _ in range(10):
        torch_opt.step()
        ours.step()
        theirs.step()
        assert ours.optimizer.lr == pytest.approx(torch_opt.param_groups[0]["lr"], rel=1e-12)


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


@pytest.mark.parametrize("name", list(optim.OPTIMIZERS))
def test_every_optimizer_state_round_trips_and_is_validated(name):
    w = Tensor([1.0, -2.0], requires_grad=True)
    opt = optim.create(name, [w], 0.05)
    (w * w).sum().backward()
    opt.step()
    state = opt.state_dict()
    twin = optim.create(name, [Tensor([1.0, -2.0], requires_grad=True)], 0.01)
    twin.load_state_dict(state)
    assert twin.lr == opt.lr
    state["hyper"]["lr"] = -5.0
    with pytest.raises(ValueError, match=r"load_state_dict: .*lr must be a number in \[0.0, inf\), got -5"):
        twin.load_state_dict(state)
    assert twin.lr == opt.lr  # unchanged by the refused state


@needs_torch
@pytest.mark.parametrize("name, kwargs", [
    ("LambdaLR", dict(lr_lambda=lambda e: 0.9 ** e + 0.01 * (e % 3))),
    ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.97 if e % 2 else 1.01)),
    ("MultiStepLR", dict(milestones=[10, 35, 35, 70], gamma=0.5)),
    ("LinearLR", dict(start_factor=0.2, end_factor=0.9, total_iters=30)),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=101, pct_start=0.25)),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=101, anneal_strategy="linear", div_factor=10, final_div_factor=100)),
    ("CosineAnnealingWarmRestarts", dict(T_0=7, T_mult=2, eta_min=0.001)),
    ("CosineAnnealingWarmRestarts", dict(T_0=9)),
])
def test_more_schedules_match_torchs_learning_rates_over_100_steps(name, kwargs):
    w, t = Tensor([1.0], requires_grad=True), torch.zeros(1, requires_grad=True)
    ours_opt, torch_opt = optim.SGD([w], lr=0.1), torch.optim.SGD([t], lr=0.1)
    extra = {"cycle_momentum": False} if name == "OneCycleLR" else {}
    ours = getattr(optim, name)(ours_opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(torch_opt, **kwargs, **extra)
    for step in range(100):
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12, abs=1e-15), f"step {step}"
        torch_opt.step()
        ours.step()
        theirs.step()


@needs_torch
@pytest.mark.parametrize("kwargs", [dict(), dict(mode="max", factor=0.5, patience=2, threshold_mode="abs", threshold=0.01,
                                                 cooldown=3, min_lr=0.002)])
def test_reduce_on_plateau_matches_torch(kwargs):
    w, t = Tensor([1.0], requires_grad=True), torch.zeros(1, requires_grad=True)
    ours_opt, torch_opt = optim.SGD([w], lr=0.1), torch.optim.SGD([t], lr=0.1)
    ours = optim.ReduceLROnPlateau(ours_opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(torch_opt, **kwargs)
    metrics = np.concatenate([np.linspace(1.0, 0.5, 20), np.full(30, 0.5), np.linspace(0.5, 0.49, 20), np.full(30, 0.7)])
    for step, metric in enumerate(metrics):
        ours.step(metric)
        theirs.step(metric)
        assert ours_opt.lr == pytest.approx(torch_opt.param_groups[0]["lr"], rel=1e-12), f"step {step}"
    assert ours_opt.lr < 0.1  # it did reduce
