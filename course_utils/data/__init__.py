"""Where the course's data come from: files, samples, splits, generated images and scenes, COCO format.

Nothing here downloads anything.

Modules
-------
files      files in ``data/``, checked by SHA-256 (the MNIST subset, the weights of notebooks 16 and 21,
           notebook 24's measurement of training pictures)
samples    images and small data sets that ship inside scikit-image and scikit-learn
splits     train / test splits with no shared source image; the MNIST tensors of the training notebooks
synthetic  generated images with known answers (shapes and their edges, texture patches)
scenes     multi-digit scenes with boxes, labels and masks: the detection and segmentation data
coco       COCO's JSON format, for pycocotools

Every public name is also importable from ``course_utils.data`` itself.
"""

from __future__ import annotations

from . import files, samples, splits, synthetic, scenes, coco

__all__ = [*files.__all__, *samples.__all__, *splits.__all__, *synthetic.__all__, *scenes.__all__, *coco.__all__]

from .files import *  # noqa: F401,F403  (each module's __all__)
from .samples import *  # noqa: F401,F403  (each module's __all__)
from .splits import *  # noqa: F401,F403  (each module's __all__)
from .synthetic import *  # noqa: F401,F403  (each module's __all__)
from .scenes import *  # noqa: F401,F403  (each module's __all__)
from .coco import *  # noqa: F401,F403  (each module's __all__)
