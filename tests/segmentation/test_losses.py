"""Segmentation losses and the class maps of a segmenter's outputs, against torch's own losses."""

import pytest
import torch
from torch.nn import functional as F

from course_utils.segmentation import (class_weights, dice_loss, predicted_classes, segmentation_loss,
                                       where_what_loss)

IGNORE = 255


def random_batch(generator, n=3, c=10, size=16, ignore_fraction=0.1):
    outputs = torch.randn(n, 1 + c, size, size, generator=generator, dtype=torch.float64)
    targets = torch.randint(0, 1 + c, (n, size, size), generator=generator)
    targets[torch.rand(n, size, size, generator=generator) < 0.6] = 0  # mostly background, as in the scenes
    targets[torch.rand(n, size, size, generator=generator) < ignore_fraction] = IGNORE
    return outputs, targets


def test_dice_loss_formula_and_extremes():
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 8, 8, generator=generator, dtype=torch.float64)
    targets = torch.rand(2, 8, 8, generator=generator) < 0.3
    p, t = torch.sigmoid(logits), targets.double()
    expected = 1 - (2 * (p * t).sum() + 1) / (p.sum() + t.sum() + 1)
    assert abs(dice_loss(logits, targets) - expected) < 1e-12
    sure = torch.where(targets, 50.0, -50.0).double()
    assert dice_loss(sure, targets) < 1e-12, "a certain, right prediction costs nothing"
    assert dice_loss(-sure, targets) > 0.99, "a certain, wrong one costs about 1"
    valid = torch.zeros_like(targets)
    assert dice_loss(-sure, targets, valid) == 0, "no valid pixel: nothing to get wrong"


def test_where_what_loss_equals_its_three_parts():
    generator = torch.Generator().manual_seed(1)
    for trial in range(5):
        outputs, targets = random_batch(generator, ignore_fraction=0.1 * trial)
        valid = targets != IGNORE
        foreground = (targets > 0) & valid
        bce = F.binary_cross_entropy_with_logits(outputs[:, 0][valid], foreground[valid].double())
        dice = dice_loss(outputs[:, 0], foreground, valid)
        ce = F.cross_entropy(outputs[:, 1:].permute(0, 2, 3, 1)[foreground], targets[foreground] - 1)
        assert abs(where_what_loss(outputs, targets, IGNORE) - (bce + dice + ce)) < 1e-12


def test_ignored_pixels_change_nothing():
    generator = torch.Generator().manual_seed(2)
    outputs, targets = random_batch(generator, ignore_fraction=0.3)
    changed = outputs.clone()
    changed.permute(0, 2, 3, 1)[targets == IGNORE] = 123.0
    for kind in ("where_what", "plain"):
        assert segmentation_loss(outputs, targets, kind) == segmentation_loss(changed, targets, kind)


def test_plain_loss_is_cross_entropy_with_weights():
    generator = torch.Generator().manual_seed(3)
    outputs, targets = random_batch(generator)
    weight = class_weights(targets, 11).double()
    expected = F.cross_entropy(outputs, targets, weight=weight, ignore_index=IGNORE)
    assert abs(segmentation_loss(outputs, targets, "plain", weight=weight) - expected) < 1e-12


def test_class_weights_are_median_frequency():
    targets = torch.tensor([0] * 80 + [1] * 10 + [2] * 5 + [3] * 5 + [IGNORE] * 7)
    weights = class_weights(targets, 5)
    frequency = torch.tensor([0.8, 0.1, 0.05, 0.05])
    median = frequency.median()  # torch's median of an even count is the lower middle value, 0.05
    torch.testing.assert_close(weights[:4], (median / frequency).float())
    assert weights[4] == 0, "a class never seen gets no weight"
    with pytest.raises(ValueError, match="no labelled pixel"):
        class_weights(torch.full((4,), IGNORE), 3)


def test_predicted_classes():
    outputs = torch.zeros(1, 4, 1, 3)
    outputs[0, 0] = torch.tensor([[-1.0, 1.0, 1.0]])  # foreground at the 2nd and 3rd pixel
    outputs[0, 1:, 0, 1] = torch.tensor([0.0, 5.0, 1.0])  # class 1 -> label 2
    outputs[0, 1:, 0, 2] = torch.tensor([0.0, 1.0, 5.0])  # class 2 -> label 3
    assert predicted_classes(outputs, "where_what").tolist() == [[[0, 2, 3]]]
    assert predicted_classes(outputs, "where_what", threshold=0.9).tolist() == [[[0, 0, 0]]]
    assert predicted_classes(outputs, "plain").tolist() == outputs.argmax(1).tolist()


def test_bad_inputs_name_the_argument():
    outputs = torch.zeros(2, 11, 4, 4)
    with pytest.raises(ValueError, match="targets must be"):
        segmentation_loss(outputs, torch.zeros(2, 4, 5, dtype=torch.int64))
    with pytest.raises(TypeError, match="int64 class map"):
        segmentation_loss(outputs, torch.zeros(2, 4, 4))
    with pytest.raises(ValueError, match="labels 0 .. 10"):
        segmentation_loss(outputs, torch.full((2, 4, 4), 11, dtype=torch.int64))
    with pytest.raises(ValueError, match="outputs must be"):
        segmentation_loss(torch.zeros(2, 4, 4), torch.zeros(2, 4, 4, dtype=torch.int64))
    with pytest.raises(ValueError, match="kind must be"):
        segmentation_loss(outputs, torch.zeros(2, 4, 4, dtype=torch.int64), kind="dice")
    with pytest.raises(ValueError, match="weight applies"):
        segmentation_loss(outputs, torch.zeros(2, 4, 4, dtype=torch.int64), weight=torch.ones(11))
