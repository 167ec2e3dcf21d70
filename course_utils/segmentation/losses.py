"""Per-pixel losses for semantic segmentation, and the class map a segmenter's outputs stand for.

Two ways to read a segmenter's ``(N, 1 + C, H, W)`` output (notebook 25):

* **plain**: 1 + C class logits per pixel (background and the C classes),
  one softmax, per-pixel cross-entropy (FCN's loss), optionally with class
  weights (:func:`class_weights`);
* **where / what**: channel 0 is a *foreground* logit (is there an object
  here?, binary cross-entropy + Dice), channels 1 .. C the object's class
  (cross-entropy on the foreground pixels only). Background pixels, most of
  the image, then no longer teach the class branch anything, and "which
  digit" can be read from coarse, deep features while "where exactly" comes
  from fine ones.

Class maps follow the scenes' semantic view: 0 background, ``c + 1`` for class
``c``, ``ignore_index`` where the truth is uncertain.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from .._checks import check_choice, check_int, check_number

__all__ = ["dice_loss", "where_what_loss", "segmentation_loss", "class_weights", "predicted_classes"]


def _check_outputs(outputs, targets, ignore_index):
    if not isinstance(outputs, torch.Tensor) or outputs.ndim != 4 or outputs.shape[1] < 2:
        raise ValueError(f"outputs must be (N, 1 + C, H, W) logits with C >= 1, got "
                         f"{tuple(outputs.shape) if isinstance(outputs, torch.Tensor) else type(outputs).__name__}")
    if not isinstance(targets, torch.Tensor) or targets.dtype != torch.int64:
        raise TypeError(f"targets must be an int64 class map (N, H, W), got "
                        f"{targets.dtype if isinstance(targets, torch.Tensor) else type(targets).__name__}")
    if targets.shape != outputs.shape[:1] + outputs.shape[2:]:
        raise ValueError(f"targets must be (N, H, W) = {tuple(outputs.shape[:1] + outputs.shape[2:])}, "
                         f"got {tuple(targets.shape)}")
    valid = targets != ignore_index
    n_labels = outputs.shape[1]
    if valid.any() and (targets[valid].min() < 0 or targets[valid].max() >= n_labels):
        raise ValueError(f"targets must hold labels 0 .. {n_labels - 1} (or ignore_index={ignore_index}), "
                         f"found {int(targets[valid].min())} .. {int(targets[valid].max())}")
    return valid


def dice_loss(logits, targets, valid=None, smooth=1.0):
    """Soft Dice loss of a binary map: 1 - (2 |P T| + s) / (|P| + |T| + s), over the whole batch.

    Parameters
    ----------
    logits : (N, H, W) tensor
        Foreground logits; P = sigmoid(logits).
    targets : (N, H, W) tensor of 0 / 1
    valid : (N, H, W) bool tensor, optional
        Pixels that count (default all).
    smooth : float
        Keeps the loss defined (and 0) when both maps are empty.

    Returns
    -------
    tensor (scalar)
    """
    smooth = check_number(smooth, "smooth", minimum=0.0)
    if logits.shape != targets.shape:
        raise ValueError(f"logits and targets must have the same shape, got {tuple(logits.shape)} and "
                         f"{tuple(targets.shape)}")
    p, t = torch.sigmoid(logits), targets.to(logits.dtype)
    if valid is not None:
        p, t = p * valid, t * valid
    return 1 - (2 * (p * t).sum() + smooth) / (p.sum() + t.sum() + smooth)


def where_what_loss(outputs, targets, ignore_index=255):
    """BCE + Dice on the foreground channel, plus cross-entropy of the class channels on foreground pixels.

    Parameters
    ----------
    outputs : (N, 1 + C, H, W) tensor
        Channel 0 the foreground logit, channels 1 .. C the class logits.
    targets : (N, H, W) int64 tensor
        0 background, ``c + 1`` class c, ``ignore_index`` left out.
    ignore_index : int

    Returns
    -------
    tensor (scalar)
    """
    valid = _check_outputs(outputs, targets, ignore_index)
    where, what = outputs[:, 0], outputs[:, 1:]
    foreground = (targets > 0) & valid
    bce = F.binary_cross_entropy_with_logits(where[valid], foreground[valid].to(where.dtype)) if valid.any() \
        else where.sum() * 0
    loss = bce + dice_loss(where, foreground, valid)
    if foreground.any():
        # class logits of the foreground pixels only: (pixels, C) against their classes 0 .. C - 1
        loss = loss + F.cross_entropy(what.permute(0, 2, 3, 1)[foreground], targets[foreground] - 1)
    return loss


def segmentation_loss(outputs, targets, kind="where_what", weight=None, ignore_index=255):
    """The loss of a segmenter's outputs, read the ``"plain"`` or the ``"where_what"`` way (module docstring).

    Parameters
    ----------
    outputs : (N, 1 + C, H, W) tensor
    targets : (N, H, W) int64 tensor
    kind : {"where_what", "plain"}
    weight : (1 + C,) tensor, optional
        Class weights of the plain cross-entropy (:func:`class_weights`).
    ignore_index : int

    Returns
    -------
    tensor (scalar)
    """
    kind = check_choice(kind, "kind", ("where_what", "plain"))
    if kind == "where_what":
        if weight is not None:
            raise ValueError("weight applies to the plain cross-entropy only")
        return where_what_loss(outputs, targets, ignore_index)
    _check_outputs(outputs, targets, ignore_index)
    return F.cross_entropy(outputs, targets, weight=weight, ignore_index=ignore_index)


def class_weights(targets, n_labels, ignore_index=255):
    """Median-frequency class weights (SegNet, after Eigen & Fergus 2015): median(f) / f_c.

    A class covering few pixels gets a large weight, so that the plain
    cross-entropy stops rewarding "background everywhere".

    Parameters
    ----------
    targets : int64 tensor
        Class maps, labels 0 .. n_labels - 1 (or ``ignore_index``).
    n_labels : int

    Returns
    -------
    (n_labels,) float32 tensor
        Classes never seen get weight 0 (they cannot be learned from these maps).
    """
    n_labels = check_int(n_labels, "n_labels", minimum=2)
    labels = targets[targets != ignore_index]
    if labels.numel() and (labels.min() < 0 or labels.max() >= n_labels):
        raise ValueError(f"targets must hold labels 0 .. {n_labels - 1} (or ignore_index={ignore_index})")
    frequency = torch.bincount(labels, minlength=n_labels).double()
    frequency = frequency / frequency.sum().clamp(min=1)
    seen = frequency > 0
    if not seen.any():
        raise ValueError("targets hold no labelled pixel")
    weights = torch.zeros(n_labels, dtype=torch.float64)
    weights[seen] = frequency[seen].median() / frequency[seen]
    return weights.float()


def predicted_classes(outputs, kind="where_what", threshold=0.5):
    """The class map (0 background, c + 1 class c) that a segmenter's outputs stand for.

    Parameters
    ----------
    outputs : (N, 1 + C, H, W) tensor
    kind : {"where_what", "plain"}
        "plain": the arg-max of the 1 + C logits. "where_what": background
        where sigmoid(channel 0) < ``threshold``, else 1 + the arg-max of the
        class channels.
    threshold : float

    Returns
    -------
    (N, H, W) int64 tensor
    """
    kind = check_choice(kind, "kind", ("where_what", "plain"))
    if not isinstance(outputs, torch.Tensor) or outputs.ndim != 4 or outputs.shape[1] < 2:
        raise ValueError("outputs must be (N, 1 + C, H, W) logits with C >= 1")
    outputs = outputs.detach()
    if kind == "plain":
        return outputs.argmax(dim=1)
    threshold = check_number(threshold, "threshold", minimum=0.0, maximum=1.0)
    found = torch.sigmoid(outputs[:, 0]) >= threshold
    return torch.where(found, outputs[:, 1:].argmax(dim=1) + 1, 0)
