"""Reliability: anomaly detection, flat memory over long training, checkpoints, determinism."""

import gc
import os
import tracemalloc
import weakref

import numpy as np
import pytest
from helpers import needs_torch, torch

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, nn, optim
from tinygrad_cnn.data import batches, load_digits
from tinygrad_cnn.models import lenet
from tinygrad_cnn.random import get_state, set_state
from tinygrad_cnn.train import fit


# ---- anomaly detection ----------------------------------------------------------------------
def test_anomaly_in_forward_names_op_shapes_and_place():
    x = Tensor([1.0, -1.0], requires_grad=True)
    with tc.detect_anomaly(), np.errstate(invalid="ignore"):
        with pytest.raises(tc.AnomalyError) as err:
            x.log()  # the line named in the message
    message = str(err.value)
    assert "nan in the forward result of op 'log' (inputs: (2,) float32)" in message
    assert "test_reliability.py" in message and "x.log()" in message


def test_anomaly_in_backward_names_the_op_that_made_it():
    x = Tensor([0.0, 4.0], requires_grad=True)
    with tc.detect_anomaly(), np.errstate(divide="ignore"):
        root = (x * x) ** 0.5  # d/da a**0.5 is infinite at a = 0
        with pytest.raises(tc.AnomalyError) as err:
            root.sum().backward()
    message = str(err.value)
    assert (
        "inf in the gradient that backward returned for input 0 of op 'pow' (inputs: (2,) float32)"
        in message
    )
    assert "root = (x * x) ** 0.5" in message


def test_without_anomaly_mode_nothing_is_checked():
    with np.errstate(invalid="ignore"):
        assert np.isnan(Tensor([-1.0]).log().item())


# ---- memory ------------------------------------------------------------------------------------
def live_graph_objects():
    gc.collect()
    return sum(issubclass(type(o), (Tensor, tc.Function)) for o in gc.get_objects())


def test_memory_stays_flat_over_1000_training_steps():
    """No graph survives its step: live tensors and nodes, and traced memory, stay flat.

    (numpy keeps a few internal caches that grow once, by under 1 MiB; a leaked graph of this
    model would add about 40 KiB a step, 40 MiB over the run.)
    """
    train, _ = load_digits()
    model = lenet(width=4)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    images, labels = train.images[:16], train.labels[:16]

    def step():
        loss = F.cross_entropy(model(Tensor(images)), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(100):
        step()
    objects_before = live_graph_objects()
    growth = traced_growth(step, 1000)
    assert live_graph_objects() == objects_before
    assert growth < 2 * 2**20, f"memory grew by {growth / 1024:.0f} KiB over 1000 steps"


def traced_growth(step, steps: int) -> int:
    """Bytes of Python-traced memory (numpy's arrays included) that ``steps`` calls leave behind."""
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for _ in range(steps):
            step()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return after - before


def test_kept_losses_keep_no_activations():
    """``losses.append(loss)`` keeps the graph for drawing, not the arrays: after backward each
    input of a node that only the graph held is a ReleasedTensor of the same shape and dtype.

    (Before, each kept loss of this model held its activations, about 670 KiB a step.)
    """
    train, _ = load_digits()
    model = lenet(width=8)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    images, labels = train.images[:32], train.labels[:32]
    losses = []

    def step():
        loss = F.cross_entropy(model(Tensor(images)), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss)

    step()
    per_step = traced_growth(step, 1000) / 1000
    assert per_step < 48 * 1024, f"each kept loss costs {per_step / 1024:.0f} KiB"
    stand_ins = [t for t in viz_tensors(losses[-1]) if isinstance(t, tc.ReleasedTensor)]
    assert {t.shape for t in stand_ins} >= {(32, 10), (32, 8, 8, 8)}
    with pytest.raises(RuntimeError, match=r"released by backward\(\).*retain_graph=True"):
        _ = stand_ins[0].data
    assert (
        "cross_entropy" in tc.draw_graph(losses[-1]).source
        or "log_softmax" in tc.draw_graph(losses[-1]).source
    )


def viz_tensors(root):
    """Every tensor (or stand-in) in the graph behind ``root``."""
    found, stack = [], [root]
    while stack:
        t = stack.pop()
        found.append(t)
        if t._ctx is not None:
            stack.extend(t._ctx.parents)
    return found


def test_a_tensor_the_user_holds_stays_itself_in_a_released_graph():
    # large enough to be worth releasing
    x = Tensor(np.arange(600.0).reshape(20, 30), requires_grad=True)
    hidden = x * 2  # the user holds it, to read or to label in a drawing
    hidden.name = "hidden"
    squares = hidden * hidden  # nobody holds this one
    weak = weakref.ref(squares)
    loss = squares.sum()
    del squares
    loss.backward()
    stand_in = loss._ctx.parents[0]
    assert isinstance(stand_in, tc.ReleasedTensor) and weak() is None, (
        "the graph alone held it: released"
    )
    assert stand_in.shape == (20, 30) and stand_in._ctx.parents == (hidden, hidden)
    np.testing.assert_array_equal(hidden.data, np.arange(600.0).reshape(20, 30) * 2)
    assert "hidden" in tc.draw_graph(loss).source
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()
    retained = (x * 3).sum()
    retained.backward(retain_graph=True)
    assert isinstance(retained._ctx.parents[0], Tensor)


# ---- checkpoints ---------------------------------------------------------------------------------
def test_checkpoint_round_trip_with_structure(tmp_path):
    obj = {
        "weights": {"w": np.arange(6.0).reshape(2, 3)},
        "steps": 7,
        "betas": (0.9, 0.99),
        "name": "run",
        "history": [1.5, 2.5],
        "none": None,
        "flag": True,
        "tensor": Tensor([1.0, 2.0]),
    }
    tc.save(obj, tmp_path / "c.npz")
    back = tc.load(tmp_path / "c.npz")
    assert back["steps"] == 7 and back["betas"] == (0.9, 0.99) and back["name"] == "run"
    assert back["history"] == [1.5, 2.5] and back["none"] is None and back["flag"] is True
    assert np.array_equal(back["weights"]["w"], obj["weights"]["w"])
    assert back["tensor"].dtype == np.float32


def test_save_refuses_objects(tmp_path):
    with pytest.raises(
        TypeError,
        match=r"save: obj\['fn'\] is a builtin_function_or_method; checkpoints hold arrays",
    ):
        tc.save({"fn": print}, tmp_path / "c.npz")


def test_crash_mid_save_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "c.npz"
    tc.save({"v": np.ones(3)}, path)

    def broken_savez(f, **arrays):
        f.write(b"PK\x03\x04 half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(KeyboardInterrupt):
        tc.save({"v": np.zeros(3)}, path)
    monkeypatch.undo()
    assert np.array_equal(tc.load(path)["v"], np.ones(3))
    assert os.listdir(tmp_path) == ["c.npz"]


def test_truncated_checkpoint_is_reported(tmp_path):
    path = tmp_path / "c.npz"
    tc.save({"v": np.arange(1000.0)}, path)
    path.write_bytes(path.read_bytes()[:3000])
    with pytest.raises(
        tc.CheckpointError, match=r"is not a readable checkpoint \(truncated or corrupted\?\)"
    ):
        tc.load(path)


def test_corrupted_checkpoint_is_reported(tmp_path):
    path = tmp_path / "c.npz"
    tc.save({"v": np.arange(1000.0)}, path)
    raw = bytearray(path.read_bytes())
    raw[2000] ^= 0xFF  # inside the array's bytes
    path.write_bytes(bytes(raw))
    with pytest.raises(
        tc.CheckpointError, match=r"c.npz (is not a readable checkpoint|is corrupted)"
    ):
        tc.load(path)


def test_pickled_checkpoint_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(tc.CheckpointError, match="holds pickled objects, which are refused"):
        tc.load(path)


def test_newer_format_is_refused(tmp_path, monkeypatch):
    from tinygrad_cnn import serialization

    monkeypatch.setattr(serialization, "FORMAT_VERSION", 99)
    tc.save({"v": 1}, tmp_path / "c.npz")
    monkeypatch.undo()
    with pytest.raises(
        tc.CheckpointError,
        match="written in checkpoint format 99; "
        "this version of tinygrad_cnn reads format 2 and older",
    ):
        tc.load(tmp_path / "c.npz")


def train_epochs(model, opt, epochs):
    train, test = load_digits()
    small = (train.images[:256], train.labels[:256])
    return [
        round(r.train_loss, 12)
        for r in fit(
            model, opt, small, (test.images[:64], test.labels[:64]), epochs, 32, quiet=True
        )
    ]


def test_resumed_training_continues_exactly(tmp_path):
    tc.manual_seed(5)
    model, opt = lenet(width=4), None
    opt = optim.Adam(model.parameters(), lr=3e-3)
    uninterrupted = train_epochs(model, opt, 4)

    tc.manual_seed(5)
    model = lenet(width=4)
    opt = optim.Adam(model.parameters(), lr=3e-3)
    first = train_epochs(model, opt, 2)
    tc.save(
        {"model": model.state_dict(), "optimizer": opt.state_dict(), "rng": get_state()},
        tmp_path / "c.npz",
    )

    tc.manual_seed(123)  # a fresh process would start elsewhere
    resumed_model = lenet(width=4)
    resumed_opt = optim.Adam(resumed_model.parameters(), lr=1.0)
    checkpoint = tc.load(tmp_path / "c.npz")
    resumed_model.load_state_dict(checkpoint["model"])
    resumed_opt.load_state_dict(checkpoint["optimizer"])
    set_state(checkpoint["rng"])
    assert first + train_epochs(resumed_model, resumed_opt, 2) == uninterrupted


def test_optimizer_state_from_another_setup_is_refused_whole():
    a = optim.Adam(lenet(width=4).parameters())
    b = optim.SGD(lenet(width=4).parameters(), lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="Adam.load_state_dict: the state is from a SGD optimizer"):
        a.load_state_dict(b.state_dict())
    other = optim.Adam(lenet(width=8).parameters())
    model = lenet(width=4)
    fresh = optim.Adam(model.parameters())
    loss = F.cross_entropy(model(Tensor(np.ones((2, 1, 8, 8)))), [0, 1])
    loss.backward()
    other.params[0].grad = Tensor(np.ones(other.params[0].shape))
    other.step()
    with pytest.raises(
        ValueError,
        match=r"parameter 0 state 'exp_avg' has shape \(8, 1, 3, 3\), "
        r"the parameter has \(4, 1, 3, 3\)",
    ):
        fresh.load_state_dict(other.state_dict())
    assert fresh.state[0] == {}


# ---- determinism and bad input -------------------------------------------------------------------
def test_manual_seed_reproduces_init_and_shuffling():
    def run():
        tc.manual_seed(11)
        weights = lenet().state_dict()["0.weight"]
        order = np.concatenate([y for _, y in batches(np.arange(20), np.arange(20), 6)])
        return weights, order

    (w1, o1), (w2, o2) = run(), run()
    assert np.array_equal(w1, w2) and np.array_equal(o1, o2)


def test_list_of_tensors_where_a_tensor_is_expected():
    with pytest.raises(TypeError, match="Tensor: got a list of Tensors"):
        Tensor([Tensor([1.0]), Tensor([2.0])])
    with pytest.raises(TypeError, match="conv2d: input must be a Tensor or numpy array, got list"):
        F.conv2d([Tensor(np.ones((1, 1, 3, 3)))], Tensor(np.ones((1, 1, 2, 2))))


def test_empty_batches():
    with pytest.raises(
        ValueError, match=r"cross_entropy: input must have shape \(B, K\) with B > 0, got \(0, 3\)"
    ):
        F.cross_entropy(Tensor(np.zeros((0, 3))), np.zeros(0, dtype=int))
    with pytest.raises(ValueError, match="batches: no samples to batch"):
        list(batches(np.zeros((0, 2)), np.zeros(0), 4))


def test_state_dict_from_a_different_architecture_is_refused_whole():
    model = nn.Sequential(nn.Linear(2, 3))
    before = model.state_dict()
    with pytest.raises(
        ValueError,
        match=r"unexpected keys \['3.weight'.*0.weight: expected \(3, 2\), got \(8, 1, 3, 3\)",
    ):
        model.load_state_dict(lenet().state_dict())
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())


@needs_torch
def test_loading_a_pytorch_file_says_what_it_is(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"weight": torch.ones(2)}, path)
    with pytest.raises(
        tc.CheckpointError,
        match="is a PyTorch file .torch.save.; load it with torch.load and "
        "write its state_dict with safetensors",
    ):
        tc.load(path)


def test_pooling_integers_computes_in_float32():
    x = Tensor(np.array([[[[-5, -3], [-7, -2]]]], dtype=np.int8))
    pooled = F.max_pool2d(x, 3, stride=1, padding=1)  # the -inf padding must not become 0
    assert pooled.dtype == np.float32 and pooled.tolist() == [[[[-2.0, -2.0], [-2.0, -2.0]]]]
    assert F.avg_pool2d(Tensor(np.full((1, 1, 2, 2), 3, dtype=np.uint8)), 2).tolist() == [[[[3.0]]]]
    assert F.softmax(Tensor(np.array([[0, 0]], dtype=np.uint8))).tolist() == [[0.5, 0.5]]
    assert np.isfinite(
        F.cross_entropy(Tensor(np.array([[1, 2, 3]], dtype=np.uint8)), np.array([2])).item()
    )


@needs_torch
def test_max_pool_sends_the_gradient_to_a_nan_as_torch():
    values = np.array([[[[1.0, np.nan, 0.0], [3.0, 2.0, np.nan], [0.0, 1.0, 5.0]]]])
    ours, twin = (
        Tensor(values, requires_grad=True, dtype=np.float64),
        torch.tensor(values, requires_grad=True),
    )
    F.max_pool2d(ours, 2, stride=1).sum().backward()
    torch.nn.functional.max_pool2d(twin, 2, stride=1).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), twin.grad.numpy())


def test_conv_and_pool_of_an_empty_batch():
    x = Tensor(np.zeros((0, 2, 5, 5)), requires_grad=True)
    conv = nn.Conv2d(2, 3, 3, padding=1)
    for out, shape in (
        (conv(x), (0, 3, 5, 5)),
        (F.max_pool2d(x, 2), (0, 2, 2, 2)),
        (F.avg_pool2d(x, 3, 1, 1), (0, 2, 5, 5)),
    ):
        assert out.shape == shape
        out.sum().backward()
    assert x.grad.shape == x.shape and conv.weight.grad.numpy().sum() == 0


def test_float_activations_of_integers_compute_in_float32():
    x = Tensor(np.array([-5, 1, 2], dtype=np.int64))
    for name in (
        "gelu",
        "erf",
        "leaky_relu",
        "elu",
        "selu",
        "softplus",
        "silu",
        "mish",
        "softsign",
        "logsigmoid",
    ):
        out = getattr(F, name)(x)
        assert out.dtype == np.float32, name
    np.testing.assert_allclose(F.leaky_relu(x, 0.1).numpy(), [-0.5, 1.0, 2.0])
    np.testing.assert_allclose(F.erf(x).numpy(), [-1.0, 0.8427008, 0.9953223], rtol=1e-6)
