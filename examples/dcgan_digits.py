"""Train a DCGAN on the bundled digits and write a grid of generated samples.

    python examples/dcgan_digits.py [samples.png]

The digits are upsampled from 8 x 8 to 16 x 16 (bilinear), so both networks have two
stride-2 stages. The generator grows a 32-number noise code into an image with transposed
convolutions; the discriminator, strided convolutions, scores images as real or generated.
They train in turns (Goodfellow et al., 2014) with the non-saturating generator loss and the
DCGAN paper's Adam settings and initialisation.

To judge the samples with a number, not only by eye, a small CNN is trained on the real digits
first. It then reports how many samples it reads as some digit with confidence over 0.9
(real test digits score about the same), and how the samples spread over the ten digits
(a generator that collapsed onto a few digits shows here). The grid (needs matplotlib) shows
64 samples from fixed codes.
"""

import sys
import time

import numpy as np

import tinygrad_cnn as tc
import tinygrad_cnn.functional as F
from tinygrad_cnn import Tensor, optim
from tinygrad_cnn.data import batches, load_digits
from tinygrad_cnn.models import Discriminator, Generator, dcgan_init_, lenet
from tinygrad_cnn.train import fit, predict_logits

NZ = 32


def upsampled(images: np.ndarray) -> np.ndarray:
    """(N, 1, 8, 8) in [0, 1] -> (N, 1, 16, 16) in [-1, 1], the generator's tanh range."""
    return F.interpolate(images, scale_factor=2, mode="bilinear").data * 2 - 1


def bce(logits: Tensor, real: bool) -> Tensor:
    """Binary cross-entropy of logits against all-real (1) or all-generated (0) labels."""
    return F.binary_cross_entropy_with_logits(
        logits, np.full(logits.shape, float(real), dtype=np.float32)
    )


def confident_digits(judge, images: np.ndarray) -> tuple[float, np.ndarray]:
    """The fraction of images the judge reads with confidence > 0.9, and the count per digit."""
    probabilities = F.softmax(Tensor(predict_logits(judge, images)), axis=1).data
    return np.mean(probabilities.max(axis=1) > 0.9), np.bincount(
        probabilities.argmax(axis=1), minlength=10
    )


def save_grid(images: np.ndarray, path: str) -> None:
    """Images (64, 1, S, S) in [-1, 1] as an 8 x 8 grid, one pixel between them, dark ink."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    s = images.shape[-1] + 1
    grid = np.ones((8 * s + 1, 8 * s + 1))
    for i, image in enumerate(images[:, 0]):
        row, col = divmod(i, 8)
        grid[1 + s * row : s * (row + 1), 1 + s * col : s * (col + 1)] = (image + 1) / 2
    plt.imsave(path, np.kron(grid, np.ones((3, 3))), cmap="gray_r", vmin=0, vmax=1)


def train_gan(real_images: np.ndarray, labels: np.ndarray, epochs: int) -> Generator:
    generator = Generator(nz=NZ, channels=1, width=32, image_size=16).apply(dcgan_init_)
    discriminator = Discriminator(channels=1, width=32, image_size=16).apply(dcgan_init_)
    g_optimizer = optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    d_optimizer = optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        d_losses, g_losses = [], []
        for images, _ in batches(real_images, labels, batch_size=64, drop_last=True):
            fakes = generator(tc.randn(len(images), NZ))
            # the discriminator learns to tell real from generated; detach: no generator update here
            d_loss = bce(discriminator(Tensor(images)), True) + bce(
                discriminator(fakes.detach()), False
            )
            d_optimizer.zero_grad()
            d_loss.backward()
            d_optimizer.step()
            # the generator learns to make the discriminator say "real"
            g_loss = bce(discriminator(fakes), True)
            g_optimizer.zero_grad()
            g_loss.backward()
            g_optimizer.step()
            d_losses.append(d_loss.item())
            g_losses.append(g_loss.item())
        if epoch % 5 == 0 or epoch == 1:
            print(
                f"epoch {epoch:2d}  D loss {np.mean(d_losses):.3f}  "
                f"G loss {np.mean(g_losses):.3f}  ({time.perf_counter() - start:.0f} s)"
            )
    return generator.eval()


def main(path: str = "dcgan_digits.png", epochs: int = 40) -> None:
    tc.manual_seed(0)
    train, test = load_digits()
    real, real_test = upsampled(train.images), upsampled(test.images)
    judge = lenet(image_size=16, width=8)
    fit(
        judge,
        optim.Adam(judge.parameters(), lr=3e-3),
        (real, train.labels),
        (real_test, test.labels),
        epochs=10,
        quiet=True,
    )
    generator = train_gan(real, train.labels, epochs)
    with tc.no_grad():
        samples = generator(tc.randn(1000, NZ)).data
    for name, images in (("real test digits", real_test), ("generated samples", samples)):
        share, per_digit = confident_digits(judge, images)
        print(
            f"{name:17s}: {share:.0%} read as a digit with confidence > 0.9; "
            f"per digit {per_digit.tolist()}"
        )
    try:
        save_grid(samples[:64], path)
        print(f"wrote {path}: 64 samples")
    except ImportError:
        print("matplotlib is not installed (pip install matplotlib); no grid written")


if __name__ == "__main__":
    main(*sys.argv[1:2])
