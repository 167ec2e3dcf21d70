"""Every ``torch.nn.Module`` of the course, grouped by family, and how to count them.

Modules
-------
counting   parameters from layer shapes, FLOPs, per-layer summaries
blocks     conv-BN-ReLU, VGG, Inception and residual blocks
classic    AlexNet, VGG-16, ResNet-18/50, ResNeXt-50, laid out like torchvision
small      scaled-down models that train in seconds on the MNIST subset
local      locally connected layers: convolution windows without weight sharing (notebook 04)
transfer   the shipped source network and the transfer-learning regimes (notebook 16)
detection  detection networks: the one-object localizer (notebook 17)
two_stage  the R-CNN family: R-CNN, Fast R-CNN, Faster R-CNN (notebooks 20-21)
production  torchvision's Faster R-CNN sized for the scenes, and its shipped weights (notebook 21)
yolo       a small YOLO on a stride-8 grid (notebook 22)
ssd        a small SSD on three feature maps (notebook 23)
centers    an anchor-free centre-based detector with one-to-many and one-to-one heads (notebook 24)
segmentation  FCN, U-Net and SegNet on one encoder, with plain or where/what heads (notebook 25)
deeplab    ASPP (torchvision's layout), PSP's pyramid pooling, a small DeepLabv3+ (notebook 26)
mask_rcnn  a mask branch beside notebook 21's Faster R-CNN (notebook 27)
transformers  attention, multi-head attention, encoder and decoder blocks, patch embeddings, a small ViT (notebooks 28-29)
detr       a small DETR: CNN, sine positions, transformer decoder, object queries, set loss (notebook 29)
denoiser   a small U-Net that predicts the noise of a diffusion step, with a sinusoidal step embedding (notebook 30)
Every public name is also importable from ``course_utils.models`` itself.
"""

from __future__ import annotations

from . import counting, blocks, classic, small, local, transfer, detection, two_stage, production, yolo, ssd, centers, segmentation, deeplab, mask_rcnn, transformers, detr, denoiser

__all__ = [*counting.__all__, *blocks.__all__, *classic.__all__, *small.__all__, *local.__all__, *transfer.__all__, *detection.__all__,
           *two_stage.__all__, *production.__all__, *yolo.__all__, *ssd.__all__, *centers.__all__,
           *segmentation.__all__, *deeplab.__all__,
           *mask_rcnn.__all__, *transformers.__all__, *detr.__all__, *denoiser.__all__]

from .counting import *  # noqa: F401,F403  (each module's __all__)
from .blocks import *  # noqa: F401,F403  (each module's __all__)
from .classic import *  # noqa: F401,F403  (each module's __all__)
from .small import *  # noqa: F401,F403  (each module's __all__)
from .local import *  # noqa: F401,F403  (each module's __all__)
from .transfer import *  # noqa: F401,F403  (each module's __all__)
from .detection import *  # noqa: F401,F403  (each module's __all__)
from .two_stage import *  # noqa: F401,F403  (each module's __all__)
from .production import *  # noqa: F401,F403  (each module's __all__)
from .yolo import *  # noqa: F401,F403  (each module's __all__)
from .ssd import *  # noqa: F401,F403  (each module's __all__)
from .centers import *  # noqa: F401,F403  (each module's __all__)
from .segmentation import *  # noqa: F401,F403  (each module's __all__)
from .deeplab import *  # noqa: F401,F403  (each module's __all__)
from .mask_rcnn import *  # noqa: F401,F403  (each module's __all__)
from .transformers import *  # noqa: F401,F403  (each module's __all__)
from .detr import *  # noqa: F401,F403  (each module's __all__)
from .denoiser import *  # noqa: F401,F403  (each module's __all__)
