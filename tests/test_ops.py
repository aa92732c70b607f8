"""Every registered op: gradcheck in float64 and, where torch is installed, forward and
gradients against torch. Parametrised by the registry, so a new op without a case fails."""

import numpy as np
import pytest
from helpers import assert_matches_torch, needs_torch
from op_cases import CASES

import tinygrad_cnn as tc
from tinygrad_cnn import engine

OPS = tc.list_ops()


def cases_of(name):
    if name not in CASES:
        pytest.fail(f"registered op {name!r} has no gradcheck case in tests/op_cases.py")
    return CASES[name]


@pytest.mark.parametrize("name", OPS)
def test_gradcheck(name, rng):
    for case in cases_of(name):
        inputs = case.make_inputs(rng)
        assert tc.gradcheck(case.fn, *inputs), case.label


@pytest.mark.parametrize("name", OPS)
def test_case_runs_the_op(name, rng):
    """Each case really exercises the op it is filed under."""
    for case in cases_of(name):
        out = case.fn(*case.make_inputs(rng))
        seen, stack = set(), [out]
        while stack:
            t = stack.pop()
            if t._ctx is not None:
                seen.add(t._ctx.name)
                stack.extend(t._ctx.parents)
        assert name in seen, f"{case.label}: {name} not in the graph ({sorted(seen)})"


@needs_torch
@pytest.mark.parametrize("name", OPS)
def test_matches_torch(name, rng):
    for case in cases_of(name):
        if case.torch_fn is None:  # torch has no such function; gradcheck covers it
            continue
        assert_matches_torch(case.fn, case.torch_fn, *case.make_inputs(rng))


@pytest.mark.parametrize("name", OPS)
def test_float32_stays_float32(name, rng, monkeypatch):
    """No op upcasts float32 data, or the gradients its backward returns, to float64."""
    fit = engine._fit_gradient

    def checked_fit(ctx, index, parent, grad, *rest):
        assert np.asarray(grad).dtype == parent.dtype, (
            f"{ctx.name} returned {np.asarray(grad).dtype}"
        )
        return fit(ctx, index, parent, grad, *rest)

    monkeypatch.setattr(engine, "_fit_gradient", checked_fit)
    for case in cases_of(name):
        inputs = [
            tc.Tensor(x.data.astype(np.float32), requires_grad=True) for x in case.make_inputs(rng)
        ]
        out = case.fn(*inputs)
        assert out.dtype == np.float32, case.label
        out.backward(np.ones(out.shape, dtype=np.float32))


@pytest.mark.parametrize(
    "values",
    [
        np.array([-0.0, 0.0, np.nan, -np.nan, np.inf, -np.inf, -1.5, 5e-324], np.float64),
        np.array([-0.0, np.nan, -2.0, 3.0], np.float16),
        np.array([-3, 0, 4], np.int8),
        np.array([3, 0, 4], np.uint64),
        np.array([True, False]),
        np.array(-0.0, np.float32),
        np.zeros((0, 3), np.float32),
        np.arange(-12.0, 12.0).reshape(2, 3, 4).transpose(2, 0, 1),  # not C-ordered
    ],
    ids=["float64", "float16", "int8", "uint64", "bool", "0-d", "empty", "transposed"],
)
def test_relu_is_numpys_maximum_with_zero(values):
    """relu gives np.maximum(a, 0) bit for bit: dtype (bool promotes to int64, as the scalar 0
    makes it), -0.0 and NaN kept, shape, and the input's memory order."""
    out = tc.Tensor(values, dtype=values.dtype).relu().data
    expected = np.asarray(np.maximum(values, 0))
    assert out.dtype == expected.dtype and out.shape == expected.shape
    assert out.tobytes() == expected.tobytes() and out.strides == expected.strides
