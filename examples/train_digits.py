"""Train a LeNet-style CNN on the bundled 8x8 digits, written out step by step.

    python examples/train_digits.py

The same job as ``python -m tinygrad_cnn train``, without the helpers: the model, the loop,
the loss, backward and the optimizer step are all on this page.
"""

import numpy as np

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, nn, optim
from tinygrad_cnn.data import batches, load_digits

tc.manual_seed(0)
train, test = load_digits()  # images (N, 1, 8, 8) float32 in [0, 1], labels (N,) int64

model = nn.Sequential(
    nn.Conv2d(1, 32, 3, padding=1),
    nn.ReLU(),
    nn.MaxPool2d(2),  # (B, 32, 4, 4)
    nn.Conv2d(32, 64, 3, padding=1),
    nn.ReLU(),
    nn.MaxPool2d(2),  # (B, 64, 2, 2)
    nn.Flatten(),
    nn.Linear(64 * 2 * 2, 10),  # (B, 10)
)
epochs = 30
optimizer = optim.Adam(model.parameters(), lr=3e-3)
scheduler = optim.CosineAnnealingLR(optimizer, T_max=epochs)

for epoch in range(1, epochs + 1):
    losses = []
    for images, labels in batches(train.images, train.labels, batch_size=32):
        loss = F.cross_entropy(model(Tensor(images)), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    scheduler.step()
    with tc.no_grad():
        accuracy = np.mean(model(Tensor(test.images)).data.argmax(axis=1) == test.labels)
    print(f"epoch {epoch:2d}  loss {np.mean(losses):.4f}  test accuracy {accuracy:.3f}")

model.save("digits_cnn.npz")
print("weights saved to digits_cnn.npz")
