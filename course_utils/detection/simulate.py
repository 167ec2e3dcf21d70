"""A simulated detector: ground truth turned into scored, jittered, duplicated and false detections.

It makes the metrics of notebook 18 and the suppression of notebook 19
measurable before any detector is trained.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_int, check_interval, check_number
from .boxes import box_iou

__all__ = [
    "noisy_detections",
]


def noisy_detections(targets, canvas_size, seed=0, jitter=0.1, copies=(1, 3), false_positives=(0, 3),
                     wrong_class=0.1):
    """Detections of a simulated detector of known quality, to study metrics and NMS without training one.

    For every true object, ``copies`` boxes (a random number in that range)
    whose sides move by Gaussian noise of ``jitter`` times the box's width
    or height; each copy scores ``IoU with the truth x U(0.6, 1)``, so
    better boxes tend to score higher, and takes a wrong class with
    probability ``wrong_class``. Then ``false_positives`` boxes of digit-like
    size at random places, scoring ``U(0, 0.6)``.

    Parameters
    ----------
    targets : list of dict
        ``boxes`` and ``labels`` per image (e.g. ``Scenes.targets``).
    canvas_size : int
        Boxes are clipped to the canvas.
    seed : int
    jitter : float
        Noise on each side, as a fraction of the object's size (>= 0).
    copies, false_positives : (int, int)
        Ranges (inclusive) of boxes per object and of false positives per image.
    wrong_class : float
        Probability that a copy has a wrong class.

    Returns
    -------
    list of dict
        ``boxes`` (K, 4) float32, ``scores`` (K,) float32, ``labels`` (K,) int64 per image.
    """

    if not isinstance(targets, (list, tuple)):
        raise TypeError(f"targets must be a list of dicts with boxes and labels, got {type(targets).__name__}")
    canvas_size = check_int(canvas_size, "canvas_size", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    jitter = check_number(jitter, "jitter", minimum=0)
    low_c, high_c = check_interval(copies, "copies", int, 0)
    low_f, high_f = check_interval(false_positives, "false_positives", int, 0)
    wrong_class = check_number(wrong_class, "wrong_class", minimum=0, maximum=1)
    rng = np.random.default_rng(seed)
    out = []
    for t in targets:
        truth = np.asarray(t["boxes"], dtype=np.float64).reshape(-1, 4)
        labels = np.asarray(t["labels"], dtype=np.int64)
        n = rng.integers(low_c, high_c + 1, size=len(truth))
        source = np.repeat(np.arange(len(truth)), n)
        size = (truth[:, 2:] - truth[:, :2])[source]
        det = truth[source] + rng.normal(0, jitter, (len(source), 4)) * np.tile(size, 2)
        det = np.c_[np.minimum(det[:, :2], det[:, 2:]), np.maximum(det[:, :2], det[:, 2:])]
        det = np.clip(det, 0, canvas_size)
        iou = box_iou(det, truth)[np.arange(len(source)), source] if len(source) else np.zeros(0)
        scores = np.nan_to_num(iou) * rng.uniform(0.6, 1.0, len(source))
        det_labels = labels[source].copy()
        swap = rng.random(len(source)) < wrong_class
        det_labels[swap] = (det_labels[swap] + rng.integers(1, 10, swap.sum())) % 10
        k = int(rng.integers(low_f, high_f + 1))
        side = rng.uniform(0.1, 0.5, (k, 2)) * canvas_size
        corner = rng.uniform(0, 1, (k, 2)) * (canvas_size - side)
        det = np.r_[det, np.c_[corner, corner + side]]
        scores = np.r_[scores, rng.uniform(0, 0.6, k)]
        det_labels = np.r_[det_labels, rng.integers(0, 10, k)]
        out.append({"boxes": det.astype(np.float32), "scores": scores.astype(np.float32),
                    "labels": det_labels.astype(np.int64)})
    return out
