"""Detections drawn on their image: boxes, labels, scores, and the ground truth beside them.

:func:`show_detections` draws boxes; :func:`show_detection_matches` draws one
image's predictions against its ground truth, coloured by what COCO's
matching made of them (true positive, false positive, missed object).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from matplotlib import colormaps
import matplotlib.pyplot as plt
import numpy as np

from .._checks import as_numpy, check_array, check_image, check_number
from ..detection.boxes import box_iou
from ..metrics.detection import match_detections
from .images import _IMAGE_CHANNELS, _check_ax, _check_color, _check_optional_text, _draw_image, _new_axes

__all__ = [
    "show_detections",
    "show_detection_matches",
]

#: Colours of :func:`show_detection_matches`: found objects, false alarms, missed objects.
_MATCH_COLORS = {"tp": "limegreen", "fp": "red", "fn": "orange"}


def show_detections(image, boxes, labels=None, scores=None, masks=None, class_names=None, ax=None, title=None,
                    color=None, linestyle="-", vmin=0.0, vmax=1.0):
    """Draw boxes, with their class and score, and optionally masks, over an image.

    Parameters
    ----------
    image : array_like
        Gray ``(H, W)`` or colour ``(H, W, 3)`` image.
    boxes : (K, 4) array_like or tensor
        Corner boxes ``(x1, y1, x2, y2)`` in pixels.
    labels : (K,) array_like of int, optional
        Classes; boxes are coloured by class and captioned.
    scores : (K,) array_like, optional
        Confidences, written after the class name.
    masks : (K, H, W) array_like of bool, optional
        One mask per box, filled in the box's colour.
    class_names : sequence of str, optional
        Names indexed by label; default the label itself.
    ax : matplotlib.axes.Axes, optional
        Where to draw (e.g. to draw ground truth and predictions on the same
        image: call twice with different ``color`` / ``linestyle``).
    title : str, optional
    color : colour, optional
        One colour for every box instead of a colour per class.
    linestyle : str
        Box outline style, e.g. ``"--"`` for ground truth.
    vmin, vmax : float
        Intensity limits of a gray image (default the [0, 1] range).

    Returns
    -------
    matplotlib.figure.Figure
    """
    image = check_image(as_numpy(image), "image", channels=_IMAGE_CHANNELS)
    boxes = np.asarray(as_numpy(boxes), dtype=float)
    boxes = boxes.reshape(0, 4) if boxes.size == 0 else boxes
    boxes = check_array(boxes, "boxes", ndim=2, allow_empty=True)
    if boxes.shape[1] != 4:
        raise ValueError(f"boxes must have shape (K, 4), got {boxes.shape}")
    k = boxes.shape[0]

    def optional(value, name, ndim):
        if value is None:
            return None
        value = check_array(as_numpy(value), name, ndim=ndim, allow_empty=True)
        if value.shape[0] != k:
            raise ValueError(f"{name} must have one entry per box ({k}), got shape {value.shape}")
        return value

    labels = optional(labels, "labels", 1)
    scores = optional(scores, "scores", 1)
    masks = optional(masks, "masks", 3)
    if masks is not None and masks.shape[1:] != image.shape[:2]:
        raise ValueError(f"masks must have the image's height and width {image.shape[:2]}, got {masks.shape[1:]}")
    ax = _check_ax(ax)
    _check_optional_text(title, "title")
    fixed = None if color is None else _check_color(color)

    fig, ax = _new_axes(ax, figsize=(4, 4))
    if len(ax.images) == 0:  # a second call on the same axes draws over the first
        _draw_image(ax, image, cmap="gray", vmin=vmin if image.ndim == 2 else None,
                    vmax=vmax if image.ndim == 2 else None, title=title)
    elif title is not None:
        ax.set_title(title)
    palette = colormaps["tab10"]
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        label = None if labels is None else int(labels[i])
        rgb = fixed or palette((label if label is not None else i) % 10)[:3]
        if masks is not None:
            layer = np.zeros(image.shape[:2] + (4,))
            layer[masks[i].astype(bool)] = (*rgb, 0.45)
            ax.imshow(layer, interpolation="nearest")
        # pixel (r, c) covers [c - 0.5, c + 0.5] in imshow's coordinates, box corners are pixel edges
        ax.add_patch(plt.Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, edgecolor=rgb,
                                   linewidth=1.5, linestyle=linestyle))
        caption = []
        if label is not None:
            caption.append(class_names[label] if class_names is not None else str(label))
        if scores is not None:
            caption.append(f"{scores[i]:.2f}")
        if caption:
            ax.text(x1 - 0.5, y1 - 1.5, " ".join(caption), color="white", fontsize=7, va="bottom",
                    bbox={"facecolor": rgb, "alpha": 0.8, "pad": 1, "linewidth": 0})
    ax.set_xlim(-0.5, image.shape[1] - 0.5)
    ax.set_ylim(image.shape[0] - 0.5, -0.5)
    return fig


def _check_boxes_dict(value, name, keys):
    """A dict of one image's boxes (K, 4) and per-box arrays ``keys``, as NumPy arrays."""
    if not isinstance(value, Mapping) or not {"boxes", *keys} <= set(value):
        raise TypeError(f"{name} must be a dict with keys {('boxes', *keys)}, got {value!r:.80}")
    boxes = np.asarray(as_numpy(value["boxes"]), dtype=float)
    boxes = boxes.reshape(0, 4) if boxes.size == 0 else boxes
    boxes = check_array(boxes, f"{name}['boxes']", ndim=2, allow_empty=True)
    if boxes.shape[1] != 4:
        raise ValueError(f"{name}['boxes'] must have shape (K, 4), got {boxes.shape}")
    out = {"boxes": boxes}
    for key in keys:
        array = check_array(as_numpy(value[key]), f"{name}[{key!r}]", ndim=1, allow_empty=True)
        if array.shape[0] != boxes.shape[0]:
            raise ValueError(f"{name}[{key!r}] must have one entry per box ({boxes.shape[0]}), got shape {array.shape}")
        out[key] = array
    return out


def show_detection_matches(image, prediction, truth, iou_threshold=0.5, min_score=0.3, class_names=None, ax=None,
                           title=None):
    """One image's detections against its ground truth: found, false alarm, missed.

    The detections scoring at least ``min_score`` (an operating point) are
    matched to the objects as COCO matches them: class by class, best score
    first, each detection taking the still-free object of its class it
    overlaps most, if that IoU reaches ``iou_threshold``
    (:func:`course_utils.metrics.match_detections`). Then

    * true positives are drawn in green with their class and score;
    * false positives in red with their class and score;
    * missed objects (false negatives) in orange, dashed, with their class.

    Objects found by a detection are not drawn again: the green box stands
    for them. An object found only by a detection below ``min_score`` counts
    as missed, as it would at that operating point.

    Parameters
    ----------
    image : array_like or tensor
        Gray ``(H, W)`` or colour ``(H, W, 3)`` image.
    prediction : dict
        ``boxes`` (K, 4) corners, ``scores`` (K,), ``labels`` (K,): NumPy
        arrays or tensors (one element of a torchvision detector's output).
    truth : dict
        ``boxes`` (G, 4), ``labels`` (G,); other keys (``area``, ``masks``)
        are not read.
    iou_threshold : float, default 0.5
        In (0, 1].
    min_score : float, default 0.3
        Detections below it are neither matched nor drawn.
    class_names : sequence of str, optional
        Names indexed by label; default the label itself.
    ax : matplotlib.axes.Axes, optional
    title : str, optional
        Default: the counts, e.g. ``"2 TP (green), 1 FP (red), 1 missed (orange, dashed)"``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    image = check_image(as_numpy(image), "image", channels=_IMAGE_CHANNELS)
    pred = _check_boxes_dict(prediction, "prediction", ("scores", "labels"))
    gt = _check_boxes_dict(truth, "truth", ("labels",))
    iou_threshold = check_number(iou_threshold, "iou_threshold", minimum=0, maximum=1, strict_minimum=True)
    min_score = check_number(min_score, "min_score")
    if class_names is not None:
        if isinstance(class_names, str) or not isinstance(class_names, (Sequence, np.ndarray)):
            raise TypeError(f"class_names must be a sequence of names indexed by label, got {class_names!r:.80}")
        used = np.concatenate([pred["labels"], gt["labels"]]).astype(int)
        if used.size and (used.min() < 0 or used.max() >= len(class_names)):
            raise ValueError(f"class_names has {len(class_names)} names; labels go from {used.min()} to {used.max()}")
    _check_ax(ax)
    _check_optional_text(title, "title")

    keep = np.flatnonzero(pred["scores"] >= min_score)
    keep = keep[np.argsort(-pred["scores"][keep], kind="stable")]  # best first, as the matching needs
    found = np.zeros(len(keep), dtype=bool)
    missed = np.ones(len(gt["labels"]), dtype=bool)
    for label in np.unique(np.concatenate([pred["labels"][keep], gt["labels"]])):
        mine = np.flatnonzero(pred["labels"][keep] == label)  # positions in keep, still best first
        theirs = np.flatnonzero(gt["labels"] == label)
        iou = box_iou(pred["boxes"][keep[mine]], gt["boxes"][theirs])
        matches = match_detections(iou, iou_threshold)
        found[mine] = matches >= 0
        missed[theirs[matches[matches >= 0]]] = False

    tp, fp = keep[found], keep[~found]
    fig, ax = _new_axes(ax, figsize=(4, 4))
    # missed objects first, underneath; then false alarms; true positives on top
    show_detections(image, gt["boxes"][missed], gt["labels"][missed], class_names=class_names, ax=ax,
                    color=_MATCH_COLORS["fn"], linestyle="--")
    for chosen, kind in ((fp, "fp"), (tp, "tp")):
        show_detections(image, pred["boxes"][chosen], pred["labels"][chosen], pred["scores"][chosen],
                        class_names=class_names, ax=ax, color=_MATCH_COLORS[kind])
    if title is None:
        title = f"{len(tp)} TP (green), {len(fp)} FP (red), {int(missed.sum())} missed (orange, dashed)"
    ax.set_title(title)
    return fig
