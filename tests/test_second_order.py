"""Second derivatives through every registered op: the gradient each builds with
create_graph=True equals its first-order gradient, and is itself gradchecked in float64, on
every case of tests/op_cases.py."""

import numpy as np
import pytest
from helpers import needs_torch, torch, torch_leaf
from op_cases import CASES

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor
from tinygrad_cnn.engine import supports_create_graph


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
        assert tc.gradgradcheck(case.fn, *inputs), case.label


def test_gradgradcheck_names_a_wrong_second_derivative():
    class Cube(tc.Function, register=False):
        @staticmethod
        def forward(ctx, a):
            return a**3

        @staticmethod
        def backward(ctx, grad):
            raise AssertionError("unused: the graph rule runs")

        @staticmethod
        def graph_backward(ctx, grad):
            (a,) = ctx.parents
            # drops half of d/da 3a^2: the first derivative is right
            return grad * 3 * a * a.detach()

    x = Tensor([0.5, -1.5, 2.0], requires_grad=True, dtype=np.float64)
    with pytest.raises(
        tc.GradcheckError,
        match=r"gradgradcheck: input 0 \(shape \(3,\)\) has a wrong second derivative",
    ):
        tc.gradgradcheck(lambda a: Cube.apply(a), x)
    assert tc.gradgradcheck(lambda a: a**3, x)


def _hessian_vector(fn, xs, grad, tensor, seed=3):
    """d/dx of sum_i <d sum(fn(x) * w) / dx_i, v_i>: a Hessian-vector product, in either
    framework (``grad``: tc.grad or torch.autograd.grad; ``tensor`` makes a constant). None
    for an input whose gradient does not depend on any input."""
    rng = np.random.default_rng(seed)
    out = fn(*xs)
    w = tensor(rng.standard_normal(tuple(out.shape)))
    first = grad((out * w).sum(), list(xs), create_graph=True)
    total = None
    for x, g in zip(xs, first):
        if g is not None and g.requires_grad:
            term = (g * tensor(rng.standard_normal(tuple(x.shape)))).sum()
            total = term if total is None else total + term
    if total is None:
        return [None] * len(xs)
    return list(grad(total, list(xs)))


@needs_torch
@pytest.mark.parametrize("name", list(tc.registry))
def test_second_derivatives_match_torch(name, rng):
    """Every op with a torch twin: the same Hessian-vector product as torch's double backward."""
    for case in CASES[name]:
        if case.torch_fn is None:
            continue
        inputs = case.make_inputs(rng)
        ours = _hessian_vector(case.fn, inputs, tc.grad, lambda a: Tensor(a, dtype=np.float64))
        twins = [torch_leaf(x) for x in inputs]

        def torch_grad(y, xs, create_graph=False):
            return torch.autograd.grad(y, xs, create_graph=create_graph, allow_unused=True)

        theirs = _hessian_vector(case.torch_fn, twins, torch_grad, torch.tensor)
        for k, (a, b) in enumerate(zip(ours, theirs)):
            a = np.zeros(inputs[k].shape) if a is None else a.numpy()
            # force: a ZeroTensor
            b = np.zeros(inputs[k].shape) if b is None else b.detach().numpy(force=True)
            np.testing.assert_allclose(
                a, b, rtol=1e-7, atol=1e-9, err_msg=f"{name} {case.label} input {k}"
            )
