"""Mask R-CNN's mask operations: targets cropped from the instance masks, the per-class loss, pasting back.

Mask R-CNN (He et al., 2017) predicts, for each detected box, a small
``M x M`` mask (28 x 28 in the paper) *relative to the box*. Three operations
connect those small masks with the image:

* :func:`mask_targets`: the training target of a box is its object's mask
  cropped to the box and resized to M x M, with RoI Align on the mask image
  (no rounding, as for the features);
* :func:`mask_loss`: binary cross-entropy of every pixel, on the mask channel
  of the object's class only (one mask per class, so classes do not compete
  for pixels: the classification head decides the class);
* :func:`paste_masks`: at test time, each M x M mask is resized to its box
  and pasted into an image-sized map.

Each equals torchvision's (``roi_heads.project_masks_on_boxes``,
``maskrcnn_loss``, ``paste_masks_in_image``; tested). Notebook 27.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from .._checks import check_int

__all__ = ["mask_targets", "mask_loss", "paste_masks"]


def _check_boxes(boxes, name="boxes"):
    if not isinstance(boxes, torch.Tensor) or boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"{name} must be an (R, 4) tensor of corners, got "
                         f"{tuple(boxes.shape) if isinstance(boxes, torch.Tensor) else type(boxes).__name__}")


def mask_targets(masks, boxes, matched, size=28):
    """The M x M training target of each box: its object's mask cropped to the box by RoI Align.

    Parameters
    ----------
    masks : (G, H, W) tensor
        The image's instance masks (0 / 1).
    boxes : (R, 4) tensor
        Positive proposals, corners in image pixels.
    matched : (R,) int64 tensor
        Index of each proposal's object in ``masks``.
    size : int
        M.

    Returns
    -------
    (R, M, M) float tensor
        Values in [0, 1] (RoI Align averages the mask's pixels); Mask R-CNN's
        loss uses them as soft targets.
    """
    from ..detection.roi import roi_align

    _check_boxes(boxes)
    size = check_int(size, "size", minimum=1)
    if not isinstance(masks, torch.Tensor) or masks.ndim != 3:
        raise ValueError("masks must be a (G, H, W) tensor")
    if not isinstance(matched, torch.Tensor) or matched.shape != boxes.shape[:1]:
        raise ValueError(f"matched must be an ({len(boxes)},) tensor of object indices")
    if len(boxes) and (matched.min() < 0 or matched.max() >= len(masks)):
        raise ValueError(f"matched indices must lie in 0 .. {len(masks) - 1}")
    dtype = boxes.dtype if boxes.is_floating_point() else torch.float32
    # each box reads "its" mask: the mask index plays the role of the image index of a batch
    rows = torch.cat([matched[:, None].to(dtype), boxes.to(dtype)], dim=1)
    return roi_align(masks[:, None].to(dtype), rows, (size, size), 1.0)[:, 0]


def mask_loss(mask_logits, labels, targets):
    """Mask R-CNN's mask loss: per-pixel binary cross-entropy on the channel of each RoI's own class.

    Parameters
    ----------
    mask_logits : (R, C, M, M) tensor
        One mask per class for each positive RoI.
    labels : (R,) int64 tensor
        The class of each RoI's object (the channel to score).
    targets : (R, M, M) tensor
        From :func:`mask_targets`.

    Returns
    -------
    tensor (scalar)
        Mean over RoIs and pixels; 0 (connected to the graph) without RoIs.
    """
    if not isinstance(mask_logits, torch.Tensor) or mask_logits.ndim != 4:
        raise ValueError("mask_logits must be an (R, C, M, M) tensor")
    if labels.shape != mask_logits.shape[:1] or targets.shape != mask_logits.shape[:1] + mask_logits.shape[2:]:
        raise ValueError(f"labels must be (R,) and targets (R, M, M) for mask_logits {tuple(mask_logits.shape)}; got "
                         f"{tuple(labels.shape)} and {tuple(targets.shape)}")
    if targets.numel() == 0:
        return mask_logits.sum() * 0
    own = mask_logits[torch.arange(len(labels), device=labels.device), labels]
    return F.binary_cross_entropy_with_logits(own, targets.to(own.dtype))


def paste_masks(masks, boxes, image_size, padding=1):
    """Resize each M x M mask to its box and paste it into an image of ``image_size``.

    The rule of torchvision's ``paste_masks_in_image``, step by step: pad the
    mask by ``padding`` pixels of zeros and grow the box about its centre by
    the same factor (M + 2 padding) / M, so that the mask's edge can fade out
    instead of being cut at the box; round the box's corners toward zero to
    whole pixels; resize the mask bilinearly to the box's (inclusive) pixel
    size; copy the part inside the image.

    Parameters
    ----------
    masks : (R, M, M) tensor
        Mask probabilities (or logits: pasting is linear and threshold later).
    boxes : (R, 4) tensor
        Detected boxes, corners in image pixels.
    image_size : (H, W)
    padding : int

    Returns
    -------
    (R, H, W) tensor
    """
    _check_boxes(boxes)
    if not isinstance(masks, torch.Tensor) or masks.ndim != 3 or masks.shape[1] != masks.shape[2]:
        raise ValueError("masks must be an (R, M, M) tensor")
    if len(masks) != len(boxes):
        raise ValueError(f"masks and boxes must have one row per detection, got {len(masks)} and {len(boxes)}")
    height, width = (check_int(v, "image_size", minimum=1) for v in image_size)
    padding = check_int(padding, "padding", minimum=0)
    m = masks.shape[-1]
    scale = (m + 2 * padding) / m
    padded = F.pad(masks, (padding,) * 4)
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    half = (boxes[:, 2:] - boxes[:, :2]) / 2 * scale
    corners = torch.cat([centre - half, centre + half], dim=1).to(torch.int64)  # .to() rounds toward zero
    out = masks.new_zeros(len(masks), height, width)
    for i, (x1, y1, x2, y2) in enumerate(corners.tolist()):
        box_w, box_h = max(x2 - x1 + 1, 1), max(y2 - y1 + 1, 1)  # the corner pixels belong to the box
        resized = F.interpolate(padded[i][None, None], size=(box_h, box_w), mode="bilinear", align_corners=False)[0, 0]
        left, top = max(x1, 0), max(y1, 0)
        right, bottom = min(x2 + 1, width), min(y2 + 1, height)
        if right > left and bottom > top:
            out[i, top:bottom, left:right] = resized[top - y1:bottom - y1, left - x1:right - x1]
    return out
