"""Scaled-down models that train in seconds on the MNIST subset.

:class:`MLP`, :class:`LeNet5`, :class:`SmallVGG`, :class:`SmallInception`,
:class:`SmallResNet` (ResNet or ResNeXt blocks) and :class:`DepthStack`
(plain or residual stacks of any depth, for the degradation experiment).
"""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

from .._checks import check_choice, check_int
from .blocks import BasicBlock, Bottleneck, ConvBNReLU, InceptionModule, VGGBlock
from .classic import _stage

__all__ = [
    "MLP",
    "LeNet5",
    "SmallVGG",
    "SmallInception",
    "SmallResNet",
    "DepthStack",
]


class MLP(nn.Sequential):
    """A multi-layer perceptron: the image flattened to a vector, then dense layers.

    Parameters
    ----------
    sizes : sequence of int
        Input size, hidden sizes, number of classes, e.g. ``(784, 128, 10)``.
    """

    def __init__(self, sizes=(784, 128, 64, 10)):
        sizes = [check_int(s, "sizes[i]", minimum=1) for s in sizes]
        if len(sizes) < 2:
            raise ValueError(f"sizes must list at least an input and an output size, got {sizes}")
        layers = [nn.Flatten()]
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        super().__init__(*layers)


class LeNet5(nn.Module):
    """LeNet-5 (LeCun et al. 1998) for 1 x 28 x 28 digits.

    CONV 5x5 (6 maps, padding 2 so a 28x28 input gives LeNet's 28x28 maps)
    -> POOL 2x2 -> CONV 5x5 (16 maps, 10x10) -> POOL 2x2 (16 x 5 x 5 = 400)
    -> FC 120 -> FC 84 -> FC 10. Modern choices: ReLU and max pooling where
    the original had scaled tanh and trainable average pooling.
    """

    def __init__(self, n_classes=10, in_channels=1):
        super().__init__()
        n_classes = check_int(n_classes, "n_classes", minimum=1)
        in_channels = check_int(in_channels, "in_channels", minimum=1)
        self.features = nn.Sequential(OrderedDict(
            conv1=nn.Conv2d(in_channels, 6, 5, padding=2), relu1=nn.ReLU(), pool1=nn.MaxPool2d(2),
            conv2=nn.Conv2d(6, 16, 5), relu2=nn.ReLU(), pool2=nn.MaxPool2d(2),
        ))
        self.classifier = nn.Sequential(OrderedDict(
            flatten=nn.Flatten(),
            fc1=nn.Linear(16 * 5 * 5, 120), relu3=nn.ReLU(),
            fc2=nn.Linear(120, 84), relu4=nn.ReLU(),
            fc3=nn.Linear(84, n_classes),
        ))

    def forward(self, x):
        return self.classifier(self.features(x))


class _SmallNet(nn.Module):
    """Shared layout of the small networks: blocks, global average pool, fc."""

    def forward(self, x):
        for name, child in self.named_children():
            x = child(x)
        return x


class SmallVGG(_SmallNet):
    """A scaled-down VGG: three VGG blocks, global average pooling, one FC layer.

    Top-level children ``block1``, ``block2``, ``block3``, ``pool``, ``fc``
    (the names :func:`course_utils.train.freeze` takes in notebook 16).
    """

    def __init__(self, n_classes=10, in_channels=1, widths=(16, 32, 64), n_convs=1):
        super().__init__()
        n_classes = check_int(n_classes, "n_classes", minimum=1)
        if len(widths) != 3:
            raise ValueError(f"widths must give 3 channel counts, got {widths!r}")
        channels = [check_int(in_channels, "in_channels", minimum=1)] + [
            check_int(w, "widths[i]", minimum=1) for w in widths]
        for i in range(3):
            self.add_module(f"block{i + 1}", VGGBlock(channels[i], channels[i + 1], n_convs))
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(channels[-1], n_classes)


class SmallInception(_SmallNet):
    """A scaled-down GoogLeNet: a stem, two Inception modules with pooling, fc."""

    def __init__(self, n_classes=10, in_channels=1, width=16):
        super().__init__()
        w = check_int(width, "width", minimum=2)
        self.stem = nn.Sequential(ConvBNReLU(in_channels, w, 3), nn.MaxPool2d(2))
        # outputs: w/2 + w + w/4 + w/4 = 2w, then 2w/2 ... = 4w channels
        self.block1 = nn.Sequential(InceptionModule(w, w // 2, w // 2, w, w // 4, w // 4, w // 4, eps=1e-5),
                                    nn.MaxPool2d(2))
        self.block2 = InceptionModule(2 * w, w, w, 2 * w, w // 2, w // 2, w // 2, eps=1e-5)
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(4 * w, n_classes)


class SmallResNet(_SmallNet):
    """A scaled-down ResNet (or ResNeXt) for small gray images.

    Stem 3x3 convolution, three stages of ``blocks`` residual blocks with
    ``width``, ``2 width``, ``4 width`` channels (stages 2 and 3 halve the
    resolution), global average pooling, fc.

    Parameters
    ----------
    block : {"basic", "bottleneck"}
        :class:`BasicBlock`, or :class:`Bottleneck` (ResNeXt with ``groups > 1``).
    groups : int
        Groups of the bottleneck's 3x3 convolution.
    base_width : int
        Channels per group of that convolution, as in :class:`Bottleneck`
        (``groups=4, base_width=32`` makes the 3x3 layer twice as wide as the
        block's reduced width: a small ResNeXt).
    """

    def __init__(self, n_classes=10, in_channels=1, width=16, blocks=1, block="basic", groups=1, base_width=64):
        super().__init__()
        kind = BasicBlock if check_choice(block, "block", ("basic", "bottleneck")) == "basic" else Bottleneck
        width = check_int(width, "width", minimum=4)
        blocks = check_int(blocks, "blocks", minimum=1)
        self.stem = ConvBNReLU(in_channels, width, 3)
        channels_in = width
        for i in range(3):
            channels = width * 2 ** i  # output channels of the stage
            planes = channels // kind.expansion
            self.add_module(f"stage{i + 1}", _stage(kind, channels_in, planes, blocks, 1 if i == 0 else 2,
                                                    groups=groups, base_width=base_width))
            channels_in = planes * kind.expansion
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(channels_in, n_classes)


class DepthStack(_SmallNet):
    """A plain or residual stack of ``6 n + 2`` layers (the CIFAR networks of He et al.).

    Stem 3x3 convolution, three stages of ``n`` basic blocks (two 3x3
    convolutions each) with ``width``, ``2 width``, ``4 width`` channels,
    global average pooling, fc. ``shortcut="none"`` gives the *plain*
    network: the very same layers without the additions.

    Parameters
    ----------
    n : int
        Blocks per stage; depth = 6 n + 2 weighted layers.
    shortcut : {"none", "identity", "projection"}
        ``"identity"``: parameter-free shortcuts everywhere (zero-padded
        where the width doubles); ``"projection"``: 1x1 convolutions where
        the shape changes.
    """

    def __init__(self, n=3, width=8, shortcut="none", n_classes=10, in_channels=1):
        super().__init__()
        n = check_int(n, "n", minimum=1)
        width = check_int(width, "width", minimum=1)
        self.stem = ConvBNReLU(in_channels, width, 3)
        channels_in = width
        for i in range(3):
            channels = width * 2 ** i
            self.add_module(f"stage{i + 1}", _stage(BasicBlock, channels_in, channels, n, 1 if i == 0 else 2,
                                                    shortcut=shortcut))
            channels_in = channels
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(channels_in, n_classes)

    @property
    def depth(self):
        """Number of weighted layers on the main path (convolutions and fc)."""
        return 6 * len(self.stage1) + 2
