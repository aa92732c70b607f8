"""Grad mode, trace and the module scope are per thread, as PyTorch's grad mode is: threads
that train, or evaluate under no_grad, beside each other get exactly what they get alone."""

import threading

import numpy as np
from helpers import train_losses

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor, nn


def _train(seed: int, steps: int) -> list[float]:
    """A small CNN trained from ``seed``: its losses, step by step."""
    rng = np.random.default_rng(seed)
    x, y = Tensor(rng.standard_normal((8, 1, 6, 6))), rng.integers(0, 3, 8)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(32, 3))
    for i, p in enumerate(model.parameters()):
        p.data = np.random.default_rng(seed + i).standard_normal(p.shape).astype(np.float32) * 0.3
    return train_losses(model, x, y, steps, lr=0.1)


def _run_threads(*targets) -> None:
    errors = []

    def guarded(target):
        try:
            target()
        except BaseException as err:  # a failure in a thread must fail the test
            errors.append(err)

    threads = [threading.Thread(target=guarded, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_two_threads_train_exactly_as_one():
    alone = [_train(1, 60), _train(2, 60)]
    together: dict[int, list[float]] = {}
    _run_threads(
        lambda: together.setdefault(1, _train(1, 60)), lambda: together.setdefault(2, _train(2, 60))
    )
    assert [together[1], together[2]] == alone


def test_an_evaluator_under_no_grad_does_not_disturb_training():
    alone = _train(3, 150)
    done = threading.Event()
    trained: list[list[float]] = []

    def evaluate():
        w = Tensor(np.ones(4), requires_grad=True)
        while not done.is_set():
            with tc.no_grad():
                out = (w * 2.0).sum()
                assert not out.requires_grad and not tc.is_grad_enabled()

    def train():
        trained.append(_train(3, 150))
        done.set()

    _run_threads(evaluate, train)
    assert trained == [alone]


def test_modes_start_fresh_in_a_new_thread():
    seen = {}

    def look():
        seen["grad"] = tc.is_grad_enabled()
        x = Tensor([1.0])
        seen["traced"] = (x * 2.0)._ctx is not None  # no trace() in this thread: nothing recorded

    with tc.no_grad(), tc.trace():
        _run_threads(look)
    assert seen == {"grad": True, "traced": False}
