"""Hypothesis strategies: for every registered op, random calls of it with their torch twins.

``STRATEGIES[op_name]`` draws a Case (see op_cases.py). Shapes include size-1 axes and
broadcasting patterns; window ops draw kernel, stride, padding and input sizes, including
stride > kernel, stride < kernel and sizes that leave rows over.
"""

import numpy as np
from helpers import leaf, torch
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_cases import ACTIVATIONS, Case, fold_twin

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn.ops.linalg import BiasAdd
from tinygrad_cnn.ops.movement import ScatterAdd
from tinygrad_cnn.ops.reduce import Standardize, Variance
from tinygrad_cnn.ops.window import Im2col, WindowMax, WindowMean, window_geometry

SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
PAIRS = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4)


def values(draw, shape, kind="normal"):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "positive":
        return leaf(rng.uniform(0.5, 2.0, shape))
    if kind == "distinct":  # at least 0.01 apart: no ties within a finite difference
        return leaf(rng.permutation(int(np.prod(shape))).reshape(shape) * 0.01)
    return leaf(rng.standard_normal(shape))


def tf():
    return torch.nn.functional


def binary(symbol, fn, positive_right=False, torch_fn=None, kind="normal"):
    @st.composite
    def strategy(draw):
        a_shape, b_shape = draw(PAIRS).input_shapes
        a, b = (
            values(draw, a_shape, kind),
            values(draw, b_shape, "positive" if positive_right else kind),
        )
        if kind == "distinct":  # no ties between a and b either
            b.data += 0.005
        return Case(f"{a_shape}{symbol}{b_shape}", fn, lambda r: (a, b), torch_fn or fn)

    return strategy()


def unary(fn, kind="normal", torch_fn=None, scale=1.0):
    @st.composite
    def strategy(draw):
        shape = draw(SHAPES)
        x = values(draw, shape, kind)
        x.data *= scale
        return Case(str(shape), fn, lambda r: (x,), torch_fn)

    return strategy()


@st.composite
def pow_case(draw):
    exponent = draw(st.sampled_from([-1.5, -1.0, 0.5, 2.0, 3.0]))
    x = values(draw, draw(SHAPES), "positive")
    return Case(f"**{exponent}", lambda a: a**exponent, lambda r: (x,), lambda a: a**exponent)


@st.composite
def matmul_case(draw):
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    kind = draw(st.sampled_from(["matrix", "vector_left", "vector_right"]))
    batch_a, batch_b = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3)
    ).input_shapes
    a_shape = (k,) if kind == "vector_left" else (*batch_a, n, k)
    b_shape = (k,) if kind == "vector_right" else (*batch_b, k, m)
    a, b = values(draw, a_shape), values(draw, b_shape)
    fn = lambda a, b: a @ b  # noqa: E731
    return Case(f"{a_shape}@{b_shape}", fn, lambda r: (a, b), fn)


@st.composite
def bias_add_case(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, max_side=4))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    x, b = values(draw, shape), values(draw, (shape[axis],))
    view = [-1 if i == axis % len(shape) else 1 for i in range(len(shape))]
    return Case(
        f"{shape} axis {axis}",
        lambda x, b: BiasAdd.apply(x, b, axis=axis),
        lambda r: (x, b),
        lambda x, b: x + b.reshape(view),
    )


@st.composite
def reshape_case(draw):
    shape = draw(SHAPES)
    target = draw(st.permutations(shape)) + ([1] if draw(st.booleans()) else [])
    x = values(draw, shape)
    return Case(
        f"{shape}->{target}",
        lambda a: a.reshape(tuple(target)),
        lambda r: (x,),
        lambda a: a.reshape(tuple(target)),
    )


@st.composite
def transpose_case(draw):
    shape = draw(SHAPES)
    axes = draw(st.permutations(range(len(shape))))
    x = values(draw, shape)
    return Case(
        f"{shape} {axes}",
        lambda a: a.transpose(*axes),
        lambda r: (x,),
        lambda a: a.permute(tuple(axes)),
    )


@st.composite
def getitem_case(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    x = values(draw, shape)
    kind = draw(st.sampled_from(["slice", "integers", "mask"]))
    if kind == "slice":
        start, stop = draw(st.integers(-shape[0], shape[0])), draw(st.integers(-shape[0], shape[0]))
        index = slice(start, stop, draw(st.integers(1, 3)))
        if len(range(*index.indices(shape[0]))) == 0:
            index = slice(None)
        twin = index
    elif kind == "integers":  # repeats accumulate
        index = np.array(draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=5)))
        twin = torch.tensor(index) if torch else None
    else:
        index = np.random.default_rng(draw(st.integers(0, 99))).random(shape) < 0.6
        index.flat[0] = True
        twin = torch.tensor(index) if torch else None
    return Case(f"{shape}[{kind}]", lambda a: a[index], lambda r: (x,), lambda a: a[twin])


def reduction(name, kind="normal"):
    @st.composite
    def strategy(draw):
        shape = draw(SHAPES)
        x = values(draw, shape, kind)
        axis = (
            None
            if not shape
            else draw(
                st.none()
                | st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True).map(tuple)
            )
        )
        keepdims = draw(st.booleans())
        dims = tuple(range(len(shape))) if axis is None else axis
        torch_name = {"max": "amax", "min": "amin"}.get(name, name)
        return Case(
            f"{shape} axis {axis} keepdims {keepdims}",
            lambda a: getattr(a, name)(axis=axis, keepdims=keepdims),
            lambda r: (x,),
            lambda a: getattr(a, torch_name)(dim=dims, keepdim=keepdims) if dims else a,
        )

    return strategy()


@st.composite
def log_softmax_case(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    axis = draw(st.integers(0, len(shape) - 1))
    x = values(draw, shape)
    x.data *= draw(st.sampled_from([1.0, 50.0]))
    return Case(
        f"{shape} axis {axis}",
        lambda a: F.log_softmax(a, axis=axis),
        lambda r: (x,),
        lambda a: tf().log_softmax(a, dim=axis),
    )


@st.composite
def window(draw, pool=False):
    """(B, C, H, W), kernel, stride, padding and dilation (1 for pooling) with an output of at
    least 1x1."""
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (1, 1) if pool else (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    max_pad = [k // 2 for k in kernel] if pool else [2, 2]
    padding = (draw(st.integers(0, max_pad[0])), draw(st.integers(0, max_pad[1])))
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    size = [draw(st.integers(max(1, k - 2 * p), 8)) for k, p in zip(spans, padding)]
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *size)
    return shape, kernel, stride, padding, dilation


def unfold_twin(x, kernel, stride, padding, columns, dilation=1, rows="bhw"):
    """torch's unfold as im2col columns: rows (b, o_h, o_w) or (o_h, o_w, b), columns (c, k_h, k_w)
    or (k_h, k_w, c)."""
    cols = tf().unfold(x, kernel, stride=stride, padding=padding, dilation=dilation)  # (B, C*K, L)
    cols = cols.permute(2, 0, 1) if rows == "hwb" else cols.transpose(1, 2)  # rows (b, l) or (l, b)
    cols = cols.reshape(-1, x.shape[1], kernel[0], kernel[1])
    return (cols if columns == "chw" else cols.permute(0, 2, 3, 1)).reshape(len(cols), -1)


@st.composite
def im2col_case(draw):
    shape, kernel, stride, padding, dilation = draw(window())
    columns, rows = draw(st.sampled_from(["chw", "hwc"])), draw(st.sampled_from(["bhw", "hwb"]))
    x = values(draw, shape)
    return Case(
        f"{shape} k{kernel} s{stride} p{padding} d{dilation} {columns} {rows}",
        lambda x: Im2col.apply(
            x,
            kernel_size=kernel,
            stride=stride,
            padding=padding,
            columns=columns,
            dilation=dilation,
            rows=rows,
        ),
        lambda r: (x,),
        lambda x: unfold_twin(x, kernel, stride, padding, columns, dilation, rows),
    )


def pool_case(op, ours, theirs, kind):
    @st.composite
    def strategy(draw):
        shape, kernel, stride, padding, _ = draw(window(pool=True))
        x = values(draw, shape, kind)
        if draw(st.booleans()):  # through the functional pooling
            return Case(
                f"{shape} k{kernel} s{stride} p{padding}",
                lambda x: ours(x, kernel, stride, padding),
                lambda r: (x,),
                lambda x: theirs(x, kernel, stride, padding),
            )
        columns = draw(st.sampled_from(["chw", "hwc"]))
        c = shape[1]
        cols = values(draw, (draw(st.integers(1, 5)), c * kernel[0] * kernel[1]), kind)
        reduce = (lambda t: t.amax(dim=1)) if op is WindowMax else (lambda t: t.mean(dim=1))

        def twin(t):
            grouped = (
                t.reshape(len(t), c, -1).transpose(1, 2)
                if columns == "chw"
                else t.reshape(len(t), -1, c)
            )
            return reduce(grouped)

        return Case(
            f"columns {cols.shape} {columns}",
            lambda t: op.apply(t, channels=c, columns=columns),
            lambda r: (cols,),
            twin,
        )

    return strategy()


@st.composite
def where_case(draw):
    cond_shape, a_shape, b_shape = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3)
    ).input_shapes
    cond = np.random.default_rng(draw(st.integers(0, 99))).random(cond_shape) < 0.5
    a, b = values(draw, a_shape), values(draw, b_shape)
    return Case(
        f"{cond_shape} ? {a_shape} : {b_shape}",
        lambda a, b: tc.where(cond, a, b),
        lambda r: (a, b),
        lambda a, b: torch.where(torch.tensor(cond), a, b),
    )


EINSUM_SPECS = [
    "ij,jk->ik",
    "bij,bjk->bik",
    "i,j->ij",
    "ij->",
    "ijk,j->ki",
    "ij,ij->i",
    "...i,...i->...",
    "ij,jk,kl->il",
    "bi,bj",
]


@st.composite
def einsum_case(draw):
    spec = draw(st.sampled_from(EINSUM_SPECS))
    sizes = {c: draw(st.integers(1, 3)) for c in "bijkl"}
    batch = draw(st.lists(st.integers(1, 3), max_size=2))
    terms = spec.split("->")[0].split(",")

    def shape(term):
        lead = [draw(st.sampled_from([n, 1])) for n in batch] if "..." in term else []
        return (*lead, *(sizes[c] for c in term.replace("...", "")))

    operands = [values(draw, shape(t)) for t in terms]
    return Case(
        f"{spec} {[x.shape for x in operands]}",
        lambda *xs: tc.einsum(spec, *xs),
        lambda r: tuple(operands),
        lambda *xs: torch.einsum(spec, *xs),
    )


@st.composite
def cat_case(draw):
    base = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3))
    axis = draw(st.integers(-len(base), len(base) - 1))
    shapes = [
        tuple(draw(st.integers(0, 3)) if i == axis % len(base) else n for i, n in enumerate(base))
        for _ in range(draw(st.integers(1, 3)))
    ]
    xs = [values(draw, s) for s in shapes]
    if draw(st.booleans()):
        return Case(
            f"cat {shapes} axis {axis}",
            lambda *xs: tc.cat(list(xs), axis=axis),
            lambda r: tuple(xs),
            lambda *xs: torch.cat(xs, dim=axis),
        )
    same = [values(draw, base) for _ in shapes]
    return Case(
        f"stack {len(same)} x {base} axis {axis}",
        lambda *xs: tc.stack(list(xs), axis=axis),
        lambda r: tuple(same),
        lambda *xs: torch.stack(xs, dim=axis),
    )


@st.composite
def expand_case(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))
    target = (
        *draw(st.lists(st.integers(0, 3), max_size=2)),
        *(draw(st.integers(1, 3)) if n == 1 else n for n in shape),
    )
    x = values(draw, shape)
    return Case(
        f"{shape}->{target}",
        lambda a: a.broadcast_to(target),
        lambda r: (x,),
        lambda a: a.expand(target),
    )


@st.composite
def pad_case(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    limit = {"reflect": lambda n: n - 1, "circular": lambda n: n}.get(mode, lambda n: 3)
    widths = [(draw(st.integers(0, limit(n))), draw(st.integers(0, limit(n)))) for n in shape]
    flat = tuple(w for pair in reversed(widths) for w in pair)  # torch's order: last axis first
    x = values(draw, shape)

    def twin(t):  # each padded axis as an index_select of the source elements np.pad reads
        if mode == "constant":
            return tf().pad(t, flat, value=0.25)
        numpy_mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
        for axis, (n, width) in enumerate(zip(shape, widths)):
            t = t.index_select(axis, torch.tensor(np.pad(np.arange(n), width, mode=numpy_mode)))
        return t

    return Case(
        f"{shape} {mode} {widths}",
        lambda a: F.pad(a, flat, mode=mode, value=0.25),
        lambda r: (x,),
        twin,
    )


@st.composite
def col2im_case(draw):
    """Columns of random values (not an im2col result) folded back onto (B, C, H, W)."""
    shape, kernel, stride, padding, dilation = draw(window())
    g = window_geometry("col2im", shape, kernel, stride, padding, dilation)
    rows = shape[0] * g.out_size[0] * g.out_size[1]
    cols = values(draw, (rows, shape[1] * kernel[0] * kernel[1]))
    return Case(
        f"{shape} k{kernel} s{stride} p{padding} d{dilation}",
        lambda c: F.col2im(c, shape, kernel, stride, padding, dilation),
        lambda r: (cols,),
        lambda c: fold_twin(c, shape, kernel, stride, padding, dilation),
    )


@st.composite
def scatter_add_case(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    count = int(np.prod(shape))
    value_shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=5))
    # repeats add
    positions = np.random.default_rng(draw(st.integers(0, 99))).integers(0, count, value_shape)
    v = values(draw, value_shape)
    return Case(
        f"{value_shape} into {shape}",
        lambda a: ScatterAdd.apply(a, positions, shape),
        lambda r: (v,),
        lambda a: (
            torch.zeros(count, dtype=a.dtype)
            .index_add(0, torch.tensor(positions.ravel()), a.reshape(-1))
            .reshape(shape)
        ),
    )


@st.composite
def gather_case(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    axis = draw(st.integers(0, len(shape) - 1))
    index_shape = tuple(
        draw(st.integers(1, 4)) if i == axis else draw(st.integers(1, n))
        for i, n in enumerate(shape)
    )
    index = np.random.default_rng(draw(st.integers(0, 99))).integers(0, shape[axis], index_shape)
    x = values(draw, shape)
    return Case(
        f"{shape} axis {axis} index {index_shape}",
        lambda a: a.gather(axis, index),
        lambda r: (x,),
        lambda a: a.gather(axis, torch.tensor(index)),
    )


@st.composite
def cumsum_case(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    x = values(draw, shape)
    return Case(
        f"{shape} axis {axis}",
        lambda a: a.cumsum(axis=axis),
        lambda r: (x,),
        lambda a: a.cumsum(dim=axis),
    )


@st.composite
def variance_case(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, max_side=4))
    axes = tuple(draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, unique=True)))
    x = values(draw, shape)
    return Case(
        f"{shape} over {axes}",
        lambda a: Variance.apply(a, axes=axes),
        lambda r: (x,),
        lambda a: a.var(dim=axes, keepdim=True, correction=0),
    )


@st.composite
def standardize_case(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, max_side=4))
    kept = [draw(st.booleans()) for _ in shape]
    stats = tuple(n if keep else 1 for n, keep in zip(shape, kept))
    eps = draw(st.sampled_from([0.0, 1e-5, 0.1]))
    x, mean, var = values(draw, shape), values(draw, stats), values(draw, stats, "positive")
    return Case(
        f"{shape} with statistics {stats}, eps {eps}",
        lambda x, m, v: Standardize.apply(x, m, v, eps=eps),
        lambda r: (x, mean, var),
        lambda x, m, v: (x - m) / (v + eps).sqrt(),
    )


STRATEGIES = {
    "add": binary("+", lambda a, b: a + b),
    "sub": binary("-", lambda a, b: a - b),
    "mul": binary("*", lambda a, b: a * b),
    "div": binary("/", lambda a, b: a / b, positive_right=True),
    "neg": unary(lambda a: -a, torch_fn=lambda a: -a),
    "pow": pow_case(),
    "exp": unary(lambda a: a.exp(), torch_fn=lambda a: a.exp()),
    "log": unary(lambda a: a.log(), "positive", torch_fn=lambda a: a.log()),
    "relu": unary(lambda a: a.relu(), torch_fn=lambda a: a.relu()),
    "sigmoid": unary(lambda a: a.sigmoid(), scale=5.0, torch_fn=lambda a: a.sigmoid()),
    "tanh": unary(lambda a: a.tanh(), scale=2.0, torch_fn=lambda a: a.tanh()),
    "matmul": matmul_case(),
    "bias_add": bias_add_case(),
    "reshape": reshape_case(),
    "transpose": transpose_case(),
    "getitem": getitem_case(),
    "sum": reduction("sum"),
    "mean": reduction("mean"),
    "max": reduction("max", "distinct"),
    "min": reduction("min", "distinct"),
    "cumsum": cumsum_case(),
    "variance": variance_case(),
    "standardize": standardize_case(),
    "sqrt": unary(lambda a: a.sqrt(), "positive", torch_fn=lambda a: a.sqrt()),
    "maximum": binary(
        " max ",
        lambda a, b: tc.maximum(a, b),
        torch_fn=lambda a, b: torch.maximum(a, b),
        kind="distinct",
    ),
    "minimum": binary(
        " min ",
        lambda a, b: tc.minimum(a, b),
        torch_fn=lambda a, b: torch.minimum(a, b),
        kind="distinct",
    ),
    "where": where_case(),
    "astype": unary(lambda a: a.astype(np.float64), torch_fn=lambda a: a.double()),
    "einsum": einsum_case(),
    "cat": cat_case(),
    "expand": expand_case(),
    "pad": pad_case(),
    "gather": gather_case(),
    "log_softmax": log_softmax_case(),
    "im2col": im2col_case(),
    "col2im": col2im_case(),
    "scatter_add": scatter_add_case(),
    "window_max": pool_case(WindowMax, F.max_pool2d, lambda *a: tf().max_pool2d(*a), "distinct"),
    "window_mean": pool_case(WindowMean, F.avg_pool2d, lambda *a: tf().avg_pool2d(*a), "normal"),
    **{name: unary(fn, torch_fn=twin, scale=3.0) for name, (fn, twin, _) in ACTIVATIONS.items()},
}
