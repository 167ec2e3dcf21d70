"""Object detection, one family per module (as ``torchvision.ops`` and ``models/detection``).

Modules
-------
boxes      box formats, areas, IoU, GIoU (notebook 17)
nms        greedy, blocked, per-class and soft non-maximum suppression (notebook 19)
anchors    sliding windows, anchor grids, anchor matching, box coding (notebook 19)
losses     smooth L1 and the localization loss (notebook 17)
simulate   a simulated detector for measuring metrics and NMS (notebooks 18-19)
baseline   thresholding and connected components: the detector with no learning (notebook 17)

Parts 5b and 5c add ``roi`` (RoI Pool / RoI Align), ``proposals`` (selective
search, the RPN's proposal step), ``targets`` (grid, anchor and centre target
builders) and ``heads``/``decoders`` of YOLO, SSD and anchor-free detectors here;
their ``nn.Module`` networks go to :mod:`course_utils.models`.

Every public name is also importable from ``course_utils.detection`` itself.
"""

from __future__ import annotations

from . import boxes, nms, anchors, losses, simulate, baseline

__all__ = [*boxes.__all__, *nms.__all__, *anchors.__all__, *losses.__all__, *simulate.__all__, *baseline.__all__]

from .boxes import *  # noqa: F401,F403  (each module's __all__)
# the function nms now hides the module nms: detection.nms(...) suppresses boxes
from .nms import *  # noqa: F401,F403  (each module's __all__)
from .anchors import *  # noqa: F401,F403  (each module's __all__)
from .losses import *  # noqa: F401,F403  (each module's __all__)
from .simulate import *  # noqa: F401,F403  (each module's __all__)
from .baseline import *  # noqa: F401,F403  (each module's __all__)
