"""The model zoo: each model has its torch twin's parameter count and state_dict keys, and the
twin, loaded with our state_dict, computes our outputs (train and eval mode) and gradients to
float32 rounding."""

import numpy as np
import pytest
from helpers import needs_torch, torch

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, models, nn

rng = np.random.default_rng(0)


# ---- the torch twins, written the way a PyTorch user would --------------------------------------
def torch_lenet5(image_size=32):
    tnn = torch.nn
    return tnn.Sequential(
        tnn.Conv2d(1, 6, 5, padding=(32 - image_size) // 2),
        tnn.Tanh(),
        tnn.AvgPool2d(2),
        tnn.Conv2d(6, 16, 5),
        tnn.Tanh(),
        tnn.AvgPool2d(2),
        tnn.Flatten(),
        tnn.Linear(400, 120),
        tnn.Tanh(),
        tnn.Linear(120, 84),
        tnn.Tanh(),
        tnn.Linear(84, 10),
    )


def torch_resnet(depth):
    tnn, tF = torch.nn, torch.nn.functional

    class Block(tnn.Module):
        def __init__(self, c, m, stride):
            super().__init__()
            self.conv1, self.bn1 = tnn.Conv2d(c, m, 3, stride, 1, bias=False), tnn.BatchNorm2d(m)
            self.conv2, self.bn2 = tnn.Conv2d(m, m, 3, 1, 1, bias=False), tnn.BatchNorm2d(m)
            self.stride, self.extra = stride, m - c

        def forward(self, x):
            shortcut = tF.pad(x[:, :, :: self.stride, :: self.stride], (0, 0, 0, 0, 0, self.extra))
            return tF.relu(self.bn2(self.conv2(tF.relu(self.bn1(self.conv1(x))))) + shortcut)

    class Net(tnn.Module):
        def __init__(self):
            super().__init__()
            n = (depth - 2) // 6
            self.conv1, self.bn1 = tnn.Conv2d(3, 16, 3, padding=1, bias=False), tnn.BatchNorm2d(16)
            self.layer1 = tnn.Sequential(*[Block(16, 16, 1) for _ in range(n)])
            self.layer2 = tnn.Sequential(
                Block(16, 32, 2), *[Block(32, 32, 1) for _ in range(n - 1)]
            )
            self.layer3 = tnn.Sequential(
                Block(32, 64, 2), *[Block(64, 64, 1) for _ in range(n - 1)]
            )
            self.avgpool, self.fc = tnn.AdaptiveAvgPool2d(1), tnn.Linear(64, 10)

        def forward(self, x):
            x = self.layer3(self.layer2(self.layer1(tF.relu(self.bn1(self.conv1(x))))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return Net()


def torch_unet(width=4, depth=2):
    tnn = torch.nn

    def double(c, m):
        return tnn.Sequential(
            tnn.Conv2d(c, m, 3, padding=1, bias=False),
            tnn.BatchNorm2d(m),
            tnn.ReLU(),
            tnn.Conv2d(m, m, 3, padding=1, bias=False),
            tnn.BatchNorm2d(m),
            tnn.ReLU(),
        )

    class Net(tnn.Module):
        def __init__(self):
            super().__init__()
            widths = [width * 2**i for i in range(depth + 1)]
            self.inc = double(1, width)
            self.down = tnn.ModuleList(
                [tnn.Sequential(tnn.MaxPool2d(2), double(c, m)) for c, m in zip(widths, widths[1:])]
            )
            self.up = tnn.ModuleList(
                [tnn.ConvTranspose2d(2 * c, c, 2, stride=2) for c in widths[-2::-1]]
            )
            self.decode = tnn.ModuleList([double(2 * c, c) for c in widths[-2::-1]])
            self.head = tnn.Conv2d(width, 2, 1)

        def forward(self, x):
            skips = [self.inc(x)]
            for down in self.down:
                skips.append(down(skips[-1]))
            x = skips.pop()
            for up, decode, skip in zip(self.up, self.decode, reversed(skips)):
                x = decode(torch.cat([skip, up(x)], 1))
            return self.head(x)

    return Net()


def torch_generator(nz, channels, width, k):
    tnn = torch.nn
    widths = [width * 2 ** (k - 1 - i) for i in range(k)]
    layers = [
        tnn.ConvTranspose2d(nz, widths[0], 4, 1, 0, bias=False),
        tnn.BatchNorm2d(widths[0]),
        tnn.ReLU(),
    ]
    for a, b in zip(widths, widths[1:]):
        layers += [tnn.ConvTranspose2d(a, b, 4, 2, 1, bias=False), tnn.BatchNorm2d(b), tnn.ReLU()]
    net = tnn.Module()
    net.main = tnn.Sequential(
        *layers, tnn.ConvTranspose2d(widths[-1], channels, 4, 2, 1, bias=False), tnn.Tanh()
    )
    net.forward = lambda z: net.main(z.reshape(len(z), nz, 1, 1))
    return net


def torch_discriminator(channels, width, k):
    tnn = torch.nn
    widths = [width * 2**i for i in range(k)]
    layers = [tnn.Conv2d(channels, widths[0], 4, 2, 1, bias=False), tnn.LeakyReLU(0.2)]
    for a, b in zip(widths, widths[1:]):
        layers += [tnn.Conv2d(a, b, 4, 2, 1, bias=False), tnn.BatchNorm2d(b), tnn.LeakyReLU(0.2)]
    net = tnn.Module()
    net.main = tnn.Sequential(*layers, tnn.Conv2d(widths[-1], 1, 4, 1, 0, bias=False))
    net.forward = lambda x: net.main(x).reshape(len(x))
    return net


ZOO = {  # name: (ours, torch twin, input shape, parameter count where the paper gives one)
    "lenet5": (lambda: models.lenet5(), lambda: torch_lenet5(), (3, 1, 32, 32), 61_706),
    "lenet5_28": (
        lambda: models.lenet5(image_size=28),
        lambda: torch_lenet5(28),
        (3, 1, 28, 28),
        61_706,
    ),
    # ResNet-8 by hand: stem 3*16*9 + 32, blocks (16->16) 2*16*16*9 + 64,
    # (16->32) 16*32*9 + 32*32*9 + 128, (32->64) 32*64*9 + 64*64*9 + 256, fc 64*10 + 10;
    # each extra block of ResNet-20 two more convs and BNs
    "resnet8": (models.resnet8, lambda: torch_resnet(8), (4, 3, 32, 32), 75_290),
    "resnet20": (
        models.resnet20,
        lambda: torch_resnet(20),
        (2, 3, 16, 16),
        75_290 + 2 * (4_672 + 18_560 + 73_984),
    ),
    "unet": (lambda: models.UNet(width=4), lambda: torch_unet(), (3, 1, 16, 16), None),
    "generator64": (
        lambda: models.Generator(100, 3, 8, 64),
        lambda: torch_generator(100, 3, 8, 4),
        (3, 100),
        None,
    ),
    "generator8": (
        lambda: models.Generator(16, 1, 8, 8),
        lambda: torch_generator(16, 1, 8, 1),
        (3, 16, 1, 1),
        None,
    ),
    "discriminator32": (
        lambda: models.Discriminator(3, 8, 32),
        lambda: torch_discriminator(3, 8, 3),
        (3, 3, 32, 32),
        None,
    ),
}


@needs_torch
@pytest.mark.parametrize("name", ZOO)
def test_the_torch_twin_has_our_parameters_and_computes_our_outputs_and_gradients(name):
    make, make_twin, shape, count = ZOO[name]
    tc.manual_seed(1)
    ours, twin = make(), make_twin()
    ours.apply(models.dcgan_init_)  # a BN scale away from 1 and shift away from 0 tests more
    assert sum(p.size for p in ours.parameters()) == sum(p.numel() for p in twin.parameters())
    if count is not None:
        assert sum(p.size for p in ours.parameters()) == count
    assert sorted(ours.state_dict()) == sorted(twin.state_dict())
    twin.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    x = rng.standard_normal(shape).astype(np.float32)
    for mode in ("train", "eval"):  # train mode: batch statistics, and running ones updated
        getattr(ours, mode)(), getattr(twin, mode)()
        ours.zero_grad(), twin.zero_grad()
        out, expected = ours(Tensor(x)), twin(torch.tensor(x))
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-4, atol=1e-5)
        weights = rng.standard_normal(out.shape).astype(np.float32)
        out.backward(weights)
        expected.backward(torch.tensor(weights))
        grads = dict(twin.named_parameters())
        for key, p in ours.named_parameters():
            scale = max(1.0, float(np.abs(grads[key].grad.numpy()).max()))
            np.testing.assert_allclose(
                p.grad.data / scale, grads[key].grad.numpy() / scale, atol=2e-4, err_msg=key
            )
    for key, value in twin.state_dict().items():  # running statistics moved the same way
        np.testing.assert_allclose(
            ours.state_dict()[key], value.numpy(), rtol=1e-4, atol=1e-5, err_msg=key
        )


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: models.ResNet(9), "depth must be 6n \\+ 2"),
        (lambda: models.Generator(image_size=48), "image_size must be 4 \\* 2\\^k"),
        (lambda: models.Discriminator(image_size=4), "image_size must be 4 \\* 2\\^k"),
        (lambda: models.lenet5(image_size=30), "image_size must be 28"),
    ],
)
def test_bad_model_arguments_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: models.Generator(16, 1, 8, 8)(tc.randn(2, 4, 2, 2)),
            r"Generator: codes must be \(B, 16\) or \(B, 16, 1, 1\)",
        ),
        (
            lambda: models.Discriminator(1, 8, 16)(tc.randn(2, 1, 8, 8)),
            r"Discriminator: images must be \(B, 1, 16, 16\)",
        ),
    ],
)
def test_gan_inputs_of_the_wrong_shape_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_unet_refuses_a_size_it_cannot_halve_twice():
    with pytest.raises(
        ValueError, match=r"UNet: .* divisible by 2\^depth = 4, got \(1, 1, 10, 12\)"
    ):
        models.UNet()(Tensor(np.zeros((1, 1, 10, 12), np.float32)))


def test_generator_and_discriminator_shapes_and_ranges():
    g, d = (
        models.Generator(nz=16, channels=1, width=8, image_size=16),
        models.Discriminator(1, 8, 16),
    )
    images = g(tc.randn(5, 16))
    assert images.shape == (5, 1, 16, 16) and images.dtype == np.float32
    assert np.abs(images.data).max() <= 1
    assert d(images).shape == (5,)


def test_dcgan_init_draws_the_papers_distributions():
    tc.manual_seed(0)
    g = models.Generator(nz=64, channels=3, width=32, image_size=32).apply(models.dcgan_init_)
    weights = np.concatenate(
        [m.weight.data.ravel() for m in g.modules() if isinstance(m, nn.ConvTranspose2d)]
    )
    scales = np.concatenate([m.weight.data for m in g.modules() if isinstance(m, nn.BatchNorm2d)])
    assert abs(weights.std() - 0.02) < 0.001 and abs(weights.mean()) < 0.001
    assert abs(scales.mean() - 1) < 0.01 and all(
        np.all(m.bias.data == 0) for m in g.modules() if isinstance(m, nn.BatchNorm2d)
    )


def test_resnet_convolutions_start_from_he_initialisation():
    tc.manual_seed(0)
    weight = models.resnet20().layer3[2].conv2.weight.data  # (64, 64, 3, 3): fan_out = 64 * 9
    assert abs(weight.std() - np.sqrt(2 / (64 * 9))) < 0.003


def test_a_resnet_training_step_lowers_the_loss_on_one_batch():
    tc.manual_seed(0)
    model, x, y = models.resnet8(), tc.randn(8, 3, 16, 16), np.arange(8) % 10
    optimizer = tc.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for _ in range(5):
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]


def test_the_parameter_counts_in_docs_models_md_are_the_models():
    from pathlib import Path

    table = (Path(__file__).resolve().parents[1] / "docs" / "models.md").read_text()
    rows = {
        "lenet5(": [models.lenet5()],
        "resnet8()": [models.resnet8(), models.resnet20()],
        "UNet(": [models.UNet()],
        "Generator(": [models.Generator()],
        "Discriminator(": [models.Discriminator()],
        "lenet(": [models.lenet()],
    }
    for start, built in rows.items():
        line = next(line for line in table.splitlines() if line.startswith(f"| `{start}"))
        counts = "; ".join(f"{sum(p.size for p in m.parameters()):,}" for m in built)
        assert f"| {counts} |" in line, (line, counts)
