"""Set prediction (DETR, Carion et al. 2020): the matching cost, the Hungarian match, the set loss.

A set-prediction detector answers with a fixed number ``Q`` of **queries**,
each a class (or "no object") and a box. Training first **matches** the
queries to the ``G <= Q`` objects of the image one to one, by the Hungarian
algorithm on a cost that says how well query ``q`` would answer object ``g``:

.. math:: C_{qg} = -\\lambda_{cls}\\, p_q(c_g) + \\lambda_{L1}\\, \\lVert b_q - b_g \\rVert_1
          - \\lambda_{giou}\\, \\mathrm{GIoU}(b_q, b_g)

(:func:`match_cost`; ``p_q(c_g)`` is the probability query ``q`` gives the
object's class, boxes are normalized ``(cx, cy, w, h)``; DETR's weights are
1, 5 and 2). Then the **set loss** (:func:`set_prediction_loss`) asks every
matched query for its object's class and box, and every other query for
"no object". The loss does not depend on the order of the queries, and a
trained model answers each object once: no anchors, no NMS.

* :func:`match_cost`: the (Q, G) cost matrix above.
* :func:`hungarian_match`: the cheapest one-to-one match, through
  :func:`course_utils.detection.one_to_one_assignment`
  (``scipy.optimize.linear_sum_assignment``).
* :func:`brute_force_match`: the same by trying every assignment (small
  cases only: it checks the Hungarian algorithm).
* :func:`match_queries`: the match of every image of a batch.
* :func:`set_prediction_loss`: cross-entropy over the classes and "no
  object" (down-weighted) for all queries, L1 and GIoU losses on matched
  pairs, summed over decoder layers (auxiliary losses).
* :func:`matching_instability`: the fraction of objects whose matched query
  changed between two matches of the same images (Li et al. 2022, DN-DETR).

Notebook 29; the network is :class:`course_utils.models.DETR`.
"""

from __future__ import annotations

import itertools

import torch
from torch.nn import functional as F

from .._checks import check_number
from .boxes import box_convert, generalized_box_iou
from .centers import one_to_one_assignment
from .losses import giou_loss

__all__ = ["match_cost", "hungarian_match", "brute_force_match", "match_queries", "set_prediction_loss",
           "matching_instability"]


def _tensor(value, name, ndim, last=None):
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if value.ndim != ndim or (last is not None and value.shape[-1] != last):
        shape = "(N, 4)" if last == 4 else f"a {ndim}-D tensor"
        raise ValueError(f"{name} must be {shape}, got shape {tuple(value.shape)}")
    return value


def match_cost(probabilities, boxes, labels, true_boxes, class_weight=1.0, l1_weight=5.0, giou_weight=2.0):
    """DETR's matching cost between every query and every object of one image.

    Parameters
    ----------
    probabilities : (Q, K) tensor
        Each query's class probabilities (softmax over the K classes, "no
        object" included as one of them or not: only the objects' classes
        are read).
    boxes : (Q, 4) tensor
        Each query's box, normalized ``(cx, cy, w, h)``.
    labels : (G,) int tensor
        The objects' classes, 0 .. K - 1.
    true_boxes : (G, 4) tensor
        The objects' boxes, normalized ``(cx, cy, w, h)``.
    class_weight, l1_weight, giou_weight : float
        DETR's weights are 1, 5 and 2 (Carion et al. 2020).

    Returns
    -------
    (Q, G) tensor
        ``-class_weight * p_q(label_g) + l1_weight * |b_q - b_g|_1 -
        giou_weight * GIoU(b_q, b_g)``: lower is a better answer.
    """
    _tensor(probabilities, "probabilities", 2)
    _tensor(boxes, "boxes", 2, last=4)
    _tensor(labels, "labels", 1)
    _tensor(true_boxes, "true_boxes", 2, last=4)
    if len(boxes) != len(probabilities):
        raise ValueError(f"boxes must have one row per query ({len(probabilities)}), got {len(boxes)}")
    if len(labels) != len(true_boxes):
        raise ValueError(f"labels must have one entry per true box ({len(true_boxes)}), got {len(labels)}")
    if len(labels) and (labels.min() < 0 or labels.max() >= probabilities.shape[1]):
        raise ValueError(f"labels must lie in 0 .. {probabilities.shape[1] - 1}, got {labels.tolist()}")
    for name, w in (("class_weight", class_weight), ("l1_weight", l1_weight), ("giou_weight", giou_weight)):
        check_number(w, name, minimum=0)
    class_cost = -probabilities[:, labels.long()]  # (Q, G)
    l1_cost = torch.cdist(boxes, true_boxes.to(boxes.dtype), p=1)
    giou = generalized_box_iou(box_convert(boxes, "cxcywh", "xyxy"), box_convert(true_boxes.to(boxes.dtype),
                                                                                 "cxcywh", "xyxy"))
    return class_weight * class_cost + l1_weight * l1_cost - giou_weight * giou


def hungarian_match(cost):
    """The one-to-one match of queries to objects with the smallest total cost.

    Parameters
    ----------
    cost : (Q, G) tensor or array
        Cost of query q answering object g, Q >= G (:func:`match_cost`).

    Returns
    -------
    (G,) int64 tensor
        The query matched to each object; no query twice. The Hungarian
        algorithm (Kuhn 1955) through ``scipy.optimize.linear_sum_assignment``,
        by :func:`course_utils.detection.one_to_one_assignment` (notebook 24),
        which assigns objects (rows) to places (columns).
    """
    if not isinstance(cost, torch.Tensor):
        cost = torch.as_tensor(cost, dtype=torch.float64)
    if cost.ndim != 2 or cost.shape[1] > cost.shape[0]:
        raise ValueError(f"cost must be (Q, G) with Q >= G (queries x objects), got shape {tuple(cost.shape)}")
    return one_to_one_assignment(cost.detach().T)


def brute_force_match(cost):
    """The cheapest one-to-one match by trying every assignment: Q! / (Q - G)! of them, small cases only.

    Parameters
    ----------
    cost : (Q, G) tensor
        Q >= G, and Q! / (Q - G)! at most a million.

    Returns
    -------
    (G,) int64 tensor
        The query of each object; among assignments of equal cost, the first
        in ``itertools.permutations`` order.
    """
    cost = _tensor(cost, "cost", 2)
    n_queries, n_objects = cost.shape
    if n_objects > n_queries:
        raise ValueError(f"cost must be (Q, G) with Q >= G, got shape {tuple(cost.shape)}")
    if torch.tensor(range(n_queries - n_objects + 1, n_queries + 1), dtype=torch.float64).prod() > 1e6:
        raise ValueError(f"cost has too many assignments to try for brute force: shape {tuple(cost.shape)}")
    columns = torch.arange(n_objects)
    best, best_cost = None, float("inf")
    for queries in itertools.permutations(range(n_queries), n_objects):
        total = float(cost[list(queries), columns].sum())
        if total < best_cost:
            best, best_cost = queries, total
    return torch.tensor(best, dtype=torch.int64)


def _check_targets(targets, batch):
    if not isinstance(targets, (list, tuple)) or len(targets) != batch:
        raise ValueError(f"targets must be a list of {batch} dicts (one per image), got "
                         f"{type(targets).__name__} of length {len(targets) if hasattr(targets, '__len__') else '?'}")
    for i, t in enumerate(targets):
        if not isinstance(t, dict) or not {"boxes", "labels"} <= set(t):
            raise ValueError(f"targets[{i}] must be a dict with 'boxes' (normalized cxcywh) and 'labels'")


def match_queries(logits, boxes, targets, class_weight=1.0, l1_weight=5.0, giou_weight=2.0):
    """The Hungarian match of one batch: for each image, the query of each object ((G,) int64 tensors)."""
    _tensor(logits, "logits", 3)
    _tensor(boxes, "boxes", 3, last=4)
    _check_targets(targets, len(logits))
    sizes = [len(t["labels"]) for t in targets]
    matched = [torch.zeros(0, dtype=torch.int64) for _ in targets]
    if not sum(sizes):
        return matched
    with torch.no_grad():  # one cost matrix for the whole batch (every query x every object), then image by image
        cost = match_cost(logits.softmax(-1).flatten(0, 1), boxes.flatten(0, 1),
                          torch.cat([t["labels"] for t in targets]).long(),
                          torch.cat([t["boxes"] for t in targets]).to(boxes.dtype),
                          class_weight, l1_weight, giou_weight).view(len(logits), logits.shape[1], -1)
    start = 0
    for i, n in enumerate(sizes):
        if n:
            matched[i] = hungarian_match(cost[i, :, start:start + n])
        start += n
    return matched


def set_prediction_loss(outputs, targets, no_object_weight=0.1, class_weight=1.0, l1_weight=5.0, giou_weight=2.0):
    """DETR's set loss of one batch, each decoder layer's predictions matched and scored on their own.

    For each layer's predictions: every image's queries are matched to its
    objects (:func:`match_cost`, :func:`hungarian_match`); the class loss is
    the cross-entropy of every query against its object's class, or "no
    object" (the last class, index K - 1) for unmatched queries, whose weight
    is ``no_object_weight`` (most queries are unmatched); the box losses are
    the L1 distance and the GIoU loss of matched pairs, summed and divided by
    the number of objects in the batch.

    Parameters
    ----------
    outputs : list of (logits, boxes)
        One pair per decoder layer, the last layer last: ``logits`` (B, Q, K)
        with "no object" the last of the K classes, ``boxes`` (B, Q, 4)
        normalized ``(cx, cy, w, h)``. The layers before the last give the
        **auxiliary losses**.
    targets : list of dict
        Per image: ``labels`` (G,) in 0 .. K - 2 and ``boxes`` (G, 4)
        normalized ``(cx, cy, w, h)``.
    no_object_weight : float
        Weight of the "no object" class in the cross-entropy (0.1 in DETR).
    class_weight, l1_weight, giou_weight : float
        Weights of the matching cost and of the three losses (1, 5, 2).

    Returns
    -------
    dict
        ``loss_class``, ``loss_l1``, ``loss_giou`` (each already weighted,
        summed over the layers); their sum is what is minimised.
    """
    if not isinstance(outputs, (list, tuple)) or not outputs:
        raise ValueError("outputs must be a non-empty list of (logits, boxes) pairs, one per decoder layer")
    check_number(no_object_weight, "no_object_weight", minimum=0, maximum=1)
    logits0 = outputs[-1][0]
    _tensor(logits0, "logits", 3)
    _check_targets(targets, len(logits0))
    n_classes = logits0.shape[-1]
    weight = torch.ones(n_classes, dtype=logits0.dtype, device=logits0.device)
    weight[-1] = no_object_weight
    n_objects = max(1, sum(len(t["labels"]) for t in targets))
    totals = {"loss_class": 0.0, "loss_l1": 0.0, "loss_giou": 0.0}
    for logits, boxes in outputs:
        matched = match_queries(logits, boxes, targets, class_weight, l1_weight, giou_weight)
        wanted = torch.full(logits.shape[:2], n_classes - 1, dtype=torch.int64, device=logits.device)
        predicted, true = [], []
        for i, (queries, t) in enumerate(zip(matched, targets)):
            queries = queries.to(logits.device)
            wanted[i, queries] = t["labels"].long().to(logits.device)
            predicted.append(boxes[i, queries])
            true.append(t["boxes"].to(boxes))
        predicted, true = torch.cat(predicted), torch.cat(true)
        totals["loss_class"] = totals["loss_class"] + class_weight * F.cross_entropy(
            logits.transpose(1, 2), wanted, weight=weight)
        totals["loss_l1"] = totals["loss_l1"] + l1_weight * (predicted - true).abs().sum() / n_objects
        totals["loss_giou"] = totals["loss_giou"] + giou_weight * giou_loss(
            box_convert(predicted, "cxcywh", "xyxy"), box_convert(true, "cxcywh", "xyxy"), reduction="sum") / n_objects
    return totals


def matching_instability(previous, current):
    """The fraction of objects whose matched query changed between two matches of the same images.

    Li et al. (2022, DN-DETR) measure DETR's slow convergence this way: early
    in training, one object is matched to one query at one step and to
    another a few steps later, so the queries keep being asked for different
    things.

    Parameters
    ----------
    previous, current : list of (G_i,) int tensors
        The matched query of each object of each image, as returned by
        :func:`match_queries` at two moments of training.

    Returns
    -------
    float
        Objects matched to another query now, over all objects (0 if none).
    """
    if not isinstance(previous, (list, tuple)) or not isinstance(current, (list, tuple)) \
            or len(previous) != len(current):
        raise ValueError("previous and current must be lists of the same length (one tensor per image)")
    changed = total = 0
    for i, (a, b) in enumerate(zip(previous, current)):
        if a.shape != b.shape:
            raise ValueError(f"previous[{i}] and current[{i}] must have the same shape, got "
                             f"{tuple(a.shape)} and {tuple(b.shape)}")
        changed += int((a != b).sum())
        total += a.numel()
    return changed / total if total else 0.0
