"""Train a WGAN-GP critic for a few steps on the bundled digits: a second derivative in practice.

The critic learns to score real digits above fake ones (here: the digits with their pixels
shuffled). WGAN-GP keeps it 1-Lipschitz with a penalty on the gradient of its score with
respect to its input, at points between real and fake images:

    penalty = mean over the batch of (||d critic(x_hat) / d x_hat|| - 1)^2

Training on that penalty differentiates a gradient, so the graph of the first backward must
itself be differentiated: ``tc.grad(..., create_graph=True)``, through conv, leaky ReLU,
max-pool, avg-pool and linear. With torch installed, each step's penalty is recomputed by
PyTorch from the same weights and batch and printed beside ours.

    python examples/gradient_penalty.py [steps]
"""

import sys

import numpy as np

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor, nn, optim
from tinygrad_cnn.data import load_digits

try:
    import torch
except ImportError:  # the comparison column is left out
    torch = None


def critic_model() -> nn.Sequential:
    """(B, 1, 8, 8) -> (B, 1): conv with stride and padding, overlapping max-pool, avg-pool."""
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, stride=2, padding=1),
        nn.LeakyReLU(0.2),  # (B, 8, 4, 4)
        nn.MaxPool2d(2, stride=1),  # (B, 8, 3, 3)
        nn.Conv2d(8, 16, 3, padding=1),
        nn.LeakyReLU(0.2),  # (B, 16, 3, 3)
        nn.AvgPool2d(3),  # (B, 16, 1, 1)
        nn.Flatten(),
        nn.Linear(16, 1),
    )


def torch_twin(model: nn.Sequential):
    """The same critic in PyTorch, with our weights (state_dict names are PyTorch's)."""
    twin = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, stride=2, padding=1),
        torch.nn.LeakyReLU(0.2),
        torch.nn.MaxPool2d(2, stride=1),
        torch.nn.Conv2d(8, 16, 3, padding=1),
        torch.nn.LeakyReLU(0.2),
        torch.nn.AvgPool2d(3),
        torch.nn.Flatten(),
        torch.nn.Linear(16, 1),
    )
    twin.load_state_dict({k: torch.tensor(v) for k, v in model.state_dict().items()})
    return twin


def gradient_penalty(critic, mixed, grad):
    """(||d critic / d x|| - 1)^2, averaged; ``grad`` is tc.grad or torch.autograd.grad."""
    (g,) = grad(critic(mixed).sum(), [mixed], create_graph=True)
    norms = ((g * g).reshape(len(g), -1).sum(1) + 1e-12) ** 0.5
    return ((norms - 1) ** 2).mean()


def main(steps: int = 20, batch: int = 32, weight: float = 10.0) -> None:
    tc.manual_seed(0)
    rng = np.random.default_rng(0)
    real_images = load_digits()[0].images
    critic = critic_model()
    opt = optim.Adam(critic.parameters(), lr=1e-3, betas=(0.5, 0.9))
    for step in range(1, steps + 1):
        real = real_images[rng.choice(len(real_images), batch)]
        fake = rng.permuted(real.reshape(batch, -1), axis=1).reshape(real.shape)  # pixels shuffled
        mix = rng.random((batch, 1, 1, 1)).astype(np.float32)
        mixed = mix * real + (1 - mix) * fake

        penalty = gradient_penalty(critic, Tensor(mixed, requires_grad=True), tc.grad)
        distance = critic(Tensor(real)).mean() - critic(Tensor(fake)).mean()
        loss = -distance + weight * penalty
        line = f"step {step:3d}  distance {distance.item():8.4f}  penalty ours {penalty.item():.6f}"
        if torch is not None:
            theirs = gradient_penalty(
                torch_twin(critic), torch.tensor(mixed, requires_grad=True), torch.autograd.grad
            )
            line += f"  torch {theirs.item():.6f}"
        print(line, flush=True)
        opt.zero_grad()
        loss.backward()
        opt.step()
    print(f"the critic now scores real digits {distance.item():.3f} above shuffled ones")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
