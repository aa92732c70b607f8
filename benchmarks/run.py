"""Time tinygrad_cnn side by side with the peers installed here, in one run, as ratios to torch.

    python benchmarks/run.py                  # all workloads, Markdown table
    python benchmarks/run.py --json out.json  # also write the numbers
    python benchmarks/run.py --quick          # fewer rounds, for a smoke test

Workloads (float32):
  W1   conv forward + backward: x (32,16,32,32), w (32,16,3,3), b (32,), padding 1
  W1f  the same conv, forward only
  W2   max-pool 2x2 stride 2, forward + backward: x (32,32,32,32)
  W3   LeNet train step, batch 64 of 1x28x28: conv(1->8,3,p1)-relu-pool2,
       conv(8->16,3,p1)-relu-pool2, linear(784->10), cross-entropy, SGD
  W4   graph overhead: a 2,000-op chain of x*1.0001, x+0.0001 on shape (4,), then backward,
       reported in microseconds per op
  W6   ResNet-8 train step, batch 32 of 3x32x32: widths 16-32-64, BatchNorm, option-A
       shortcuts, global average pool, cross-entropy, SGD (benchmarks/resnet8.py)

Roofline: W1f and W1 are also divided by numpy's time for the same products alone, each in
its faster form (see gemm_seconds): the forward (O_h*O_w*B, K_h*K_w*C) @ (K_h*K_w*C, M) for
W1f, and for W1 that plus the two gradient products. A convolution built on numpy's GEMM
cannot beat 1.0.

Method: every framework's results are first checked against torch's (or ours, without torch).
Then, per workload: gc.collect() and gc.freeze(), two warm-up calls each, and rounds in which
each framework (in an order rotated every round) gets a 0.1 s pause and one untimed settle
call, so BLAS threads left spinning by the previous one do not count against it, and then a
timed call. The table
shows medians. Absolute times drift between runs on shared machines; compare ratios.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import resnet8  # noqa: E402
from peers import SUITES, available_suites  # noqa: E402


def workload_data(batch: int = 64, size: int = 28, seed: int = 0) -> dict[str, np.ndarray]:
    """Inputs and initial weights shared by every framework."""
    rng = np.random.default_rng(seed)
    f32 = lambda *shape, scale=1.0: (rng.standard_normal(shape) * scale).astype(np.float32)  # noqa: E731
    flat = 16 * (size // 4) ** 2
    return {
        "w1_x": f32(32, 16, 32, 32),
        "w1_w": f32(32, 16, 3, 3, scale=0.1),
        "w1_b": f32(32),
        "w2_x": f32(32, 32, 32, 32),
        "w3_x": f32(batch, 1, size, size),
        "w3_y": rng.integers(0, 10, batch),
        "c1_w": f32(8, 1, 3, 3, scale=1 / 3),
        "c1_b": f32(8, scale=0.1),
        "c2_w": f32(16, 8, 3, 3, scale=1 / 8.5),
        "c2_b": f32(16, scale=0.1),
        "fc_w": f32(10, flat, scale=1 / np.sqrt(flat)),
        "fc_b": f32(10, scale=0.1),
        "w4_x": np.ones(4, dtype=np.float32),
        "w6": resnet8.data(seed),
    }


WORKLOADS = ["W1", "W1f", "W2", "W3", "W4", "W6"]


def check(results: dict[str, dict[str, dict[str, np.ndarray]]], reference: str) -> list[str]:
    """Names of (framework, workload, value) whose numbers differ from the reference's."""
    problems = []
    for workload, by_framework in results.items():
        expected = by_framework.get(reference, {})
        for name, got in by_framework.items():
            for key, value in expected.items():
                scale = max(1.0, float(np.abs(value).max()))
                if (
                    key not in got
                    or got[key].shape != value.shape
                    or not np.allclose(got[key], value, rtol=2e-3, atol=2e-3 * scale)
                ):
                    problems.append(f"{name} {workload} {key}")
    return problems


IDLE_GAP = 0.1
"""Seconds of idle before each framework's settle call. OpenBLAS's worker threads keep
spinning for tens of milliseconds after a numpy product and take a core from torch's threads:
torch's W1 read 6.6 ms right after a tinygrad_cnn step, 2.7 ms after a 50 ms pause and 2.55 ms
after 150 ms (tinygrad_cnn's own time did not change). A settle call alone is too short."""


def time_rounds(steps: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Median seconds of one call per framework, with settle calls and rotated order."""
    gc.collect()
    gc.freeze()
    try:
        for step in steps.values():
            step()
            step()
        times: dict[str, list[float]] = {name: [] for name in steps}
        order = list(steps)
        for r in range(rounds):
            shift = r % len(order)
            for name in order[shift:] + order[:shift]:
                time.sleep(IDLE_GAP)
                steps[name]()  # settle: untimed
                start = time.perf_counter()
                steps[name]()
                times[name].append(time.perf_counter() - start)
    finally:
        gc.unfreeze()
    return {name: float(np.median(t)) for name, t in times.items()}


W1_GEMMS = {
    "W1f": [((32768, 144), (144, 32))],
    "W1": [((32768, 144), (144, 32)), ((32768, 32), (32, 144)), ((144, 32768), (32768, 32))],
}
"""The products each workload's convolution needs, as (left, right) shapes: the forward
columns @ weights, then the columns' gradient and the weight's."""


def gemm_seconds(workload: str, repeats: int = 20) -> float:
    """Median seconds of numpy computing ``workload``'s products alone, float32, each in the
    faster of its two forms: ``a @ b`` on C-contiguous operands, or ``(b.T @ a.T).T`` on a
    column-major ``a`` (BLAS's kernels differ; on OpenBLAS the second is often faster for
    these narrow products, and the convolution may use either)."""
    rng = np.random.default_rng(0)
    seconds = 0.0
    for a_shape, b_shape in W1_GEMMS[workload]:
        a = rng.standard_normal(a_shape).astype(np.float32)
        b = rng.standard_normal(b_shape).astype(np.float32)
        a_f = np.asfortranarray(a)
        forms = [lambda a=a, b=b: a @ b, lambda a_f=a_f, b=b: (b.T @ a_f.T).T]
        for form in forms:
            form()
        seconds += min(float(np.median([_timed(form) for _ in range(repeats)])) for form in forms)
    return seconds


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def peak_memory_child(framework: str) -> None:
    """Run in a subprocess: print how far 5 W3 steps raise the resident set (KiB) above what
    the process held once the model and data were built."""
    suite = SUITES[framework]()
    step = suite.make("W3", workload_data())
    gc.collect()
    before = _status("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets the high-water mark VmHWM to the current RSS
    for _ in range(5):
        step()
    print(_status("VmHWM") - before)


def _status(field: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field))


def peak_memory(framework: str) -> float | None:
    """Peak memory (MiB) that W3 training steps add to the process, as the OS counts it."""
    if not os.path.exists("/proc/self/status"):
        return None
    done = subprocess.run(
        [sys.executable, __file__, "--memory-child", framework], capture_output=True, text=True
    )
    return int(done.stdout.strip()) / 1024 if done.returncode == 0 and done.stdout.strip() else None


def print_orders() -> None:
    """The (columns, rows) orders tinygrad_cnn's convolutions and pools chose by measurement."""
    from tinygrad_cnn.ops import layout

    if not layout.autotune_enabled():
        print("conv and pool orders: the fixed default (TINYGRAD_CNN_AUTOTUNE=0)")
    for key, (columns, rows) in layout.chosen_orders().items():
        if key[0] == "pool":
            _, shape, memory, geometry, _ = key
            what = f"pool {shape}, kernel {geometry[0]}"
        else:
            shape, memory, m, geometry, _ = key
            what = f"conv {shape} -> {m} channels"
        print(
            f"{what} (memory axes {memory}, stride {geometry[1]}, padding {geometry[2]}): "
            f"columns {columns!r}, rows {rows!r}"
        )


def made(suites: dict, workload: str, data: dict) -> dict[str, Callable[[], dict]]:
    """Each suite's step for ``workload``, leaving out suites that do not have it."""
    steps = {}
    for name, suite in suites.items():
        try:
            steps[name] = suite.make(workload, data)
        except NotImplementedError:
            pass
    return steps


def ratio(medians: dict[str, float], name: str, reference: str) -> str:
    if name not in medians or reference not in medians:
        return "n/a"
    return f"{medians[name] / medians[reference]:.2f}"


def fmt(seconds: float | None, per_op: bool = False) -> str:
    if seconds is None:
        return "n/a"
    return f"{seconds / 2000 * 1e6:.1f} us/op" if per_op else f"{seconds * 1e3:.2f}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--quick", action="store_true", help="3 rounds, no memory or scaling tables")
    p.add_argument("--json", help="write the numbers to this file")
    p.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.memory_child:
        peak_memory_child(args.memory_child)
        return 0
    rounds = 3 if args.quick else args.rounds
    suites, missing = available_suites()
    for name, reason in missing.items():
        print(f"skipping {name}: {reason}")
    reference = "torch" if "torch" in suites else "tinygrad_cnn"
    data = workload_data()
    steps = {w: made(suites, w, data) for w in WORKLOADS}
    fresh = {w: {name: step() for name, step in made(suites, w, data).items()} for w in WORKLOADS}
    problems = check(fresh, reference)
    if problems:
        print("results differ from " + reference + ": " + ", ".join(problems))
        return 1
    print(f"all frameworks agree with {reference} on every workload\n")
    medians = {w: time_rounds(steps[w], rounds) for w in WORKLOADS}
    names = list(suites)
    print(
        "| workload | "
        + " | ".join(f"{n} (ms)" for n in names)
        + " | "
        + " | ".join(f"{n} / {reference}" for n in names if n != reference)
        + " |"
    )
    print("|---" * (1 + 2 * len(names) - 1) + "|")
    for w in WORKLOADS:
        row = [fmt(medians[w].get(n), per_op=w == "W4") for n in names]
        ratios = [ratio(medians[w], n, reference) for n in names if n != reference]
        print(f"| {w} | " + " | ".join(row) + " | " + " | ".join(ratios) + " |")
    roofline = {}
    for w in ("W1f", "W1"):
        gemms = gemm_seconds(w)
        roofline[w] = medians[w]["tinygrad_cnn"] / gemms
        print(
            f"\n{w}: numpy's {len(W1_GEMMS[w])} product(s) alone {gemms * 1e3:.2f} ms; "
            f"tinygrad_cnn / GEMMs = {roofline[w]:.2f}x",
            end="",
        )
    print(f"\nOPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    print_orders()
    report = {"median_seconds": medians, "roofline": roofline, "reference": reference}
    if not args.quick:
        memory = {n: peak_memory(n) for n in names}
        print(
            "\nW3 peak memory of 5 training steps above the built model and data "
            "(OS high-water mark): "
            + ", ".join(
                f"{n} {m:.1f} MiB" if m is not None else f"{n} n/a" for n, m in memory.items()
            )
        )
        report["w3_peak_mib"] = memory
        report["scaling"] = scaling(
            {n: suites[n] for n in names if n in ("tinygrad_cnn", "torch")}, max(3, rounds // 3)
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    return 0


def scaling(suites: dict, rounds: int) -> dict:
    """W3 time at several batch sizes and image sizes: it should grow linearly with work."""
    print(
        "\n| W3 variant | "
        + " | ".join(f"{n} (ms)" for n in suites)
        + " | ms per 1k pixels (tinygrad_cnn) |"
    )
    print("|---" * (len(suites) + 2) + "|")
    table = {}
    for batch, size in [(16, 28), (64, 28), (256, 28), (64, 56)]:
        data = workload_data(batch=batch, size=size)
        medians = time_rounds({n: s.make("W3", data) for n, s in suites.items()}, rounds)
        pixels = batch * size * size / 1000
        table[f"batch{batch}_{size}x{size}"] = medians
        print(
            f"| batch {batch}, {size}x{size} | "
            + " | ".join(f"{medians[n] * 1e3:.2f}" for n in suites)
            + f" | {medians['tinygrad_cnn'] * 1e3 / pixels:.3f} |"
        )
    return table


if __name__ == "__main__":
    sys.exit(main())
