"""How well a predicted edge map matches a true one, with a small spatial tolerance (Part 1).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from .._checks import check_array, check_int

__all__ = [
    "edge_scores",
]


def edge_scores(predicted, truth, tolerance=1):
    """Precision, recall and F1 of an edge map, with a distance tolerance.

    A predicted edge pixel is correct when a true edge pixel lies within
    ``tolerance`` pixels of it (chessboard distance); a true edge pixel is
    found when a predicted one lies that close.

    Parameters
    ----------
    predicted, truth : (H, W) array_like of bool
        Edge maps of the same shape.
    tolerance : int
        Allowed displacement in pixels; 0 demands the exact pixel.

    Returns
    -------
    dict
        ``precision``, ``recall`` and ``f1`` (each 0 when undefined).
    """
    predicted = check_array(predicted, "predicted", ndim=2).astype(bool)
    truth = check_array(truth, "truth", ndim=2).astype(bool)
    if predicted.shape != truth.shape:
        raise ValueError(f"truth must have the shape of predicted {predicted.shape}, got {truth.shape}")
    tolerance = check_int(tolerance, "tolerance", minimum=0)

    def near(mask):
        # Grow a mask by `tolerance` pixels in every direction (a square).
        if tolerance == 0:
            return mask
        return ndi.binary_dilation(mask, structure=np.ones((2 * tolerance + 1,) * 2, bool))

    correct = np.count_nonzero(predicted & near(truth))
    found = np.count_nonzero(truth & near(predicted))
    precision = correct / max(np.count_nonzero(predicted), 1)
    recall = found / max(np.count_nonzero(truth), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {"precision": float(precision), "recall": float(recall), "f1": float(f1)}
