"""Detections drawn on their image: boxes, labels, scores, and the ground truth beside them.
"""

from __future__ import annotations

from matplotlib import colormaps
import matplotlib.pyplot as plt
import numpy as np

from .._checks import as_numpy, check_array, check_image
from .images import _IMAGE_CHANNELS, _check_ax, _check_color, _check_optional_text, _draw_image, _new_axes

__all__ = [
    "show_detections",
]


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
