"""A small YOLO for the digit scenes: a CNN down to a grid of stride 8, and one 1x1 convolution as the head.

The head outputs, per cell and anchor, ``5 + C`` numbers (objectness logit,
:math:`t_x, t_y, t_w, t_h`, class logits). Its rules (targets, loss,
decoding) are in :mod:`course_utils.detection.yolo`; this module wires them to
layers, with torchvision's detection convention so that the course's loop
trains it and its evaluator scores it:

* in train mode ``model(images, targets)`` returns a dict of losses (targets:
  ``boxes`` and ``labels`` 0 .. C - 1 per image);
* in eval mode ``model(images)`` returns one dict of ``boxes``, ``scores``,
  ``labels`` per image.

What it keeps from which YOLO: the grid and responsible cell (v1), anchors from
k-means, sigmoid offsets and batch norm (v2), binary cross-entropy objectness and
centre (v3). What it leaves out: several output scales (v3), and everything
after. Notebook 22.
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_int
from ..detection.yolo import _sizes, yolo_detections, yolo_loss, yolo_targets
from .blocks import conv_bn_layers

__all__ = ["YOLO"]


def _conv(c_in, c_out, stride=1):
    return conv_bn_layers(c_in, c_out, stride, activation=nn.LeakyReLU(0.1))  # YOLOv2's activation


class YOLO(nn.Module):
    """YOLO with anchors on a stride-8 grid: ``image_size / 8`` cells per side, ``len(anchors)`` boxes per cell.

    Parameters
    ----------
    anchors : (A, 2) array or tensor
        Anchor widths and heights in pixels (:func:`course_utils.detection.kmeans_anchors`).
    n_classes : int
    image_size : int
        Side of the square images (a multiple of 8).
    channels : tuple of 4 ints
        Widths of the backbone's stages (strides 2, 4, 8, 8).
    no_object_weight : float
        Weight of background anchors in the objectness loss.
    """

    stride = 8

    def __init__(self, anchors, n_classes=10, image_size=64, channels=(32, 64, 96, 128), no_object_weight=0.5):
        super().__init__()
        self.register_buffer("anchors", _sizes(anchors, "anchors").to(torch.float32).clone(), persistent=False)
        self.n_classes = check_int(n_classes, "n_classes", minimum=1)
        self.image_size = check_int(image_size, "image_size", minimum=8)
        if self.image_size % self.stride:
            raise ValueError(f"image_size must be a multiple of {self.stride}, got {self.image_size}")
        self.grid_size = self.image_size // self.stride
        self.no_object_weight = no_object_weight
        c1, c2, c3, c4 = channels
        self.backbone = nn.Sequential(*_conv(1, c1, 2), *_conv(c1, c2, 2), *_conv(c2, c2), *_conv(c2, c3, 2),
                                      *_conv(c3, c4), *_conv(c4, c4))
        self.head = nn.Conv2d(c4, len(self.anchors) * (5 + self.n_classes), 1)

    def raw(self, images):
        """Head outputs reshaped to (N, S, S, A, 5 + C)."""
        out = self.head(self.backbone(images))
        n, _, s_rows, s_cols = out.shape
        return out.reshape(n, len(self.anchors), 5 + self.n_classes, s_rows, s_cols).permute(0, 3, 4, 1, 2)

    def forward(self, images, targets=None):
        raw = self.raw(images)
        if not self.training:
            return yolo_detections(raw, self.anchors, self.stride, images.shape[-2:])
        if targets is None:
            raise ValueError("targets are needed in train mode: model(images, targets)")
        wanted = [yolo_targets(t["boxes"], t["labels"], self.anchors, self.grid_size, self.stride) for t in targets]
        return yolo_loss(raw, wanted, self.no_object_weight)
