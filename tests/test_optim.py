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


SETTINGS = {
    "sgd": dict(lr=0.1),
    "sgd_momentum": dict(lr=0.1, momentum=0.9),
    "sgd_nesterov_decay": dict(lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.01),
    "adam": dict(lr=0.05),
    "adam_decay_betas": dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
}


@needs_torch
@pytest.mark.parametrize("label", list(SETTINGS))
def test_trajectory_matches_torch(label):
    kwargs = SETTINGS[label]
    ours, theirs = (optim.SGD, torch.optim.SGD) if label.startswith("sgd") else (optim.Adam, torch.optim.Adam)
    assert_close(run_ours(lambda p: ours(p, **kwargs)), run_torch(lambda p: theirs(p, **kwargs)), atol=1e-12, rtol=1e-10)


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
