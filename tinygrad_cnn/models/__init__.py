"""Ready-made models with PyTorch's layer names, so each state_dict loads into the same model
written in PyTorch: the digits CNN and LeNet-5, CIFAR-style ResNets, a small U-Net, and a
DCGAN generator and discriminator."""

from .dcgan import Discriminator, Generator, dcgan_init_
from .lenet import lenet, lenet5, lenet_parameter_count
from .resnet import BasicBlock, ResNet, resnet8, resnet20
from .unet import DoubleConv, Down, UNet

__all__ = [
    "lenet",
    "lenet_parameter_count",
    "lenet5",
    "ResNet",
    "BasicBlock",
    "resnet8",
    "resnet20",
    "UNet",
    "DoubleConv",
    "Down",
    "Generator",
    "Discriminator",
    "dcgan_init_",
]
