"""Containers and the Module API real models need: ModuleList, ModuleDict, Sequential from an
OrderedDict, plain lists of modules refused, cycles, apply, freezing, buffers, strict loading."""

from collections import OrderedDict

import numpy as np
import pytest
from helpers import needs_torch, torch

from tinygrad_cnn import Tensor, nn, optim


class Tower(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 2, 3, padding=1)
        self.blocks = nn.ModuleList([nn.Conv2d(2, 2, 3, padding=1) for _ in range(2)])
        self.heads = nn.ModuleDict({"digit": nn.Linear(8, 10), "parity": nn.Linear(8, 2)})

    def forward(self, x):
        x = self.stem(x)
        for block in self.blocks:
            x = block(x).relu()
        x = x.mean(axis=(2, 3)).reshape(len(x), -1)
        x = x.reshape(len(x), 2).repeat(1, 4)  # (B, 8)
        return {name: head(x) for name, head in self.heads.items()}


def test_containers_own_their_modules_parameters_and_train():
    model = Tower()
    names = [name for name, _ in model.named_parameters()]
    assert names == [
        "stem.weight",
        "stem.bias",
        "blocks.0.weight",
        "blocks.0.bias",
        "blocks.1.weight",
        "blocks.1.bias",
        "heads.digit.weight",
        "heads.digit.bias",
        "heads.parity.weight",
        "heads.parity.bias",
    ]
    opt = optim.SGD(model.parameters(), lr=0.1)
    out = model(Tensor(np.ones((2, 1, 4, 4), np.float32)))
    (out["digit"].sum() + out["parity"].sum()).backward()
    before = model.blocks[1].weight.data.copy()
    opt.step()
    assert not np.array_equal(before, model.blocks[1].weight.data)


@needs_torch
def test_state_dict_keys_match_pytorch_containers():
    class TorchTower(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = torch.nn.Conv2d(1, 2, 3, padding=1)
            self.blocks = torch.nn.ModuleList(
                [torch.nn.Conv2d(2, 2, 3, padding=1) for _ in range(2)]
            )
            self.heads = torch.nn.ModuleDict(
                {"digit": torch.nn.Linear(8, 10), "parity": torch.nn.Linear(8, 2)}
            )

    assert list(Tower().state_dict()) == list(TorchTower().state_dict())
    ours = nn.Sequential(
        OrderedDict([("conv", nn.Conv2d(1, 2, 3)), ("act", nn.ReLU()), ("bn", nn.BatchNorm2d(2))])
    )
    theirs = torch.nn.Sequential(
        OrderedDict(
            [
                ("conv", torch.nn.Conv2d(1, 2, 3)),
                ("act", torch.nn.ReLU()),
                ("bn", torch.nn.BatchNorm2d(2)),
            ]
        )
    )
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert isinstance(ours.conv, nn.Conv2d) and ours[2] is ours.bn


def test_module_list_edits_renumber_as_pytorch():
    a, b, c = nn.ReLU(), nn.Tanh(), nn.Sigmoid()
    layers = nn.ModuleList([a, b])
    layers.insert(1, c)
    assert list(layers) == [a, c, b] and [n for n, _ in layers.named_children()] == ["0", "1", "2"]
    del layers[0]
    assert list(layers) == [c, b] and [n for n, _ in layers.named_children()] == ["0", "1"]
    layers[1] = a
    layers.append(b).extend([c])
    assert list(layers) == [c, a, b, c] and len(layers) == 4
    assert isinstance(layers[1:3], nn.ModuleList) and list(layers[1:3]) == [a, b]
    with pytest.raises(TypeError, match=r"ModuleList: item 4 must be a Module, got int"):
        layers.append(3)


def test_module_dict_behaves_as_a_dict():
    heads = nn.ModuleDict([("a", nn.ReLU())])
    heads["b"] = nn.Tanh()
    assert (
        heads.keys() == ["a", "b"]
        and "b" in heads
        and len(heads) == 2
        and list(heads) == ["a", "b"]
    )
    del heads["a"]
    assert heads.keys() == ["b"]
    with pytest.raises(KeyError, match="must be a Python name not already used"):
        heads["training"] = nn.ReLU()


@pytest.mark.parametrize("container", [list, tuple, dict])
def test_a_plain_container_of_modules_is_refused_with_the_fix(container):
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            layers = [nn.Linear(2, 2), nn.ReLU()]
            self.layers = dict(enumerate(layers)) if container is dict else container(layers)

    holder = "nn.ModuleDict" if container is dict else "nn.ModuleList"
    with pytest.raises(
        TypeError,
        match=rf"Model.layers: a {container.__name__} of Modules hides their parameters "
        rf".* use {holder}",
    ):
        Model()


def test_cycles_and_shared_modules_are_visited_once():
    shared = nn.Linear(3, 3)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(model.parameters()) == 2 and len(list(model.modules())) == 3
    loop = nn.Sequential(nn.Linear(2, 2))
    loop[0].parent = loop  # a module that refers back to its owner
    assert len(list(loop.modules())) == 2 and len(loop.parameters()) == 2
    assert "(parent): ..." in repr(loop)


def test_apply_freezing_buffers_and_recurse():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "Linear", "Sequential"]  # children first
    model[0].requires_grad_(False)
    assert [p.requires_grad for p in model.parameters()] == [False, False, True, True]
    model[1].register_buffer("scale", np.ones(1, np.float32))
    assert list(model.state_dict())[-1] == "1.scale" and len(model.buffers()) == 1
    assert model.parameters(recurse=False) == [] and len(model[1].parameters(recurse=False)) == 2


def test_load_state_dict_strict_and_not():
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    state = model.state_dict()
    state.pop("1.running_var")
    state["extra"] = np.zeros(1)
    with pytest.raises(
        ValueError, match=r"missing keys \['1.running_var'\]; unexpected keys \['extra'\]"
    ):
        model.load_state_dict(state)
    state["0.weight"] = np.full((2, 2), 7.0)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["1.running_var"] and result.unexpected_keys == ["extra"]
    assert (model[0].weight.data == 7.0).all()
    state["0.bias"] = np.zeros(3)
    with pytest.raises(ValueError, match=r"shape mismatch: 0.bias: expected \(2,\), got \(3,\)"):
        model.load_state_dict(state, strict=False)


# ---- optimizers with frozen parameters, zero_grad, clipping ------------------------------------
def test_an_optimizer_takes_frozen_parameters_and_skips_them():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    model[0].requires_grad_(False)
    opt = optim.SGD(model.parameters(), lr=0.5)  # PyTorch accepts them; so do we
    frozen = model[0].weight.data.copy()
    model(Tensor(np.ones((3, 2), np.float32))).sum().backward()
    opt.step()
    assert np.array_equal(model[0].weight.data, frozen) and model[1].weight.grad is not None
    opt.zero_grad(set_to_none=False)
    assert model[1].weight.grad is not None and not model[1].weight.grad.data.any()
    opt.zero_grad()
    assert model[1].weight.grad is None


@needs_torch
@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_clip_grad_norm_matches_pytorch(norm_type):
    rng = np.random.default_rng(4)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    ours = [Tensor(np.zeros(g.shape), requires_grad=True, dtype=np.float64) for g in grads]
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for o, t, g in zip(ours, theirs, grads):
        o.grad, t.grad = Tensor(g, dtype=np.float64), torch.tensor(g)
    total = nn.utils.clip_grad_norm_(ours, 0.5, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 0.5, norm_type)
    assert abs(total.item() - expected.item()) < 1e-5 * expected.item()
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-6)


def test_clip_grad_norm_names_a_nonfinite_norm_and_clip_value_clips():
    p = Tensor(np.zeros(3), requires_grad=True, dtype=np.float64)
    p.grad = Tensor([1.0, np.inf, -3.0], dtype=np.float64)
    with pytest.raises(RuntimeError, match="the total norm of the gradients is inf"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    p.grad = Tensor([1.0, 5.0, -3.0], dtype=np.float64)
    nn.utils.clip_grad_value_((q for q in [p]), 2.0)
    np.testing.assert_array_equal(p.grad.numpy(), [1.0, 2.0, -2.0])


# ---- nn.init -------------------------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize(
    "nonlinearity, param",
    [
        ("linear", None),
        ("relu", None),
        ("tanh", None),
        ("selu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("sigmoid", None),
    ],
)
def test_calculate_gain_matches_pytorch(nonlinearity, param):
    assert nn.init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param)
    )


@pytest.mark.parametrize(
    "init, spread",
    [
        # (call, the bound of a uniform or the std of a normal for a (64, 32, 3, 3) weight)
        (
            lambda t: nn.init.xavier_uniform_(t, gain=2.0),
            ("uniform", 2.0 * np.sqrt(6 / (32 * 9 + 64 * 9))),
        ),
        (lambda t: nn.init.xavier_normal_(t), ("normal", np.sqrt(2 / (32 * 9 + 64 * 9)))),
        (
            lambda t: nn.init.kaiming_uniform_(t, nonlinearity="relu"),
            ("uniform", np.sqrt(2) * np.sqrt(3 / (32 * 9))),
        ),
        (
            lambda t: nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
            ("normal", np.sqrt(2 / (64 * 9))),
        ),
        # Conv2d's default
        (
            lambda t: nn.init.kaiming_uniform_(t, a=np.sqrt(5)),
            ("uniform", 1 / np.sqrt(32 * 9)),
        ),
        (lambda t: nn.init.normal_(t, 0.0, 0.02), ("normal", 0.02)),
    ],
)
def test_initialisers_draw_from_pytorchs_distributions(init, spread):
    kind, scale = spread
    weight = init(Tensor(np.zeros((64, 32, 3, 3), np.float32), requires_grad=True))
    values = weight.numpy()
    assert weight.dtype == np.float32 and weight.requires_grad
    if kind == "uniform":
        assert np.abs(values).max() <= scale and np.abs(values).max() > 0.99 * scale
        assert values.std() == pytest.approx(scale / np.sqrt(3), rel=0.03)
    else:
        assert values.std() == pytest.approx(scale, rel=0.03) and abs(values.mean()) < 0.05 * scale


def test_default_layer_init_is_pytorchs():
    """Conv2d and Linear draw U(-1/sqrt(fan_in), 1/sqrt(fan_in)), which is PyTorch's
    kaiming_uniform_(a=sqrt(5)) for the weight and its bias rule."""
    conv = nn.Conv2d(32, 64, 3)
    bound = 1 / np.sqrt(32 * 9)
    assert np.abs(conv.weight.numpy()).max() <= bound and np.abs(conv.bias.numpy()).max() <= bound
    assert conv.weight.numpy().std() == pytest.approx(bound / np.sqrt(3), rel=0.05)


def test_trunc_normal_orthogonal_constant_and_seeding():
    import tinygrad_cnn as tc

    t = nn.init.trunc_normal_(Tensor(np.zeros(5000, np.float32)), std=1.0, a=-0.5, b=0.5)
    assert t.numpy().min() >= -0.5 and t.numpy().max() <= 0.5
    for shape in ((6, 4), (4, 6), (8, 2, 3)):
        q = nn.init.orthogonal_(Tensor(np.zeros(shape)), gain=2.0).numpy().reshape(shape[0], -1)
        small = q @ q.T if shape[0] <= q.shape[1] else q.T @ q
        np.testing.assert_allclose(small, 4.0 * np.eye(len(small)), atol=1e-6)
    assert (nn.init.ones_(Tensor(np.zeros(3))).numpy() == 1).all() and not nn.init.zeros_(
        Tensor(np.ones(3))
    ).numpy().any()
    tc.manual_seed(7)
    first = nn.init.kaiming_normal_(Tensor(np.zeros((4, 4)))).numpy()
    tc.manual_seed(7)
    assert np.array_equal(first, nn.init.kaiming_normal_(Tensor(np.zeros((4, 4)))).numpy())
    with pytest.raises(
        ValueError,
        match=r"xavier_uniform_: fan in and fan out need a tensor of 2 or more dimensions",
    ):
        nn.init.xavier_uniform_(Tensor(np.zeros(3)))


# ---- Module.to, float, double ------------------------------------------------------------------
def _small_net():
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 2))


def _train_step(model, optimizer, dtype):
    images = np.random.default_rng(1).standard_normal((3, 1, 4, 4))
    loss = ((model(Tensor(images, dtype=dtype)) - 1.0) ** 2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss


def test_to_converts_in_place_keeping_parameters_grads_and_optimizer():
    model = _small_net()
    params = model.parameters()
    optimizer = optim.SGD(params, lr=0.1, momentum=0.9)  # made before: it must keep training them
    _train_step(model, optimizer, np.float32)
    before = [p.data.copy() for p in params]
    assert model.double() is model
    assert all(a is b for a, b in zip(model.parameters(), params))
    assert all(p.dtype == p.grad.dtype == np.float64 for p in params)
    # float32 -> float64 is exact
    assert all(np.array_equal(p.data, old) for p, old in zip(params, before))
    bn = model[1]
    assert bn.running_mean.dtype == bn.running_var.dtype == np.float64
    assert bn.num_batches_tracked.dtype == np.int64 and bn.num_batches_tracked.item() == 1
    loss = _train_step(model, optimizer, np.float64)
    assert loss.dtype == np.float64 and all(p.dtype == np.float64 for p in params)
    # the optimizer moved them
    assert not any(np.array_equal(p.data, old) for p, old in zip(params, before))
    trained = [p.data.copy() for p in params]
    assert model.float() is model and all(p.dtype == p.grad.dtype == np.float32 for p in params)
    assert all(np.array_equal(p.data, old.astype(np.float32)) for p, old in zip(params, trained))
    assert _train_step(model, optimizer, np.float32).dtype == np.float32


@needs_torch
def test_to_leaves_the_dtypes_torchs_to_leaves():
    ours = _small_net().double()
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.Flatten(), torch.nn.Linear(8, 2)
    ).double()
    assert {k: str(v.dtype) for k, v in ours.state_dict().items()} == {
        k: str(v.dtype).replace("torch.", "") for k, v in theirs.state_dict().items()
    }


def test_to_accepts_pytorchs_forms_and_refuses_other_dtypes():
    model = _small_net()
    weight = model[0].weight
    assert model.to("cpu") is model and weight.dtype == np.float32
    assert model.to("float64") is model and weight.dtype == np.float64
    model.to(device="cpu", dtype=np.dtype("float16"))
    assert weight.dtype == np.float16
    model.to("cpu", np.float32)
    assert weight.dtype == np.float32
    with pytest.raises(
        TypeError, match="Sequential.to: only float16, float32 and float64 are accepted, got int64"
    ):
        model.to(np.int64)
    with pytest.raises(
        TypeError, match="Sequential.to: only float16, float32 and float64 are accepted, got 'gpu'"
    ):
        model.to("gpu")
    with pytest.raises(TypeError, match="Sequential.to: 'cuda': numpy runs on the CPU"):
        model.to("cuda")
    assert all(p.dtype == np.float32 for p in model.parameters())  # a refused call changes nothing


def test_astype_in_place_refuses_op_results_and_integers():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(
        RuntimeError, match="astype_: this tensor is the result of op 'mul' in a recorded graph"
    ):
        (x * 2.0).astype_(np.float64)
    with pytest.raises(
        TypeError, match="astype_: only a float tensor converts in place, this one has dtype int64"
    ):
        Tensor(np.arange(3)).astype_(np.float32)
    with pytest.raises(
        TypeError, match="astype_: only float16, float32 and float64 are accepted, got bool"
    ):
        x.astype_(bool)


def test_a_leaf_converted_under_a_pending_graph_gets_gradients_in_its_new_dtype():
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = (x * x).sum()
    assert x.astype_(np.float64) is x
    y.backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.data, [2.0, -4.0, 6.0])


def test_a_gradient_with_a_graph_is_converted_within_it():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * x * x).sum().backward(create_graph=True)
    x.astype_(np.float64)
    assert x.grad.dtype == np.float64 and x.grad.requires_grad
    np.testing.assert_array_equal(x.grad.data, [3.0, 12.0])
