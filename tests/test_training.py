"""Learning, end to end: the digits CNN trains to a stated accuracy (a test of learning, not
time)."""

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
    assert (
        train.images.dtype == np.float32 and 0.0 <= train.images.min() and train.images.max() == 1.0
    )
    assert set(np.unique(test.labels)) == set(range(10))
    assert np.bincount(test.labels).min() >= 34  # stratified: about 20% of each class


def test_cli_train_saves_a_checkpoint(tmp_path, capsys):
    assert main(["train", "--epochs", "2", "--width", "4", "--quiet", "--out", str(tmp_path)]) == 0
    assert "test accuracy" in capsys.readouterr().out
    model = lenet(width=4).load(tmp_path / "checkpoint.npz")
    assert model.parameters()[0].shape == (4, 1, 3, 3)
    assert tc.load(tmp_path / "checkpoint.npz")["config"] == {
        "in_channels": 1,
        "image_size": 8,
        "classes": 10,
        "width": 4,
    }


def test_cli_lists_ops_with_their_attributes(capsys):
    main(["ops"])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("(")[0] for line in lines] == tc.list_ops()
    assert any(
        line.startswith(
            "im2col(x, kernel_size, stride=1, padding=0, pad_value=0.0, columns='chw', "
            "dilation=1, rows='bhw')"
        )
        for line in lines
    )


def test_python_dash_m_entry_point():
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "tinygrad_cnn", "ops"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and done.stdout.startswith("add(a, b)")


def _cli_error(argv, capsys, usage=False):
    """Run the CLI expecting it to stop with one error line (after argparse's usage lines, for
    a bad option), no traceback; returns (exit code, that line)."""
    with pytest.raises(SystemExit) as stop:
        main(argv)
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith("usage:") if usage else len(lines) == 1, lines
    assert "Traceback" not in "\n".join(lines)
    return stop.value.code, lines[-1]


def test_cli_checks_out_before_training(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    for out, reason in (
        (tmp_path / "file", "exists and is not a folder"),
        (tmp_path / "file" / "sub", "cannot write there"),
    ):
        code, line = _cli_error(["train", "--epochs", "30", "--quiet", "--out", str(out)], capsys)
        assert code == 2 and f"--out {out}: {reason}" in line


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow that makes the loss nan
def test_cli_stops_a_diverging_run_without_saving(tmp_path, capsys):
    code, line = _cli_error(
        ["train", "--lr", "1e30", "--epochs", "3", "--quiet", "--out", str(tmp_path)], capsys
    )
    assert code == 2 and "the loss is nan at epoch 1, batch" in line and "nothing was saved" in line
    assert not (tmp_path / "checkpoint.npz").exists()


def test_cli_names_a_negative_seed(capsys):
    code, line = _cli_error(["train", "--seed", "-1"], capsys, usage=True)
    assert code == 2 and "argument --seed: must be a non-negative integer, got -1" in line


# ---- interrupted and resumed runs --------------------------------------------------------------
def _stop_at_step(monkeypatch, step):
    """Make optimizer step number ``step`` raise KeyboardInterrupt, as Ctrl-C inside a batch."""
    calls = {"n": 0}
    real_step = optim.Adam.step

    def step_or_interrupt(self):
        calls["n"] += 1
        if calls["n"] == step:
            raise KeyboardInterrupt
        real_step(self)

    monkeypatch.setattr(optim.Adam, "step", step_or_interrupt)


def test_cli_interrupted_run_resumes_bit_exactly(tmp_path, capsys, monkeypatch):
    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    args = ["train", "--epochs", "4", "--width", "4", "--quiet"]
    assert main(args + ["--out", str(straight)]) == 0
    _stop_at_step(monkeypatch, 100)  # 45 batches an epoch: inside epoch 3
    code, line = _cli_error(args + ["--out", str(stopped)], capsys)
    checkpoint = stopped / "checkpoint.npz"
    assert code == 130 and line.endswith(
        f"interrupted; epoch 2 is saved in {checkpoint}; "
        f"continue with: python -m tinygrad_cnn train --resume {checkpoint}"
    )
    monkeypatch.undo()
    assert main(["train", "--resume", str(checkpoint), "--quiet"]) == 0
    resumed, reference = tc.load(checkpoint), tc.load(straight / "checkpoint.npz")
    for name, array in reference["model"].items():
        assert np.array_equal(resumed["model"][name], array), name  # bit for bit

    def results(history):  # every number of each epoch but its duration
        return [{k: v for k, v in epoch.items() if k != "seconds"} for epoch in history]

    assert results(resumed["history"]) == results(reference["history"])


def test_an_interrupt_while_saving_names_the_epoch_the_file_holds(tmp_path, capsys, monkeypatch):
    """Ctrl-C inside the second epoch's save: the file still holds epoch 1, and says so."""
    import tinygrad_cnn.cli as cli

    (tmp_path / "checkpoint.npz").write_bytes(b"a previous run's file")
    saves = {"n": 0}
    real_save = cli.save

    def save_then_interrupt(obj, path):
        saves["n"] += 1
        if saves["n"] == 2:
            raise KeyboardInterrupt
        real_save(obj, path)

    monkeypatch.setattr(cli, "save", save_then_interrupt)
    code, line = _cli_error(
        ["train", "--epochs", "3", "--width", "4", "--quiet", "--out", str(tmp_path)], capsys
    )
    assert code == 130 and f"interrupted; epoch 1 is saved in {tmp_path / 'checkpoint.npz'}" in line
    (tmp_path / "checkpoint.npz").write_bytes(b"a previous run's file")
    saves["n"] = 1
    code, line = _cli_error(
        ["train", "--epochs", "3", "--width", "4", "--quiet", "--out", str(tmp_path)], capsys
    )
    # the old file is not this run's
    assert code == 130 and "no epoch had finished, nothing was saved" in line


def test_cli_resume_refuses_changed_options_and_finished_runs(tmp_path, capsys):
    assert main(["train", "--epochs", "1", "--width", "4", "--quiet", "--out", str(tmp_path)]) == 0
    checkpoint = str(tmp_path / "checkpoint.npz")
    code, line = _cli_error(["train", "--resume", checkpoint, "--lr", "0.1"], capsys)
    assert (
        code == 2 and "--lr 0.1: a resumed run keeps the options it started with (lr 0.003)" in line
    )
    code, line = _cli_error(["train", "--resume", checkpoint], capsys)
    assert code == 2 and "all 1 epochs are done already" in line
    tc.save(
        {"model": {}, "config": {"in_channels": 1, "image_size": 8, "classes": 10, "width": 4}},
        tmp_path / "old.npz",
    )
    code, line = _cli_error(["train", "--resume", str(tmp_path / "old.npz")], capsys)
    assert code == 2 and "implies 666 parameters, but it holds 0" in line


def test_cli_ctrl_c_saves_the_last_epoch_and_exits_130(tmp_path):
    """A real SIGINT, from outside, while a 30-epoch run is in its second epoch or later."""
    import signal
    import subprocess
    import sys

    # a shell that starts jobs in the background (as `cmd &` in CI) ignores SIGINT, and Python
    # then installs no KeyboardInterrupt handler: give the child the default disposition back
    run = subprocess.Popen(
        [sys.executable, "-m", "tinygrad_cnn", "train", "--width", "4", "--out", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    for line in run.stdout:
        if line.startswith("epoch   1/30"):
            break
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=120)
    assert (
        run.returncode == 130 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    ), err
    assert "is saved in" in err and "continue with: python -m tinygrad_cnn train --resume" in err
    epochs_done = len(tc.load(tmp_path / "checkpoint.npz")["history"])
    assert f"interrupted; epoch {epochs_done} is saved" in err


# ---- hostile checkpoints and mismatched data --------------------------------------------------
def test_cli_evaluate_checks_a_config_against_its_arrays_before_building(tmp_path, capsys):
    path = tmp_path / "c.npz"
    tc.save(
        {
            "model": {"w": np.zeros(3, np.float32)},
            "config": {"in_channels": 1, "image_size": 8, "classes": 10, "width": 4000},
        },
        path,
    )
    assert path.stat().st_size < 1000
    import tracemalloc

    tracemalloc.start()
    try:
        code, line = _cli_error(["evaluate", str(path)], capsys)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 2 and "implies 288,368,010 parameters, but it holds 3" in line and peak < 2**22
    for config in (
        {"width": 4},
        {"in_channels": 1, "image_size": 8, "classes": 10, "width": -4},
        [1],
    ):
        tc.save({"model": {}, "config": config}, path)
        code, line = _cli_error(["evaluate", str(path)], capsys)
        assert code == 2 and "its config is not four positive integers" in line


def test_cli_evaluate_names_an_image_size_mismatch(tmp_path, capsys):
    assert main(["train", "--epochs", "1", "--width", "4", "--quiet", "--out", str(tmp_path)]) == 0
    folder = mnist_folder(tmp_path)
    code, line = _cli_error(
        ["evaluate", str(tmp_path / "checkpoint.npz"), "--data", f"idx:{folder}"], capsys
    )
    assert code == 2 and "was trained on 1x8x8 images; idx:" in line and "has 1x28x28" in line


def write_idx(path, array):
    """An IDX file (uint8 data) as MNIST ships them."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape
    )
    path.write_bytes(header + array.tobytes())


@pytest.mark.parametrize(
    "config",
    [
        dict(),
        dict(in_channels=3, image_size=32, classes=100, width=16),
        dict(in_channels=1, image_size=28, classes=10, width=32),
    ],
)
def test_lenet_parameter_count_matches_the_model(config):
    from tinygrad_cnn.models import lenet_parameter_count

    assert lenet_parameter_count(**config) == sum(p.size for p in lenet(**config).parameters())


def mnist_folder(tmp_path, test_images=5):
    from tinygrad_cnn.data.idx import MNIST_FILES

    folder = tmp_path / "mnist"
    folder.mkdir()
    for (images, labels), count in zip(MNIST_FILES.values(), (8, test_images)):
        write_idx(folder / images, np.zeros((count, 28, 28), np.uint8))
        write_idx(folder / labels, np.arange(count, dtype=np.uint8) % 10)
    return folder


def test_idx_files_with_hostile_or_damaged_contents_get_one_line(tmp_path, capsys):
    import gzip

    from tinygrad_cnn.data.idx import load_idx

    huge = tmp_path / "huge"
    huge.write_bytes(bytes([0, 0, 0x08, 3]) + (2**32 - 1).to_bytes(4, "big") * 3 + bytes(10))
    with pytest.raises(
        ValueError,
        match=r"has 26 bytes, its header \(4294967295, 4294967295, 4294967295\) implies "
        r"79228162458924105385300197391",
    ):
        load_idx(huge)
    folder = mnist_folder(tmp_path)
    train_images = folder / "train-images-idx3-ubyte"
    (folder / "train-images-idx3-ubyte.gz").write_bytes(
        gzip.compress(train_images.read_bytes())[:-30]
    )
    train_images.unlink()
    code, line = _cli_error(
        ["train", "--data", f"idx:{folder}", "--out", str(tmp_path / "run")], capsys
    )
    assert code == 2 and "train-images-idx3-ubyte.gz is a damaged or truncated gzip file" in line


def test_an_empty_test_split_gets_one_line(tmp_path, capsys):
    folder = mnist_folder(tmp_path, test_images=0)
    code, line = _cli_error(
        ["train", "--data", f"idx:{folder}", "--out", str(tmp_path / "run")], capsys
    )
    assert code == 2 and "t10k-images-idx3-ubyte holds no images" in line


def test_cli_out_of_memory_is_one_line(tmp_path, capsys, monkeypatch):
    import tinygrad_cnn.cli as cli

    def exhausted(*args, **kwargs):  # numpy's own message when an allocation fails
        raise MemoryError(
            "Unable to allocate 9.00 GiB for an array with shape (4096, 3, 448, 448) and data "
            "type float32"
        )

    monkeypatch.setattr(cli, "fit", exhausted)
    code, line = _cli_error(["train", "--quiet", "--out", str(tmp_path)], capsys)
    assert code == 1 and line.endswith(
        "train: out of memory: Unable to allocate 9.00 GiB for an array with "
        "shape (4096, 3, 448, 448) and data type float32"
    )


def test_fit_calls_a_scheduler_step_and_a_result_callback_each_epoch():
    train, test = load_digits()
    model = lenet(width=4)
    opt = optim.SGD(model.parameters(), lr=0.1)
    scheduler = optim.StepLR(opt, step_size=1, gamma=0.5)
    seen = []
    history = fit(
        model,
        opt,
        (train.images[:64], train.labels[:64]),
        (test.images[:32], test.labels[:32]),
        2,
        on_epoch_end=scheduler.step,
        quiet=True,
        after_epoch=seen.append,
    )
    assert scheduler.last_epoch == 2 and opt.param_groups[0]["lr"] == 0.025 and seen == history
