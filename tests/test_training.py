"""Learning, end to end: the digits CNN trains to a stated accuracy (a test of learning, not time)."""
import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import optim
from tinygrad_cnn.cli import main
from tinygrad_cnn.data import load_digits
from tinygrad_cnn.models import lenet
from tinygrad_cnn.train import evaluate, fit


def test_digits_cnn_learns():
    train, test = load_digits()
    model = lenet(width=16)
    before = evaluate(model, *test)
    history = fit(model, optim.Adam(model.parameters(), lr=3e-3), train, test, epochs=6, quiet=True)
    assert before < 0.3
    assert history[-1].test_accuracy >= 0.93
    assert history[-1].train_loss < history[0].train_loss / 3


def test_digits_split():
    train, test = load_digits()
    assert train.images.shape == (1438, 1, 8, 8) and test.images.shape == (359, 1, 8, 8)
    assert train.images.dtype == np.float32 and 0.0 <= train.images.min() and train.images.max() == 1.0
    assert set(np.unique(test.labels)) == set(range(10))
    assert np.bincount(test.labels).min() >= 34  # stratified: about 20% of each class


def test_cli_train_saves_a_checkpoint(tmp_path, capsys):
    assert main(["train", "--epochs", "2", "--width", "4", "--quiet", "--out", str(tmp_path)]) == 0
    assert "test accuracy" in capsys.readouterr().out
    model = lenet(width=4).load(tmp_path / "checkpoint.npz")
    assert model.parameters()[0].shape == (4, 1, 3, 3)
    assert tc.load(tmp_path / "checkpoint.npz")["config"] == {"in_channels": 1, "image_size": 8, "classes": 10, "width": 4}


def test_cli_lists_ops_with_their_attributes(capsys):
    main(["ops"])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("(")[0] for line in lines] == tc.list_ops()
    assert any(line.startswith("im2col(x, kernel_size, stride=1, padding=0, pad_value=0.0, columns='chw', dilation=1, rows='bhw')") for line in lines)


def test_python_dash_m_entry_point():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "ops"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("add(a, b)")


def _cli_error(argv, capsys, usage=False):
    """Run the CLI expecting it to stop with one error line (after argparse's usage lines, for
    a bad option), no traceback; returns (exit code, that line)."""
    with pytest.raises(SystemExit) as stop:
        main(argv)
    lines = capsys.readouterr().err.strip().splitlines()
    assert (lines[0].startswith("usage:") if usage else len(lines) == 1), lines
    assert "Traceback" not in "\n".join(lines)
    return stop.value.code, lines[-1]


def test_cli_checks_out_before_training(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    for out, reason in ((tmp_path / "file", "exists and is not a folder"),
                        (tmp_path / "file" / "sub", "cannot write there")):
        code, line = _cli_error(["train", "--epochs", "30", "--quiet", "--out", str(out)], capsys)
        assert code == 2 and f"--out {out}: {reason}" in line


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow that makes the loss nan
def test_cli_stops_a_diverging_run_without_saving(tmp_path, capsys):
    code, line = _cli_error(["train", "--lr", "1e30", "--epochs", "3", "--quiet", "--out", str(tmp_path)], capsys)
    assert code == 2 and "the loss is nan at epoch 1, batch" in line and "nothing was saved" in line
    assert not (tmp_path / "checkpoint.npz").exists()


def test_cli_names_a_negative_seed(capsys):
    code, line = _cli_error(["train", "--seed", "-1"], capsys, usage=True)
    assert code == 2 and "argument --seed: must be a non-negative integer, got -1" in line
