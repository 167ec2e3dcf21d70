"""Losses of localization and detection: smooth L1, the class + box loss of a one-object localizer,
the focal loss and the IoU-based box losses (GIoU, DIoU, CIoU) of single-stage detectors.
"""

from __future__ import annotations

import torch

from .._checks import check_choice, check_number

__all__ = [
    "smooth_l1",
    "LocalizationLoss",
    "sigmoid_focal_loss",
    "giou_loss",
    "diou_loss",
    "ciou_loss",
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


def _reduce(loss, reduction):
    reduction = check_choice(reduction, "reduction", ("none", "mean", "sum"))
    if reduction == "mean":
        return loss.mean() if loss.numel() else loss.sum() * 0.0
    return loss.sum() if reduction == "sum" else loss


def sigmoid_focal_loss(logits, targets, alpha=0.25, gamma=2.0, reduction="none"):
    r"""Focal loss (Lin et al., RetinaNet, 2017): cross-entropy that fades on examples already right.

    .. math:: FL = -\alpha_t (1 - p_t)^{\gamma} \log p_t

    with :math:`p_t` the probability given to the true answer (``p`` for a
    target 1, ``1 - p`` for a target 0) and :math:`\alpha_t = \alpha` for
    targets 1, :math:`1 - \alpha` for 0. With :math:`\gamma = 0` and no
    :math:`\alpha` it is binary cross-entropy. A dense detector scores tens
    of thousands of easy background locations; the factor
    :math:`(1 - p_t)^{\gamma}` makes their loss vanish, so no sampling or hard
    negative mining is needed. Equal to ``torchvision.ops.sigmoid_focal_loss``.

    Parameters
    ----------
    logits, targets : tensors of one shape
        Targets in [0, 1].
    alpha : float in [0, 1], or -1 for no weighting
    gamma : float >= 0
    reduction : {"none", "mean", "sum"}
    """
    if not isinstance(logits, torch.Tensor) or not isinstance(targets, torch.Tensor) or logits.shape != targets.shape:
        raise ValueError("logits and targets must be tensors of one shape")
    alpha = check_number(alpha, "alpha", minimum=-1, maximum=1)
    if -1 < alpha < 0:
        raise ValueError(f"alpha must be in [0, 1], or -1 for no weighting, got {alpha}")
    gamma = check_number(gamma, "gamma", minimum=0)
    targets = targets.to(logits.dtype)
    p = torch.sigmoid(logits)
    p_true = p * targets + (1 - p) * (1 - targets)  # also right for soft targets
    cross_entropy = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    loss = (1 - p_true) ** gamma * cross_entropy
    if alpha >= 0:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    return _reduce(loss, reduction)


def _pairs(boxes, reference):
    r"""Checked corner boxes of one shape (..., 4), as floating tensors."""
    if not isinstance(boxes, torch.Tensor) or not isinstance(reference, torch.Tensor):
        raise TypeError("boxes and reference must be torch tensors")
    if boxes.shape != reference.shape or boxes.shape[-1:] != (4,):
        raise ValueError(f"boxes and reference must both have shape (..., 4), got {tuple(boxes.shape)} and "
                         f"{tuple(reference.shape)}")
    dtype = torch.promote_types(torch.promote_types(boxes.dtype, reference.dtype), torch.float32)
    return boxes.to(dtype), reference.to(dtype)


def _overlap_terms(boxes, reference, eps):
    r"""IoU, and the smallest enclosing box's corners, of corresponding boxes."""
    x1, y1, x2, y2 = boxes.unbind(-1)
    u1, v1, u2, v2 = reference.unbind(-1)
    inter = (torch.minimum(x2, u2) - torch.maximum(x1, u1)).clamp(min=0) * \
        (torch.minimum(y2, v2) - torch.maximum(y1, v1)).clamp(min=0)
    union = (x2 - x1) * (y2 - y1) + (u2 - u1) * (v2 - v1) - inter
    iou = inter / (union + eps)
    enclosing = (torch.minimum(x1, u1), torch.minimum(y1, v1), torch.maximum(x2, u2), torch.maximum(y2, v2))
    return iou, union, enclosing


def giou_loss(boxes, reference, reduction="none", eps=1e-7):
    r"""Generalized IoU loss (Rezatofighi et al., 2019): ``1 - GIoU`` of corresponding boxes.

    .. math:: 1 - \mathrm{IoU} + \frac{|C| - |A \cup B|}{|C|}

    with C the smallest box enclosing both: unlike ``1 - IoU``, it still
    pulls two boxes that do not overlap towards each other. Equal to
    ``torchvision.ops.generalized_box_iou_loss``.

    Parameters
    ----------
    boxes, reference : (..., 4) tensors
        Corner boxes; row i of one goes with row i of the other.
    reduction : {"none", "mean", "sum"}
    eps : float
        Keeps the divisions finite for empty boxes.
    """
    boxes, reference = _pairs(boxes, reference)
    iou, union, (c1, d1, c2, d2) = _overlap_terms(boxes, reference, eps)
    enclosing = (c2 - c1) * (d2 - d1)
    return _reduce(1 - iou + (enclosing - union) / (enclosing + eps), reduction)


def _diou(boxes, reference, eps):
    iou, _, (c1, d1, c2, d2) = _overlap_terms(boxes, reference, eps)
    diagonal = (c2 - c1) ** 2 + (d2 - d1) ** 2 + eps
    centre = ((boxes[..., 0] + boxes[..., 2]) - (reference[..., 0] + reference[..., 2])) ** 2 / 4 + \
        ((boxes[..., 1] + boxes[..., 3]) - (reference[..., 1] + reference[..., 3])) ** 2 / 4
    return 1 - iou + centre / diagonal, iou


def diou_loss(boxes, reference, reduction="none", eps=1e-7):
    r"""Distance IoU loss (Zheng et al., 2020): ``1 - IoU`` plus the squared centre distance over the squared
    diagonal of the enclosing box.

    .. math:: 1 - \mathrm{IoU} + \frac{\rho^2(b, b^*)}{c^2}

    It pulls the centres together directly, which GIoU does only once the
    boxes overlap. Equal to ``torchvision.ops.distance_box_iou_loss``.
    Parameters as for :func:`giou_loss`.
    """
    boxes, reference = _pairs(boxes, reference)
    return _reduce(_diou(boxes, reference, eps)[0], reduction)


def ciou_loss(boxes, reference, reduction="none", eps=1e-7):
    r"""Complete IoU loss (Zheng et al., 2020): DIoU plus a penalty on different aspect ratios.

    .. math:: \mathcal{L}_{DIoU} + \alpha v,\quad
              v = \frac{4}{\pi^2}\Big(\arctan\frac{w^*}{h^*} - \arctan\frac{w}{h}\Big)^2,\quad
              \alpha = \frac{v}{1 - \mathrm{IoU} + v}

    (:math:`\alpha` is a weight, not differentiated). Equal to
    ``torchvision.ops.complete_box_iou_loss``, whose DIoU part always uses
    ``eps = 1e-7``. Parameters as for :func:`giou_loss`.
    """
    boxes, reference = _pairs(boxes, reference)
    distance, iou = _diou(boxes, reference, 1e-7)
    shape = boxes[..., 2:] - boxes[..., :2]
    wanted = reference[..., 2:] - reference[..., :2]
    v = 4 / torch.pi**2 * (torch.atan(wanted[..., 0] / wanted[..., 1]) - torch.atan(shape[..., 0] / shape[..., 1])) ** 2
    with torch.no_grad():
        alpha = v / (1 - iou + v + eps)
    return _reduce(distance + alpha * v, reduction)
