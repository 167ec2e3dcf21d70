"""YOLO's grid: who is responsible for an object, what it must predict, and how to read predictions back.

YOLO (Redmon et al., 2016) cuts the image into an ``S x S`` grid of cells of
``stride`` pixels. The cell that holds an object's centre is **responsible**
for it and predicts, per box: an objectness score, the centre as an offset
inside the cell, the size, and class scores. YOLOv2 (Redmon and Farhadi,
2017) gives every cell ``A`` **anchor** shapes, chosen by k-means on the
training boxes with ``1 - IoU`` as the distance (:func:`kmeans_anchors`); an
object goes to the anchor of its cell whose shape fits it best
(:func:`shape_iou`), and the size is predicted relative to that anchor:

.. math::
    x = (j + \\sigma(t_x))\\,s,\\quad y = (i + \\sigma(t_y))\\,s,\\quad
    w = p_w e^{t_w},\\quad h = p_h e^{t_h}

for cell ``(i, j)`` (row, column), stride ``s`` and anchor ``(p_w, p_h)``.

:func:`yolo_targets` builds what every cell and anchor should output (its
centre offsets are the *targets of the sigmoid*, in ``[0, 1)``), and
:func:`decode_yolo` turns the network's raw outputs into boxes; decoding the
targets themselves gives the original boxes back (``tests/detection/test_yolo.py``).
:func:`yolo_loss` is the loss, :func:`yolo_detections` the post-processing.
Notebook 22; the network is :class:`course_utils.models.YOLO`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from .._checks import check_int, check_number
from .boxes import _boxes
from .nms import batched_nms

__all__ = [
    "shape_iou",
    "kmeans_anchors",
    "mean_best_iou",
    "yolo_targets",
    "decode_yolo",
    "yolo_loss",
    "yolo_detections",
]


def _sizes(value, name):
    """(N, 2) float tensor of positive widths and heights."""
    t = torch.as_tensor(value, dtype=torch.float64) if not isinstance(value, torch.Tensor) else value
    if t.ndim != 2 or t.shape[1] != 2:
        raise ValueError(f"{name} must have shape (N, 2): widths and heights, got shape {tuple(t.shape)}")
    if t.numel() and not bool((t > 0).all() and torch.isfinite(t).all()):
        raise ValueError(f"{name} must hold positive, finite widths and heights")
    return t


def shape_iou(sizes_a, sizes_b):
    """IoU of box *shapes*: two boxes of sizes ``(w, h)`` put on the same centre.

    .. math:: \\frac{\\min(w_a, w_b)\\min(h_a, h_b)}{w_a h_a + w_b h_b - \\min(w_a, w_b)\\min(h_a, h_b)}

    What YOLOv2 compares to cluster box shapes and to pick an object's anchor:
    position does not matter there, only shape.

    Parameters
    ----------
    sizes_a : (N, 2) array or tensor
    sizes_b : (M, 2) array or tensor

    Returns
    -------
    (N, M) tensor
    """
    a, b = _sizes(sizes_a, "sizes_a"), _sizes(sizes_b, "sizes_b")
    a, b = a.to(torch.promote_types(a.dtype, b.dtype)), b.to(torch.promote_types(a.dtype, b.dtype))
    inter = torch.minimum(a[:, None, 0], b[None, :, 0]) * torch.minimum(a[:, None, 1], b[None, :, 1])
    return inter / (a[:, None, 0] * a[:, None, 1] + b[None, :, 0] * b[None, :, 1] - inter)


def kmeans_anchors(sizes, k, iterations=100, seed=0):
    """YOLOv2's anchors: k-means of box shapes with ``d = 1 - IoU`` as the distance.

    Euclidean k-means on ``(w, h)`` would let big boxes dominate (an error of
    4 pixels is nothing on a 200-pixel box and everything on a 10-pixel one);
    ``1 - IoU`` is scale-free. Lloyd's iterations: assign every box to the
    anchor it overlaps most, move every anchor to the mean shape of its boxes
    (an anchor left without boxes keeps its place), until nothing changes.

    Parameters
    ----------
    sizes : (N, 2) array or tensor
        Widths and heights of the training boxes.
    k : int
        Number of anchors (1 <= k <= N).
    iterations : int
        Upper bound on Lloyd's iterations.
    seed : int
        The first anchors are ``k`` distinct boxes drawn with this seed.

    Returns
    -------
    (k, 2) float64 tensor
        Anchor widths and heights, sorted by area.
    """
    boxes = _sizes(sizes, "sizes").to(torch.float64)
    k = check_int(k, "k", minimum=1)
    if k > len(boxes):
        raise ValueError(f"k must be at most the number of boxes ({len(boxes)}), got {k}")
    iterations = check_int(iterations, "iterations", minimum=1)
    rng = np.random.default_rng(check_int(seed, "seed", minimum=0))
    anchors = boxes[torch.from_numpy(rng.choice(len(boxes), k, replace=False))].clone()
    assignment = None
    for _ in range(iterations):
        new = shape_iou(boxes, anchors).argmax(dim=1)
        if assignment is not None and torch.equal(new, assignment):
            break
        assignment = new
        for c in range(k):
            members = boxes[assignment == c]
            if len(members):
                anchors[c] = members.mean(dim=0)
    return anchors[torch.argsort(anchors[:, 0] * anchors[:, 1], stable=True)]


def mean_best_iou(sizes, anchors):
    """Mean, over boxes, of the shape IoU with the best-fitting anchor: how well ``anchors`` cover ``sizes``."""
    return float(shape_iou(sizes, anchors).max(dim=1).values.mean())


def _stride(stride):
    return check_number(stride, "stride", minimum=0, strict_minimum=True)


def yolo_targets(boxes, labels, anchors, grid_size, stride):
    """What each cell and anchor of one image should predict (YOLOv2's assignment).

    An object goes to the cell that holds its centre and, in that cell, to
    the anchor with the largest :func:`shape_iou`. If two objects claim the
    same cell and anchor, the larger one keeps it (the other one has no
    predictor: YOLO's known weakness with crowded small objects).

    Parameters
    ----------
    boxes : (G, 4) array or tensor
        Corner boxes in pixels, inside the image.
    labels : (G,) integer array or tensor
        Classes 0 .. C - 1.
    anchors : (A, 2) array or tensor
        Anchor widths and heights in pixels (one anchor of any shape gives
        YOLOv1's single box per cell, with sizes relative to it).
    grid_size : int
        Cells per side, ``S``.
    stride : float
        Pixels per cell.

    Returns
    -------
    dict of tensors, each (S, S, A, ...)
        ``objectness`` (S, S, A) float, 1 for a responsible anchor;
        ``offsets`` (S, S, A, 2): the centre inside its cell, ``(x / s - j, y / s - i)`` in
        ``[0, 1)`` (what :math:`\\sigma(t_x), \\sigma(t_y)` must become);
        ``log_sizes`` (S, S, A, 2): ``(log(w / p_w), log(h / p_h))`` (what :math:`t_w, t_h` must become);
        ``labels`` (S, S, A) int64, the class, -1 where no object;
        ``object_index`` (S, S, A) int64, which of the G objects, -1 where none.
    """
    gt, _ = _boxes(boxes, "boxes")
    gt = gt.to(torch.float64)
    classes = torch.as_tensor(labels).to(torch.int64).reshape(-1)
    if len(classes) != len(gt):
        raise ValueError(f"labels must have one entry per box ({len(gt)}), got {len(classes)}")
    shapes = _sizes(anchors, "anchors").to(torch.float64)
    s = check_int(grid_size, "grid_size", minimum=1)
    stride = _stride(stride)
    a = len(shapes)
    out = {"objectness": torch.zeros(s, s, a, dtype=torch.float64),
           "offsets": torch.zeros(s, s, a, 2, dtype=torch.float64),
           "log_sizes": torch.zeros(s, s, a, 2, dtype=torch.float64),
           "labels": torch.full((s, s, a), -1, dtype=torch.int64),
           "object_index": torch.full((s, s, a), -1, dtype=torch.int64)}
    if len(gt) == 0:
        return out
    wh = gt[:, 2:] - gt[:, :2]
    if not bool((wh > 0).all()):
        raise ValueError("boxes must have positive widths and heights")
    centre = (gt[:, :2] + gt[:, 2:]) / 2
    cell = torch.floor(centre / stride).to(torch.int64).clamp(0, s - 1)  # (column j, row i)
    best = shape_iou(wh, shapes).argmax(dim=1)
    # where two objects claim one (cell, anchor), the larger keeps it: sort by slot, then by area,
    # and keep the last object of every slot
    slot = (cell[:, 1] * s + cell[:, 0]) * a + best
    area = wh[:, 0] * wh[:, 1]
    order = torch.from_numpy(np.lexsort((area.numpy(), slot.numpy())))
    last = torch.ones(len(order), dtype=torch.bool)
    last[:-1] = slot[order][1:] != slot[order][:-1]
    kept = order[last]
    i, j, k = cell[kept, 1], cell[kept, 0], best[kept]
    out["objectness"][i, j, k] = 1.0
    out["offsets"][i, j, k] = centre[kept] / stride - cell[kept].to(torch.float64)
    out["log_sizes"][i, j, k] = torch.log(wh[kept] / shapes[k])
    out["labels"][i, j, k] = classes[kept]
    out["object_index"][i, j, k] = kept
    return out


def decode_yolo(offsets, log_sizes, anchors, stride):
    """Boxes from per-cell centre offsets (after the sigmoid) and log sizes: the inverse of :func:`yolo_targets`.

    Parameters
    ----------
    offsets : (..., S, S, A, 2) tensor
        :math:`(\\sigma(t_x), \\sigma(t_y))`, in cells.
    log_sizes : (..., S, S, A, 2) tensor
        :math:`(t_w, t_h)`.
    anchors : (A, 2) tensor
    stride : float

    Returns
    -------
    (..., S, S, A, 4) tensor
        Corner boxes ``(x1, y1, x2, y2)`` in pixels.
    """
    if offsets.shape != log_sizes.shape or offsets.shape[-1] != 2 or offsets.ndim < 4:
        raise ValueError(f"offsets and log_sizes must both have shape (..., S, S, A, 2), got "
                         f"{tuple(offsets.shape)} and {tuple(log_sizes.shape)}")
    s_rows, s_cols = offsets.shape[-4], offsets.shape[-3]
    shapes = _sizes(anchors, "anchors").to(device=offsets.device, dtype=offsets.dtype)
    stride = _stride(stride)
    rows = torch.arange(s_rows, device=offsets.device, dtype=offsets.dtype)
    cols = torch.arange(s_cols, device=offsets.device, dtype=offsets.dtype)
    cx = (cols[None, :, None] + offsets[..., 0]) * stride
    cy = (rows[:, None, None] + offsets[..., 1]) * stride
    w = shapes[:, 0] * torch.exp(log_sizes[..., 0])
    h = shapes[:, 1] * torch.exp(log_sizes[..., 1])
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=-1)


def yolo_loss(raw, targets, no_object_weight=0.5):
    """YOLO's three losses over a batch, from the raw head outputs.

    ``raw`` holds, per cell and anchor, ``5 + C`` numbers: the objectness
    logit, :math:`t_x, t_y, t_w, t_h` and C class logits. For every anchor,
    the objectness is trained towards 1 where it is responsible and 0
    elsewhere (binary cross-entropy; background anchors weighted by
    ``no_object_weight``, as YOLOv1's :math:`\\lambda_{noobj}` keeps
    thousands of empty cells from drowning the few objects); for responsible
    anchors only, the centre offsets (:math:`\\sigma(t_x)` vs the target offset,
    binary cross-entropy as in YOLOv3), the log sizes (squared error) and the
    class (cross-entropy).

    Parameters
    ----------
    raw : (N, S, S, A, 5 + C) tensor
    targets : list of N dicts
        :func:`yolo_targets` of each image.
    no_object_weight : float

    Returns
    -------
    dict
        ``loss_objectness``, ``loss_box`` (centre + size) and ``loss_classifier``,
        each a mean per responsible anchor except the objectness (mean per anchor x number of anchors
        per object, so that the three stay on one scale).
    """
    if raw.ndim != 5 or raw.shape[-1] < 6:
        raise ValueError(f"raw must have shape (N, S, S, A, 5 + C), got {tuple(raw.shape)}")
    if len(targets) != raw.shape[0]:
        raise ValueError(f"targets must have one dict per image ({raw.shape[0]}), got {len(targets)}")
    wanted = {k: torch.stack([t[k] for t in targets]).to(raw.device) for k in ("objectness", "offsets",
                                                                               "log_sizes", "labels")}
    objectness = wanted["objectness"].to(raw.dtype)
    positive = objectness > 0
    n_positive = max(int(positive.sum()), 1)
    weights = torch.where(positive, torch.ones_like(objectness), torch.full_like(objectness, no_object_weight))
    loss_objectness = F.binary_cross_entropy_with_logits(raw[..., 0], objectness, weight=weights,
                                                         reduction="sum") / n_positive
    mine = raw[positive]
    loss_centre = F.binary_cross_entropy_with_logits(mine[:, 1:3], wanted["offsets"][positive].to(raw.dtype),
                                                     reduction="sum") / n_positive
    loss_size = F.mse_loss(mine[:, 3:5], wanted["log_sizes"][positive].to(raw.dtype), reduction="sum") / n_positive
    loss_class = F.cross_entropy(mine[:, 5:], wanted["labels"][positive], reduction="sum") / n_positive
    return {"loss_objectness": loss_objectness, "loss_box": loss_centre + loss_size, "loss_classifier": loss_class}


def yolo_detections(raw, anchors, stride, image_size, score_threshold=0.01, nms_threshold=0.5,
                    detections_per_image=100):
    """Detections of a batch from the raw head outputs: decode, score, threshold, NMS per class.

    A box's score for class c is :math:`\\sigma(\\text{objectness}) \\times p(c)`
    (YOLOv2's), its label the most likely class.

    Parameters
    ----------
    raw : (N, S, S, A, 5 + C) tensor
    anchors : (A, 2) tensor
    stride : float
    image_size : (height, width)
        Boxes are clipped to it.
    score_threshold, nms_threshold : float
    detections_per_image : int

    Returns
    -------
    list of N dicts
        ``boxes`` (K, 4), ``scores`` (K,), ``labels`` (K,) in 0 .. C - 1, best first.
    """
    height, width = (float(v) for v in image_size)
    raw = raw.detach()
    boxes = decode_yolo(torch.sigmoid(raw[..., 1:3]), raw[..., 3:5], anchors, stride)
    boxes = torch.stack([boxes[..., 0].clamp(0, width), boxes[..., 1].clamp(0, height),
                         boxes[..., 2].clamp(0, width), boxes[..., 3].clamp(0, height)], dim=-1)
    probabilities, labels = F.softmax(raw[..., 5:], dim=-1).max(dim=-1)
    scores = torch.sigmoid(raw[..., 0]) * probabilities
    out = []
    for b, s, c in zip(boxes.flatten(1, 3), scores.flatten(1), labels.flatten(1)):
        keep = (s > score_threshold) & (b[:, 2] > b[:, 0]) & (b[:, 3] > b[:, 1])
        b, s, c = b[keep], s[keep], c[keep]
        kept = batched_nms(b, s, c, nms_threshold)[:detections_per_image]
        out.append({"boxes": b[kept], "scores": s[kept], "labels": c[kept]})
    return out
