"""Train the same LeNet on Fashion-MNIST with tinygrad_cnn and with PyTorch, side by side.

    python benchmarks/train_e2e.py                        # 5 epochs, Debian's copy of the data
    python benchmarks/train_e2e.py --data DIR --epochs 1 --json out.json

The number users compare: a whole training run on real data, not one op. Both frameworks get
the same model (the CLI's LeNet: conv 3x3 (1 -> w) - ReLU - max-pool 2 - conv 3x3 (w -> 2w) -
ReLU - max-pool 2 - linear (2w*7*7 -> 10), w = 32), the same initial weights (ours, loaded into
torch), the same shuffled order of batches, Adam at a constant 1e-3, batch 32, cross-entropy.
Epochs alternate between the two (ours, then torch's, each after an idle pause), so both see
the same machine load. Per epoch each reports training seconds (the test pass is not timed),
images per second and test accuracy; the last line gives the ratio of epoch times.

Data: the four Fashion-MNIST IDX files (Debian's dataset-fashion-mnist package puts them in
/usr/share/datasets/fashion-mnist).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import tinygrad_cnn as tc  # noqa: E402
import tinygrad_cnn.functional as F  # noqa: E402
from tinygrad_cnn.data import load_mnist  # noqa: E402
from tinygrad_cnn.memory import keep_freed_memory  # noqa: E402
from tinygrad_cnn.models import lenet  # noqa: E402
from tinygrad_cnn.train import evaluate  # noqa: E402

DEBIAN = "/usr/share/datasets/fashion-mnist"
IDLE_GAP = 0.2  # seconds between the frameworks' epochs: BLAS threads left spinning settle


def ours(width: int):
    """Our LeNet and an epoch function ``(batches) -> None`` training it with Adam."""
    keep_freed_memory()  # as tc.train.fit does
    tc.manual_seed(0)
    model = lenet(1, 28, 10, width)
    optimizer = tc.optim.Adam(model.parameters(), lr=1e-3)

    def epoch(batches):
        for images, labels in batches:
            loss = F.cross_entropy(model(tc.Tensor(images)), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    return model, epoch


def torch_twin(model, width: int):
    """The same LeNet in PyTorch with our initial weights, and its epoch function."""
    import torch

    tnn = torch.nn
    twin = tnn.Sequential(
        tnn.Conv2d(1, width, 3, padding=1),
        tnn.ReLU(),
        tnn.MaxPool2d(2),
        tnn.Conv2d(width, 2 * width, 3, padding=1),
        tnn.ReLU(),
        tnn.MaxPool2d(2),
        tnn.Flatten(),
        tnn.Linear(2 * width * 49, 10),
    )
    twin.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in model.state_dict().items()})
    optimizer = torch.optim.Adam(twin.parameters(), lr=1e-3)

    def epoch(batches):
        for images, labels in batches:
            loss = torch.nn.functional.cross_entropy(
                twin(torch.from_numpy(images)), torch.from_numpy(labels)
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    def accuracy(images, labels):
        with torch.no_grad():
            logits = torch.cat(
                [twin(torch.from_numpy(images[i : i + 1000])) for i in range(0, len(images), 1000)]
            )
        return float((logits.argmax(1).numpy() == labels).mean())

    return epoch, accuracy


def timed(epoch, batches) -> float:
    time.sleep(IDLE_GAP)
    start = time.perf_counter()
    epoch(batches)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", default=DEBIAN, help=f"folder with the Fashion-MNIST IDX files (default {DEBIAN})"
    )
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args(argv)
    train, test = load_mnist(args.data)
    model, our_epoch = ours(args.width)
    twin_epoch, twin_accuracy = torch_twin(model, args.width)
    rng = np.random.default_rng(0)
    rows = []
    print(
        "| epoch | tinygrad_cnn s | img/s | test acc | torch s | img/s | test acc | ratio |\n"
        "|---|---|---|---|---|---|---|---|"
    )
    for epoch in range(1, args.epochs + 1):
        order = rng.permutation(len(train.labels))
        batches = [
            (train.images[order[i : i + 32]], train.labels[order[i : i + 32]])
            for i in range(0, len(order), 32)
        ]
        mine, theirs = timed(our_epoch, batches), timed(twin_epoch, batches)
        row = dict(
            epoch=epoch,
            ours_s=mine,
            torch_s=theirs,
            ours_acc=evaluate(model, test.images, test.labels),
            torch_acc=twin_accuracy(test.images, test.labels),
        )
        rows.append(row)
        n = len(order)
        print(
            f"| {epoch} | {mine:.1f} | {n / mine:,.0f} | {row['ours_acc']:.4f} "
            f"| {theirs:.1f} | {n / theirs:,.0f} | {row['torch_acc']:.4f} | {mine / theirs:.2f}x |",
            flush=True,
        )
    total_ours, total_torch = sum(r["ours_s"] for r in rows), sum(r["torch_s"] for r in rows)
    print(
        f"\n{args.epochs} epochs: tinygrad_cnn {total_ours:.0f} s, torch {total_torch:.0f} s, "
        f"ratio {total_ours / total_torch:.2f}x"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
