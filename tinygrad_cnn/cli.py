"""Command line: ``python -m tinygrad_cnn {train,ops} ...``."""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time

import numpy as np

from . import functional as F
from . import optim
from .data import load_digits
from .function import registry, trace
from .models import lenet
from .nn import Module
from .random import generator, manual_seed
from .tensor import Tensor
from .train import fit


class CommandError(Exception):
    """A problem with the user's arguments: printed as one line, no traceback."""


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
    loss = training_step(model, Tensor(train_split.images[:8]), train_split.labels[:8])
    print(f"graph of one training step: {write_graph(loss, model, os.path.join(args.out, 'graph.svg'))}")
    return 0


def training_step(model: Module, images: Tensor, labels: np.ndarray | None = None) -> Tensor:
    """Forward (recording every op) and backward of one step; returns the loss.

    Cross-entropy for (B, K) outputs, with ``labels`` or random ones; mean square otherwise.
    """
    with trace():
        out = model(images)
        if out.ndim == 2:
            targets = generator().integers(0, out.shape[1], len(out)) if labels is None else labels
            loss = F.cross_entropy(out, targets)
        else:
            loss = (out * out).mean()
    loss.backward()
    return loss


def write_graph(loss: Tensor, model: Module, path: str, **options) -> str:
    """Render the graph to ``path``; without Graphviz's `dot`, write DOT text and say why."""
    from .viz import draw_graph, render_graph

    options = dict(model=model, show_grad=True, **options)
    if path.endswith(".dot"):
        with open(path, "w") as f:
            f.write(draw_graph(loss, **options).source)
        return path
    try:
        return render_graph(loss, path, **options)
    except RuntimeError as err:
        dot_path = os.path.splitext(path)[0] + ".dot"
        with open(dot_path, "w") as f:
            f.write(draw_graph(loss, **options).source)
        return f"{dot_path} (not rendered: {err})"


def load_factory(spec: str) -> Module:
    """Build a model from ``path/to/file.py:factory``."""
    path, _, name = spec.rpartition(":")
    if not path or not name:
        raise CommandError(f"--model must look like path/to/file.py:factory, got {spec!r}")
    if not os.path.isfile(path):
        raise CommandError(f"--model: no such file {path!r}")
    module_spec = importlib.util.spec_from_file_location("user_model", path)
    user = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(user)
    if not callable(getattr(user, name, None)):
        raise CommandError(f"--model: {path} defines no callable {name!r}")
    model = getattr(user, name)()
    if not isinstance(model, Module):
        raise CommandError(f"--model: {name}() returned {type(model).__name__}, not a tinygrad_cnn Module")
    return model


def graph(args: argparse.Namespace) -> int:
    """Render the graph of one training step of the digits CNN or of a user model."""
    manual_seed(args.seed)
    model = load_factory(args.model) if args.model else lenet(width=args.width)
    try:
        shape = tuple(int(n) for n in args.input_shape.split(","))
    except ValueError:
        raise CommandError(f"--input-shape must be comma-separated integers, got {args.input_shape!r}") from None
    images = Tensor(generator().standard_normal(shape).astype(np.float32))
    loss = training_step(model, images)
    print(write_graph(loss, model, args.out, rankdir=args.rankdir, collapse=args.collapse))
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
    g = commands.add_parser("graph", help="render the graph of one training step")
    g.add_argument("--model", help="path/to/file.py:factory, a function returning a Module (default: the digits CNN)")
    g.add_argument("--input-shape", default="8,1,8,8", help="comma-separated input shape (default 8,1,8,8)")
    g.add_argument("--width", type=_positive_int, default=8, help="width of the default digits CNN")
    g.add_argument("--out", default="graph.svg", help="file to write: .svg, .png, .pdf, or .dot for DOT text")
    g.add_argument("--collapse", type=int, help="draw modules at this depth and below as single nodes")
    g.add_argument("--rankdir", choices=["TB", "LR"], default="TB")
    g.add_argument("--seed", type=int, default=0)
    g.set_defaults(run=graph)
    o = commands.add_parser("ops", help="list the registered ops")
    o.set_defaults(run=list_ops)
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    try:
        return args.run(args)
    except (CommandError, ValueError, TypeError) as err:
        p.exit(2, f"{p.prog} {args.command}: error: {err}\n")


if __name__ == "__main__":
    sys.exit(main())
