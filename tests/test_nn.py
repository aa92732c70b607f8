"""Modules: parameter discovery, state_dict round trips, PyTorch-compatible shapes and init."""

import numpy as np
import pytest
from helpers import assert_close, needs_torch, torch

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor, nn
from tinygrad_cnn.models import lenet


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(4 * 4 * 4, 3))

    def forward(self, x):
        return self.head(self.conv1(x).relu())


def test_named_parameters_are_qualified_and_ordered():
    names = [n for n, _ in TwoLayer().named_parameters()]
    assert names == ["conv1.weight", "conv1.bias", "head.1.weight", "head.1.bias"]
    assert [n for n, _ in lenet().named_parameters()] == [
        "0.weight",
        "0.bias",
        "3.weight",
        "3.bias",
        "7.weight",
        "7.bias",
    ]


def test_parameter_shapes_follow_pytorch():
    conv, linear = nn.Conv2d(3, 8, (2, 5)), nn.Linear(6, 4)
    assert conv.weight.shape == (8, 3, 2, 5) and conv.bias.shape == (8,)
    assert linear.weight.shape == (4, 6) and linear.bias.shape == (4,)
    assert conv.weight.dtype == np.float32 and conv.weight.requires_grad
    assert (
        nn.Linear(2, 2, bias=False).bias is None
        and len(nn.Linear(2, 2, bias=False).parameters()) == 1
    )


def test_default_init_bound():
    conv = nn.Conv2d(16, 8, 3)
    bound = 1 / np.sqrt(16 * 9)
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.weight.data).max() > 0.9 * bound


def test_manual_seed_makes_init_reproducible():
    tc.manual_seed(3)
    a = lenet().state_dict()
    tc.manual_seed(3)
    b = lenet().state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_state_dict_is_a_copy():
    model = nn.Linear(2, 2)
    state = model.state_dict()
    state["weight"][:] = 7.0
    assert not np.any(model.weight.data == 7.0)


def test_save_and_load_round_trip(tmp_path):
    source, target = lenet(), lenet()
    source.save(tmp_path / "w.npz")
    target.load(tmp_path / "w.npz")
    x = Tensor(np.random.default_rng(0).standard_normal((2, 1, 8, 8)))
    assert_close(source(x).data, target(x).data, atol=0)


def test_load_refuses_pickles(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, weight=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match=r"load: .*evil.npz holds pickled objects"):
        tc.load(path)


def test_load_state_dict_checks_everything_before_applying():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    before = model.state_dict()
    bad = dict(before)
    bad["0.weight"] = np.zeros((3, 2))  # valid, would be applied first if not checked up front
    bad["1.weight"] = np.zeros((2, 3))
    del bad["1.bias"]
    bad["2.weight"] = np.zeros(1)
    with pytest.raises(ValueError) as err:
        model.load_state_dict(bad)
    message = str(err.value)
    assert "missing keys ['1.bias']" in message and "unexpected keys ['2.weight']" in message
    assert "1.weight: expected (1, 3), got (2, 3)" in message
    after = model.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_train_eval_propagate():
    model = TwoLayer().eval()
    assert not model.training and not model.head[1].training
    assert model.train().head[1].training


def test_zero_grad():
    model = nn.Linear(2, 1)
    model(Tensor(np.ones((1, 2)))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_repr():
    assert repr(nn.Conv2d(1, 8, 3, padding=1)) == "Conv2d(1, 8, kernel_size=3, padding=1)"
    assert "(0): Conv2d(1, 8, kernel_size=3, padding=1)" in repr(lenet())


@needs_torch
def test_state_dict_loads_into_the_same_pytorch_model():
    ours = lenet()
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 16, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(64, 10),
    )
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 1, 8, 8)).astype(np.float32)
    assert_close(
        ours(Tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(), atol=1e-5, rtol=1e-5
    )
    ours_back = lenet()
    ours_back.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert_close(ours_back(Tensor(x)).data, ours(Tensor(x)).data, atol=0)
