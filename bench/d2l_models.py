"""d2l's models in PyTorch, as dsl-examples/*.cnn write them, for the PyTorch sides of the benchmark
(bench/pytorch.py), of the README's recipe table (bench/d2l_recipe.py) and of the one-step
training fixtures (tests/fixtures/gen/train_step.py). Input channels are spelled
out (LazyConv2d would need a dry run); module names match cnnc's state_dict keys.
"""
from torch import nn
import torch.nn.functional as F


def lenet(act):
    """d2l 7.6 (sigmoid, average pooling) or the exercise's ReLU + max-pooling variant."""
    a = nn.Sigmoid if act == 'sigmoid' else nn.ReLU
    pool = (lambda: nn.AvgPool2d(2, 2)) if act == 'sigmoid' else (lambda: nn.MaxPool2d(2, 2))
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), a(), pool(), nn.Conv2d(6, 16, 5), a(), pool(), nn.Flatten(),
                         nn.Linear(400, 120), a(), nn.Linear(120, 84), a(), nn.Linear(84, 10))


def vgg_small(size):
    """d2l 8.2.3: VGG(arch=((1, 16), (1, 32), (2, 64), (2, 128), (2, 128))), as dsl-examples/vgg-small.cnn."""
    layers, c = [], 1
    for num_convs, out_channels in ((1, 16), (1, 32), (2, 64), (2, 128), (2, 128)):
        blk = []
        for _ in range(num_convs):
            blk += [nn.Conv2d(c, out_channels, 3, padding=1), nn.ReLU()]
            c = out_channels
        blk.append(nn.MaxPool2d(2, 2))
        layers.append(nn.Sequential(*blk))
        size //= 2
    if size < 1:
        raise SystemExit('vgg-small needs --resize 32 or more (five 2x2 max-pools)')
    return nn.Sequential(*layers, nn.Flatten(),
                         nn.Linear(c * size * size, 4096), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(4096, 10))


class Residual(nn.Module):
    """d2l 8.6's Residual (as dsl-examples/resnet18.cnn); `bias=False` drops conv1/conv2's bias."""

    def __init__(self, in_channels, num_channels, use_1x1conv=False, strides=1, bias=True):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, num_channels, kernel_size=3, padding=1, stride=strides, bias=bias)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1, bias=bias)
        self.conv3 = nn.Conv2d(in_channels, num_channels, kernel_size=1, stride=strides) if use_1x1conv else None
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        Y += X
        return F.relu(Y)


def resnet18():
    """d2l 8.6's ResNet18: b1, stages b2..b5 of two Residuals each, then last."""
    net = nn.Sequential(nn.Sequential(
        nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3),
        nn.BatchNorm2d(64), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1)))
    in_channels = 64
    for i, num_channels in enumerate((64, 128, 256, 512)):
        first = i == 0
        net.add_module(f'b{i + 2}', nn.Sequential(
            Residual(in_channels, num_channels, use_1x1conv=not first, strides=1 if first else 2),
            Residual(num_channels, num_channels)))
        in_channels = num_channels
    net.add_module('last', nn.Sequential(nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(512, 10)))
    return net
