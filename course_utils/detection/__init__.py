"""Object detection, one family per module (as ``torchvision.ops`` and ``models/detection``).

Modules
-------
boxes      box formats, areas, IoU, GIoU (notebook 17)
nms        greedy, blocked, per-class and soft non-maximum suppression (notebook 19)
anchors    sliding windows, anchor grids, anchor matching, box coding (notebook 19)
losses     smooth L1, the localization loss (17); focal, GIoU, DIoU and CIoU losses (24)
simulate   a simulated detector for measuring metrics and NMS (notebooks 18-19)
baseline   thresholding and connected components: the detector with no learning (notebook 17)
proposals  selective search: region proposals with no learning (notebook 20)
roi        RoI Pool and RoI Align from scratch, and the geometry of their bins (notebook 20)
two_stage  the R-CNN family's targets, balanced sampling, losses and decoding, RPN proposals (20-21)
yolo       YOLO's grid: k-means anchors, responsible cells, targets, loss, decoding (notebook 22)
ssd        SSD's default boxes, matching, hard negative mining and loss (notebook 23)
centers    anchor-free targets by centres (FCOS-style), distance decoding, one-to-one assignment (24)
matching   set prediction (DETR): matching cost, Hungarian match, set loss, matching instability (29)

The rules of each detector family (targets, matching, losses, decoding) live
here, one family per module; every ``nn.Module`` network is in
:mod:`course_utils.models`.

Every public name is also importable from ``course_utils.detection`` itself.
"""

from __future__ import annotations

from . import boxes, nms, anchors, losses, simulate, baseline, proposals, roi, two_stage, yolo, ssd, centers, matching

__all__ = [*boxes.__all__, *nms.__all__, *anchors.__all__, *losses.__all__, *simulate.__all__, *baseline.__all__,
           *proposals.__all__, *roi.__all__, *two_stage.__all__, *yolo.__all__, *ssd.__all__, *centers.__all__,
           *matching.__all__]

from .boxes import *  # noqa: F401,F403  (each module's __all__)
# the function nms now hides the module nms: detection.nms(...) suppresses boxes
from .nms import *  # noqa: F401,F403  (each module's __all__)
from .anchors import *  # noqa: F401,F403  (each module's __all__)
from .losses import *  # noqa: F401,F403  (each module's __all__)
from .simulate import *  # noqa: F401,F403  (each module's __all__)
from .baseline import *  # noqa: F401,F403  (each module's __all__)
from .proposals import *  # noqa: F401,F403  (each module's __all__)
from .roi import *  # noqa: F401,F403  (each module's __all__)
from .two_stage import *  # noqa: F401,F403  (each module's __all__)
from .yolo import *  # noqa: F401,F403  (each module's __all__)
from .ssd import *  # noqa: F401,F403  (each module's __all__)
from .centers import *  # noqa: F401,F403  (each module's __all__)
from .matching import *  # noqa: F401,F403  (each module's __all__)
