"""Building blocks of the classic CNNs: conv-BN-ReLU, VGG blocks, Inception modules, residual blocks,
pre-activation residual blocks, dense blocks, and the two kinds of classifier head.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from .._checks import check_choice, check_int

__all__ = [
    "conv_bn_layers",
    "ConvBNReLU",
    "VGGBlock",
    "InceptionModule",
    "FactorizedInception",
    "BasicBlock",
    "Bottleneck",
    "PreActBlock",
    "DenseLayer",
    "DenseBlock",
    "gap_head",
    "flatten_head",
]


def conv_bn_layers(in_channels, out_channels, stride=1, dilation=1, activation=None):
    """A 3x3 convolution (no bias, "same" padding) -> batch norm -> activation, as a *list* of layers.

    The detectors of Part 5 spread these lists into one ``nn.Sequential``, so
    their parameters are numbered ``0.weight``, ``1.weight``, ... (the keys
    of the shipped torchvision Faster R-CNN weights rely on it);
    :class:`ConvBNReLU` is the named, nested version of the classic CNNs.

    Parameters
    ----------
    in_channels, out_channels, stride, dilation : int
    activation : nn.Module, optional
        Default ``nn.ReLU()``.
    """
    return [nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=dilation, dilation=dilation, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU() if activation is None else activation]


class ConvBNReLU(nn.Sequential):
    """Convolution (no bias) -> batch normalization -> ReLU.

    The layer names ``conv`` and ``bn`` are those of torchvision's
    ``BasicConv2d`` (GoogLeNet, Inception v3), whose batch norm uses
    ``eps=0.001``.
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None, eps=1e-5):
        kernel = kernel_size if isinstance(kernel_size, tuple) else (kernel_size, kernel_size)
        if padding is None:
            padding = (kernel[0] // 2, kernel[1] // 2)
        super().__init__(OrderedDict(
            conv=nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=False),
            bn=nn.BatchNorm2d(out_channels, eps=eps),
            relu=nn.ReLU(inplace=True),
        ))


class VGGBlock(nn.Sequential):
    """VGG's unit: ``n_convs`` 3x3 convolutions (+ BN + ReLU), then 2x2 max pooling."""

    def __init__(self, in_channels, out_channels, n_convs=2):
        n_convs = check_int(n_convs, "n_convs", minimum=1)
        layers = [ConvBNReLU(in_channels if i == 0 else out_channels, out_channels, 3) for i in range(n_convs)]
        super().__init__(*layers, nn.MaxPool2d(2))


class InceptionModule(nn.Module):
    """GoogLeNet's Inception module: four parallel branches, concatenated.

    ``branch1`` 1x1; ``branch2`` 1x1 reduction then 3x3; ``branch3`` 1x1
    reduction then 5x5; ``branch4`` 3x3 max pooling then 1x1 projection.
    The layer names and sizes are torchvision's ``Inception``, so its
    weights load. Two things differ from the 2014 module: torchvision's
    "5x5" branch has a 3x3 kernel (its source calls this a known bug,
    pytorch/vision issue 906; ``kernel5=5`` builds the paper's), and every
    convolution is followed by batch normalization, published after
    GoogLeNet (Ioffe and Szegedy 2015).

    Parameters
    ----------
    in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj : int
        Channel counts as in Table 1 of Szegedy et al. (2015).
    kernel5 : int
        Kernel of the third branch: 3 (torchvision) or 5 (the paper).
    """

    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj, kernel5=3, eps=0.001):
        super().__init__()
        check_choice(kernel5, "kernel5", (3, 5))
        self.branch1 = ConvBNReLU(in_channels, ch1x1, 1, eps=eps)
        self.branch2 = nn.Sequential(ConvBNReLU(in_channels, ch3x3red, 1, eps=eps),
                                     ConvBNReLU(ch3x3red, ch3x3, 3, eps=eps))
        self.branch3 = nn.Sequential(ConvBNReLU(in_channels, ch5x5red, 1, eps=eps),
                                     ConvBNReLU(ch5x5red, ch5x5, kernel5, eps=eps))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True),
                                     ConvBNReLU(in_channels, pool_proj, 1, eps=eps))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class FactorizedInception(nn.Module):
    """Inception v3's module with factorized n x n convolutions (torchvision's ``InceptionC``).

    An n x n convolution becomes a 1 x n followed by an n x 1 one: ``2n``
    instead of ``n**2`` weights per channel pair (14 vs 49 for n = 7).
    Branches: 1x1; 1x1 -> 1xn -> nx1; 1x1 -> nx1 -> 1xn -> nx1 -> 1xn;
    3x3 average pooling -> 1x1. Each branch ends with 192 channels.
    """

    def __init__(self, in_channels, channels_7x7, n=7, out_branch=192, eps=0.001):
        super().__init__()
        c7, n = channels_7x7, check_int(n, "n", minimum=1)
        self.branch1x1 = ConvBNReLU(in_channels, out_branch, 1, eps=eps)
        self.branch7x7_1 = ConvBNReLU(in_channels, c7, 1, eps=eps)
        self.branch7x7_2 = ConvBNReLU(c7, c7, (1, n), eps=eps)
        self.branch7x7_3 = ConvBNReLU(c7, out_branch, (n, 1), eps=eps)
        self.branch7x7dbl_1 = ConvBNReLU(in_channels, c7, 1, eps=eps)
        self.branch7x7dbl_2 = ConvBNReLU(c7, c7, (n, 1), eps=eps)
        self.branch7x7dbl_3 = ConvBNReLU(c7, c7, (1, n), eps=eps)
        self.branch7x7dbl_4 = ConvBNReLU(c7, c7, (n, 1), eps=eps)
        self.branch7x7dbl_5 = ConvBNReLU(c7, out_branch, (1, n), eps=eps)
        self.branch_pool = ConvBNReLU(in_channels, out_branch, 1, eps=eps)

    def forward(self, x):
        single = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        double = x
        for i in range(1, 6):
            double = getattr(self, f"branch7x7dbl_{i}")(double)
        pooled = self.branch_pool(nn.functional.avg_pool2d(x, 3, stride=1, padding=1))
        return torch.cat([self.branch1x1(x), single, double, pooled], 1)


def _projection(in_channels, out_channels, stride):
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                         nn.BatchNorm2d(out_channels))


class _IdentityShortcut(nn.Module):
    """Parameter-free shortcut ("option A" of He et al.): subsample, pad channels with zeros."""

    def __init__(self, in_channels, out_channels, stride):
        super().__init__()
        self.stride, self.extra = stride, out_channels - in_channels

    def forward(self, x):
        x = x[:, :, ::self.stride, ::self.stride]
        return nn.functional.pad(x, (0, 0, 0, 0, 0, self.extra)) if self.extra else x


class BasicBlock(nn.Module):
    """ResNet's basic block: ``relu(bn(conv3x3(relu(bn(conv3x3(x))))) + shortcut(x))``.

    Parameters
    ----------
    in_channels, channels : int
    stride : int
        2 halves the resolution (first block of a stage).
    shortcut : {"projection", "identity", "none"}
        How ``x`` reaches the sum when the shape changes: a 1x1 convolution
        with BN (torchvision's ``downsample``), zero-padded identity
        (no parameters), or no shortcut at all: a *plain* block.
    """

    expansion = 1

    def __init__(self, in_channels, channels, stride=1, shortcut="projection", groups=1, base_width=64):
        super().__init__()
        check_choice(shortcut, "shortcut", ("projection", "identity", "none"))
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.residual = shortcut != "none"
        self.downsample = None
        if self.residual and (stride != 1 or in_channels != channels):
            self.downsample = (_projection if shortcut == "projection" else _IdentityShortcut)(
                in_channels, channels, stride)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.residual:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class Bottleneck(nn.Module):
    """ResNet's bottleneck block (1x1 reduce, 3x3, 1x1 expand x4); ResNeXt when ``groups > 1``.

    The 3x3 convolution has ``width = channels * base_width / 64 * groups``
    channels split into ``groups`` groups: ResNeXt-50 32x4d has 32 groups of
    4 channels in its first stage (width 128) where ResNet-50 has one group
    of 64. Layer names are torchvision's.
    """

    expansion = 4

    def __init__(self, in_channels, channels, stride=1, shortcut="projection", groups=1, base_width=64):
        super().__init__()
        check_choice(shortcut, "shortcut", ("projection", "identity", "none"))
        groups = check_int(groups, "groups", minimum=1)
        width = int(channels * (base_width / 64.0)) * groups
        out_channels = channels * self.expansion
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.residual = shortcut != "none"
        self.downsample = None
        if self.residual and (stride != 1 or in_channels != out_channels):
            self.downsample = (_projection if shortcut == "projection" else _IdentityShortcut)(
                in_channels, out_channels, stride)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.residual:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class PreActBlock(nn.Module):
    """Pre-activation residual block (He et al. 2016b): ``x + conv(relu(bn(conv(relu(bn(x))))))``.

    Batch norm and ReLU come *before* each convolution, and nothing follows
    the addition, so the shortcut carries ``x`` to the output untouched:
    with identity shortcuts, ``x_L = x_l + sum of the residuals in between``
    and the gradient reaching ``x_l`` contains the loss gradient at ``x_L``
    unchanged. It has the layers of :class:`BasicBlock` (the first batch norm
    acts on the input channels instead of the output channels).

    Parameters
    ----------
    in_channels, channels, stride : int
    shortcut : {"projection", "identity"}
        Used only where the shape changes, as in :class:`BasicBlock`; the
        projection is a bare 1x1 convolution (its input is already
        normalized by ``bn1``).
    """

    expansion = 1

    def __init__(self, in_channels, channels, stride=1, shortcut="projection"):
        super().__init__()
        in_channels = check_int(in_channels, "in_channels", minimum=1)
        channels = check_int(channels, "channels", minimum=1)
        stride = check_int(stride, "stride", minimum=1)
        check_choice(shortcut, "shortcut", ("projection", "identity"))
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.relu = nn.ReLU()
        self.downsample = None
        if stride != 1 or in_channels != channels:
            self.downsample = (nn.Conv2d(in_channels, channels, 1, stride=stride, bias=False)
                               if shortcut == "projection" else _IdentityShortcut(in_channels, channels, stride))

    def forward(self, x):
        pre = self.relu(self.bn1(x))
        out = self.conv2(self.relu(self.bn2(self.conv1(pre))))
        if self.downsample is None:
            return out + x
        # the projection sees the normalized input, as in He et al.'s code
        return out + self.downsample(pre if isinstance(self.downsample, nn.Conv2d) else x)


class DenseLayer(nn.Module):
    """One layer of a DenseNet block (Huang et al. 2017), torchvision's ``_DenseLayer``.

    BN -> ReLU -> 1x1 convolution to ``bn_size * growth_rate`` channels
    -> BN -> ReLU -> 3x3 convolution to ``growth_rate`` channels. It
    returns only its *new* ``growth_rate`` channels; :class:`DenseBlock`
    concatenates them to everything before.
    """

    def __init__(self, in_channels, growth_rate, bn_size=4):
        super().__init__()
        in_channels = check_int(in_channels, "in_channels", minimum=1)
        growth_rate = check_int(growth_rate, "growth_rate", minimum=1)
        width = check_int(bn_size, "bn_size", minimum=1) * growth_rate
        self.norm1 = nn.BatchNorm2d(in_channels)
        self.relu1 = nn.ReLU()
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(width)
        self.relu2 = nn.ReLU()
        self.conv2 = nn.Conv2d(width, growth_rate, 3, padding=1, bias=False)

    def forward(self, x):
        return self.conv2(self.relu2(self.norm2(self.conv1(self.relu1(self.norm1(x))))))


class DenseBlock(nn.ModuleDict):
    """A DenseNet block: every layer sees the concatenation of all earlier outputs.

    Layer ``i`` (from 0) receives ``in_channels + i * growth_rate`` channels
    and adds ``growth_rate`` new ones, so the block outputs
    ``in_channels + n_layers * growth_rate`` channels: features are reused
    by concatenation instead of being added (ResNet) or recomputed. Layer
    names are torchvision's (``denselayer1``, ...), so the blocks of
    ``torchvision.models.densenet121`` load into it.

    Parameters
    ----------
    in_channels, n_layers, growth_rate : int
        DenseNet-121's first block: 64 channels in, 6 layers, growth 32.
    bn_size : int
        The 1x1 "bottleneck" of each layer has ``bn_size * growth_rate``
        channels.
    """

    def __init__(self, in_channels, n_layers, growth_rate, bn_size=4):
        in_channels = check_int(in_channels, "in_channels", minimum=1)
        n_layers = check_int(n_layers, "n_layers", minimum=1)
        growth_rate = check_int(growth_rate, "growth_rate", minimum=1)
        super().__init__({f"denselayer{i + 1}": DenseLayer(in_channels + i * growth_rate, growth_rate, bn_size)
                          for i in range(n_layers)})
        self.out_channels = in_channels + n_layers * growth_rate

    def forward(self, x):
        for layer in self.values():
            x = torch.cat([x, layer(x)], 1)
        return x


def gap_head(in_channels, n_classes):
    """Network-in-network's classifier (Lin et al. 2013): global average pooling, then one linear layer.

    Each channel is averaged over the whole map, whatever its size, so the
    head has ``(in_channels + 1) * n_classes`` parameters and accepts any
    input resolution. (Lin et al. let the last convolution produce one map
    per class and averaged those; GoogLeNet and ResNet keep a linear layer
    after the pooling, as here.)
    """
    in_channels = check_int(in_channels, "in_channels", minimum=1)
    n_classes = check_int(n_classes, "n_classes", minimum=1)
    return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(in_channels, n_classes))


def flatten_head(in_channels, size, n_classes, hidden=128, dropout=0.5):
    """AlexNet's and VGG's classifier: flatten the ``size`` x ``size`` map, a hidden FC layer, the output layer.

    ``(in_channels * size**2 + 1) * hidden + (hidden + 1) * n_classes``
    parameters: every position of every channel has its own weights, so the
    head grows with the map and fixes the input resolution.

    Parameters
    ----------
    in_channels, size, n_classes, hidden : int
        ``size``: height and width of the feature map it receives.
    dropout : float
        Dropout before the output layer, as in AlexNet and VGG.
    """
    in_channels = check_int(in_channels, "in_channels", minimum=1)
    size = check_int(size, "size", minimum=1)
    n_classes = check_int(n_classes, "n_classes", minimum=1)
    hidden = check_int(hidden, "hidden", minimum=1)
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    return nn.Sequential(nn.Flatten(), nn.Linear(in_channels * size * size, hidden), nn.ReLU(),
                         nn.Dropout(dropout), nn.Linear(hidden, n_classes))
