"""Bad input gets a clear error naming the op, the argument and the shapes, before numpy fails."""

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, nn


def image(*shape):
    return Tensor(np.zeros(shape))


def test_matmul_inner_sizes():
    with pytest.raises(
        ValueError, match=r"matmul: inner sizes differ: a has shape \(2, 3\).*b has shape \(4, 5\)"
    ):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))


def test_matmul_batch_dimensions():
    with pytest.raises(
        ValueError,
        match=r"matmul: batch dimensions of \(2, 2, 3\) and \(3, 3, 4\) do not broadcast",
    ):
        Tensor(np.ones((2, 2, 3))) @ Tensor(np.ones((3, 3, 4)))


def test_conv_channel_mismatch():
    with pytest.raises(
        ValueError,
        match=r"conv2d: input of shape \(1, 3, 8, 8\).*C = 2.*weight shape \(4, 2, 3, 3\)",
    ):
        F.conv2d(image(1, 3, 8, 8), image(4, 2, 3, 3))


def test_conv_input_not_4d():
    with pytest.raises(
        ValueError, match=r"conv2d: input of shape \(3, 8, 8\) must be \(B, C, H, W\)"
    ):
        F.conv2d(image(3, 8, 8), image(4, 3, 3, 3))


def test_conv_kernel_larger_than_padded_input():
    with pytest.raises(
        ValueError,
        match=r"conv2d: kernel \(5, 5\) is larger than the padded input.*\(1, 1, 3, 3\)"
        r".*height 3 < 5",
    ):
        F.conv2d(image(1, 1, 3, 3), image(1, 1, 5, 5))


def test_pool_kernel_larger_than_input():
    with pytest.raises(
        ValueError, match=r"max_pool2d: kernel \(4, 4\) is larger than the padded input"
    ):
        F.max_pool2d(image(1, 1, 3, 3), 4)


@pytest.mark.parametrize("stride", [0, -1, (1, 0)])
def test_stride_must_be_positive(stride):
    with pytest.raises(ValueError, match=r"conv2d: stride must be >= 1, got"):
        F.conv2d(image(1, 1, 5, 5), image(1, 1, 3, 3), stride=stride)


def test_negative_padding():
    with pytest.raises(ValueError, match=r"max_pool2d: padding must be >= 0, got -1"):
        F.max_pool2d(image(1, 1, 5, 5), 2, padding=-1)


def test_pool_padding_at_most_half_the_kernel():
    with pytest.raises(
        ValueError,
        match=r"max_pool2d: padding \(2, 2\) must be at most half the kernel size \(2, 2\)",
    ):
        F.max_pool2d(image(1, 1, 5, 5), 2, padding=2)


def test_same_padding_needs_stride_one():
    with pytest.raises(
        ValueError, match=r"conv2d: padding='same' needs stride 1, got stride \(2, 2\)"
    ):
        F.conv2d(image(1, 1, 5, 5), image(1, 1, 3, 3), stride=2, padding="same")


def test_kernel_size_type():
    with pytest.raises(
        TypeError, match=r"im2col: kernel_size must be an int or a pair of ints, got 2.5"
    ):
        F.im2col(image(1, 1, 5, 5), 2.5)


def test_cross_entropy_targets_out_of_range():
    with pytest.raises(
        ValueError,
        match=r"cross_entropy: targets must lie in \[0, 3\) for input \(2, 3\), "
        r"got values from 0 to 3",
    ):
        F.cross_entropy(image(2, 3), np.array([0, 3]))


def test_cross_entropy_targets_wrong_length():
    with pytest.raises(
        ValueError,
        match=r"cross_entropy: targets must have shape \(2,\) to match input \(2, 3\), got \(3,\)",
    ):
        F.cross_entropy(image(2, 3), np.array([0, 1, 2]))


def test_cross_entropy_float_targets():
    with pytest.raises(
        TypeError, match=r"cross_entropy: targets must be integer class indices, got dtype float64"
    ):
        F.cross_entropy(image(2, 3), np.array([0.0, 1.0]))


@pytest.mark.parametrize(
    "data", [np.array(["a", "b"]), np.array([object(), None]), [[1.0, 2.0], [3.0]], "text"]
)
def test_non_numeric_data(data):
    with pytest.raises(TypeError, match=r"Tensor: "):
        Tensor(data)


def test_module_where_a_tensor_is_expected():
    with pytest.raises(
        TypeError, match=r"conv2d: input must be a Tensor or numpy array, got Linear"
    ):
        F.conv2d(nn.Linear(2, 2), image(1, 1, 3, 3))


def test_mse_loss_shapes():
    with pytest.raises(
        ValueError, match=r"mse_loss: input shape \(2, 3\) differs from target shape \(3,\)"
    ):
        F.mse_loss(image(2, 3), image(3))


def test_reshape_size():
    with pytest.raises(
        ValueError, match=r"reshape: cannot reshape \(2, 3\) \(6 elements\) into \(4,\)"
    ):
        image(2, 3).reshape(4)


def test_transpose_axes():
    with pytest.raises(
        ValueError, match=r"transpose: axes \(0, 0\) are not a permutation of the 2 axes"
    ):
        image(2, 3).transpose(0, 0)


def test_reduction_axis():
    with pytest.raises(
        ValueError, match=r"sum: axis 2 is out of range for a tensor of 2 dimension"
    ):
        image(2, 3).sum(axis=2)


def test_bias_add_shape():
    from tinygrad_cnn.ops.linalg import BiasAdd

    with pytest.raises(
        ValueError,
        match=r"bias_add: bias must have shape \(3,\) to match axis 1 of input shape \(2, 3\), "
        r"got \(2,\)",
    ):
        BiasAdd.apply(image(2, 3), image(2), axis=1)


def test_linear_shape():
    with pytest.raises(
        ValueError, match=r"linear: input of shape \(2, 3\) needs last size 4.*\(5, 4\)"
    ):
        nn.Linear(4, 5)(image(2, 3))


def test_pow_tensor_exponent():
    with pytest.raises(
        TypeError, match=r"pow: the exponent must be a Python or numpy scalar, got Tensor"
    ):
        image(2) ** image(2)


def test_getitem_out_of_range():
    with pytest.raises(IndexError, match=r"getitem: index 5 does not fit shape \(2, 3\)"):
        image(2, 3)[5]


def test_item_needs_one_element():
    with pytest.raises(ValueError, match=r"item: tensor has 6 elements \(shape \(2, 3\)\)"):
        image(2, 3).item()


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"lr": -0.1}, r"SGD: lr must be a number in \[0.0, inf\), got -0.1"),
        ({"lr": float("nan")}, r"SGD: lr must be a number"),
        ({"lr": 0.1, "momentum": -1}, r"SGD: momentum must be"),
        ({"lr": 0.1, "nesterov": True}, r"SGD: nesterov=True needs a momentum > 0"),
    ],
)
def test_sgd_hyper_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        tc.optim.SGD(nn.Linear(2, 2).parameters(), **kwargs)


def test_adam_betas():
    with pytest.raises(
        ValueError, match=r"Adam: betas\[1\] must be a number in \[0.0, 1.0\), got 1.0"
    ):
        tc.optim.Adam(nn.Linear(2, 2).parameters(), betas=(0.9, 1.0))


def test_optimizer_needs_parameters():
    with pytest.raises(ValueError, match=r"Adam: got an empty parameter list"):
        tc.optim.Adam([])
    with pytest.raises(TypeError, match=r"SGD: parameter 1 must be a Tensor, got ndarray"):
        tc.optim.SGD([Tensor([1.0]), np.ones(2)], lr=0.1)
    with pytest.raises(
        TypeError, match=r"SGD: parameter 0 \(2,\) has dtype int64; only floating tensors"
    ):
        tc.optim.SGD([Tensor(np.arange(2))], lr=0.1)


def test_layer_arguments():
    with pytest.raises(ValueError, match=r"Conv2d: in_channels must be a positive int, got 0"):
        nn.Conv2d(0, 4, 3)
    with pytest.raises(TypeError, match=r"Sequential: argument 1 must be a Module, got int"):
        nn.Sequential(nn.ReLU(), 3)
