"""W6: a CIFAR-style ResNet-8 train step (batch 32 of 3x32x32, widths 16-32-64, BatchNorm in
training mode, option-A shortcuts, global average pool, cross-entropy, SGD), written once per
framework from the same weights: tinygrad_cnn.models.resnet8's initial state_dict."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

LR = 0.05
STAGES = [("layer1.0", 16, 16, 1), ("layer2.0", 16, 32, 2), ("layer3.0", 32, 64, 2)]


def data(seed: int = 0) -> dict[str, np.ndarray]:
    """A batch, its labels and the model's initial state, as numpy arrays."""
    import tinygrad_cnn as tc
    from tinygrad_cnn.models import resnet8

    tc.manual_seed(seed)
    rng = np.random.default_rng(seed)
    state = {k: np.array(v) for k, v in resnet8().state_dict().items()}
    batch = {
        "x": rng.standard_normal((32, 3, 32, 32)).astype(np.float32),
        "y": rng.integers(0, 10, 32),
    }
    return {**batch, **{f"state.{k}": v for k, v in state.items()}}


def state(d: dict) -> dict[str, np.ndarray]:
    return {k[len("state.") :]: v.copy() for k, v in d.items() if k.startswith("state.")}


def forward(x, p: dict, conv, bn, relu, shortcut, head):
    """The network, given each framework's conv(x, name, stride), bn(x, name), relu,
    shortcut(x, stride, new_channels) and head(x) -> logits (average pool + linear)."""
    x = relu(bn(conv(x, "conv1", 1), "bn1"))
    for name, c, m, stride in STAGES:
        out = relu(bn(conv(x, f"{name}.conv1", stride), f"{name}.bn1"))
        out = bn(conv(out, f"{name}.conv2", 1), f"{name}.bn2")
        x = relu(out + shortcut(x, stride, m - c))
    return head(x)


def ours(d: dict) -> Callable[[], dict]:
    import tinygrad_cnn as tc
    from tinygrad_cnn.models import resnet8

    model = resnet8()
    model.load_state_dict(state(d))
    opt = tc.optim.SGD(model.parameters(), lr=LR)
    x, y = tc.Tensor(d["x"]), d["y"]

    def step():
        loss = tc.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"loss": loss.data}

    return step


def torch(d: dict) -> Callable[[], dict]:
    import torch

    F = torch.nn.functional
    p = {k: torch.tensor(v) for k, v in state(d).items()}
    params = [v.requires_grad_() for k, v in p.items() if k.endswith(("weight", "bias"))]
    opt = torch.optim.SGD(params, lr=LR)
    x, y = torch.tensor(d["x"]), torch.tensor(d["y"])

    def bn(h, name):
        return F.batch_norm(
            h, p[f"{name}.running_mean"], p[f"{name}.running_var"], p[f"{name}.weight"],
            p[f"{name}.bias"], training=True, momentum=0.1, eps=1e-5,
        )  # fmt: skip

    def shortcut(h, stride, new):
        h = h[:, :, ::stride, ::stride] if stride != 1 else h
        return F.pad(h, (0, 0, 0, 0, 0, new)) if new else h

    def head(h):
        return F.linear(h.mean(dim=(2, 3)), p["fc.weight"], p["fc.bias"])

    def conv(h, name, stride):
        return F.conv2d(h, p[f"{name}.weight"], stride=stride, padding=1)

    def step():
        loss = F.cross_entropy(forward(x, p, conv, bn, F.relu, shortcut, head), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"loss": loss.detach().numpy()}

    return step


def dezero(dz, F, d: dict) -> Callable[[], dict]:
    p = state(d)
    params = {k: dz.Parameter(v) for k, v in p.items() if k.endswith(("weight", "bias"))}
    x, y = dz.Variable(d["x"]), d["y"]

    def bn(h, name):
        return F.batch_nrom(
            h, params[f"{name}.weight"], params[f"{name}.bias"], p[f"{name}.running_mean"],
            p[f"{name}.running_var"], decay=0.9, eps=1e-5,
        )  # fmt: skip

    def shortcut(h, stride, new):
        h = h[:, :, ::stride, ::stride] if stride != 1 else h
        if not new:
            return h
        # DeZero has no pad: append zero channels by a fixed (C, C + new) identity product
        b, c, hh, ww = h.shape
        widen = np.eye(c, c + new, dtype=np.float32)
        flat = F.reshape(F.transpose(h, (0, 2, 3, 1)), (b * hh * ww, c))
        return F.transpose(F.reshape(F.matmul(flat, widen), (b, hh, ww, c + new)), (0, 3, 1, 2))

    def head(h):
        b, c, hh, ww = h.shape  # DeZero's sum backward takes one axis
        pooled = F.sum(F.reshape(h, (b, c, hh * ww)), axis=2) / (hh * ww)
        return F.linear(pooled, F.transpose(params["fc.weight"]), params["fc.bias"])

    def conv(h, name, stride):
        return F.conv2d(h, params[f"{name}.weight"], stride=stride, pad=1)

    def step():
        loss = F.softmax_cross_entropy(forward(x, params, conv, bn, F.relu, shortcut, head), y)
        for q in params.values():
            q.cleargrad()
        loss.backward()
        for q in params.values():
            q.data -= LR * q.grad.data
        return {"loss": np.asarray(loss.data)}

    return step
