"""Test helpers for packages of user ops: gradcheck every op a package registers.

Give each op class an ``example(rng)`` static method returning ``(args, kwargs)`` for one
call of ``apply`` with float64 tensors, then in your test suite::

    from tinygrad_cnn.testing import check_op, ops_defined_in

    @pytest.mark.parametrize("op", ops_defined_in("mypackage"), ids=lambda op: op.name)
    def test_my_ops(op):
        check_op(op)

A newly registered op without ``example`` fails that test with a message saying so.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .function import Function, registry
from .gradcheck import gradcheck

__all__ = ["ops_defined_in", "check_op"]


def ops_defined_in(package: str) -> list[type[Function]]:
    """Registered ops whose class lives in ``package`` or a module below it."""
    return [
        op
        for op in registry.values()
        if op.__module__ == package or op.__module__.startswith(package + ".")
    ]


def check_op(op: type[Function], seed: int = 0, **gradcheck_options: Any) -> bool:
    """Gradcheck ``op`` on the inputs its ``example(rng)`` builds; raises if it has none."""
    example = getattr(op, "example", None)
    if example is None:
        raise AssertionError(
            f"op {op.name!r} ({op.__module__}.{op.__qualname__}) defines no example(rng) returning "
            f"(args, kwargs) of float64 tensors to gradcheck it with"
        )
    args, kwargs = example(np.random.default_rng(seed))
    return gradcheck(lambda *xs: op.apply(*xs, **kwargs), *args, **gradcheck_options)
