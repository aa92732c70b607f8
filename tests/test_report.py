"""The training report, checked in a real headless browser, and the command line around it."""

import gzip
import re
import shutil
import struct
import subprocess

import numpy as np
import pytest

pytest.importorskip("matplotlib", reason="matplotlib is not installed")

from tinygrad_cnn import optim  # noqa: E402
from tinygrad_cnn.cli import main  # noqa: E402
from tinygrad_cnn.data import DataLoader, load_digits  # noqa: E402
from tinygrad_cnn.metrics import accuracy, confusion_matrix  # noqa: E402
from tinygrad_cnn.models import lenet  # noqa: E402
from tinygrad_cnn.report import write_report  # noqa: E402
from tinygrad_cnn.train import fit  # noqa: E402

BROWSER = next(
    (shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)),
    None,
)
needs_browser = pytest.mark.skipif(
    BROWSER is None, reason="no headless browser (apt-get install chromium)"
)
HEADLESS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    train, test = load_digits()
    model = lenet(width=4)
    history = fit(model, optim.Adam(model.parameters(), lr=3e-3), train, test, epochs=2, quiet=True)
    return write_report(str(folder), model, history, test.images, test.labels), folder


def test_report_writes_every_figure(report):
    page, folder = report
    html = open(page).read()
    sources = re.findall(r'<img src="([^"]+)"', html)
    assert sources == ["curves.png", "filters.png", "feature_maps.png", "confusion.png"]
    for src in sources:
        data = (folder / src).read_bytes()
        assert data[:4] == b"\x89PNG" and len(data) > 5000
    assert "final test accuracy" in html


@needs_browser
def test_report_page_in_a_headless_browser(report, tmp_path):
    page, _ = report
    url = f"file://{page}"
    dom = subprocess.run(
        [
            BROWSER,
            *HEADLESS,
            f"--user-data-dir={tmp_path / 'a'}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert 'data-images-loaded="4/4"' in dom, dom[-500:]
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            BROWSER,
            *HEADLESS,
            f"--user-data-dir={tmp_path / 'b'}",
            "--window-size=1000,1400",
            f"--screenshot={shot}",
            url,
        ],
        capture_output=True,
        timeout=120,
    )
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    assert pixels.std() > 0.05  # not a blank page


def test_dataloader_batches_and_seed():
    x, y = np.arange(10), np.arange(10)
    assert [len(b) for b, _ in DataLoader(x, y, batch_size=4)] == [4, 4, 2]
    loader = DataLoader(x, y, batch_size=4, seed=3)
    assert len(loader) == 3
    first, second = [np.concatenate([b for b, _ in loader]) for _ in range(2)]
    # reshuffled each epoch
    assert sorted(first) == list(range(10)) and not np.array_equal(first, second)
    again = np.concatenate([b for b, _ in DataLoader(x, y, batch_size=4, seed=3)])
    assert np.array_equal(first, again)
    assert len(DataLoader(x, y, batch_size=4, drop_last=True)) == 2
    with pytest.raises(ValueError, match="DataLoader: batch_size must be a positive int, got 0"):
        DataLoader(x, y, batch_size=0)


def test_metrics():
    predictions, labels = np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2])
    assert accuracy(predictions, labels) == 0.75
    assert confusion_matrix(predictions, labels).tolist() == [[1, 0, 0], [0, 1, 0], [0, 1, 1]]
    with pytest.raises(ValueError, match=r"accuracy: predictions \(2,\) and labels \(3,\)"):
        accuracy(np.zeros(2), np.zeros(3))


def write_idx(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def test_cli_trains_on_idx_files_and_evaluates(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 64), ("t10k", 32)):
        labels = rng.integers(0, 3, n)
        images = np.zeros((n, 8, 8))
        for i, label in enumerate(labels):  # a learnable pattern: a bright row per class
            images[i, 2 * label + 1] = 255
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", labels)
    out = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--data",
                f"idx:{tmp_path}",
                "--epochs",
                "8",
                "--batch-size",
                "8",
                "--width",
                "4",
                "--optimizer",
                "momentum",
                "--lr",
                "0.05",
                "--quiet",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert {"checkpoint.npz", "index.html", "curves.png"} <= {p.name for p in out.iterdir()}
    capsys.readouterr()
    assert main(["evaluate", str(out / "checkpoint.npz")]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"test accuracy 1\.0000 on 32 images", printed), printed


@pytest.mark.parametrize(
    "argv,message",
    [
        (
            ["train", "--data", "idx:/nonexistent"],
            "--data idx:/nonexistent: load_mnist: /nonexistent has no train-images-idx3-ubyte",
        ),
        (
            ["train", "--data", "cifar"],
            "--data must be one of digits, mnist, fashion-mnist, cifar10 or 'idx:FOLDER', "
            "got 'cifar'",
        ),
        (["evaluate", "missing.npz"], "cannot read missing.npz"),
    ],
)
def test_cli_errors_are_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2 and "\n" not in err and message in err, err


@pytest.mark.parametrize("command", ["train", "evaluate", "graph", "ops"])
def test_cli_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert (
        exit_info.value.code == 0
        and "usage: python -m tinygrad_cnn " + command in capsys.readouterr().out
    )


def test_cli_bad_argument_is_one_line(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--epochs", "0"])
    err = capsys.readouterr().err
    assert "argument --epochs: must be a positive integer, got 0" in err and "Traceback" not in err
