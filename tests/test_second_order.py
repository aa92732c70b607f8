"""Ops with a second-order rule (``graph_backward``): the gradient they build with
create_graph=True is itself gradchecked in float64, on every case of tests/op_cases.py.
Issue 13 extends this to every registered op; here, every op that has the rule."""

import re

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor

from op_cases import CASES

SECOND_ORDER = [name for name, op in tc.registry.items() if hasattr(op, "graph_backward")]


def gradient_dot(fn, count):
    """x -> sum_i <d(sum(fn(x) * w)) / dx_i, v_i>: a scalar of the first gradient, built with
    create_graph=True, so gradcheck differentiates the gradient itself."""
    rng = np.random.default_rng(1)
    cache = {}

    def run(*xs):
        with tc.enable_grad():  # gradcheck evaluates under no_grad
            out = fn(*xs)
            w = cache.setdefault("w", Tensor(rng.standard_normal(out.shape), dtype=np.float64))
            grads = tc.grad((out * w).sum(), list(xs), create_graph=True)
            total = Tensor(0.0, dtype=np.float64)
            for i, (x, g) in enumerate(zip(xs, grads)):
                if g is not None:
                    v = cache.setdefault(i, Tensor(rng.standard_normal(x.shape), dtype=np.float64))
                    total = total + (g * v).sum()
            # a linear op's gradient does not depend on x: keep the scalar in the graph (slope 0)
            return total + 0.0 * sum(x.sum() for x in xs)

    return run


def _assert_graph_gradient_is_the_gradient(case, inputs):
    """The rule written with Tensor ops gives the numbers the numpy rule gives (a linear op's
    gradient does not depend on x, so the gradcheck below could not tell)."""
    out = case.fn(*inputs)
    w = Tensor(np.random.default_rng(2).standard_normal(out.shape), dtype=np.float64)
    with_graph = tc.grad((out * w).sum(), list(inputs), create_graph=True)
    plain = tc.grad((case.fn(*inputs) * w).sum(), list(inputs))
    for g, expected in zip(with_graph, plain):
        assert (g is None) == (expected is None), case.label
        if g is not None:
            np.testing.assert_allclose(
                g.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12, err_msg=case.label
            )


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_second_derivatives(name, rng):
    for case in CASES[name]:
        inputs = case.make_inputs(rng)
        try:
            _assert_graph_gradient_is_the_gradient(case, inputs)
            assert tc.gradcheck(gradient_dot(case.fn, len(inputs)), *inputs), case.label
        except (
            RuntimeError
        ) as err:  # the case also runs an op that issue 13 has still to give a rule
            missing = re.search(r"op '(\w+)' has no graph_backward", str(err))
            if missing is None and "create_graph=True supports" not in str(err):
                raise
            assert missing is None or missing[1] not in NEW_IN_ISSUE_12, (
                f"{name} {case.label}: {err}"
            )


NEW_IN_ISSUE_12 = {
    "sqrt",
    "maximum",
    "minimum",
    "where",
    "astype",
    "einsum",
    "cat",
    "expand",
    "pad",
    "gather",
    "min",
    "max",
    "cumsum",
}


def test_every_op_added_for_the_tensor_api_has_a_second_order_rule():
    assert NEW_IN_ISSUE_12 <= set(SECOND_ORDER)
