"""Command line: ``python -m tinygrad_cnn {train,ops} ...``."""
from __future__ import annotations

import argparse
import os
import sys
import time

from . import optim
from .data import load_digits
from .function import registry
from .models import lenet
from .random import manual_seed
from .train import fit


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def train(args: argparse.Namespace) -> int:
    """Train the LeNet-style CNN on the bundled digits with Adam and a cosine schedule."""
    manual_seed(args.seed)
    train_split, test_split = load_digits()
    model = lenet(width=args.width)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scheduler = optim.CosineAnnealingLR(optimizer, T_max=args.epochs)
    if not args.quiet:
        print(f"digits: {len(train_split.labels)} train / {len(test_split.labels)} test images of 8x8")
        print(model)
    start = time.perf_counter()
    history = fit(model, optimizer, train_split, test_split, args.epochs, args.batch_size,
                  on_epoch_end=scheduler.step, quiet=args.quiet)
    os.makedirs(args.out, exist_ok=True)
    weights = os.path.join(args.out, "weights.npz")
    model.save(weights)
    print(f"test accuracy {history[-1].test_accuracy:.4f} after {args.epochs} epochs "
          f"in {time.perf_counter() - start:.1f} s; weights saved to {weights}")
    return 0


def list_ops(args: argparse.Namespace) -> int:
    """Print every registered op with the class that implements it."""
    for name, cls in registry.items():
        doc = (cls.__doc__ or "").strip().splitlines()
        print(f"{name:14s} {cls.__module__}.{cls.__qualname__}" + (f"  {doc[0]}" if doc else ""))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tinygrad_cnn", description="tinygrad_cnn command line")
    commands = p.add_subparsers(dest="command", required=True)
    t = commands.add_parser("train", help="train the digits CNN and save its weights")
    t.add_argument("--epochs", type=_positive_int, default=30)
    t.add_argument("--batch-size", type=_positive_int, default=32)
    t.add_argument("--lr", type=_positive_float, default=3e-3, help="Adam's initial learning rate")
    t.add_argument("--width", type=_positive_int, default=32, help="channels of the first conv layer")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", default="runs/digits", help="folder for the weights")
    t.add_argument("--quiet", action="store_true", help="print only the final line")
    t.set_defaults(run=train)
    o = commands.add_parser("ops", help="list the registered ops")
    o.set_defaults(run=list_ops)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
