"""The focal loss and the IoU-based box losses against torchvision.ops, on many random inputs."""

import pytest
import torch
import torchvision

from course_utils.detection import losses


def random_pairs(generator, n, dtype=torch.float64):
    xy = torch.rand(n, 2, generator=generator, dtype=dtype) * 50
    wh = torch.rand(n, 2, generator=generator, dtype=dtype) * 30 + 0.5
    boxes = torch.cat([xy, xy + wh], 1)
    shift = torch.randn(n, 2, generator=generator, dtype=dtype) * 10
    scale = torch.rand(n, 2, generator=generator, dtype=dtype) * 1.5 + 0.5
    centre = xy + wh / 2 + shift
    other = torch.cat([centre - wh * scale / 2, centre + wh * scale / 2], 1)
    return boxes, other


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_box_losses_equal_torchvision(reduction):
    generator = torch.Generator().manual_seed(0)
    for n in (1, 7, 500):
        a, b = random_pairs(generator, n)
        b[: n // 10] = a[: n // 10]  # identical boxes: zero loss
        for ours, theirs in [(losses.giou_loss, torchvision.ops.generalized_box_iou_loss),
                             (losses.diou_loss, torchvision.ops.distance_box_iou_loss),
                             (losses.ciou_loss, torchvision.ops.complete_box_iou_loss)]:
            torch.testing.assert_close(ours(a, b, reduction), theirs(a, b, reduction), rtol=0, atol=1e-12)


def test_box_losses_gradients_equal_torchvision():
    generator = torch.Generator().manual_seed(1)
    a, b = random_pairs(generator, 64)
    for ours, theirs in [(losses.giou_loss, torchvision.ops.generalized_box_iou_loss),
                         (losses.diou_loss, torchvision.ops.distance_box_iou_loss),
                         (losses.ciou_loss, torchvision.ops.complete_box_iou_loss)]:
        x, y = a.clone().requires_grad_(), a.clone().requires_grad_()
        ours(x, b, "sum").backward()
        theirs(y, b, "sum").backward()
        torch.testing.assert_close(x.grad, y.grad, rtol=0, atol=1e-12)


def test_box_losses_know_values_and_reject_bad_input():
    a = torch.tensor([[0.0, 0, 2, 2]])
    far = torch.tensor([[4.0, 0, 6, 2]])
    # no overlap: IoU 0, enclosing box 6 x 2 = 12, union 8: GIoU loss 1 + 4 / 12
    assert abs(float(losses.giou_loss(a, far)) - (1 + 4 / 12)) < 1e-6
    # centres 4 apart, enclosing diagonal^2 = 36 + 4: DIoU loss 1 + 16 / 40
    assert abs(float(losses.diou_loss(a, far)) - (1 + 16 / 40)) < 1e-6
    with pytest.raises(ValueError, match="must both have shape"):
        losses.giou_loss(a, torch.zeros(2, 4))
    with pytest.raises(ValueError, match="reduction must be one of"):
        losses.diou_loss(a, far, reduction="max")


@pytest.mark.parametrize("alpha,gamma", [(0.25, 2.0), (-1, 2.0), (0.5, 0.0), (0.9, 3.5)])
def test_focal_loss_equals_torchvision(alpha, gamma):
    generator = torch.Generator().manual_seed(2)
    logits = torch.randn(40, 11, generator=generator, dtype=torch.float64) * 3
    targets = (torch.rand(40, 11, generator=generator) < 0.2).double()
    for reduction in ("none", "mean", "sum"):
        torch.testing.assert_close(losses.sigmoid_focal_loss(logits, targets, alpha, gamma, reduction),
                                   torchvision.ops.sigmoid_focal_loss(logits, targets, alpha, gamma, reduction),
                                   rtol=0, atol=1e-12)
    # gamma = 0 and no alpha: binary cross-entropy
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    torch.testing.assert_close(losses.sigmoid_focal_loss(logits, targets, -1, 0.0), bce, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="alpha must be in"):
        losses.sigmoid_focal_loss(logits, targets, alpha=-0.5)
