"""conv2d, pooling and im2col over a grid of kernels, strides, paddings and input sizes."""

import itertools

import numpy as np
import pytest
from helpers import assert_close, assert_matches_torch, leaf, needs_torch, torch, torch_leaf

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn.ops import layout
from tinygrad_cnn.ops.window import col2im_array, im2col_array, window_geometry

KERNELS = [1, 2, 3, 5, (2, 3)]
STRIDES = [1, 2, 3, (2, 1)]
PADDINGS = [0, 1, 2, "same"]
INPUT = (2, 3, 7, 9)  # non-square, and 7 or 9 leave rows over for strides 2 and 3


def conv_grid():
    for k, s, p in itertools.product(KERNELS, STRIDES, PADDINGS):
        if p == "same" and s != 1:
            continue
        yield pytest.param(k, s, p, id=f"k{k}-s{s}-p{p}")


def pool_grid():
    for k, s, p in itertools.product([1, 2, 3, (2, 3)], [None, 1, 2, 3, (2, 1)], [0, 1]):
        if 2 * p <= min(np.atleast_1d(k)):
            yield pytest.param(k, s, p, id=f"k{k}-s{s}-p{p}")


def kernel_shape(k):
    return (k, k) if isinstance(k, int) else k


def reference_im2col(x, k, s, p):
    """Loop-by-loop im2col with explicit symmetric padding, the definition we test against."""
    (kh, kw), (sh, sw) = kernel_shape(k), kernel_shape(s)
    ph, pw = kernel_shape(p)
    padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    b, c, h, w = padded.shape
    rows = []
    for n in range(b):
        for i in range(0, h - kh + 1, sh):
            for j in range(0, w - kw + 1, sw):
                rows.append(padded[n, :, i : i + kh, j : j + kw].ravel())
    return np.array(rows)


@pytest.mark.parametrize("k,s,p", [c for c in conv_grid() if c.values[2] != "same"])
def test_im2col_matches_loop_definition(k, s, p, rng):
    x = rng.standard_normal(INPUT)
    assert_close(
        F.im2col(tc.Tensor(x, dtype=np.float64), k, s, p).data, reference_im2col(x, k, s, p)
    )


@pytest.mark.parametrize("k,s", [(2, 1), (3, 1), (3, 2), (2, 2), ((2, 3), (2, 1)), (2, 3)])
def test_col2im_of_ones_counts_window_overlaps(k, s):
    shape = (1, 2, 7, 9)
    g = window_geometry("test", shape, k, s, 1)
    counts = col2im_array(
        np.ones((g.out_size[0] * g.out_size[1], 2 * np.prod(g.kernel_size))), shape, g
    )
    expected = np.zeros((7 + 2, 9 + 2))
    (kh, kw), (sh, sw) = g.kernel_size, g.stride
    for i in range(g.out_size[0]):
        for j in range(g.out_size[1]):
            expected[i * sh : i * sh + kh, j * sw : j * sw + kw] += 1
    assert_close(counts, np.broadcast_to(expected[1:-1, 1:-1], shape))


def test_im2col_is_a_strided_view_with_one_copy():
    x = np.arange(2 * 3 * 6 * 6, dtype=np.float32).reshape(2, 3, 6, 6)
    cols = im2col_array(x, window_geometry("test", x.shape, 3, 1, 0))
    assert cols.flags.c_contiguous and cols.dtype == np.float32 and cols.shape == (2 * 16, 27)


@pytest.mark.parametrize("k,s,p", list(conv_grid()))
def test_conv2d_gradcheck(k, s, p, rng):
    x = leaf(rng.standard_normal((1, 2, 7, 9)))
    w = leaf(rng.standard_normal((2, 2, *kernel_shape(k))))
    b = leaf(rng.standard_normal(2))
    assert tc.gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=s, padding=p), x, w, b)


@needs_torch
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@pytest.mark.parametrize("k,s,p", list(conv_grid()))
def test_conv2d_matches_torch(k, s, p, rng):
    x, w, b = (
        leaf(rng.standard_normal(shape)) for shape in (INPUT, (4, 3, *kernel_shape(k)), (4,))
    )
    assert_matches_torch(
        lambda x, w, b: F.conv2d(x, w, b, stride=s, padding=p),
        lambda x, w, b: torch.nn.functional.conv2d(x, w, b, stride=s, padding=p),
        x,
        w,
        b,
    )


@pytest.mark.parametrize("k,s,p", list(pool_grid()))
@pytest.mark.parametrize("pool", ["max", "avg"])
def test_pool_gradcheck(pool, k, s, p, rng):
    # distinct values, so no max-pool window holds a tie within a finite difference
    x = leaf(rng.permutation(2 * 7 * 9).reshape(1, 2, 7, 9) * 0.01)
    fn = F.max_pool2d if pool == "max" else F.avg_pool2d
    assert tc.gradcheck(lambda x: fn(x, k, s, p), x)


@needs_torch
@pytest.mark.parametrize("k,s,p", list(pool_grid()))
@pytest.mark.parametrize("pool", ["max", "avg"])
def test_pool_matches_torch(pool, k, s, p, rng):
    x = leaf(rng.standard_normal(INPUT))
    ours, theirs = (
        (F.max_pool2d, torch.nn.functional.max_pool2d)
        if pool == "max"
        else (F.avg_pool2d, torch.nn.functional.avg_pool2d)
    )
    assert_matches_torch(lambda x: ours(x, k, s, p), lambda x: theirs(x, k, s, p), x)


@needs_torch
@pytest.mark.parametrize("memory", ["bchw", "chwb", "hwbc"])
def test_conv_pool_chain_matches_torch_whatever_the_input_layout(memory, rng):
    """conv -> relu -> max-pool -> conv without padding -> avg-pool: the later layers read the
    (C, H, W, B) memory an earlier conv leaves, with and without a padding copy."""
    x = leaf(
        rng.standard_normal([dict(zip("bchw", INPUT))[axis] for axis in memory]).transpose(
            *(memory.index(axis) for axis in "bchw")
        )
    )
    assert x.shape == INPUT and (memory == "bchw") == x.data.flags.c_contiguous
    w1, b1, w2 = (leaf(rng.standard_normal(shape)) for shape in ((4, 3, 3, 3), (4,), (5, 4, 2, 2)))

    def net(F, x, w1, b1, w2):
        hidden = F.max_pool2d(F.relu(F.conv2d(x, w1, b1, padding=1)), 2, 1)
        return F.avg_pool2d(F.conv2d(hidden, w2), 2)

    assert_matches_torch(
        lambda *a: net(F, *a), lambda *a: net(torch.nn.functional, *a), x, w1, b1, w2
    )


def test_max_pool_ties_route_to_the_first_maximum():
    x = leaf(np.ones((1, 1, 4, 4)))
    F.max_pool2d(x, 2).sum().backward()
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 1.0  # the top-left element of each 2x2 window, once
    assert_close(x.grad.data[0, 0], expected)


@needs_torch
def test_max_pool_ties_with_overlapping_windows_match_torch():
    x = leaf(np.round(np.random.default_rng(1).standard_normal((1, 2, 6, 7))))  # many ties
    out = F.max_pool2d(x, 3, stride=1, padding=1)
    twin = torch_leaf(x)
    expected = torch.nn.functional.max_pool2d(twin, 3, stride=1, padding=1)
    out.sum().backward()
    expected.sum().backward()
    assert_close(x.grad.data, twin.grad.numpy())


def test_leftover_rows_get_zero_gradient():
    x = leaf(np.random.default_rng(0).standard_normal((1, 1, 5, 5)))
    w = leaf(np.ones((1, 1, 2, 2)))
    F.conv2d(x, w, stride=2).sum().backward()  # windows cover rows/cols 0-3 only
    assert np.all(x.grad.data[0, 0, 4, :] == 0) and np.all(x.grad.data[0, 0, :, 4] == 0)
    assert np.all(x.grad.data[0, 0, :4, :4] == 1)


def test_same_padding_keeps_the_size_for_even_kernels():
    x = leaf(np.ones((1, 1, 5, 6)))
    assert F.conv2d(x, leaf(np.ones((1, 1, 2, 4))), padding="same").shape == (1, 1, 5, 6)


def test_conv2d_is_composed_of_registered_ops():
    x = tc.Tensor(np.ones((1, 1, 4, 4)), requires_grad=True)
    w = tc.Tensor(np.ones((2, 1, 3, 3)), requires_grad=True)
    out = F.conv2d(x, w, tc.Tensor(np.zeros(2), requires_grad=True))
    chain = []
    t = out
    while t._ctx is not None and t._ctx.name != "im2col":
        chain.append(t._ctx.name)
        t = t._ctx.parents[0]
    assert chain[::-1] == ["matmul", "bias_add", "reshape", "transpose"]
    pooled = F.max_pool2d(x, 2)
    assert [
        pooled._ctx.name,
        pooled._ctx.parents[0]._ctx.name,
        pooled._ctx.parents[0]._ctx.parents[0]._ctx.name,
        pooled._ctx.parents[0]._ctx.parents[0]._ctx.parents[0]._ctx.name,
    ] == ["transpose", "reshape", "window_max", "im2col"]


@pytest.mark.parametrize("rows", ["bhw", "hwb"])
@pytest.mark.parametrize("columns", ["chw", "hwc"])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("k,s,p", [(3, 1, 1), ((2, 3), (2, 1), (1, 0)), (2, 3, 0)])
def test_col2im_is_the_adjoint_of_im2col(rows, columns, order, k, s, p, rng):
    """<im2col(x), y> = <x, col2im(y)> for both row and column orders and both memory layouts
    of y."""
    shape = (2, 3, 7, 6)
    g = window_geometry("test", shape, k, s, p)
    x = rng.standard_normal(shape)
    cols = layout.im2col(x, g, 0.0, columns, rows)
    y = np.asarray(rng.standard_normal(cols.shape), order=order)
    assert np.isclose(np.sum(cols * y), np.sum(x * layout.col2im(y, shape, g, columns, rows)))


@pytest.mark.parametrize("pad_value", [0.0, -np.inf])
@pytest.mark.parametrize(
    "shape,k,s,p,d",
    [
        ((2, 3, 7, 6), 3, 1, 1, 1),
        ((2, 3, 7, 6), (2, 3), (2, 1), (1, 0), 1),
        ((1, 2, 9, 8), 3, 2, ((2, 0), (1, 3)), (2, 1)),
        ((0, 2, 5, 5), 2, 1, 0, 1),
        # windows that never overlap: col2im writes instead of adding, into an unfilled
        # buffer where they cover every pixel (the first and last), else into zeros
        ((2, 3, 8, 6), 2, 2, 0, 1),
        ((2, 3, 7, 7), 2, 2, 0, 1),
        ((2, 3, 7, 6), 2, 3, 0, 1),
        ((2, 3, 9, 9), 2, (4, 3), 0, (2, 1)),
        ((2, 3, 6, 6), 3, 3, 1, 1),
        ((2, 3, 5, 5), 3, 3, 1, 1),
    ],
)
def test_fast_path_equals_the_textbook_im2col_and_col2im(shape, k, s, p, d, pad_value, rng):
    """layout's copies, asked for the textbook order, give the textbook's numbers exactly, and
    each other order is a permutation of them (checked below), so every order is proven here."""
    g = window_geometry("test", shape, k, s, p, d)
    x = rng.standard_normal(shape)
    cols = im2col_array(x, g, pad_value)
    assert np.array_equal(layout.im2col(x, g, pad_value, "chw", "bhw"), cols)
    y = rng.standard_normal(cols.shape)
    assert np.array_equal(layout.col2im(y, shape, g, "chw", "bhw"), col2im_array(y, shape, g))
    column_major = np.asfortranarray(y)  # as matmul's backward leaves a conv's "hwb" columns
    assert np.array_equal(
        layout.col2im(column_major, shape, g, "chw", "bhw"), col2im_array(y, shape, g)
    )


@pytest.mark.parametrize("rows", ["bhw", "hwb"])
def test_col2im_skips_kernel_offsets_that_only_read_padding(rows, rng):
    """A 2x2 input with padding 3 and a 5x5 kernel at stride 3: the windows start at padded
    rows 0 and 3, so kernel offset 2 reads rows 2 and 5, padding in both; its gradient has
    nowhere to go and is dropped."""
    shape = (2, 2, 2, 2)
    g = window_geometry("test", shape, 5, 3, 3)
    x = rng.standard_normal(shape)
    cols = layout.im2col(x, g, 0.0, "chw", rows)
    y = rng.standard_normal(cols.shape)
    assert np.isclose(np.sum(cols * y), np.sum(x * layout.col2im(y, shape, g, "chw", rows)))
    # padded rows 0..7; windows start at 0 and 3 and both cover the input's rows 3 and 4
    ones = np.ones(cols.shape)
    assert_close(layout.col2im(ones, shape, g, "chw", rows), np.full(shape, 4.0))
    assert_close(col2im_array(ones, shape, g), np.full(shape, 4.0))


@pytest.mark.parametrize("padding", [0, 1])
def test_column_and_row_orders_are_permutations_of_chw_bhw(padding, rng):
    x = rng.standard_normal((2, 3, 5, 5))
    g = window_geometry("test", x.shape, (2, 3), 1, padding)
    n = 2 * g.out_size[0] * g.out_size[1]
    chw = im2col_array(x, g).reshape(2, n // 2, 3, 2, 3)  # (b, o, c, k_h, k_w)
    hwc = layout.im2col(x, g, 0.0, "hwc", "bhw").reshape(2, n // 2, 2, 3, 3)
    hwb = layout.im2col(x, g, 0.0, "hwc", "hwb").reshape(n // 2, 2, 2, 3, 3)
    assert np.array_equal(chw.transpose(0, 1, 3, 4, 2), hwc)
    assert np.array_equal(hwc.transpose(1, 0, 2, 3, 4), hwb)
    public = F.im2col(tc.Tensor(x, dtype=np.float64), (2, 3), padding=padding, rows="hwb").data
    assert np.array_equal(public.reshape(n // 2, 2, 3, 2, 3), chw.transpose(1, 0, 2, 3, 4))


def test_hwb_columns_are_column_major_and_reach_col2im_so(rng):
    """The layout conv2d relies on: "hwb" columns are stored column by column, and a matmul of
    them keeps that order, so no transpose copy sits between the ops."""
    x = tc.Tensor(rng.standard_normal((2, 3, 6, 6)).astype(np.float32), requires_grad=True)
    cols = tc.ops.window.Im2col.apply(x, kernel_size=3, padding=1, columns="hwc", rows="hwb")
    assert cols.data.flags.f_contiguous and not cols.data.flags.c_contiguous
    product = cols @ tc.Tensor(rng.standard_normal((27, 4)).astype(np.float32))
    assert product.data.flags.f_contiguous and not product.data.flags.c_contiguous


def test_unknown_column_or_row_order():
    with pytest.raises(ValueError, match=r"im2col: columns must be 'chw' \(c, k_h, k_w\) or 'hwc'"):
        tc.ops.window.Im2col.apply(tc.Tensor(np.ones((1, 1, 3, 3))), kernel_size=2, columns="whc")
    with pytest.raises(ValueError, match=r"im2col: rows must be 'bhw' \(b, o_h, o_w\) or 'hwb'"):
        tc.ops.window.Im2col.apply(tc.Tensor(np.ones((1, 1, 3, 3))), kernel_size=2, rows="bwh")


def test_large_im2col_warns(monkeypatch):
    monkeypatch.setattr(tc.ops.window, "IM2COL_WARN_BYTES", 1000)
    with pytest.warns(
        UserWarning, match=r"im2col: columns of 0 MiB \(B\*O_h\*O_w\*C\*K_h\*K_w = 1\*8\*8\*2\*3\*3"
    ) as seen:
        F.conv2d(tc.Tensor(np.ones((1, 2, 8, 8))), tc.Tensor(np.ones((1, 2, 3, 3))), padding=1)
    # the warning points at the user's line, not into the package
    assert seen[0].filename == __file__
