"""Losses of localization and detection: smooth L1, and the class + box loss of a one-object localizer.
"""

from __future__ import annotations

import torch

from .._checks import check_choice, check_number

__all__ = [
    "smooth_l1",
    "LocalizationLoss",
]


def smooth_l1(input, target, beta=1.0, reduction="mean"):
    """Smooth L1 (Huber-like) loss: quadratic near zero, linear far away.

    .. math::
        \\ell(d) = \\begin{cases} 0.5\\, d^2 / \\beta & |d| < \\beta \\\\
                               |d| - 0.5\\, \\beta & \\text{otherwise} \\end{cases}

    with ``d = input - target``. It has L2's smooth minimum and L1's
    bounded gradient for outliers (Fast R-CNN's box loss);
    ``torch.nn.functional.smooth_l1_loss`` computes the same.

    Parameters
    ----------
    input, target : tensor
        Same shape.
    beta : float
        Where the quadratic part ends (> 0).
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    tensor
    """
    if not isinstance(input, torch.Tensor) or not isinstance(target, torch.Tensor):
        raise TypeError(f"input and target must be torch tensors, got {type(input).__name__} and {type(target).__name__}")
    if input.shape != target.shape:
        raise ValueError(f"target must have the shape of input {tuple(input.shape)}, got {tuple(target.shape)}")
    beta = check_number(beta, "beta", minimum=0, strict_minimum=True)
    reduction = check_choice(reduction, "reduction", ("mean", "sum", "none"))
    d = (input - target).abs()
    loss = torch.where(d < beta, 0.5 * d**2 / beta, d - 0.5 * beta)
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


class LocalizationLoss:
    """Multi-task loss of a classifier-localizer: ``CE(class) + box_weight * box_loss(box)``.

    The model outputs one (B, C + 4) tensor, the C class scores followed by
    the 4 box numbers (or a pair ``(class_logits, boxes)``), and the target
    is a (B, 5) tensor: the class, then the four box numbers (in whatever
    format and scale the model predicts).

    Parameters
    ----------
    box_weight : float
        Weight of the box term (>= 0). Its value changes the loss's scale,
        so losses with different weights cannot be compared: choose it on a
        validation *metric* (accuracy, IoU).
    box_loss : {"smooth_l1", "l1", "l2"}
    beta : float
        ``beta`` of :func:`smooth_l1`.
    """

    def __init__(self, box_weight=1.0, box_loss="smooth_l1", beta=1.0):
        self.box_weight = check_number(box_weight, "box_weight", minimum=0)
        self.box_loss = check_choice(box_loss, "box_loss", ("smooth_l1", "l1", "l2"))
        self.beta = check_number(beta, "beta", minimum=0, strict_minimum=True)

    def box_term(self, predicted, target):
        """Mean box loss over the batch's box numbers."""
        if self.box_loss == "smooth_l1":
            return smooth_l1(predicted, target, self.beta)
        d = predicted - target
        return d.abs().mean() if self.box_loss == "l1" else (d**2).mean()

    def __call__(self, outputs, target):
        logits, boxes = outputs if isinstance(outputs, (tuple, list)) else (outputs[:, :-4], outputs[:, -4:])
        labels = target[:, 0].long()
        classification = torch.nn.functional.cross_entropy(logits, labels)
        return classification + self.box_weight * self.box_term(boxes, target[:, 1:])
