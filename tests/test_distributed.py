"""tinygrad_cnn.distributed: the sampler and the bucket plan in this process;
DistributedDataParallel, the CLI's --distributed and a failing rank under ``mpiexec -n 2``
(skipped without MPI)."""

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import distributed as dist
from tinygrad_cnn import nn, optim
from tinygrad_cnn.data import DataLoader
from tinygrad_cnn.models import lenet
from tinygrad_cnn.train import fit

ROOT = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).resolve().parent / "distributed_worker.py"
STEPS, BATCH = 5, 32  # 5 steps of 32 in one process; of 2 x 16 on two ranks
HANG = 300  # seconds: a job still running after this is hung (the machine may be busy)


def make_model(kind: str) -> nn.Module:
    """The models compared: the digits LeNet, and a small CNN with BatchNorm."""
    if kind == "lenet":
        return lenet(width=4)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 10),
    )


class HalfUsed(nn.Module):
    """Two Linear layers, of which forward uses one."""

    def __init__(self):
        super().__init__()
        self.used, self.unused = nn.Linear(4, 2), nn.Linear(4, 2)

    def forward(self, x):
        return self.used(x)


def data() -> tuple[np.ndarray, np.ndarray]:
    """STEPS * BATCH random 8x8 images and labels 0..9."""
    rng = np.random.default_rng(1)
    images = rng.standard_normal((STEPS * BATCH, 1, 8, 8)).astype(np.float32)
    return images, rng.integers(0, 10, STEPS * BATCH)


def mpiexec() -> str | None:
    """The mpiexec beside this Python (the mpich wheel's), else the one on PATH."""
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def _mpi_missing() -> str | None:
    if importlib.util.find_spec("mpi4py") is None:
        return "mpi4py is not installed (pip install -e '.[distributed]')"
    if mpiexec() is None:
        return "no mpiexec (pip install -e '.[distributed]' brings MPICH's)"
    return None


needs_mpi = pytest.mark.skipif(_mpi_missing() is not None, reason=_mpi_missing() or "")


def run_ranks(
    *args: str, ranks: int = 2, hang: float = HANG, **environment: str
) -> subprocess.CompletedProcess:
    """``mpiexec -n ranks python args...`` from the repository root, with ``environment``
    added; fails the test if it is still running after ``hang`` seconds (its whole process
    group is killed)."""
    env = {
        **os.environ,
        "OPENBLAS_NUM_THREADS": "1",  # two ranks on two cores: one BLAS thread each
        # Open MPI refuses root and more ranks than cores unless told; MPICH ignores these
        "OMPI_ALLOW_RUN_AS_ROOT": "1",
        "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
        "OMPI_MCA_rmaps_base_oversubscribe": "1",
        "PRTE_MCA_rmaps_default_mapping_policy": ":oversubscribe",
        **environment,
    }
    command = [mpiexec(), "-n", str(ranks), sys.executable, *args]
    job = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # mpiexec's helpers too, so a hung job can be killed whole
    )
    try:
        out, err = job.communicate(timeout=hang)
    except subprocess.TimeoutExpired:
        os.killpg(job.pid, signal.SIGKILL)
        out, err = job.communicate()
        pytest.fail(f"{' '.join(command)} still ran after {hang} s: a rank hangs\n{out}\n{err}")
    return subprocess.CompletedProcess(command, job.returncode, out, err)


# --- in this process, no MPI -------------------------------------------------------------


def test_init_without_mpi4py_is_one_line_naming_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # import mpi4py now raises ImportError
    with pytest.raises(ImportError) as err:
        dist.init()
    message = str(err.value)
    assert "\n" not in message and "mpi4py" in message
    assert "pip install 'tinygrad_cnn[distributed]'" in message
    assert not dist.is_initialized()


WITHOUT_MPI = """
import importlib.abc, sys
class Missing(importlib.abc.MetaPathFinder):  # as if mpi4py and threadpoolctl were not installed
    def find_spec(self, name, path, target=None):
        if name.partition(".")[0] in ("mpi4py", "threadpoolctl"):
            raise ModuleNotFoundError(f"No module named {name!r}")
sys.meta_path.insert(0, Missing())
hook = sys.excepthook
import tinygrad_cnn, tinygrad_cnn.distributed, tinygrad_cnn.cli
assert sys.excepthook is hook and not any(m.startswith("mpi4py") for m in sys.modules)
sys.exit(tinygrad_cnn.cli.main(["train", "--distributed", "--epochs", "1", "--out", sys.argv[1]]))
"""


def test_without_mpi4py_the_package_imports_and_train_distributed_says_what_to_install(
    tmp_path,
):
    job = subprocess.run(
        [sys.executable, "-c", WITHOUT_MPI, str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert job.returncode == 2 and job.stdout == ""
    assert job.stderr == (
        "python -m tinygrad_cnn train: error: tinygrad_cnn.distributed.init: mpi4py is "
        "missing; pip install 'tinygrad_cnn[distributed]' (mpi4py and the mpich wheel)\n"
    )


def test_collectives_before_init_say_to_call_init():
    with pytest.raises(RuntimeError, match=r"distributed\.rank: call .*init\(\) first"):
        dist.rank()
    with pytest.raises(RuntimeError, match=r"DistributedDataParallel: call .*init\(\) first"):
        dist.DistributedDataParallel(lenet())
    with pytest.raises(RuntimeError, match=r"world_size: call .*init\(\) first"):
        DataLoader(np.zeros(4), np.zeros(4), distributed=True)


def test_all_reduce_checks_its_arguments_first():
    with pytest.raises(TypeError, match="all_reduce: array must be a numpy array, got list"):
        dist.all_reduce([1.0, 2.0])
    with pytest.raises(ValueError, match="all_reduce: op must be one of sum, mean, max, min"):
        dist.all_reduce(np.ones(3), op="median")
    with pytest.raises(TypeError, match="op='mean' needs a floating array, got int64"):
        dist.all_reduce(np.ones(3, dtype=np.int64))
    with pytest.raises(TypeError, match="all_reduce: op='sum' is not defined on bool arrays"):
        dist.all_reduce(np.ones(3, dtype=bool), op="sum")
    with pytest.raises(TypeError, match="op='max' is not defined on complex64 arrays"):
        dist.all_reduce(np.ones(3, dtype=np.complex64), op="max")
    frozen = np.ones(3)
    frozen.setflags(write=False)
    with pytest.raises(ValueError, match=r"broadcast: the array \(3,\) is read-only"):
        dist.broadcast(frozen)


def test_fit_refuses_a_distributed_model_that_would_not_average():
    with pytest.raises(TypeError, match="fit: distributed=True needs the model wrapped in Distr"):
        model = lenet()
        fit(model, optim.SGD(model.parameters(), 0.1), data(), data(), 1, distributed=True)


def test_buckets_run_backwards_through_the_parameters_within_the_cap():
    named = list(lenet(width=8).named_parameters())
    nbytes = {name: p.data.nbytes for name, p in named}
    cap = 4096
    buckets = dist.plan_buckets(named, cap_bytes=cap)
    assert [n for bucket in buckets for n in bucket] == [n for n, _ in reversed(named)]
    for bucket in buckets:  # within the cap, unless one parameter alone exceeds it
        assert sum(nbytes[n] for n in bucket) <= cap or len(bucket) == 1
    for first, second in zip(buckets, buckets[1:]):  # each bucket is as full as the cap allows
        assert sum(nbytes[n] for n in first) + nbytes[second[0]] > cap
    assert dist.plan_buckets(named) == [[n for n, _ in reversed(named)]]  # 25 MiB: one


def test_buckets_hold_one_dtype():
    named = [
        ("a", nn.Parameter(np.zeros(3), dtype=np.float32)),
        ("b", nn.Parameter(np.zeros(3), dtype=np.float64)),
        ("c", nn.Parameter(np.zeros(3), dtype=np.float64)),
    ]
    assert dist.plan_buckets(named) == [["c", "b"], ["a"]]


def shards(size: int, ranks: int, **options) -> list[np.ndarray]:
    return [
        dist.DistributedSampler(range(size), num_replicas=ranks, rank=r, **options).indices()
        for r in range(ranks)
    ]


def test_sampler_shards_are_disjoint_and_cover_the_epoch():
    parts = shards(12, 3, seed=7)
    assert [len(p) for p in parts] == [4, 4, 4]
    assert sorted(np.concatenate(parts).tolist()) == list(range(12))
    assert not np.array_equal(parts[0], np.arange(0, 12, 3))  # shuffled


def test_sampler_pads_or_drops_so_every_rank_takes_as_many_steps():
    padded = shards(10, 4, seed=7)
    assert [len(p) for p in padded] == [3, 3, 3, 3]
    values, counts = np.unique(np.concatenate(padded), return_counts=True)
    assert values.tolist() == list(range(10)) and sorted(counts.tolist()) == [1] * 8 + [2] * 2
    dropped = np.concatenate(shards(10, 4, seed=7, drop_last=True))
    assert len(dropped) == 8 and len(set(dropped.tolist())) == 8


def test_sampler_without_shuffle_deals_round_robin():
    assert [p.tolist() for p in shards(7, 3, shuffle=False)] == [[0, 3, 6], [1, 4, 0], [2, 5, 1]]


def test_sampler_reshuffles_every_epoch_identically_on_every_rank():
    samplers = [dist.DistributedSampler(range(20), 2, r, seed=3) for r in range(2)]
    epochs = [[s.indices() for s in samplers] for _ in range(2)]
    for first, second in epochs:
        assert sorted(np.concatenate([first, second]).tolist()) == list(range(20))
    assert not np.array_equal(epochs[0][0], epochs[1][0])
    # the order is DataLoader(seed=3)'s, epoch after epoch: rank r takes every 2nd from r
    ids = np.arange(20)
    loader = DataLoader(ids, ids, batch_size=20, seed=3)
    for epoch in epochs:
        whole = np.concatenate([b for b, _ in loader])
        assert [e.tolist() for e in epoch] == [whole[0::2].tolist(), whole[1::2].tolist()]


def test_sampler_checks_its_arguments():
    with pytest.raises(ValueError, match=r"DistributedSampler: rank must be 0\.\.1, got 2"):
        dist.DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="num_replicas must be a positive int, got 0"):
        dist.DistributedSampler(range(4), num_replicas=0, rank=0)
    with pytest.raises(ValueError, match="DistributedSampler: the dataset is empty"):
        dist.DistributedSampler([], num_replicas=1, rank=0)


def test_data_parallel_figure_is_current():
    """docs/images/data_parallel.dot was produced by tools/render_docs_graphs.py from this code."""
    spec = importlib.util.spec_from_file_location(
        "render_docs_graphs", ROOT / "tools" / "render_docs_graphs.py"
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    drawn = tool.GRAPHS["data_parallel"]().source
    assert drawn == (ROOT / "docs" / "images" / "data_parallel.dot").read_text()


# --- under mpiexec -n 2 ------------------------------------------------------------------


def one_process(kind: str) -> tuple[list[np.ndarray], dict[str, np.ndarray], list[np.ndarray]]:
    """The 5 steps in this process on batches of 32: each batch's ids, the final state, and
    the buffers rank 1 should end with.

    With BatchNorm the batch is normalised in the two halves the ranks get (rank r: every
    2nd sample from r), each half with its own statistics, and the running statistics follow
    rank 0's half only: what DDP without SyncBatchNorm does. Rank 1 starts each forward from
    rank 0's running statistics, so it ends with those of the last step but one, moved by its
    own last half."""
    tc.manual_seed(0)
    model = make_model(kind)
    images, labels = data()
    ids = np.arange(len(labels))
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    seen, rank1_buffers = [], []
    for batch, _ in DataLoader(ids, ids, batch_size=BATCH):
        if kind == "lenet":
            loss = F.cross_entropy(model(tc.Tensor(images[batch])), labels[batch])
        else:
            halves = [batch[0::2], batch[1::2]]
            start = [b.data.copy() for b in model.buffers()]
            first = F.cross_entropy(model(tc.Tensor(images[halves[0]])), labels[halves[0]])
            kept = [b.data.copy() for b in model.buffers()]
            for buffer, value in zip(model.buffers(), start):
                buffer.data = value
            second = F.cross_entropy(model(tc.Tensor(images[halves[1]])), labels[halves[1]])
            rank1_buffers = [b.data.copy() for b in model.buffers()]
            for buffer, value in zip(model.buffers(), kept):
                buffer.data = value
            loss = (first + second) / 2  # the mean of the two ranks' gradients
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        seen.append(batch)
    return seen, model.state_dict(), rank1_buffers


@needs_mpi
@pytest.mark.parametrize("kind", ["lenet", "batchnorm"])
def test_two_ranks_of_16_step_as_one_process_of_32(kind, tmp_path):
    job = run_ranks(str(WORKER), "steps", kind, str(tmp_path))
    assert job.returncode == 0, job.stderr
    ranks = [np.load(tmp_path / f"rank{r}.npz") for r in range(2)]
    batches, state, rank1_buffers = one_process(kind)
    for r, result in enumerate(ranks):
        assert int(result["steps"]) == STEPS
        # the loader: at each step the ranks' batches are the two halves of one process's
        assert [b.tolist() for b in result["ids"]] == [b[r::2].tolist() for b in batches]
        # identical parameters on both ranks before the first step and after every step
        assert result["same"].tolist() == [True] * (STEPS + 1)
    for name, value in state.items():  # rank 0's parameters and running statistics
        np.testing.assert_allclose(ranks[0][f"state/{name}"], value, rtol=1e-6, atol=2e-7)
    # rank 1's own running statistics: each forward started from rank 0's
    buffers = [name for name, _ in make_model(kind).named_buffers()]
    assert len(buffers) == len(rank1_buffers) == (0 if kind == "lenet" else 3)
    for name, value in zip(buffers, rank1_buffers):
        np.testing.assert_allclose(ranks[1][f"state/{name}"], value, rtol=1e-6, atol=2e-7)


@needs_mpi
def test_a_parameter_without_gradient_is_named_at_the_next_forward(tmp_path):
    job = run_ranks(str(WORKER), "unused", str(tmp_path))
    assert job.returncode == 0, job.stderr
    for r in range(2):
        message = (tmp_path / f"rank{r}.txt").read_text()
        assert message.startswith(
            "DistributedDataParallel: the last backward gave no gradient to unused.bias, "
            "unused.weight, so no gradient was averaged"
        )


@needs_mpi
def test_the_wrapper_follows_hooks_dtypes_and_freezing_changed_after_wrapping(tmp_path):
    job = run_ranks(str(WORKER), "wrapper", str(tmp_path))
    assert job.returncode == 0, job.stderr
    ranks = [np.load(tmp_path / f"rank{r}.npz") for r in range(2)]

    def averaged(key: str, **tolerance) -> None:  # every rank holds the mean of the ranks alone
        mean = (ranks[0][f"{key}_alone"] + ranks[1][f"{key}_alone"]) / 2
        assert not np.allclose(ranks[0][f"{key}_alone"], mean)  # the ranks' gradients differ
        for result in ranks:
            np.testing.assert_allclose(result[key], mean, **tolerance)

    # a hook registered after wrapping runs before the average, not after it on one rank
    averaged("hooked", rtol=1e-6)
    # made float64 after wrapping: averaged in float64, not through a float32 bucket
    averaged("doubled", rtol=1e-14, atol=1e-15)
    # two backwards before a step: .grad accumulates the mean of each
    averaged("accumulated", rtol=1e-6)
    for result in ranks:
        assert str(result["late"]).startswith(
            "DistributedDataParallel: a hook was registered on bias after the forward"
        )
        assert str(result["unfinished"]).startswith(
            "DistributedDataParallel: the last backward gave no gradient to b.bias, b.weight"
        )
        assert str(result["frozen"]) == ""  # frozen after wrapping: no parameter is missing
        assert str(result["closed"]).startswith("DistributedDataParallel: closed, its grad")
    np.testing.assert_array_equal(ranks[0]["frozen_b"], ranks[1]["frozen_b"])


@needs_mpi
def test_a_loss_not_finite_on_one_rank_stops_fit_on_every_rank(tmp_path):
    """Rank 1's third batch gives NaN: both ranks raise TrainingDiverged there, where rank 0
    would otherwise wait in the gradients' all-reduce for a rank that stopped."""
    job = run_ranks(str(WORKER), "diverge", str(tmp_path), hang=120)
    assert job.returncode == 0, job.stderr
    for r in range(2):
        assert (
            (tmp_path / f"rank{r}.txt")
            .read_text()
            .startswith("the loss is nan at epoch 1, batch 3; training diverged")
        )


@needs_mpi
def test_a_rank_that_raises_ends_every_rank_with_an_error():
    job = run_ranks(str(WORKER), "raise")  # rank 0 waits in a barrier rank 1 never reaches
    assert job.returncode != 0
    assert "RuntimeError: rank 1 fails on purpose" in job.stderr


@needs_mpi
def test_cli_trains_on_two_ranks_as_one_process(tmp_path):
    options = ["train", "--epochs", "2", "--seed", "0"]
    job = run_ranks("-m", "tinygrad_cnn", *options, "--distributed", "--out", str(tmp_path / "two"))
    assert job.returncode == 0, job.stderr
    assert job.stdout.count("test accuracy") == 1 and job.stdout.count("epoch   1/2") == 1
    assert "2 ranks, BLAS threads per rank: as OPENBLAS_NUM_THREADS" in job.stdout
    assert job.stdout.count("report: ") == 1 and job.stdout.count("checkpoint saved to") == 1
    assert (tmp_path / "two" / "checkpoint.npz").exists()
    assert (tmp_path / "two" / "index.html").exists()
    single = subprocess.run(
        [sys.executable, "-m", "tinygrad_cnn", *options, "--out", str(tmp_path / "one")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=HANG,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )
    assert single.returncode == 0, single.stderr
    two, one = (tc.load(str(tmp_path / run / "checkpoint.npz")) for run in ("two", "one"))
    # the same batches in the same order (the 1438 images split evenly), so the same run but
    # for the order of float32 sums: at most one of the 359 test images may tip the other way
    assert len(two["history"]) == len(one["history"]) == 2
    for a, b in zip(two["history"], one["history"]):
        assert abs(a["test_accuracy"] - b["test_accuracy"]) <= 1 / 359 + 1e-9
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-5)


@needs_mpi
def test_cli_distributed_without_mpiexec_is_a_plain_run(tmp_path):
    """One rank of one: the same checkpoint bit for bit, the same lines but the ranks'."""
    runs = {}
    for name, extra in (("plain", []), ("alone", ["--distributed"])):
        command = ["-m", "tinygrad_cnn", "train", "--epochs", "2", "--width", "4", *extra]
        job = subprocess.run(
            [sys.executable, *command, "--out", str(tmp_path / name)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=HANG,
        )
        assert job.returncode == 0, job.stderr
        runs[name] = job.stdout.replace(name, "OUT").splitlines()
    assert runs["alone"][0].startswith("1 rank")  # the only line more: ranks and threads

    def lines(output: list[str]) -> list[str]:  # without the speeds and durations
        return [line.partition("(")[0] for line in output if " s;" not in line]

    assert lines(runs["alone"][1:]) == lines(runs["plain"])
    plain, alone = (tc.load(str(tmp_path / name / "checkpoint.npz")) for name in runs)
    for name, array in plain["model"].items():
        assert np.array_equal(alone["model"][name], array), name


@needs_mpi
def test_cli_interrupted_on_two_ranks_resumes_bit_exactly(tmp_path):
    """With --augment, so rank 1 draws crops of its own, and conv orders chosen by timing,
    each rank's kept for the resumed run: stopped in epoch 2 and resumed, the run ends as
    one that did not stop."""
    args = ["train", "--epochs", "3", "--augment", "--quiet", "--distributed"]
    timed = {"TINYGRAD_CNN_AUTOTUNE": "1"}  # conftest switches it off
    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    job = run_ranks("-m", "tinygrad_cnn", *args, "--out", str(straight), **timed)
    assert job.returncode == 0, job.stderr
    orders = sorted(path.name for path in straight.glob("layouts*.json"))
    assert orders == ["layouts.json", "layouts.rank1.json"]  # each rank's timed conv orders
    stopped.mkdir()
    for name in orders:  # the orders the straight run chose, so that the same bits come out
        shutil.copy(straight / name, stopped / name)
    job = run_ranks(str(WORKER), "interrupt", "60", *args, "--out", str(stopped), **timed)
    assert job.returncode != 0 and "interrupted; epoch 1 is saved in" in job.stderr
    checkpoint = str(stopped / "checkpoint.npz")
    resume = ["train", "--resume", checkpoint, "--quiet", "--distributed"]
    job = run_ranks("-m", "tinygrad_cnn", *resume, **timed)
    assert job.returncode == 0, job.stderr
    resumed, reference = tc.load(checkpoint), tc.load(str(straight / "checkpoint.npz"))
    for name, array in reference["model"].items():
        assert np.array_equal(resumed["model"][name], array), name  # bit for bit
    assert [e["test_loss"] for e in resumed["history"]] == [
        e["test_loss"] for e in reference["history"]
    ]


def test_set_epoch_chooses_an_epoch_with_a_seed_and_checks_it_without():
    straight = dist.DistributedSampler(range(30), 2, 1, seed=7)
    orders = [straight.indices() for _ in range(4)]
    restarted = dist.DistributedSampler(range(30), 2, 1, seed=7)
    for epoch in (3, 0, 2):  # any order, as after a restart
        restarted.set_epoch(epoch)
        assert np.array_equal(restarted.indices(), orders[epoch])
    assert not np.array_equal(orders[0], orders[1])  # it does reshuffle
    unseeded = dist.DistributedSampler(range(30), 1, 0)
    unseeded.set_epoch(0)
    unseeded.indices()
    unseeded.set_epoch(1)  # the next one: a PyTorch-style loop works
    with pytest.raises(ValueError, match=r"with seed=None the next pass is epoch 1, got 3"):
        unseeded.set_epoch(3)
