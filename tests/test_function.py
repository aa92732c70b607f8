"""The public op mechanism: registering ops, and the engine's checks of their backward."""

import numpy as np
import pytest
from helpers import leaf

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor


def test_user_op_is_registered_and_gradchecks(clean_registry):
    class Cube(tc.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 3 * x * x * grad

    assert "cube" in tc.list_ops() and tc.registry["cube"] is Cube
    x = leaf([0.5, -1.0, 2.0])
    assert tc.gradcheck(Cube.apply, x)
    assert Cube.apply(x)._ctx.name == "cube"


def test_attributes_are_recorded(clean_registry):
    class Scale(tc.Function):
        @staticmethod
        def forward(ctx, x, factor, offset=0.0):
            ctx.factor = factor
            return x * factor + offset

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.factor

    y = Scale.apply(leaf([1.0]), 3.0, offset=1.0)
    assert y._ctx.attrs == {"arg1": 3.0, "offset": 1.0}
    assert tc.gradcheck(lambda x: Scale.apply(x, 3.0, offset=1.0), leaf([1.0, 2.0]))


def test_duplicate_name_is_refused_unless_overridden(clean_registry):
    with pytest.raises(
        ValueError, match=r"op 'mul' is already registered \(by Mul\); pass override=True"
    ):

        class Mul(tc.Function):
            pass

    class MyMul(tc.Function, override=True):
        name = "mul"

    assert tc.registry["mul"] is MyMul


def test_wrong_gradient_count_names_the_op(clean_registry):
    class Pair(tc.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(
        ValueError, match=r"op 'pair': backward returned 1 gradient\(s\) for 2 tensor input\(s\)"
    ):
        Pair.apply(leaf([1.0]), leaf([2.0])).sum().backward()


def test_wrong_gradient_shape_names_op_and_input(clean_registry):
    class Shrink(tc.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad):
            return grad, grad[:1]

    with pytest.raises(
        ValueError,
        match=r"op 'shrink': backward returned a gradient of shape \(1,\) for input 1, "
        r"expected \(3,\)",
    ):
        Shrink.apply(leaf([1.0, 2.0, 3.0]), leaf([1.0, 2.0, 3.0])).sum().backward()


def test_integer_gradient_is_refused(clean_registry):
    class Floor(tc.Function):
        @staticmethod
        def forward(ctx, a):
            return np.floor(a)

        @staticmethod
        def backward(ctx, grad):
            return np.zeros(grad.shape, dtype=np.int64)

    with pytest.raises(
        TypeError,
        match=r"op 'floor': backward returned a gradient of dtype int64 for input 0, "
        r"expected a floating dtype",
    ):
        Floor.apply(leaf([1.5])).sum().backward()


def test_needs_input_grad_skips_work(clean_registry):
    seen = []

    class Probe(tc.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad):
            seen.append(ctx.needs_input_grad)
            return grad, None

    Probe.apply(leaf([1.0]), Tensor([2.0], dtype=np.float64)).sum().backward()
    assert seen == [(True, False)]


def test_gradcheck_reports_the_worst_element(clean_registry):
    class Wrong(tc.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, grad):
            (a,) = ctx.saved_tensors
            wrong = 2 * a * grad
            wrong[1] += 5.0
            return wrong

    with pytest.raises(
        tc.GradcheckError,
        match=r"input 0 \(shape \(3,\)\) has a wrong gradient; worst element \(1,\)",
    ):
        tc.gradcheck(lambda a: Wrong.apply(a).sum(), leaf([1.0, 2.0, 3.0]))


def test_gradcheck_passes_non_tensor_inputs_and_warns_on_float32():
    targets = np.array([2, 0])
    assert tc.gradcheck(
        lambda x, t: tc.functional.cross_entropy(x, t), leaf(np.ones((2, 3)) * [[1, 2, 3]]), targets
    )
    with pytest.warns(UserWarning, match="not float64"):
        tc.gradcheck(lambda x: x * 2.0, Tensor([1.0], requires_grad=True), atol=1e-2, eps=1e-2)


def test_gradcheck_needs_a_checked_input():
    with pytest.raises(ValueError, match="no input is a Tensor with requires_grad=True"):
        tc.gradcheck(lambda x: x * 2.0, Tensor([1.0]))
