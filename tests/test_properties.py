"""Property tests: every registered op, on hypothesis-generated shapes, axes and window
geometries, gradchecked in float64 and, where torch is installed, compared with torch.

Parametrised by the registry, so a newly registered op without a strategy fails. CI runs
TINYGRAD_CNN_EXAMPLES examples per op (default 20); raise it for a nightly-style run.
"""

import os

import pytest
from helpers import assert_matches_torch, torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from op_strategies import STRATEGIES

import tinygrad_cnn as tc

EXAMPLES = int(os.environ.get("TINYGRAD_CNN_EXAMPLES", "20"))


@pytest.mark.parametrize("name", tc.list_ops())
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_op_property(name, data):
    if name not in STRATEGIES:
        pytest.fail(f"registered op {name!r} has no hypothesis strategy in tests/op_strategies.py")
    case = data.draw(STRATEGIES[name], label=name)
    inputs = case.make_inputs(None)
    assert tc.gradcheck(case.fn, *inputs)
    if torch is not None and case.torch_fn is not None:
        assert_matches_torch(case.fn, case.torch_fn, *inputs)
