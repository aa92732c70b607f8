"""Training on the real Fashion-MNIST, from Debian's dataset-fashion-mnist package (.ci/run
installs it): no network, and the accuracy is the assertion."""

import os

import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import optim
from tinygrad_cnn.datasets import FashionMNIST
from tinygrad_cnn.datasets.vision import to_float
from tinygrad_cnn.models import lenet
from tinygrad_cnn.train import evaluate, fit

PACKAGE = FashionMNIST.system_dirs[0]
TRAIN_IMAGES = 20_000


@pytest.mark.skipif(
    not os.path.isdir(PACKAGE),
    reason=f"{PACKAGE} is missing: apt-get install dataset-fashion-mnist",
)
def test_lenet_reaches_80_percent_on_real_fashion_mnist_in_one_epoch(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYGRAD_CNN_OFFLINE", "1")  # the package's files, never a download
    train, test = FashionMNIST(tmp_path, train=True), FashionMNIST(tmp_path, train=False)
    assert (len(train), len(test)) == (60_000, 10_000) and os.listdir(
        tmp_path
    ) == []  # read in place, not copied
    tc.manual_seed(0)
    model = lenet(1, 28, 10, width=16)
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    images, labels = to_float(train.data[:TRAIN_IMAGES]), train.targets[:TRAIN_IMAGES]
    fit(
        model,
        optimizer,
        (images, labels),
        (to_float(test.data), test.targets),
        epochs=1,
        batch_size=32,
        quiet=True,
    )
    accuracy = evaluate(model, to_float(test.data), test.targets)
    print(f"Fashion-MNIST: {accuracy:.4f} test accuracy after one epoch on {TRAIN_IMAGES:,} images")
    assert accuracy >= 0.80
