"""The R-CNN family's training targets, losses and decoding, one step per function.

A two-stage detector (Faster R-CNN, Ren et al. 2015) first proposes regions,
then classifies and refines each one. Both stages learn the same way:

1. **label** candidate boxes (anchors for the region proposal network,
   proposals for the second stage) by their IoU with the objects;
2. **sample** a fixed number per image, at most a given fraction positive
   (:func:`sample_balanced`), because background boxes outnumber objects
   a hundred to one;
3. **encode** each positive box's offsets to its object
   (:func:`course_utils.detection.encode_boxes`) and train a classifier plus
   a smooth-L1 regression on them.

At inference the RPN's scores and offsets become proposals
(:func:`rpn_proposals`: decode, clip, drop tiny boxes, keep the best, NMS),
and the second stage's become detections (:func:`postprocess_detections`:
softmax, one box per class, score threshold, NMS per class).

The same rules as torchvision's ``RegionProposalNetwork`` and ``RoIHeads``
(``tests/detection/test_two_stage.py``). Notebooks 20 and 21; the networks are
in :mod:`course_utils.models.two_stage`.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from .._checks import check_int, check_number
from .anchors import BELOW_LOW_THRESHOLD, BETWEEN_THRESHOLDS, _match, decode_boxes, encode_boxes, match_anchors
from .boxes import box_iou
from .nms import batched_nms, nms

__all__ = [
    "RPN_WEIGHTS",
    "ROI_WEIGHTS",
    "sample_balanced",
    "label_boxes",
    "rpn_targets",
    "rpn_loss",
    "rpn_proposals",
    "proposal_targets",
    "roi_head_loss",
    "postprocess_detections",
]

#: Box-coding weights of the RPN (offsets to anchors) and of the second stage
#: (offsets to proposals), as in Faster R-CNN and torchvision.
RPN_WEIGHTS = (1.0, 1.0, 1.0, 1.0)
ROI_WEIGHTS = (10.0, 10.0, 5.0, 5.0)


def sample_balanced(labels, batch_size, positive_fraction, generator=None):
    """Choose at most ``batch_size`` boxes, at most ``positive_fraction`` of them positive.

    torchvision's ``BalancedPositiveNegativeSampler`` rule: positives are
    boxes with a label >= 1, negatives label 0, others (< 0) are never
    chosen; take ``min(#positives, batch_size * positive_fraction)``
    positives at random, then fill up with negatives. "At random": every box
    draws a uniform random key, and the positives (negatives) with the
    smallest keys are taken.

    Parameters
    ----------
    labels : (N,) integer tensor, or (B, N) for B images at once
    batch_size : int
        Per image.
    positive_fraction : float in [0, 1]
    generator : torch.Generator, optional
        Source of the random choice (seed it for reproducible training).
        A batch draws the keys of its images one after the other, so it
        chooses what the images would one by one.

    Returns
    -------
    positive, negative : bool tensors shaped like ``labels``
        The chosen boxes of each kind.
    """
    if not isinstance(labels, torch.Tensor) or labels.ndim not in (1, 2) or labels.is_floating_point():
        raise TypeError(f"labels must be a 1-D (or 2-D, one row per image) integer tensor, got "
                        f"{type(labels).__name__}")
    keys = torch.stack([torch.rand(labels.shape[-1], generator=generator, dtype=torch.float64)
                        for _ in range(labels.shape[0] if labels.ndim == 2 else 1)]).to(labels.device)
    positive, negative = _sample_with_keys(labels.reshape(keys.shape), keys, batch_size, positive_fraction)
    return positive.reshape(labels.shape), negative.reshape(labels.shape)


def _sample_with_keys(labels, keys, batch_size, positive_fraction):
    """:func:`sample_balanced` of each row of (B, N) ``labels``, given their random keys."""
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    positive_fraction = check_number(positive_fraction, "positive_fraction", minimum=0, maximum=1)
    is_positive, is_negative = labels >= 1, labels == 0
    n_positive = is_positive.sum(-1).clamp(max=int(batch_size * positive_fraction))
    n_negative = torch.minimum(is_negative.sum(-1), batch_size - n_positive)
    positive = is_positive & (_rank_among(keys, is_positive) < n_positive[:, None])
    negative = is_negative & (_rank_among(keys, is_negative) < n_negative[:, None])
    return positive, negative


def _rank_among(keys, members):
    """Rank (0 = smallest key) of each member of a row among that row's members; others come last."""
    order = torch.where(members, keys, 2.0).argsort(dim=-1, stable=True)
    return order.argsort(dim=-1, stable=True)


def label_boxes(boxes, gt_boxes, high, low, allow_low_quality):
    """Match candidate boxes to objects: (index of the matched object or -1 / -2, IoU matrix).

    A thin wrapper of :func:`course_utils.detection.match_anchors` that also
    accepts images with no object (every box background).
    """
    if gt_boxes.numel() == 0:
        return torch.full((boxes.shape[0],), BELOW_LOW_THRESHOLD, dtype=torch.int64, device=boxes.device)
    return match_anchors(box_iou(gt_boxes, boxes), high=high, low=low, allow_low_quality=allow_low_quality)


def _as_batch(gt_boxes, name):
    """``(list of per-image tensors, was it a list?)``: one image is a batch of one."""
    if isinstance(gt_boxes, (list, tuple)):
        if not all(isinstance(g, torch.Tensor) for g in gt_boxes):
            raise TypeError(f"{name} must be a tensor or a list of tensors, one per image")
        return list(gt_boxes), True
    if not isinstance(gt_boxes, torch.Tensor):
        raise TypeError(f"{name} must be a tensor or a list of tensors, one per image, got {type(gt_boxes).__name__}")
    return [gt_boxes], False


def _thresholds(high, low):
    high, low = check_number(high, "high"), check_number(low, "low")
    if low > high:
        raise ValueError(f"low must be <= high, got low={low} and high={high}")
    return high, low


def rpn_targets(anchors, gt_boxes, high=0.7, low=0.3, batch_size=256, positive_fraction=0.5, generator=None):
    """What the region proposal network should say about each anchor of one image (or of a batch).

    Anchors with IoU >= ``high`` with an object (and each object's best
    anchors) are objects; below ``low``, background; in between, ignored.
    A balanced sample of ``batch_size`` anchors is kept for the loss.

    Parameters
    ----------
    anchors : (A, 4) tensor
    gt_boxes : (G, 4) tensor, or a list of them (one per image)
        For a list, one IoU matrix and one encoding serve the whole batch;
        the results equal those of the images one by one (same generator).
    high, low : float
        IoU thresholds (Faster R-CNN: 0.7 and 0.3).
    batch_size, positive_fraction :
        Of the sample (Faster R-CNN: 256 anchors, half positive at most).
    generator : torch.Generator, optional

    Returns
    -------
    objectness : (A,) float tensor
        1 for object, 0 for background (meaningful only where sampled).
    regression : (A, 4) tensor
        Offsets of each anchor to its object (meaningful only for positives).
    positive, negative : (A,) bool tensors
        The sampled anchors.
        For a list of ``gt_boxes``, a list of such tuples.
    """
    images, batched = _as_batch(gt_boxes, "gt_boxes")
    high, low = _thresholds(high, low)
    n_images, n_anchors = len(images), anchors.shape[0]
    counts = torch.tensor([len(g) for g in images], dtype=torch.int64, device=anchors.device)
    everything = torch.cat(images).to(anchors.dtype) if images else anchors[:0]
    most = int(counts.max()) if n_images else 0
    # one IoU matrix for all objects of the batch, padded to (images, most objects, anchors) with -1
    iou = anchors.new_full((n_images, most, n_anchors), -1.0)
    present = torch.arange(most, device=anchors.device) < counts[:, None]
    if everything.numel():
        iou[present] = box_iou(everything, anchors)
    matched = _match(iou, high, low, allow_low_quality=True)  # (images, anchors)
    labels = torch.where(matched >= 0, 1, torch.where(matched == BETWEEN_THRESHOLDS, -1, 0))
    positive, negative = sample_balanced(labels, batch_size, positive_fraction, generator)
    regression = torch.zeros(n_images, n_anchors, 4, dtype=anchors.dtype, device=anchors.device)
    if positive.any():  # one encoding for every positive anchor of the batch
        first = torch.cumsum(counts, 0) - counts  # where each image's objects start in `everything`
        objects = (first[:, None] + matched)[positive]
        regression[positive] = encode_boxes(everything[objects], anchors.expand(n_images, -1, -1)[positive],
                                            RPN_WEIGHTS)
    results = list(zip((matched >= 0).to(anchors.dtype), regression, positive, negative))
    return results if batched else results[0]


def rpn_loss(objectness_logits, deltas, targets):
    """Faster R-CNN's RPN loss over a batch: objectness BCE + smooth-L1 box loss, both per sampled anchor.

    Parameters
    ----------
    objectness_logits : list of (A,) tensors
        One per image.
    deltas : list of (A, 4) tensors
    targets : list of tuples
        :func:`rpn_targets` of each image.

    Returns
    -------
    loss_objectness, loss_rpn_box_reg : scalar tensors
        torchvision's names and normalisation (box loss summed over positives,
        divided by the number of sampled anchors; beta = 1/9).
    """
    logits = torch.cat([o[pos | neg] for o, (_, _, pos, neg) in zip(objectness_logits, targets)])
    wanted = torch.cat([t[pos | neg] for (t, _, pos, neg) in targets])
    box_pred = torch.cat([d[pos] for d, (_, _, pos, _) in zip(deltas, targets)])
    box_true = torch.cat([r[pos] for (_, r, pos, _) in targets])
    n_sampled = max(1, logits.numel())
    loss_objectness = F.binary_cross_entropy_with_logits(logits, wanted)
    loss_box = F.smooth_l1_loss(box_pred, box_true, beta=1 / 9, reduction="sum") / n_sampled
    return loss_objectness, loss_box


def rpn_proposals(objectness_logits, deltas, anchors, image_size, pre_nms_top_n=300, post_nms_top_n=100,
                  nms_threshold=0.7, min_size=1e-3, score_threshold=0.0):
    """Turn the RPN's outputs into proposals: decode, clip, drop small, keep the best, NMS.

    Parameters
    ----------
    objectness_logits : (A,) tensor, or (N, A) for a batch of N images
    deltas : (A, 4) tensor, or (N, A, 4)
        Offsets of each anchor (RPN weights 1, 1, 1, 1).
    anchors : (A, 4) tensor
        The same anchors for every image.
    image_size : (height, width)
    pre_nms_top_n, post_nms_top_n : int
        Boxes kept before and after NMS (by objectness), per image.
    nms_threshold : float
    min_size : float
        Boxes narrower or lower than this (pixels) are dropped.
    score_threshold : float
        Boxes whose objectness probability is below it are dropped.

    Returns
    -------
    boxes : (K, 4) tensor
        Proposals, best first, detached (the second stage does not train the RPN's boxes).
    scores : (K,) tensor
        Their objectness probabilities.
        For a batch, a list of N such ``(boxes, scores)`` pairs.
    """
    pre_nms_top_n = check_int(pre_nms_top_n, "pre_nms_top_n", minimum=1)
    post_nms_top_n = check_int(post_nms_top_n, "post_nms_top_n", minimum=1)
    batched = objectness_logits.ndim == 2
    logits = objectness_logits.detach() if batched else objectness_logits.detach()[None]
    deltas = deltas.detach() if batched else deltas.detach()[None]
    if deltas.shape[:2] != logits.shape or logits.shape[1] != anchors.shape[0]:
        raise ValueError(f"objectness_logits {tuple(objectness_logits.shape)}, deltas {tuple(deltas.shape)} and "
                         f"anchors {tuple(anchors.shape)} must describe the same anchors")
    height, width = (float(v) for v in image_size)
    n_images = logits.shape[0]
    # the best anchors of every image, decoded in one call
    top_logits, top = logits.topk(min(pre_nms_top_n, logits.shape[1]), dim=1)
    chosen_deltas = deltas.gather(1, top[..., None].expand(-1, -1, 4)).reshape(-1, 4)
    boxes = decode_boxes(chosen_deltas, anchors[top.reshape(-1)], RPN_WEIGHTS).reshape(n_images, -1, 4)
    boxes = torch.stack([boxes[..., 0].clamp(0, width), boxes[..., 1].clamp(0, height),
                         boxes[..., 2].clamp(0, width), boxes[..., 3].clamp(0, height)], dim=-1)
    scores = torch.sigmoid(top_logits)
    keep = ((boxes[..., 2] - boxes[..., 0]) >= min_size) & ((boxes[..., 3] - boxes[..., 1]) >= min_size)
    keep &= scores >= score_threshold
    out = []
    for image_boxes, image_scores, image_keep in zip(boxes, scores, keep):
        image_boxes, image_scores = image_boxes[image_keep], image_scores[image_keep]
        kept = nms(image_boxes, image_scores, nms_threshold)[:post_nms_top_n]
        out.append((image_boxes[kept], image_scores[kept]))
    return out if batched else out[0]


def proposal_targets(proposals, gt_boxes, gt_labels, iou_threshold=0.5, batch_size=64, positive_fraction=0.25,
                     generator=None):
    """Sample one image's proposals (or a batch's) for the second stage and say what each should become.

    The ground-truth boxes join the proposals (so early in training, when the
    RPN proposes nonsense, the head still sees objects). A proposal with IoU
    >= ``iou_threshold`` with an object takes its class (label + 1: 0 is
    background), otherwise it is background.

    Parameters
    ----------
    proposals : (P, 4) tensor, or a list of them (one per image)
    gt_boxes : (G, 4) tensor, or a list
    gt_labels : (G,) int64 tensor, or a list
        Object classes, 1 .. C (0 is background).
    iou_threshold : float
    batch_size, positive_fraction :
        Of the sample (Fast R-CNN: 128 per image, a quarter positive at most).
    generator : torch.Generator, optional

    Returns
    -------
    boxes : (S, 4) tensor
        The sampled proposals.
    labels : (S,) int64 tensor
        Their classes, 0 for background.
    regression : (S, 4) tensor
        Offsets to their objects (ROI weights; zeros for background).
        For lists, a list of such triples; one IoU matrix and one encoding
        serve the whole batch, with the results of the images one by one.
    """
    proposals, batched = _as_batch(proposals, "proposals")
    gt_boxes, _ = _as_batch(gt_boxes, "gt_boxes")
    gt_labels, _ = _as_batch(gt_labels, "gt_labels")
    if not len(proposals) == len(gt_boxes) == len(gt_labels):
        raise ValueError(f"proposals, gt_boxes and gt_labels must have one entry per image, got {len(proposals)}, "
                         f"{len(gt_boxes)} and {len(gt_labels)}")
    threshold = check_number(iou_threshold, "iou_threshold", minimum=0, maximum=1)
    candidates = [torch.cat([p.detach(), g.to(p.dtype)]) if g.numel() else p.detach()
                  for p, g in zip(proposals, gt_boxes)]
    n_images = len(candidates)
    n_candidates = [len(c) for c in candidates]
    n_objects = torch.tensor([len(g) for g in gt_boxes], dtype=torch.int64)
    width, most = max(n_candidates), int(n_objects.max())
    boxes = candidates[0].new_zeros(n_images, width, 4)
    real = torch.zeros(n_images, width, dtype=torch.bool, device=boxes.device)
    keys = torch.full((n_images, width), 2.0, dtype=torch.float64)
    for i, c in enumerate(candidates):
        boxes[i, :len(c)], real[i, :len(c)] = c, True
        keys[i, :len(c)] = torch.rand(len(c), generator=generator, dtype=torch.float64)  # as image by image
    objects = torch.cat(gt_boxes).to(boxes.dtype)
    object_labels = torch.cat(gt_labels).to(device=boxes.device, dtype=torch.int64)
    first = torch.cumsum(n_objects, 0) - n_objects  # where each image's objects start in `objects`
    # one IoU matrix for the batch, read into (images, most objects, most candidates), -1 where padded
    iou = boxes.new_full((n_images, most, width), -1.0)
    if objects.numel():
        every = box_iou(objects, torch.cat(candidates).to(boxes.dtype))
        starts = torch.cumsum(torch.tensor(n_candidates), 0) - torch.tensor(n_candidates)
        rows = (first[:, None] + torch.arange(most)).clamp(max=len(objects) - 1)
        columns = (starts[:, None] + torch.arange(width)).clamp(max=every.shape[1] - 1)
        present = (torch.arange(most) < n_objects[:, None])[:, :, None] & real[:, None, :].cpu()
        iou = torch.where(present.to(boxes.device), every[rows[:, :, None], columns[:, None, :]], iou)
    matched = _match(iou, threshold, threshold, allow_low_quality=False)  # (images, candidates)
    found = (matched >= 0) & real
    which = first.to(boxes.device)[:, None] + matched
    labels = torch.where(real, 0, -1)
    labels[found] = object_labels[which[found]]
    positive, negative = _sample_with_keys(labels, keys.to(boxes.device), batch_size, positive_fraction)
    chosen = positive | negative
    regression = torch.zeros(n_images, width, 4, dtype=boxes.dtype, device=boxes.device)
    if (found & chosen).any():  # one encoding for every sampled positive of the batch
        regression[found & chosen] = encode_boxes(objects[which[found & chosen]], boxes[found & chosen],
                                                  ROI_WEIGHTS)
    out = [(boxes[i][chosen[i]], labels[i][chosen[i]], regression[i][chosen[i]]) for i in range(n_images)]
    return out if batched else out[0]


def roi_head_loss(class_logits, box_deltas, labels, regression):
    """Fast R-CNN's multi-task loss: softmax cross-entropy + smooth-L1 on the true class's box.

    Parameters
    ----------
    class_logits : (S, C + 1) tensor
    box_deltas : (S, (C + 1) * 4) tensor
        One box per class, as in Fast R-CNN.
    labels : (S,) int64 tensor
    regression : (S, 4) tensor

    Returns
    -------
    loss_classifier, loss_box_reg : scalar tensors
        torchvision's names and normalisation (box loss summed over positives,
        divided by the number of sampled proposals; beta = 1/9).
    """
    loss_classifier = F.cross_entropy(class_logits, labels)
    positive = torch.nonzero(labels > 0).flatten()
    per_class = box_deltas.reshape(box_deltas.shape[0], -1, 4)
    predicted = per_class[positive, labels[positive]]
    loss_box = F.smooth_l1_loss(predicted, regression[positive], beta=1 / 9, reduction="sum") / max(1, labels.numel())
    return loss_classifier, loss_box


def postprocess_detections(class_logits, box_deltas, proposals, image_size, score_threshold=0.05,
                           nms_threshold=0.5, detections_per_image=100):
    """Detections of one image from the second stage: one box per class, threshold, NMS per class.

    Parameters
    ----------
    class_logits : (P, C + 1) tensor
    box_deltas : (P, (C + 1) * 4) tensor
    proposals : (P, 4) tensor
    image_size : (height, width)
    score_threshold, nms_threshold : float
    detections_per_image : int

    Returns
    -------
    dict
        ``boxes`` (K, 4), ``scores`` (K,), ``labels`` (K,) in 1 .. C, best first.
    """
    height, width = (float(v) for v in image_size)
    n, n_classes = class_logits.shape
    scores = F.softmax(class_logits, dim=1)[:, 1:]
    deltas = box_deltas.reshape(n, n_classes, 4)[:, 1:].reshape(-1, 4)
    boxes = decode_boxes(deltas, proposals.repeat_interleave(n_classes - 1, dim=0), ROI_WEIGHTS)
    boxes = torch.stack([boxes[:, 0].clamp(0, width), boxes[:, 1].clamp(0, height),
                         boxes[:, 2].clamp(0, width), boxes[:, 3].clamp(0, height)], dim=1)
    labels = torch.arange(1, n_classes, device=class_logits.device).repeat(n)
    scores = scores.reshape(-1)
    keep = (scores > score_threshold) & ((boxes[:, 2] - boxes[:, 0]) >= 1e-2) & ((boxes[:, 3] - boxes[:, 1]) >= 1e-2)
    boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
    kept = batched_nms(boxes, scores, labels, nms_threshold)[:detections_per_image]
    return {"boxes": boxes[kept], "scores": scores[kept], "labels": labels[kept]}
