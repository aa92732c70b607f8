"""Layer functions: convolution, transposed convolution, linear. Composed from registered ops,
no backward of their own.

Notation: B batch, C input channels, H x W input size, M output channels, K_h x K_w kernel,
O_h x O_w output size (see :mod:`tinygrad_cnn.ops.window`).
"""

from __future__ import annotations

import numpy as np

from ..arguments import int_pair
from ..ops import layout
from ..ops.linalg import BiasAdd
from ..ops.window import Col2im, Im2col, window_geometry
from ..tensor import Tensor
from ..tensor_functions import pad
from .common import as_tensor

__all__ = ["im2col", "col2im", "conv2d", "conv_transpose2d", "linear"]


def im2col(x: Tensor, kernel_size, stride=1, padding=0, dilation=1, rows: str = "bhw") -> Tensor:
    """(B, C, H, W) -> (B*O_h*O_w, C*K_h*K_w): one row per window, rows (b, o_h, o_w), columns
    (c, k_h, k_w). ``rows="hwb"`` orders the rows (o_h, o_w, b), as conv2d does."""
    x = as_tensor("im2col", "x", x)
    g = window_geometry("im2col", x.shape, kernel_size, stride, padding, dilation)
    order = {} if rows == "bhw" else {"rows": rows}  # the usual graph stays uncluttered
    return Im2col.apply(
        x, kernel_size=g.kernel_size, stride=g.stride, padding=g.padding, **_dilation(g), **order
    )


def col2im(
    cols: Tensor,
    input_shape: tuple[int, int, int, int],
    kernel_size,
    stride=1,
    padding=0,
    dilation=1,
) -> Tensor:
    """The adjoint of :func:`im2col`: (B*O_h*O_w, C*K_h*K_w) -> (B, C, H, W) for ``input_shape``
    (B, C, H, W). Each row's values are added onto the pixels its window read, so pixels in
    overlapping windows sum (torch.nn.functional.fold, with rows and columns as im2col's)."""
    cols = as_tensor("col2im", "cols", cols)
    if len(tuple(input_shape)) != 4:
        raise ValueError(f"col2im: input_shape must be (B, C, H, W), got {input_shape!r}")
    g = window_geometry("col2im", tuple(input_shape), kernel_size, stride, padding, dilation)
    return Col2im.apply(
        cols, tuple(input_shape), g.kernel_size, stride=g.stride, padding=g.padding, **_dilation(g)
    )


def _dilation(g) -> dict:
    """The dilation attribute, only when it is not 1 (keeps the usual graph uncluttered)."""
    return {} if g.dilation == (1, 1) else {"dilation": g.dilation}


def conv2d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution (cross-correlation, as PyTorch):
    (B, C, H, W) * (M, C/groups, K_h, K_w) -> (B, M, O_h, O_w), in five ops:

    1. im2col:    (B, C, H, W) -> columns (O_h*O_w*B, K_h*K_w*C)
    2. matmul:    @ the weight as a matrix (K_h*K_w*C, M) -> (O_h*O_w*B, M)
    3. bias_add:  + bias (M,), per output channel
    4. reshape:   -> (O_h, O_w, B, M)
    5. transpose: -> (B, M, O_h, O_w)

    By default the rows are ordered (o_h, o_w, b) and the columns (k_h, k_w, c), not the
    textbook's (b, o_h, o_w) and (c, k_h, k_w): the orders im2col and col2im copy fastest (see
    :mod:`tinygrad_cnn.ops.layout`); the weight is permuted to match, and the result is stored
    as (M, O_h, O_w, B), which the next layer's im2col reads in long runs. Where a geometry's
    columns are large, the orders are the fastest of four, timed on this machine the first time
    the geometry is seen (:func:`tinygrad_cnn.ops.layout.conv_orders`); steps 4 and 5 then
    follow the rows' order.

    ``dilation`` spaces the kernel's taps D pixels apart. With ``groups`` G the channels split
    into G groups convolved separately (G = C = M is a depthwise convolution): step 2 becomes
    one batched matmul of (G, O_h*O_w*B, K_h*K_w*C/G) by (G, K_h*K_w*C/G, M/G).
    """
    x, weight, bias = _conv_arguments(x, weight, bias, groups)
    g = window_geometry("conv2d", x.shape, weight.shape[2:], stride, padding, dilation)
    (b, m), (kh, kw) = (x.shape[0], weight.shape[0]), g.kernel_size
    columns, rows = layout.conv_orders(x.data, m, g) if groups == 1 else layout.CONV_ORDERS[0]
    cols = Im2col.apply(
        x,
        kernel_size=(kh, kw),
        stride=g.stride,
        padding=g.padding,
        columns=columns,
        rows=rows,
        **_dilation(g),
    )
    if groups == 1:
        # (M, C, K_h, K_w) -> (K_h, K_w, C, M) -> (K_h*K_w*C, M), or (C*K_h*K_w, M) for "chw"
        axes = (2, 3, 1, 0) if columns == "hwc" else (1, 2, 3, 0)
        out = cols @ weight.transpose(*axes).reshape(-1, m)
    else:
        out = _grouped_product(cols, weight, groups)
    if bias is not None:
        out = BiasAdd.apply(out, bias, axis=1)
    if rows == "hwb":
        return out.reshape(*g.out_size, b, m).transpose(2, 3, 0, 1)
    return out.reshape(b, *g.out_size, m).transpose(0, 3, 1, 2)


def _conv_arguments(x, weight, bias, groups: int) -> tuple[Tensor, Tensor, Tensor | None]:
    """conv2d's arguments as Tensors, checked against each other (shapes and groups)."""
    x, weight = as_tensor("conv2d", "input", x), as_tensor("conv2d", "weight", weight)
    if weight.ndim != 4:
        raise ValueError(
            f"conv2d: weight must have shape (M, C/groups, K_h, K_w), got {weight.shape}"
        )
    m = weight.shape[0]
    if not isinstance(groups, (int, np.integer)) or groups < 1 or m % groups:
        raise ValueError(
            f"conv2d: groups must be a positive int dividing the {m} output channels, "
            f"got {groups!r}"
        )
    if x.ndim != 4 or x.shape[1] != weight.shape[1] * groups:
        raise ValueError(
            f"conv2d: input of shape {x.shape} must be (B, C, H, W) with "
            f"C = {weight.shape[1] * groups}, the weight's input channels times groups={groups} "
            f"(weight shape {weight.shape})"
        )
    if bias is not None:
        bias = as_tensor("conv2d", "bias", bias)
        if bias.shape != (m,):
            raise ValueError(f"conv2d: bias must have shape ({m},), got {bias.shape}")
    return x, weight, bias


def _grouped_product(cols: Tensor, weight: Tensor, groups: int) -> Tensor:
    """Step 2 of conv2d with G groups: (N, K*C) columns times (M, C/G, K_h, K_w) -> (N, M),
    each group's channels by its own filters, in one batched matmul."""
    (n, _), (m, per_group, kh, kw) = cols.shape, weight.shape
    # (N, K*C) -> (N, K, G, C/G) -> (G, N, K, C/G) -> (G, N, K*C/G)
    grouped = cols.reshape(n, kh * kw, groups, per_group).transpose(2, 0, 1, 3)
    grouped = grouped.reshape(groups, n, kh * kw * per_group)
    # (M, C/G, K_h, K_w) -> (G, M/G, C/G, K_h, K_w) -> (G, K_h, K_w, C/G, M/G) -> (G, K*C/G, M/G)
    kernels = weight.reshape(groups, m // groups, per_group, kh, kw).transpose(0, 3, 4, 2, 1)
    kernels = kernels.reshape(groups, -1, m // groups)
    # (G, N, M/G) -> (N, G, M/G) -> (N, M)
    return (grouped @ kernels).transpose(1, 0, 2).reshape(n, m)


def transposed_size(op: str, size: int, k: int, s: int, p: int, out_pad: int, d: int) -> int:
    """A transposed convolution's output size along one axis, checked:
    O = (H - 1)*S - 2P + D*(K - 1) + output_padding + 1, with 0 <= output_padding < max(S, D)."""
    if not 0 <= out_pad < max(s, d):
        raise ValueError(
            f"{op}: output_padding must be >= 0 and smaller than the stride ({s}) or the dilation "
            f"({d}), got {out_pad}"
        )
    out = (size - 1) * s - 2 * p + d * (k - 1) + out_pad + 1
    if out < 1:
        raise ValueError(
            f"{op}: padding {p} leaves no output for input size {size}, kernel {k}, stride {s}"
        )
    return out


def conv_transpose2d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
) -> Tensor:
    """Transposed convolution, the adjoint of conv2d: (B, C, H, W) * (C, M/groups, K_h, K_w)
    -> (B, M, O_h, O_w) with O = (H - 1)*S - 2P + D*(K - 1) + output_padding + 1.

    Where conv2d gathers each window into a row and multiplies, this multiplies each input
    pixel's channels into a window's worth of values and adds the windows back with col2im:
    x -> transpose (H, W, B, C) -> reshape (H*W*B, C) @ weight (C, M*K_h*K_w) = columns
    (H*W*B, M*K_h*K_w) -> col2im (B, M, O_h, O_w) -> + bias (M,). Every input pixel is one
    window position of the output, so the col2im geometry (padding P, ending P -
    output_padding short) has exactly H x W windows. Arguments in torch's order.
    """
    op = "conv_transpose2d"
    x, weight = as_tensor(op, "input", x), as_tensor(op, "weight", weight)
    if weight.ndim != 4:
        raise ValueError(
            f"{op}: weight must have shape (C, M/groups, K_h, K_w), got {weight.shape}"
        )
    c = weight.shape[0]
    if not isinstance(groups, (int, np.integer)) or groups < 1 or c % groups:
        raise ValueError(
            f"{op}: groups must be a positive int dividing the {c} input channels, got {groups!r}"
        )
    if x.ndim != 4 or x.shape[1] != c:
        raise ValueError(
            f"{op}: input of shape {x.shape} must be (B, C, H, W) with C = {c}, the weight's "
            f"first axis (weight shape {weight.shape})"
        )
    m = weight.shape[1] * groups
    if bias is not None:
        bias = as_tensor(op, "bias", bias)
        if bias.shape != (m,):
            raise ValueError(f"{op}: bias must have shape ({m},), got {bias.shape}")
    kernel, strides, k_size = (
        weight.shape[2:],
        int_pair(op, "stride", stride, 1),
        weight.shape[2] * weight.shape[3],
    )
    pads, dilations = int_pair(op, "padding", padding, 0), int_pair(op, "dilation", dilation, 1)
    out_pads = int_pair(op, "output_padding", output_padding, 0)
    out_size = [
        transposed_size(op, *axis)
        for axis in zip(x.shape[2:], kernel, strides, pads, out_pads, dilations)
    ]
    b, (h, w) = x.shape[0], x.shape[2:]
    rows = x.transpose(2, 3, 0, 1).reshape(h * w * b, c)
    if groups == 1:
        cols = rows @ weight.reshape(c, -1)
    else:  # (N, C) -> (G, N, C/G) @ (G, C/G, M/G*K) -> (G, N, M/G*K) -> (N, M*K)
        grouped = rows.reshape(h * w * b, groups, c // groups).transpose(1, 0, 2)
        cols = (
            (grouped @ weight.reshape(groups, c // groups, -1))
            .transpose(1, 0, 2)
            .reshape(h * w * b, m * k_size)
        )
    # the window geometry ends P - output_padding short of the output's end: its last H x W
    # window then ends where the output does; output padding past the padding gets zeros after
    beyond = [max(e - p, 0) for p, e in zip(pads, out_pads)]
    padding = tuple((p, max(p - e, 0)) for p, e in zip(pads, out_pads))
    size = (b, m, *(o - extra for o, extra in zip(out_size, beyond)))
    out = Col2im.apply(
        cols,
        size,
        kernel,
        stride=strides,
        padding=padding,
        rows="hwb",
        **({} if dilations == (1, 1) else {"dilation": dilations}),
    )
    if any(beyond):
        out = pad(out, (0, beyond[1], 0, beyond[0]))
    return out if bias is None else BiasAdd.apply(out, bias, axis=1)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight^T + bias: (..., in) -> (..., out), weight (out, in), bias (out,)."""
    x, weight = as_tensor("linear", "input", x), as_tensor("linear", "weight", weight)
    if weight.ndim != 2 or x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input of shape {x.shape} needs last size {weight.shape[-1]} to match weight "
            f"of shape (out, in) = {weight.shape}"
        )
    out = x @ weight.T
    if bias is not None:
        out = BiasAdd.apply(out, as_tensor("linear", "bias", bias), axis=-1)
    return out
