"""Anomaly detection: stop at the first NaN or Inf, in a forward result or in a gradient.

    with tc.detect_anomaly():
        loss = model(x)...
        loss.backward()

Each op then checks its result, records where in your code it was created, and backward
checks every gradient an op returns. The error names the op, its input shapes and that
place. It costs a scan of every array, so use it to hunt a bug, not to train.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

__all__ = ["detect_anomaly", "AnomalyError"]

enabled = False
_PACKAGE = os.path.dirname(os.path.abspath(__file__))


class AnomalyError(FloatingPointError):
    """A NaN or Inf appeared in a forward result or a gradient."""


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Context manager: raise :class:`AnomalyError` at the first non-finite value."""
    global enabled
    previous, enabled = enabled, True
    try:
        yield
    finally:
        enabled = previous


def user_stacklevel() -> int:
    """``warnings.warn``'s stacklevel, called from here, that points at the first line outside
    this package: the user's call."""
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


def user_frames(limit: int = 3) -> list[traceback.FrameSummary]:
    """The innermost ``limit`` frames of the current stack outside this package."""
    frames = [
        f for f in traceback.extract_stack() if not os.path.abspath(f.filename).startswith(_PACKAGE)
    ]
    return frames[-limit:]


def _problem(array: Any) -> str | None:
    array = np.asarray(array)
    if array.dtype.kind != "f" or np.isfinite(array).all():
        return None
    return "nan" if np.isnan(array).any() else "inf"


def _describe(op_name: str, parents: Any, frames: list) -> str:
    shapes = ", ".join(f"{tuple(p.shape)} {p.dtype}" for p in parents) or "none"
    where = "".join(traceback.format_list(frames)).rstrip() or "  (unknown)"
    return f"op {op_name!r} (inputs: {shapes}), created at:\n{where}"


def check_forward(op_name: str, parents: Any, out: Any) -> None:
    """Raise if an op's forward result holds a NaN or Inf."""
    found = _problem(out)
    if found:
        raise AnomalyError(
            f"detect_anomaly: {found} in the forward result of "
            f"{_describe(op_name, parents, user_frames())}"
        )


def check_backward(ctx: Any, grads: tuple) -> None:
    """Raise if a gradient returned by an op's backward holds a NaN or Inf."""
    for index, grad in enumerate(grads):
        found = None if grad is None else _problem(getattr(grad, "data", grad))
        if found:
            frames = getattr(ctx, "created_at", [])
            raise AnomalyError(
                f"detect_anomaly: {found} in the gradient that backward returned "
                f"for input {index} of "
                f"{_describe(ctx.name, ctx.parents, frames)}"
            )
