"""A small SSD for the digit scenes: three feature maps (strides 4, 8, 16), a convolutional head on each.

Every cell of every map scores its default boxes (C classes + background) and
regresses their offsets with one 3x3 convolution per map and task. The rules
(default boxes, matching, hard negative mining, loss) are in
:mod:`course_utils.detection.ssd`; decoding and per-class NMS are Faster
R-CNN's second-stage post-processing (:func:`course_utils.detection.postprocess_detections`:
softmax, threshold, NMS per class), since SSD's box coding uses the same
weights (10, 10, 5, 5). torchvision's detection convention: ``model(images,
targets)`` returns the losses in train mode, ``model(images)`` the detections
(labels 1 .. C) in eval mode. Notebook 23.
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_int
from ..detection.ssd import ssd_default_boxes, ssd_loss, ssd_match
from ..detection.two_stage import postprocess_detections
from .blocks import conv_bn_layers

__all__ = ["SSD"]


class SSD(nn.Module):
    """SSD with default boxes on maps of strides 4, 8 and 16 (or only the first ``levels`` of them).

    Parameters
    ----------
    n_classes : int
    image_size : int
        Side of the square images (a multiple of 16).
    aspect_ratios : sequence of sequences of float
        Per level, the ratios besides 1 (each adds two boxes per cell).
    min_ratio, max_ratio : float
        Scales of the first and last level, as fractions of the image.
    channels : tuple of 3 ints
        Widths of the three maps.
    levels : int
        How many of the three maps carry default boxes (1: a single-scale SSD).
    negatives_per_positive : int
        Hard negative mining's ratio.
    """

    strides = (4, 8, 16)

    def __init__(self, n_classes=10, image_size=64, aspect_ratios=((2.0,), (2.0,), (2.0,)), min_ratio=0.15,
                 max_ratio=0.6, channels=(64, 96, 128), levels=3, negatives_per_positive=3):
        super().__init__()
        self.n_classes = check_int(n_classes, "n_classes", minimum=1)
        self.image_size = check_int(image_size, "image_size", minimum=16)
        if self.image_size % 16:
            raise ValueError(f"image_size must be a multiple of 16, got {self.image_size}")
        self.levels = check_int(levels, "levels", minimum=1, maximum=3)
        self.negatives_per_positive = check_int(negatives_per_positive, "negatives_per_positive", minimum=0)
        c1, c2, c3 = channels
        self.stages = nn.ModuleList([
            nn.Sequential(*conv_bn_layers(1, 32, 2), *conv_bn_layers(32, c1, 2), *conv_bn_layers(c1, c1),
                          *conv_bn_layers(c1, c1)),  # stride 4
            nn.Sequential(*conv_bn_layers(c1, c2, 2), *conv_bn_layers(c2, c2)),  # stride 8
            nn.Sequential(*conv_bn_layers(c2, c3, 2), *conv_bn_layers(c3, c3)),  # stride 16
        ])
        ratios = [list(r) for r in aspect_ratios][:self.levels]
        if len(ratios) != self.levels:
            raise ValueError(f"aspect_ratios must give one list per level ({self.levels}), got {len(aspect_ratios)}")
        sizes = [(self.image_size // s,) * 2 for s in self.strides[:self.levels]]
        self.register_buffer("default_boxes", ssd_default_boxes(sizes, (self.image_size,) * 2, ratios,
                                                                min_ratio=min_ratio, max_ratio=max_ratio),
                             persistent=False)
        per_cell = [2 + 2 * len(r) for r in ratios]
        widths = (c1, c2, c3)[:self.levels]
        self.classify = nn.ModuleList(nn.Conv2d(c, a * (self.n_classes + 1), 3, padding=1)
                                      for c, a in zip(widths, per_cell))
        self.regress = nn.ModuleList(nn.Conv2d(c, a * 4, 3, padding=1) for c, a in zip(widths, per_cell))

    def head_outputs(self, images):
        """Class logits (N, D, C + 1) and offsets (N, D, 4) of all D default boxes, in their order."""
        logits, deltas, x = [], [], images
        for level in range(self.levels):
            x = self.stages[level](x)
            n = x.shape[0]
            # (N, A * K, H, W) -> (N, H, W, A * K) -> (N, H * W * A, K): cell by cell, then box: the boxes' order
            logits.append(self.classify[level](x).permute(0, 2, 3, 1).reshape(n, -1, self.n_classes + 1))
            deltas.append(self.regress[level](x).permute(0, 2, 3, 1).reshape(n, -1, 4))
        return torch.cat(logits, dim=1), torch.cat(deltas, dim=1)

    def forward(self, images, targets=None):
        logits, deltas = self.head_outputs(images)
        if not self.training:
            # one box per default box, shared by every class: repeated for the per-class decoding
            return [postprocess_detections(c, d.repeat(1, self.n_classes + 1), self.default_boxes, images.shape[-2:])
                    for c, d in zip(logits, deltas)]
        if targets is None:
            raise ValueError("targets are needed in train mode: model(images, targets)")
        matched = [ssd_match(self.default_boxes, t["boxes"]) for t in targets]
        return ssd_loss(logits, deltas, self.default_boxes, targets, matched, self.negatives_per_positive)
