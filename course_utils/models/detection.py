"""Detection networks: the one-object localizer of notebook 17, and later the detectors of Parts 5b-5c.

Their losses, target builders and decoders live in :mod:`course_utils.detection`;
this module holds only the ``nn.Module`` networks.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = [
    "Localizer",
]


def _down(c_in, c_out):
    """A stride-2 3x3 convolution, batch norm and ReLU: halves the feature map."""
    return [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), nn.BatchNorm2d(c_out), nn.ReLU()]


class Localizer(nn.Module):
    """Classification + localization of one digit in a 48 x 48 image (notebook 17).

    Four stride-2 convolutions (48 -> 3), then two heads on the same features:
    a class head (global average, then 10 scores) and a box head (all 3 x 3
    positions, then ``(cx, cy, w, h)`` divided by the image size, through a
    sigmoid so that they lie in [0, 1]).  The output is one row of 14 numbers
    per image: 10 class scores, then the box.
    """

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(*_down(1, 16), *_down(16, 32), *_down(32, 64), *_down(64, 64))
        self.classify = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))
        self.locate = nn.Sequential(nn.Flatten(), nn.Linear(64 * 3 * 3, 4), nn.Sigmoid())

    def forward(self, x):
        f = self.features(x)
        return torch.cat([self.classify(f), self.locate(f)], dim=1)  # 10 class scores, then the box
