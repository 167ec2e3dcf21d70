"""Context for segmentation without losing resolution: ASPP, pyramid pooling and a small DeepLab (notebook 26).

* :class:`ASPP` (DeepLabv3, Chen et al. 2017): parallel branches on one map,
  a 1x1 convolution, 3x3 convolutions **dilated** at several rates, and the
  image's global average, concatenated and projected. Its layout and
  parameter names are those of ``torchvision.models.segmentation.deeplabv3.ASPP``,
  so torchvision's weights load into it and give the same outputs (tested).
* :class:`PyramidPooling` (PSPNet, Zhao et al. 2017): the map averaged over
  1x1, 2x2, 3x3 and 6x6 grids of regions, each summary projected, upsampled
  and concatenated to the map.
* :class:`DeepLab`: the encoder of :class:`~course_utils.models.SmallVGG`
  (so notebook 16's source network can start it, :meth:`DeepLab.from_source`),
  a context module at stride 8, and DeepLabv3+'s decoder, which joins the
  context to the stride-2 features; read the where / what way
  (:mod:`course_utils.segmentation.losses`): "where" from the decoder, "what"
  from the context.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .._checks import check_choice, check_int
from .blocks import VGGBlock
from .segmentation import check_gray_batch

__all__ = ["ASPP", "PyramidPooling", "DeepLab", "CONTEXT_MODULES"]

#: What :class:`DeepLab` puts at stride 8: nothing, ASPP or PSP's pyramid pooling.
CONTEXT_MODULES = ("none", "aspp", "pyramid")


def _conv_bn_relu(in_channels, out_channels, kernel_size=1, dilation=1):
    padding = dilation * (kernel_size // 2)
    return [nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding, dilation=dilation, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU()]


class _ImagePooling(nn.Sequential):
    """Average the whole map to one vector, project it, and spread it back over the map."""

    def __init__(self, in_channels, out_channels, grid=1):
        super().__init__(nn.AdaptiveAvgPool2d(grid), *_conv_bn_relu(in_channels, out_channels))

    def forward(self, x):
        return F.interpolate(super().forward(x), size=x.shape[-2:], mode="bilinear", align_corners=False)


class ASPP(nn.Module):
    """Atrous spatial pyramid pooling: 1x1, dilated 3x3 at each rate, and image pooling, concatenated, projected.

    Parameters
    ----------
    in_channels : int
    rates : sequence of int
        Dilation rates of the 3x3 branches (DeepLabv3: 6, 12, 18 at stride 16).
    out_channels : int
        Channels of every branch and of the output.
    dropout : float
        Dropout after the projection (DeepLabv3's 0.5).
    """

    def __init__(self, in_channels, rates=(6, 12, 18), out_channels=256, dropout=0.5):
        super().__init__()
        in_channels = check_int(in_channels, "in_channels", minimum=1)
        out_channels = check_int(out_channels, "out_channels", minimum=1)
        rates = tuple(rates)
        if not rates or not all(isinstance(r, int) and r >= 1 for r in rates):
            raise ValueError(f"rates must be positive ints, got {rates}")
        branches = [nn.Sequential(*_conv_bn_relu(in_channels, out_channels))]
        branches += [nn.Sequential(*_conv_bn_relu(in_channels, out_channels, 3, rate)) for rate in rates]
        branches.append(_ImagePooling(in_channels, out_channels))
        self.convs = nn.ModuleList(branches)  # torchvision's names, so its weights load
        self.project = nn.Sequential(*_conv_bn_relu(len(branches) * out_channels, out_channels), nn.Dropout(dropout))

    def forward(self, x):
        return self.project(torch.cat([branch(x) for branch in self.convs], dim=1))


class PyramidPooling(nn.Module):
    """PSPNet's pyramid pooling module: region averages on several grids, concatenated to the map.

    Parameters
    ----------
    in_channels : int
    grids : sequence of int
        Side of each grid of regions (PSPNet: 1, 2, 3, 6).
    branch_channels : int, optional
        Channels of each pooled branch; default ``in_channels // len(grids)``.

    The output has ``in_channels + len(grids) * branch_channels`` channels.
    """

    def __init__(self, in_channels, grids=(1, 2, 3, 6), branch_channels=None):
        super().__init__()
        in_channels = check_int(in_channels, "in_channels", minimum=1)
        grids = tuple(grids)
        if not grids or not all(isinstance(g, int) and g >= 1 for g in grids):
            raise ValueError(f"grids must be positive ints, got {grids}")
        branch_channels = max(1, in_channels // len(grids)) if branch_channels is None else \
            check_int(branch_channels, "branch_channels", minimum=1)
        self.branches = nn.ModuleList(_ImagePooling(in_channels, branch_channels, g) for g in grids)
        self.out_channels = in_channels + len(grids) * branch_channels

    def forward(self, x):
        return torch.cat([x] + [branch(x) for branch in self.branches], dim=1)


class DeepLab(nn.Module):
    """A small DeepLabv3+: SmallVGG's encoder, a context module at stride 8, the v3+ decoder; where/what heads.

    Parameters
    ----------
    n_classes : int
    context : {"none", "aspp", "pyramid"}
        What widens the view at stride 8 (:data:`CONTEXT_MODULES`).
    rates : sequence of int
        ASPP's dilation rates (at stride 8 on 64-pixel scenes, 2, 4, 6 reach
        across the image).
    widths : 3 ints
        SmallVGG's block widths (16, 32, 64 for notebook 16's source network).
    context_channels : int

    Notes
    -----
    Inputs are scenes in [0, 1]; the model standardizes them as the source
    network's training digits were, ``(x - 0.13) / 0.31``, whether or not it
    starts from the source weights, so that the comparison is fair.
    """

    mean, std = 0.13, 0.31

    def __init__(self, n_classes=10, context="aspp", rates=(2, 4, 6), widths=(16, 32, 64), context_channels=64):
        super().__init__()
        self.n_classes = check_int(n_classes, "n_classes", minimum=1)
        self.context_kind = check_choice(context, "context", CONTEXT_MODULES)
        widths = tuple(widths)
        if len(widths) != 3 or not all(isinstance(w, int) and w >= 1 for w in widths):
            raise ValueError(f"widths must be 3 positive ints, got {widths}")
        a, b, c = widths
        self.block1, self.block2, self.block3 = VGGBlock(1, a, 1), VGGBlock(a, b, 1), VGGBlock(b, c, 1)
        if self.context_kind == "aspp":
            self.context = ASPP(c, rates, context_channels, dropout=0.1)
            width = context_channels
        elif self.context_kind == "pyramid":
            self.context = PyramidPooling(c)
            width = self.context.out_channels
        else:
            self.context = nn.Identity()
            width = c
        self.reduce = nn.Sequential(*_conv_bn_relu(a, 16))  # v3+: few channels from the early map
        self.decode = nn.Sequential(*_conv_bn_relu(width + 16, 32, 3), *_conv_bn_relu(32, 32, 3))
        self.where = nn.Conv2d(32, 1, 1)
        self.what = nn.Conv2d(width, self.n_classes, 1)

    @classmethod
    def from_source(cls, **kwargs):
        """A DeepLab whose encoder starts from notebook 16's source network (digits 0-4)."""
        from .transfer import load_source_model

        model = cls(widths=(16, 32, 64), **kwargs)
        source = load_source_model()
        for name in ("block1", "block2", "block3"):
            getattr(model, name).load_state_dict(getattr(source, name).state_dict())
        return model

    def forward(self, images):
        check_gray_batch(images)
        x2 = self.block1((images - self.mean) / self.std)
        x8 = self.context(self.block3(self.block2(x2)))
        joined = torch.cat([F.interpolate(x8, size=x2.shape[2:], mode="bilinear", align_corners=False),
                            self.reduce(x2)], dim=1)
        size = images.shape[2:]
        where = F.interpolate(self.where(self.decode(joined)), size=size, mode="bilinear", align_corners=False)
        what = F.interpolate(self.what(x8), size=size, mode="bilinear", align_corners=False)
        return torch.cat([where, what], dim=1)
