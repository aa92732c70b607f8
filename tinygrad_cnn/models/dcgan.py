"""DCGAN (Radford et al., 2016): a generator of transposed convolutions that grows a noise code
into an image, and a discriminator of strided convolutions that mirrors it."""

from __future__ import annotations

from .. import nn
from ..tensor import Tensor

__all__ = ["Generator", "Discriminator", "dcgan_init_"]


def _stages(image_size: int, owner: str) -> int:
    """k, for an image of 4 * 2^k pixels a side (k >= 1)."""
    k = (image_size // 4).bit_length() - 1
    if image_size < 8 or 4 * 2**k != image_size:
        raise ValueError(
            f"{owner}: image_size must be 4 * 2^k with k >= 1 (8, 16, 32, 64, ...), "
            f"got {image_size}"
        )
    return k


class Generator(nn.Module):
    """A noise code (B, nz) or (B, nz, 1, 1) -> an image (B, channels, S, S) in [-1, 1],
    S = image_size = 4 * 2^k.

    convT 4x4 (B, w*2^(k-1), 4, 4) -> BN -> ReLU -> [convT 4x4 stride 2, doubling the size and
    halving the width, -> BN -> ReLU] x (k - 1) -> convT 4x4 stride 2 (B, channels, S, S) -> tanh.
    ``Generator(100, 3, 64, 64)`` is the DCGAN paper's 64 x 64 generator.
    """

    def __init__(self, nz: int = 100, channels: int = 3, width: int = 64, image_size: int = 64):
        super().__init__()
        k = _stages(image_size, "Generator")
        widths = [width * 2 ** (k - 1 - i) for i in range(k)]
        layers = [
            nn.ConvTranspose2d(nz, widths[0], 4, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(),
        ]
        for wider, narrower in zip(widths, widths[1:]):
            layers += [
                nn.ConvTranspose2d(wider, narrower, 4, 2, 1, bias=False),
                nn.BatchNorm2d(narrower),
                nn.ReLU(),
            ]
        self.nz = nz
        self.main = nn.Sequential(
            *layers, nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1, bias=False), nn.Tanh()
        )

    def forward(self, z: Tensor) -> Tensor:
        """(B, nz) or (B, nz, 1, 1) -> (B, channels, S, S)."""
        if z.shape[1:] not in ((self.nz,), (self.nz, 1, 1)):
            raise ValueError(
                f"Generator: codes must be (B, {self.nz}) or (B, {self.nz}, 1, 1), got {z.shape}"
            )
        return self.main(z.reshape(z.shape[0], self.nz, 1, 1))


class Discriminator(nn.Module):
    """An image (B, channels, S, S) -> one logit per image (B,): positive for "real".

    conv 4x4 stride 2 (B, w, S/2, S/2) -> LeakyReLU(0.2) -> [conv 4x4 stride 2, halving the
    size and doubling the width, -> BN -> LeakyReLU(0.2)] x (k - 1) -> conv 4x4 (B, 1, 1, 1).
    The paper ends in a sigmoid; this returns the logit, for the numerically stable
    ``F.binary_cross_entropy_with_logits``.
    """

    def __init__(self, channels: int = 3, width: int = 64, image_size: int = 64):
        super().__init__()
        k = _stages(image_size, "Discriminator")
        widths = [width * 2**i for i in range(k)]
        layers = [nn.Conv2d(channels, widths[0], 4, 2, 1, bias=False), nn.LeakyReLU(0.2)]
        for narrower, wider in zip(widths, widths[1:]):
            layers += [
                nn.Conv2d(narrower, wider, 4, 2, 1, bias=False),
                nn.BatchNorm2d(wider),
                nn.LeakyReLU(0.2),
            ]
        self.main = nn.Sequential(*layers, nn.Conv2d(widths[-1], 1, 4, bias=False))
        self.image_shape = (channels, image_size, image_size)

    def forward(self, x: Tensor) -> Tensor:
        """(B, channels, S, S) -> (B,)."""
        if x.shape[1:] != self.image_shape:
            raise ValueError(
                f"Discriminator: images must be (B, {', '.join(map(str, self.image_shape))}), "
                f"got {x.shape}"
            )
        return self.main(x).reshape(x.shape[0])


def dcgan_init_(module: nn.Module) -> None:
    """The paper's initialisation, for ``model.apply(dcgan_init_)``: convolution weights from
    N(0, 0.02), batch-norm scales from N(1, 0.02) and shifts 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
