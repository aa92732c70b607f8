"""Array functions on several tensors, composed of registered ops: cat, stack, where, einsum,
gather, pad, ... Exported at the top level (``tc.cat``), with numpy's names beside PyTorch's.

Each checks its arguments and names the function, the argument and the shapes in the error,
before numpy could fail somewhere inside.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

import numpy as np

from .arguments import axis_index, broadcast_shape, either, sizes
from .ops import elementwise as ew
from .ops import linalg, movement
from .tensor import Tensor, as_operands, binary_operands

__all__ = [
    "cat",
    "concatenate",
    "stack",
    "where",
    "maximum",
    "minimum",
    "einsum",
    "take_along_axis",
    "gather",
    "pad",
    "one_hot",
]


def _tensor_list(op: str, items: Sequence[Any]) -> list[Tensor]:
    """A non-empty list or tuple of operands as tensors of one float dtype (:func:`as_operands`)."""
    if isinstance(items, Tensor) or not isinstance(items, (list, tuple)) or not items:
        raise TypeError(
            f"{op}: expected a non-empty list or tuple of tensors, got {type(items).__name__}"
        )
    return as_operands(*items)


def cat(tensors: Sequence[Any], axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Join tensors along an existing ``axis``: (n_1, K), (n_2, K) -> (n_1 + n_2, K) for axis 0.

    torch.cat and numpy's concatenate; records the ``cat`` op, whose backward slices the gradient.
    """
    tensors = _tensor_list("cat", tensors)
    first = tensors[0]
    axis = axis_index("cat", either("cat", "axis", axis, "dim", dim) or 0, max(first.ndim, 1))
    for i, t in enumerate(tensors):
        same = t.ndim == first.ndim and all(
            n == m for k, (n, m) in enumerate(zip(t.shape, first.shape)) if k != axis
        )
        if first.ndim == 0 or not same:
            raise ValueError(
                f"cat: tensor {i} has shape {t.shape}, tensor 0 has {first.shape}; they must "
                f"have the same number of axes (at least 1) and agree on all but axis {axis}"
            )
    return movement.Cat.apply(*tensors, axis=axis)


concatenate = cat


def stack(tensors: Sequence[Any], axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Join same-shaped tensors along a new ``axis``: k tensors (N, K) -> (k, N, K) for axis 0,
    as each tensor unsqueezed, then cat."""
    tensors = _tensor_list("stack", tensors)
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(
                f"stack: tensor {i} has shape {t.shape}, tensor 0 has {tensors[0].shape}; "
                f"all must match"
            )
    axis = axis_index("stack", either("stack", "axis", axis, "dim", dim) or 0, tensors[0].ndim + 1)
    return cat([t.expand_dims(axis) for t in tensors], axis=axis)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``condition`` is True, else ``b``, all three broadcasting (torch.where,
    np.where). ``condition`` is a bool tensor or array (nonzero numbers count as True)."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype.kind not in "biuf":
        raise TypeError(f"where: condition must be bool (or numeric), got dtype {cond.dtype}")
    a, b = binary_operands(a, b)
    broadcast_shape("where", cond.shape, a.shape, b.shape)
    return ew.Where.apply(Tensor._from_op(cond.astype(bool), None, False), a, b)  # a copy: saved


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise max(a, b), broadcasting; on ties each gets half the gradient (torch.maximum)."""
    return ew.Maximum.apply(*binary_operands(a, b, "maximum"))


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise min(a, b), broadcasting; on ties each gets half the gradient (torch.minimum)."""
    return ew.Minimum.apply(*binary_operands(a, b, "minimum"))


def einsum(subscripts: str, *operands: Any) -> Tensor:
    """Einstein summation, as np.einsum and torch.einsum: ``einsum("bij,bjk->bik", a, b)``.

    Implicit output ("ij,jk": the letters used once, sorted) and "..." are written out to one
    letter per axis before the ``einsum`` op is recorded. A letter repeated within one operand
    (a diagonal, "ii->i") is not supported.
    """
    if not isinstance(subscripts, str):
        raise TypeError(
            f"einsum: subscripts must be a string such as 'ij,jk->ik', "
            f"got {type(subscripts).__name__}"
        )
    tensors = _tensor_list("einsum", list(operands))
    explicit = _explicit_subscripts(subscripts.replace(" ", ""), [t.shape for t in tensors])
    return linalg.Einsum.apply(*tensors, subscripts=explicit)


def _explicit_subscripts(subscripts: str, shapes: list[tuple[int, ...]]) -> str:
    """ "ij,jk" -> "ij,jk->ik"; "...ij,...jk->...ik" -> "aij,ajk->aik" (one letter per axis)."""
    inputs, arrow, output = subscripts.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: {subscripts!r} names {len(terms)} operand(s), got {len(shapes)}")
    if not arrow:  # numpy's implicit output: the batch axes, then the letters used once, sorted
        letters = [c for c in inputs if c.isalpha()]
        output = ("..." if "..." in inputs else "") + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1)
        )
    batch = _ellipsis_letters(subscripts, terms, shapes)
    terms = [
        term.replace("...", batch[len(batch) - (len(shape) - len(term) + 3) :])
        for term, shape in zip(terms, shapes)
    ]
    output = output.replace("...", batch)
    _check_letters(subscripts, terms, output, shapes)
    return ",".join(terms) + "->" + output


def _ellipsis_letters(subscripts: str, terms: list[str], shapes: list[tuple[int, ...]]) -> str:
    """Unused letters for the axes "..." stands for, as many as the operand with the most has;
    an operand with fewer takes the last ones (its axes align from the right, as broadcasting)."""
    longest = max(
        (len(shape) - len(term) + 3 for term, shape in zip(terms, shapes) if "..." in term),
        default=0,
    )
    return "".join([c for c in string.ascii_letters if c not in subscripts][:longest])


def _check_letters(
    subscripts: str, terms: list[str], output: str, shapes: list[tuple[int, ...]]
) -> None:
    """One distinct letter per axis, sizes that agree (or are 1), an output of known letters."""
    sizes: dict[str, int] = {}
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        if (term and not term.isalpha()) or len(term) != len(shape):
            raise ValueError(
                f"einsum: operand {i} has shape {shape}, which {subscripts!r} does not fit "
                f"(one letter per axis, got {term!r})"
            )
        if len(set(term)) != len(term):
            raise ValueError(
                f"einsum: operand {i} repeats a letter in {term!r} (a diagonal); not supported"
            )
        for c, n in zip(term, shape):
            if sizes.setdefault(c, n) != n and 1 not in (sizes[c], n):
                raise ValueError(
                    f"einsum: index {c!r} has size {sizes[c]} in one operand and {n} in operand "
                    f"{i} "
                    f"(shapes {shapes})"
                )
            sizes[c] = max(sizes[c], n)
    if len(set(output)) != len(output) or any(c not in sizes for c in output):
        raise ValueError(f"einsum: output {output!r} must name distinct indices of the operands")


def take_along_axis(x: Tensor, indices: Any, axis: int | None) -> Tensor:
    """numpy's take_along_axis: out[..., i, ...] = x[..., indices[..., i, ...], ...] along
    ``axis``; ``indices`` has x's number of axes and broadcasts against it on the others
    (axis=None: over the flattened x). Records ``gather``; repeated indices accumulate."""
    if axis is None:
        x, axis = x.reshape(-1), 0
    index = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    axis = axis_index("take_along_axis", axis, x.ndim)
    if index.dtype.kind not in "iu" or index.ndim != x.ndim:
        raise ValueError(
            f"take_along_axis: indices must be integers with the {x.ndim} axes of x {x.shape}, "
            f"got dtype {index.dtype}, shape {index.shape}"
        )
    n = x.shape[axis]
    if index.size and (index.min() < -n or index.max() >= n):
        raise IndexError(
            f"take_along_axis: indices from {index.min()} to {index.max()} are out of range "
            f"for axis {axis} of size {n} (shape {x.shape})"
        )
    broadcast_shape(
        "take_along_axis",
        x.shape[:axis] + x.shape[axis + 1 :],
        index.shape[:axis] + index.shape[axis + 1 :],
    )
    return movement.Gather.apply(x, Tensor._from_op(index % max(n, 1), None, False), axis=axis)


def gather(x: Tensor, dim: int, index: Any) -> Tensor:
    """torch.gather: out[i][j][k] = x[index[i][j][k]][j][k] for dim=0. ``index`` has x's
    number of axes and is no longer than x on the others (x is cut to it there first)."""
    index = index.data if isinstance(index, Tensor) else np.asarray(index)
    dim = axis_index("gather", dim, x.ndim)
    if index.ndim != x.ndim or any(
        m > n for d, (m, n) in enumerate(zip(index.shape, x.shape)) if d != dim
    ):
        raise ValueError(
            f"gather: index of shape {index.shape} must have the {x.ndim} axes of input {x.shape} "
            f"and be no larger on every axis but dim {dim}"
        )
    if any(m < n for d, (m, n) in enumerate(zip(index.shape, x.shape)) if d != dim):
        x = x[tuple(slice(None) if d == dim else slice(0, m) for d, m in enumerate(index.shape))]
    return take_along_axis(x, index, dim)


def pad(x: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = 0.0) -> Tensor:
    """torch.nn.functional.pad: ``pad`` lists (before, after) pairs from the last axis backwards,
    e.g. (left, right, top, bottom) for the W and H of (B, C, H, W) -> (B, C, H + top + bottom,
    W + left + right). Modes: "constant" (``value``, None meaning 0), "reflect", "replicate",
    "circular"."""
    if not isinstance(pad, (tuple, list)):
        raise TypeError(f"pad: pad must be a tuple of (before, after) sizes, got {pad!r}")
    if len(pad) % 2 or len(pad) > 2 * x.ndim:
        raise ValueError(
            f"pad: pad must hold (before, after) pairs for at most the {x.ndim} axes of "
            f"{x.shape}, got {tuple(pad)}"
        )
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return pad_axes(x, widths, mode, value)


def pad_axes(
    x: Tensor, widths: Sequence[tuple[int, int]], mode: str = "constant", value: float | None = 0.0
) -> Tensor:
    """Pad axis i by ``widths[i] = (before, after)``, in numpy's order (see :func:`pad`)."""
    if mode not in movement.PAD_MODES:
        raise ValueError(f"pad: mode must be one of {', '.join(movement.PAD_MODES)}, got {mode!r}")
    value = 0.0 if value is None else value
    if not (np.isscalar(value) and np.isreal(value)) or isinstance(value, str):
        raise TypeError(f"pad: value must be a number, got {value!r}")
    widths = tuple(sizes("pad", tuple(pair)) for pair in widths)
    if len(widths) != x.ndim or any(len(pair) != 2 for pair in widths):
        raise ValueError(
            f"pad: need one (before, after) pair for each of the {x.ndim} axes of {x.shape}, "
            f"got {widths}"
        )
    for axis, ((before, after), n) in enumerate(zip(widths, x.shape)):
        limit = {"reflect": n - 1, "circular": n, "replicate": n and np.inf}.get(mode, np.inf)
        if max(before, after) > limit:
            raise ValueError(
                f"pad: padding ({before}, {after}) of axis {axis} (size {n}, shape {x.shape}) "
                f"must be at most {limit} in {mode} mode"
            )
    attrs = {"value": value} if mode == "constant" else {}
    return movement.Pad.apply(x, widths=widths, mode=mode, **attrs)


def one_hot(labels: Any, num_classes: int = -1) -> Tensor:
    """(N,) integer labels -> (N, num_classes) int64 rows of 0 and a 1 at the label, as
    torch.nn.functional.one_hot (num_classes=-1: max label + 1). A constant without gradient."""
    labels = labels.data if isinstance(labels, Tensor) else np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers, got dtype {labels.dtype}")
    if not isinstance(num_classes, (int, np.integer)) or num_classes < -1:
        raise TypeError(f"one_hot: num_classes must be an int (or -1), got {num_classes!r}")
    classes = int(labels.max()) + 1 if num_classes == -1 and labels.size else num_classes
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(
            f"one_hot: labels must lie in [0, {classes}), "
            f"got values from {labels.min()} to {labels.max()}"
        )
    rows = np.zeros((*labels.shape, max(classes, 0)), dtype=np.int64)
    np.put_along_axis(rows, labels[..., None], 1, axis=-1)
    return Tensor._from_op(rows, None, False)
