"""Extension points: hooks, protection of saved arrays, second derivatives, the op test helper."""

import numpy as np
import pytest
from helpers import assert_close, leaf

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor, nn, optim
from tinygrad_cnn.testing import check_op, ops_defined_in


# ---- saved arrays are protected ---------------------------------------------------------
def test_write_through_data_to_a_saved_array_is_refused():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    with pytest.raises(ValueError, match="read-only"):
        x.data[0] = 5.0
    y.backward()
    assert_close(x.grad.data, [2.0, 4.0])


def test_write_through_a_view_is_refused():
    x = leaf(np.ones((2, 3)))
    y = (x.exp() * 2.0).sum()  # exp saves its output
    intermediate = y._ctx.parents[0]._ctx.parents[0]
    with pytest.raises(ValueError, match="read-only"):
        intermediate.data.reshape(-1)[:2] += 1.0
    y.backward()
    z = (x * x).sum()  # mul saves x itself
    with pytest.raises(ValueError, match="read-only"):
        x.data.T[1:, 0] = 3.0
    z.backward()


def test_arrays_are_writable_again_after_backward_or_when_the_graph_is_dropped():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    x.data[0] = 3.0
    y = (x * x).sum()
    del y  # never backpropagated
    x.data[1] = 4.0
    assert_close(x.data, [3.0, 4.0])


def test_retained_graph_keeps_the_lock():
    x = leaf([1.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    with pytest.raises(ValueError, match="read-only"):
        x.data[0] = 2.0
    y.backward()
    x.data[0] = 2.0


def test_user_array_is_copied_so_later_writes_cannot_reach_the_graph():
    array = np.array([1.0, 2.0])
    x = Tensor(array, requires_grad=True, dtype=np.float64)
    y = (x * x).sum()
    array[:] = 100.0  # the caller's array stays writable and is not the tensor's data
    y.backward()
    assert_close(x.grad.data, [2.0, 4.0])


def test_optimizer_step_between_forward_and_backward_leaves_the_graph_intact():
    w = Tensor([1.0, 2.0], requires_grad=True, dtype=np.float64)
    opt = optim.SGD([w], lr=0.5)
    first = (w * w).sum()
    first.backward(retain_graph=True)
    opt.step()  # new array for w; the graph keeps the old values
    w.grad = None
    first.backward()
    assert_close(w.grad.data, [2.0, 4.0])
    assert_close(w.data, [0.0, 0.0])


# ---- hooks --------------------------------------------------------------------------------
def test_tensor_hook_sees_and_replaces_the_gradient():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    seen = []
    h.register_hook(lambda g: seen.append(g.data.copy()))
    handle = h.register_hook(lambda g: g * 10.0)
    h.sum().backward()
    assert_close(seen[0], [1.0, 1.0])
    assert_close(x.grad.data, [30.0, 30.0])
    handle.remove()
    x.grad = None
    (x * 3.0).sum().backward()
    assert_close(x.grad.data, [3.0, 3.0])


def test_leaf_hook_sees_the_summed_gradient_once():
    x = leaf([1.0])
    calls = []
    x.register_hook(lambda g: calls.append(float(g.data[0])))
    (x * 2.0 + x * 3.0).sum().backward()
    assert calls == [5.0]


def test_hook_returning_a_wrong_shape_is_an_error():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: np.ones(3))
    with pytest.raises(ValueError, match=r"returned a gradient of shape \(3,\), expected \(2,\)"):
        (x * 2.0).sum().backward()


def test_module_forward_hook():
    layer = nn.Linear(2, 2)
    shapes = []
    handle = layer.register_forward_hook(lambda module, inputs, output: shapes.append(output.shape))
    layer(Tensor(np.ones((3, 2))))
    replaced = nn.Linear(2, 2)
    replaced.register_forward_hook(lambda module, inputs, output: output * 0.0)
    assert np.all(replaced(Tensor(np.ones((1, 2)))).data == 0)
    handle.remove()
    layer(Tensor(np.ones((3, 2))))
    assert shapes == [(3, 2)]
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]


# ---- second derivatives -----------------------------------------------------------------------
def first_gradient(f, x):
    t = leaf(x)
    f(t).backward()
    return t.grad.data


def assert_hessian_vector_matches(f, x, eps=1e-5):
    """H v from create_graph against central differences of the first gradient."""
    v = np.random.default_rng(1).standard_normal(np.shape(x))
    numerical = (first_gradient(f, x + eps * v) - first_gradient(f, x - eps * v)) / (2 * eps)
    t = leaf(x)
    (g,) = tc.grad(f(t), [t], create_graph=True)
    (hv,) = tc.grad((g * v).sum(), [t])
    assert_close(hv.data, numerical, atol=1e-6, rtol=1e-5)


def test_second_derivative_of_cube_through_dot_grad():
    x = leaf([0.5, -1.0, 2.0])
    (x**3).sum().backward(create_graph=True)
    first = x.grad
    assert isinstance(first, Tensor) and first.requires_grad
    assert_close(first.data, 3 * x.data**2)
    x.grad = None
    first.sum().backward()
    assert_close(x.grad.data, 6 * x.data)


@pytest.mark.parametrize(
    "name,f",
    [
        ("cube", lambda x: (x**3).sum()),
        ("sigmoid", lambda x: x.sigmoid().sum()),
        ("exp_log_div", lambda x: ((x * x + 1.0).log() / (x.exp() + 2.0)).mean()),
    ],
)
def test_hessian_vector_products(name, f):
    assert_hessian_vector_matches(f, np.array([0.3, -1.2, 0.8, 2.0]))


def test_hessian_vector_product_of_a_small_mlp():
    rng = np.random.default_rng(0)
    inputs = Tensor(rng.standard_normal((5, 3)), dtype=np.float64)
    w2 = Tensor(rng.standard_normal((4, 2)), dtype=np.float64)

    def loss(w1):
        hidden = (inputs @ w1.reshape(3, 4)).tanh()
        out = (hidden @ w2).sigmoid()
        return ((out - 0.5) ** 2).mean() + (hidden.T @ hidden).sum() * 0.01

    assert_hessian_vector_matches(loss, rng.standard_normal(12))


def test_create_graph_through_a_custom_op_without_a_graph_rule_names_it():
    x = leaf([1.0, 2.0])  # _Sine (below) is a user's op that opts out of second derivatives
    y = _Sine.apply(x).sum()
    with pytest.raises(
        RuntimeError,
        match=rf"op '{_Sine.name}' has no graph_backward.*ops that can: abs, add, .*, window_mean",
    ):
        y.backward(create_graph=True)
    _Sine.apply(x).sum().backward()  # the first derivative still works
    assert_close(x.grad.data, np.cos([1.0, 2.0]))


def test_grad_returns_without_touching_dot_grad():
    x, y = leaf([1.0, 2.0]), leaf([3.0])
    gx, gy = tc.grad((x * y).sum(), [x, y])
    assert x.grad is None and y.grad is None
    assert_close(gx.data, [3.0, 3.0])
    assert_close(gy.data, [3.0])
    unused = leaf([1.0])
    assert tc.grad((x * 2.0).sum(), [x, unused])[1] is None


# ---- the op test helper ---------------------------------------------------------------------
class _Sine(tc.Function, register=False):
    """sin(a), with an example for check_op."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.sin(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return np.cos(a) * grad

    @staticmethod
    def example(rng):
        return (leaf(rng.standard_normal(4)),), {}


def test_check_op_uses_the_example():
    assert check_op(_Sine)


def test_check_op_without_example_says_so():
    class Bare(tc.Function, register=False):
        name = "bare"

    with pytest.raises(AssertionError, match=r"op 'bare' .* defines no example\(rng\)"):
        check_op(Bare)


def test_ops_defined_in_finds_a_package_ops():
    names = [op.name for op in ops_defined_in("tinygrad_cnn.ops.window")]
    assert names == ["im2col", "col2im", "window_max", "window_mean"]
