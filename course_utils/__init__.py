"""Helper package of the interactive computer-vision course.

Each algorithm taught in the notebooks lives here once, in a module named by
its topic, and is shown in the notebooks with :func:`show_source`.

Modules
-------
notebook   set-up call and source display
data       offline data sets with checksums
datasets   generated multi-digit scenes with boxes and masks (detection, segmentation)
plotting   image grids, pairs, histograms, overlays, detections
animation  matplotlib animations as self-contained HTML players
features   gradients, Canny's steps, HoG, LBP
conv       convolution, pooling, unpooling, upsampling, output sizes, costs
nn         NumPy layers with forward and backward passes, gradient checks
optim      SGD, momentum, RMSProp, Adam, EWMA, learning-rate schedules
augment    seeded batch augmentations, mixup, cutmix
train      the one training loop of the course, evaluation, freezing
models     LeNet-5, scaled-down VGG / Inception / ResNet / ResNeXt, counts
boxes      box formats, IoU, NMS, anchors, box encoding, matching
metrics    edge scores, detection matching, AP, COCO's twelve numbers
widgets    interactive explorers that also run headless
exercises  student copies of the notebooks (nbgrader format)
"""

from .notebook import report_differences, setup_notebook, show_source

__version__ = "0.1.0"
__all__ = ["setup_notebook", "show_source", "report_differences"]
