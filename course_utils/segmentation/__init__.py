"""Segmentation (Part 6, notebooks 25-27): the operations that are not networks or metrics.

Modules
-------
losses  per-pixel cross-entropy with class weights, Dice, the where/what loss,
        and the class map a segmenter's outputs stand for (notebook 25)
masks   Mask R-CNN's mask targets (RoI Align of the instance masks), its
        per-class mask loss, and pasting box-relative masks into the image
        (notebook 27)

The networks go to :mod:`course_utils.models`, the metrics to
:mod:`course_utils.metrics`, the semantic and instance views of the scenes to
:mod:`course_utils.data`. Every public name is also importable from
``course_utils.segmentation`` itself.
"""

from __future__ import annotations

from . import losses, masks

__all__ = [*losses.__all__, *masks.__all__]

from .losses import *  # noqa: F401,F403  (each module's __all__)
from .masks import *  # noqa: F401,F403  (each module's __all__)
