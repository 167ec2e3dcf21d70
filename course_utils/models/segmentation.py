"""Fully convolutional segmenters for the scenes: FCN, U-Net and SegNet on one shared encoder (notebook 25).

All three take (N, 1, H, W) images (H, W multiples of 8) and return
(N, 1 + C, H, W) logits, read by :func:`course_utils.segmentation.predicted_classes`
either the ``"plain"`` way (1 + C class logits from the finest features) or
the ``"where_what"`` way (``head=``): channel 0 a foreground logit from the
finest features the model has, channels 1 .. C the object's class from
coarse, deep features (stride 4), upsampled bilinearly. They differ in how
they get back to full resolution, which is the lesson:

* :class:`FCN` (Long et al. 2015): class scores computed at stride 8 and
  upsampled by transposed convolutions initialized as bilinear
  interpolation; ``skips=True`` adds scores from the stride-4 and stride-2
  maps on the way up (FCN-8s), ``skips=False`` upsamples once (FCN-32s's
  idea at our scale).
* :class:`UNet` (Ronneberger et al. 2015): a decoder that upsamples by
  transposed convolution and **concatenates** the encoder's map of the
  same size before its convolutions.
* :class:`SegNet` (Badrinarayanan et al. 2017): the decoder **unpools**
  with the positions remembered by the encoder's max pooling
  (:func:`max_unpool`, equal to ``F.max_unpool2d`` and to the course's
  ``conv.max_unpool2d`` of notebook 07) and convolves; no feature maps
  cross over.

Speed on a CPU: convolutions with few channels at full resolution are the
cost, so the full-resolution layers are narrow and have no batch norm, and
:func:`channels_last` puts a model in the memory layout whose convolutions
oneDNN runs fastest.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .._checks import check_choice, check_int
from ..conv import bilinear_kernel
from .blocks import conv_bn_layers

__all__ = ["FCN", "UNet", "SegNet", "channels_last", "max_unpool"]

_HEADS = ("where_what", "plain")


def _conv(in_channels, out_channels, batch_norm=True, dilation=1):
    if batch_norm:
        return nn.Sequential(*conv_bn_layers(in_channels, out_channels, dilation=dilation))
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, padding=dilation, dilation=dilation), nn.ReLU())


def check_gray_batch(images, multiple=8):
    """Check a batch of gray images (N, 1, H, W) whose sides are multiples of ``multiple`` (the deepest stride)."""
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(f"images must be (N, 1, H, W), got "
                         f"{tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__}")
    if images.shape[2] % multiple or images.shape[3] % multiple:
        raise ValueError(f"image height and width must be multiples of {multiple}, got {tuple(images.shape[2:])}")


def _check_widths(widths):
    widths = tuple(widths)
    if len(widths) != 4 or not all(isinstance(w, int) and w >= 1 for w in widths):
        raise ValueError(f"widths must be 4 positive ints (channels at strides 1, 2, 4, 8), got {widths}")
    return widths


class _Encoder(nn.Module):
    """Stride 1, 2, 4, 8: one narrow convolution at full resolution, then max-pool + two conv-BN-ReLU per level."""

    def __init__(self, widths):
        super().__init__()
        a, b, c, d = widths
        self.level1 = _conv(1, a, batch_norm=False)
        self.level2 = nn.Sequential(_conv(a, b), _conv(b, b))
        self.level4 = nn.Sequential(_conv(b, c), _conv(c, c))
        self.level8 = nn.Sequential(_conv(c, d), _conv(d, d, dilation=2))  # dilated: a wider view for "which digit"

    def forward(self, images, return_indices=False):
        x1 = self.level1(images)
        p1, i1 = F.max_pool2d(x1, 2, return_indices=True)
        x2 = self.level2(p1)
        p2, i2 = F.max_pool2d(x2, 2, return_indices=True)
        x4 = self.level4(p2)
        p4, i4 = F.max_pool2d(x4, 2, return_indices=True)
        x8 = self.level8(p4)
        return ([x1, x2, x4, x8], [i1, i2, i4]) if return_indices else [x1, x2, x4, x8]


class _Segmenter(nn.Module):
    """Shared checks, the encoder, and the two heads; subclasses decode."""

    def __init__(self, n_classes, widths, head):
        super().__init__()
        self.n_classes = check_int(n_classes, "n_classes", minimum=1)
        self.widths = _check_widths(widths)
        self.head = check_choice(head, "head", _HEADS)
        self.encoder = _Encoder(self.widths)

    def _make_heads(self, fine_channels, coarse_channels):
        if self.head == "plain":
            self.classes = nn.Conv2d(fine_channels, 1 + self.n_classes, 1)
        else:
            self.where = nn.Conv2d(fine_channels, 1, 1)
            self.what = nn.Sequential(_conv(coarse_channels, coarse_channels), nn.Conv2d(coarse_channels, self.n_classes, 1))

    def _heads(self, fine, coarse, size):
        if self.head == "plain":
            return self.classes(fine)
        what = F.interpolate(self.what(coarse), size=size, mode="bilinear", align_corners=False)
        return torch.cat([self.where(fine), what], dim=1)


class UNet(_Segmenter):
    """U-Net: transposed-convolution upsampling, concatenated skips from the encoder.

    Parameters
    ----------
    n_classes : int
        Object classes C (the background is extra).
    widths : 4 ints
        Channels at strides 1, 2, 4 and 8.
    head : {"where_what", "plain"}
    """

    def __init__(self, n_classes=10, widths=(8, 32, 64, 96), head="where_what"):
        super().__init__(n_classes, widths, head)
        a, b, c, d = self.widths
        self.up4, self.decode4 = nn.ConvTranspose2d(d, c, 2, stride=2), _conv(2 * c, c)
        self.up2, self.decode2 = nn.ConvTranspose2d(c, b, 2, stride=2), _conv(2 * b, b)
        self.up1, self.decode1 = nn.ConvTranspose2d(b, a, 2, stride=2), _conv(2 * a, a, batch_norm=False)
        self._make_heads(a, c)

    def forward(self, images):
        check_gray_batch(images)
        x1, x2, x4, x8 = self.encoder(images)
        y4 = self.decode4(torch.cat([self.up4(x8), x4], dim=1))
        y2 = self.decode2(torch.cat([self.up2(y4), x2], dim=1))
        y1 = self.decode1(torch.cat([self.up1(y2), x1], dim=1))
        return self._heads(y1, y4, images.shape[2:])


class SegNet(_Segmenter):
    """SegNet: the decoder unpools with the encoder's max-pooling positions, then convolves; no skips.

    Parameters as :class:`UNet`. Unpooling puts values back into a map of the
    pooled map's channels, so each level's last convolution narrows the
    channels to those of the next level up.
    """

    def __init__(self, n_classes=10, widths=(8, 32, 64, 96), head="where_what"):
        super().__init__(n_classes, widths, head)
        a, b, c, d = self.widths
        self.narrow8 = _conv(d, c)
        self.decode4, self.narrow4 = _conv(c, c), _conv(c, b)
        self.decode2, self.narrow2 = _conv(b, b), _conv(b, a)
        self.decode1 = _conv(a, a, batch_norm=False)
        self._make_heads(a, c)

    def forward(self, images):
        check_gray_batch(images)
        (x1, x2, x4, x8), (i1, i2, i4) = self.encoder(images, return_indices=True)
        y4 = self.decode4(max_unpool(self.narrow8(x8), i4, x4.shape[2:]))
        y2 = self.decode2(max_unpool(self.narrow4(y4), i2, x2.shape[2:]))
        y1 = self.decode1(max_unpool(self.narrow2(y2), i1, x1.shape[2:]))
        return self._heads(y1, y4, images.shape[2:])


def max_unpool(x, indices, size):
    """Max unpooling as a scatter: each value goes to the flat position its pooling window's maximum came from.

    Equal to ``F.max_unpool2d`` for non-overlapping pooling (tested), and
    usable under ``torch.use_deterministic_algorithms(True)``, which refuses
    ``F.max_unpool2d`` (the positions of non-overlapping windows never
    collide, so a plain scatter is deterministic).

    Parameters
    ----------
    x : (N, C, h, w) tensor
    indices : (N, C, h, w) int64 tensor
        From ``F.max_pool2d(..., return_indices=True)``.
    size : (H, W)
        Size of the map that was pooled.
    """
    if indices.shape != x.shape:
        raise ValueError(f"indices must have the shape of x {tuple(x.shape)}, got {tuple(indices.shape)}")
    n, c = x.shape[:2]
    height, width = size
    out = x.new_zeros(n, c, height * width).scatter(2, indices.flatten(2), x.flatten(2))
    return out.view(n, c, height, width)


def _bilinear_transposed(channels, factor):
    """A depthwise transposed convolution initialized to bilinear upsampling by ``factor`` (FCN's choice)."""
    layer = nn.ConvTranspose2d(channels, channels, 2 * factor, stride=factor, padding=factor // 2,
                               groups=channels, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(bilinear_kernel(factor), dtype=layer.weight.dtype).expand_as(layer.weight))
    return layer


class FCN(_Segmenter):
    """FCN: scores at stride 8, upsampled by bilinear-initialized transposed convolutions, optional skips.

    Parameters
    ----------
    n_classes, widths, head
        As :class:`UNet`.
    skips : bool
        True: add 1x1 scores of the stride-4 and stride-2 maps on the way up
        (FCN-8s). False: one x8 upsampling of the stride-8 scores.
    """

    def __init__(self, n_classes=10, widths=(8, 32, 64, 96), head="where_what", skips=True):
        super().__init__(n_classes, widths, head)
        self.skips = bool(skips)
        a, b, c, d = self.widths
        n_scores = 1 + self.n_classes if self.head == "plain" else 1
        self.score8 = nn.Conv2d(d, n_scores, 1)
        if self.skips:
            self.score4, self.score2 = nn.Conv2d(c, n_scores, 1), nn.Conv2d(b, n_scores, 1)
            self.up8to4, self.up4to2, self.up2to1 = (_bilinear_transposed(n_scores, 2) for _ in range(3))
        else:
            self.up8to1 = _bilinear_transposed(n_scores, 8)
        if self.head == "where_what":  # the class scores come from the stride-4 map, as in the other two
            self.what = nn.Sequential(_conv(c, c), nn.Conv2d(c, self.n_classes, 1))

    def forward(self, images):
        check_gray_batch(images)
        x1, x2, x4, x8 = self.encoder(images)
        scores = self.score8(x8)
        if self.skips:
            scores = self.up8to4(scores) + self.score4(x4)
            scores = self.up4to2(scores) + self.score2(x2)
            scores = self.up2to1(scores)
        else:
            scores = self.up8to1(scores)
        if self.head == "plain":
            return scores
        what = F.interpolate(self.what(x4), size=images.shape[2:], mode="bilinear", align_corners=False)
        return torch.cat([scores, what], dim=1)


def channels_last(model, images=None):
    """Put a model (and optionally a batch) in the channels-last memory layout; returns them.

    Same numbers up to rounding, faster convolutions on CPUs for maps with few
    channels (measured in notebook 25).
    """
    model = model.to(memory_format=torch.channels_last)
    if images is None:
        return model
    return model, images.contiguous(memory_format=torch.channels_last)
