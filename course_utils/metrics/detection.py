"""Detection metrics: matching at IoU thresholds, precision-recall, AP, and COCO's twelve numbers.

:func:`match_detections`, :func:`precision_recall_curve` and
:func:`average_precision` are the pieces to read, one class and one threshold
at a time; :func:`evaluate_detections` computes all of COCO's numbers at once
and equals ``pycocotools.cocoeval.COCOeval`` for boxes
(``tests/metrics/test_detection.py``); :func:`evaluate_detector` runs a model
over a data set and scores it the same way.  Notebook 18.
"""

from __future__ import annotations

import numpy as np

from .._checks import as_numpy, check_array, check_choice, check_image_dicts, check_int, check_module, check_number
from ..detection.boxes import box_iou

__all__ = [
    "COCO_STAT_NAMES",
    "COCO_AREA_RANGES",
    "COCO_IOU_THRESHOLDS",
    "match_detections",
    "precision_recall_curve",
    "average_precision",
    "evaluate_detections",
    "mask_iou",
    "evaluate_detector",
    "detection_counts",
    "proposal_recall",
]


#: Names of the twelve numbers of COCO's summary, in pycocotools' order.
COCO_STAT_NAMES = (
    "AP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large",
    "AR1", "AR10", "AR100", "AR_small", "AR_medium", "AR_large",
)

#: COCO's object-size buckets: area (pixels) from, to (both inclusive).
COCO_AREA_RANGES = {
    "all": (0.0, 1e5**2),
    "small": (0.0, 32.0**2),
    "medium": (32.0**2, 96.0**2),
    "large": (96.0**2, 1e5**2),
}

#: COCO's IoU thresholds 0.50, 0.55, ..., 0.95 (computed as pycocotools does).
COCO_IOU_THRESHOLDS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1)

_RECALL_POINTS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1)


def match_detections(iou, iou_thresholds=0.5, gt_ignore=None):
    """Match detections, best first, to ground-truth objects at IoU thresholds.

    Each detection, in the given order (highest score first), takes the
    still-unmatched object it overlaps most, provided that IoU is at least
    the threshold; when several objects tie, the last one wins (COCO's
    rule). Objects flagged in ``gt_ignore`` (e.g. outside the size range
    being evaluated) are taken only when no ordinary object is available, and
    the detection matched to one is then ignored rather than counted.

    Parameters
    ----------
    iou : (D, G) array_like
        IoU of D detections (sorted by decreasing score) with G objects.
    iou_thresholds : float or array_like
        One threshold or several (shape ``(T,)``): all are matched at once.
    gt_ignore : (G,) or (..., G) array_like of bool, optional
        Ignored objects; a leading axis (e.g. one row per size range) is
        broadcast against the thresholds as ``(..., T, G)``.

    Returns
    -------
    matches : (..., T, D) ndarray of int
        Index of the object each detection matched at each threshold, or -1
        (a false positive, unless ignored). A single float threshold and no
        ``gt_ignore`` give shape ``(D,)``.
    """
    iou = check_array(iou, "iou", ndim=2, allow_empty=True, finite=False).astype(np.float64)
    iou = np.where(np.isnan(iou), -1.0, iou)  # 0/0 of two empty boxes: never a match
    scalar = np.ndim(iou_thresholds) == 0 and gt_ignore is None
    thresholds = check_array(np.atleast_1d(iou_thresholds), "iou_thresholds", ndim=1).astype(np.float64)
    n_det, n_gt = iou.shape
    if gt_ignore is None:
        gt_ignore = np.zeros(n_gt, dtype=bool)
    gt_ignore = np.asarray(gt_ignore, dtype=bool)
    if gt_ignore.shape[-1:] != (n_gt,):
        raise ValueError(f"gt_ignore must have one flag per object ({n_gt}) on its last axis, got {gt_ignore.shape}")
    shape = np.broadcast_shapes(gt_ignore.shape[:-1] + (1,), thresholds.shape)
    # flatten every (size range, threshold) pair into one row: P rows, G columns
    n_rows = int(np.prod(shape))
    ignore = np.broadcast_to(gt_ignore[..., None, :], shape + (n_gt,)).reshape(n_rows, n_gt)
    limit = np.broadcast_to(np.minimum(thresholds, 1 - 1e-10), shape).reshape(-1, 1)  # IoU 1 always matches
    rows = np.arange(ignore.shape[0])
    taken = np.zeros(ignore.shape, dtype=bool)
    matches = np.full((ignore.shape[0], n_det), -1, dtype=np.int64)
    hopeful = np.flatnonzero(iou.max(axis=1, initial=-1.0) >= limit.min()) if n_gt else []
    for d in hopeful:  # detections that overlap nothing enough stay unmatched
        candidate = ~taken & (iou[d] >= limit)  # (P, G)
        ordinary = candidate & ~ignore
        pool = np.where(ordinary.any(axis=1, keepdims=True), ordinary, candidate)
        value = np.where(pool, iou[d], -np.inf)
        best = n_gt - 1 - np.argmax(value[:, ::-1], axis=1)  # the last of equal maxima
        found = pool.any(axis=1)
        matches[found, d] = best[found]
        taken[rows[found], best[found]] = True
    matches = matches.reshape(shape + (n_det,))
    return matches[0] if scalar else matches


def precision_recall_curve(is_tp, scores, n_ground_truth, ignore=None):
    """Precision and recall after each detection, taken by decreasing score.

    Parameters
    ----------
    is_tp : (D,) array_like of bool
        Whether each detection is a true positive.
    scores : (D,) array_like
        Confidence of each detection (sorted here, stable for ties).
    n_ground_truth : int
        Number of objects that could be found (recall's denominator).
    ignore : (D,) array_like of bool, optional
        Detections that count neither as TP nor as FP.

    Returns
    -------
    precision, recall : (D',) ndarray
        ``TP / (TP + FP)`` and ``TP / n_ground_truth`` after each of the D'
        detections not ignored.
    """
    is_tp = check_array(is_tp, "is_tp", ndim=1, allow_empty=True).astype(bool)
    scores = check_array(scores, "scores", ndim=1, allow_empty=True)
    if scores.shape != is_tp.shape:
        raise ValueError(f"scores must have the shape of is_tp {is_tp.shape}, got {scores.shape}")
    n_ground_truth = check_int(n_ground_truth, "n_ground_truth", minimum=1)
    keep = np.ones_like(is_tp) if ignore is None else ~np.asarray(ignore, dtype=bool)
    order = np.argsort(-scores, kind="mergesort")
    tp = np.cumsum(is_tp[order] & keep[order]).astype(float)
    fp = np.cumsum(~is_tp[order] & keep[order]).astype(float)
    tp, fp = tp[keep[order]], fp[keep[order]]
    return tp / (tp + fp + np.spacing(1)), tp / n_ground_truth


def average_precision(recall, precision, method="all-point"):
    """Area under a precision-recall curve, by PASCAL VOC's rules.

    Both rules first replace precision by its *envelope*, the best precision
    at this recall or any higher one (so the curve never goes up again):

    * ``"all-point"`` (VOC 2010 on): the exact area under the envelope, a
      sum of rectangles ``(r_{i+1} - r_i) * p_{i+1}``;
    * ``"11-point"`` (VOC 2007): the mean of the envelope at recall
      0, 0.1, ..., 1 (0 beyond the largest recall reached).

    Parameters
    ----------
    recall, precision : (D,) array_like
        Curve points in order of decreasing score (recall non-decreasing).
    method : {"all-point", "11-point"}

    Returns
    -------
    float
    """
    recall = check_array(recall, "recall", ndim=1, allow_empty=True).astype(float)
    precision = check_array(precision, "precision", ndim=1, allow_empty=True).astype(float)
    if recall.shape != precision.shape:
        raise ValueError(f"precision must have the shape of recall {recall.shape}, got {precision.shape}")
    if np.any(np.diff(recall) < 0):
        raise ValueError("recall must be non-decreasing (points in order of decreasing score)")
    method = check_choice(method, "method", ("all-point", "11-point"))
    if method == "11-point":
        return float(np.mean([precision[recall >= t].max(initial=0.0) for t in np.linspace(0, 1, 11)]))
    r = np.concatenate([[0.0], recall, [1.0]])
    p = np.concatenate([[0.0], precision, [0.0]])
    p = np.maximum.accumulate(p[::-1])[::-1]  # envelope
    step = np.flatnonzero(r[1:] != r[:-1])  # where recall changes
    return float(np.sum((r[step + 1] - r[step]) * p[step + 1]))


def mask_iou(masks, other):
    """IoU of every pair of binary masks: (K, H, W) and (G, H, W) -> (K, G).

    The IoU of pixel sets, |A and B| / |A or B| (0 for two empty masks), as
    pycocotools computes it for ``iouType="segm"``.
    """
    a = check_array(masks, "masks", ndim=3, allow_empty=True).astype(bool)
    b = check_array(other, "other", ndim=3, allow_empty=True).astype(bool)
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(f"masks and other must have the same (H, W), got {a.shape[1:]} and {b.shape[1:]}")
    pixels = int(np.prod(a.shape[1:]))
    a, b = a.reshape(len(a), pixels).astype(np.float64), b.reshape(len(b), pixels).astype(np.float64)
    inter = a @ b.T
    union = a.sum(1)[:, None] + b.sum(1)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def evaluate_detections(predictions, ground_truth, iou_thresholds=None, max_detections=(1, 10, 100),
                        area_ranges=None, return_arrays=False, iou_type="bbox"):
    """COCO's box (or mask) evaluation: AP@[.5:.95], AP50, AP75, AP by size, AR@1/10/100, AR by size.

    For every class, size range and IoU threshold: each image's detections
    of that class, best first and at most ``max(max_detections)`` of them,
    are matched to the
    objects (:func:`match_detections`); detections from all images are then
    sorted by score into one precision-recall curve, whose envelope is read
    at the 101 recall points 0, 0.01, ..., 1 and averaged: that is AP.
    AR is the final recall. Objects outside a size range are ignored in that
    range, and so are unmatched detections outside it. Results are means
    over classes (with at least one object) and IoU thresholds, exactly as
    ``pycocotools.cocoeval.COCOeval(..., "bbox").summarize()`` computes them.

    Parameters
    ----------
    predictions : list of dict
        One dict per image: ``boxes`` (K, 4) corners, ``scores`` (K,),
        ``labels`` (K,) integer classes. NumPy arrays or tensors.
    ground_truth : list of dict
        One dict per image, same order: ``boxes`` (G, 4), ``labels`` (G,),
        optionally ``area`` (G,) used for the size ranges (COCO uses the
        mask area; the box area by default). Crowd regions are not supported.
        The key is COCO's and torchvision's ``area``: the targets of
        :class:`course_utils.data.SceneDataset` and :attr:`Scenes.targets`
        can be passed as they are.
    iou_thresholds : array_like, optional
        Default :data:`COCO_IOU_THRESHOLDS`.
    max_detections : tuple of 3 int
        Detections kept per image **and per class** for AR1, AR10, AR100 (the
        last one also for AP), as in pycocotools: an image with detections of
        three classes keeps up to 3 x 100 of them, not 100.
    area_ranges : dict, optional
        ``{"all": (lo, hi), "small": ..., "medium": ..., "large": ...}``;
        default :data:`COCO_AREA_RANGES`.
    return_arrays : bool
        Also return the arrays behind the numbers.
    iou_type : {"bbox", "segm"}
        "segm" scores instance masks, as ``COCOeval(..., "segm")``: each dict
        then needs ``masks`` (K, H, W) binary instead of ``boxes``, IoU is
        :func:`mask_iou`, and a size is a mask's pixel count (the ground
        truth's ``area`` when given).

    Returns
    -------
    stats : dict
        The twelve numbers, keys :data:`COCO_STAT_NAMES`; -1 where undefined
        (no object of that size), as in pycocotools.
    arrays : dict, only with ``return_arrays``
        ``precision`` (T, 101, K, 4, 3), ``recall`` (T, K, 4, 3) (-1 where
        undefined), ``classes`` (K,), ``iou_thresholds``, ``recall_points``.
    """

    iou_type = check_choice(iou_type, "iou_type", ("bbox", "segm"))
    shape_key = "boxes" if iou_type == "bbox" else "masks"
    preds = check_image_dicts(predictions, "predictions", (shape_key, "scores", "labels"))
    truths = check_image_dicts(ground_truth, "ground_truth", (shape_key, "labels"))
    if len(preds) != len(truths):
        raise ValueError(f"predictions must have one entry per image of ground_truth ({len(truths)}), "
                         f"got {len(preds)}")
    thresholds = COCO_IOU_THRESHOLDS if iou_thresholds is None else check_array(
        iou_thresholds, "iou_thresholds", ndim=1).astype(np.float64)
    if not (isinstance(max_detections, (tuple, list)) and len(max_detections) == 3):
        raise TypeError(f"max_detections must be a tuple of 3 integers, got {max_detections!r}")
    max_dets = [check_int(m, f"max_detections[{i}]", minimum=1) for i, m in enumerate(max_detections)]
    ranges = COCO_AREA_RANGES if area_ranges is None else area_ranges
    if not isinstance(ranges, dict) or list(ranges) != list(COCO_AREA_RANGES):
        raise ValueError(f"area_ranges must be a dict with keys {list(COCO_AREA_RANGES)}, got {ranges!r:.80}")
    lo = np.array([float(r[0]) for r in ranges.values()])[:, None]
    hi = np.array([float(r[1]) for r in ranges.values()])[:, None]

    classes = np.unique(np.concatenate([t["labels"] for t in truths] + [p["labels"] for p in preds]))
    n_t, n_k, n_a = len(thresholds), len(classes), len(ranges)
    # per class: lists over images of (scores, rank in image, matched (A,T,D), ignored (A,T,D)), positives
    per_class = {k: [[], [], [], []] for k in range(n_k)}
    n_positive = np.zeros((n_k, n_a), dtype=np.int64)
    for pred, truth in zip(preds, truths):
        if iou_type == "bbox":
            iou_all = box_iou(pred["boxes"], truth["boxes"])  # (K, G), every class at once
            dt_areas = (pred["boxes"][:, 2] - pred["boxes"][:, 0]) * (pred["boxes"][:, 3] - pred["boxes"][:, 1])
            gt_areas = (truth["boxes"][:, 2] - truth["boxes"][:, 0]) * (truth["boxes"][:, 3] - truth["boxes"][:, 1])
        else:
            iou_all = mask_iou(pred["masks"], truth["masks"])
            dt_areas = pred["masks"].sum(axis=(1, 2)).astype(np.float64)
            gt_areas = truth["masks"].sum(axis=(1, 2)).astype(np.float64)
        if "area" in truth:
            gt_areas = truth["area"]
        present = np.unique(np.concatenate([truth["labels"], pred["labels"]]))
        for k in np.searchsorted(classes, present):
            g = truth["labels"] == classes[k]
            d = np.flatnonzero(pred["labels"] == classes[k])
            d = d[np.argsort(-pred["scores"][d], kind="mergesort")][: max_dets[-1]]
            gt_area = gt_areas[g]
            gt_ignore = (gt_area < lo) | (gt_area > hi)  # (A, G)
            n_positive[k] += (~gt_ignore).sum(axis=1)
            matches = match_detections(iou_all[np.ix_(d, np.flatnonzero(g))], thresholds, gt_ignore)  # (A, T, D)
            matched = matches >= 0
            ignored = np.zeros_like(matched)
            if gt_ignore.shape[1]:  # a detection matched to an ignored object is ignored
                flags = np.broadcast_to(gt_ignore[:, None, :], matches.shape[:-1] + gt_ignore.shape[1:])
                ignored = matched & np.take_along_axis(flags, np.maximum(matches, 0), axis=-1)
            dt_area = dt_areas[d]
            outside = ((dt_area < lo) | (dt_area > hi))[:, None, :]  # (A, 1, D)
            ignored = ignored | (~matched & outside)
            store = per_class[k]
            store[0].append(pred["scores"][d].astype(np.float64))
            store[1].append(np.arange(d.size))
            store[2].append(matched)
            store[3].append(ignored)

    precision = -np.ones((n_t, len(_RECALL_POINTS), n_k, n_a, len(max_dets)))
    recall = -np.ones((n_t, n_k, n_a, len(max_dets)))
    for k in range(n_k):
        store = per_class[k]
        if not store[0]:
            continue
        scores, rank = np.concatenate(store[0]), np.concatenate(store[1])
        matched, ignored = np.concatenate(store[2], axis=-1), np.concatenate(store[3], axis=-1)
        for m, max_det in enumerate(max_dets):
            sel = np.flatnonzero(rank < max_det)
            order = sel[np.argsort(-scores[sel], kind="mergesort")]
            tp = np.cumsum(matched[..., order] & ~ignored[..., order], axis=-1).astype(float)
            fp = np.cumsum(~matched[..., order] & ~ignored[..., order], axis=-1).astype(float)
            for a in range(n_a):
                if n_positive[k, a] == 0:
                    continue
                rc = tp[a] / n_positive[k, a]  # (T, D)
                pr = tp[a] / (fp[a] + tp[a] + np.spacing(1))
                recall[:, k, a, m] = rc[:, -1] if order.size else 0.0
                pr = np.maximum.accumulate(pr[:, ::-1], axis=1)[:, ::-1]  # envelope
                for t in range(n_t):
                    idx = np.searchsorted(rc[t], _RECALL_POINTS, side="left")
                    q = np.zeros(len(_RECALL_POINTS))
                    valid = idx < order.size
                    q[valid] = pr[t, idx[valid]]
                    precision[t, :, k, a, m] = q

    def mean_defined(values):
        values = values[values > -1]
        return float(np.mean(values)) if values.size else -1.0

    def at(threshold):
        hit = np.flatnonzero(np.isclose(thresholds, threshold))
        return hit[:1] if hit.size else None

    def ap(a=0, t=None):
        if t is None:
            return mean_defined(precision[..., a, -1])
        i = at(t)
        return -1.0 if i is None else mean_defined(precision[i, ..., a, -1])

    stats = dict(zip(COCO_STAT_NAMES, [
        ap(), ap(t=0.5), ap(t=0.75), ap(1), ap(2), ap(3),
        mean_defined(recall[:, :, 0, 0]), mean_defined(recall[:, :, 0, 1]), mean_defined(recall[:, :, 0, 2]),
        mean_defined(recall[:, :, 1, 2]), mean_defined(recall[:, :, 2, 2]), mean_defined(recall[:, :, 3, 2]),
    ]))
    if not return_arrays:
        return stats
    return stats, {"precision": precision, "recall": recall, "classes": classes,
                   "iou_thresholds": thresholds, "recall_points": _RECALL_POINTS.copy()}


def detection_counts(predictions, ground_truth, iou_threshold=0.5, min_score=0.0):
    """True positives, false positives and missed objects at one IoU threshold, over a whole data set.

    Detections scoring at least ``min_score`` are matched class by class,
    best score first, as in :func:`match_detections` (and COCO), with no cap
    on their number. Precision and recall are then single numbers: what a
    detector run at that score threshold gets right, unlike AP, which sweeps
    every threshold. Give every box the same label for a class-agnostic count
    (a detector that finds objects without naming them).

    Parameters
    ----------
    predictions : list of dict
        Per image: ``boxes`` (K, 4) corners, ``scores`` (K,), ``labels`` (K,).
    ground_truth : list of dict
        Per image: ``boxes`` (G, 4), ``labels`` (G,).
    iou_threshold : float
        Smallest IoU of a true positive.
    min_score : float
        Detections scoring less are left out.

    Returns
    -------
    dict
        ``tp``, ``fp``, ``fn`` (ints), ``precision`` = tp / (tp + fp) (1 when
        nothing was detected) and ``recall`` = tp / (tp + fn) (1 when there is
        nothing to find).
    """
    preds = check_image_dicts(predictions, "predictions", ("boxes", "scores", "labels"))
    truths = check_image_dicts(ground_truth, "ground_truth", ("boxes", "labels"))
    if len(preds) != len(truths):
        raise ValueError(f"predictions and ground_truth must have one entry per image; got {len(preds)} and "
                         f"{len(truths)}")
    iou_threshold = check_number(iou_threshold, "iou_threshold", minimum=0, maximum=1)
    min_score = check_number(min_score, "min_score")
    tp = fp = n_truth = 0
    for pred, truth in zip(preds, truths):
        keep = pred["scores"] >= min_score
        boxes, scores, labels = pred["boxes"][keep], pred["scores"][keep], pred["labels"][keep]
        n_truth += len(truth["labels"])
        for label in np.unique(labels):
            mine = np.flatnonzero(labels == label)
            mine = mine[np.argsort(-scores[mine], kind="mergesort")]  # best first, ties in input order
            theirs = np.flatnonzero(truth["labels"] == label)
            if theirs.size == 0:
                fp += mine.size
                continue
            matched = match_detections(box_iou(boxes[mine], truth["boxes"][theirs]), iou_threshold)
            tp += int(np.count_nonzero(matched >= 0))
            fp += int(np.count_nonzero(matched < 0))
    fn = n_truth - tp
    return {"tp": tp, "fp": fp, "fn": fn, "precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / n_truth if n_truth else 1.0}


def proposal_recall(proposals, ground_truth, counts, iou_threshold=0.5):
    """Fraction of the objects that the first n proposals of their image cover, for several n.

    An object is covered by ``n`` proposals when at least one of the first
    ``n`` proposals of its image overlaps it with IoU at least
    ``iou_threshold``, whatever its class. Unlike a detector's recall, a
    proposal may cover several objects: proposals are only candidates for a
    second stage to classify (R-CNN), so what matters is that each object has
    one, and how few proposals it takes (Hosang et al., *What makes for
    effective detection proposals?*, 2016).

    Parameters
    ----------
    proposals : list of (K_i, 4) array_like
        Per image, corner boxes ranked best first.
    ground_truth : list of dict or of (G_i, 4) array_like
        Per image, the objects: dicts with ``boxes`` (such as the targets of
        :func:`course_utils.data.make_scenes`) or the boxes themselves.
    counts : int or sequence of int
        Numbers of proposals per image to evaluate (>= 0); an image with
        fewer proposals uses all it has.
    iou_threshold : float
        Smallest IoU of a covering proposal, in [0, 1].

    Returns
    -------
    float or (len(counts),) float64 ndarray
        Recall for each count (a float for a single int), covered objects
        over all objects of all images; 1 when there is no object at all.
    """
    if not isinstance(proposals, (list, tuple)):
        raise TypeError(f"proposals must be a list with one (K, 4) array per image, got {type(proposals).__name__}")
    if not isinstance(ground_truth, (list, tuple)):
        raise TypeError(f"ground_truth must be a list with one entry per image, got {type(ground_truth).__name__}")
    if len(proposals) != len(ground_truth):
        raise ValueError(f"proposals and ground_truth must have one entry per image; got {len(proposals)} and "
                         f"{len(ground_truth)}")
    scalar = isinstance(counts, (int, np.integer)) and not isinstance(counts, bool)
    if not scalar and not isinstance(counts, (list, tuple, np.ndarray)):
        raise TypeError(f"counts must be an integer or a sequence of integers, got {type(counts).__name__}")
    counts = np.array([check_int(c, f"counts[{i}]", minimum=0) for i, c in enumerate([counts] if scalar else counts)],
                      dtype=np.int64)
    iou_threshold = check_number(iou_threshold, "iou_threshold", minimum=0, maximum=1)
    # for each object, the rank of the first proposal that covers it (inf if none does): it is
    # covered by n proposals exactly when that rank is below n
    first = []
    for i, (prop, truth) in enumerate(zip(proposals, ground_truth)):
        prop = _corner_boxes(prop, f"proposals[{i}]")
        if isinstance(truth, dict):
            if "boxes" not in truth:
                raise TypeError(f"ground_truth[{i}] must be a dict with key 'boxes' or a (G, 4) array, "
                                f"got a dict with keys {sorted(truth)}")
            truth = _corner_boxes(truth["boxes"], f"ground_truth[{i}]['boxes']")
        else:
            truth = _corner_boxes(truth, f"ground_truth[{i}]")
        if truth.shape[0] == 0:
            continue
        covers = box_iou(prop, truth) >= iou_threshold  # (K, G); the NaN of two empty boxes is False
        hit = covers.any(axis=0)
        first.append(np.where(hit, np.argmax(covers, axis=0) if hit.any() else 0, np.inf))
    first = np.concatenate(first) if first else np.zeros(0)
    recall = (first[None, :] < counts[:, None]).mean(axis=1) if first.size else np.ones(len(counts))
    return float(recall[0]) if scalar else recall


def _corner_boxes(value, name):
    """(N, 4) float64 corner boxes from an array or tensor, after checking them (N may be 0)."""
    boxes = check_array(as_numpy(value), name, allow_empty=True).astype(np.float64)
    boxes = boxes.reshape(0, 4) if boxes.size == 0 else boxes  # [] is an image with no box
    if boxes.ndim != 2 or boxes.shape[1] != 4 or np.any(boxes[:, 2:] < boxes[:, :2]):
        raise ValueError(f"{name} must be (N, 4) corners (x1, y1, x2, y2) with x2 >= x1 and y2 >= y1, "
                         f"got shape {boxes.shape}")
    return boxes


def evaluate_detector(model, dataset, batch_size=16, iou_thresholds=None, max_detections=(1, 10, 100),
                      area_ranges=None, device=None, collate_fn=None):
    """COCO's twelve numbers for ``model`` on a data set of ``(image, target)`` pairs.

    The model runs in eval mode, without gradients, over the data in order
    (:func:`course_utils.train.predict`); its outputs and the targets become
    NumPy dicts, and :func:`evaluate_detections` scores them.

    Parameters
    ----------
    model : torch.nn.Module
        A detector with torchvision's eval-mode convention: ``model(images)``
        returns a list with one dict per image, ``boxes`` (K, 4) corners,
        ``scores`` (K,), ``labels`` (K,).
    dataset : Dataset or DataLoader
        Items ``(image, target)`` with torchvision's targets: ``boxes``
        (G, 4) corners, ``labels`` (G,), optionally ``area`` (G,) (then used
        for the size ranges, e.g. the mask areas of
        :class:`course_utils.data.SceneDataset`) and ``iscrowd`` (must be all
        zeros: crowd regions are not supported). Labels of predictions and
        targets must follow the same numbering (e.g. both shifted by 1 for
        torchvision's background class).
    batch_size : int, default 16
        Used when ``dataset`` is a Dataset.
    iou_thresholds, max_detections, area_ranges
        As for :func:`evaluate_detections`.
    device : str or torch.device, optional
        Where the model runs (it is moved there); default where it is.
    collate_fn : callable, optional
        Batches a Dataset's items; default
        :func:`course_utils.data.detection_collate` (images stacked, targets
        a list). A DataLoader brings its own.

    Returns
    -------
    dict
        The twelve numbers, keys :data:`COCO_STAT_NAMES`.
    """
    from ..train import predict  # torch only when a model is evaluated: the metrics themselves are NumPy

    check_module(model)
    if collate_fn is None and not _is_loader(dataset):
        from ..data import detection_collate

        collate_fn = detection_collate
    outputs, targets = predict(model, dataset, batch_size=batch_size, device=device, collate_fn=collate_fn,
                               return_targets=True)
    if not isinstance(outputs, list) or not all(isinstance(o, dict) and {"boxes", "scores", "labels"} <= set(o)
                                                for o in outputs):
        raise TypeError("model must return, in eval mode, a list with one dict (boxes, scores, labels) per "
                        f"image, as torchvision's detectors do; got {type(outputs).__name__}")
    if not isinstance(targets, list) or not all(isinstance(t, dict) for t in targets):
        raise TypeError("dataset must yield (image, target) pairs whose targets are dicts (boxes, labels); "
                        f"got targets of type {type(targets).__name__}")
    if len(outputs) != len(targets):
        raise ValueError(f"model must return one dict per image: {len(outputs)} for {len(targets)} images")
    truth = []
    for i, target in enumerate(targets):
        if "iscrowd" in target and np.any(as_numpy(target["iscrowd"])):
            raise ValueError(f"target {i} of dataset has crowd regions (iscrowd), which are not supported")
        truth.append({k: as_numpy(target[k]) for k in ("boxes", "labels", "area") if k in target})
    predictions = [{k: as_numpy(o[k]) for k in ("boxes", "scores", "labels")} for o in outputs]
    return evaluate_detections(predictions, truth, iou_thresholds=iou_thresholds, max_detections=max_detections,
                               area_ranges=area_ranges)


def _is_loader(data):
    from torch.utils.data import DataLoader

    return isinstance(data, DataLoader)
