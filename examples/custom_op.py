"""Extend tinygrad_cnn with your own ops.

    python examples/custom_op.py

1. Swish as a custom op with its own backward: gradcheck it, train with it, see it by name in
   the graph.
2. A depthwise convolution two ways: composed of existing ops (no backward written), and as
   one custom op with a hand-written backward; both give the same values and gradients.
"""

import numpy as np

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, nn, optim
from tinygrad_cnn.data import batches, load_digits
from tinygrad_cnn.ops.elementwise import stable_sigmoid
from tinygrad_cnn.ops.window import col2im_array, im2col_array, window_geometry


# ---- 1. Swish(x) = x * sigmoid(x); d/dx = s + x * s * (1 - s), s = sigmoid(x) ---------------
class Swish(tc.Function):
    """x * sigmoid(x), elementwise."""

    @staticmethod
    def forward(ctx, x):
        s = stable_sigmoid(x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved_tensors
        return grad * (s + x * s * (1 - s))


class SwishLayer(nn.Module):
    def forward(self, x):
        return Swish.apply(x)


print("registered:", "swish" in tc.list_ops())
x = Tensor(np.linspace(-4, 4, 9), requires_grad=True, dtype=np.float64)
print("gradcheck swish:", tc.gradcheck(Swish.apply, x))
print("same as the built-in F.silu:", np.allclose(Swish.apply(x).data, F.silu(x).data))

tc.manual_seed(0)
train, test = load_digits()
model = nn.Sequential(
    nn.Conv2d(1, 16, 3, padding=1),
    SwishLayer(),
    nn.MaxPool2d(2),
    nn.Flatten(),
    nn.Linear(16 * 4 * 4, 10),
)
optimizer = optim.Adam(model.parameters(), lr=3e-3)
for _epoch in range(5):
    for images, labels in batches(train.images, train.labels, 32):
        loss = F.cross_entropy(model(Tensor(images)), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
with tc.no_grad():
    print(
        "test accuracy with swish:",
        np.mean(model(Tensor(test.images)).data.argmax(axis=1) == test.labels),
    )
try:
    graph = tc.draw_graph(model(Tensor(test.images[:2])))
    print("swish drawn in the graph:", "label=swish" in graph.source)
except ImportError:
    print("(pip install graphviz to draw the graph)")


# ---- 2. Depthwise convolution: every channel has its own K_h x K_w filter -------------------
def depthwise_composed(x, weight, stride=1, padding=0):
    """(B, C, H, W) * (C, 1, K_h, K_w) -> (B, C, O_h, O_w) from existing ops only:
    im2col (B*O_h*O_w, C*K) -> reshape (B*O_h*O_w, C, K) -> * weight (C, K) -> sum over K
    -> reshape (B, O_h, O_w, C) -> transpose (B, C, O_h, O_w)."""
    b, c = x.shape[:2]
    g = window_geometry("depthwise", x.shape, weight.shape[2:], stride, padding)
    cols = F.im2col(x, g.kernel_size, g.stride, g.padding)
    per_channel = cols.reshape(cols.shape[0], c, -1) * weight.reshape(c, -1)
    return per_channel.sum(axis=2).reshape(b, *g.out_size, c).transpose(0, 3, 1, 2)


class DepthwiseConv2d(tc.Function):
    """The same computation as one op, with a hand-written backward."""

    @staticmethod
    def forward(ctx, x, weight, stride=1, padding=0):
        b, c = x.shape[:2]
        ctx.geometry = g = window_geometry(
            "depthwise_conv2d", x.shape, weight.shape[2:], stride, padding
        )
        # (N, C, K)
        windows = im2col_array(x, g).reshape(-1, c, g.kernel_size[0] * g.kernel_size[1])
        ctx.save_for_backward(windows, weight)
        ctx.x_shape = x.shape
        out = np.einsum("nck,ck->nc", windows, weight.reshape(c, -1))
        return out.reshape(b, *g.out_size, c).transpose(0, 3, 1, 2)

    @staticmethod
    def backward(ctx, grad):
        windows, weight = ctx.saved_tensors
        c = weight.shape[0]
        grad_rows = grad.transpose(0, 2, 3, 1).reshape(-1, c)  # (N, C)
        grad_weight = np.einsum("nc,nck->ck", grad_rows, windows).reshape(weight.shape)
        grad_cols = (grad_rows[:, :, None] * weight.reshape(1, c, -1)).reshape(len(grad_rows), -1)
        return col2im_array(grad_cols, ctx.x_shape, ctx.geometry), grad_weight


rng = np.random.default_rng(0)
x = Tensor(rng.standard_normal((2, 3, 7, 6)), requires_grad=True, dtype=np.float64)
w = Tensor(rng.standard_normal((3, 1, 3, 3)), requires_grad=True, dtype=np.float64)
composed = depthwise_composed(x, w, stride=2, padding=1)
custom = DepthwiseConv2d.apply(x, w, stride=2, padding=1)
print("depthwise: same values:", np.allclose(composed.data, custom.data))
composed.sum().backward()
grads_composed = x.grad.data.copy(), w.grad.data.copy()
x.grad = w.grad = None
custom.sum().backward()
print(
    "depthwise: same gradients:",
    np.allclose(grads_composed[0], x.grad.data) and np.allclose(grads_composed[1], w.grad.data),
)
print(
    "gradcheck depthwise op:",
    tc.gradcheck(lambda x, w: DepthwiseConv2d.apply(x, w, stride=2, padding=1), x, w),
)
