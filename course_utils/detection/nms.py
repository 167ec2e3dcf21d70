"""Non-maximum suppression: the greedy loop, its blocked form, per class, and soft-NMS.

:func:`greedy_nms` is the loop to read; :func:`nms` gives the same indices
in the same order as ``torchvision.ops.nms`` much faster; :func:`batched_nms`
suppresses within each class; :func:`soft_nms` decays scores instead of
dropping boxes.  Notebook 19.
"""

from __future__ import annotations

import numpy as np
import torch

from .._checks import check_choice, check_int, check_number
from .boxes import _boxes, _out, _scores

__all__ = [
    "greedy_nms",
    "nms",
    "batched_nms",
    "soft_nms",
]


def _check_threshold(value, name):
    return check_number(value, name, minimum=0.0, maximum=1.0)


def greedy_nms(boxes, scores, iou_threshold=0.5, score_threshold=None):
    """Greedy non-maximum suppression, written as it is taught.

    Drop boxes scoring under ``score_threshold`` (when given); then repeat:
    keep the best remaining box, discard every remaining box whose IoU with
    it is above ``iou_threshold``, until no box remains. Ties in score go
    to the lower index, as in ``torchvision.ops.nms``.

    The loop runs once per *kept* box, so it is slow when thousands of boxes
    survive; :func:`nms` gives the same answer faster.

    Parameters
    ----------
    boxes : (N, 4) array or tensor
        Corner boxes ``(x1, y1, x2, y2)``.
    scores : (N,) array or tensor
        Confidence of each box.
    iou_threshold : float
        Boxes overlapping a kept box by IoU > this are discarded.
    score_threshold : float, optional
        Boxes with a score below this are dropped first.

    Returns
    -------
    (K,) int64 array or tensor
        Indices of the kept boxes, best score first.
    """
    b, order, device, iou_threshold = _nms_inputs(boxes, scores, iou_threshold, score_threshold)
    x1, y1, x2, y2 = b[order].T
    area = (x2 - x1) * (y2 - y1)
    alive = np.arange(order.size)  # positions in `order` still in the race
    keep = []
    while alive.size > 0:
        i, rest = alive[0], alive[1:]  # the best remaining box, and the others
        keep.append(i)
        w = np.maximum(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), 0)
        h = np.maximum(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), 0)
        inter = w * h
        with np.errstate(invalid="ignore"):
            iou = inter / (area[i] + area[rest] - inter)
        alive = rest[~(iou > iou_threshold)]  # a NaN IoU (two empty boxes) suppresses nothing
    return _index_out(order[np.array(keep, dtype=np.int64)], device)


def _nms_inputs(boxes, scores, iou_threshold, score_threshold):
    """Checked inputs of the NMS functions: NumPy boxes, score order, the input's device, threshold.

    The device is None for NumPy input; for a tensor it is where the kept
    indices go back to (the work itself is done in NumPy on the CPU).
    """
    b, was_numpy = _boxes(boxes, "boxes")
    device = None if was_numpy else b.device
    s, _ = _scores(scores, "scores", b.shape[0])
    # float64 threshold: a float32 IoU is compared in double, as in torchvision's C++ kernel
    iou_threshold = np.float64(_check_threshold(iou_threshold, "iou_threshold"))
    b, s = b.detach().cpu().numpy(), s.detach().cpu().numpy()
    order = np.argsort(-s, kind="stable")  # best first, ties by index
    if score_threshold is not None:
        score_threshold = check_number(score_threshold, "score_threshold")
        order = order[s[order] >= score_threshold]
    return b, order.astype(np.int64), device, iou_threshold


def _index_out(indices, device):
    """Indices as NumPy (``device`` None) or as a tensor on the input's device."""
    return indices if device is None else torch.from_numpy(indices).to(device)


def _overlaps(a, area_a, b, area_b, iou_threshold):
    """Boolean (len(a), len(b)) matrix: IoU > threshold, computed as torchvision's kernel does."""
    w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.maximum(w, 0) * np.maximum(h, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return inter / (area_a[:, None] + area_b[None, :] - inter) > iou_threshold


def nms(boxes, scores, iou_threshold=0.5, score_threshold=None, block=256):
    """Greedy non-maximum suppression, vectorized by blocks of boxes.

    Same result as :func:`greedy_nms` (and ``torchvision.ops.nms``), with
    far fewer Python steps. Boxes are taken in score order, ``block`` at a
    time:

    1. drop the block's boxes that overlap (IoU > threshold) a box already
       kept from earlier blocks: one (kept x block) IoU matrix;
    2. within the block, box j survives if no *surviving* earlier box of the
       block overlaps it. Starting from "all survive", re-evaluate that rule
       for every box at once until nothing changes; after t rounds the first
       t boxes are certainly right, and the rule has a single solution, so
       the fixed point is exactly the greedy answer (usually after a few
       rounds).

    Parameters
    ----------
    boxes : (N, 4) array or tensor
        Corner boxes ``(x1, y1, x2, y2)``.
    scores : (N,) array or tensor
    iou_threshold : float
    score_threshold : float, optional
    block : int
        Boxes handled together (memory grows as block x kept).

    Returns
    -------
    (K,) int64 array or tensor
        Indices of the kept boxes, best score first.
    """

    block = check_int(block, "block", minimum=1)
    b, order, device, iou_threshold = _nms_inputs(boxes, scores, iou_threshold, score_threshold)
    b = b[order]
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    kept = [np.zeros(0, dtype=np.int64)]  # positions in `order`, block by block
    kept_boxes, kept_area = b[:0], area[:0]
    for start in range(0, b.shape[0], block):
        cand = np.arange(start, min(start + block, b.shape[0]))
        if kept_boxes.shape[0]:  # 1. suppressed by a box kept earlier?
            cand = cand[~_overlaps(kept_boxes, kept_area, b[cand], area[cand], iou_threshold).any(axis=0)]
        # 2. within the block: overlap[i, j] for earlier i only
        overlap = np.triu(_overlaps(b[cand], area[cand], b[cand], area[cand], iou_threshold), k=1)
        overlap = overlap.astype(np.float32)
        survive = np.ones(cand.size, dtype=bool)
        while True:
            new = (survive.astype(np.float32) @ overlap) == 0  # no surviving earlier box overlaps
            if np.array_equal(new, survive):
                break
            survive = new
        kept.append(cand[survive])
        kept_boxes = np.concatenate([kept_boxes, b[cand[survive]]])
        kept_area = np.concatenate([kept_area, area[cand[survive]]])
    return _index_out(order[np.concatenate(kept)], device)


def batched_nms(boxes, scores, classes, iou_threshold=0.5):
    """Class-aware NMS: boxes of different classes never suppress each other.

    Runs :func:`nms` class by class and merges the kept boxes by score
    (ties: lower index first), which is what ``torchvision.ops.batched_nms``
    returns. (Above 1,000 boxes torchvision takes another path on CPU, whose
    order among boxes of *equal* score is unspecified; the kept boxes and
    their scores in order are still the same.)

    Parameters
    ----------
    boxes : (N, 4) array or tensor
        Corner boxes.
    scores : (N,) array or tensor
    classes : (N,) integer array or tensor
        Class (or image) index of each box.
    iou_threshold : float

    Returns
    -------
    (K,) int64 array or tensor
        Indices of the kept boxes, best score first.
    """
    b, was_numpy = _boxes(boxes, "boxes")
    s, _ = _scores(scores, "scores", b.shape[0])
    c, _ = _scores(classes, "classes", b.shape[0])
    if c.is_floating_point() and bool((c != c.round()).any()):
        raise TypeError("classes must hold integers (one class index per box)")
    iou_threshold = _check_threshold(iou_threshold, "iou_threshold")
    device = None if was_numpy else b.device
    b, s, c = b.detach().cpu().numpy(), s.detach().cpu().numpy(), c.detach().cpu().numpy()
    keep = [np.zeros(0, dtype=np.int64)]
    for k in np.unique(c):
        members = np.flatnonzero(c == k)
        keep.append(members[nms(b[members], s[members], iou_threshold)])
    keep = np.sort(np.concatenate(keep))  # index order, so that a stable sort breaks score ties by index
    keep = keep[np.argsort(-s[keep], kind="stable")]
    return _index_out(keep.astype(np.int64), device)


def soft_nms(boxes, scores, sigma=0.5, iou_threshold=0.3, score_threshold=0.001, method="gaussian"):
    """Soft-NMS (Bodla et al., 2017): lower the scores of overlapping boxes instead of deleting them.

    Repeat: pick the box with the highest current score, keep it, and
    multiply the score of every remaining box by a weight that shrinks with
    its IoU to the picked box:

    * ``"linear"``: ``1 - IoU`` when IoU > ``iou_threshold``, else 1;
    * ``"gaussian"``: ``exp(-IoU**2 / sigma)`` (``iou_threshold`` unused);
    * ``"hard"``: 0 when IoU > ``iou_threshold``, else 1 (plain greedy NMS).

    Boxes whose score falls below ``score_threshold`` are dropped.

    Parameters
    ----------
    boxes : (N, 4) array or tensor
    scores : (N,) array or tensor
    sigma : float
        Width of the Gaussian penalty (> 0).
    iou_threshold : float
        Overlap above which the linear and hard rules act.
    score_threshold : float
        Final scores below this are discarded.
    method : {"gaussian", "linear", "hard"}

    Returns
    -------
    keep : (K,) int64 array or tensor
        Indices of the surviving boxes, in the order they were picked.
    new_scores : (K,) array or tensor
        Their decayed scores (non-increasing).
    """
    b, was_numpy = _boxes(boxes, "boxes")
    s, _ = _scores(scores, "scores", b.shape[0])
    sigma = check_number(sigma, "sigma", minimum=0, strict_minimum=True)
    iou_threshold = _check_threshold(iou_threshold, "iou_threshold")
    score_threshold = check_number(score_threshold, "score_threshold")
    method = check_choice(method, "method", ("gaussian", "linear", "hard"))
    b, current = b.detach(), s.detach().clone().to(b.dtype)
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    alive = torch.nonzero(current >= score_threshold).flatten()
    keep, kept_scores = [], []
    while alive.numel() > 0:
        best = alive[torch.argmax(current[alive])]  # first of equal maxima: lower index
        keep.append(best)
        kept_scores.append(current[best])
        alive = alive[alive != best]
        x1 = torch.maximum(b[best, 0], b[alive, 0])
        y1 = torch.maximum(b[best, 1], b[alive, 1])
        x2 = torch.minimum(b[best, 2], b[alive, 2])
        y2 = torch.minimum(b[best, 3], b[alive, 3])
        inter = (x2 - x1).clamp(min=0) * (y2 - y1).clamp(min=0)
        iou = torch.nan_to_num(inter / (area[best] + area[alive] - inter), nan=0.0)
        if method == "gaussian":
            weight = torch.exp(-iou**2 / sigma)
        elif method == "linear":
            weight = torch.where(iou > iou_threshold, 1 - iou, torch.ones_like(iou))
        else:
            weight = (iou <= iou_threshold).to(iou.dtype)
        current[alive] = current[alive] * weight
        alive = alive[current[alive] >= score_threshold]
    if keep:
        keep, kept_scores = torch.stack(keep), torch.stack(kept_scores)
    else:
        keep, kept_scores = torch.zeros(0, dtype=torch.int64), current[:0]
    return _out(keep, was_numpy), _out(kept_scores, was_numpy)
