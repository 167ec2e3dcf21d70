"""Helper package of the interactive computer-vision course.

Each algorithm taught in the notebooks lives here once, in a module named by
its topic, and is shown in the notebooks with :func:`show_source`.

Where the code lives
--------------------
Algorithms, one topic per module (Parts 1-4)::

    features      gradients, Canny's steps, HoG, LBP
    conv          convolution, pooling, unpooling, upsampling, output sizes, costs
    layers        NumPy layers with forward and backward passes, losses, initialization, gradient checks
    classifiers   logistic regression and an MLP built from those layers
    optim         SGD, momentum, RMSProp, Adam, EWMA, learning-rate schedules
    augment       seeded batch augmentations, mixup, cutmix
    train         the one training loop of the course, evaluation, freezing
    diffusion     noise schedules, the forward process in one jump, DDPM and DDIM steps (Part 7)

Families of later parts, one family per module::

    detection/     boxes, nms, anchors, losses, simulate, baseline, proposals, roi, two_stage (later: targets)
    segmentation/  Part 6's targets, mask operations and losses

Built on the algorithms::

    data/          files, samples, splits, synthetic, scenes, coco
    metrics/       edges, detection (later: segmentation)
    models/        counting, blocks, classic, small, local, transfer, detection, two_stage, ..., segmentation, deeplab, mask_rcnn, transformers
    viz/           images, detections, roi, diagrams, trajectories, history, animation, explorers

Plumbing: ``notebook`` (set-up call, source display), ``exercises`` (student
copies), ``_checks`` (input validation shared by all).

Layering: ``_checks`` <- algorithms <- ``data``, ``metrics``, ``models`` <- ``viz``.
A module imports only from its own layer or below, and nothing imports
``viz`` (``tests/test_layout.py`` checks it).
"""

from .notebook import report_differences, setup_notebook, show_source

__version__ = "0.1.0"
__all__ = ["setup_notebook", "show_source", "report_differences"]
