"""SSD's rules: default boxes on several feature maps, matching, hard negative mining and the loss.

SSD (Liu et al., *SSD: Single Shot MultiBox Detector*, ECCV 2016) is a
single-stage detector like YOLO, with two ideas of its own:

* **default boxes on several feature maps**: early, fine maps (small stride)
  carry small boxes and later, coarse maps large ones; level ``k`` of ``m``
  has scale :math:`s_k = s_{min} + (s_{max} - s_{min}) k / (m - 1)` (a
  fraction of the image), and every cell gets a box of each aspect ratio at
  that scale plus one more square box of scale :math:`\\sqrt{s_k s_{k+1}}`
  (:func:`ssd_default_boxes`);
* every default box is classified into C classes **or background**, and
  background boxes outnumber objects a hundred to one, so only the hardest
  of them, three per object, enter the loss (**hard negative mining**,
  :func:`hard_negative_mining`).

Matching (:func:`ssd_match`) gives each object its best default box, then
every box with IoU above 0.5. The same rules as torchvision's
``DefaultBoxGenerator``, ``SSDMatcher`` and ``SSD.compute_loss``
(``tests/detection/test_ssd.py``). Notebook 23; the network is
:class:`course_utils.models.SSD`.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from .._checks import check_int, check_number
from .anchors import _match, encode_boxes
from .boxes import box_iou

__all__ = ["SSD_WEIGHTS", "ssd_scales", "ssd_default_boxes", "ssd_match", "hard_negative_mining", "ssd_loss"]

#: Box-coding weights of SSD's offsets (its "variances" 0.1 and 0.2), as in torchvision.
SSD_WEIGHTS = (10.0, 10.0, 5.0, 5.0)


def ssd_scales(n_levels, min_ratio=0.15, max_ratio=0.9):
    """The scales :math:`s_1 .. s_m` of SSD's levels, evenly spaced, plus 1.0 (for the last extra box).

    With one level, ``[min_ratio, max_ratio]``, as torchvision does.
    """
    m = check_int(n_levels, "n_levels", minimum=1)
    low = check_number(min_ratio, "min_ratio", minimum=0, strict_minimum=True)
    high = check_number(max_ratio, "max_ratio", minimum=low)
    if m == 1:
        return [low, high]
    return [low + (high - low) * k / (m - 1.0) for k in range(m)] + [1.0]


def ssd_default_boxes(feature_sizes, image_size, aspect_ratios, scales=None, min_ratio=0.15, max_ratio=0.9,
                      steps=None, clip=True):
    """Every default box of SSD, as corner boxes in pixels.

    Level ``k`` (a feature map of ``H_k x W_k`` cells) has, per cell, the
    boxes of sizes (fractions of the image) :math:`(s_k, s_k)`,
    :math:`(s'_k, s'_k)` with :math:`s'_k = \\sqrt{s_k s_{k+1}}`, and
    :math:`(s_k\\sqrt{a}, s_k/\\sqrt{a})` and its transpose for each aspect
    ratio ``a`` of the level, centred on the cell. Order: level by level,
    cell by cell (row by row), then the boxes of a cell: torchvision's.

    Parameters
    ----------
    feature_sizes : sequence of (H_k, W_k)
    image_size : (height, width)
    aspect_ratios : sequence of sequences of float
        Per level, the ratios besides 1 (each adds two boxes per cell).
    scales : sequence of float, optional
        ``m + 1`` scales; default :func:`ssd_scales` of ``min_ratio``, ``max_ratio``.
    steps : sequence of float, optional
        Per level, the pixels between cell centres; default the image size
        divided by the map size.
    clip : bool
        Clip box sizes (not positions) to the image, as torchvision does.

    Returns
    -------
    (sum_k H_k W_k (2 + 2 len(ratios_k)), 4) float32 tensor
    """
    sizes = [tuple(check_int(v, "feature_sizes", minimum=1) for v in size) for size in feature_sizes]
    if not sizes or any(len(s) != 2 for s in sizes):
        raise ValueError(f"feature_sizes must be a non-empty sequence of (height, width), got {feature_sizes!r}")
    if len(aspect_ratios) != len(sizes):
        raise ValueError(f"aspect_ratios must give one list per level ({len(sizes)}), got {len(aspect_ratios)}")
    if steps is not None and len(steps) != len(sizes):
        raise ValueError(f"steps must give one number per level ({len(sizes)}), got {len(steps)}")
    height, width = (float(v) for v in image_size)
    scales = ssd_scales(len(sizes), min_ratio, max_ratio) if scales is None else [float(s) for s in scales]
    if len(scales) < len(sizes) + 1 and len(sizes) > 1:
        raise ValueError(f"scales must have one more entry than there are levels ({len(sizes) + 1})")
    boxes = []
    for k, (rows, cols) in enumerate(sizes):
        s, s_next = scales[k], scales[k + 1]
        shapes = [(s, s), (math.sqrt(s * s_next),) * 2]
        for ratio in aspect_ratios[k]:
            root = math.sqrt(ratio)
            shapes += [(s * root, s / root), (s / root, s * root)]
        shapes = torch.tensor(shapes, dtype=torch.float32)
        if clip:
            shapes = shapes.clamp(0, 1)
        cells_x = width / steps[k] if steps is not None else cols
        cells_y = height / steps[k] if steps is not None else rows
        cx = ((torch.arange(cols) + 0.5) / cells_x).to(torch.float32)
        cy = ((torch.arange(rows) + 0.5) / cells_y).to(torch.float32)
        cy, cx = torch.meshgrid(cy, cx, indexing="ij")
        centres = torch.stack([cx.reshape(-1), cy.reshape(-1)], dim=1)  # (cells, 2), row by row
        centres = centres.repeat_interleave(len(shapes), dim=0)
        wh = shapes.repeat(rows * cols, 1)
        boxes.append(torch.cat([centres, wh], dim=1))
    boxes = torch.cat(boxes)
    scale = torch.tensor([width, height])
    return torch.cat([(boxes[:, :2] - 0.5 * boxes[:, 2:]) * scale, (boxes[:, :2] + 0.5 * boxes[:, 2:]) * scale], dim=1)


def ssd_match(default_boxes, gt_boxes, threshold=0.5):
    """SSD's matching of one image: each object's best default box, then every box with IoU >= ``threshold``.

    Unlike Faster R-CNN's rule (:func:`course_utils.detection.match_anchors`),
    an object's best default box is forced to *that* object even if it
    overlaps another object more: every object gets at least one box.

    Parameters
    ----------
    default_boxes : (A, 4) tensor
    gt_boxes : (G, 4) tensor
    threshold : float

    Returns
    -------
    (A,) int64 tensor
        Index of the matched object, or -1 (background; torchvision also uses
        -1 there, as SSD has no "ignored" boxes).
    """
    threshold = check_number(threshold, "threshold", minimum=0, maximum=1)
    if gt_boxes.numel() == 0:
        return torch.full((default_boxes.shape[0],), -1, dtype=torch.int64, device=default_boxes.device)
    iou = box_iou(gt_boxes, default_boxes)
    matches = _match(iou, threshold, threshold, allow_low_quality=False)
    best = iou.argmax(dim=1)  # each object's best default box
    matches[best] = torch.arange(len(best), device=matches.device)
    return matches


def hard_negative_mining(class_loss, positive, ratio=3):
    """The background boxes that enter SSD's loss: per image, the ``ratio x #objects`` with the largest loss.

    Parameters
    ----------
    class_loss : (N, A) tensor
        Classification loss of every default box (cross-entropy with its target).
    positive : (N, A) bool tensor
        Boxes matched to an object.
    ratio : int
        Negatives per positive (SSD: 3).

    Returns
    -------
    (N, A) bool tensor
        The chosen negatives (never a positive).
    """
    if class_loss.shape != positive.shape or class_loss.ndim != 2:
        raise ValueError(f"class_loss and positive must both be (N, A), got {tuple(class_loss.shape)} and "
                         f"{tuple(positive.shape)}")
    ratio = check_int(ratio, "ratio", minimum=0)
    wanted = ratio * positive.sum(dim=1, keepdim=True)
    loss = class_loss.detach().masked_fill(positive, -math.inf)
    order = loss.argsort(dim=1, descending=True, stable=True)
    rank = order.argsort(dim=1, stable=True)  # 0 = the largest loss
    return (rank < wanted) & ~positive


def ssd_loss(class_logits, box_deltas, default_boxes, targets, matched, ratio=3):
    """SSD's loss over a batch: smooth L1 on matched boxes + cross-entropy on matched and hard negative boxes.

    Parameters
    ----------
    class_logits : (N, A, C + 1) tensor
        Class 0 is the background.
    box_deltas : (N, A, 4) tensor
        Offsets of every default box (weights :data:`SSD_WEIGHTS`).
    default_boxes : (A, 4) tensor
    targets : list of N dicts
        ``boxes`` (G, 4) and ``labels`` (G,) in 1 .. C.
    matched : list of N (A,) tensors
        :func:`ssd_match` of each image.
    ratio : int

    Returns
    -------
    dict
        ``bbox_regression`` and ``classification``, each divided by the number
        of matched boxes in the batch (torchvision's names and normalisation).
    """
    if len(targets) != class_logits.shape[0] or len(matched) != class_logits.shape[0]:
        raise ValueError(f"targets and matched must have one entry per image ({class_logits.shape[0]})")
    positive = torch.stack(list(matched)) >= 0
    wanted = torch.zeros(positive.shape, dtype=torch.int64, device=class_logits.device)
    regressions = []
    for i, (t, m) in enumerate(zip(targets, matched)):
        found = m >= 0
        wanted[i, found] = t["labels"][m[found]].to(wanted.device)
        regressions.append(encode_boxes(t["boxes"][m[found]].to(default_boxes.dtype), default_boxes[found],
                                        SSD_WEIGHTS))
    n_positive = max(1, int(positive.sum()))
    loss_box = F.smooth_l1_loss(box_deltas[positive], torch.cat(regressions).to(box_deltas.dtype), reduction="sum")
    class_loss = F.cross_entropy(class_logits.reshape(-1, class_logits.shape[-1]), wanted.reshape(-1),
                                 reduction="none").reshape(positive.shape)
    negative = hard_negative_mining(class_loss, positive, ratio)
    return {"bbox_regression": loss_box / n_positive,
            "classification": (class_loss[positive].sum() + class_loss[negative].sum()) / n_positive}
