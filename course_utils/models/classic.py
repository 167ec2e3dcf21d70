"""Full-size classic architectures, laid out exactly like ``torchvision.models``.

Same layer names, so that a torchvision state dict loads into them and both
give the same outputs: :func:`alexnet`, :func:`vgg16`, :func:`resnet18`,
:func:`resnet50`, :func:`resnext50_32x4d` (notebook 14).
"""

from __future__ import annotations

import torch
from torch import nn

from .blocks import BasicBlock, Bottleneck

__all__ = [
    "ResNet",
    "resnet18",
    "resnet50",
    "resnext50_32x4d",
    "alexnet",
    "VGG16_CONFIG",
    "vgg16",
]


def _stage(block, in_channels, channels, n_blocks, stride, **kwargs):
    blocks = [block(in_channels, channels, stride, **kwargs)]
    blocks += [block(channels * block.expansion, channels, 1, **kwargs) for _ in range(n_blocks - 1)]
    return nn.Sequential(*blocks)


class ResNet(nn.Module):
    """ImageNet ResNet / ResNeXt, layer for layer as ``torchvision.models.ResNet``.

    Stem: 7x7 convolution stride 2, BN, ReLU, 3x3 max pooling stride 2;
    four stages of ``layers[i]`` blocks with 64, 128, 256, 512 base
    channels (stages 2-4 start with stride 2); global average pooling; fc.
    """

    def __init__(self, block, layers, n_classes=1000, groups=1, base_width=64):
        super().__init__()
        if block not in (BasicBlock, Bottleneck):
            raise ValueError("block must be BasicBlock or Bottleneck")
        if len(layers) != 4:
            raise ValueError(f"layers must give 4 block counts, got {layers!r}")
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        channels_in = 64
        for i, (channels, n_blocks) in enumerate(zip((64, 128, 256, 512), layers)):
            stage = _stage(block, channels_in, channels, n_blocks, 1 if i == 0 else 2,
                           groups=groups, base_width=base_width)
            self.add_module(f"layer{i + 1}", stage)
            channels_in = channels * block.expansion
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels_in, n_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def resnet18(n_classes=1000):
    """ResNet-18: basic blocks ``[2, 2, 2, 2]`` (He et al. 2016)."""
    return ResNet(BasicBlock, [2, 2, 2, 2], n_classes)


def resnet50(n_classes=1000):
    """ResNet-50: bottleneck blocks ``[3, 4, 6, 3]``."""
    return ResNet(Bottleneck, [3, 4, 6, 3], n_classes)


def resnext50_32x4d(n_classes=1000):
    """ResNeXt-50 32x4d: ResNet-50 with 32 groups of width 4 in the 3x3 convolutions (Xie et al. 2017)."""
    return ResNet(Bottleneck, [3, 4, 6, 3], n_classes, groups=32, base_width=4)


class _Classic(nn.Module):
    """``features`` -> adaptive average pooling -> flatten -> ``classifier``."""

    def __init__(self, features, pool_size, classifier):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d(pool_size)
        self.classifier = classifier

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def _dense_head(in_features, n_classes, dropout=0.5):
    return nn.Sequential(
        nn.Dropout(dropout), nn.Linear(in_features, 4096), nn.ReLU(inplace=True),
        nn.Dropout(dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
        nn.Linear(4096, n_classes),
    )


def alexnet(n_classes=1000):
    """AlexNet (Krizhevsky et al. 2012) as torchvision has it (single-GPU, 64-192-384-256-256 filters)."""
    def conv(c_in, c_out, k, stride=1, padding=0):
        return [nn.Conv2d(c_in, c_out, k, stride=stride, padding=padding), nn.ReLU(inplace=True)]

    def pool():
        return [nn.MaxPool2d(3, stride=2)]
    features = nn.Sequential(*conv(3, 64, 11, 4, 2), *pool(), *conv(64, 192, 5, padding=2), *pool(),
                             *conv(192, 384, 3, padding=1), *conv(384, 256, 3, padding=1),
                             *conv(256, 256, 3, padding=1), *pool())
    head = _dense_head(256 * 6 * 6, n_classes)
    # torchvision puts AlexNet's dropouts before the first two linear layers, as _dense_head does
    return _Classic(features, (6, 6), head)


#: VGG-16 (configuration "D"): channels of each 3x3 convolution, "M" a 2x2 max pooling.
VGG16_CONFIG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")


def vgg16(n_classes=1000, config=VGG16_CONFIG):
    """VGG-16 (Simonyan and Zisserman 2015): thirteen 3x3 convolutions in five blocks, three FC layers."""
    layers, channels = [], 3
    for item in config:
        if item == "M":
            layers.append(nn.MaxPool2d(2, stride=2))
        else:
            layers += [nn.Conv2d(channels, item, 3, padding=1), nn.ReLU(inplace=True)]
            channels = item
    head = nn.Sequential(
        nn.Linear(channels * 7 * 7, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(4096, n_classes),
    )
    return _Classic(nn.Sequential(*layers), (7, 7), head)
