"""Semantic-segmentation metrics from one confusion matrix: pixel accuracy, per-class IoU, mIoU, Dice.

Every score here is a function of the confusion matrix accumulated over *all*
pixels of a data set (not an average of per-image scores): that is how VOC,
Cityscapes and ``torchmetrics`` report mIoU, and it keeps a class that
covers few pixels of one image from swinging the mean. Notebook 25.

Conventions (those of ``torchmetrics``' ``MulticlassJaccardIndex`` and
``MulticlassF1Score`` with ``average="macro"``):

* rows of the confusion matrix are the true class, columns the predicted one;
* pixels whose *true* label is ``ignore_index`` are left out entirely,
  whatever was predicted there (the ignore band of the scenes);
* a class absent from both the truth and the predictions has no IoU (NaN),
  and the means skip it; a class that is predicted but absent from the truth
  has IoU 0.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_int
from .edges import edge_scores

__all__ = ["confusion_matrix", "segmentation_scores", "foreground_iou", "boundary_map", "boundary_f1",
           "evaluate_segmenter"]


def _labels(value, name):
    try:  # torch tensors and numpy arrays alike, without importing torch here
        value = value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be an integer array of class labels, got {type(value).__name__}") from error
    if value.dtype == bool or not np.issubdtype(value.dtype, np.integer):
        raise TypeError(f"{name} must hold integer class labels, got dtype {value.dtype}")
    return value.astype(np.int64, copy=False)


def confusion_matrix(predicted, truth, n_classes, ignore_index=None):
    """Count pixels by (true class, predicted class).

    Parameters
    ----------
    predicted, truth : integer arrays of the same shape
        Class maps (numpy or torch, any shape, e.g. (N, H, W)); ``predicted``
        in ``0 .. n_classes - 1``, ``truth`` too, or ``ignore_index``.
    n_classes : int
    ignore_index : int, optional
        True label of pixels to leave out.

    Returns
    -------
    (n_classes, n_classes) int64 ndarray
        ``matrix[t, p]`` pixels of true class ``t`` predicted as ``p``.
    """
    n_classes = check_int(n_classes, "n_classes", minimum=1)
    predicted, truth = _labels(predicted, "predicted"), _labels(truth, "truth")
    if predicted.shape != truth.shape:
        raise ValueError(f"predicted and truth must have the same shape, got {predicted.shape} and {truth.shape}")
    if ignore_index is not None:
        ignore_index = check_int(ignore_index, "ignore_index")
        keep = truth != ignore_index
        predicted, truth = predicted[keep], truth[keep]
    for name, value in (("predicted", predicted), ("truth", truth)):
        if value.size and (value.min() < 0 or value.max() >= n_classes):
            extra = "" if ignore_index is None or name == "predicted" else f" (or ignore_index={ignore_index})"
            raise ValueError(f"{name} labels must lie in 0 .. {n_classes - 1}{extra}; "
                             f"found {int(value.min())} .. {int(value.max())}")
    counts = np.bincount(truth.ravel() * n_classes + predicted.ravel(), minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes)


def segmentation_scores(matrix, classes=None):
    """Pixel accuracy, per-class IoU and Dice, and their means, from a confusion matrix.

    Parameters
    ----------
    matrix : (C, C) integer array
        From :func:`confusion_matrix` (rows true class, columns predicted);
        add the matrices of several batches to score a whole data set.
    classes : sequence of int, optional
        The classes that the means average over (default all), e.g.
        ``range(1, C)`` to leave the background out of mIoU.

    Returns
    -------
    dict
        ``pixel_accuracy`` (float), ``iou`` and ``dice`` ((C,) arrays, NaN for
        a class absent from both truth and predictions), ``miou`` and
        ``mean_dice`` (means over ``classes``, NaN entries skipped).

    Notes
    -----
    For class c with TP, FP and FN pixel counts, IoU = TP / (TP + FP + FN)
    and Dice = F1 = 2 TP / (2 TP + FP + FN), so Dice = 2 IoU / (1 + IoU):
    the two rank per-class results alike, Dice is the kinder number.
    """
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or not np.issubdtype(matrix.dtype, np.integer):
        raise ValueError(f"matrix must be a square integer confusion matrix, got shape {matrix.shape}, "
                         f"dtype {matrix.dtype}")
    if (matrix < 0).any():
        raise ValueError("matrix must hold pixel counts (no negative entries)")
    n = matrix.shape[0]
    classes = np.arange(n) if classes is None else np.asarray(list(classes), dtype=np.int64)
    if classes.size == 0 or classes.min() < 0 or classes.max() >= n:
        raise ValueError(f"classes must be a non-empty selection of 0 .. {n - 1}, got {classes.tolist()}")
    matrix = matrix.astype(np.float64)
    tp = np.diag(matrix)
    fp, fn = matrix.sum(0) - tp, matrix.sum(1) - tp
    present = tp + fp + fn > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(present, tp / (tp + fp + fn), np.nan)
        dice = np.where(present, 2 * tp / (2 * tp + fp + fn), np.nan)
    total = matrix.sum()

    def mean(values):
        chosen = values[classes]
        return float(np.nanmean(chosen)) if np.isfinite(chosen).any() else float("nan")

    return {
        "pixel_accuracy": float(tp.sum() / total) if total else float("nan"),
        "iou": iou,
        "dice": dice,
        "miou": mean(iou),
        "mean_dice": mean(dice),
    }


def foreground_iou(predicted, truth, background=0, ignore_index=None):
    """IoU of "any object" against background: how well the objects are found, whatever their class.

    Parameters
    ----------
    predicted, truth : integer arrays of the same shape
        Class maps; every class other than ``background`` counts as foreground.
    background : int
    ignore_index : int, optional
        True label of pixels to leave out.

    Returns
    -------
    float
        |P ∩ T| / |P ∪ T| over foreground pixels (NaN when both are empty).
    """
    predicted, truth = _labels(predicted, "predicted"), _labels(truth, "truth")
    if predicted.shape != truth.shape:
        raise ValueError(f"predicted and truth must have the same shape, got {predicted.shape} and {truth.shape}")
    background = check_int(background, "background")
    keep = np.ones(truth.shape, dtype=bool) if ignore_index is None else truth != check_int(ignore_index, "ignore_index")
    p, t = (predicted != background) & keep, (truth != background) & keep
    union = np.count_nonzero(p | t)
    return float(np.count_nonzero(p & t) / union) if union else float("nan")


def boundary_map(class_map):
    """Pixels of a class map whose right or lower neighbour has another label (one-pixel-wide boundaries).

    Parameters
    ----------
    class_map : (H, W) integer array

    Returns
    -------
    (H, W) bool ndarray
    """
    class_map = _labels(class_map, "class_map")
    if class_map.ndim != 2:
        raise ValueError(f"class_map must be (H, W), got shape {class_map.shape}")
    edges = np.zeros(class_map.shape, dtype=bool)
    edges[:, :-1] |= class_map[:, :-1] != class_map[:, 1:]
    edges[:-1, :] |= class_map[:-1, :] != class_map[1:, :]
    return edges


def boundary_f1(predicted, truth, tolerance=1):
    """Boundary F1 ("BF score", Csurka et al. 2013): F1 of the class boundaries within a tolerance, per image.

    A predicted boundary pixel is right when a true one lies within
    ``tolerance`` pixels (chessboard distance), and the other way round for
    recall (:func:`course_utils.metrics.edge_scores`). It rewards sharp,
    well-placed edges, which mIoU, dominated by the interiors of large
    regions, barely sees.

    Parameters
    ----------
    predicted, truth : (N, H, W) integer arrays
        Class maps (labels, not the ignore band: pass maps without it).
    tolerance : int

    Returns
    -------
    float
        The mean over images of the per-image F1 (images without any true
        or predicted boundary are skipped; NaN when all are).
    """
    predicted, truth = _labels(predicted, "predicted"), _labels(truth, "truth")
    if predicted.shape != truth.shape or predicted.ndim != 3:
        raise ValueError(f"predicted and truth must both be (N, H, W), got {predicted.shape} and {truth.shape}")
    scores = []
    for p, t in zip(predicted, truth):
        p_edges, t_edges = boundary_map(p), boundary_map(t)
        if p_edges.any() or t_edges.any():
            scores.append(edge_scores(p_edges, t_edges, tolerance=tolerance)["f1"])
    return float(np.mean(scores)) if scores else float("nan")


def evaluate_segmenter(model, images, class_maps, kind="where_what", n_classes=10, batch_size=50, ignore_index=255):
    """Every score of notebook 25 for a segmenter on held-out scenes, in eval mode, without gradients.

    Parameters
    ----------
    model : torch.nn.Module
        Maps (N, 1, H, W) images to (N, 1 + C, H, W) logits.
    images : (N, 1, H, W) tensor
    class_maps : (N, H, W) int64 tensor
        True maps, 0 background, c + 1 class c (``ignore_index`` left out of
        the pixel scores; boundaries are scored on the maps as they are).
    kind : {"where_what", "plain"}
        How to read the outputs (:func:`course_utils.segmentation.predicted_classes`).
    n_classes : int
    batch_size : int

    Returns
    -------
    dict
        ``miou`` (mean IoU of the C object classes, background excluded),
        ``miou_all`` (background included), ``iou`` (per label),
        ``foreground_iou``, ``pixel_accuracy``, ``mean_dice`` (object
        classes), ``boundary_f1`` (tolerance 1 pixel) and ``predicted``, the
        predicted class maps.
    """
    import torch

    from ..segmentation import predicted_classes
    from ..train import eval_mode

    n_classes = check_int(n_classes, "n_classes", minimum=1)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise ValueError("images must be an (N, 1, H, W) tensor")
    if not isinstance(class_maps, torch.Tensor) or class_maps.shape != images.shape[:1] + images.shape[2:]:
        raise ValueError(f"class_maps must be an (N, H, W) tensor matching images {tuple(images.shape)}")
    with eval_mode(model):  # eval mode, no gradients
        predicted = torch.cat([predicted_classes(model(images[i:i + batch_size]), kind)
                               for i in range(0, len(images), batch_size)])
    matrix = confusion_matrix(predicted, class_maps, n_classes + 1, ignore_index=ignore_index)
    objects = segmentation_scores(matrix, classes=range(1, n_classes + 1))
    return {
        "miou": objects["miou"],
        "miou_all": segmentation_scores(matrix)["miou"],
        "iou": objects["iou"],
        "foreground_iou": foreground_iou(predicted, class_maps, ignore_index=ignore_index),
        "pixel_accuracy": objects["pixel_accuracy"],
        "mean_dice": objects["mean_dice"],
        "boundary_f1": boundary_f1(predicted, class_maps),
        "predicted": predicted,
    }
