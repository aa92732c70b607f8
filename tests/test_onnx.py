"""ONNX export: the recorded graph becomes Conv, MaxPool, Gemm, ... nodes that onnxruntime runs
with our numbers, for any batch size."""

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor, nn
from tinygrad_cnn.cli import main
from tinygrad_cnn.data import load_digits
from tinygrad_cnn.models import lenet
from tinygrad_cnn.train import predict_logits

onnx = pytest.importorskip("onnx", reason="onnx is not installed (pip install onnx)")
ort = pytest.importorskip(
    "onnxruntime", reason="onnxruntime is not installed (pip install onnxruntime)"
)


def mixed_model():
    """Dilation, groups, asymmetric padding ("same" with an even kernel), batch norm, avg-pool
    with padding, an overlapping max-pool, and activations with arguments."""
    return nn.Sequential(
        nn.Conv2d(3, 6, 4, padding="same"),
        nn.BatchNorm2d(6),
        nn.LeakyReLU(0.1),
        nn.Conv2d(6, 6, 3, stride=1, padding=2, dilation=2, groups=3),
        nn.ELU(0.5),
        nn.AvgPool2d(2, padding=1),
        nn.MaxPool2d(3, stride=1),
        nn.Flatten(),
        nn.Linear(54, 5),
        nn.Tanh(),
    )


def runtime_outputs(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})[0]


@pytest.mark.parametrize(
    "make, shape, layers",
    [
        (
            lambda: lenet(width=4),
            (3, 1, 8, 8),
            ["Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Flatten", "Gemm"],
        ),
        (
            mixed_model,
            (2, 3, 9, 9),
            [
                "Conv",
                "BatchNormalization",
                "LeakyRelu",
                "Conv",
                "Elu",
                "AveragePool",
                "MaxPool",
                "Flatten",
                "Gemm",
                "Tanh",
            ],
        ),
    ],
)
def test_onnxruntime_gives_our_outputs_for_two_batch_sizes(tmp_path, make, shape, layers):
    rng = np.random.default_rng(0)
    model = make()
    # a training step moves batch-norm statistics
    model(Tensor(rng.standard_normal(shape).astype(np.float32)))
    proto = tc.onnx.export(
        model, rng.standard_normal(shape).astype(np.float32), str(tmp_path / "m.onnx")
    )
    assert [node.op_type for node in proto.graph.node][
        :-1
    ] == layers  # each layer one node, then the output
    onnx.checker.check_model(onnx.load(str(tmp_path / "m.onnx")), full_check=True)
    for batch in (1, 7):
        x = rng.standard_normal((batch, *shape[1:])).astype(np.float32)
        np.testing.assert_allclose(
            runtime_outputs(tmp_path / "m.onnx", x), predict_logits(model, x), rtol=1e-5, atol=1e-6
        )
    assert model.training, "export leaves the model in the mode it found"


def test_an_op_without_conversion_names_itself_and_its_module(tmp_path):
    class Odd(nn.Module):
        def forward(self, x):
            return x.cumsum(axis=1)

    with pytest.raises(
        ValueError,
        match=r"op 'cumsum' \(in Odd\) has no ONNX conversion; register one with "
        r"tc.onnx.register\('cumsum'\)",
    ):
        tc.onnx.export(
            nn.Sequential(nn.Flatten(), Odd()),
            np.ones((2, 1, 2, 2), np.float32),
            str(tmp_path / "m.onnx"),
        )


def test_a_custom_op_registers_its_converter(tmp_path, clean_registry):
    class Twice(tc.Function):  # a user's op: a + a, gradient 2
        forward = staticmethod(lambda ctx, a: a + a)
        backward = staticmethod(lambda ctx, grad: 2 * grad)

    @tc.onnx.register("twice")
    def twice_to_onnx(builder, ctx, inputs):
        return builder.node("Add", [inputs[0], inputs[0]])

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)

        def forward(self, x):
            return Twice.apply(self.fc(x)) + 1.0

    model = Model()
    x = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    try:
        tc.onnx.export(model, x, str(tmp_path / "m.onnx"))
    finally:
        tc.onnx.OP_CONVERTERS.pop("twice")
    np.testing.assert_allclose(
        runtime_outputs(tmp_path / "m.onnx", x), model(Tensor(x)).numpy(), rtol=1e-5, atol=1e-6
    )


def test_cli_exports_a_trained_checkpoint_that_predicts_the_same(tmp_path, capsys):
    assert main(["train", "--epochs", "2", "--width", "4", "--quiet", "--out", str(tmp_path)]) == 0
    assert (
        main(["export", str(tmp_path / "checkpoint.npz"), "--onnx", str(tmp_path / "digits.onnx")])
        == 0
    )
    checkpoint = tc.load(tmp_path / "checkpoint.npz")
    model = lenet(**checkpoint["config"])
    model.load_state_dict(checkpoint["model"])
    _, test = load_digits()
    ours = predict_logits(model, test.images)
    theirs = runtime_outputs(tmp_path / "digits.onnx", test.images)
    assert (ours.argmax(1) == theirs.argmax(1)).all()
    np.testing.assert_allclose(theirs, ours, rtol=1e-5, atol=1e-5)


ACTIVATIONS = [
    nn.Softmax(dim=1),
    nn.LogSoftmax(dim=0),
    nn.Softmax(1),
    nn.Softmin(dim=1),
    nn.Softplus(2.0),
    nn.Softplus(),
    nn.GELU(),
    nn.Hardtanh(-0.5, 0.3),
    nn.ReLU6(),
    nn.CELU(0.5),
    nn.Mish(),
    nn.Hardsigmoid(),
    nn.SiLU(),
    nn.ELU(alpha=0.3),
    nn.LeakyReLU(negative_slope=0.2),
    nn.SELU(),
    nn.Softsign(),
]


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=repr)
def test_activation_modules_keep_their_arguments(tmp_path, activation):
    model = nn.Sequential(nn.Linear(5, 4), activation)
    x = np.random.default_rng(2).standard_normal((3, 5)).astype(np.float32) * 2
    tc.onnx.export(model, x, str(tmp_path / "m.onnx"))
    np.testing.assert_allclose(
        runtime_outputs(tmp_path / "m.onnx", x), predict_logits(model, x), rtol=1e-5, atol=1e-6
    )


def test_subclasses_with_their_own_forward_are_not_taken_for_their_parents(tmp_path):
    class Doubled(nn.ReLU):
        def forward(self, x):
            return super().forward(x) * 2.0

    class Tripled(nn.Dropout):
        def forward(self, x):
            return x * 3.0

    model = nn.Sequential(nn.Linear(4, 4), Doubled(), Tripled())
    x = np.random.default_rng(3).standard_normal((2, 4)).astype(np.float32)
    tc.onnx.export(model, x, str(tmp_path / "m.onnx"))
    np.testing.assert_allclose(
        runtime_outputs(tmp_path / "m.onnx", x), predict_logits(model, x), rtol=1e-5, atol=1e-6
    )


def test_export_keeps_each_modules_mode_and_makes_the_folder(tmp_path):
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5), nn.Linear(4, 2))
    model.train()
    model[1].eval()
    tc.onnx.export(model, np.ones((2, 4), np.float32), str(tmp_path / "new" / "m.onnx"))
    assert model.training and not model[1].training and model[2].training
    assert (tmp_path / "new" / "m.onnx").is_file()


def test_a_flatten_that_drops_the_batch_axis_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"only Flatten\(1, -1\), which keeps the batch axis"):
        tc.onnx.export(
            nn.Sequential(nn.Flatten(2)),
            np.ones((2, 3, 4, 5), np.float32),
            str(tmp_path / "m.onnx"),
        )


@pytest.mark.parametrize(
    "make, shape",
    [
        # a last window PyTorch drops
        (
            lambda: nn.MaxPool2d(2, padding=1, ceil_mode=True),
            (2, 3, 5, 5),
        ),
        (lambda: nn.AvgPool2d(2, 3, ceil_mode=True), (2, 3, 7, 9)),
        # padding counted, the ceil part not
        (
            lambda: nn.AvgPool2d(3, 2, 1, ceil_mode=True),
            (2, 3, 6, 6),
        ),
        (lambda: nn.MaxPool2d(3, 2, 1, dilation=2, ceil_mode=True), (2, 3, 9, 8)),
        # ONNX's Resize sizes this 6, PyTorch 7
        (
            lambda: nn.Upsample(scale_factor=0.7),
            (2, 3, 10, 10),
        ),
        (lambda: nn.Upsample(scale_factor=(1.1, 2.1), mode="bilinear"), (2, 3, 7, 9)),
        (lambda: nn.Upsample(size=(9, 4), mode="nearest-exact"), (2, 3, 5, 6)),
        (
            lambda: nn.ConvTranspose2d(
                4, 2, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=2
            ),
            (2, 4, 5, 6),
        ),
        (lambda: nn.Conv2d(3, 4, 3, padding=2, padding_mode="replicate"), (2, 3, 6, 6)),
        (lambda: nn.AdaptiveAvgPool2d(1), (2, 3, 5, 6)),
        (lambda: tc.models.lenet5(), (2, 1, 32, 32)),
        (lambda: tc.models.resnet8(), (2, 3, 16, 16)),  # slices and pads in the shortcuts
        (lambda: tc.models.UNet(width=4), (2, 1, 16, 16)),  # cat
        (lambda: tc.models.Generator(16, 1, 8, 16), (2, 16)),  # reshapes that keep the batch axis
        (lambda: tc.models.Discriminator(1, 8, 16), (2, 1, 16, 16)),
    ],
)
def test_the_new_layers_and_the_zoo_run_in_onnxruntime_for_any_batch(tmp_path, make, shape):
    rng = np.random.default_rng(0)
    model = make()
    tc.onnx.export(model, rng.standard_normal(shape).astype(np.float32), str(tmp_path / "m.onnx"))
    model.eval()
    for batch in (1, 5):
        x = rng.standard_normal((batch, *shape[1:])).astype(np.float32)
        with tc.no_grad():
            expected = model(Tensor(x)).data
        np.testing.assert_allclose(
            runtime_outputs(tmp_path / "m.onnx", x), expected, rtol=1e-5, atol=1e-6
        )


def test_layers_without_an_onnx_twin_are_refused_by_name(tmp_path):
    x = np.ones((1, 3, 6, 6), np.float32)
    for model, message in [
        (nn.AvgPool2d(2, divisor_override=3), "divisor_override has no ONNX"),
        (nn.AdaptiveAvgPool2d(2), "only output size 1"),
        (nn.Conv2d(3, 3, 3, padding=1, padding_mode="circular"), "padding_mode 'circular'"),
    ]:
        with pytest.raises(ValueError, match=message):
            tc.onnx.export(model, x, str(tmp_path / "m.onnx"))
