"""Matrix product, the per-channel bias add and einsum."""

from __future__ import annotations

import numpy as np

from ..function import Function
from . import layout


def _check_matmul(a: np.ndarray, b: np.ndarray) -> None:
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul: operands must have at least 1 dimension, got shapes {a.shape} and {b.shape}"
        )
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if a.shape[-1] != inner_b:
        raise ValueError(
            f"matmul: inner sizes differ: a has shape {a.shape} (inner {a.shape[-1]}), "
            f"b has shape {b.shape} (inner {inner_b})"
        )
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(
            f"matmul: batch dimensions of {a.shape} and {b.shape} do not broadcast"
        ) from None


class Matmul(Function):
    """``a @ b`` with numpy semantics: 2-D, batched (broadcast batch axes) and 1-D operands.

    Gradients: da = grad @ b^T, db = a^T @ grad (batch axes summed back by the engine).
    Two 1-D operands give their dot product, whose gradients are grad * b and grad * a.
    A column-major 2-D ``a`` gives a column-major product (see :mod:`~tinygrad_cnn.ops.layout`),
    the layout im2col's "hwb" columns hand to a convolution's later ops.
    """

    broadcasting = True

    @staticmethod
    def forward(ctx, a, b):
        _check_matmul(a, b)
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(a if need_b else None, b if need_a else None)  # da uses b, db uses a
        ctx.ndims = a.ndim, b.ndim
        return layout.product(a, b) if a.ndim == b.ndim == 2 else a @ b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad = layout.blas_ready(grad)
        a_ndim, b_ndim = ctx.ndims
        if a_ndim == b_ndim == 1:
            return (grad * b if need_a else None), (grad * a if need_b else None)
        # Treat 1-D operands as a row (a) or column (b) matrix, as numpy does.
        a2 = a[None, :] if a_ndim == 1 and need_b else a
        b2 = b[:, None] if b_ndim == 1 and need_a else b
        if a_ndim == 1:
            grad = np.expand_dims(grad, -2)
        if b_ndim == 1:
            grad = np.expand_dims(grad, -1)
        grad_a = grad_b = None
        if need_a and a_ndim == b_ndim == 2:
            grad_a = layout.product_input_gradient(grad, b)
        elif need_a:
            grad_a = grad @ np.swapaxes(b2, -1, -2)
            grad_a = grad_a[..., 0, :] if a_ndim == 1 else grad_a
        if need_b:
            grad_b = np.swapaxes(a2, -1, -2) @ grad
            grad_b = grad_b[..., 0] if b_ndim == 1 else grad_b
        return grad_a, grad_b

    @staticmethod
    def graph_backward(ctx, grad):
        a, b = ctx.parents
        if a.ndim == b.ndim == 1:
            return grad * b, grad * a
        # 1-D operands as a row (a) or column (b) matrix, as in forward; then back to 1-D
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        grad = grad.reshape(*grad.shape[:-1], 1, grad.shape[-1]) if a.ndim == 1 else grad
        grad = grad.reshape(*grad.shape, 1) if b.ndim == 1 else grad
        grad_a, grad_b = grad @ _swap_last(b2), _swap_last(a2) @ grad
        grad_a = grad_a.reshape(*grad_a.shape[:-2], grad_a.shape[-1]) if a.ndim == 1 else grad_a
        grad_b = grad_b.reshape(*grad_b.shape[:-1]) if b.ndim == 1 else grad_b
        return grad_a, grad_b


def _swap_last(t):
    """The last two axes of a Tensor swapped (a batched transpose)."""
    return t.transpose(*range(t.ndim - 2), t.ndim - 1, t.ndim - 2)


class BiasAdd(Function):
    """Add a per-channel vector along ``axis``: (N, M) + (M,) for axis=-1, (B, C, H, W) + (C,)
    for axis=1.

    Backward: the input's gradient passes through; the bias's sums over every other axis.
    """

    @staticmethod
    def forward(ctx, x, bias, axis=-1):
        if x.ndim == 0 or not -x.ndim <= axis < x.ndim:
            raise ValueError(f"bias_add: axis {axis} is out of range for input of shape {x.shape}")
        axis %= x.ndim
        if bias.shape != (x.shape[axis],):
            raise ValueError(
                f"bias_add: bias must have shape ({x.shape[axis]},) to match axis {axis} of input "
                f"shape {x.shape}, got {bias.shape}"
            )
        ctx.axis, ctx.column_major = axis, x.ndim == 2 and layout.column_major(x)
        return x + bias.reshape([-1 if i == axis else 1 for i in range(x.ndim)])

    @staticmethod
    def backward(ctx, grad):
        need_x, need_bias = ctx.needs_input_grad
        grad_bias = None
        if need_bias and ctx.axis == grad.ndim - 1:
            # for BLAS here, and for a matmul before us, in the forward's layout
            grad = layout.blas_ready(grad, ctx.column_major)
            # ones @ rows sums the rows in BLAS: many times faster than sum(axis=0) on narrow rows
            rows = grad.reshape(-1, grad.shape[-1])
            grad_bias = np.ones(len(rows), dtype=grad.dtype) @ rows
        elif need_bias:  # the gradient passes on in its own layout: no copy into C order
            grad_bias = grad.sum(axis=tuple(i for i in range(grad.ndim) if i != ctx.axis))
        return (grad if need_x else None), grad_bias

    @staticmethod
    def graph_backward(ctx, grad):
        return grad, grad.sum(axis=tuple(i for i in range(grad.ndim) if i != ctx.axis))


class Einsum(Function):
    """``np.einsum(subscripts, *operands)`` for explicit subscripts with one letter per axis,
    e.g. "bij,bjk->bik" (:func:`tinygrad_cnn.einsum` writes implicit and "..." forms out).

    Backward: an operand's gradient is the einsum of the output gradient with the other
    operands, into that operand's letters. A letter found only in that operand was summed
    away in forward, so its gradient is the same along it: computed without the letter,
    then broadcast back.
    """

    differentiable_backward = True

    broadcasting = True  # a size-1 axis that met a longer one gets its gradient summed back

    @staticmethod
    def forward(ctx, *operands, subscripts):
        ctx.save_for_backward(*operands)
        ctx.subscripts = subscripts
        inputs = subscripts.split("->")[0].split(",")
        ctx.sizes = {}  # each letter's size: the longest of the axes it names (others broadcast)
        for letters, operand in zip(inputs, operands):
            for c, n in zip(letters, operand.shape):
                ctx.sizes[c] = max(ctx.sizes.get(c, 1), n)
        return np.einsum(subscripts, *operands, optimize=len(operands) > 1)

    @staticmethod
    def backward(ctx, grad):
        grads = []
        for k in range(len(ctx.saved_tensors)):
            if not ctx.needs_input_grad[k]:
                grads.append(None)
                continue
            spec, others, summed_away, full = _gradient_plan(ctx, k)
            partial = np.einsum(spec, grad, *(ctx.saved_tensors[i] for i in others), optimize=True)
            partial = np.expand_dims(partial, summed_away) if summed_away else partial
            grads.append(np.broadcast_to(partial, full))
        return tuple(grads)


def _gradient_plan(ctx: Einsum, k: int) -> tuple[str, list[int], list[int], tuple[int, ...]]:
    """How operand k's gradient is formed: the einsum spec (output gradient, then the other
    operands, into k's letters that they name), those others' positions, the axes of k's letters
    summed away in forward (re-inserted as size 1), and the full size every letter broadcasts to:
    along a summed-away letter the gradient is the same, and where operand k had size 1 against
    a longer axis the engine sums it back."""
    inputs, output = ctx.subscripts.split("->")
    letters = inputs.split(",")
    own = letters[k]
    others = [i for i in range(len(letters)) if i != k]
    seen = set(output).union(*(letters[i] for i in others))
    kept = "".join(c for c in own if c in seen)
    spec = ",".join([output, *(letters[i] for i in others)]) + "->" + kept
    summed_away = [i for i, c in enumerate(own) if c not in seen]
    return spec, others, summed_away, tuple(ctx.sizes[c] for c in own)
