"""Measures of quality of the course's experiments, by task.

Modules
-------
edges      edge maps against true edges, with a spatial tolerance (Part 1)
detection  matching, precision-recall, AP, COCO's twelve numbers (notebook 18)
segmentation  confusion matrix, pixel accuracy, IoU per class, mIoU, Dice (notebook 25)

Every public name is also importable from ``course_utils.metrics`` itself.
"""

from __future__ import annotations

from . import edges, detection, segmentation

__all__ = [*edges.__all__, *detection.__all__, *segmentation.__all__]

from .edges import *  # noqa: F401,F403  (each module's __all__)
from .detection import *  # noqa: F401,F403  (each module's __all__)
from .segmentation import *  # noqa: F401,F403  (each module's __all__)
