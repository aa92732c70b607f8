"""Second and third derivatives of whole models, checked by gradgradcheck in float64 and
against ``torch.autograd.grad(..., create_graph=True)``: a WGAN-GP penalty, a Hessian-vector
product of a LeNet, dilated and grouped convolutions with overlapping max-pool windows, every
loss, batch norm, and a third derivative."""

import numpy as np
import pytest
from helpers import assert_close, needs_torch, torch

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor
from tinygrad_cnn.models import lenet


def leaves(rng, shapes: dict, scale=0.5) -> dict:
    return {
        k: Tensor(rng.standard_normal(s) * scale, requires_grad=True, dtype=np.float64)
        for k, s in shapes.items()
    }


def twins(params: dict) -> dict:
    return {k: torch.tensor(p.numpy(), requires_grad=True) for k, p in params.items()}


CRITIC = {"w1": (4, 1, 3, 3), "b1": (4,), "w2": (6, 4, 3, 3), "b2": (6,), "w3": (1, 6), "b3": (1,)}


def critic(x, p, f):
    """A small CNN critic in either framework's functional API: (B, 1, 8, 8) -> (B, 1)."""
    h = f.leaky_relu(f.conv2d(x, p["w1"], p["b1"], stride=2, padding=1), 0.2)  # (B, 4, 4, 4)
    h = f.max_pool2d(h, 2, stride=1)  # overlapping windows: (B, 4, 3, 3)
    h = f.leaky_relu(f.conv2d(h, p["w2"], p["b2"], padding=1), 0.2)  # (B, 6, 3, 3)
    h = f.avg_pool2d(h, 2)  # (B, 6, 1, 1)
    return f.linear(h.reshape(len(h), -1), p["w3"], p["b3"])


def gradient_penalty(images, params, f, grad):
    """WGAN-GP: (||d critic / d x|| - 1)^2 averaged over the batch."""
    out = critic(images, params, f)
    (g,) = grad(out.sum(), [images])
    norms = ((g * g).reshape(len(g), -1).sum(1) + 1e-12) ** 0.5
    return ((norms - 1) ** 2).mean()


@needs_torch
def test_wgan_gp_penalty_and_its_parameter_gradients_match_torch(rng):
    real, fake, mix = rng.random((3, 1, 8, 8)), rng.random((3, 1, 8, 8)), rng.random((3, 1, 1, 1))
    interpolated = mix * real + (1 - mix) * fake
    params = leaves(rng, CRITIC)
    images = Tensor(interpolated, requires_grad=True, dtype=np.float64)
    ours = gradient_penalty(images, params, F, lambda y, xs: tc.grad(y, xs, create_graph=True))
    ours.backward()

    theirs_params = twins(params)
    theirs_images = torch.tensor(interpolated, requires_grad=True)
    theirs = gradient_penalty(
        theirs_images,
        theirs_params,
        torch.nn.functional,
        lambda y, xs: torch.autograd.grad(y, xs, create_graph=True),
    )
    theirs.backward()
    assert_close(ours.item(), theirs.item())
    for name, p in params.items():
        expected = theirs_params[name].grad
        if p.grad is None:
            # no path: the input gradient depends on the biases only through masks and max-pool
            # routing, piecewise constant, so torch's gradient there is exactly zero
            assert expected is None or not expected.any(), name
        else:
            assert_close(p.grad.numpy(), expected.numpy(), atol=1e-9)
    assert [name for name, p in params.items() if p.grad is not None] == ["w1", "w2", "w3"]


def test_wgan_gp_penalty_by_gradgradcheck(rng):
    params = leaves(rng, CRITIC)
    images = Tensor(rng.random((2, 1, 8, 8)), requires_grad=True, dtype=np.float64)
    assert tc.gradgradcheck(
        lambda x, w1, w2: critic(x, {**params, "w1": w1, "w2": w2}, F),
        images,
        params["w1"],
        params["w2"],
    )


def lenet_forward(x, state, f):
    """models.lenet's forward pass from its state_dict, in either framework."""
    h = f.max_pool2d(f.relu(f.conv2d(x, state["0.weight"], state["0.bias"], padding=1)), 2)
    h = f.max_pool2d(f.relu(f.conv2d(h, state["3.weight"], state["3.bias"], padding=1)), 2)
    return f.linear(h.reshape(len(h), -1), state["7.weight"], state["7.bias"])


@needs_torch
def test_hessian_vector_product_of_lenet_matches_torch(rng):
    initial = {k: a.astype(np.float64) for k, a in lenet(width=3).state_dict().items()}
    images, labels = rng.standard_normal((4, 1, 8, 8)), rng.integers(0, 10, 4)
    v = rng.standard_normal(initial["0.weight"].shape)

    ours = {k: Tensor(a, requires_grad=True, dtype=np.float64) for k, a in initial.items()}
    loss = F.cross_entropy(lenet_forward(Tensor(images, dtype=np.float64), ours, F), labels)
    (g,) = tc.grad(loss, [ours["0.weight"]], create_graph=True)
    (hv,) = tc.grad((g * Tensor(v, dtype=np.float64)).sum(), [ours["0.weight"]])

    theirs = {k: torch.tensor(a, requires_grad=True) for k, a in initial.items()}
    loss = torch.nn.functional.cross_entropy(
        lenet_forward(torch.tensor(images), theirs, torch.nn.functional), torch.tensor(labels)
    )
    (tg,) = torch.autograd.grad(loss, [theirs["0.weight"]], create_graph=True)
    (thv,) = torch.autograd.grad((tg * torch.tensor(v)).sum(), [theirs["0.weight"]])
    assert_close(g.numpy(), tg.detach().numpy())
    assert_close(hv.numpy(), thv.numpy(), atol=1e-9)
    assert np.abs(hv.numpy()).max() > 1e-3  # a real curvature, not a vanishing one


@pytest.mark.parametrize("dilation, groups", [(2, 1), (1, 2), (2, 2)])
def test_dilated_and_grouped_convolution_with_overlapping_pools(rng, dilation, groups):
    x = Tensor(rng.standard_normal((2, 4, 7, 7)), requires_grad=True, dtype=np.float64)
    w = Tensor(rng.standard_normal((4, 4 // groups, 2, 2)), requires_grad=True, dtype=np.float64)

    def net(x, w, f=F):
        h = f.conv2d(x, w, padding=1, dilation=dilation, groups=groups)
        return f.max_pool2d(h.tanh(), 3, stride=1) * h.mean()

    assert tc.gradgradcheck(net, x, w)
    if torch is None:
        return
    weights = rng.standard_normal(net(x, w).shape)
    (gx, gw) = tc.grad(
        (net(x, w) * Tensor(weights, dtype=np.float64)).sum(), [x, w], create_graph=True
    )
    ((gx * gx).sum() + (gw * gw).sum()).backward()
    tx, tw = (
        torch.tensor(x.numpy(), requires_grad=True),
        torch.tensor(w.numpy(), requires_grad=True),
    )
    out = net(tx, tw, torch.nn.functional)
    tgx, tgw = torch.autograd.grad((out * torch.tensor(weights)).sum(), [tx, tw], create_graph=True)
    ((tgx * tgx).sum() + (tgw * tgw).sum()).backward()
    assert_close(x.grad.numpy(), tx.grad.numpy(), atol=1e-9)
    assert_close(w.grad.numpy(), tw.grad.numpy(), atol=1e-9)


LOSSES = {
    "cross_entropy": (lambda p, t: F.cross_entropy(p, t), "classes"),
    "cross_entropy_smoothed": (lambda p, t: F.cross_entropy(p, t, label_smoothing=0.1), "classes"),
    "nll_loss": (lambda p, t: F.nll_loss(F.log_softmax(p, axis=1), t), "classes"),
    "mse_loss": (lambda p, t: F.mse_loss(p, t), "values"),
    "l1_loss": (lambda p, t: F.l1_loss(p, t), "values"),
    "huber_loss": (lambda p, t: F.huber_loss(p, t, delta=0.5), "values"),
    "smooth_l1_loss": (lambda p, t: F.smooth_l1_loss(p, t, beta=0.5), "values"),
    "binary_cross_entropy": (lambda p, t: F.binary_cross_entropy(p.sigmoid(), t), "probabilities"),
    "binary_cross_entropy_with_logits": (
        lambda p, t: F.binary_cross_entropy_with_logits(p, t),
        "probabilities",
    ),
}


@pytest.mark.parametrize("name", LOSSES)
def test_every_loss_differentiates_twice(rng, name):
    loss, kind = LOSSES[name]
    prediction = Tensor(rng.standard_normal((4, 3)), requires_grad=True, dtype=np.float64)
    target = {
        "classes": rng.integers(0, 3, 4),
        "values": Tensor(rng.standard_normal((4, 3)), dtype=np.float64),
        "probabilities": Tensor(rng.random((4, 3)), dtype=np.float64),
    }[kind]
    assert tc.gradgradcheck(lambda p: loss(p, target), prediction)


def test_batch_norm_in_training_differentiates_twice(rng):
    x = Tensor(rng.standard_normal((4, 3, 2, 2)), requires_grad=True, dtype=np.float64)
    weight, bias = (
        Tensor(rng.standard_normal(3), requires_grad=True, dtype=np.float64) for _ in range(2)
    )
    assert tc.gradgradcheck(
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), x, weight, bias
    )


@needs_torch
def test_third_derivative_of_an_elementwise_chain_matches_torch():
    values = np.linspace(-1.5, 2.0, 7)

    def third(x, grad):
        y = ((x.tanh() * x.exp()) / (1 + x * x) + x.sigmoid() ** 3).sum()
        (g1,) = grad(y, [x], create_graph=True)
        (g2,) = grad(g1.sum(), [x], create_graph=True)
        (g3,) = grad(g2.sum(), [x])
        return g3

    ours = third(Tensor(values, requires_grad=True, dtype=np.float64), tc.grad)
    theirs = third(torch.tensor(values, requires_grad=True), torch.autograd.grad)
    assert_close(ours.numpy(), theirs.numpy(), atol=1e-9)


def test_gradient_penalty_example_trains_and_agrees_with_torch(capsys):
    import runpy
    from pathlib import Path

    example = runpy.run_path(
        str(Path(__file__).resolve().parents[1] / "examples" / "gradient_penalty.py")
    )
    example["main"](steps=3, batch=8)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("step")]
    assert len(lines) == 3
    for line in lines:
        fields = line.split()
        ours = float(fields[fields.index("ours") + 1])
        assert ours > 0
        if torch is not None:
            assert abs(ours - float(fields[fields.index("torch") + 1])) < 1e-5 * max(1.0, ours), (
                line
            )


# ---- edge cases found by review ------------------------------------------------------------------
def hessian_diagonal_sum(fn, x):
    (g,) = tc.grad(fn(x), [x], create_graph=True)
    second = tc.grad(g.sum(), [x]) if g.requires_grad else (None,)
    return g, second[0]


def test_zero_dimensional_results_keep_their_second_derivative():
    x = Tensor([1.0, 2.0], requires_grad=True, dtype=np.float64)
    # y = 3 sqrt(mean(x^2)) = 3 sqrt(2.5);
    # d/dx0 of dy/dx0 = 3 (1/(2 r) - x0^2 / (4 r^3)), r = sqrt(2.5)
    (g,) = tc.grad((x * x).mean().sqrt() * 3.0, [x], create_graph=True)
    (h,) = tc.grad(g[0], [x])
    r = np.sqrt(2.5)
    assert_close(h.numpy(), [3 * (1 / (2 * r) - 1 / (4 * r**3)), -3 * 2 / (4 * r**3)])
    _, second = hessian_diagonal_sum(lambda t: t.sum().exp(), x)
    assert_close(second.numpy(), [2 * np.exp(3.0)] * 2)  # d/dx_i of sum_j e^(x0 + x1)


def test_a_detached_copy_of_an_input_is_a_constant_at_second_order():
    x = Tensor([1.0, 2.0], requires_grad=True, dtype=np.float64)
    g, second = hessian_diagonal_sum(lambda t: (t.detach() * t).sum(), x)
    assert_close(g.numpy(), [1.0, 2.0]) and (second is None or not second.numpy().any())
    g, second = hessian_diagonal_sum(lambda t: (t.detach() / t).sum(), x)
    assert_close(second.numpy(), 2 * x.numpy() / x.numpy() ** 3)  # d/dx (-c/x^2) = 2c/x^3, c = x


def test_leaves_get_gradients_of_their_own_under_create_graph():
    x, y = (Tensor([1.0, 2.0], requires_grad=True, dtype=np.float64) for _ in range(2))
    (x + y).sum().backward(create_graph=True)
    assert x.grad is not y.grad
    (x * 2).sum().backward()
    assert_close(x.grad.numpy(), [3.0, 3.0]) and assert_close(y.grad.numpy(), [1.0, 1.0])


def test_hooks_under_create_graph_get_a_copy():
    x, y = (Tensor([1.0, 2.0], requires_grad=True, dtype=np.float64) for _ in range(2))

    def scale_in_place(g):
        with tc.no_grad():
            g *= 10.0

    x.register_hook(scale_in_place)
    (x + y).sum().backward(create_graph=True)  # a .sum() gradient is a read-only broadcast view
    assert_close(x.grad.numpy(), [10.0, 10.0]) and assert_close(y.grad.numpy(), [1.0, 1.0])


def test_an_input_reassigned_after_forward_is_refused_at_second_order():
    a = Tensor([[1.0, 2.0]], requires_grad=True, dtype=np.float64)
    w = Tensor([[3.0], [4.0]], requires_grad=True, dtype=np.float64)
    y = (a @ w).sum()
    w.data = w.data * 100  # an optimizer step between forward and backward
    with pytest.raises(
        RuntimeError, match=r"op 'matmul': input 1 \(2, 1\) had its .data replaced after the op ran"
    ):
        y.backward(create_graph=True)
    z = (a @ w).sum()  # the first derivative still uses the values forward saw
    w.data = w.data / 100
    z.backward()
    assert_close(a.grad.numpy(), [[300.0, 400.0]])
