"""Profile one epoch of the digits model and write the tables into docs/graphs.md.

    python tools/render_docs_profile.py

The model, data and optimizer are those of ``python -m tinygrad_cnn train`` with its defaults;
only the epoch's training is profiled (not its evaluation). The epoch runs three times, each
from a fresh model, and the one whose ops took least time is shown: on a shared machine
another process's load lands on some epochs (OpenBLAS's threads, spinning for a core, can make
a small matmul ten times slower), and the least disturbed one is closest to the code's own cost.

The block between the markers in docs/graphs.md is replaced: the table by op, the table by
module, and a sentence naming the op that took the most time. Times differ from run to run and
machine to machine, so tests/test_profiler.py checks the block's structure, not its numbers.
"""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

import tinygrad_cnn as tc
from tinygrad_cnn import optim
from tinygrad_cnn.cli import TRAIN_DEFAULTS, load_data, model_config
from tinygrad_cnn.runs import build_model
from tinygrad_cnn.train import fit

DOC = Path(__file__).resolve().parents[1] / "docs" / "graphs.md"
BEGIN = "<!-- profile: written by tools/render_docs_profile.py -->"
END = "<!-- end of profile -->"
REPEATS = 3


def profile_digits_epoch() -> tuple[tc.profile, float]:
    """The first epoch of the CLI's default run (LeNet on the bundled digits, Adam), profiled;
    and the seconds its training took, ops and everything else (optimizer, batches)."""
    d = TRAIN_DEFAULTS
    tc.manual_seed(d["seed"])
    train, test = load_data(d["data"])
    model = build_model(model_config(d["model"], train, test, d["width"]))
    optimizer = optim.create(d["optimizer"], model.parameters(), d["lr"])
    prof = tc.profile().start()
    try:
        (epoch,) = fit(
            model, optimizer, train, test, 1, d["batch_size"], on_epoch_end=prof.stop, quiet=True
        )
    finally:
        if prof.running:
            prof.stop()
    return prof, epoch.seconds


def block(prof: tc.profile, seconds: float) -> str:
    """The generated part of the profiler section."""
    rows = sorted(prof.summary("op"), key=lambda r: -r.total_s)
    total = sum(r.total_s for r in rows)
    first, second = rows[0], rows[1]
    images = len(load_data(TRAIN_DEFAULTS["data"])[0].labels)
    return "\n".join(
        [
            BEGIN,
            f"One epoch: {images} images in batches of {TRAIN_DEFAULTS['batch_size']} on "
            f"{os.cpu_count()} CPU cores (the fastest of {REPEATS} runs).",
            f"Its training took {seconds:.2f} s, of which the ops' forward and backward took "
            f"{total:.2f} s.",
            "",
            "```text",
            prof.table(group_by="op"),
            "```",
            "",
            "```text",
            prof.table(group_by="module"),
            "```",
            "",
            textwrap.fill(
                f"`{first.name}` takes the most time: {first.total_s / total:.1%} of the total, "
                f"forward and backward together; `{second.name}` follows with "
                f"{second.total_s / total:.1%}.",
                99,
            ),
            END,
        ]
    )


def main() -> None:
    """Profile one digits epoch REPEATS times; write the fastest between BEGIN and END."""
    text = DOC.read_text()
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{DOC}: no block between {BEGIN!r} and {END!r} to replace")
    runs = [profile_digits_epoch() for _ in range(REPEATS)]
    fastest = min(runs, key=lambda run: sum(r.total_s for r in run[0].records))
    DOC.write_text(pattern.sub(lambda _: block(*fastest), text))
    print(f"wrote the profile block of {DOC}")


if __name__ == "__main__":
    main()
