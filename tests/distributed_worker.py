"""One rank of the jobs tests/test_distributed.py launches with ``mpiexec -n 2``.

    python tests/distributed_worker.py steps MODEL OUT   # 5 SGD steps; OUT/rank<r>.npz
    python tests/distributed_worker.py raise             # rank 1 raises, rank 0 waits
    python tests/distributed_worker.py unused OUT        # OUT/rank<r>.txt: the next forward's error
    python tests/distributed_worker.py wrapper OUT       # OUT/rank<r>.npz: hooks, dtypes, freezing
    python tests/distributed_worker.py diverge OUT       # OUT/rank<r>.txt: fit's TrainingDiverged
    python tests/distributed_worker.py interrupt N ARGS  # the CLI with ARGS, Ctrl-C at step N

``steps`` trains MODEL ("lenet" or "batchnorm", built by tests/test_distributed.py's
``make_model``) through DistributedDataParallel on ``DataLoader(..., distributed=True)``
batches of 16 per rank, and records per rank: the sample ids of each batch, whether all ranks
held bitwise the same parameters after each step, and the final parameters and buffers.
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_distributed import BATCH, HalfUsed, data, make_model  # noqa: E402

import tinygrad_cnn as tc  # noqa: E402
import tinygrad_cnn.functional as F  # noqa: E402
from tinygrad_cnn import distributed as dist  # noqa: E402
from tinygrad_cnn import optim  # noqa: E402
from tinygrad_cnn.data import DataLoader  # noqa: E402


def same_on_every_rank(model: tc.nn.Module) -> bool:
    """Whether every rank holds bitwise the same parameters as this one."""
    flat = np.concatenate([p.data.ravel() for p in model.parameters()])
    return bool(np.array_equal(dist.all_reduce(flat.copy(), "max"), flat)) and bool(
        np.array_equal(dist.all_reduce(flat.copy(), "min"), flat)
    )


def steps(kind: str, out: str) -> None:
    # rank 1 initialises differently: DistributedDataParallel must hand it rank 0's weights;
    # rank 0's generator, seeded as the single-process reference, shuffles the data
    tc.manual_seed(dist.rank())
    model = make_model(kind)
    images, labels = data()
    ids = np.arange(len(labels))
    ddp = dist.DistributedDataParallel(model)
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    seen, same = [], [same_on_every_rank(model)]
    for id_batch, _ in DataLoader(ids, ids, batch_size=BATCH // 2, distributed=True):
        loss = F.cross_entropy(ddp(tc.Tensor(images[id_batch])), labels[id_batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        seen.append(id_batch)
        same.append(same_on_every_rank(model))
    ddp.close()
    np.savez(
        Path(out) / f"rank{dist.rank()}.npz",
        ids=np.stack(seen),
        same=np.array(same),
        steps=len(seen),
        **{f"state/{k}": v for k, v in model.state_dict().items()},
    )


def unused(out: str) -> None:
    ddp = dist.DistributedDataParallel(HalfUsed())
    x = tc.Tensor(np.ones((3, 4), dtype=np.float32))
    ddp(x).sum().backward()
    try:
        ddp(x)
    except RuntimeError as err:
        (Path(out) / f"rank{dist.rank()}.txt").write_text(str(err))


class TwoHeads(tc.nn.Module):
    """Two outputs from one forward: ``a(x)``, and ``a(x) + b(x)``."""

    def __init__(self):
        super().__init__()
        self.a, self.b = tc.nn.Linear(4, 2), tc.nn.Linear(4, 2)

    def forward(self, x):
        return self.a(x), self.a(x) + self.b(x)


def gradients(model: tc.nn.Module, x: np.ndarray, weight: float) -> np.ndarray:
    """Every parameter's ``.grad``, flat, after backward of ``weight * model(x).sum()``."""
    model.zero_grad()
    (model(tc.Tensor(x)) * weight).sum().backward()
    return np.concatenate([p.grad.data.ravel() for p in model.parameters()])


def alone(model: tc.nn.Module) -> tc.nn.Module:
    """A copy of the Linear ``model``, with its weights and dtype but without the wrapper."""
    copy = tc.nn.Linear(4, 2).to(model.weight.dtype)
    copy.load_state_dict(model.state_dict())
    return copy


def error_of(step) -> str:
    """The message of the RuntimeError ``step()`` raises, or "" when it raises none."""
    try:
        step()
    except RuntimeError as err:
        return str(err)
    return ""


def wrapper(out: str) -> None:
    """Gradients through the wrapper, and those of this rank alone: with a hook of the user's
    registered after wrapping, with the model made float64 after wrapping, and accumulated
    over two backwards through one graph. The errors of a hook registered after the forward
    and of a backward before the last one finished, a parameter frozen after wrapping, and a
    forward once closed. The inputs differ by rank."""
    rank = dist.rank()
    x = np.linspace(-1, 1, 12).reshape(3, 4) + 0.1 * rank
    tc.manual_seed(0)
    hooked = dist.DistributedDataParallel(tc.nn.Linear(4, 2))
    hooked_alone = gradients(alone(hooked.module), x, 2 * (rank + 1.0))
    for p in hooked.parameters():
        p.register_hook(lambda g: g * 2)  # after wrapping, before the forward: runs first
    doubled = dist.DistributedDataParallel(tc.nn.Linear(4, 2)).to(np.float64)
    y = doubled(tc.Tensor(x)).sum()
    doubled.module.bias.register_hook(lambda g: g)  # after the forward: too late
    accumulated = dist.DistributedDataParallel(tc.nn.Linear(4, 2))
    accumulated_alone = alone(accumulated.module)
    for model in (accumulated, accumulated_alone):  # two backwards through one graph
        total = model(tc.Tensor(x.astype(np.float32))).sum()
        (total * (rank + 1.0)).backward(retain_graph=True)
        (total * (3.0 - rank)).backward()
    two = dist.DistributedDataParallel(TwoHeads())
    first, second = two(tc.Tensor(x))
    first.sum().backward()
    unfinished = error_of(second.sum().backward)  # a's gradient again, b's never came
    two.zero_grad()
    two.module.a.requires_grad_(False)  # after wrapping: the next forward leaves it out
    frozen = error_of(lambda: [two(tc.Tensor(x))[1].sum().backward() for _ in range(2)])
    two.close()
    closed = error_of(lambda: two(tc.Tensor(x)))
    np.savez(
        Path(out) / f"rank{rank}.npz",
        hooked=gradients(hooked, x.astype(np.float32), rank + 1.0),
        hooked_alone=hooked_alone,
        late=error_of(y.backward),
        doubled=gradients(doubled, x, 1 / 3 + rank),
        doubled_alone=gradients(alone(doubled.module), x, 1 / 3 + rank),
        unfinished=unfinished,
        frozen=frozen,
        closed=closed,
        frozen_b=two.module.b.weight.grad.data,
        accumulated=np.concatenate([p.grad.data.ravel() for p in accumulated.parameters()]),
        accumulated_alone=np.concatenate(
            [p.grad.data.ravel() for p in accumulated_alone.parameters()]
        ),
    )


class NanOnRank1(tc.nn.Module):
    """A linear classifier of 8x8 images whose third forward gives NaN on rank 1 only."""

    def __init__(self):
        super().__init__()
        self.linear, self.calls = tc.nn.Linear(64, 10), 0

    def forward(self, x):
        self.calls += 1
        out = self.linear(x.reshape(x.shape[0], 64))
        return out * float("nan") if self.calls == 3 and dist.rank() == 1 else out


def diverge(out: str) -> None:
    """fit(distributed=True) when one rank's loss is NaN: each rank writes the error it got."""
    from tinygrad_cnn.train import TrainingDiverged, fit

    model = NanOnRank1()
    try:
        fit(
            dist.DistributedDataParallel(model),
            optim.SGD(model.parameters(), lr=0.1),
            data(),
            data(),
            epochs=1,
            batch_size=BATCH,
            quiet=True,
            distributed=True,
        )
    except TrainingDiverged as err:
        (Path(out) / f"rank{dist.rank()}.txt").write_text(str(err))


def interrupt(step: int, argv: list[str]) -> None:
    """``python -m tinygrad_cnn ARGV`` on this rank, with Ctrl-C inside its ``step``-th
    optimizer step (every rank reaches it together: their steps are collective)."""
    from tinygrad_cnn import cli

    calls, real_step = {"n": 0}, optim.Adam.step

    def step_or_interrupt(self):
        calls["n"] += 1
        if calls["n"] == step:
            raise KeyboardInterrupt
        real_step(self)

    optim.Adam.step = step_or_interrupt
    cli.main(argv)


def main() -> None:
    dist.init()
    if sys.argv[1] == "steps":
        steps(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "unused":
        unused(sys.argv[2])
    elif sys.argv[1] == "wrapper":
        wrapper(sys.argv[2])
    elif sys.argv[1] == "diverge":
        diverge(sys.argv[2])
    elif sys.argv[1] == "interrupt":
        interrupt(int(sys.argv[2]), sys.argv[3:])
    elif sys.argv[1] == "raise":
        if dist.rank() == 1:
            raise RuntimeError("rank 1 fails on purpose")
        dist.barrier()  # never completes: rank 1 is gone


if __name__ == "__main__":
    main()
