"""One training epoch as 1 process using every core for BLAS, against N MPI ranks of 1 thread.

    python benchmarks/distributed_epoch.py                   # Fashion-MNIST, 2 ranks, 2 repeats
    python benchmarks/distributed_epoch.py --data digits --epochs 5 --repeats 3

Each configuration runs in fresh processes, one after the other, repeated (alternating, so all
see the same machine load):

* ``1 x C threads``: one process, OPENBLAS_NUM_THREADS = C, the usable cores;
* ``1 x 1 thread``: one process, one BLAS thread (what each rank gets below);
* ``N ranks x 1``: ``mpiexec -n N``, tinygrad_cnn.train.fit(distributed=True) through
  DistributedDataParallel, each rank's BLAS threads set by limit_blas_threads (C // N).

All train the CLI's LeNet (width 32) with Adam at 1e-3, global batch 32, from the same seed;
the time is fit's training time per epoch (the test pass is not timed). The ranks' job also
times the all-reduce of LeNet's gradients as one message per parameter and as one bucket.
Needs the [distributed] extra; Fashion-MNIST from Debian's dataset-fashion-mnist files.
Timings on a machine other jobs are using are not comparable: run it on a quiet one.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()
DEBIAN = "/usr/share/datasets/fashion-mnist"
IDLE_GAP = 2.0  # seconds between runs: BLAS threads of the last one settle


def load(data: str):
    from tinygrad_cnn.data import load_digits, load_mnist

    return load_mnist(DEBIAN) if data == "fashion-mnist" else load_digits()


def allreduce_microseconds(model, repeats: int = 200) -> dict[str, float]:
    """Median microseconds to average the model's gradients: per parameter, and one bucket."""
    import numpy as np

    from tinygrad_cnn import distributed as dist

    grads = [np.ones(p.shape, np.float32) for p in model.parameters()]
    bucket = np.ones(sum(g.size for g in grads), np.float32)

    def timed(reduce) -> float:
        times = []
        for _ in range(repeats):
            dist.barrier()
            start = time.perf_counter()
            reduce()
            times.append(time.perf_counter() - start)
        return statistics.median(times) * 1e6

    return {
        "per_parameter_us": timed(lambda: [dist.all_reduce(g) for g in grads]),
        "one_bucket_us": timed(lambda: dist.all_reduce(bucket)),
        "messages": len(grads),
        "floats": int(bucket.size),
    }


def worker(args: argparse.Namespace) -> None:
    """Train and print one JSON line (rank 0 only, when distributed)."""
    sys.path.insert(0, str(HERE.parents[1]))
    import tinygrad_cnn as tc
    from tinygrad_cnn import distributed as dist
    from tinygrad_cnn.models import lenet
    from tinygrad_cnn.train import fit

    threads, rank = None, 0
    if args.distributed:
        dist.init()
        threads, rank = dist.limit_blas_threads(), dist.rank()
    train, test = load(args.data)
    tc.manual_seed(0)
    model = lenet(1, train.images.shape[2], 10, 32)
    optimizer = tc.optim.Adam(model.parameters(), lr=1e-3)
    net = dist.DistributedDataParallel(model) if args.distributed else model
    history = fit(
        net, optimizer, train, test, args.epochs, 32, quiet=True, distributed=args.distributed
    )
    result = {
        "seconds": [r.seconds for r in history],
        "images": len(train.labels),
        "test_accuracy": history[-1].test_accuracy,
        "blas_threads": threads or os.environ.get("OPENBLAS_NUM_THREADS"),
    }
    if args.distributed:
        net.close()
        result |= allreduce_microseconds(model)
    if rank == 0:
        print(json.dumps(result), flush=True)


def configurations(ranks: int) -> dict[str, tuple[list[str], dict[str, str]]]:
    """name -> (command prefix, environment changes)."""
    cores = len(os.sched_getaffinity(0))
    python = [sys.executable, str(HERE), "--worker"]
    mpiexec = str(Path(sys.executable).parent / "mpiexec")
    return {
        f"1 process x {cores} BLAS threads": (python, {"OPENBLAS_NUM_THREADS": str(cores)}),
        "1 process x 1 BLAS thread": (python, {"OPENBLAS_NUM_THREADS": "1"}),
        f"{ranks} ranks x {max(1, cores // ranks)} BLAS thread(s)": (
            [mpiexec, "-n", str(ranks), *python, "--distributed"],
            {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"},
        ),
    }


def run(command: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    """Run ``command``; after ``timeout`` seconds end it with every process it started (an
    mpiexec's ranks too) and exit with a message."""
    job = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = job.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(job.pid, signal.SIGKILL)
        job.communicate()
        sys.exit(f"{' '.join(command)} still ran after {timeout:.0f} s; ended it")
    return subprocess.CompletedProcess(command, job.returncode, out, err)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", choices=["fashion-mnist", "digits"], default="fashion-mnist")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--timeout", type=float, default=3600, help="seconds a run may take")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--distributed", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args)
    options = ["--data", args.data, "--epochs", str(args.epochs)]
    environment = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    runs: dict[str, list[dict]] = {}
    for repeat in range(args.repeats):
        for name, (command, env) in configurations(args.ranks).items():
            time.sleep(IDLE_GAP)
            job = run([*command, *options], {**environment, **env}, args.timeout)
            if job.returncode:
                sys.exit(f"{name} failed:\n{job.stderr}")
            runs.setdefault(name, []).append(json.loads(job.stdout.strip().splitlines()[-1]))
            print(f"repeat {repeat + 1}, {name}: {runs[name][-1]}", flush=True)
    report(runs, args)


def report(runs: dict[str, list[dict]], args: argparse.Namespace) -> None:
    """A markdown table: median epoch seconds, images/s, and test accuracy per configuration."""
    print(f"\n{args.data}, {args.epochs} epoch(s), {args.repeats} repeats, median epoch:\n")
    print("| configuration | epoch s | img/s | test acc | every epoch (s) |")
    print("|---|---|---|---|---|")
    for name, results in runs.items():
        seconds = [s for r in results for s in r["seconds"]]
        median = statistics.median(seconds)
        print(
            f"| {name} | {median:.1f} | {results[0]['images'] / median:,.0f} | "
            f"{results[-1]['test_accuracy']:.4f} | {', '.join(f'{s:.1f}' for s in seconds)} |"
        )
    reduced = [r for rs in runs.values() for r in rs if "one_bucket_us" in r]
    if reduced:
        first = reduced[0]
        print(
            f"\nall-reduce of LeNet's {first['floats']:,} gradient floats, median: "
            f"{statistics.median(r['per_parameter_us'] for r in reduced):.0f} us as "
            f"{first['messages']} messages, "
            f"{statistics.median(r['one_bucket_us'] for r in reduced):.0f} us as one bucket"
        )


if __name__ == "__main__":
    main()
