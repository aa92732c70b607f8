"""Second derivatives through every registered op: the gradient each builds with
create_graph=True equals its first-order gradient, and is itself gradchecked in float64, on
every case of tests/op_cases.py."""

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor
from tinygrad_cnn.engine import supports_create_graph

from op_cases import CASES



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


@pytest.mark.parametrize("name", list(tc.registry))
def test_second_derivatives(name, rng):
    """Every registered op: its rule on Tensors gives the numpy rule's numbers, and the
    gradient it builds is itself gradchecked in float64 on every case of op_cases.py."""
    assert supports_create_graph(tc.registry[name]), (
        f"op {name!r} cannot be differentiated twice: give it differentiable_backward = True "
        f"or a graph_backward"
    )
    for case in CASES[name]:
        inputs = case.make_inputs(rng)
        _assert_graph_gradient_is_the_gradient(case, inputs)
        assert tc.gradcheck(gradient_dot(case.fn, len(inputs)), *inputs), case.label
