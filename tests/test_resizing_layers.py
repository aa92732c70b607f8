"""The layers of U-Nets, GANs and ResNets: transposed convolution, interpolation, adaptive
pooling, the pooling options (ceil_mode, dilation, count_include_pad, divisor_override) and
Conv2d's padding modes. Each is checked against torch in values and gradients (float64), by
central differences, and to second order."""

import numpy as np
import pytest
from helpers import assert_close, assert_matches_torch, leaf, needs_torch, torch

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, nn

rng = np.random.default_rng(0)


def op_names(t):
    """The names of the ops recorded on the way to ``t``."""
    seen, stack = [], [t]
    while stack:
        node = stack.pop()._ctx
        if node is not None:
            seen.append(node.name)
            stack.extend(node.parents)
    return seen


IMAGE = rng.standard_normal((2, 3, 7, 9))

CONV_TRANSPOSE = [  # (in, out, kernel, arguments), input (2, in, 5, 4)
    (3, 4, 3, {}),
    (3, 4, 4, dict(stride=2, padding=1)),  # the U-Net / DCGAN doubling
    (3, 4, 3, dict(stride=2, padding=1, output_padding=1)),
    (4, 6, 3, dict(stride=2, groups=2, dilation=2)),
    (3, 2, (2, 3), dict(stride=(2, 1), padding=(0, 1), output_padding=(1, 0))),
    (3, 2, 4, dict(stride=3, output_padding=2)),  # output_padding beyond the end padding
    (3, 2, 4, dict(stride=3, padding=1, output_padding=2)),
    (3, 2, 3, dict(dilation=2, output_padding=1)),  # output_padding >= stride, < dilation
    (4, 2, 2, dict(stride=2, padding=1, dilation=3, output_padding=2, groups=2)),
]
POOLS = [  # (function, arguments) on IMAGE
    ("max_pool2d", dict(kernel_size=3, stride=2, ceil_mode=True)),
    ("max_pool2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("max_pool2d", dict(kernel_size=2, dilation=2)),
    ("max_pool2d", dict(kernel_size=3, stride=2, padding=1, dilation=(2, 1), ceil_mode=True)),
    # the extra window would start past the input
    (
        "max_pool2d",
        dict(kernel_size=2, stride=3, ceil_mode=True),
    ),
    ("avg_pool2d", dict(kernel_size=3, stride=2, ceil_mode=True)),
    ("avg_pool2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool2d", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    (
        "avg_pool2d",
        dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    ),
    ("avg_pool2d", dict(kernel_size=2, divisor_override=3)),
    # larger than the 7 rows: ceil_mode fits one
    (
        "max_pool2d",
        dict(kernel_size=8, stride=2, ceil_mode=True),
    ),
    ("avg_pool2d", dict(kernel_size=(8, 2), stride=3, padding=1, ceil_mode=True)),
]
ADAPTIVE_SIZES = [1, 4, (1, 1), (3, 4), (7, 9), (5, 2), (None, 3), (10, 12)]
INTERPOLATIONS = [
    dict(size=(14, 5)),
    dict(scale_factor=2),
    dict(scale_factor=1.7),
    dict(scale_factor=(0.5, 2)),
    dict(size=(10, 4), mode="nearest-exact"),
    dict(size=(14, 20), mode="bilinear"),
    dict(size=(14, 20), mode="bilinear", align_corners=True),
    dict(scale_factor=2.5, mode="bilinear"),
    dict(size=(3, 4), mode="bilinear"),
    dict(size=(1, 1), mode="bilinear"),
    dict(size=(1, 1), mode="bilinear", align_corners=True),
    dict(scale_factor=(0.5, 1.5), mode="bilinear"),
    # sizes that stay (7 * 1.1 -> 7) or double (9 * 2.1 -> 18): PyTorch copies, or reads i // 2
    dict(scale_factor=1.1),
    dict(scale_factor=1.1, mode="bilinear"),
    dict(scale_factor=(1, 2.1)),
    dict(scale_factor=(1.3, 0.7)),
    dict(scale_factor=(1.3, 0.7), mode="bilinear"),
]


def conv_transpose_inputs(c, m, kernel, arguments):
    kernel = (kernel, kernel) if isinstance(kernel, int) else kernel
    weight = leaf(rng.standard_normal((c, m // arguments.get("groups", 1), *kernel)))
    return leaf(rng.standard_normal((2, c, 5, 4))), weight, leaf(rng.standard_normal(m))


# ---- against torch -------------------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("c, m, kernel, arguments", CONV_TRANSPOSE)
def test_conv_transpose2d_matches_torch(c, m, kernel, arguments):
    assert_matches_torch(
        lambda *t: F.conv_transpose2d(*t, **arguments),
        lambda *t: torch.nn.functional.conv_transpose2d(*t, **arguments),
        *conv_transpose_inputs(c, m, kernel, arguments),
    )


@needs_torch
def test_conv_transpose2d_grows_a_1x1_code_into_an_image_as_dcgan_does():
    z, weight = leaf(rng.standard_normal((3, 8, 1, 1))), leaf(rng.standard_normal((8, 4, 4, 4)))
    assert_matches_torch(F.conv_transpose2d, torch.nn.functional.conv_transpose2d, z, weight)


@needs_torch
@pytest.mark.parametrize("function, arguments", POOLS)
def test_pool_options_match_torch(function, arguments):
    assert_matches_torch(
        lambda x: getattr(F, function)(x, **arguments),
        lambda x: getattr(torch.nn.functional, function)(x, **arguments),
        leaf(IMAGE),
    )


@needs_torch
@pytest.mark.parametrize("kind", ["avg", "max"])
@pytest.mark.parametrize("size", ADAPTIVE_SIZES)
def test_adaptive_pools_match_torch(kind, size):
    name = f"adaptive_{kind}_pool2d"
    assert_matches_torch(
        lambda x: getattr(F, name)(x, size),
        lambda x: getattr(torch.nn.functional, name)(x, size),
        leaf(IMAGE),
    )


@needs_torch
def test_adaptive_max_pool_sends_a_tied_bins_gradient_to_its_first_maximum_as_torch():
    x = np.zeros((1, 1, 5, 5))  # all ties, as after a ReLU
    assert_matches_torch(
        lambda t: F.adaptive_max_pool2d(t, 3),
        lambda t: torch.nn.functional.adaptive_max_pool2d(t, 3),
        leaf(x),
    )


@needs_torch
@pytest.mark.parametrize("arguments", INTERPOLATIONS, ids=str)
def test_interpolate_matches_torch(arguments):
    assert_matches_torch(
        lambda x: F.interpolate(x, **arguments),
        lambda x: torch.nn.functional.interpolate(x, **arguments),
        leaf(IMAGE),
    )


@needs_torch
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, (2, 1), "same"])
def test_conv2d_padding_modes_match_torch(mode, padding):
    ours = nn.Conv2d(3, 4, (3, 4), padding=padding, padding_mode=mode).double()
    theirs = torch.nn.Conv2d(3, 4, (3, 4), padding=padding, padding_mode=mode).double()
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    x = leaf(IMAGE)
    assert_matches_torch(ours, theirs, x)
    assert_close(ours.weight.grad.data, theirs.weight.grad.numpy())


@needs_torch
@pytest.mark.parametrize(
    "make",
    [
        lambda nn: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
        lambda nn: nn.ConvTranspose2d(4, 3, 4, bias=False),
        lambda nn: nn.Conv2d(4, 3, 3, padding_mode="reflect", padding=1),
        lambda nn: nn.MaxPool2d(3, 2, 1, dilation=2, ceil_mode=True),
        lambda nn: nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
        lambda nn: nn.AdaptiveAvgPool2d((2, 3)),
        lambda nn: nn.AdaptiveMaxPool2d(3),
        lambda nn: nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True),
        lambda nn: nn.Upsample(size=(5, 7)),
    ],
)
def test_modules_match_torch_in_outputs_gradients_state_dict_keys_and_repr(make):
    ours, theirs = make(nn), make(torch.nn).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.double().state_dict().items()})
    x = leaf(rng.standard_normal((2, 4, 6, 5)))
    assert_matches_torch(ours, theirs, x)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert_close(p.grad.data, q.grad.numpy())
    ours_repr, torch_repr = repr(ours), repr(theirs)
    assert ours_repr.split("(")[0] == torch_repr.split("(")[0]


@needs_torch
def test_conv_transpose2d_default_init_follows_torch_bounds():
    layer = nn.ConvTranspose2d(8, 6, 3, groups=2)  # fan_in = out/groups * K = 3 * 9
    assert (
        layer.weight.shape
        == tuple(torch.nn.ConvTranspose2d(8, 6, 3, groups=2).weight.shape)
        == (8, 3, 3, 3)
    )
    bound = 1 / np.sqrt(27)
    for p in (layer.weight, layer.bias):
        assert (
            p.dtype == np.float32
            and np.abs(p.data).max() <= bound
            and np.abs(p.data).max() > 0.8 * bound
        )


# ---- by central differences, first and second order ----------------------------------------------
@pytest.mark.parametrize("c, m, kernel, arguments", CONV_TRANSPOSE[:4])
def test_conv_transpose2d_gradchecks_to_second_order(c, m, kernel, arguments):
    inputs = conv_transpose_inputs(c, m, kernel, arguments)
    fn = lambda *t: F.conv_transpose2d(*t, **arguments)  # noqa: E731
    assert tc.gradcheck(fn, *inputs)
    assert tc.gradgradcheck(fn, *inputs)


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: F.max_pool2d(x, 3, 2, 1, dilation=(1, 2), ceil_mode=True),
        lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
        lambda x: F.adaptive_avg_pool2d(x, (3, 4)),
        lambda x: F.adaptive_max_pool2d(x, (3, 4)),
        lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear"),
        lambda x: F.interpolate(x, size=(4, 11), mode="bilinear", align_corners=True),
        lambda x: F.interpolate(x, size=(9, 5)),
    ],
    ids=[
        "max_pool2d",
        "avg_pool2d",
        "adaptive_avg",
        "adaptive_max",
        "bilinear",
        "bilinear_corners",
        "nearest",
    ],
)
def test_resizing_functions_gradcheck_to_second_order(fn):
    # distinct values: no ties in a max
    x = leaf(rng.permutation(2 * 3 * 7 * 9).reshape(2, 3, 7, 9) / 10)
    assert tc.gradcheck(fn, x)
    assert tc.gradgradcheck(fn, x)


# ---- composition and dtypes ----------------------------------------------------------------------
def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    """<conv2d(x, W), y> = <x, conv_transpose2d(y, W)>: the same weight, read the other way."""
    x, weight = rng.standard_normal((2, 3, 8, 8)), rng.standard_normal((5, 3, 4, 4))
    y = rng.standard_normal(F.conv2d(x, weight, stride=2, padding=1).shape)
    left = np.sum(
        F.conv2d(
            Tensor(x, dtype=np.float64), Tensor(weight, dtype=np.float64), stride=2, padding=1
        ).data
        * y
    )
    back = F.conv_transpose2d(
        Tensor(y, dtype=np.float64), Tensor(weight, dtype=np.float64), stride=2, padding=1
    )
    assert back.shape == x.shape
    assert np.isclose(left, np.sum(x * back.data), rtol=1e-12)


def test_new_layers_are_composed_of_registered_ops_and_keep_float32():
    x = Tensor(rng.standard_normal((2, 4, 6, 6)).astype(np.float32), requires_grad=True)
    y = nn.Upsample(scale_factor=2, mode="bilinear")(
        nn.ConvTranspose2d(4, 2, 4, stride=2, padding=1)(x)
    )
    z = nn.AdaptiveMaxPool2d(3)(nn.AdaptiveAvgPool2d(5)(y))
    # no op of their own, all registered
    assert set(op_names(z)) == {
        "matmul",
        "col2im",
        "bias_add",
        "getitem",
        "window_max",
        "reshape",
        "transpose",
        "mul",
        "add",
        "where",
        "sum",
        "div",
    }
    assert (
        y.dtype == z.dtype == np.float32 and y.shape == (2, 2, 24, 24) and z.shape == (2, 2, 3, 3)
    )
    z.sum().backward()
    assert x.grad.dtype == np.float32


def test_integer_images_are_resized_and_pooled_as_float32():
    image = Tensor(np.arange(16).reshape(1, 1, 4, 4))
    assert F.interpolate(image, scale_factor=2).dtype == np.float32
    assert F.adaptive_avg_pool2d(image, 2).data.ravel().tolist() == [2.5, 4.5, 10.5, 12.5]


@needs_torch
@pytest.mark.parametrize(
    "fn",
    [
        lambda F, x: F.adaptive_avg_pool2d(x, (3, 2)),
        lambda F, x: F.adaptive_max_pool2d(x, 3),
        lambda F, x: F.interpolate(x, scale_factor=2),
        lambda F, x: F.interpolate(x, size=(9, 6), mode="bilinear"),
    ],
)
def test_an_inf_or_nan_pixel_stays_where_torch_keeps_it(fn):
    x = np.zeros((1, 2, 5, 4))
    x[0, 0, 0, 0], x[0, 1, 4, 3] = np.inf, np.nan
    ours, theirs = (
        fn(F, Tensor(x, dtype=np.float64)).data,
        fn(torch.nn.functional, torch.tensor(x)).numpy(),
    )
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize(
    "call, shape",
    [
        (lambda x: F.adaptive_max_pool2d(x, 3), (0, 4, 3, 3)),
        (lambda x: F.adaptive_avg_pool2d(x, 3), (0, 4, 3, 3)),
        (lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"), (0, 4, 10, 12)),
        (lambda x: F.conv_transpose2d(x, np.ones((4, 3, 3, 3)), groups=2), (0, 6, 7, 8)),
        (lambda x: F.conv2d(x, np.ones((6, 2, 3, 3)), groups=2), (0, 6, 3, 4)),
    ],
)
def test_an_empty_batch_gives_an_empty_result(call, shape):
    assert call(Tensor(np.zeros((0, 4, 5, 6), np.float32))).shape == shape


@needs_torch
def test_conv_transpose2d_output_size_picks_the_output_padding_as_torch():
    ours, theirs = (
        nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1).double(),
        torch.nn.ConvTranspose2d(4, 2, 3, 2, 1),
    )
    theirs.double().load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    x = leaf(rng.standard_normal((1, 4, 5, 5)))
    for size in [(9, 10), (1, 2, 10, 9)]:
        assert_matches_torch(
            lambda t, size=size: ours(t, output_size=size),
            lambda t, size=size: theirs(t, output_size=size),
            x,
        )
    with pytest.raises(
        ValueError, match=r"ConvTranspose2d: output_size \(11, 9\) is out of reach .* \[9, 11\)"
    ):
        ours(x, output_size=(11, 9))


def test_layer_attributes_are_kept_as_pytorch_keeps_them():
    assert nn.MaxPool2d(3).stride == 3 and nn.AvgPool2d(2, 1).stride == 1
    conv = nn.Conv2d(1, 2, 3, stride=2, padding=1)
    assert conv.stride == (2, 2) and conv.padding == (1, 1) and conv.dilation == (1, 1)
    assert nn.Conv2d(1, 2, 3, padding="same").padding == "same"
    assert nn.ConvTranspose2d(1, 2, 3, output_padding=0).output_padding == (0, 0)
    assert nn.Upsample(scale_factor=2).scale_factor == 2.0 and isinstance(
        nn.Upsample(scale_factor=2).scale_factor, float
    )
    assert not isinstance(nn.AdaptiveMaxPool2d(2), nn.AdaptiveAvgPool2d)


# ---- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: F.conv_transpose2d(np.ones((1, 3, 4, 4)), np.ones((4, 2, 3, 3))),
            r"conv_transpose2d: input of shape \(1, 3, 4, 4\) must be \(B, C, H, W\) with C = 4",
        ),
        (
            lambda: F.conv_transpose2d(
                np.ones((1, 4, 4, 4)), np.ones((4, 2, 3, 3)), stride=2, output_padding=2
            ),
            r"conv_transpose2d: output_padding must be >= 0 and smaller than the stride \(2\) "
            r"or the dilation \(1\)",
        ),
        (
            lambda: F.conv_transpose2d(np.ones((1, 4, 1, 1)), np.ones((4, 2, 3, 3)), padding=2),
            r"conv_transpose2d: padding 2 leaves no output for input size 1, kernel 3",
        ),
        (
            lambda: F.conv_transpose2d(np.ones((1, 4, 2, 2)), np.ones((4, 2, 3, 3)), np.ones(3)),
            r"conv_transpose2d: bias must have shape \(2,\), got \(3,\)",
        ),
        (
            lambda: F.interpolate(np.ones((1, 1, 4, 4)), size=3, scale_factor=2),
            "give exactly one of size and scale_factor",
        ),
        (
            lambda: F.interpolate(np.ones((1, 1, 4, 4)), size=3, align_corners=True),
            "align_corners can only be set",
        ),
        (
            lambda: F.interpolate(np.ones((1, 1, 4, 4)), size=3, mode="bicubic"),
            "mode must be one of",
        ),
        (
            lambda: F.interpolate(np.ones((1, 4, 4)), size=3),
            r"input must have shape \(B, C, H, W\) with H, W >= 1, got \(1, 4, 4\)",
        ),
        (
            lambda: F.interpolate(np.ones((1, 1, 4, 4)), scale_factor=0.1),
            "leaves no output for input size",
        ),
        (
            lambda: F.adaptive_avg_pool2d(np.ones((1, 1, 4, 4)), (0, 2)),
            "output_size must be a positive int",
        ),
        (
            lambda: F.avg_pool2d(np.ones((1, 1, 4, 4)), 2, divisor_override=0),
            "divisor_override must be a positive int",
        ),
        (
            lambda: F.max_pool2d(np.ones((1, 1, 4, 4)), 2, padding=2),
            "padding .* must be at most half the kernel size",
        ),
        (
            lambda: nn.Conv2d(1, 1, 3, padding_mode="mirror"),
            "Conv2d: padding_mode must be one of zeros, reflect",
        ),
        (lambda: nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect"), "only padding_mode='zeros'"),
        (
            lambda: nn.ConvTranspose2d(4, 3, 3, groups=2),
            "groups=2 must divide in_channels=4 and out_channels=3",
        ),
        (
            lambda: F.conv_transpose2d(
                np.ones((1, 4, 4, 4)), np.ones((4, 2, 3, 3)), stride=2, dilation=2, output_padding=2
            ),
            r"output_padding must be >= 0 and smaller than the stride \(2\) "
            r"or the dilation \(2\), got 2",
        ),
        (
            lambda: F.adaptive_avg_pool2d(np.ones((1, 1, 0, 4)), 2),
            r"adaptive_avg_pool2d: input \(1, 1, 0, 4\) has no pixels",
        ),
        (
            lambda: F.adaptive_max_pool2d(np.ones((1, 1, 4, 0)), 2),
            r"adaptive_max_pool2d: input \(1, 1, 4, 0\) has no pixels",
        ),
        (
            lambda: F.interpolate(np.ones((1, 1, 0, 4)), size=3),
            r"interpolate: input must have shape \(B, C, H, W\) with H, W",
        ),
        (
            lambda: F.interpolate(np.ones((1, 1, 4, 4)), scale_factor=np.inf),
            "scale_factor must be a positive number",
        ),
        (
            lambda: F.max_pool2d(np.ones((1, 1, 3, 3)), 4, 2),
            r"max_pool2d: kernel \(4, 4\) is larger than the padded input: input \(1, 1, 3, 3\)",
        ),
        (
            lambda: F.avg_pool2d(np.ones((1, 1, 4, 4)), 4, 1, "same"),
            "avg_pool2d: padding must be an int or a pair",
        ),
        (
            lambda: F.avg_pool2d(np.ones((1, 1, 4, 4)), 2, 2, ((0, 1), (0, 1))),
            "avg_pool2d: padding must be an int or a pair",
        ),
        (
            lambda: F.avg_pool2d(np.ones((1, 1, 4, 4)), 2, divisor_override=True),
            "divisor_override must be a positive int",
        ),
    ],
)
def test_bad_arguments_name_the_function_and_the_shapes(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()
