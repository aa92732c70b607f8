"""numpy's functions and ufuncs on Tensors (NEP 13/18): the ones with a counterpart keep the
graph and give the right gradient; predicates give bool constants; everything else is a clear
TypeError instead of a plain array cut from the graph."""

import numpy as np
import pytest
from helpers import assert_close, leaf

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor

# The numpy calls the issue names, each on float64 leaves (positive where the math needs it).
KEEP_THE_GRAPH = {
    "add": lambda a, b: np.add(a, b),
    "subtract": lambda a, b: np.subtract(b, a),
    "multiply": lambda a, b: np.multiply(a, b),
    "divide": lambda a, b: np.divide(a, b),
    "negative": lambda a, b: np.negative(a),
    "power": lambda a, b: np.power(b, 3),
    "exp": lambda a, b: np.exp(a),
    "log": lambda a, b: np.log(b),
    "sqrt": lambda a, b: np.sqrt(b),
    "abs": lambda a, b: np.abs(a),
    "maximum": lambda a, b: np.maximum(a, b),
    "minimum": lambda a, b: np.minimum(a, 0.1),
    "tanh": lambda a, b: np.tanh(a),
    "matmul": lambda a, b: np.matmul(a, b.T),
    "sum": lambda a, b: np.sum(a, axis=1, keepdims=True),
    "mean": lambda a, b: np.mean(a * b, axis=0),
    "max": lambda a, b: np.max(a, axis=0),
    "min": lambda a, b: np.min(b),
    "var": lambda a, b: np.var(a, axis=1, ddof=1),
    "std": lambda a, b: np.std(b),
    "clip": lambda a, b: np.clip(a, -0.5, 0.5),
    "where": lambda a, b: np.where(a.data > 0, a, b),
    "concatenate": lambda a, b: np.concatenate([a, b], axis=1),
    "stack": lambda a, b: np.stack([a, b], axis=2),
    "reshape": lambda a, b: np.reshape(a, (-1,)),
    "transpose": lambda a, b: np.transpose(a),
    "squeeze": lambda a, b: np.squeeze(np.expand_dims(a, 0)),
    "expand_dims": lambda a, b: np.expand_dims(a, (0, 3)),
    "pad": lambda a, b: np.pad(b, ((1, 0), (2, 1)), mode="reflect"),
    "einsum": lambda a, b: np.einsum("ij,ij->i", a, b),
    "ndarray_plus_tensor": lambda a, b: np.ones(a.shape) + a,
    "scalar_times_tensor": lambda a, b: np.float64(2.0) * a,
}


@pytest.mark.parametrize("name", KEEP_THE_GRAPH)
def test_numpy_call_keeps_the_graph(name, rng):
    a, b = leaf(rng.standard_normal((3, 4))), leaf(rng.uniform(0.5, 2.0, (3, 4)))
    out = KEEP_THE_GRAPH[name](a, b)
    assert isinstance(out, Tensor) and out.requires_grad and not out.is_leaf, name
    assert tc.gradcheck(KEEP_THE_GRAPH[name], a, b)


def test_numpy_values_match_numpy(rng):
    x = rng.standard_normal((3, 4))
    t = Tensor(x, dtype=np.float64)
    for fn in (
        np.exp,
        np.tanh,
        np.abs,
        np.sum,
        np.mean,
        np.var,
        np.std,
        np.max,
        np.min,
        np.cumsum,
        np.ravel,
    ):
        assert_close(fn(t).numpy(), fn(x))
    assert_close(np.clip(t, a_min=-0.2, a_max=0.3).numpy(), np.clip(x, -0.2, 0.3))
    assert_close(np.pad(t, 1, mode="wrap").numpy(), np.pad(x, 1, mode="wrap"))
    assert_close(
        np.pad(t, (2, 1), constant_values=3.0).numpy(), np.pad(x, (2, 1), constant_values=3.0)
    )
    assert_close(np.take_along_axis(t, np.argsort(x, axis=1), axis=1).numpy(), np.sort(x, axis=1))
    assert [p.shape for p in np.array_split(t, 3, axis=1)] == [
        p.shape for p in np.array_split(x, 3, axis=1)
    ]
    assert (
        np.argmax(t) == np.argmax(x)
        and np.shape(t) == (3, 4)
        and np.ndim(t) == 2
        and np.size(t) == 12
    )


@pytest.mark.parametrize("predicate", [np.isfinite, np.isnan, np.isinf, np.signbit])
def test_unary_predicates_give_bool_constants(predicate):
    t = Tensor([1.0, np.inf, np.nan, -2.0], requires_grad=True)
    result = predicate(t)
    assert isinstance(result, Tensor) and result.dtype == bool and not result.requires_grad
    np.testing.assert_array_equal(result.numpy(), predicate(t.numpy()))


@pytest.mark.parametrize(
    "predicate", [np.equal, np.not_equal, np.greater, np.greater_equal, np.less, np.less_equal]
)
def test_comparison_ufuncs_both_ways(predicate):
    t, array = Tensor([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0])
    for result, expected in (
        (predicate(t, array), predicate(t.numpy(), array)),
        (predicate(array, t), predicate(array, t.numpy())),
    ):
        assert isinstance(result, Tensor) and result.dtype == bool
        np.testing.assert_array_equal(result.numpy(), expected)
    assert isinstance(array == t, Tensor)


def test_whole_array_predicates():
    t = Tensor([1.0, 2.0])
    assert np.allclose(t, [1.0, 2.0]) is True and np.array_equal(t, Tensor([1.0, 2.0]))
    assert np.isclose(t, 1.0).tolist() == [True, False] and bool(np.any(t > 1.5))


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda t: np.sin(t), "numpy.sin"),
        (lambda t: np.linalg.norm(t), "numpy.linalg.norm"),
        (lambda t: np.sort(t), "numpy.sort"),
        (lambda t: np.add.reduce(t), "numpy.add.reduce"),
        (lambda t: np.cumprod(t), "numpy.cumprod"),
    ],
)
def test_other_numpy_calls_name_the_way_out(call, name):
    with pytest.raises(
        TypeError,
        match=rf"{name} has no counterpart for Tensors here; .*t\.numpy\(\) or np\.asarray\(t\)",
    ):
        call(Tensor([1.0, 2.0], requires_grad=True))


def test_out_and_unsupported_keywords_are_refused():
    t = Tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="numpy.add: cannot write a Tensor result into an array"):
        np.add(t, 1.0, out=t)
    with pytest.raises(TypeError, match="numpy.exp: cannot write a Tensor result"):
        np.exp(t, out=np.empty(2))
    with pytest.raises(TypeError, match="numpy.sum: initial= not supported with Tensors"):
        np.sum(t, initial=1.0)
    assert np.sum(t, dtype=np.float64).dtype == np.float64  # numpy's dtype=: cast first
    with pytest.raises(
        TypeError, match="numpy.exp: keyword arguments \\['where'\\] are not supported"
    ):
        np.exp(t, where=np.array([True, False]))


def test_the_explicit_ways_out_of_the_graph():
    t = Tensor([1.0, 2.0], requires_grad=True)
    assert type(np.asarray(t)) is np.ndarray and np.shares_memory(np.asarray(t), t.numpy())
    assert np.sin(t.numpy()).shape == (2,)
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
