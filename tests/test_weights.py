"""Weights that travel: safetensors files PyTorch loads as they are, and the way back."""

import json

import numpy as np
import pytest
from helpers import needs_torch, torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor, nn
from tinygrad_cnn.data import load_digits
from tinygrad_cnn.models import lenet
from tinygrad_cnn.train import predict_logits
from tinygrad_cnn.weights import read_weights

safetensors = pytest.importorskip(
    "safetensors", reason="safetensors is not installed (pip install safetensors)"
)


def bn_model():
    """A model with a buffer of each kind: BatchNorm's running stats and int64 batch count."""
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(256, 10),
    )


def test_weights_round_trip_with_names_dtypes_and_metadata(tmp_path):
    model = bn_model()
    # moves running stats
    model(Tensor(np.random.default_rng(0).standard_normal((4, 1, 8, 8)).astype(np.float32)))
    path = tmp_path / "m.safetensors"
    tc.save_weights(model, path)
    restored = tc.load_weights(bn_model(), path)
    for (name, a), (other, b) in zip(model.state_dict().items(), restored.state_dict().items()):
        assert name == other and a.dtype == b.dtype and np.array_equal(a, b), name
    from safetensors import safe_open

    with safe_open(str(path), "numpy") as f:
        metadata = f.metadata()
    assert metadata["format"] == "pt" and metadata["tinygrad_cnn"] == tc.__version__
    assert set(json.loads(metadata["tinygrad_cnn.sha256"])) == set(model.state_dict())


def test_tampered_truncated_and_mismatched_files_are_refused(tmp_path):
    model = lenet(width=4)
    path = tmp_path / "m.safetensors"
    tc.save_weights(model, path)
    raw = bytearray(path.read_bytes())
    raw[-3] ^= 0xFF  # inside the last tensor's bytes
    (tmp_path / "tampered.safetensors").write_bytes(bytes(raw))
    with pytest.raises(
        tc.CheckpointError, match=r"is corrupted: tensor '.*' does not match its checksum"
    ):
        tc.load_weights(lenet(width=4), tmp_path / "tampered.safetensors")
    (tmp_path / "short.safetensors").write_bytes(path.read_bytes()[:-40])
    with pytest.raises(tc.CheckpointError, match="is not a readable safetensors file"):
        tc.load_weights(lenet(width=4), tmp_path / "short.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"\xff" * 16)
    with pytest.raises(tc.CheckpointError, match="is not a readable safetensors file"):
        tc.load_weights(lenet(width=4), tmp_path / "junk.safetensors")
    with pytest.raises(
        ValueError, match="shape"
    ):  # a wider model: load_state_dict names the mismatch
        tc.load_weights(lenet(width=8), path)


def torch_lenet(width):
    """models.lenet's twin in PyTorch: the same module indices, so the same state_dict names."""
    t = torch.nn
    return t.Sequential(
        t.Conv2d(1, width, 3, padding=1),
        t.ReLU(),
        t.MaxPool2d(2),
        t.Conv2d(width, 2 * width, 3, padding=1),
        t.ReLU(),
        t.MaxPool2d(2),
        t.Flatten(),
        t.Linear(2 * width * 4, 10),
    )


@needs_torch
def test_pytorch_loads_our_weights_as_they_are_and_we_load_its(tmp_path):
    from safetensors.torch import load_file, save_file

    _, test = load_digits()
    tc.manual_seed(3)
    ours = lenet(width=4)
    tc.save_weights(ours, tmp_path / "ours.safetensors")
    twin = torch_lenet(4)
    twin.load_state_dict(load_file(str(tmp_path / "ours.safetensors")))  # no renaming, no wrapping
    with torch.no_grad():
        theirs = twin(torch.tensor(test.images)).numpy()
    np.testing.assert_allclose(predict_logits(ours, test.images), theirs, rtol=1e-5, atol=1e-6)
    assert (predict_logits(ours, test.images).argmax(1) == theirs.argmax(1)).all()

    torch.manual_seed(0)
    trained_elsewhere = torch_lenet(4)
    save_file(trained_elsewhere.state_dict(), str(tmp_path / "theirs.safetensors"))
    back = tc.load_weights(lenet(width=4), tmp_path / "theirs.safetensors")
    with torch.no_grad():
        expected = trained_elsewhere(torch.tensor(test.images)).numpy()
    np.testing.assert_allclose(predict_logits(back, test.images), expected, rtol=1e-5, atol=1e-6)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    flips=st.lists(
        st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), min_size=1, max_size=3
    ),
    keep=st.floats(0.2, 1.0),
)
def test_fuzzed_weight_files_load_as_saved_or_raise_checkpoint_error(tmp_path, flips, keep):
    model = lenet(width=2)
    path = tmp_path / "m.safetensors"
    tc.save_weights(model, path)
    data = bytearray(path.read_bytes())
    for where, mask in flips:
        data[int(where * len(data))] ^= mask
    path.write_bytes(bytes(data[: max(1, int(keep * len(data)))]))
    try:
        arrays = read_weights(path)
    except tc.CheckpointError:
        return
    expected = model.state_dict()
    assert arrays.keys() == expected.keys() and all(
        np.array_equal(arrays[k], expected[k]) for k in expected
    )


def test_big_endian_arrays_round_trip(tmp_path):
    weights = np.arange(6, dtype=">f4").reshape(2, 3)
    tc.save_weights({"w": weights}, tmp_path / "m.safetensors")
    back = read_weights(tmp_path / "m.safetensors")["w"]
    assert np.array_equal(back, weights) and back.dtype == np.float32


def test_our_files_without_their_checksums_are_refused(tmp_path):
    """A flipped byte in the checksum key's name must not switch verification off."""
    path = tmp_path / "m.safetensors"
    tc.save_weights(lenet(width=2), path)
    raw = path.read_bytes().replace(b"tinygrad_cnn.sha256", b"tinygrad_cnn.sha25X")
    path.write_bytes(raw)
    with pytest.raises(
        tc.CheckpointError, match="written by tinygrad_cnn but its checksums are missing"
    ):
        read_weights(path)


@needs_torch
def test_bfloat16_files_say_what_to_do(tmp_path):
    from safetensors.torch import save_file

    save_file({"w": torch.ones(3, dtype=torch.bfloat16)}, str(tmp_path / "bf16.safetensors"))
    with pytest.raises(tc.CheckpointError, match="holds dtype 'BF16' that numpy cannot represent"):
        read_weights(tmp_path / "bf16.safetensors")
