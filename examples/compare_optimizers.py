"""Train the same digits CNN with every optimizer in the catalogue and compare them.

    python examples/compare_optimizers.py                  # writes optimizers.png, prints a table
    python examples/compare_optimizers.py --epochs 2 --out /tmp/opt.png

Every run starts from the same weights and sees the batches in the same order; only the
update rule differs. Learning rates are each method's usual scale (SGD needs a larger step
than Adam's family; AdaDelta's lr multiplies an already-scaled step, hence 1).
"""

import argparse

import numpy as np

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, optim
from tinygrad_cnn.data import DataLoader, load_digits
from tinygrad_cnn.models import lenet
from tinygrad_cnn.train import evaluate

LEARNING_RATES = {
    "sgd": 0.1,
    "momentum": 0.02,
    "nesterov": 0.02,
    "adagrad": 0.03,
    "rmsprop": 1e-3,
    "rmsprop_graves": 1e-3,
    "adadelta": 1.0,
    "adam": 3e-3,
    "adamw": 3e-3,
    "adamax": 6e-3,
    "nadam": 3e-3,
    "amsgrad": 3e-3,
    "adabound": 3e-3,
    "amsbound": 3e-3,
    "adabelief": 3e-3,
    "smorms3": 1e-2,
}


def run(name: str, epochs: int, initial: dict, train, test) -> tuple[list[float], float]:
    """Per-step training losses and the final test accuracy of one optimizer."""
    tc.manual_seed(1)  # the same batch order for every optimizer
    model = lenet(width=8)
    model.load_state_dict(initial)
    optimizer = optim.create(name, model.parameters(), LEARNING_RATES[name])
    losses = []
    for _ in range(epochs):
        for images, labels in DataLoader(train.images, train.labels, batch_size=32):
            loss = F.cross_entropy(model(Tensor(images)), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses, evaluate(model, test.images, test.labels)


def smooth(values: list[float], window: int = 15) -> np.ndarray:
    """Moving average, so the curves show trends rather than batch noise."""
    return np.convolve(values, np.ones(window) / window, mode="valid")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--out", default="optimizers.png")
    args = parser.parse_args()

    train, test = load_digits()
    tc.manual_seed(0)
    initial = lenet(width=8).state_dict()
    results = {name: run(name, args.epochs, initial, train, test) for name in optim.OPTIMIZERS}

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5.5))
    for i, (name, (losses, accuracy)) in enumerate(results.items()):
        ax.plot(
            smooth(losses),
            label=f"{name} ({accuracy:.1%})",
            color=plt.cm.tab20(i % 20),
            linestyle="-" if i % 2 == 0 else "--",
            linewidth=1.3,
        )
    ax.set(
        xlabel="training step (batch of 32)",
        ylabel="cross-entropy (moving average)",
        yscale="log",
        title=(
            f"Digits CNN, {args.epochs} epochs, same start and batches: "
            "loss by optimizer (final test accuracy)"
        ),
    )
    ax.legend(ncol=2, fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print(f"plot: {args.out}\n")
    print("| optimizer | lr | final loss (mean of last 20 steps) | test accuracy |")
    print("|---|---|---|---|")
    for name, (losses, accuracy) in results.items():
        print(
            f"| {name} | {LEARNING_RATES[name]:g} | {np.mean(losses[-20:]):.4f} | {accuracy:.1%} |"
        )


if __name__ == "__main__":
    main()
