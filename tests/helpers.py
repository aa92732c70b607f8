"""Shared test helpers: random float64 tensors and the optional torch cross-check."""

import numpy as np
import pytest

from tinygrad_cnn import Tensor

try:
    import torch
except ImportError:  # torch is an optional dev extra
    torch = None

needs_torch = pytest.mark.skipif(
    torch is None, reason="torch is not installed (pip install torch==2.13.0)"
)


def leaf(array, requires_grad=True):
    """A float64 Tensor that requires grad, for gradchecks."""
    return Tensor(
        np.asarray(array, dtype=np.float64), requires_grad=requires_grad, dtype=np.float64
    )


def randn(rng, *shape):
    return leaf(rng.standard_normal(shape))


def torch_leaf(tensor):
    """The torch twin of a float64 Tensor, requiring grad."""
    return torch.tensor(tensor.data, dtype=torch.float64, requires_grad=True)


def assert_close(actual, expected, atol=1e-10, rtol=1e-7):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), atol=atol, rtol=rtol)


def assert_matches_torch(fn, torch_fn, *inputs, seed=0):
    """fn(*inputs) equals torch_fn on the torch twins of the inputs, and so do the gradients
    that one random output gradient gives every input."""
    for x in inputs:
        x.grad = None
    twins = [torch_leaf(x) for x in inputs]
    out, expected = fn(*inputs), torch_fn(*twins)
    assert_close(out.data, expected.detach().numpy())
    weights = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(weights)
    expected.backward(torch.tensor(weights))
    for x, twin in zip(inputs, twins):
        assert_close(x.grad.data, twin.grad.numpy())


def train_losses(model, x, y, steps, lr):
    """Cross-entropy SGD steps on one batch: the losses, step by step."""
    import tinygrad_cnn.functional as F
    from tinygrad_cnn import optim

    optimizer = optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def load_tool(name):
    """The module tools/NAME.py (the tools folder is not a package)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "tools" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool
