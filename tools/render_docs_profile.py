"""Profile one epoch of the digits model and write the tables into docs/graphs.md.

    python tools/render_docs_profile.py

The model, data and optimizer are those of ``python -m tinygrad_cnn train`` with its defaults;
only the epoch's training is profiled (not its evaluation). The block between the markers in
docs/graphs.md is replaced: the table by op, the table by module, and a sentence naming the op
that took the most time. Times differ from run to run and machine to machine, so
tests/test_profiler.py checks the block's structure, not its numbers.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import tinygrad_cnn as tc
from tinygrad_cnn import optim
from tinygrad_cnn.cli import TRAIN_DEFAULTS, load_data, model_config
from tinygrad_cnn.runs import build_model
from tinygrad_cnn.train import fit

DOC = Path(__file__).resolve().parents[1] / "docs" / "graphs.md"
BEGIN = "<!-- profile: written by tools/render_docs_profile.py -->"
END = "<!-- end of profile -->"


def profile_digits_epoch() -> tc.profile:
    """The first epoch of the CLI's default run (LeNet on the bundled digits, Adam), profiled."""
    d = TRAIN_DEFAULTS
    tc.manual_seed(d["seed"])
    train, test = load_data(d["data"])
    model = build_model(model_config(d["model"], train, test, d["width"]))
    optimizer = optim.create(d["optimizer"], model.parameters(), d["lr"])
    prof = tc.profile().start()
    try:
        fit(model, optimizer, train, test, 1, d["batch_size"], on_epoch_end=prof.stop, quiet=True)
    finally:
        if prof.running:
            prof.stop()
    return prof


def block(prof: tc.profile) -> str:
    """The generated part of the profiler section."""
    rows = sorted(prof.summary("op"), key=lambda r: -r.total_s)
    total = sum(r.total_s for r in rows)
    first, second = rows[0], rows[1]
    images = len(load_data(TRAIN_DEFAULTS["data"])[0].labels)
    return "\n".join(
        [
            BEGIN,
            f"One epoch: {images} images in batches of {TRAIN_DEFAULTS['batch_size']}, "
            f"{os.cpu_count()} CPU cores.",
            "",
            "```text",
            prof.table(group_by="op"),
            "```",
            "",
            "```text",
            prof.table(group_by="module"),
            "```",
            "",
            f"`{first.name}` takes the most time: {first.total_s / total:.1%} of the total, "
            f"forward and backward together; `{second.name}` follows with "
            f"{second.total_s / total:.1%}.",
            END,
        ]
    )


def main() -> None:
    text = DOC.read_text()
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{DOC}: no block between {BEGIN!r} and {END!r} to replace")
    DOC.write_text(pattern.sub(lambda _: block(profile_digits_epoch()), text))
    print(f"wrote the profile block of {DOC}")


if __name__ == "__main__":
    main()
