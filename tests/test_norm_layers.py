"""Layer, group and instance normalisation and Dropout2d: PyTorch cross-checks of values,
gradients, running statistics, state_dict keys and reprs; first and second gradchecks."""

import numpy as np
import pytest
from helpers import assert_close, assert_matches_torch, leaf, needs_torch, torch

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, nn


def _inputs(shape, affine_shape, seed=0):
    """x (float64, spread and offset so that normalising matters), weight and bias."""
    rng = np.random.default_rng(seed)
    return (
        leaf(rng.standard_normal(shape) * 3 + 2),
        leaf(rng.uniform(0.5, 2, affine_shape)),
        leaf(rng.standard_normal(affine_shape)),
    )


FUNCTIONS = {  # name: (ours, torch's, input shape, weight shape)
    "layer_norm_last": (
        lambda x, w, b: F.layer_norm(x, 5, w, b),
        lambda x, w, b: torch.nn.functional.layer_norm(x, [5], w, b),
        (4, 5),
        (5,),
    ),
    "layer_norm_two_axes": (
        lambda x, w, b: F.layer_norm(x, (3, 4), w, b, eps=1e-3),
        lambda x, w, b: torch.nn.functional.layer_norm(x, [3, 4], w, b, eps=1e-3),
        (2, 3, 4),
        (3, 4),
    ),
    "group_norm_image": (
        lambda x, w, b: F.group_norm(x, 3, w, b),
        lambda x, w, b: torch.nn.functional.group_norm(x, 3, w, b),
        (3, 6, 4, 5),
        (6,),
    ),
    "group_norm_flat": (
        lambda x, w, b: F.group_norm(x, 2, w, b, eps=1e-2),
        lambda x, w, b: torch.nn.functional.group_norm(x, 2, w, b, eps=1e-2),
        (4, 6),
        (6,),
    ),
    "group_norm_per_channel": (
        lambda x, w, b: F.group_norm(x, 4, w, b),
        lambda x, w, b: torch.nn.functional.group_norm(x, 4, w, b),
        (2, 4, 7),
        (4,),
    ),
    "instance_norm_image": (
        lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
        lambda x, w, b: torch.nn.functional.instance_norm(x, weight=w, bias=b),
        (3, 4, 5, 6),
        (4,),
    ),
    "instance_norm_sequence": (
        lambda x, w, b: F.instance_norm(x, None, None, w, b, eps=1e-3),
        lambda x, w, b: torch.nn.functional.instance_norm(x, None, None, w, b, eps=1e-3),
        (2, 3, 7),
        (3,),
    ),
}


@needs_torch
@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_functional_norms_match_torch(name):
    ours, theirs, shape, affine = FUNCTIONS[name]
    assert_matches_torch(ours, theirs, *_inputs(shape, affine))


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_functional_norms_gradcheck(name):
    ours, _, shape, affine = FUNCTIONS[name]
    assert tc.gradcheck(ours, *_inputs(shape, affine, seed=1))


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_functional_norms_differentiate_twice(name):
    ours, _, shape, affine = FUNCTIONS[name]
    assert tc.gradgradcheck(ours, *_inputs(shape, affine, seed=2))


def test_norms_without_affine_are_standardised():
    x = _inputs((3, 4, 5), (4,))[0]
    for out, axes in (
        (F.layer_norm(x, (4, 5)), (1, 2)),
        (F.instance_norm(x), (2,)),
        (F.group_norm(x, 2).reshape(3, 2, 10), (2,)),
    ):
        assert_close(out.data.mean(axis=axes), 0, atol=1e-12)
        assert_close(out.data.var(axis=axes), 1, atol=1e-4)  # the biased variance, eps aside


def test_dropout2d_gradchecks_with_a_fixed_mask():
    x = _inputs((2, 5, 3, 3), (5,))[0]

    def dropped(x):
        tc.manual_seed(3)  # the same channels each call
        return F.dropout2d(x, 0.4)

    assert tc.gradcheck(dropped, x) and tc.gradgradcheck(dropped, x)


# ---- modules -------------------------------------------------------------------------------------
MODULES = {  # name: (ours, torch's, input shape)
    "LayerNorm": (
        lambda: nn.LayerNorm((3, 4), eps=1e-4),
        lambda: torch.nn.LayerNorm((3, 4), eps=1e-4),
        (5, 2, 3, 4),
    ),
    "LayerNorm_no_bias": (
        lambda: nn.LayerNorm(4, bias=False),
        lambda: torch.nn.LayerNorm(4, bias=False),
        (5, 4),
    ),
    "GroupNorm": (lambda: nn.GroupNorm(2, 6), lambda: torch.nn.GroupNorm(2, 6), (3, 6, 4, 4)),
    "InstanceNorm2d_affine": (
        lambda: nn.InstanceNorm2d(3, affine=True),
        lambda: torch.nn.InstanceNorm2d(3, affine=True),
        (2, 3, 4, 5),
    ),
}


def _torch_twin(ours, theirs):
    """theirs, in float64, with ours's values (random, so that the parameters matter)."""
    rng = np.random.default_rng(7)
    for p in ours.parameters():
        p.data = rng.uniform(0.5, 2, p.shape).astype(p.dtype)
    theirs.double().load_state_dict(
        {
            k: torch.tensor(v).double() if v.dtype.kind == "f" else torch.tensor(v)
            for k, v in ours.state_dict().items()
        }
    )
    return theirs


@needs_torch
@pytest.mark.parametrize("name", list(MODULES))
def test_modules_match_torch_in_float64(name):
    make, make_theirs, shape = MODULES[name]
    ours = make().double()
    theirs = _torch_twin(ours, make_theirs())
    x = _inputs(shape, (1,))[0]
    x_twin = torch.tensor(x.data, requires_grad=True)
    out, expected = ours(x), theirs(x_twin)
    assert out.dtype == np.float64
    assert_close(out.data, expected.detach().numpy())
    grad = np.random.default_rng(8).standard_normal(shape)
    out.backward(grad)
    expected.backward(torch.tensor(grad))
    assert_close(x.grad.data, x_twin.grad.numpy())
    for (key, p), (their_key, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert key == their_key and p.grad.dtype == np.float64
        assert_close(p.grad.data, q.grad.numpy())


@pytest.mark.parametrize("name", list(MODULES))
def test_modules_stay_float32(name):
    make, _, shape = MODULES[name]
    layer = make()
    x = Tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True)
    out = layer(x)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == np.float32
    assert all(p.dtype == p.grad.dtype == np.float32 for p in layer.parameters())


CONFIGURATIONS = [  # the same arguments for ours and torch's
    ("LayerNorm", (4,), {}),
    ("LayerNorm", ([3, 4],), {"elementwise_affine": False}),
    ("LayerNorm", (4,), {"bias": False, "eps": 1e-3}),
    ("GroupNorm", (2, 6), {}),
    ("GroupNorm", (3, 6), {"affine": False}),
    ("GroupNorm", (2, 4), {"bias": False}),
    ("InstanceNorm2d", (3,), {}),
    ("InstanceNorm2d", (3,), {"affine": True, "track_running_stats": True}),
    ("InstanceNorm2d", (3,), {"affine": True, "bias": False, "momentum": 0.3}),
    ("InstanceNorm2d", (5,), {"track_running_stats": True}),
]


@needs_torch
@pytest.mark.parametrize("cls,args,kwargs", CONFIGURATIONS)
def test_state_dict_keys_and_repr_are_torchs(cls, args, kwargs):
    ours, theirs = getattr(nn, cls)(*args, **kwargs), getattr(torch.nn, cls)(*args, **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert repr(ours) == repr(theirs)
    for key, value in theirs.state_dict().items():
        assert_close(ours.state_dict()[key], value.numpy())  # initial values too


@needs_torch
@pytest.mark.parametrize("affine", [False, True])
def test_instance_norm_running_statistics_follow_torch_in_train_and_eval(affine):
    ours = nn.InstanceNorm2d(3, momentum=0.25, affine=affine, track_running_stats=True).double()
    theirs = _torch_twin(
        ours, torch.nn.InstanceNorm2d(3, momentum=0.25, affine=affine, track_running_stats=True)
    )
    rng = np.random.default_rng(2)
    for mode in ("train", "train", "eval", "train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        x = rng.standard_normal((4, 3, 5, 3)) * rng.uniform(
            0.5, 3, (4, 3, 1, 1)
        ) + rng.standard_normal((4, 3, 1, 1))
        ours_x, theirs_x = leaf(x), torch.tensor(x, requires_grad=True)
        out, expected = ours(ours_x), theirs(theirs_x)
        assert_close(out.data, expected.detach().numpy())
        out.backward(x)
        expected.backward(torch.tensor(x))
        assert_close(ours_x.grad.data, theirs_x.grad.numpy())
        for key, value in theirs.state_dict().items():
            assert_close(ours.state_dict()[key], value.numpy())
    assert not np.allclose(ours.running_var.data, 1)  # the statistics did move


@needs_torch
def test_functional_instance_norm_with_running_statistics_matches_torch():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 2, 4, 4)) * 2 + 1
    ours_stats = [Tensor(np.zeros(2), dtype=np.float64), Tensor(np.ones(2), dtype=np.float64)]
    their_stats = [torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)]
    for use_input_stats in (True, False):
        out = F.instance_norm(leaf(x), *ours_stats, use_input_stats=use_input_stats, momentum=0.4)
        expected = torch.nn.functional.instance_norm(
            torch.tensor(x), *their_stats, use_input_stats=use_input_stats, momentum=0.4
        )
        assert_close(out.data, expected.numpy())
        for ours, theirs in zip(ours_stats, their_stats):
            assert_close(ours.data, theirs.numpy())


def test_running_statistics_keep_their_dtype():
    layer = nn.InstanceNorm2d(2, track_running_stats=True)
    layer(Tensor(np.random.default_rng(0).standard_normal((2, 2, 3, 3)), dtype=np.float64))
    assert layer.running_mean.dtype == layer.running_var.dtype == np.float32
    assert layer.num_batches_tracked.dtype == np.int64


# ---- Dropout2d -----------------------------------------------------------------------------------
def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    layer = nn.Dropout2d(0.3)
    x = Tensor(np.ones((200, 50, 3, 3)), requires_grad=True)
    y = layer(x)
    per_channel = y.data.reshape(200, 50, 9)
    kept = per_channel[:, :, 0] != 0
    assert np.all(per_channel == per_channel[:, :, :1])  # a channel is dropped or kept as a whole
    assert 0.67 < kept.mean() < 0.73
    assert_close(per_channel[kept], 1 / 0.7, rtol=1e-6)
    y.sum().backward()
    assert_close(x.grad.data, np.broadcast_to(kept[:, :, None, None] / 0.7, x.shape), rtol=1e-6)
    assert layer.eval()(x) is x


def test_dropout2d_is_reproducible_with_manual_seed():
    x = Tensor(np.ones((8, 16, 2, 2)))
    tc.manual_seed(5)
    first = F.dropout2d(x, 0.5).data
    tc.manual_seed(5)
    assert np.array_equal(first, F.dropout2d(x, 0.5).data)
    assert not np.array_equal(first, F.dropout2d(x, 0.5).data)  # the generator moved on


def test_dropout2d_edges_and_repr():
    x = Tensor(np.ones((2, 3, 4, 4)))
    assert np.all(F.dropout2d(x, 1.0).data == 0) and F.dropout2d(x, 0.0) is x
    assert F.dropout2d(x, 0.5, training=False) is x
    assert repr(nn.Dropout2d(0.2)) == "Dropout2d(p=0.2)"
    assert F.dropout2d(x.astype(np.float32), 0.5).dtype == np.float32


# ---- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call,error,message",
    [
        (
            lambda: nn.LayerNorm(4)(Tensor(np.ones((2, 3)))),
            ValueError,
            r"LayerNorm: expected an input whose trailing axes are normalized_shape \(4,\), "
            r"got shape \(2, 3\)",
        ),
        (
            lambda: F.layer_norm(Tensor(np.ones((2, 3))), (2, 3, 1)),
            ValueError,
            r"layer_norm: normalized_shape \(2, 3, 1\) must be the trailing axes of input \(2, 3\)",
        ),
        (
            lambda: F.layer_norm(Tensor(np.ones((2, 3))), 3, Tensor(np.ones(2))),
            ValueError,
            r"layer_norm: weight must have the normalized_shape \(3,\), got \(2,\)",
        ),
        (
            lambda: F.layer_norm(Tensor(np.ones((2, 3))), ()),
            ValueError,
            "layer_norm: normalized_shape must name at least one axis",
        ),
        (
            lambda: nn.GroupNorm(4, 6),
            ValueError,
            "GroupNorm: num_groups=4 must divide num_channels=6",
        ),
        (
            lambda: nn.GroupNorm(0, 6),
            ValueError,
            "GroupNorm: num_groups must be a positive int, got 0",
        ),
        (
            lambda: nn.GroupNorm(2, 6)(Tensor(np.ones((2, 4, 3)))),
            ValueError,
            r"GroupNorm: expected a \(B, C, ...\) input with 6 channels on axis 1, "
            r"got shape \(2, 4, 3\)",
        ),
        (
            lambda: F.group_norm(Tensor(np.ones((2, 6, 3))), 4),
            ValueError,
            r"group_norm: num_groups must be a positive int dividing the 6 channels of input "
            r"\(2, 6, 3\), got 4",
        ),
        (
            lambda: F.group_norm(Tensor(np.ones((2, 6))), 2, bias=Tensor(np.ones(3))),
            ValueError,
            r"group_norm: bias must have shape \(6,\) for input \(2, 6\), got \(3,\)",
        ),
        (
            lambda: nn.InstanceNorm2d(3)(Tensor(np.ones((2, 3, 4)))),
            ValueError,
            r"InstanceNorm2d: expected a 4-D input \(B, C, H, W\) or a 3-D \(C, H, W\) "
            r"with 3 channels, got shape \(2, 3, 4\)",
        ),
        (
            lambda: nn.InstanceNorm2d(3)(Tensor(np.ones((2, 4, 5, 5)))),
            ValueError,
            "with 3 channels, got shape",
        ),
        (
            lambda: F.instance_norm(Tensor(np.ones((2, 3)))),
            ValueError,
            "instance_norm: input must be \\(B, C, ...\\) with at least one spatial axis",
        ),
        (
            lambda: F.instance_norm(Tensor(np.ones((2, 3, 1, 1)))),
            ValueError,
            r"instance_norm: expected more than 1 spatial element per channel, "
            r"got input \(2, 3, 1, 1\)",
        ),
        (
            lambda: F.instance_norm(Tensor(np.ones((2, 3, 4))), use_input_stats=False),
            ValueError,
            "use_input_stats=False needs running_mean and running_var",
        ),
        (
            lambda: F.dropout2d(Tensor(np.ones((2, 3, 4))), 0.5),
            ValueError,
            r"dropout2d: input must be \(B, C, H, W\), got shape \(2, 3, 4\)",
        ),
        (lambda: nn.Dropout2d(1.5), ValueError, r"Dropout2d: p must lie in \[0, 1\], got 1.5"),
    ],
)
def test_errors_name_the_layer_argument_and_shapes(call, error, message):
    with pytest.raises(error, match=message):
        call()


@needs_torch
@pytest.mark.parametrize(
    "cls, shape",
    [("BatchNorm2d", (4, 3, 5, 5)), ("InstanceNorm2d", (4, 3, 5, 5)), ("BatchNorm1d", (6, 3))],
)
def test_momentum_none_follows_torch(cls, shape):
    """BatchNorm's momentum=None is a cumulative average of every batch; InstanceNorm reads it
    as 0."""
    options = dict(momentum=None, track_running_stats=True)
    ours, theirs = getattr(nn, cls)(3, **options), getattr(torch.nn, cls)(3, **options).double()
    ours.double()
    rng = np.random.default_rng(3)
    for _ in range(3):
        x = rng.standard_normal(shape) * 2 + 1
        ours(Tensor(x, dtype=np.float64)), theirs(torch.tensor(x))
    for key, value in theirs.state_dict().items():
        assert_close(ours.state_dict()[key], value.numpy(), atol=1e-12)
    ours.eval(), theirs.eval()
    x = rng.standard_normal(shape)
    assert_close(
        ours(Tensor(x, dtype=np.float64)).data, theirs(torch.tensor(x)).detach().numpy(), atol=1e-12
    )


@needs_torch
def test_instance_norm_takes_one_unbatched_image_as_torch():
    ours, theirs = (
        nn.InstanceNorm2d(3, affine=True),
        torch.nn.InstanceNorm2d(3, affine=True).double(),
    )
    x = leaf(np.random.default_rng(4).standard_normal((3, 5, 6)))
    assert_matches_torch(ours.double(), theirs, x)


def test_batch_norm_in_evaluation_needs_both_running_statistics():
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(
        ValueError, match=r"batch_norm: evaluation \(training=False\) needs both running_mean and "
    ):
        F.batch_norm(x, Tensor(np.zeros(3)), None)


def test_batch_norm_runs_mean_variance_and_standardize():
    """A training BatchNorm2d is five ops: mean and variance of the batch, standardize, then
    the per-channel scale and shift, and its running statistics are those two ops' outputs."""
    bn = nn.BatchNorm2d(3, momentum=1.0)
    x = leaf(np.random.default_rng(0).standard_normal((4, 3, 5, 5)))
    with tc.trace():
        out = bn(x)
    seen, stack = [], [out]
    while stack:
        node = stack.pop()._ctx
        if node is not None and node.name not in seen:
            seen.append(node.name)
            stack.extend(node.parents)
    assert sorted(seen) == sorted(["bias_add", "mul", "reshape", "standardize", "variance", "mean"])
    assert_close(bn.running_mean.data, x.data.mean(axis=(0, 2, 3)))
    assert_close(bn.running_var.data, x.data.var(axis=(0, 2, 3), ddof=1))


def test_float32_statistics_of_large_batches_match_float64():
    """The ops sum with einsum, not numpy's pairwise sum: on 2**17 values per channel, with an
    offset far from zero, float32 statistics and gradients stay close to float64's."""
    from tinygrad_cnn.ops.reduce import Variance

    rng = np.random.default_rng(0)
    data = rng.standard_normal((128, 4, 32, 32)) * 3 + 100
    grad = rng.standard_normal(data.shape)
    results = {}
    for dtype in (np.float32, np.float64):
        x = Tensor(data.astype(dtype), requires_grad=True)
        out = F.batch_norm(x, None, None, training=True)
        out.backward(Tensor(grad.astype(dtype)))
        var = Variance.apply(Tensor(data.astype(dtype)), axes=(0, 2, 3))
        results[dtype] = (out.data, x.grad.data, var.data)
    for low, high in zip(results[np.float32], results[np.float64]):
        assert low.dtype == np.float32
        scale = np.abs(high).max()
        assert np.abs(low - high).max() <= 1e-4 * scale


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda: _variance(np.ones((2, 3), int), (0,)),
            TypeError,
            "variance: input must be floating",
        ),
        (lambda: _variance(np.ones((2, 3)), (0, 0)), ValueError, "axes (0, 0) must be distinct"),
        (lambda: _variance(np.ones((2, 3)), (1, -1)), ValueError, "axes (1, -1) must be distinct"),
        (lambda: _variance(np.ones((2, 3)), (2,)), ValueError, "of shape (2, 3)"),
        (
            lambda: _standardize(np.ones((2, 3), int), np.ones((1, 3)), np.ones((1, 3))),
            TypeError,
            "standardize: input must be floating point, got int64 of shape (2, 3)",
        ),
        (
            lambda: _standardize(np.ones((2, 3)), np.ones((1, 3)), np.ones((3,))),
            ValueError,
            "got mean (1, 3) and var (3,)",
        ),
        (
            lambda: _standardize(np.ones((2, 3)), np.ones((1, 2)), np.ones((1, 2))),
            ValueError,
            "standardize: mean and var must have the input's shape (2, 3)",
        ),
    ],
)
def test_variance_and_standardize_name_bad_arguments(call, error, message):
    with pytest.raises(error) as caught:
        call()
    assert message in str(caught.value)


def _variance(x, axes):
    from tinygrad_cnn.ops.reduce import Variance

    return Variance.apply(Tensor(x), axes=axes)


def _standardize(x, mean, var):
    from tinygrad_cnn.ops.reduce import Standardize

    return Standardize.apply(Tensor(x), Tensor(mean), Tensor(var))


def test_float16_statistics_do_not_overflow_where_the_sums_would():
    """4096 float16 values near 100 per channel sum past float16's 65504, though their mean
    and variance are far inside it: the output and the gradient stay finite and close to
    float64's."""
    rng = np.random.default_rng(0)
    data = (rng.standard_normal((16, 2, 16, 16)) * 10 + 100).astype(np.float16)
    grad = rng.standard_normal(data.shape).astype(np.float16)
    x = Tensor(data, requires_grad=True, dtype=np.float16)
    out = F.batch_norm(x, None, None, training=True)
    out.backward(Tensor(grad, dtype=np.float16))
    high = Tensor(data, requires_grad=True, dtype=np.float64)
    expected = F.batch_norm(high, None, None, training=True)
    expected.backward(Tensor(grad, dtype=np.float64))
    assert out.dtype == np.float16 and x.grad.dtype == np.float16
    assert np.abs(out.data - expected.data).max() < 1e-2
    assert np.abs(x.grad.data - high.grad.data).max() < 1e-2 * np.abs(high.grad.data).max()


@pytest.mark.parametrize("layer, axes", [("batch", (0, 2, 3)), ("instance", (2, 3))])
def test_float16_running_variance_does_not_overflow(layer, axes):
    """The unbiased running variance scales the batch's by N/(N-1), not by N then 1/(N-1):
    a float16 variance near 100 times N = 4096 would pass 65504."""
    rng = np.random.default_rng(0)
    data = (rng.standard_normal((4, 2, 32, 32)) * 10).astype(np.float16)
    if layer == "batch":
        norm = nn.BatchNorm2d(2, momentum=1.0, affine=False)
    else:
        norm = nn.InstanceNorm2d(2, momentum=1.0, track_running_stats=True)
    norm(Tensor(data, dtype=np.float16))
    unbiased = data.astype(np.float64).var(axis=axes, ddof=1).reshape(-1, 2).mean(axis=0)
    assert_close(norm.running_var.data, unbiased, atol=0, rtol=1e-2)


@pytest.mark.parametrize(
    "dtypes, expected",
    [
        ((np.float32, np.float32, np.float64), np.float64),
        ((np.float16, np.float16, np.float32), np.float32),
        ((np.float32, np.float64, np.float32), np.float64),
        ((np.float16, np.float16, np.float16), np.float16),
    ],
)
def test_standardize_promotes_over_all_three_inputs(dtypes, expected):
    """As (x - mean) / sqrt(var + eps) in numpy: a wider var widens the output too."""
    from tinygrad_cnn.ops.reduce import Standardize

    rng = np.random.default_rng(0)
    x, mean, var = (
        v.astype(d)
        for v, d in zip(
            (rng.standard_normal((3, 4)), rng.standard_normal((1, 4)), rng.random((1, 4)) + 1),
            dtypes,
        )
    )
    out = Standardize.apply(*(Tensor(v, dtype=v.dtype) for v in (x, mean, var)), eps=1e-3)
    assert out.dtype == expected
    narrowest = min(dtypes, key=lambda d: np.dtype(d).itemsize)  # var + eps rounds in var's
    assert_close(
        out.data, (x - mean) / (var + 1e-3) ** 0.5, atol=0, rtol=4 * np.finfo(narrowest).eps
    )


@pytest.mark.parametrize(
    "norm, shape, torch_norm",
    [
        (
            lambda x: F.layer_norm(x, (0,)),
            (2, 0),
            lambda x: torch.nn.functional.layer_norm(x, (0,)),
        ),
        (lambda x: F.group_norm(x, 2), (2, 4, 0), lambda x: torch.nn.functional.group_norm(x, 2)),
        (lambda x: F.group_norm(x, 1), (2, 0, 3), lambda x: torch.nn.functional.group_norm(x, 1)),
    ],
)
@needs_torch
def test_normalising_empty_groups_gives_empty_outputs(norm, shape, torch_norm):
    """Groups with no values normalise to nothing, as torch's, and backward runs: their
    variance is NaN, as np.var's of no values, rather than an error."""
    x = leaf(np.zeros(shape))
    out = norm(x)
    assert out.shape == tuple(torch_norm(torch.zeros(shape)).shape)
    out.sum().backward()
    assert x.grad.shape == shape
    assert np.isnan(_variance(np.zeros((0, 3)), (0,)).data).all()
    assert _variance(np.zeros((0, 3)), (1,)).shape == (0, 1)
