"""Command line: ``python -m tinygrad_cnn {train,evaluate,graph,ops} ...``."""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import os
import shlex
import sys
import tempfile
import time

import numpy as np

from . import functional as F
from . import optim
from .data import load_digits, load_mnist
from .data.digits import Split
from .function import registry, trace
from .metrics import accuracy, confusion_matrix
from .models import lenet
from .nn import Module
from .ops import layout
from .profiler import profile
from .random import generator, manual_seed, set_state
from .runs import (
    ADDED_OPTIONS,
    MODELS,
    RESNET_DEPTH,
    build_model,
    check_model,
    check_resumable,
    run_checkpoint,
)
from .serialization import load, save
from .tensor import Tensor
from .train import EpochResult, TrainingDiverged, fit, predict_logits


class CommandError(Exception):
    """A problem with the user's arguments: printed as one line, no traceback."""


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text}")
    return value


def _writable_folder(path: str) -> str:
    """``path`` as a folder that exists (made if needed) and takes files, or a CommandError now,
    before any training, rather than after the last epoch."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise CommandError(f"--out {path}: exists and is not a folder")
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as err:
        raise CommandError(f"--out {path}: cannot write there: {err.strerror or err}") from None
    return path


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


DATASETS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST", "cifar10": "CIFAR10"}
"""``--data`` names of the downloadable datasets -> their class in tinygrad_cnn.datasets."""


def load_data(spec: str) -> tuple[Split, Split]:
    """(train, test) splits for ``--data``: "digits", "mnist", "fashion-mnist", "cifar10" or
    "idx:FOLDER" with MNIST-format files; images float32 in [0, 1]."""
    if spec == "digits":
        return load_digits()
    if spec.startswith("idx:"):
        try:
            return load_mnist(os.path.expanduser(spec[4:]))
        except (FileNotFoundError, ValueError) as err:
            raise CommandError(f"--data {spec}: {err}") from None
    if spec in DATASETS:
        from . import datasets
        from .datasets.vision import to_float

        dataset = getattr(datasets, DATASETS[spec])
        try:
            splits = [dataset(train=train) for train in (True, False)]
        except (OSError, ValueError) as err:  # every mirror failed, offline, a checksum mismatch
            raise CommandError(f"--data {spec}: {err}") from None
        return tuple(Split(to_float(d.data), d.targets) for d in splits)
    raise CommandError(
        f"--data must be one of {', '.join(['digits', *DATASETS])} or 'idx:FOLDER', got {spec!r}"
    )


def augmentation(spec: str, image_size: int):
    """``--augment``'s transform: a random crop after zero padding (4 pixels for 32x32, about an
    eighth of the side otherwise) and, for CIFAR-10 only, a random horizontal flip: a mirrored
    digit or letter is another character (or none), a mirrored truck is still a truck."""
    from .transforms import Compose, RandomCrop, RandomHorizontalFlip

    crop = RandomCrop(image_size, padding=max(1, image_size // 8))
    return Compose([crop, RandomHorizontalFlip()]) if spec == "cifar10" else crop


def model_config(model: str, train_split: Split, test_split: Split, width: int) -> dict:
    """The config of the ``--model`` that fits the data's channels, image size and classes."""
    shape = dict(
        in_channels=train_split.images.shape[1],
        image_size=train_split.images.shape[2],
        classes=int(max(train_split.labels.max(), test_split.labels.max()) + 1),
    )
    if model == "resnet":
        if shape["image_size"] % 4:
            raise CommandError(
                f"--model resnet: the image size must be a multiple of 4, got {shape['image_size']}"
            )
        return dict(model="resnet", depth=RESNET_DEPTH, **shape)
    return dict(**shape, width=width)


TRAIN_DEFAULTS = {
    "data": "digits",
    "epochs": 30,
    "batch_size": 32,
    "optimizer": "adam",
    "lr": 3e-3,
    "width": 32,
    "seed": 0,
    "model": "lenet",
    "augment": False,
}


class Interrupted(Exception):
    """Ctrl-C during training: the message says what was saved and how to continue."""


def _read_checkpoint(path: str, check, context: str) -> dict:
    """``tc.load`` and ``check`` a checkpoint; any problem becomes one line after ``context``."""
    try:
        checkpoint = load(path)
        check(checkpoint, path)
    except (FileNotFoundError, ValueError) as err:
        raise CommandError(f"{context}: {err}") from None
    return checkpoint


def _options(args: argparse.Namespace) -> tuple[dict, dict | None]:
    """The run's options, and the checkpoint it resumes (None for a new run). A resumed run
    keeps its own options; one given again with another value is an error."""
    given = {k: getattr(args, k) for k in TRAIN_DEFAULTS if getattr(args, k) is not None}
    if not args.resume:
        return {**TRAIN_DEFAULTS, **given}, None
    checkpoint = _read_checkpoint(args.resume, check_resumable, "--resume")
    # a run from before these options trained as their defaults
    saved = {
        **ADDED_OPTIONS,
        **checkpoint["options"],
    }
    for k, value in given.items():
        if value != saved[k]:
            raise CommandError(
                f"--{k.replace('_', '-')} {value}: a resumed run keeps the options it "
                f"started with ({k} {saved[k]})"
            )
    return saved, checkpoint


def _restore(
    checkpoint: dict,
    model: Module,
    optimizer: optim.Optimizer,
    scheduler: optim.LRScheduler,
    path: str,
) -> list[EpochResult]:
    """Put a resumed run's weights, optimizer, schedule and random state back; its history."""
    try:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        scheduler.load_state_dict(checkpoint["scheduler"])
        set_state(checkpoint["rng"])
    except (ValueError, TypeError, KeyError) as err:
        raise CommandError(f"--resume {path}: cannot restore its state: {err}") from None
    return [EpochResult(**r) for r in checkpoint["history"]]


def _file_identity(path: str) -> tuple | None:
    """What tells one version of a file from the next (an atomic save makes a new inode)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_ino, info.st_mtime_ns


def _what_is_saved(
    checkpoint: str, before: tuple | None, resumed: str | None, resumable: bool = False
) -> str:
    """Which epoch this run's checkpoint holds, read from the file itself (an interrupt may
    have landed while it was being written), and how to continue from it. A checkpoint that
    was there before the run started (``before``) is not this run's."""
    ours = checkpoint if _file_identity(checkpoint) not in (None, before) else None
    for path in (ours, resumed):
        try:
            epochs = len(load(path)["history"]) if path else 0
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if epochs:
            how = (
                f"; continue with: python -m tinygrad_cnn train --resume {shlex.quote(path)}"
                if resumable
                else ""
            )
            return f"epoch {epochs} is saved in {path}{how}"
    return "no epoch had finished, nothing was saved"


def train(args: argparse.Namespace) -> int:
    """Train the chosen CNN, saving a checkpoint after every epoch; then the graph of one
    step and a report. Ctrl-C keeps the last finished epoch, which ``--resume`` continues."""
    options, resumed = _options(args)
    rank = _join_ranks(args.quiet) if args.distributed else 0
    lead, quiet = rank == 0, args.quiet or rank > 0  # rank 0 alone prints and writes
    manual_seed(options["seed"])
    default_out = f"runs/{options['data'].partition(':')[0]}"
    out = args.out or (os.path.dirname(os.path.abspath(args.resume)) if resumed else default_out)
    if lead:
        _writable_folder(out)
    train_split, test_split = load_data(options["data"])
    config = model_config(options["model"], train_split, test_split, options["width"])
    if resumed is not None and resumed["config"] != config:
        raise CommandError(
            f"--resume {args.resume}: it was trained with {resumed['config']}, "
            f"but {options['data']} now gives {config}"
        )
    try:
        model = build_model(config)
    except ValueError as err:
        raise CommandError(str(err)) from None
    optimizer = optim.create(options["optimizer"], model.parameters(), options["lr"])
    scheduler = optim.CosineAnnealingLR(optimizer, T_max=options["epochs"])
    history = [] if resumed is None else _restore(resumed, model, optimizer, scheduler, args.resume)
    if len(history) >= options["epochs"]:
        raise CommandError(
            f"--resume {args.resume}: all {options['epochs']} epochs are done already"
        )
    _seed_rank(options["seed"], rank, len(history))
    if not quiet:
        size = "x".join(map(str, train_split.images.shape[2:]))
        print(
            f"{options['data']}: {len(train_split.labels)} train / "
            f"{len(test_split.labels)} test images of {size}"
        )
        print(model if resumed is None else f"resuming {args.resume} after epoch {len(history)}")
    checkpoint = os.path.join(out, "checkpoint.npz")
    before = _file_identity(checkpoint)
    if "TINYGRAD_CNN_LAYOUT_CACHE" not in os.environ:
        # conv orders timed in this run are kept beside the checkpoint, each rank's own: a
        # resumed run reads them instead of timing again, so it computes the same bits
        cache = "layouts.json" if lead else f"layouts.rank{rank}.json"
        layout.set_layout_cache(os.path.join(out, cache))

    first_epoch = len(history) + 1

    def end_training_epoch() -> None:
        scheduler.step()
        _seed_rank(options["seed"], rank, len(history) + 1)
        if profiled is not None and profiled.running:
            profiled.stop()

    def save_epoch(result: EpochResult) -> None:
        history.append(result)
        if not lead:
            return
        save(run_checkpoint(model, optimizer, scheduler, history, options, config), checkpoint)
        if profiled is not None and result.epoch == first_epoch:
            print(f"profile of epoch {first_epoch}'s training:\n{profiled.table()}", flush=True)

    train_data = train_split
    if options["augment"]:
        from .datasets import ImageDataset

        train_data = ImageDataset(
            *train_split, transform=augmentation(options["data"], config["image_size"])
        )
    profiled = profile().start() if args.profile and lead else None  # the first epoch's training
    net = _data_parallel(model) if args.distributed else model
    start = time.perf_counter()
    try:
        fit(
            net,
            optimizer,
            train_data,
            test_split,
            options["epochs"],
            options["batch_size"],
            on_epoch_end=end_training_epoch,
            quiet=quiet,
            first_epoch=first_epoch,
            after_epoch=save_epoch,
            distributed=args.distributed,
        )
    except TrainingDiverged as err:
        raise CommandError(f"{err}; {_what_is_saved(checkpoint, before, args.resume)}") from None
    except KeyboardInterrupt:
        raise Interrupted(
            f"interrupted; {_what_is_saved(checkpoint, before, args.resume, resumable=True)}"
        ) from None
    finally:
        if profiled is not None and profiled.running:
            profiled.stop()
        if net is not model:
            net.close()
    if not lead:
        return 0
    print(
        f"test accuracy {history[-1].test_accuracy:.4f} after {options['epochs']} epochs "
        f"in {time.perf_counter() - start:.1f} s; checkpoint saved to {checkpoint}"
    )
    loss, explorer = explore_step(
        model,
        Tensor(train_split.images[:8]),
        train_split.labels[:8],
        os.path.join(out, "explorer.html"),
    )
    graph_file = write_graph(loss, model, os.path.join(out, "graph.svg"))
    print(f"graph of one training step: {graph_file}; to explore: {explorer}")
    try:
        from .report import write_report
    except ImportError:
        print("no report: matplotlib is not installed (pip install matplotlib)")
        return 0
    graph = (
        os.path.join(out, "graph.svg") if os.path.exists(os.path.join(out, "graph.svg")) else None
    )
    page = write_report(
        out,
        model,
        history,
        test_split.images,
        test_split.labels,
        graph,
        title=f"tinygrad_cnn: {_model_name(config)} on {options['data']}",
        explorer=explorer,
    )
    print(f"report: {page}")
    return 0


def _join_ranks(quiet: bool) -> int:
    """Start MPI for ``--distributed``, give this rank its share of the cores for BLAS, and
    return its rank."""
    from . import distributed

    distributed.init()
    threads = distributed.limit_blas_threads()
    if distributed.rank() == 0 and not quiet:
        each = threads or "as OPENBLAS_NUM_THREADS or OMP_NUM_THREADS say"
        print(f"{distributed.world_size()} ranks, BLAS threads per rank: {each}", flush=True)
    return distributed.rank()


def _seed_rank(seed: int, rank: int, epochs_done: int) -> None:
    """Seed a rank other than 0 for the epoch after ``epochs_done``: its draws for --augment's
    crops are its own (rank 0's generator shuffles the data, and the checkpoint keeps it), and
    the same in a resumed run as in one that did not stop."""
    if rank > 0:
        manual_seed(int(np.random.SeedSequence([seed, rank, epochs_done]).generate_state(1)[0]))


def _data_parallel(model: Module) -> Module:
    from .distributed import DistributedDataParallel

    return DistributedDataParallel(model)


def _model_name(config: dict) -> str:
    return f"ResNet-{config['depth']}" if config.get("model") == "resnet" else "LeNet-style CNN"


def evaluate_checkpoint(args: argparse.Namespace) -> int:
    """Load a checkpoint written by ``train`` and report its accuracy on the test split."""
    checkpoint = _read_checkpoint(args.checkpoint, check_model, f"cannot read {args.checkpoint}")
    config = checkpoint["config"]
    model = build_model(config)
    model.load_state_dict(checkpoint["model"])
    data = args.data or checkpoint.get("data", "digits")
    _, test_split = load_data(data if isinstance(data, str) else "digits")
    expected = (config["in_channels"], config["image_size"], config["image_size"])
    if test_split.images.shape[1:] != expected:
        raise CommandError(
            f"{args.checkpoint} was trained on {'x'.join(map(str, expected))} images; "
            f"{data} has {'x'.join(map(str, test_split.images.shape[1:]))}"
        )
    predictions = predict_logits(model, test_split.images).argmax(axis=1)
    print(
        f"test accuracy {accuracy(predictions, test_split.labels):.4f} "
        f"on {len(test_split.labels)} images"
    )
    print("confusion matrix (rows: true class, columns: predicted):")
    print(confusion_matrix(predictions, test_split.labels, config["classes"]))
    return 0


def training_step(
    model: Module, images: Tensor, labels: np.ndarray | None = None, retain_graph: bool = False
) -> Tensor:
    """Forward (recording every op) and backward of one step; returns the loss.

    Cross-entropy for (B, K) outputs, with ``labels`` or random ones; mean square otherwise.
    ``retain_graph`` keeps the graph's arrays after backward (for :func:`explore_step`).
    """
    with trace():
        out = model(images)
        if out.ndim == 2:
            targets = generator().integers(0, out.shape[1], len(out)) if labels is None else labels
            loss = F.cross_entropy(out, targets)
        else:
            loss = (out * out).mean()
    loss.backward(retain_graph=retain_graph)
    return loss


def explore_step(
    model: Module, images: Tensor, labels: np.ndarray | None, path: str
) -> tuple[Tensor, str]:
    """One :func:`training_step`, profiled and keeping its graph, written to ``path`` as an
    explorer page (values, gradients and times of every op); returns the loss and the path."""
    from .explorer import explore

    with profile() as prof:
        loss = training_step(model, images, labels, retain_graph=True)
    return loss, explore(loss, path, profile=prof, model=model).path


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
        raise CommandError(
            f"--model: {name}() returned {type(model).__name__}, not a tinygrad_cnn Module"
        )
    return model


def graph(args: argparse.Namespace) -> int:
    """Render the graph of one training step of the digits CNN or of a user model."""
    manual_seed(args.seed)
    model = load_factory(args.model) if args.model else lenet(width=args.width)
    try:
        shape = tuple(int(n) for n in args.input_shape.split(","))
    except ValueError:
        raise CommandError(
            f"--input-shape must be comma-separated integers, got {args.input_shape!r}"
        ) from None
    images = Tensor(generator().standard_normal(shape).astype(np.float32))
    if args.html:
        path = args.out if args.out.endswith(".html") else os.path.splitext(args.out)[0] + ".html"
        print(explore_step(model, images, None, path)[1])
        return 0
    loss = training_step(model, images)
    print(write_graph(loss, model, args.out, rankdir=args.rankdir, collapse=args.collapse))
    return 0


def export(args: argparse.Namespace) -> int:
    """Write a checkpoint's model as ONNX (and/or its weights as safetensors for PyTorch)."""
    if not (args.onnx or args.safetensors):
        raise CommandError("give --onnx FILE, --safetensors FILE, or both")
    checkpoint = _read_checkpoint(args.checkpoint, check_model, f"cannot read {args.checkpoint}")
    config = checkpoint["config"]
    model = build_model(config)
    model.load_state_dict(checkpoint["model"])
    if args.safetensors:
        from .weights import save_weights

        save_weights(model, args.safetensors)
        print(f"weights for PyTorch: {args.safetensors}")
    if args.onnx:
        from .onnx import export as onnx_export

        example = np.zeros(
            (1, config["in_channels"], config["image_size"], config["image_size"]), np.float32
        )
        onnx_export(model, example, args.onnx)
        print(f"ONNX model (any batch size): {args.onnx}")
    return 0


def list_ops(args: argparse.Namespace) -> int:
    """Print every registered op: its forward's arguments (arrays, then attributes) and summary."""
    for name, cls in registry.items():
        parameters = list(inspect.signature(cls.forward).parameters.values())[1:]  # without ctx
        doc = (cls.__doc__ or "").strip().splitlines()
        print(f"{name}({', '.join(str(p) for p in parameters)})" + (f"  {doc[0]}" if doc else ""))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m tinygrad_cnn", description="tinygrad_cnn command line"
    )
    commands = p.add_subparsers(dest="command", required=True)
    t = commands.add_parser(
        "train",
        help="train a CNN (LeNet-style or ResNet); write a checkpoint, the graph and a report",
    )
    # training options default to None, so a resumed run can tell which were given again
    d = TRAIN_DEFAULTS
    t.add_argument(
        "--data",
        help=f"'digits' (bundled), 'mnist', 'fashion-mnist', 'cifar10' (downloaded once, "
        f"docs/data.md) or 'idx:FOLDER' with MNIST-format files (default {d['data']})",
    )
    t.add_argument(
        "--model",
        choices=MODELS,
        help=f"LeNet-style CNN or ResNet-{RESNET_DEPTH}, sized to the data (default {d['model']})",
    )
    t.add_argument(
        "--augment",
        action="store_const",
        const=True,
        help="random crops after padding (and, on cifar10, horizontal flips)",
    )
    t.add_argument("--epochs", type=_positive_int, help=f"(default {d['epochs']})")
    t.add_argument("--batch-size", type=_positive_int, help=f"(default {d['batch_size']})")
    t.add_argument(
        "--optimizer", choices=sorted(optim.OPTIMIZERS), help=f"(default {d['optimizer']})"
    )
    t.add_argument(
        "--lr",
        type=_positive_float,
        help=f"initial learning rate, cosine schedule (default {d['lr']})",
    )
    t.add_argument(
        "--width",
        type=_positive_int,
        help=f"channels of LeNet's first conv layer (default {d['width']})",
    )
    t.add_argument("--seed", type=_non_negative_int, help=f"(default {d['seed']})")
    t.add_argument(
        "--out",
        help="folder for the checkpoint, graph and report (default runs/DATA, e.g. runs/digits, "
        "or the resumed checkpoint's folder)",
    )
    t.add_argument(
        "--resume",
        metavar="CHECKPOINT",
        help="continue an interrupted run from its checkpoint, exactly as if it had not stopped",
    )
    t.add_argument("--quiet", action="store_true", help="no per-epoch lines or progress bar")
    t.add_argument(
        "--distributed",
        action="store_true",
        help="run as one rank of an MPI job: mpiexec -n N python -m tinygrad_cnn train "
        "--distributed (--batch-size is split between the ranks; docs/distributed.md)",
    )
    t.add_argument(
        "--profile",
        action="store_true",
        help="time every op during the first epoch and print the table (tc.profile)",
    )
    t.set_defaults(run=train)
    e = commands.add_parser(
        "evaluate", help="test accuracy and confusion matrix of a saved checkpoint"
    )
    e.add_argument("checkpoint", help="checkpoint.npz written by train")
    e.add_argument(
        "--data", help="test data, as for train (default: what the checkpoint was trained on)"
    )
    e.set_defaults(run=evaluate_checkpoint)
    g = commands.add_parser("graph", help="render the graph of one training step")
    g.add_argument(
        "--model",
        help="path/to/file.py:factory, a function returning a Module (default: the digits CNN)",
    )
    g.add_argument(
        "--input-shape", default="8,1,8,8", help="comma-separated input shape (default 8,1,8,8)"
    )
    g.add_argument("--width", type=_positive_int, default=8, help="width of the default digits CNN")
    g.add_argument(
        "--out", default="graph.svg", help="file to write: .svg, .png, .pdf, or .dot for DOT text"
    )
    g.add_argument(
        "--collapse", type=int, help="draw modules at this depth and below as single nodes"
    )
    g.add_argument("--rankdir", choices=["TB", "LR"], default="TB")
    g.add_argument(
        "--html",
        action="store_true",
        help="write the explorer instead: one offline HTML page (--out's extension becomes .html)",
    )
    g.add_argument("--seed", type=_non_negative_int, default=0)
    g.set_defaults(run=graph)
    x = commands.add_parser(
        "export", help="a checkpoint's model as ONNX, or its weights as safetensors"
    )
    x.add_argument("checkpoint", help="checkpoint.npz written by train")
    x.add_argument("--onnx", help="write an ONNX model here (needs the onnx package)")
    x.add_argument("--safetensors", help="write the weights here, for PyTorch (needs safetensors)")
    x.set_defaults(run=export)
    o = commands.add_parser("ops", help="list the registered ops")
    o.set_defaults(run=list_ops)
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    try:
        return _run(p, args)
    except SystemExit as done:
        if done.code and getattr(args, "distributed", False):
            from .distributed import abort

            abort(done.code if isinstance(done.code, int) else 1)  # else the others wait forever
        raise


def _run(p: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    try:
        return args.run(args)
    except (CommandError, ValueError, TypeError, ImportError) as err:
        p.exit(2, f"{p.prog} {args.command}: error: {err}\n")
    except Interrupted as err:
        p.exit(130, f"{p.prog} {args.command}: {err}\n")
    except KeyboardInterrupt:
        p.exit(130, f"{p.prog} {args.command}: interrupted\n")
    except MemoryError as err:  # numpy's message names the size and shape it could not allocate
        p.exit(1, f"{p.prog} {args.command}: out of memory: {err or 'an allocation failed'}\n")


if __name__ == "__main__":
    sys.exit(main())
