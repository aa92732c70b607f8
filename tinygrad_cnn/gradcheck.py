"""Gradient checking by central differences, in float64: first derivatives (gradcheck) and
second derivatives (gradgradcheck, the gradient of a gradient built with create_graph)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .engine import grad
from .function import enable_grad, no_grad
from .tensor import Tensor

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the numerical one."""


def _numerical_gradient(loss: Callable[[], float], x: Tensor, eps: float) -> np.ndarray:
    """d loss / d x by central differences, one element at a time (x.data is nudged in place)."""
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(*x.shape):
        original = x.data[index]
        x.data[index] = original + eps
        plus = loss()
        x.data[index] = original - eps
        minus = loss()
        x.data[index] = original
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def gradcheck(
    fn: Callable[..., Tensor],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Compare the gradients backward computes for ``fn(*inputs)`` with central differences.

    Every Tensor input with ``requires_grad`` is checked; other inputs (integer targets,
    attributes) are passed through unchanged. A non-scalar output is reduced with a fixed
    random weighting, sum(fn(*inputs) * v), so every output element is exercised.
    Returns True, or raises :class:`GradcheckError` naming the input and its worst element.
    Use float64 inputs: float32 rounding swamps differences taken with a small ``eps``.
    """
    return _compare(fn, inputs, eps, atol, rtol, seed, "gradcheck")


def _compare(
    fn: Callable[..., Tensor],
    inputs: tuple,
    eps: float,
    atol: float,
    rtol: float,
    seed: int,
    checking: str,
) -> bool:
    """Backward's gradients of ``fn`` against central differences; ``checking`` names the check."""
    checked = [(i, x) for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError(f"{checking}: no input is a Tensor with requires_grad=True")
    if any(x.dtype != np.float64 for _, x in checked):
        warnings.warn(
            f"{checking}: inputs are not float64; finite differences will be inaccurate",
            stacklevel=3,
        )
    saved = [(x.data, x.grad) for _, x in checked]
    try:
        for _, x in checked:
            x.data, x.grad = np.array(x.data), None  # a private, writable copy to nudge
        out = fn(*inputs)
        weights = np.random.default_rng(seed).standard_normal(out.shape).astype(out.dtype)
        out.backward(weights)

        def loss() -> float:
            with no_grad():
                return float(np.sum(fn(*inputs).data * weights, dtype=np.float64))

        for i, x in checked:
            analytic = np.zeros(x.shape) if x.grad is None else x.grad.data.astype(np.float64)
            numerical = _numerical_gradient(loss, x, eps)
            excess = np.abs(analytic - numerical) - (atol + rtol * np.abs(numerical))
            if (excess > 0).any():
                worst = np.unravel_index(np.argmax(excess), x.shape)
                raise GradcheckError(
                    f"{checking}: input {i} (shape {x.shape}) has a wrong {_WHAT[checking]}; "
                    f"worst element "
                    f"{tuple(int(k) for k in worst)}: expected (numerical) {numerical[worst]:.6g}, "
                    f"got (analytic) {analytic[worst]:.6g}; {int((excess > 0).sum())} of {x.size} "
                    f"elements outside atol={atol}, rtol={rtol}"
                )
    finally:
        for (_, x), (data, grad) in zip(checked, saved):
            x.data, x.grad = data, grad
    return True


_WHAT = {"gradcheck": "gradient", "gradgradcheck": "second derivative"}


def gradgradcheck(
    fn: Callable[..., Tensor],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Compare the second derivatives of ``fn(*inputs)`` with central differences of its
    gradient, as torch.autograd.gradgradcheck.

    With fixed random weightings w (of the output) and v_i (of each input's gradient), the
    scalar s(x) = sum_i <d sum(fn(x) * w) / dx_i, v_i> is built with
    ``tc.grad(..., create_graph=True)`` and handed to :func:`gradcheck`: its gradient is the
    Hessian times v, so every second derivative the graph rules produce is exercised.
    Raises :class:`GradcheckError` naming the input and its worst element.
    """
    rng = np.random.default_rng(seed)
    weights: dict[int, Tensor] = {}

    def gradient_dot(*xs: Any) -> Tensor:
        tensors = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        with enable_grad():  # gradcheck evaluates the function under no_grad
            out = fn(*xs)
            if -1 not in weights:
                weights[-1] = Tensor(rng.standard_normal(out.shape), dtype=out.dtype)
            grads = grad((out * weights[-1]).sum(), tensors, create_graph=True)
            # keeps s in x's graph where the gradient is constant
            total = sum((x * 0.0).sum() for x in tensors)
            for k, (x, g) in enumerate(zip(tensors, grads)):
                if g is not None:
                    if k not in weights:
                        weights[k] = Tensor(rng.standard_normal(x.shape), dtype=x.dtype)
                    total = total + (g * weights[k]).sum()
            return total

    return _compare(gradient_dot, inputs, eps, atol, rtol, seed, "gradgradcheck")
