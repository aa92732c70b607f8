"""What the profiler's hooks cost when no profile is running: W4 of benchmarks/run.py (a
2,000-op chain on a (4,) tensor, then backward; microseconds per op) timed on a baseline
commit and on a compared one (or the working tree), in alternating child processes.

    python benchmarks/profiler_overhead.py --baseline 5720771 --revision e4c2811
    python benchmarks/profiler_overhead.py --baseline 5720771 --pairs 9 --profiled

5720771 is the commit before the hooks; 9fb8188 added them and e4c2811 gave them their final
form. The commits between touch nothing W4 runs, so comparing the two measures the hooks
alone. Without ``--revision`` the working tree is compared, with whatever else has changed.

Each child imports one tree's tinygrad_cnn and times W4 as run.py does (settle call after an
idle gap, then a timed call), but in the CPU time of its thread rather than wall time: W4 is
single-threaded Python on 4-element arrays, and the time the thread spends waiting for a core
that other processes hold is the noise this leaves out. Children for the two trees alternate,
so what load remains (shared caches) falls on both about equally. The report gives each
tree's median over its children's medians, its fastest call, and the ratios.
``--profiled`` adds the compared tree's W4 inside ``tc.profile()``: what recording costs.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import timeit

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OPS = 2000  # W4 applies 2,000 ops per call


def child(tree: str, rounds: int, profiled: bool) -> None:
    """Print W4's CPU seconds per op, [median, fastest] of ``rounds`` calls, with ``tree``'s
    tinygrad_cnn (run in a subprocess)."""
    from contextlib import nullcontext

    sys.path.insert(0, HERE)
    from run import IDLE_GAP, workload_data  # puts this repository first on the path

    sys.path.insert(0, tree)  # so peers imports this tree's tinygrad_cnn
    from peers import Ours

    suite = Ours()
    assert os.path.dirname(suite.tc.__file__).startswith(tree), suite.tc.__file__
    step = suite.make("W4", workload_data())
    times = []
    with suite.tc.profile() if profiled else nullcontext():
        gc.collect()
        gc.freeze()
        step()
        for _ in range(rounds):
            time.sleep(IDLE_GAP)
            step()  # settle, as run.py does
            start = time.thread_time()
            step()
            times.append((time.thread_time() - start) / OPS)
    print(json.dumps([statistics.median(times), min(times)]))


def export_tree(revision: str, folder: str) -> str:
    """The package as it was at ``revision``, unpacked under ``folder``."""
    archive = subprocess.run(
        ["git", "-C", ROOT, "archive", revision, "tinygrad_cnn"], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def measure(tree: str, rounds: int, profiled: bool = False) -> list[float]:
    """[median, fastest] CPU seconds per op of one child process's W4."""
    command = [sys.executable, __file__, "--child", tree, "--rounds", str(rounds)]
    done = subprocess.run(command + ["--profiled"] * profiled, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"child for {tree} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def hook_check_seconds() -> float:
    """Seconds of the test each op pays with no profile running, ``if profiling`` on a module
    global (the fastest of 7 runs of a million, less an empty loop's), timed in this process."""
    timer = timeit.Timer("if profiling: pass", globals={"profiling": 0})
    empty = timeit.Timer("pass")
    runs = 1_000_000
    return max(min(timer.repeat(7, runs)) - min(empty.repeat(7, runs)), 0.0) / runs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--baseline", help="git revision without the hooks (required)")
    p.add_argument("--revision", help="git revision to compare (default: the working tree)")
    p.add_argument("--pairs", type=int, default=5, help="child processes per tree")
    p.add_argument("--rounds", type=int, default=15, help="timed W4 calls per child")
    p.add_argument("--profiled", action="store_true", help="also time W4 inside tc.profile()")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        child(args.child, args.rounds, args.profiled)
        return 0
    if not args.baseline:
        p.error("--baseline REVISION is required (the commit before the profiler's hooks)")
    with tempfile.TemporaryDirectory() as tmp:
        trees = {
            "baseline": export_tree(args.baseline, os.path.join(tmp, "baseline")),
            "compared": export_tree(args.revision, os.path.join(tmp, "revision"))
            if args.revision
            else ROOT,
        }
        runs: dict[str, list[list[float]]] = {name: [] for name in trees}
        for _ in range(args.pairs):
            for name, tree in trees.items():
                runs[name].append(measure(tree, args.rounds))
        if args.profiled:
            runs["compared, profiled"] = [measure(trees["compared"], args.rounds, True)]
    summary = {}
    for name, found in runs.items():
        medians = [m for m, _ in found]
        summary[name] = (statistics.median(medians), min(f for _, f in found))
        each = ", ".join(f"{m * 1e6:.2f}" for m in medians)
        print(
            f"{name:20s} W4 median {summary[name][0] * 1e6:6.2f} us/op, fastest "
            f"{summary[name][1] * 1e6:6.2f}  (children's medians: {each})"
        )
    check = hook_check_seconds()
    print(
        f"the hooks' test, `if function.profiling`: {check * 1e9:.1f} ns, "
        f"{check / summary['baseline'][1]:.2%} of W4's fastest time per op"
    )
    (base_median, base_fastest), (median, fastest) = summary["baseline"], summary["compared"]
    print(
        f"compared / baseline: {median / base_median:.3f} (medians), "
        f"{fastest / base_fastest:.3f} (fastest calls)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
