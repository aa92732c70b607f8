"""The benchmark workloads written once per framework.

Each suite's ``make(workload, data)`` builds the inputs and returns ``step()``, which runs the
workload once and returns its results ({name: ndarray}) for the cross-check. A suite without
a workload raises NotImplementedError for it. W6 lives in resnet8.py.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import numpy as np
import resnet8

LR = 0.01


class Ours:
    name = "tinygrad_cnn"

    def __init__(self):
        import tinygrad_cnn as tc
        from tinygrad_cnn.memory import keep_freed_memory

        keep_freed_memory()  # as its training loop does: the workloads are training steps
        self.tc = tc

    def make(self, workload: str, d: dict) -> Callable[[], dict]:
        tc = self.tc
        F, T = tc.functional, tc.Tensor
        if workload == "W6":
            return resnet8.ours(d["w6"])
        if workload in ("W1", "W1f"):
            grad = workload == "W1"
            x, w, b = (T(d[k], requires_grad=grad) for k in ("w1_x", "w1_w", "w1_b"))

            def step():
                if not grad:
                    with tc.no_grad():
                        return {"out": F.conv2d(x, w, b, padding=1).data}
                x.grad = w.grad = b.grad = None
                out = F.conv2d(x, w, b, padding=1)
                out.sum().backward()
                return {"out": out.data, "dx": x.grad.data, "dw": w.grad.data, "db": b.grad.data}

            return step
        if workload == "W2":
            x = T(d["w2_x"], requires_grad=True)

            def step():
                x.grad = None
                out = F.max_pool2d(x, 2)
                out.sum().backward()
                return {"out": out.data, "dx": x.grad.data}

            return step
        if workload == "W3":
            nn = tc.nn
            model = nn.Sequential(
                nn.Conv2d(1, 8, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(8, 16, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Flatten(),
                nn.Linear(d["fc_w"].shape[1], 10),
            )
            model.load_state_dict(
                {
                    "0.weight": d["c1_w"],
                    "0.bias": d["c1_b"],
                    "3.weight": d["c2_w"],
                    "3.bias": d["c2_b"],
                    "7.weight": d["fc_w"],
                    "7.bias": d["fc_b"],
                }
            )
            opt = tc.optim.SGD(model.parameters(), lr=LR)
            x, y = T(d["w3_x"]), d["w3_y"]

            def step():
                loss = F.cross_entropy(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                return {"loss": loss.data}

            return step
        x0 = d["w4_x"]

        def step():
            x = T(x0, requires_grad=True)
            y = x
            for _ in range(1000):
                y = y * 1.0001
                y = y + 0.0001
            y.sum().backward()
            return {"dx": x.grad.data}

        return step


class Torch:
    name = "torch"

    def __init__(self):
        import torch

        torch.manual_seed(0)
        self.torch = torch

    def make(self, workload: str, d: dict) -> Callable[[], dict]:
        torch = self.torch
        F = torch.nn.functional
        if workload == "W6":
            return resnet8.torch(d["w6"])
        if workload in ("W1", "W1f"):
            grad = workload == "W1"
            x, w, b = (torch.tensor(d[k], requires_grad=grad) for k in ("w1_x", "w1_w", "w1_b"))

            def step():
                if not grad:
                    with torch.no_grad():
                        return {"out": F.conv2d(x, w, b, padding=1).numpy()}
                x.grad = w.grad = b.grad = None
                out = F.conv2d(x, w, b, padding=1)
                out.sum().backward()
                return {
                    "out": out.detach().numpy(),
                    "dx": x.grad.numpy(),
                    "dw": w.grad.numpy(),
                    "db": b.grad.numpy(),
                }

            return step
        if workload == "W2":
            x = torch.tensor(d["w2_x"], requires_grad=True)

            def step():
                x.grad = None
                out = F.max_pool2d(x, 2)
                out.sum().backward()
                return {"out": out.detach().numpy(), "dx": x.grad.numpy()}

            return step
        if workload == "W3":
            nn = torch.nn
            model = nn.Sequential(
                nn.Conv2d(1, 8, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(8, 16, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Flatten(),
                nn.Linear(d["fc_w"].shape[1], 10),
            )
            model.load_state_dict(
                {
                    k: torch.tensor(d[v])
                    for k, v in (
                        ("0.weight", "c1_w"),
                        ("0.bias", "c1_b"),
                        ("3.weight", "c2_w"),
                        ("3.bias", "c2_b"),
                        ("7.weight", "fc_w"),
                        ("7.bias", "fc_b"),
                    )
                }
            )
            opt = torch.optim.SGD(model.parameters(), lr=LR)
            x, y = torch.tensor(d["w3_x"]), torch.tensor(d["w3_y"])

            def step():
                loss = F.cross_entropy(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                return {"loss": loss.detach().numpy()}

            return step
        x0 = torch.tensor(d["w4_x"])

        def step():
            x = x0.clone().requires_grad_()
            y = x
            for _ in range(1000):
                y = y * 1.0001
                y = y + 0.0001
            y.sum().backward()
            return {"dx": x.grad.numpy()}

        return step


class DeZero:
    name = "dezero"

    def __init__(self):
        np.int = int  # dezero 0.0.13 still uses np.int, removed in numpy 2
        try:
            self.dz = importlib.import_module("dezero")
            self.F = importlib.import_module("dezero.functions")
        finally:
            del np.int

    def make(self, workload: str, d: dict) -> Callable[[], dict]:
        dz, F = self.dz, self.F
        V = dz.Variable
        if workload == "W6":
            return resnet8.dezero(dz, F, d["w6"])
        if workload in ("W1", "W1f"):
            x, w, b = (V(d[k]) for k in ("w1_x", "w1_w", "w1_b"))

            def step():
                if workload == "W1f":
                    with dz.no_grad():
                        return {"out": F.conv2d(x, w, b, pad=1).data}
                for v in (x, w, b):
                    v.cleargrad()
                out = F.conv2d(x, w, b, pad=1)
                F.sum(out).backward()
                return {"out": out.data, "dx": x.grad.data, "dw": w.grad.data, "db": b.grad.data}

            return step
        if workload == "W2":
            x = V(d["w2_x"])

            def step():
                x.cleargrad()
                out = F.pooling(x, 2, 2)
                F.sum(out).backward()
                return {"out": out.data, "dx": x.grad.data}

            return step
        if workload == "W3":
            params = {
                k: dz.Parameter(d[k].copy())
                for k in ("c1_w", "c1_b", "c2_w", "c2_b", "fc_w", "fc_b")
            }
            x, y = V(d["w3_x"]), d["w3_y"]

            def step():
                h = F.pooling(F.relu(F.conv2d(x, params["c1_w"], params["c1_b"], pad=1)), 2, 2)
                h = F.pooling(F.relu(F.conv2d(h, params["c2_w"], params["c2_b"], pad=1)), 2, 2)
                logits = F.linear(
                    F.reshape(h, (h.shape[0], -1)), F.transpose(params["fc_w"]), params["fc_b"]
                )
                loss = F.softmax_cross_entropy(logits, y)
                for p in params.values():
                    p.cleargrad()
                loss.backward()
                for p in params.values():
                    p.data -= LR * p.grad.data
                return {"loss": np.asarray(loss.data)}

            return step
        x0 = d["w4_x"]

        def step():
            x = V(x0.copy())
            y = x
            for _ in range(1000):
                y = y * 1.0001
                y = y + 0.0001
            F.sum(y).backward()
            return {"dx": x.grad.data}

        return step


class MyGrad:
    name = "mygrad"

    def __init__(self):
        self.mg = importlib.import_module("mygrad")
        self.layers = importlib.import_module("mygrad.nnet.layers")
        self.losses = importlib.import_module("mygrad.nnet.losses")

    def make(self, workload: str, d: dict) -> Callable[[], dict]:
        mg, layers = self.mg, self.layers
        if workload == "W6":
            raise NotImplementedError("W6 is not written for MyGrad")
        if workload in ("W1", "W1f"):
            x, w, b = (mg.Tensor(d[k]) for k in ("w1_x", "w1_w", "w1_b"))

            def conv(x, w, b):
                return layers.conv_nd(x, w, stride=1, padding=1) + b.reshape(1, -1, 1, 1)

            def step():
                if workload == "W1f":
                    with mg.no_autodiff:
                        return {"out": np.asarray(conv(x, w, b))}
                out = conv(x, w, b)
                out.sum().backward()
                return {"out": out.data, "dx": x.grad, "dw": w.grad, "db": b.grad}

            return step
        if workload == "W2":
            x = mg.Tensor(d["w2_x"])

            def step():
                out = layers.max_pool(x, (2, 2), 2)
                out.sum().backward()
                return {"out": out.data, "dx": x.grad}

            return step
        if workload == "W3":
            params = {
                k: mg.Tensor(d[k].copy()) for k in ("c1_w", "c1_b", "c2_w", "c2_b", "fc_w", "fc_b")
            }
            x, y = mg.Tensor(d["w3_x"], constant=True), d["w3_y"]

            def block(h, w, b):
                h = layers.conv_nd(h, params[w], stride=1, padding=1) + params[b].reshape(
                    1, -1, 1, 1
                )
                return layers.max_pool(mg.maximum(h, 0), (2, 2), 2)

            def step():
                h = block(block(x, "c1_w", "c1_b"), "c2_w", "c2_b")
                logits = mg.matmul(h.reshape(h.shape[0], -1), params["fc_w"].T) + params["fc_b"]
                loss = self.losses.softmax_crossentropy(logits, y)
                loss.backward()
                for p in params.values():
                    p.data -= LR * p.grad
                return {"loss": np.asarray(loss.data)}

            return step
        x0 = d["w4_x"]

        def step():
            x = mg.Tensor(x0.copy())
            y = x
            for _ in range(1000):
                y = y * 1.0001
                y = y + 0.0001
            y.sum().backward()
            return {"dx": x.grad}

        return step


SUITES = {suite.name: suite for suite in (Ours, Torch, DeZero, MyGrad)}


def available_suites() -> tuple[dict[str, object], dict[str, str]]:
    """Instantiated suites for the frameworks importable here, and why the others are not."""
    suites, missing = {}, {}
    for name, cls in SUITES.items():
        try:
            suites[name] = cls()
        except ImportError as err:
            missing[name] = f"not installed ({err.name}); pip install -e .[bench]"
    return suites, missing
