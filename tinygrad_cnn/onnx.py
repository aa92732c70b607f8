"""ONNX export: run the model once, then convert the graph it recorded.

    tc.onnx.export(model, example_input, "model.onnx")

Every op records the modules whose forward ran it, so the graph is read in layers: the ops one
call of a Conv2d ran (im2col, matmul, bias_add, reshape, transpose) become one ONNX Conv with
that module's weights and its stride, padding, dilation and groups; a MaxPool2d's or
AvgPool2d's become one MaxPool or AveragePool, a Linear's one Gemm, a BatchNorm2d's (in eval
mode) one BatchNormalization, an activation module's its ONNX activation. Ops run outside
such a module (a residual ``+``, a ``relu()`` in a custom forward) are converted one by one.
Anything else fails with an error naming the op and its module; a custom op can register
a converter with :func:`register`. Needs the ``onnx`` package (``pip install onnx``).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from . import functional as F
from . import nn
from .arguments import int_pair
from .engine import topological_order
from .function import trace
from .functional.pooling import pool_geometry
from .functional.resampling import linear_source, nearest_source, target_size
from .npz import replace_file
from .ops.window import window_geometry
from .tensor import Tensor

__all__ = ["export", "register", "Builder"]

OP_CONVERTERS: dict[str, Callable] = {}
"""Op name -> converter(builder, ctx, input names) returning the output's name."""


def register(op_name: str) -> Callable:
    """Decorator: convert op ``op_name`` (run outside a known module) with
    ``fn(builder, ctx, inputs) -> output name``; ``inputs`` are the names of its tensor inputs
    and ``ctx`` is its graph node (attributes in ``ctx.attrs``)."""

    def decorate(fn: Callable) -> Callable:
        OP_CONVERTERS[op_name] = fn
        return fn

    return decorate


class Builder:
    """Collects ONNX nodes and initializers, and names tensors."""

    def __init__(self, helper: Any, numpy_helper: Any):
        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes: list = []
        self.initializers: list = []
        self.count = 0

    def fresh(self, hint: str) -> str:
        """A new unique name."""
        self.count += 1
        return f"{hint}_{self.count}"

    def constant(self, array: Any, hint: str = "const") -> str:
        """An initializer holding ``array``; returns its name."""
        name = self.fresh(hint)
        self.initializers.append(self.numpy_helper.from_array(np.asarray(array), name))
        return name

    def constants(self) -> set[str]:
        """The names of the initializers so far."""
        return {init.name for init in self.initializers}

    def node(self, op_type: str, inputs: list[str], **attrs: Any) -> str:
        """One ONNX node with one output; returns the output's name."""
        output = self.fresh(op_type.lower())
        self.nodes.append(self.helper.make_node(op_type, inputs, [output], **attrs))
        return output


# ---- layers -----------------------------------------------------------------------------------
def _pads(g) -> list[int]:
    (pt, pb), (pl, pr) = g.padding
    return [pt, pl, pb, pr]


def _conv(b: Builder, m: nn.Conv2d, x: str, shape: tuple) -> str:
    g = window_geometry("Conv2d", shape, m.kernel_size, m.stride, m.padding, m.dilation)
    pads = _pads(g)
    if m.padding_mode != "zeros":  # pad first, as the module does, then convolve unpadded
        if m.padding_mode not in _PAD_MODES:
            raise ValueError(
                f"onnx.export: {m!r}: padding_mode {m.padding_mode!r} has no ONNX Pad mode"
            )
        (pt, pb), (pl, pr) = g.padding
        x = b.node(
            "Pad",
            [x, b.constant(np.array([0, 0, pt, pl, 0, 0, pb, pr], np.int64), "pads")],
            mode=_PAD_MODES[m.padding_mode],
        )
        pads = [0, 0, 0, 0]
    inputs = [x, b.constant(m.weight.data, "weight")] + (
        [b.constant(m.bias.data, "bias")] if m.bias is not None else []
    )
    return b.node(
        "Conv",
        inputs,
        kernel_shape=list(g.kernel_size),
        strides=list(g.stride),
        pads=pads,
        dilations=list(g.dilation),
        group=m.groups,
    )


_PAD_MODES = {"reflect": "reflect", "replicate": "edge"}


def _conv_transpose(b: Builder, m: nn.ConvTranspose2d, x: str, shape: tuple) -> str:
    pads, out_pads = (
        int_pair("ConvTranspose2d", name, value, 0)
        for name, value in (("padding", m.padding), ("output_padding", m.output_padding))
    )
    inputs = [x, b.constant(m.weight.data, "weight")] + (
        [b.constant(m.bias.data, "bias")] if m.bias is not None else []
    )
    return b.node(
        "ConvTranspose",
        inputs,
        kernel_shape=list(m.kernel_size),
        pads=[*pads, *pads],
        strides=list(int_pair("ConvTranspose2d", "stride", m.stride, 1)),
        output_padding=list(out_pads),
        dilations=list(int_pair("ConvTranspose2d", "dilation", m.dilation, 1)),
        group=m.groups,
    )


def _adaptive_avg_pool(b: Builder, m: nn.AdaptiveAvgPool2d, x: str, shape: tuple) -> str:
    if m.output_size not in (1, (1, 1), [1, 1]):
        raise ValueError(
            f"onnx.export: {m!r}: only output size 1 (GlobalAveragePool) has an ONNX twin"
        )
    return b.node("GlobalAveragePool", [x])


def _upsample(b: Builder, m: nn.Upsample, x: str, shape: tuple) -> str:
    """Gathers of rows and columns with the forward's own indices and weights (ONNX's Resize
    computes sizes and source positions in ways PyTorch does not)."""
    (h, w) = shape[2:]
    (oh, ow), factors = target_size(m.size, m.scale_factor, (h, w))
    if m.mode != "bilinear":
        exact = m.mode == "nearest-exact"
        rows = b.node(
            "Gather", [x, b.constant(nearest_source(h, oh, factors[0], exact), "rows")], axis=2
        )
        return b.node(
            "Gather", [rows, b.constant(nearest_source(w, ow, factors[1], exact), "cols")], axis=3
        )
    for axis, (n, o, f) in ((2, (h, oh, factors[0])), (3, (w, ow, factors[1]))):
        left, right, t = linear_source(n, o, f, bool(m.align_corners))
        weight = t.astype(np.float32).reshape((-1, 1) if axis == 2 else (-1,))
        mixed = [
            b.node(
                "Mul",
                [
                    b.node("Gather", [x, b.constant(index, "index")], axis=axis),
                    b.constant(share, "w"),
                ],
            )
            for index, share in ((left, 1 - weight), (right, weight))
        ]
        x = b.node("Add", mixed)
    return x


def _pool(b: Builder, m: Any, x: str, shape: tuple) -> str:
    # the windows as we size them, ceil_mode's partial window folded into the end padding:
    # ONNX's ceil_mode lacks PyTorch's rule that a last window must start inside the input
    g = pool_geometry(
        type(m).__name__,
        shape,
        m.kernel_size,
        m.stride,
        m.padding,
        getattr(m, "dilation", 1),
        m.ceil_mode,
    )
    attrs = dict(kernel_shape=list(g.kernel_size), strides=list(g.stride), pads=_pads(g))
    if isinstance(m, nn.MaxPool2d):
        return b.node("MaxPool", [x], dilations=list(g.dilation), **attrs)
    if m.divisor_override is not None:
        raise ValueError(f"onnx.export: {m!r}: divisor_override has no ONNX AveragePool attribute")
    (top, bottom), (left, right) = g.padding
    (p_h, p_w) = int_pair("AvgPool2d", "padding", m.padding, 0)
    if not m.count_include_pad or (bottom <= p_h and right <= p_w):
        return b.node("AveragePool", [x], count_include_pad=int(m.count_include_pad), **attrs)
    # the padding counts, but not what ceil_mode adds past it: pad with zeros that are data
    # now, then average without counting the rest
    padded = b.node(
        "Pad", [x, b.constant(np.array([0, 0, p_h, p_w, 0, 0, p_h, p_w], np.int64), "pads")]
    )
    attrs["pads"] = [0, 0, max(bottom - p_h, 0), max(right - p_w, 0)]
    return b.node("AveragePool", [padded], count_include_pad=0, **attrs)


def _linear(b: Builder, m: nn.Linear, x: str, shape: tuple) -> str:
    if len(shape) != 2:  # (..., in) @ (in, out) + (out,)
        product = b.node("MatMul", [x, b.constant(np.ascontiguousarray(m.weight.data.T), "weight")])
        return (
            product if m.bias is None else b.node("Add", [product, b.constant(m.bias.data, "bias")])
        )
    inputs = [x, b.constant(m.weight.data, "weight")] + (
        [b.constant(m.bias.data, "bias")] if m.bias is not None else []
    )
    return b.node("Gemm", inputs, transB=1)


def _batch_norm(b: Builder, m: Any, x: str, shape: tuple) -> str:
    if m.running_mean is None:  # the export runs in eval mode, which needs them
        raise ValueError(
            f"onnx.export: {type(m).__name__} has no running statistics (track_running_stats=False)"
        )
    n = m.num_features
    scale = m.weight.data if m.weight is not None else np.ones(n, np.float32)
    shift = m.bias.data if m.bias is not None else np.zeros(n, np.float32)
    return b.node(
        "BatchNormalization",
        [
            x,
            b.constant(scale, "scale"),
            b.constant(shift, "shift"),
            b.constant(m.running_mean.data, "mean"),
            b.constant(m.running_var.data, "var"),
        ],
        epsilon=float(m.eps),
    )


def _flatten(b: Builder, m: nn.Flatten, x: str, shape: tuple) -> str:
    if m.start_dim % len(shape) != 1 or m.end_dim % len(shape) != len(shape) - 1:
        raise ValueError(
            f"onnx.export: {m!r}: only Flatten(1, -1), which keeps the batch axis, has an ONNX twin"
        )
    return b.node("Flatten", [x], axis=1)


def _activation(b: Builder, m: Any, x: str, shape: tuple) -> str:
    """An activation module as ONNX, from its function's arguments bound as its forward binds
    them (positional or keyword, defaults filled in); anything not representable is refused."""
    fn = type(m).function
    bound = inspect.signature(fn).bind(None, *m.args, **m.kwargs)
    bound.apply_defaults()
    p = dict(list(bound.arguments.items())[1:])  # without the input
    if fn in _PLAIN and not p:
        return b.node(_PLAIN[fn], [x])
    if fn is F.leaky_relu:
        return b.node("LeakyRelu", [x], alpha=float(p["negative_slope"]))
    if fn in (F.elu, F.celu):
        return b.node("Elu" if fn is F.elu else "Celu", [x], alpha=float(p["alpha"]))
    if fn in (F.softmax, F.log_softmax, F.softmin):
        axis = p["axis"] if p.get("dim") is None else p["dim"]
        if isinstance(axis, int):
            source = b.node("Neg", [x]) if fn is F.softmin else x
            return b.node("LogSoftmax" if fn is F.log_softmax else "Softmax", [source], axis=axis)
    if fn is F.softplus:  # log(1 + e^(beta x)) / beta
        beta = float(p["beta"])
        if beta == 1.0:
            return b.node("Softplus", [x])
        scaled = b.node("Softplus", [b.node("Mul", [x, b.constant(np.float32(beta), "beta")])])
        return b.node("Div", [scaled, b.constant(np.float32(beta), "beta")])
    if fn in (F.hardtanh, F.relu6):
        low, high = (0.0, 6.0) if fn is F.relu6 else (p["min_val"], p["max_val"])
        return b.node(
            "Clip", [x, b.constant(np.float32(low), "low"), b.constant(np.float32(high), "high")]
        )
    if fn is F.hardsigmoid:
        return b.node("HardSigmoid", [x], alpha=1 / 6, beta=0.5)
    if fn is F.silu:
        return b.node("Mul", [x, b.node("Sigmoid", [x])])
    if fn is F.mish:
        return b.node("Mul", [x, b.node("Tanh", [b.node("Softplus", [x])])])
    if fn is F.gelu and p["approximate"] == "none":  # x * (1 + erf(x / sqrt 2)) / 2
        erf = b.node(
            "Erf", [b.node("Mul", [x, b.constant(np.float32(1 / np.sqrt(2)), "inv_sqrt2")])]
        )
        half = b.node("Mul", [x, b.constant(np.float32(0.5), "half")])
        return b.node("Mul", [half, b.node("Add", [erf, b.constant(np.float32(1), "one")])])
    raise ValueError(f"onnx.export: no ONNX conversion for {m!r}")


_PLAIN = {
    F.relu: "Relu",
    F.sigmoid: "Sigmoid",
    F.tanh: "Tanh",
    F.identity: "Identity",
    F.softsign: "Softsign",
    F.selu: "Selu",
}

MODULE_CONVERTERS: dict[type, Callable] = {
    nn.Conv2d: _conv,
    nn.MaxPool2d: _pool,
    nn.AvgPool2d: _pool,
    nn.ConvTranspose2d: _conv_transpose,
    nn.AdaptiveAvgPool2d: _adaptive_avg_pool,
    nn.Upsample: _upsample,
    nn.Linear: _linear,
    nn.BatchNorm2d: _batch_norm,
    nn.Flatten: _flatten,
}


def _module_converter(module: Any) -> Callable | None:
    """The converter for exactly this module class: a subclass may have its own forward, so
    its ops are converted one by one instead."""
    kind = type(module)
    if kind is nn.Dropout:
        return lambda b, m, x, shape: b.node("Identity", [x])
    if kind.__module__ == nn.activations.__name__ and hasattr(
        kind, "function"
    ):  # nn's own activations
        return _activation
    return MODULE_CONVERTERS.get(kind)


# ---- single ops ---------------------------------------------------------------------------------
for _name, _onnx in {
    "add": "Add",
    "sub": "Sub",
    "mul": "Mul",
    "div": "Div",
    "matmul": "MatMul",
    "neg": "Neg",
    "exp": "Exp",
    "log": "Log",
    "sqrt": "Sqrt",
    "relu": "Relu",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "abs": "Abs",
}.items():
    register(_name)(lambda b, ctx, inputs, _onnx=_onnx: b.node(_onnx, inputs))


@register("transpose")
def _transpose(b: Builder, ctx: Any, inputs: list[str]) -> str:
    return b.node(
        "Transpose", inputs, perm=[int(a) for a in ctx.attrs.get("axes", ctx.attrs.get("arg1"))]
    )


@register("reshape")
def _reshape(b: Builder, ctx: Any, inputs: list[str]) -> str:
    shape = list(ctx.attrs["shape"])
    source = ctx.parents[0].shape
    if source and shape and shape[0] == source[0] and inputs[0] not in b.constants():
        shape[0] = 0  # the batch axis stays: 0 copies the input's, whatever the batch size
    return b.node("Reshape", [inputs[0], b.constant(np.array(shape, np.int64), "shape")])


@register("cat")
def _cat(b: Builder, ctx: Any, inputs: list[str]) -> str:
    return b.node("Concat", inputs, axis=int(ctx.attrs["axis"]))


@register("getitem")
def _getitem(b: Builder, ctx: Any, inputs: list[str]) -> str:
    """Slices (``x[:, :, ::2]``, ``x[..., 1:3]``) as ONNX Slice; other indices are refused."""
    shape, index = ctx.parents[0].shape, ctx.attrs["index"]
    parts = list(index) if isinstance(index, tuple) else [index]
    if parts.count(Ellipsis) == 1:
        at = parts.index(Ellipsis)
        parts[at : at + 1] = [slice(None)] * (len(shape) - len(parts) + 1)
    if not all(isinstance(p, slice) for p in parts):
        raise ValueError(
            f"onnx.export: getitem {index!r} on shape {shape}: only slices have an ONNX conversion"
        )
    ranges = [p.indices(n) for p, n in zip(parts, shape)]
    axes = [
        a for a, (start, stop, step) in enumerate(ranges) if (start, stop, step) != (0, shape[a], 1)
    ]
    starts, ends, steps = ([ranges[a][k] for a in axes] for k in range(3))
    ends = [e if e >= 0 else -(2**62) for e in ends]  # a negative step's end before index 0
    return b.node(
        "Slice",
        [inputs[0]]
        + [
            b.constant(np.array(v, np.int64), name)
            for v, name in ((starts, "starts"), (ends, "ends"), (axes, "axes"), (steps, "steps"))
        ],
    )


@register("pad")
def _pad(b: Builder, ctx: Any, inputs: list[str]) -> str:
    widths, mode = ctx.attrs["widths"], ctx.attrs["mode"]
    if mode not in ("constant", "reflect", "replicate"):
        raise ValueError(f"onnx.export: pad mode {mode!r} has no ONNX Pad mode at opset 17")
    pads = b.constant(np.array([w[0] for w in widths] + [w[1] for w in widths], np.int64), "pads")
    if mode != "constant":
        return b.node(
            "Pad", [inputs[0], pads], mode={"reflect": "reflect", "replicate": "edge"}[mode]
        )
    value = b.constant(np.array(ctx.attrs.get("value", 0.0), dtype=ctx.parents[0].dtype), "value")
    return b.node("Pad", [inputs[0], pads, value])


# ---- the export ---------------------------------------------------------------------------------
def _constant(b: Builder, t: Tensor) -> str:
    """A leaf the model used that is not its input (a constant, a free tensor) as an initializer."""
    if t._ctx is not None:
        raise AssertionError(f"onnx.export: a {t.shape} result was used before it was converted")
    return b.constant(t._data)


def _layers(output: Tensor, source: Tensor) -> list[tuple[Any, Any, list[Tensor], Tensor]]:
    """The recorded graph from ``source`` to ``output`` in forward order, as (module or None,
    op or None, inputs, output): the ops of one call of a convertible module folded into one
    entry, whose input is the tensor that flows into it (its weights, buffers and the
    constants it derives from them belong to the module)."""
    entries: list = []
    open_calls: dict[int, list] = {}
    forward = list(reversed(topological_order(output)))
    position = {id(t): i for i, t in enumerate(forward)}
    for tensor in forward:
        ctx = tensor._ctx
        module = next((m for m in reversed(ctx.scope) if _module_converter(m) is not None), None)
        if module is None:
            entries.append([None, ctx, list(ctx.parents), tensor])
            continue
        call = open_calls.get(id(ctx.scope))
        if call is None:
            call = open_calls[id(ctx.scope)] = [module, None, [], tensor, set()]
            entries.append(call)
        call[3] = tensor
        call[4].add(id(tensor))
        for p in (
            ctx.parents
        ):  # the call's data input: the model's input or a result made before the call
            if (
                (p is source or p._ctx is not None)
                and id(p) not in call[4]
                and all(p is not q for q in call[2])
            ):
                call[2].append(p)
    # a call's weight reshapes may run before its input exists: place it where its output is made
    entries.sort(key=lambda entry: position[id(entry[3])])
    return [(m, ctx, inputs, out) for m, ctx, inputs, out, *_ in entries]


def export(
    model: Any, example_input: Any, path: str, opset_version: int = 17, dynamic_batch: bool = True
) -> Any:
    """Convert ``model`` (run once, in eval mode, on ``example_input`` (B, ...)) to ONNX and
    write it to ``path``; returns the ModelProto, checked with ``onnx.checker`` (full check).
    With ``dynamic_batch`` the first axis of the input and output is named "batch"."""
    try:
        import onnx
        from onnx import helper, numpy_helper
    except ImportError:
        raise ImportError(
            "onnx.export needs the onnx package: pip install onnx (or tinygrad_cnn[interop])"
        ) from None
    x = (
        example_input
        if isinstance(example_input, Tensor)
        else Tensor(np.asarray(example_input, dtype=np.float32))
    )
    modes = [(module, module.training) for _, module in model.named_modules()]
    model.eval()
    try:
        with trace():
            out = model(x)
    finally:
        for (
            module,
            training,
        ) in modes:  # each module's own mode back (a frozen batch norm stays frozen)
            module.training = training
    b = Builder(helper, numpy_helper)
    names = {id(x): "input"}
    for module, ctx, inputs, result in _layers(out, x) if out._ctx is not None else []:
        sources = [names[id(t)] if id(t) in names else _constant(b, t) for t in inputs]
        if module is not None:
            if len(inputs) != 1:
                raise ValueError(
                    f"onnx.export: {type(module).__name__} received {len(inputs)} tensor inputs, "
                    "expected 1"
                )
            names[id(result)] = _module_converter(module)(b, module, sources[0], inputs[0].shape)
        elif ctx.name in OP_CONVERTERS:
            names[id(result)] = OP_CONVERTERS[ctx.name](b, ctx, sources)
        else:
            where = type(ctx.scope[-1]).__name__ if ctx.scope else "the model's forward"
            raise ValueError(
                f"onnx.export: op {ctx.name!r} (in {where}) has no ONNX conversion; register one "
                f"with tc.onnx.register({ctx.name!r})"
            )
    b.nodes.append(helper.make_node("Identity", [names[id(out)]], ["output"]))
    batch = "batch" if dynamic_batch else None
    graph = helper.make_graph(
        b.nodes,
        "tinygrad_cnn",
        [
            helper.make_tensor_value_info(
                "input", onnx.TensorProto.FLOAT, [batch or x.shape[0], *x.shape[1:]]
            )
        ],
        [
            helper.make_tensor_value_info(
                "output", onnx.TensorProto.FLOAT, [batch or out.shape[0], *out.shape[1:]]
            )
        ],
        b.initializers,
    )
    proto = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", opset_version)], producer_name="tinygrad_cnn"
    )
    onnx.checker.check_model(proto, full_check=True)
    replace_file(os.fspath(path), lambda f: f.write(proto.SerializeToString()))
    return proto
