"""The production counterpart of the course's Faster R-CNN: torchvision's, sized for the scenes (notebook 21).

:func:`torchvision_faster_rcnn` builds ``torchvision.models.detection.FasterRCNN``
with no pretrained weights (nothing is downloaded: the backbone is passed in)
and the same sizes as :class:`~course_utils.models.FasterRCNN`;
:func:`load_torchvision_faster_rcnn` loads the weights that
``scripts/train_torchvision_detector.py`` trained, checked by
:func:`course_utils.data.load_torchvision_weights`.

Each torchvision component and the course's code that does the same job:

=============================  ==============================================================
torchvision                    course_utils
=============================  ==============================================================
``AnchorGenerator``            :func:`course_utils.detection.make_anchors`
``RPNHead``                    :class:`course_utils.models.RPNHead`
``RegionProposalNetwork``      :func:`~course_utils.detection.rpn_targets`,
                               :func:`~course_utils.detection.rpn_loss`,
                               :func:`~course_utils.detection.rpn_proposals`
``MultiScaleRoIAlign``         :func:`course_utils.detection.roi_align`
``RoIHeads`` (with             :func:`~course_utils.detection.proposal_targets`,
``TwoMLPHead`` and             :func:`~course_utils.detection.roi_head_loss`,
``FastRCNNPredictor``)         :func:`~course_utils.detection.postprocess_detections`
                               (layers: :class:`course_utils.models.BoxHead`)
``GeneralizedRCNNTransform``   nothing: our images go in as they are
=============================  ==============================================================

The transform is made to change nothing: ``min_size = max_size = 64`` keeps
a 64 x 64 scene at scale 1 (its bilinear "resize" by 1 is the identity), mean 0
and standard deviation 1 leave the pixels as they are, and 64 is already a
multiple of the padding unit (32).

Three differences from the course's model remain, none of them a size:

* anchor centres: torchvision puts them at the **top-left corner** of each
  feature-map cell (0, 4, ..., 60), the course's model at the cell's centre
  (2, 6, ..., 62: ``make_anchors(..., offset=0.5)``);
* RoI Align: ``MultiScaleRoIAlign`` calls ``roi_align`` with
  ``aligned=False`` (no half-pixel shift), the course's model with ``aligned=True``;
* the RPN head's hidden 3x3 convolution is as wide as the backbone (64
  channels) in torchvision's ``RPNHead``, 48 in the course's.

Aspect ratios are **height / width** in both: torchvision's
``AnchorGenerator.generate_anchors`` takes ``h_ratios = sqrt(aspect_ratios)``
and ``w_ratios = 1 / h_ratios``, as :func:`~course_utils.detection.make_anchors`
does, so 1.6 and 2.4 are tall boxes, like digits.
"""

from __future__ import annotations

import torch

from .._checks import check_int
from ..data.files import load_torchvision_weights
from .two_stage import SceneBackbone

__all__ = [
    "torchvision_faster_rcnn",
    "load_torchvision_faster_rcnn",
]

#: The anchors and region settings shared with :class:`~course_utils.models.FasterRCNN`'s defaults.
_ANCHOR_SIZES = (12, 20, 32)
_ASPECT_RATIOS = (1.0, 1.6, 2.4)  # height / width, in torchvision as in the course
_POOL_SIZE, _HEAD_WIDTH = 4, 128
_NUM_CLASSES = 11  # background (0) and the ten digits (labels 1-10)


def torchvision_faster_rcnn(seed=0):
    """``torchvision.models.detection.FasterRCNN`` for the 64 x 64 gray scenes, randomly initialized.

    The equivalent of ``weights=None``: the backbone is given, so nothing is
    downloaded. Settings, the same as the course's
    :class:`~course_utils.models.FasterRCNN` defaults:

    - backbone :class:`~course_utils.models.SceneBackbone` (64 channels, stride 4);
    - 11 classes: background (0) and the digits as labels 1-10
      (:class:`course_utils.data.SceneDataset` with ``label_offset=1``);
    - no resizing or normalization: ``min_size = max_size = 64``,
      ``image_mean=[0.0]``, ``image_std=[1.0]``;
    - 9 anchors per location: sizes (12, 20, 32) x height/width ratios (1.0, 1.6, 2.4);
    - RoI Align to 4 x 4 with 2 samples per bin; box head of two FC layers
      128 wide (``TwoMLPHead(64 * 4 * 4, 128)``) and its predictor
      (``FastRCNNPredictor(128, 11)``), given explicitly because
      ``FasterRCNN``'s own default head is 1024 wide and it has no argument
      to change that (a ``representation_size=`` keyword would be silently
      ignored);
    - 128 anchors sampled per image for the RPN loss, 48 proposals for the head's;
    - proposals kept after NMS: 64 per image in training, 50 at test; before
      NMS twice as many.

    Parameters
    ----------
    seed : int
        Seed of the initial weights. The global torch generator is left as
        it was; in training, torchvision's samplers draw from it, so seed it
        (``setup_notebook``) for reproducible runs.

    Returns
    -------
    torchvision.models.detection.FasterRCNN
        In train mode: ``model(images, targets)`` returns ``loss_classifier``,
        ``loss_box_reg``, ``loss_objectness`` and ``loss_rpn_box_reg``; in
        eval mode ``model(images)`` one dict of ``boxes``, ``scores`` and
        ``labels`` (1-10) per image.
    """
    from torchvision.models.detection import FasterRCNN
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
    from torchvision.ops import MultiScaleRoIAlign

    seed = check_int(seed, "seed", minimum=0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        backbone = SceneBackbone()
        # FasterRCNN has no representation_size argument: its box head is 1024 wide unless given, and an
        # unknown keyword is passed on to GeneralizedRCNNTransform, which ignores it without a word. So the
        # head (two FC layers of 128) and the predictor (11 classes: background + 10 digits) are built here;
        # num_classes must then stay None.
        head = TwoMLPHead(backbone.out_channels * _POOL_SIZE**2, _HEAD_WIDTH)
        return FasterRCNN(
            backbone,
            num_classes=None,
            box_head=head,
            box_predictor=FastRCNNPredictor(_HEAD_WIDTH, _NUM_CLASSES),
            min_size=64,
            max_size=64,
            image_mean=[0.0],
            image_std=[1.0],
            rpn_anchor_generator=AnchorGenerator(sizes=(_ANCHOR_SIZES,), aspect_ratios=(_ASPECT_RATIOS,)),
            rpn_pre_nms_top_n_train=128,
            rpn_pre_nms_top_n_test=300,
            rpn_post_nms_top_n_train=64,
            rpn_post_nms_top_n_test=50,
            rpn_batch_size_per_image=128,
            box_roi_pool=MultiScaleRoIAlign(["0"], output_size=_POOL_SIZE, sampling_ratio=2),
            box_batch_size_per_image=48,
        )


def load_torchvision_faster_rcnn():
    """The torchvision Faster R-CNN of :func:`torchvision_faster_rcnn`, trained, in eval mode.

    Trained on standard training scenes by ``scripts/train_torchvision_detector.py``;
    the weights come from :func:`course_utils.data.load_torchvision_weights`,
    which checks their SHA-256. Feed it 64 x 64 gray scenes as
    :class:`course_utils.data.SceneDataset` (``label_offset=1``) gives them;
    its labels are the digits + 1.
    """
    model = torchvision_faster_rcnn()
    model.load_state_dict({name: torch.from_numpy(array) for name, array in load_torchvision_weights().items()})
    return model.eval()
