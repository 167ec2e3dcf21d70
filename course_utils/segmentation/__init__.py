"""Segmentation (Part 6, notebooks 25-27): the operations that are not networks or metrics.

Planned modules, each landing with its notebook: ``targets`` (class maps with
0 = background and an ignore band, per-instance masks from the scenes),
``masks`` (mask cropping and resizing for Mask R-CNN's targets, pasting masks
back into the image), ``losses`` (per-pixel cross-entropy with class weights,
Dice).  The networks (FCN, U-Net, SegNet, DeepLab's ASPP, the mask head) go to
:mod:`course_utils.models`, the metrics (mIoU, Dice, mask AP) to
:mod:`course_utils.metrics`, the drawings to :mod:`course_utils.viz`, and the
semantic and instance views of the scenes to :mod:`course_utils.data`.
"""

__all__: list = []
