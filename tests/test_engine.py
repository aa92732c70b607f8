"""The backward engine: graph recording, topological order, accumulation, freeing."""

import gc
import weakref

import numpy as np
import pytest
from helpers import assert_close, leaf

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor


def test_reused_node_gradients_are_summed():
    a = Tensor(3.0, requires_grad=True)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad.item() == 4.0


def test_diamond():
    x = leaf([2.0])
    top = x * 3.0
    left, right = top.exp(), top * top
    (left + right).sum().backward()
    assert_close(x.grad.data, [3 * np.exp(6.0) + 2 * 6.0 * 3])


def test_residual_connection():
    x = leaf([[1.0, -2.0]])
    w = leaf([[0.5, 0.0], [0.0, 2.0]])
    h = (x @ w).relu() + x
    h.sum().backward()
    assert_close(x.grad.data, [[1.5, 1.0]])


def test_chain_of_100000_ops_needs_no_recursion():
    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_each_backward_rule_runs_once(monkeypatch):
    from tinygrad_cnn.ops import elementwise

    calls = []
    original = elementwise.Exp.backward
    monkeypatch.setattr(
        elementwise.Exp,
        "backward",
        staticmethod(lambda ctx, g: calls.append(1) or original(ctx, g)),
    )
    x = leaf([0.5])
    e = x.exp()
    (e * e + e).sum().backward()
    assert len(calls) == 1
    assert_close(x.grad.data, [2 * np.exp(1.0) + np.exp(0.5)])


def test_leaf_gradients_accumulate_until_zero_grad():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    (x * x).sum().backward()
    assert_close(x.grad.data, [4.0, 8.0])
    x.zero_grad()
    (x * 3.0).sum().backward()
    assert_close(x.grad.data, [3.0, 3.0])


def test_second_backward_through_freed_graph_raises():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"op 'sum'.*second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert_close(x.grad.data, [4.0, 8.0])


def test_backward_frees_saved_arrays():
    x = leaf(np.ones(3))
    y = x * x
    node = y._ctx
    assert len(node.saved_tensors) == 2
    y.sum().backward()
    assert node.saved_tensors == () and node.freed


def test_no_grad_records_nothing():
    x = leaf([1.0])
    with tc.no_grad():
        y = x * 2.0
        with tc.enable_grad():
            z = x * 2.0
    assert y._ctx is None and not y.requires_grad
    assert z.requires_grad
    assert tc.is_grad_enabled()


def test_inputs_without_grad_record_nothing():
    y = Tensor([1.0, 2.0]) * 2.0
    assert y._ctx is None and not y.requires_grad


def test_trace_records_ops_on_constants():
    with tc.trace():
        y = Tensor([1.0, 2.0]) * 2.0
    assert y._ctx is not None and y._ctx.name == "mul" and not y.requires_grad


def test_detach_cuts_the_graph():
    x = leaf([1.0])
    y = (x * 2.0).detach()
    assert y._ctx is None and not y.requires_grad
    (x * y).sum().backward()
    assert_close(x.grad.data, [2.0])


def test_ndarray_plus_tensor_is_a_tensor():
    x = leaf([1.0, 2.0])
    for result in (
        np.ones(2) + x,
        np.ones(2) * x,
        np.ones(2) - x,
        np.ones(2) / x,
        np.float64(2.0) * x,
    ):
        assert isinstance(result, Tensor) and result.requires_grad


def test_non_scalar_backward_needs_grad():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"one-element output, got shape \(2,\)"):
        (x * 2.0).backward()
    (x * 2.0).backward(np.array([1.0, 10.0]))
    assert_close(x.grad.data, [2.0, 20.0])


def test_backward_grad_shape_is_checked():
    x = leaf([1.0, 2.0])
    with pytest.raises(ValueError, match=r"grad has shape \(3,\), the output has \(2,\)"):
        (x * 2.0).backward(np.ones(3))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match=r"does not require grad"):
        Tensor([1.0, 2.0]).sum().backward()


def test_visited_set_ignores_eq(monkeypatch):
    monkeypatch.setattr(Tensor, "__eq__", lambda self, other: True, raising=False)
    monkeypatch.setattr(Tensor, "__hash__", lambda self: 0, raising=False)
    a = leaf([1.0])
    b, c = a * 2.0, a * 3.0
    (b + c).sum().backward()
    assert_close(a.grad.data, [5.0])


def test_graph_is_freed_by_reference_counting():
    """Dropping the output frees every node: the graph has no reference cycles."""
    gc.disable()
    try:
        x = leaf(np.ones((4, 4)))
        y = ((x @ x).relu() * 2.0).sum()
        nodes = []
        stack = [y]
        while stack:
            t = stack.pop()
            if t._ctx is not None:
                nodes.append(weakref.ref(t._ctx))
                stack.extend(t._ctx.parents)
        y.backward()
        del y, t, stack
        assert nodes and all(ref() is None for ref in nodes)
    finally:
        gc.enable()


def test_dtypes():
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert Tensor(np.zeros(2, dtype=np.float64)).dtype == np.float32
    assert Tensor([1.0], dtype=np.float64).dtype == np.float64
    assert Tensor([1, 2]).dtype.kind == "i"
    x = Tensor([1.0, 2.0])
    assert (x * 2).dtype == np.float32 and (x + np.float64(1.0)).dtype == np.float32
    assert (Tensor([1, 2]) * x).dtype == np.float32


def test_integer_tensors_are_constants():
    with pytest.raises(
        TypeError, match=r"only floating tensors can require grad; this one has dtype int64"
    ):
        Tensor([1, 2], requires_grad=True)


def test_tensor_facts():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and len(x) == 2
    assert isinstance(x.numpy(), np.ndarray) and x.sum().item() == 15.0
    assert x.T.shape == (3, 2) and x.transpose(1, 0).shape == (3, 2)
    assert x.is_leaf and not (x * 1.0).is_leaf
    assert "requires_grad=True" in repr(x) and "op=mul" in repr(x * 1.0)
