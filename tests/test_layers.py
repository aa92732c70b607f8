"""Dropout, batch normalisation, global average pooling, dilated and grouped convolution."""

import numpy as np
import pytest
from helpers import assert_close, assert_matches_torch, leaf, needs_torch, torch

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, nn


# ---- dropout -------------------------------------------------------------------------------------
def test_dropout_scales_kept_elements_and_is_off_in_eval():
    layer = nn.Dropout(0.25)
    x = Tensor(np.ones((200, 50)), requires_grad=True)
    y = layer(x)
    kept = y.data != 0
    assert 0.7 < kept.mean() < 0.8 and np.allclose(y.data[kept], 1 / 0.75)
    y.sum().backward()
    assert_close(x.grad.data, kept / 0.75)  # the gradient goes through the same mask
    assert layer.eval()(x) is x


def test_dropout_is_reproducible_with_manual_seed():
    tc.manual_seed(4)
    a = F.dropout(Tensor(np.ones(20)), 0.5).data
    tc.manual_seed(4)
    assert np.array_equal(a, F.dropout(Tensor(np.ones(20)), 0.5).data)


def test_dropout_edges():
    x = Tensor(np.ones(5))
    assert np.all(F.dropout(x, 1.0).data == 0) and F.dropout(x, 0.0) is x
    with pytest.raises(ValueError, match=r"dropout: p must lie in \[0, 1\], got 1.5"):
        F.dropout(x, 1.5)


# ---- batch normalisation -------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (3, 3, 4, 5)])
def test_batch_norm_gradcheck(shape):
    rng = np.random.default_rng(0)
    x, w, b = (
        leaf(rng.standard_normal(shape) * 2 + 1),
        leaf(rng.uniform(0.5, 2, 3)),
        leaf(rng.standard_normal(3)),
    )
    assert tc.gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), x, w, b)


@needs_torch
@pytest.mark.parametrize(
    "cls,shape",
    [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)), ("BatchNorm2d", (4, 3, 5, 5))],
)
def test_batch_norm_matches_torch_in_train_and_eval(cls, shape):
    ours, theirs = (
        getattr(nn, cls)(3, momentum=0.2),
        getattr(torch.nn, cls)(3, momentum=0.2).double(),
    )
    rng = np.random.default_rng(1)
    ours.weight.data, ours.bias.data = (
        rng.uniform(0.5, 2, 3).astype(np.float32),
        rng.standard_normal(3).astype(np.float32),
    )
    theirs.load_state_dict(
        {
            k: torch.tensor(v).double() if v.dtype.kind == "f" else torch.tensor(v)
            for k, v in ours.state_dict().items()
        }
    )
    for mode in ("train", "train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        x = rng.standard_normal(shape) * 3 + 1
        ours_x, theirs_x = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, expected = ours(ours_x), theirs(theirs_x)
        assert_close(out.data, expected.detach().numpy(), atol=1e-5, rtol=1e-4)
        grad = rng.standard_normal(shape)
        out.backward(grad.astype(np.float32))
        expected.backward(torch.tensor(grad))
        assert_close(ours_x.grad.data, theirs_x.grad.numpy(), atol=1e-4, rtol=1e-3)
    for key, value in theirs.state_dict().items():
        assert_close(ours.state_dict()[key], value.numpy(), atol=1e-5, rtol=1e-5)


def test_batch_norm_state_dict_has_pytorch_names_and_no_buffer_is_learned():
    layer = nn.BatchNorm2d(4)
    assert list(layer.state_dict()) == [
        "weight",
        "bias",
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    layer(Tensor(np.random.default_rng(0).standard_normal((2, 4, 3, 3))))
    assert layer.num_batches_tracked.item() == 1 and not np.allclose(layer.running_mean.data, 0)


def test_batch_norm_errors():
    with pytest.raises(
        ValueError,
        match=r"BatchNorm2d: expected a 4-D input with 3 channels on axis 1, "
        r"got shape \(2, 4, 5, 5\)",
    ):
        nn.BatchNorm2d(3)(Tensor(np.ones((2, 4, 5, 5))))
    with pytest.raises(ValueError, match="expected more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(Tensor(np.ones((1, 3))))


def test_global_avg_pool():
    x = leaf(np.random.default_rng(0).standard_normal((2, 3, 4, 5)))
    assert_close(nn.GlobalAvgPool2d()(x).data, x.data.mean(axis=(2, 3)))
    assert tc.gradcheck(F.global_avg_pool2d, x)


# ---- dilated and grouped convolution -------------------------------------------------------------
CONVS = [  # (in, out, kernel, stride, padding, dilation, groups)
    (4, 6, 3, 1, 2, 2, 1),
    (4, 6, (3, 2), (2, 1), 1, (1, 3), 2),
    (6, 6, 3, 1, 1, 1, 6),  # depthwise
    (6, 3, 3, 1, "same", 2, 3),  # dilated "same" padding
    (2, 4, 2, 3, 0, 2, 2),
]


@pytest.mark.parametrize("c,m,k,s,p,d,g", CONVS)
def test_dilated_grouped_conv_gradcheck(c, m, k, s, p, d, g):
    rng = np.random.default_rng(0)
    kh, kw = (k, k) if isinstance(k, int) else k
    x, w, b = (
        leaf(rng.standard_normal((2, c, 7, 8))),
        leaf(rng.standard_normal((m, c // g, kh, kw))),
        leaf(rng.standard_normal(m)),
    )
    assert tc.gradcheck(lambda x, w, b: F.conv2d(x, w, b, s, p, d, g), x, w, b)


@needs_torch
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("c,m,k,s,p,d,g", CONVS)
def test_dilated_grouped_conv_matches_torch(c, m, k, s, p, d, g):
    rng = np.random.default_rng(1)
    kh, kw = (k, k) if isinstance(k, int) else k
    x, w, b = (
        leaf(rng.standard_normal((2, c, 9, 8))),
        leaf(rng.standard_normal((m, c // g, kh, kw))),
        leaf(rng.standard_normal(m)),
    )
    assert_matches_torch(
        lambda x, w, b: F.conv2d(x, w, b, s, p, d, g),
        lambda x, w, b: torch.nn.functional.conv2d(
            x, w, b, stride=s, padding=p, dilation=d, groups=g
        ),
        x,
        w,
        b,
    )


def test_conv2d_module_with_groups_has_pytorch_shapes():
    layer = nn.Conv2d(6, 4, 3, padding=1, dilation=2, groups=2, bias=False)
    assert layer.weight.shape == (4, 3, 3, 3) and layer.bias is None
    assert repr(layer) == "Conv2d(6, 4, kernel_size=3, padding=1, dilation=2, groups=2, bias=False)"
    with pytest.raises(
        ValueError, match="Conv2d: groups=4 must divide in_channels=6 and out_channels=4"
    ):
        nn.Conv2d(6, 4, 3, groups=4)


def test_dilation_errors_name_the_span():
    with pytest.raises(
        ValueError,
        match=r"conv2d: kernel \(3, 3\) with dilation \(3, 3\) spans \(7, 7\) "
        r"is larger than the padded input",
    ):
        F.conv2d(Tensor(np.ones((1, 1, 5, 5))), Tensor(np.ones((1, 1, 3, 3))), dilation=3)
