"""Error paths and small behaviours not covered elsewhere, each checked by its message."""

import numpy as np
import pytest
from helpers import assert_close, leaf

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, nn, optim
from tinygrad_cnn.data import DataLoader, batches


def test_tensor_from_tensor_copies():
    a = Tensor([1.0, 2.0])
    b = Tensor(a)
    b.data[0] = 5.0
    assert a.data[0] == 1.0


def test_requires_grad_rules():
    x = leaf([1.0])
    y = x * 2.0
    with pytest.raises(
        RuntimeError, match="cannot turn off requires_grad on an op result; use detach"
    ):
        y.requires_grad = False
    z = Tensor([1.0]).requires_grad_()
    assert z.requires_grad
    with pytest.raises(RuntimeError, match="register_hook: this tensor does not require grad"):
        Tensor([1.0]).register_hook(print)


def test_numpy_interop_and_argmax():
    x = Tensor([[1.0, 5.0], [7.0, 2.0]])
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    assert x.argmax(axis=1).data.tolist() == [1, 0]


def test_reflected_pow_and_matmul():
    x = leaf([1.0, 2.0])
    y = 2.0**x
    assert_close(y.data, [2.0, 4.0])
    assert tc.gradcheck(lambda x: 2.0**x, x)
    with pytest.raises(
        ValueError, match=r"pow: a tensor exponent needs a positive scalar base, got -2.0"
    ):
        (-2.0) ** x
    m = np.ones((3, 2))
    assert (m @ leaf(np.ones((2, 4)))).shape == (3, 4)


def test_integer_tensors_meet_python_floats_as_float32():
    assert (Tensor([1, 2]) + 0.5).dtype == np.float32


def test_grad_of_an_intermediate_tensor():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    (gh,) = tc.grad((h * h).sum(), [h])
    assert_close(gh.data, 2 * h.data)
    with pytest.raises(TypeError, match="grad: input 0 must be a Tensor that requires grad"):
        tc.grad((x * 2.0).sum(), [Tensor([1.0])])


def test_create_graph_with_mixed_precision_keeps_the_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True, dtype=np.float64)
    c = Tensor([3.0, 4.0], requires_grad=True)  # float32
    (g,) = tc.grad((x * c).sum(), [c], create_graph=True)
    assert_close(g.data, [1.0, 2.0])


def test_base_classes_must_be_subclassed():
    class Bare(tc.Function, register=False):
        pass

    with pytest.raises(NotImplementedError):
        Bare.apply(leaf([1.0]))
    with pytest.raises(NotImplementedError, match="Module does not define forward"):
        nn.Module()(Tensor([1.0]))
    assert repr(Bare.__new__(Bare)) == "<op bare()>"


def test_optimizer_state_dict_checks():
    opt = optim.Adam(nn.Linear(2, 2).parameters())
    with pytest.raises(ValueError, match="expected a dict with keys type, param_groups, state"):
        opt.load_state_dict({"type": "Adam"})
    state = opt.state_dict()
    with pytest.raises(
        ValueError, match=r"parameter group 0 has no betas, eps, weight_decay, amsgrad"
    ):
        opt.load_state_dict({**state, "param_groups": [{"lr": 0.1, "params": [0, 1]}]})
    with pytest.raises(ValueError, match="state for 1 parameters, this optimizer has 2"):
        opt.load_state_dict({**state, "state": state["state"][:1]})
    opt.load_state_dict({**state, "param_groups": [{**state["param_groups"][0], "lr": 0.5}]})
    assert opt.param_groups[0]["lr"] == 0.5 and opt.param_groups[0]["betas"] == (0.9, 0.999)


def test_scheduler_checks_and_state():
    opt = optim.SGD([leaf([1.0])], lr=1.0)
    with pytest.raises(TypeError, match="StepLR: expected an Optimizer, got list"):
        optim.StepLR([], step_size=1)
    with pytest.raises(ValueError, match="StepLR: step_size must be a positive int, got 0"):
        optim.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="CosineAnnealingLR: T_max must be a positive int, got 0"):
        optim.CosineAnnealingLR(opt, T_max=0)
    schedule = optim.ExponentialLR(opt, gamma=0.5)
    schedule.step()
    restored_opt = optim.SGD([leaf([1.0])], lr=9.0)
    restored = optim.ExponentialLR(restored_opt, gamma=0.5)
    restored_opt.load_state_dict(opt.state_dict())  # the lr lives in the optimizer, as torch's
    restored.load_state_dict(schedule.state_dict())
    restored.step()
    assert restored.get_last_lr() == [0.25]
    with pytest.raises(ValueError, match="unexpected keys"):
        restored.load_state_dict({"epoch": 1})


def test_save_refuses_non_numeric_arrays_and_keys(tmp_path):
    with pytest.raises(TypeError, match=r"save: obj\['names'\] is an array of dtype <U1"):
        tc.save({"names": np.array(["a"])}, tmp_path / "c.npz")
    with pytest.raises(TypeError, match=r"save: obj has a non-string key"):
        tc.save({1: 2}, tmp_path / "c.npz")
    tc.save({"n": np.float32(1.5)}, tmp_path / "c.npz")
    assert tc.load(tmp_path / "c.npz")["n"] == 1.5


def test_load_reads_plain_npz_and_rejects_foreign_headers(tmp_path):
    np.savez(tmp_path / "plain.npz", w=np.ones(2))
    assert list(tc.load(tmp_path / "plain.npz")) == ["w"]
    np.savez(tmp_path / "odd.npz", __header__=np.frombuffer(b'{"format": "other"}', dtype=np.uint8))
    with pytest.raises(tc.CheckpointError, match="has an unknown header"):
        tc.load(tmp_path / "odd.npz")
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(tc.CheckpointError, match=r"empty.npz is empty"):
        tc.load(tmp_path / "empty.npz")


def test_checksum_mismatch_is_reported(tmp_path, monkeypatch):
    from tinygrad_cnn import serialization

    tc.save({"v": np.arange(4.0)}, tmp_path / "c.npz")
    monkeypatch.setattr(serialization, "array_digest", lambda array, version: "0" * 64)
    with pytest.raises(
        tc.CheckpointError, match="is corrupted: member 'a0' does not match its checksum"
    ):
        tc.load(tmp_path / "c.npz")


def test_module_helpers():
    seq = nn.Sequential(nn.ReLU(), nn.Dropout(0.1))
    assert len(seq) == 2 and [type(m).__name__ for m in seq] == ["ReLU", "Dropout"]
    assert (
        repr(seq[1]) == "Dropout(p=0.1)"
        and repr(nn.BatchNorm1d(3)) == "BatchNorm1d(3, eps=1e-05, momentum=0.1)"
    )
    with pytest.raises(
        TypeError, match="load_state_dict: Linear: expected a dict of arrays, got list"
    ):
        nn.Linear(1, 1).load_state_dict([])
    with pytest.raises(ValueError, match=r"Dropout: p must lie in \[0, 1\], got -0.1"):
        nn.Dropout(-0.1)


def test_batch_norm_without_running_stats_uses_batch_statistics():
    layer = nn.BatchNorm2d(2, track_running_stats=False).eval()
    x = Tensor(np.random.default_rng(0).standard_normal((3, 2, 4, 4)) * 5 + 2)
    out = layer(x).data
    assert layer.running_mean is None and "running_mean" not in layer.state_dict()
    assert_close(out.mean(axis=(0, 2, 3)), [0, 0], atol=1e-5)


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: F.celu(Tensor([1.0]), 0), "celu: alpha must not be 0"),
        (lambda: F.softplus(Tensor([1.0]), beta=0), "softplus: beta must be positive, got 0"),
        (lambda: F.clamp(Tensor([1.0])), "clamp: give min, max or both"),
        (lambda: F.clamp(Tensor([1.0]), 2.0, 1.0), r"clamp: min \(2.0\) is above max \(1.0\)"),
        (lambda: list(batches(np.ones(3), np.ones(2), 2)), "batches: 3 inputs but 2 targets"),
        (
            lambda: list(batches(np.ones(3), np.ones(3), 0)),
            "batches: batch_size must be a positive int, got 0",
        ),
        (lambda: DataLoader(np.ones(3), np.ones(2)), "DataLoader: 3 inputs but 2 targets"),
        (lambda: DataLoader(np.ones(0), np.ones(0)), "DataLoader: no samples"),
        (
            lambda: F.batch_norm(Tensor([1.0]), None, None),
            r"batch_norm: input must be \(B, C, ...\), got shape \(1,\)",
        ),
        (
            lambda: F.batch_norm(Tensor(np.ones((2, 3))), Tensor(np.ones(2)), None),
            r"running_mean must have shape \(3,\)",
        ),
        (
            lambda: F.global_avg_pool2d(Tensor(np.ones((2, 3)))),
            r"global_avg_pool2d: input must be \(B, C, H, W\)",
        ),
    ],
)
def test_more_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()
