"""Add a new differentiable op, check its gradient, and train with it.

    python examples/custom_op.py

Swish(x) = x * sigmoid(x); its derivative is s + x * s * (1 - s) with s = sigmoid(x).
"""
import numpy as np

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, nn, optim
from tinygrad_cnn.data import batches, load_digits
from tinygrad_cnn.ops.elementwise import stable_sigmoid


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
print("gradcheck:", tc.gradcheck(Swish.apply, x))

tc.manual_seed(0)
train, test = load_digits()
model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), SwishLayer(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 16, 10))
optimizer = optim.Adam(model.parameters(), lr=3e-3)
for epoch in range(5):
    for images, labels in batches(train.images, train.labels, 32):
        loss = F.cross_entropy(model(Tensor(images)), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
with tc.no_grad():
    print("test accuracy:", np.mean(model(Tensor(test.images)).data.argmax(axis=1) == test.labels))
