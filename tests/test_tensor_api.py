"""The Tensor API a numpy or PyTorch user writes models with: comparisons, conversions,
methods, factories, in-place updates and ``.data``. The gradients of the ops behind these
methods are checked op by op in test_ops.py and test_properties.py; here, the API around them."""

import numpy as np
import pytest
from helpers import assert_close, leaf, needs_torch, torch

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, nn


# ---- the traps of the issue: each gave a silently wrong answer or failed before -------------
def test_accuracy_from_argmax_equality():
    logits = Tensor(np.eye(4) * 5)
    labels = np.arange(4)
    predictions = logits.argmax(axis=1)
    assert np.mean(predictions == labels) == 1.0
    assert float((predictions == labels).mean()) == 1.0
    assert f"{np.mean(predictions == Tensor(labels[::-1].copy())):.2f}" == "0.00"


def test_order_comparisons_with_scalars():
    t = Tensor([-1.0, 2.0, 0.0])
    np.testing.assert_array_equal((t > 0).numpy(), [False, True, False])
    np.testing.assert_array_equal((t < 0).numpy(), [True, False, False])
    np.testing.assert_array_equal((0 < t).numpy(), [False, True, False])


@pytest.mark.parametrize(
    "join",
    [
        lambda a: np.concatenate([a, a], axis=1),
        lambda a: np.stack([a, a]),
        lambda a: np.clip(a, -0.5, 0.5),
    ],
    ids=["concatenate", "stack", "clip"],
)
def test_numpy_joins_keep_the_graph(join):
    a = Tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
    out = join(a)
    assert isinstance(out, Tensor) and out.requires_grad
    out.sum().backward()
    assert a.grad is not None and a.grad.shape == a.shape
    assert a.grad.numpy().sum() > 0


def test_numpy_ufuncs_and_conversions_on_tensors():
    t = Tensor([-1.0, 0.5, 2.0], requires_grad=True)
    loss = (np.exp(t) + np.maximum(t, 0)).sum()
    loss.backward()
    assert_close(t.grad.numpy(), np.exp(t.numpy()) + (t.numpy() > 0), atol=1e-6)
    finite = np.isfinite(t.grad)
    assert isinstance(finite, Tensor) and finite.dtype == bool and bool(finite.all())
    assert float(loss) == pytest.approx(np.exp([-1.0, 0.5, 2.0]).sum() + 2.5, rel=1e-6)
    assert float(np.mean(t)) == pytest.approx(0.5)


def test_assigning_a_tensor_to_data_is_refused():
    p = Tensor([1.0, 2.0], requires_grad=True)
    (p * p).sum().backward()
    with pytest.raises(TypeError, match=r"assign its array \(x.data = other.data\)"):
        p.data = p.data - 0.1 * p.grad  # ndarray - Tensor is a Tensor
    p.data = p.data - 0.1 * p.grad.data
    assert_close(p.numpy(), [0.8, 1.6], atol=1e-6)


# ---- comparisons, truth values, conversions -----------------------------------------------------
def test_comparisons_broadcast_and_record_nothing():
    a = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    for result, expected in [
        (a == np.array([0.0, 4.0, 2.0]), [[1, 0, 1], [0, 1, 0]]),
        (a != Tensor([[3.0], [4.0]]), [[1, 1, 1], [1, 0, 1]]),
        (a >= 3, [[0, 0, 0], [1, 1, 1]]),
        (a <= [1, 1, 5], [[1, 1, 1], [0, 0, 1]]),
    ]:
        assert result.dtype == bool and not result.requires_grad and result.is_leaf
        np.testing.assert_array_equal(result.numpy(), np.array(expected, dtype=bool))
    with pytest.raises(ValueError, match=r"==: shapes \(2, 3\), \(2,\) do not broadcast"):
        a == np.ones(2)  # noqa: B015


def test_tensors_stay_hashable_by_identity():
    a, b = Tensor([1.0]), Tensor([1.0])
    assert {a: "a", b: "b"}[b] == "b"
    assert a in {a} and b not in {a}
    assert (a == None) is False and (a != None) is True  # noqa: E711


def test_truth_value_and_python_numbers():
    with pytest.raises(ValueError, match="ambiguous"):
        bool(Tensor([1.0, 2.0]))
    assert bool(Tensor([3.0])) and not bool(Tensor(0.0))
    assert float(Tensor([[2.5]])) == 2.5 and int(Tensor(7)) == 7 and Tensor(4).item() == 4
    assert Tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    with pytest.raises(ValueError, match=r"item: tensor has 2 elements"):
        float(Tensor([1.0, 2.0]))
    assert f"{Tensor(1 / 3):.3f}" == "0.333"


def test_logical_operators_on_bool_tensors():
    t = Tensor([-2.0, 0.5, 3.0])
    inside = (t > 0) & (t < 1)
    np.testing.assert_array_equal(inside.numpy(), [False, True, False])
    np.testing.assert_array_equal((~inside | (t > 2)).numpy(), [True, False, True])
    assert 3.0 in t and 1.0 not in t


# ---- methods ------------------------------------------------------------------------------------
def test_sizes_and_dims():
    t = Tensor(np.zeros((2, 3, 4)))
    assert t.size == 24 and t.numel() == 24 and t.dim() == 3
    assert t.size() == (2, 3, 4) and t.size(1) == 3 and t.size(-1) == 4
    assert (
        t.T.shape == (4, 3, 2)
        and t.permute(1, 0, 2).shape == (3, 2, 4)
        and t.view(6, 4).shape == (6, 4)
    )
    assert t.swapaxes(0, 2).shape == (4, 3, 2) and t.flatten(1).shape == (2, 12)


def test_torch_and_numpy_keywords_agree(rng):
    x = Tensor(rng.standard_normal((3, 4)))
    for name in ("sum", "mean"):
        assert_close(
            getattr(x, name)(dim=1, keepdim=True).numpy(),
            getattr(x, name)(axis=1, keepdims=True).numpy(),
        )
    assert_close(x.var(dim=0, correction=1).numpy(), np.var(x.numpy(), axis=0, ddof=1), atol=1e-6)
    with pytest.raises(
        TypeError, match=r"sum: got axis=0 \(numpy\) and dim=1 \(PyTorch\); pass one"
    ):
        x.sum(axis=0, dim=1)


def test_transpose_keeps_numpy_meaning():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    assert x.transpose(0, 1).shape == (2, 3)  # numpy: the identity permutation
    assert x.swapaxes(0, 1).shape == (3, 2)  # PyTorch's transpose(0, 1)
    with pytest.raises(ValueError, match="not a permutation"):
        Tensor(np.zeros((2, 3, 4))).transpose(0, 1)


def test_max_with_dim_returns_values_and_indices():
    x = Tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], requires_grad=True)
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(values.numpy(), [5.0, 7.0])
    np.testing.assert_array_equal(indices.numpy(), [1, 0])
    assert indices.dtype == np.int64 and not indices.requires_grad
    np.testing.assert_array_equal(x.min(axis=0).numpy(), [1.0, 0.0, 2.0])
    np.testing.assert_array_equal(x.argmin(dim=1, keepdim=True).numpy(), [[0], [1]])


def test_tied_extremes_share_the_gradient_evenly():
    x = Tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], requires_grad=True)
    x.max(axis=1).sum().backward()
    assert_close(x.grad.numpy(), [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]], atol=1e-7)
    a, b = Tensor([1.0, 2.0, 5.0], requires_grad=True), Tensor([1.0, 3.0, 4.0], requires_grad=True)
    tc.maximum(a, b).sum().backward()
    assert_close(a.grad.numpy(), [0.5, 0.0, 1.0])
    assert_close(b.grad.numpy(), [0.5, 1.0, 0.0])


@needs_torch
def test_ties_match_torch():
    values = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, -1.0, 2.0]])
    ours, twin = leaf(values), torch.tensor(values, requires_grad=True)
    (ours.max(axis=1).sum() + ours.min(axis=0).sum() + tc.minimum(ours, 2.0).sum()).backward()
    (
        twin.amax(dim=1).sum()
        + twin.amin(dim=0).sum()
        + torch.minimum(twin, torch.tensor(2.0)).sum()
    ).backward()
    assert_close(ours.grad.numpy(), twin.grad.numpy())


def test_var_std_logsumexp(rng):
    x = leaf(rng.standard_normal((3, 5)) * 3)
    assert_close(x.var(axis=1, ddof=1).numpy(), np.var(x.numpy(), axis=1, ddof=1))
    assert_close(x.std().numpy(), np.std(x.numpy()))
    big = leaf([[1000.0, 1000.0], [-1000.0, 0.0]])
    assert_close(big.logsumexp(axis=1).numpy(), [1000 + np.log(2), np.log1p(np.exp(-1000.0))])
    assert tc.gradcheck(lambda a: a.logsumexp(axis=0, keepdims=True), x)
    assert tc.gradcheck(lambda a: a.std(axis=0, ddof=1), x)
    with pytest.raises(ValueError, match="var: 1 element.* no degrees of freedom"):
        Tensor([1.0]).var(ddof=1)


def test_softmax_methods(rng):
    x = leaf(rng.standard_normal((2, 4)))
    assert_close(x.softmax(axis=1).sum(axis=1).numpy(), [1.0, 1.0])
    assert_close(x.log_softmax(dim=0).numpy(), F.log_softmax(x, axis=0).numpy())


def test_split_and_chunk_are_views_with_torch_sizes():
    x = Tensor(np.arange(10.0))
    pieces = x.split(4)
    assert [p.shape for p in pieces] == [(4,), (4,), (2,)]
    assert all(np.shares_memory(p.numpy(), x.numpy()) for p in pieces)
    assert [p.shape[0] for p in x.split([3, 7])] == [3, 7]
    assert [p.shape[0] for p in x.chunk(3)] == [4, 4, 2]
    assert [p.shape[0] for p in np.split(x, 5)] == [2] * 5  # numpy's meaning: 5 sections
    with pytest.raises(ValueError, match="split: sizes .* add up to 10"):
        x.split([3, 3])


def test_shape_methods_match_numpy():
    x = np.arange(6.0).reshape(2, 1, 3)
    t = Tensor(x)
    assert (
        t.squeeze().shape == (2, 3)
        and t.squeeze(1).shape == (2, 3)
        and t.unsqueeze(-1).shape == (2, 1, 3, 1)
    )
    assert t.expand_dims((0, 2)).shape == np.expand_dims(x, (0, 2)).shape
    with pytest.raises(
        ValueError, match=r"squeeze: axis 0 of shape \(2, 1, 3\) does not have size 1"
    ):
        t.squeeze(0)
    np.testing.assert_array_equal(t.tile((2, 1, 1)).numpy(), np.tile(x, (2, 1, 1)))
    np.testing.assert_array_equal(t.repeat(1, 2, 1).numpy(), np.tile(x, (1, 2, 1)))
    np.testing.assert_array_equal(t.repeat_interleave(2, axis=2).numpy(), x.repeat(2, axis=2))
    np.testing.assert_array_equal(np.repeat(t, 2).numpy(), np.repeat(x, 2))
    np.testing.assert_array_equal(t.flip(0, 2).numpy(), x[::-1, :, ::-1])
    np.testing.assert_array_equal(t.expand(4, 2, 5, 3).numpy(), np.broadcast_to(x, (4, 2, 5, 3)))
    np.testing.assert_array_equal(t.cumsum().numpy(), np.cumsum(x))


def test_masked_fill_and_where():
    x = Tensor([[1.0, -2.0], [-3.0, 4.0]], requires_grad=True)
    y = x.masked_fill(x < 0, 0.0)
    np.testing.assert_array_equal(y.numpy(), [[1, 0], [0, 4]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 0], [0, 1]])
    with pytest.raises(TypeError, match="masked_fill: mask must be a bool"):
        x.masked_fill(np.ones((2, 2)), 0.0)
    with pytest.raises(ValueError, match=r"where: shapes \(3,\), \(2, 2\), \(\) do not broadcast"):
        tc.where(np.ones(3, dtype=bool), x, 0.0)


def test_gather_and_one_hot():
    x = Tensor(np.arange(12.0).reshape(3, 4))
    np.testing.assert_array_equal(x.gather(1, [[3], [0], [1]]).numpy(), [[3], [4], [9]])
    with pytest.raises(
        IndexError,
        match="take_along_axis: indices from 0 to 4 are out of range for axis 1 of size 4",
    ):
        x.gather(1, [[4], [0], [0]])
    with pytest.raises(ValueError, match=r"gather: index of shape \(4, 1\) must have"):
        x.gather(1, np.zeros((4, 1), dtype=int))
    hot = tc.one_hot(np.array([2, 0]), 3)
    np.testing.assert_array_equal(hot.numpy(), [[0, 0, 1], [1, 0, 0]])
    assert hot.dtype == np.int64 and not hot.requires_grad


def test_cat_pad_einsum_errors_name_the_arguments():
    a, b = Tensor(np.zeros((2, 3))), Tensor(np.zeros((3, 3)))
    with pytest.raises(
        ValueError, match=r"cat: tensor 1 has shape \(3, 3\), tensor 0 has \(2, 3\)"
    ):
        tc.cat([a, b], axis=1)
    with pytest.raises(ValueError, match=r"stack: tensor 1 has shape \(3, 3\)"):
        tc.stack([a, b])
    with pytest.raises(
        ValueError, match=r"pad: padding \(3, 0\) of axis 1 \(size 3.*at most 2 in reflect mode"
    ):
        F.pad(a, (3, 0), mode="reflect")
    with pytest.raises(ValueError, match="pad: mode must be one of"):
        F.pad(a, (1, 1), mode="symmetric")
    with pytest.raises(
        ValueError, match="einsum: index 'j' has size 3 in one operand and 2 in operand 1"
    ):
        tc.einsum("ij,jk->ik", a, Tensor(np.zeros((2, 2))))
    with pytest.raises(ValueError, match="einsum: operand 0 repeats a letter"):
        tc.einsum("ii->i", Tensor(np.zeros((3, 3))))


def test_einsum_matches_numpy(rng):
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5))
    for spec in ("bij,jk->bik", "bij,jk", "...j,jk->...k", "bij->j"):
        operands = (a, b) if "," in spec else (a,)
        assert_close(
            tc.einsum(spec, *map(Tensor, operands)).numpy(), np.einsum(spec, *operands), atol=1e-5
        )


def test_dtype_conversions():
    x = Tensor([1.5, -2.0], requires_grad=True)
    doubled = x.double()
    assert doubled.dtype == np.float64 and doubled.requires_grad
    (doubled * doubled).sum().backward()
    assert x.grad.dtype == np.float32
    assert_close(x.grad.numpy(), [3.0, -4.0])
    integer = x.astype(np.int64)
    assert integer.dtype == np.int64 and not integer.requires_grad and integer.tolist() == [1, -2]
    assert x.to("cpu") is x and x.float().dtype == np.float32 and x.long().dtype == np.int64
    copy = x.clone()
    assert copy.requires_grad and not np.shares_memory(copy.numpy(), x.numpy())


# ---- factories -----------------------------------------------------------------------------------
def test_factories_default_to_float32():
    for t in (
        tc.zeros(2, 3),
        tc.ones((2, 3)),
        tc.full((2, 3), 7.0),
        tc.eye(2, 3),
        tc.rand(2, 3),
        tc.randn(2, 3),
        tc.linspace(0, 1, 6).reshape(2, 3),
        tc.arange(0.0, 3.0, 0.5).reshape(2, 3),
    ):
        assert t.dtype == np.float32 and t.shape == (2, 3) and not t.requires_grad
    assert tc.arange(5).dtype == np.int64 and tc.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert tc.zeros(2, dtype=np.float64).dtype == np.float64
    assert tc.ones(3, requires_grad=True).requires_grad
    np.testing.assert_array_equal(tc.eye(3).numpy(), np.eye(3))
    np.testing.assert_array_equal(tc.full(2, 3.5).numpy(), [3.5, 3.5])
    with pytest.raises(TypeError, match="only floating tensors can require grad"):
        tc.zeros(2, dtype=np.int64, requires_grad=True)
    with pytest.raises(ValueError, match=r"zeros: sizes must be non-negative ints, got \(-1,\)"):
        tc.zeros(-1)


def test_like_factories_copy_shape_and_dtype():
    x = Tensor(np.zeros((2, 2)), dtype=np.float64)
    for t in (
        tc.zeros_like(x),
        tc.ones_like(x),
        tc.full_like(x, 2.0),
        tc.rand_like(x),
        tc.randn_like(x),
    ):
        assert t.shape == (2, 2) and t.dtype == np.float64
    assert tc.randn_like(Tensor([1, 2])).dtype == np.float32  # an integer template gives floats
    assert isinstance(np.zeros_like(x), Tensor)


def test_random_factories_follow_manual_seed():
    tc.manual_seed(3)
    first = [tc.rand(4), tc.randn(2, 2), tc.randint(0, 10, (5,))]
    tc.manual_seed(3)
    second = [tc.rand(4), tc.randn(2, 2), tc.randint(0, 10, (5,))]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    values = tc.randint(2, 5, size=1000).numpy()
    assert values.dtype == np.int64 and values.min() == 2 and values.max() == 4
    assert 0 <= tc.rand(1000).numpy().min() and tc.rand(1000).numpy().max() < 1


# ---- in-place updates and .data ---------------------------------------------------------------
def test_manual_sgd_step_updates_in_place():
    p = Tensor([1.0, -2.0], requires_grad=True)
    array = p.numpy()
    (p * p).sum().backward()
    with tc.no_grad():
        p -= 0.25 * p.grad
        p *= 2.0
        p += 1.0
        p /= 2.0
    assert p.numpy() is array and p.is_leaf and p.requires_grad
    assert_close(p.numpy(), [1.0, -0.5])  # [1, -2] - 0.25 * [2, -4], then * 2, + 1, / 2


def test_in_place_on_a_leaf_that_requires_grad_is_refused_outside_no_grad():
    p = Tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"in-place -=: a leaf tensor that requires grad"):
        p -= 1.0
    constant = Tensor([1.0])
    array = constant.numpy()
    constant += 2.0  # a constant outside no_grad: numpy's in-place add
    assert constant.numpy() is array and constant.tolist() == [3.0]


def test_accumulating_a_loss_with_plus_equals_records_ops():
    """`total += loss` in a loop works as in PyTorch: on graph tensors it records an add."""
    x = Tensor([1.0, 2.0], requires_grad=True)
    total = Tensor(0.0)
    for scale in (1.0, 2.0, 3.0):
        total += (x * x).sum() * scale
    total.backward()
    assert total.item() == 30.0 and x.grad.tolist() == [12.0, 24.0]


def test_in_place_write_to_a_saved_array_is_caught():
    x, w = Tensor([1.0, 2.0]), Tensor([3.0, 4.0], requires_grad=True)
    y = (x * w).sum()  # saves x for w's gradient
    with tc.no_grad(), pytest.raises(ValueError, match=r"in-place \+=: the array is read-only"):
        x += 1.0
    y.backward()
    assert w.grad.tolist() == [1.0, 2.0]


def test_in_place_shape_and_dtype_errors():
    t = Tensor(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"in-place \+=: shapes \(2, 2\), \(3,\) do not broadcast"):
        t += np.ones(3)
    with pytest.raises(
        ValueError, match=r"operand of shape \(2, 2, 2\) does not broadcast to this tensor's shape"
    ):
        t += np.ones((2, 2, 2))
    with pytest.raises(TypeError, match="in-place \\*=: cannot write float.* into a int64 tensor"):
        counts = Tensor([1, 2])
        counts *= 1.5


def test_data_accepts_only_numeric_arrays():
    p = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="Tensor.data: expected a numpy array, got list"):
        p.data = [1.0, 2.0]
    with pytest.raises(
        TypeError, match="expected a floating array .this tensor requires grad., got dtype int64"
    ):
        p.data = np.array([1, 2])
    p.data = np.array([5.0, 6.0], dtype=np.float32)
    assert p.tolist() == [5.0, 6.0]


def test_manual_sgd_trains_a_linear_model(rng):
    """The PyTorch habit, end to end: fit y = 3x - 1 with p -= lr * p.grad."""
    x = Tensor(rng.uniform(-1, 1, (64, 1)))
    y = 3 * x - 1
    w, b = tc.zeros(1, 1, requires_grad=True), tc.zeros(1, requires_grad=True)
    for _ in range(200):
        loss = ((x @ w + b - y) ** 2).mean()
        w.grad = b.grad = None
        loss.backward()
        with tc.no_grad():
            w -= 0.3 * w.grad
            b -= 0.3 * b.grad
    assert float(loss) < 1e-4
    assert_close(w.numpy(), [[3.0]], atol=1e-2)
    assert_close(b.numpy(), [-1.0], atol=1e-2)


# ---- models that need the new ops ---------------------------------------------------------------
class SkipBlock(nn.Module):
    """A U-Net style skip: features and a padded, convolved copy, joined along channels."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3)
        self.merge = nn.Conv2d(5, 2, 1)

    def forward(self, x):
        inner = F.pad(self.conv(x), (1, 1, 1, 1), mode="replicate")
        return self.merge(tc.cat([x, inner], axis=1)).maximum(x)


@needs_torch
def test_skip_block_matches_torch(rng):
    block = SkipBlock()
    x = Tensor(rng.standard_normal((2, 2, 6, 6)), requires_grad=True)
    block(x).sum().backward()
    conv, merge = torch.nn.Conv2d(2, 3, 3), torch.nn.Conv2d(5, 2, 1)
    with torch.no_grad():
        for theirs, ours in ((conv, block.conv), (merge, block.merge)):
            theirs.weight.copy_(torch.tensor(ours.weight.numpy()))
            theirs.bias.copy_(torch.tensor(ours.bias.numpy()))
    tx = torch.tensor(x.numpy(), requires_grad=True)
    inner = torch.nn.functional.pad(conv(tx), (1, 1, 1, 1), mode="replicate")
    torch.maximum(merge(torch.cat([tx, inner], dim=1)), tx).sum().backward()
    assert_close(x.grad.numpy(), tx.grad.numpy(), atol=1e-4, rtol=1e-4)
    assert_close(block.conv.weight.grad.numpy(), conv.weight.grad.numpy(), atol=1e-4, rtol=1e-4)


# ---- found by an adversarial pass: each was a wrong number, a raw numpy error or a crash --------
def test_integer_tensors_meet_float_math_as_float32():
    assert (Tensor([4, 9]) ** 0.5).tolist() == [2.0, 3.0] and (
        Tensor([4, 9]) ** 0.5
    ).dtype == np.float32
    assert (Tensor([2, 3]) ** 2).tolist() == [4, 9] and (Tensor([2, 3]) ** 2).dtype == np.int64
    assert (Tensor([1, 2]) / Tensor([2, 4])).tolist() == [0.5, 0.5] and (
        Tensor([1]) / 2
    ).dtype == np.float32
    for t in (
        Tensor([1, 4]).sqrt(),
        Tensor([0, 1]).exp(),
        Tensor([True, False]).mean(),
        Tensor([1, 2]).logsumexp(),
    ):
        assert t.dtype == np.float32


def test_no_float64_from_numpy_scalars_or_float64_fill_values():
    x = Tensor([0.2, 0.7])
    assert (
        x.clip(np.float64(0.5), None).dtype == np.float32
        and np.clip(x, 0.0, np.float64(0.6)).dtype == np.float32
    )
    assert x.masked_fill(x > 0.5, Tensor(1.0, dtype=np.float64)).dtype == np.float32


def test_pow_zero_and_std_of_constant_rows_have_finite_gradients():
    x = Tensor([0.0, 1.0], requires_grad=True)
    (x**0).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    y = Tensor([[1.0, 1.0], [1.0, 2.0]], requires_grad=True)
    y.std(axis=1).sum().backward()
    assert_close(y.grad.numpy(), [[0, 0], [-0.5, 0.5]])


def test_clamp_passes_the_gradient_at_its_bounds_hardtanh_does_not():
    x = Tensor([0.0, 0.5, 1.0, 2.0], requires_grad=True)
    x.clamp(0.0, 1.0).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0, 0.0]  # torch.clamp
    x.grad = None
    F.hardtanh(x, 0.0, 1.0).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0, 0.0]  # torch's hardtanh


def test_negative_axes_split_the_right_axis():
    x = Tensor(np.arange(24.0).reshape(4, 6))
    assert [p.shape for p in np.split(x, [2], axis=-1)] == [(4, 2), (4, 4)]
    assert [p.shape for p in x.tensor_split(3, axis=-1)] == [(4, 2)] * 3
    with pytest.raises(ValueError, match=r"numpy.split: 4 sections do not divide axis 1"):
        np.split(x, 4, axis=1)


def test_a_view_taken_before_the_graph_cannot_change_its_gradient():
    x = Tensor([1.0, 2.0, 3.0])
    view, w = x[:2], Tensor([1.0, 1.0], requires_grad=True)
    y = (w * view).sum()  # saves view's memory, which is x's
    with pytest.raises(
        ValueError, match="in-place \\+=: the array is read-only: a graph still alive saved it"
    ):
        view += 10.0
    y.backward()
    assert w.grad.tolist() == [1.0, 2.0]
    view += 10.0  # the graph is gone: writable again, through to x
    assert x.tolist() == [11.0, 12.0, 3.0]
    with pytest.raises(ValueError, match="broadcast view"):
        expanded = Tensor([1.0]).expand(3)
        expanded += 1.0


def test_np_array_copies_np_asarray_shares():
    w = tc.zeros(3, requires_grad=True)
    snapshot, shared = np.array(w), np.asarray(w)
    with tc.no_grad():
        w -= 1.0
    assert snapshot.tolist() == [0.0] * 3 and shared.tolist() == [-1.0] * 3


def test_einsum_broadcasts_size_one_axes_in_backward():
    a, b = leaf(np.arange(3.0).reshape(3, 1)), leaf(np.arange(4.0).reshape(1, 4) + 1)
    assert tc.gradcheck(lambda a, b: tc.einsum("ij,ij->i", a, b), a, b)
    assert tc.gradcheck(lambda a, b: tc.einsum("ij,jk->i", a, b), a, leaf(np.ones((4, 2))))


def test_dot_of_two_vectors():
    a, b = leaf([1.0, 2.0, 3.0]), leaf([4.0, 5.0, 6.0])
    assert tc.gradcheck(lambda a, b: a @ b, a, b)
    assert tc.gradcheck(lambda a, b: np.dot(a, b), a, b)


def test_empty_tensors_give_empty_results():
    assert tc.zeros(0, 3, 4).flatten(1).shape == (0, 12)
    assert tc.zeros(0, 3).repeat_interleave(2, axis=1).shape == (0, 6)
    assert tc.zeros(0, 3).max(axis=1).shape == (0,) and tc.zeros(0, 3).argmax(axis=1).shape == (0,)
    with np.errstate(divide="ignore"):  # log(0): the sum over an empty group
        assert tc.zeros(3, 0).softmax(-1).shape == (3, 0)
        assert tc.zeros(0).logsumexp().item() == -np.inf
    with pytest.raises(ValueError, match=r"max: cannot reduce over axis \(0,\) of shape \(0, 3\)"):
        tc.zeros(0, 3).max(axis=0)


def test_zero_d_tensors():
    s = Tensor(2.0, requires_grad=True)
    assert s.sum(0).item() == 2.0 and s.mean(dim=0).item() == 2.0 and s.max(0).item() == 2.0
    values, index = s.max(dim=0)
    assert values.item() == 2.0 and index.item() == 0
    assert tc.einsum("->", s).item() == 2.0 and tc.pad(s, ()).item() == 2.0
    for call in (
        lambda: s.split(1),
        lambda: s.cumsum(0),
        lambda: s.squeeze(0),
        lambda: s.gather(0, 0),
    ):
        with pytest.raises(ValueError, match="a 0-d tensor has no axis 0"):
            call()


def test_more_argument_errors():
    x = tc.ones(2, 3, 4)
    with pytest.raises(ValueError, match="flatten: start_axis 2 comes after end_axis 1"):
        x.flatten(2, 1)
    with pytest.raises(ValueError, match=r"pad: sizes must be non-negative ints, got \(1.7, 1\)"):
        tc.pad(x, (1.7, 1))
    with pytest.raises(TypeError, match=r"cat: got axis=1 \(numpy\) and dim=0 \(PyTorch\)"):
        tc.cat([x, x], 1, dim=0)
    with pytest.raises(ValueError, match="split: sizes must be non-negative ints"):
        x.split([1.5, 0.5])
    with pytest.raises(TypeError, match="&: needs bool or integer tensors"):
        x & x  # noqa: B018
    assert np.sign(Tensor([-2.0, 0.0, 3.0])).tolist() == [-1.0, 0.0, 1.0]


def test_one_hot_needs_no_square_memory():
    hot = tc.one_hot(np.array([3, 49_999]), 50_000)
    assert hot.shape == (2, 50_000) and hot.numpy().sum() == 2 and hot.numpy()[1, 49_999] == 1


# ---- found by a second adversarial pass ---------------------------------------------------------
def test_changing_an_index_array_after_forward_changes_nothing():
    x = Tensor([10.0, 20.0, 30.0, 40.0], requires_grad=True)
    index = np.array([0, 1])
    y = x[index] * Tensor([1.0, 2.0])
    index[0] = 3
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 2.0, 0.0, 0.0]


def test_data_of_a_view_is_read_only_while_its_memory_is_saved():
    w = Tensor(np.arange(4.0), requires_grad=True)
    first, _ = w.split(2)
    out = (w * w).sum()
    with pytest.raises(ValueError, match="read-only"):
        first.data.fill(7.0)
    out.backward()
    assert w.grad.tolist() == [0.0, 2.0, 4.0, 6.0]
    first.data.fill(7.0)  # released by backward
    assert w.tolist() == [7.0, 7.0, 2.0, 3.0]


def test_none_is_not_a_number():
    x = Tensor([1.0, 2.0])
    for call in (lambda: x + None, lambda: tc.maximum(x, None), lambda: tc.where(x > 1, x, None)):
        with pytest.raises(TypeError, match="got None where numbers were expected"):
            call()
    with pytest.raises(ValueError, match="numpy.where: give both x and y, or neither"):
        np.where(x > 1, x)
    assert tc.pad(x, (1, 1), value=None).tolist() == [0.0, 1.0, 2.0, 0.0]  # torch: None pads 0


def test_a_hook_changing_its_gradient_in_place_leaves_the_siblings_alone():
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([1.0, 1.0], requires_grad=True)

    def halve(grad):
        grad *= 0.5

    a.register_hook(halve)
    ((a + b) * 2.0).sum().backward()
    assert a.grad.tolist() == [1.0, 1.0] and b.grad.tolist() == [2.0, 2.0]


def test_clip_of_integers_at_fractional_bounds_gives_floats():
    assert Tensor([1, 2, 3]).clamp(max=2.7).tolist() == pytest.approx([1.0, 2.0, 2.7])
    assert np.clip(Tensor([1, 2, 3]), 0.5, 2.5).tolist() == [1.0, 2.0, 2.5]
    assert Tensor([1, 5]).clip(2, 4).tolist() == [2, 4]


def test_grad_assignments_are_checked():
    p = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(
        ValueError, match=r"Tensor.grad: a gradient for shape \(3,\) must be a float tensor"
    ):
        p.grad = tc.zeros(2, 3)
    with pytest.raises(TypeError, match="Tensor.grad: expected a Tensor or None, got ndarray"):
        p.grad = np.zeros(3)
    p.grad = tc.ones(3)
    (p * p).sum().backward()
    assert p.grad.tolist() == [3.0, 5.0, 7.0]


def test_repeat_and_tile_return_new_memory():
    x = Tensor([1.0, 2.0, 3.0])
    for repeated in (
        x.repeat(1),
        x.repeat_interleave(1),
        x.tile(1),
        Tensor([[1.0, 2.0]]).repeat(2, 1),
    ):
        repeated += 100.0
    assert x.tolist() == [1.0, 2.0, 3.0]


def test_second_derivative_of_a_zeroth_power_and_dtypes_under_create_graph():
    x = leaf([0.0, 1.0])
    (g,) = tc.grad((x**0).sum(), [x], create_graph=True)
    assert g.tolist() == [0.0, 0.0]
    y, w = tc.randn(3, requires_grad=True), Tensor(np.ones(3), dtype=np.float64, requires_grad=True)
    (y * w).sum().backward(create_graph=True)
    assert y.grad.dtype == np.float32


def test_max_with_dim_and_keepdims_shapes_agree():
    values, indices = Tensor(np.arange(6.0).reshape(2, 3)).max(dim=1, keepdims=True)
    assert values.shape == indices.shape == (2, 1)


def test_constants_computed_from_a_parameter_are_not_parameters():
    layer = nn.Linear(3, 2)
    layer.mask = layer.weight.any(axis=1)
    layer.top = layer.weight.argmax(axis=1)
    assert type(layer.mask) is Tensor and type(layer.top) is Tensor
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]


def test_argument_errors_name_the_operation():
    x = tc.ones(3, 4)
    cases = [
        (
            lambda: x + np.ones((2, 3)),
            ValueError,
            r"\+: shapes \(3, 4\), \(2, 3\) do not broadcast",
        ),
        (lambda: np.add(x, np.ones(5)), ValueError, "shapes .* do not broadcast"),
        (lambda: tc.pad(x, 1), TypeError, "pad: pad must be a tuple"),
        (lambda: tc.pad(x, (1, 1), value="a"), TypeError, "pad: value must be a number"),
        (lambda: x.sum(1.0), TypeError, "sum: axis must be an int, a tuple of ints or None"),
        (lambda: np.split(x, 2, axis=5), ValueError, "numpy.split: axis 5 is out of range"),
        (
            lambda: np.split(x, 0),
            ValueError,
            "tensor_split: the number of sections must be positive",
        ),
        (lambda: np.size(x, 5), ValueError, "numpy.size: axis 5 is out of range"),
        (
            lambda: np.pad(x, [(1, 2), (3, 4), (5, 6)]),
            ValueError,
            "numpy.pad: pad_width .* does not fit",
        ),
        (
            lambda: x.repeat_interleave([1, 2, 3]),
            TypeError,
            "repeat_interleave: repeats must be one int",
        ),
        (lambda: Tensor([True]) - Tensor([True]), TypeError, "-: subtracting bool tensors"),
        (lambda: -Tensor([True]), TypeError, "-: negating a bool tensor"),
        (lambda: np.equal(x, np.ones(5)), ValueError, "numpy.equal: shapes .* do not broadcast"),
        (lambda: np.isclose(x, np.ones(5)), ValueError, "numpy.isclose: "),
        (lambda: tc.one_hot(np.array([1]), 3.0), TypeError, "one_hot: num_classes must be an int"),
        (
            lambda: tc.randint(0, 5, (3,), dtype=np.float32),
            TypeError,
            "randint: dtype must be an integer",
        ),
        (
            lambda: f"{x:.3f}",
            TypeError,
            r"format: '.3f' needs a one-element tensor, got shape \(3, 4\)",
        ),
        (lambda: x.astype(object), TypeError, "astype: object is not a numeric dtype"),
        (lambda: x.tensor_split([1.5]), TypeError, "tensor_split: indices must be ints"),
    ]
    for call, error, message in cases:
        with pytest.raises(error, match=message):
            call()


def test_pytorch_keyword_spellings():
    x = Tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x.flatten(start_dim=1).shape == (2, 12) and x.flatten(0, end_dim=1).shape == (6, 4)
    np.testing.assert_array_equal(x.flip(dims=(0,)).numpy(), x.numpy()[::-1])
    assert x.to(device="cpu") is x and x.to("cpu", np.float64).dtype == np.float64
    with pytest.raises(TypeError, match="to: 'cuda': numpy runs on the CPU"):
        x.to("cuda")


def test_python_ints_keep_an_integer_tensors_width():
    assert (Tensor(np.array([1, 2], dtype=np.int32)) * 2).dtype == np.int32
    assert (
        Tensor(np.array([1, 2], dtype=np.int8)) + 1000
    ).dtype == np.int64  # does not fit in int8


# ---- found writing real models the PyTorch and the numpy way ------------------------------------
def test_numpy_style_initialisation_keeps_a_float32_model_float32():
    layer = nn.Linear(3, 2)
    layer.weight.data = np.random.default_rng(0).standard_normal((2, 3)) * np.sqrt(2 / 3)
    optimizer = tc.optim.SGD(layer.parameters(), lr=0.1)
    optimizer.param_groups[0]["lr"] = np.linspace(0.1, 0.01, 5)[0]  # a numpy float64
    F.mse_loss(layer(tc.ones(4, 3)), tc.zeros(4, 2)).backward()
    optimizer.step()
    assert layer.weight.dtype == np.float32 and layer(tc.ones(1, 3)).dtype == np.float32


def test_pytorch_habits_for_indices_and_item_assignment():
    scores = Tensor([0.1, 0.7, 0.2])
    assert ["a", "b", "c"][scores.argmax()] == "b" and list(range(Tensor(3))) == [0, 1, 2]
    t = Tensor([-1.0, 2.0, -3.0])
    t[t < 0] = 0.0
    assert t.tolist() == [0.0, 2.0, 0.0]
    assert (Tensor([5, 7]) // 2).tolist() == [2, 3] and (Tensor([5.0, -7.0]) % 3).tolist() == [
        2.0,
        2.0,
    ]
    p = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="item assignment: the graph cannot record"):
        p[0] = 5.0
    with tc.no_grad():
        p[0] = 5.0
    assert p.tolist() == [5.0, 2.0]
    values, indices = Tensor([[1.0, 3.0], [4.0, 2.0]]).max(1, keepdim=True)  # torch's keepdim=
    assert values.tolist() == [[3.0], [4.0]] and indices.tolist() == [[1], [0]]


def test_functional_softmax_and_modules_take_pytorch_arguments():
    x = tc.randn(2, 3)
    assert_close(F.softmax(x, dim=0).numpy(), x.softmax(axis=0).numpy())
    assert_close(nn.LogSoftmax(dim=0)(x).numpy(), F.log_softmax(x, 0).numpy())
    with pytest.raises(TypeError, match="ReLU: got an unexpected keyword argument 'inplace'"):
        nn.ReLU(inplace=True)


def test_data_minus_a_tensor_explains_itself():
    p = Tensor([1.0, 2.0], requires_grad=True)
    (p * p).sum().backward()
    with pytest.raises(TypeError, match=r"cannot write a Tensor result into an array.*p.grad.data"):
        p.data -= 0.1 * p.grad


def test_the_callers_arrays_are_never_made_read_only():
    data, mask = np.arange(6.0, dtype=np.float32), np.array([True, False])
    a = Tensor([1.0, 2.0], requires_grad=True)
    y = (a * data[:2]).sum() + tc.where(mask, a, 0.0).sum()
    data[5], mask[1] = 1.0, True  # the caller's arrays stay writable while the graph lives
    y.backward()
    assert a.grad.tolist() == [1.0, 1.0]


def test_maximum_and_minimum_name_shapes_that_do_not_broadcast():
    for function in (tc.maximum, tc.minimum):
        with pytest.raises(
            ValueError, match=rf"{function.__name__}: shapes \(3,\), \(2,\) do not broadcast"
        ):
            function(tc.ones(3), tc.ones(2))


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda x: x.sum(keepdims=True, keepdim=False),
            TypeError,
            "sum: got keepdims=True .numpy. and keepdim=False",
        ),
        (
            lambda x: x.transpose(1, 0, 2).transpose(0, 1),
            ValueError,
            "to swap two axes, as PyTorch's transpose",
        ),
        (lambda x: x.permute(), ValueError, "permute: give an order for all 3 axes"),
        (lambda x: x.size(5), IndexError, r"size: dim 5 is out of range for shape \(2, 3, 4\)"),
        (
            lambda x: x.astype("not a dtype"),
            TypeError,
            "astype: 'not a dtype' is not a numpy dtype",
        ),
        (
            lambda x: tc.einsum("ij->k", x[0]),
            ValueError,
            "einsum: output 'k' must name distinct indices",
        ),
        (lambda x: tc.einsum("ij", x), ValueError, r"einsum: operand 0 has shape \(2, 3, 4\)"),
        (
            lambda x: tc.cat(x),
            TypeError,
            "cat: expected a non-empty list or tuple of tensors, got Tensor",
        ),
        (
            lambda x: tc.take_along_axis(x, np.zeros((2, 3, 1)), 2),
            ValueError,
            "take_along_axis: indices must be integers",
        ),
        (
            lambda x: tc.one_hot(np.array([0, 5]), 3),
            ValueError,
            r"one_hot: labels must lie in \[0, 3\)",
        ),
        (lambda x: x.expand(4), ValueError, r"expand: 1 sizes \(4,\) for a tensor of 3 axes"),
        (
            lambda x: x.broadcast_to((5, 3, 4)),
            ValueError,
            "broadcast_to: shapes .* do not broadcast",
        ),
        (lambda x: x.repeat(2, 2), ValueError, "repeat: 2 counts .* give one per axis"),
        (lambda x: x.repeat(2, axis=0), TypeError, "repeat: tiles the tensor, as PyTorch's repeat"),
        (lambda x: x.tile(-1), ValueError, "tile: sizes must be non-negative ints"),
        (lambda x: x.split(0), ValueError, "split: the piece size must be positive"),
        (lambda x: x.chunk(0), ValueError, "chunk: chunks must be positive"),
        (
            lambda x: x.masked_fill(x > 0, [1.0, 2.0]),
            TypeError,
            "masked_fill: value must be one number",
        ),
        (
            lambda x: x.masked_fill(np.ones((5,), bool), 0.0),
            ValueError,
            "masked_fill: shapes .* do not broadcast",
        ),
        (lambda x: x.clip(), ValueError, "clip: give min, max or both"),
        (lambda x: x.clamp(2.0, 1.0), ValueError, r"clamp: min \(2.0\) is above max \(1.0\)"),
        (lambda x: x.clip("a"), TypeError, "clip: min must be a number or None, got str"),
        (lambda x: [0][x], TypeError, "only one-element integer tensors can be used as an index"),
        (
            lambda x: x.var(ddof=1, correction=0),
            TypeError,
            "var: got ddof=1 .numpy. and correction=0",
        ),
        (lambda x: tc.arange(0, 5, 0), ValueError, "arange: step must not be zero"),
        (lambda x: tc.linspace(0, 1, -2), ValueError, "linspace: num must be a non-negative int"),
        (lambda x: tc.randint(5, 5), ValueError, "randint: high must be above low"),
        (lambda x: tc.rand(2, dtype=np.int64), TypeError, "rand: dtype must be float32 or float64"),
        (
            lambda x: x.max(dim=(0, 1)),
            TypeError,
            r"max: dim must be one int .PyTorch's max.dim. returns",
        ),
    ],
)
def test_more_errors_name_the_operation(call, error, message):
    with pytest.raises(error, match=message):
        call(Tensor(np.ones((2, 3, 4))))
