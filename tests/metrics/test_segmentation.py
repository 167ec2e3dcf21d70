"""Segmentation metrics against torchmetrics (MulticlassJaccardIndex, MulticlassF1Score, MulticlassAccuracy)."""

import numpy as np
import pytest
import torch
from torchmetrics.classification import (MulticlassAccuracy, MulticlassConfusionMatrix, MulticlassF1Score,
                                         MulticlassJaccardIndex)

from course_utils.metrics import confusion_matrix, foreground_iou, segmentation_scores

IGNORE = 255


def random_maps(generator, n_classes, shape, absent=(), ignore_fraction=0.0, agreement=0.6):
    """A truth map and a prediction that agrees with it on about ``agreement`` of the pixels."""
    truth = torch.randint(0, n_classes, shape, generator=generator)
    predicted = torch.where(torch.rand(shape, generator=generator) < agreement, truth,
                            torch.randint(0, n_classes, shape, generator=generator))
    spare = min(set(range(n_classes)) - set(absent))
    for c in absent:  # a class nobody sees nor predicts
        truth[truth == c] = spare
        predicted[predicted == c] = spare
    if ignore_fraction:
        truth[torch.rand(shape, generator=generator) < ignore_fraction] = IGNORE
    return predicted, truth


CASES = [  # (n_classes, shape, absent classes, ignored fraction)
    (2, (64,), (), 0.0),
    (3, (4, 9, 7), (), 0.0),
    (11, (8, 32, 32), (), 0.0),
    (11, (8, 32, 32), (4, 7), 0.0),
    (11, (8, 32, 32), (), 0.2),
    (11, (2, 16, 16), (0, 10), 0.5),
    (5, (1, 3, 3), (), 0.0),
]


@pytest.mark.parametrize("n_classes, shape, absent, ignored", CASES)
def test_scores_equal_torchmetrics(n_classes, shape, absent, ignored):
    generator = torch.Generator().manual_seed(n_classes * 100 + len(shape))
    for trial in range(5):
        predicted, truth = random_maps(generator, n_classes, shape, absent, ignored, agreement=0.2 * trial + 0.1)
        ignore_index = IGNORE if ignored else None
        matrix = confusion_matrix(predicted, truth, n_classes, ignore_index=ignore_index)
        theirs = MulticlassConfusionMatrix(n_classes, ignore_index=ignore_index)(predicted.flatten(), truth.flatten())
        np.testing.assert_array_equal(matrix, theirs.numpy())
        scores = segmentation_scores(matrix)
        kw = dict(num_classes=n_classes, ignore_index=ignore_index)
        miou = MulticlassJaccardIndex(average="macro", **kw)(predicted, truth).item()
        dice = MulticlassF1Score(average="macro", multidim_average="global", **kw)(predicted, truth).item()
        accuracy = MulticlassAccuracy(average="micro", **kw)(predicted, truth).item()
        assert abs(scores["miou"] - miou) < 1e-6
        assert abs(scores["mean_dice"] - dice) < 1e-6
        assert abs(scores["pixel_accuracy"] - accuracy) < 1e-6
        per_class = MulticlassJaccardIndex(average="none", **kw)(predicted, truth).numpy()
        present = ~np.isnan(scores["iou"])
        np.testing.assert_allclose(scores["iou"][present], per_class[present], rtol=0, atol=1e-6)
        assert all(np.isnan(scores["iou"][c]) and np.isnan(scores["dice"][c]) for c in absent)


def test_mean_over_chosen_classes_and_dice_identity():
    generator = torch.Generator().manual_seed(1)
    predicted, truth = random_maps(generator, 11, (4, 20, 20))
    scores = segmentation_scores(confusion_matrix(predicted, truth, 11), classes=range(1, 11))
    assert scores["miou"] == pytest.approx(np.mean(scores["iou"][1:]), abs=1e-12)
    np.testing.assert_allclose(scores["dice"], 2 * scores["iou"] / (1 + scores["iou"]), rtol=0, atol=1e-12)


def test_edge_cases():
    perfect = np.array([[0, 1], [2, 2]])
    scores = segmentation_scores(confusion_matrix(perfect, perfect, 4))
    assert scores["miou"] == 1.0 and scores["pixel_accuracy"] == 1.0 and np.isnan(scores["iou"][3])
    # a class predicted but absent from the truth scores 0 and counts in the mean
    scores = segmentation_scores(confusion_matrix(np.array([1, 1]), np.array([0, 0]), 2))
    assert scores["iou"].tolist() == [0.0, 0.0] and scores["miou"] == 0.0
    # every pixel ignored: nothing to score
    scores = segmentation_scores(confusion_matrix(np.array([1]), np.array([IGNORE]), 2, ignore_index=IGNORE))
    assert np.isnan(scores["miou"]) and np.isnan(scores["pixel_accuracy"])
    assert foreground_iou(np.array([0, 3, 3, 0]), np.array([0, 2, 0, 0])) == 0.5
    assert foreground_iou(np.array([0, 3, 3]), np.array([0, 2, IGNORE]), ignore_index=IGNORE) == 1.0
    assert np.isnan(foreground_iou(np.zeros(3, int), np.zeros(3, int)))


def test_foreground_iou_equals_binary_jaccard():
    from torchmetrics.classification import BinaryJaccardIndex

    generator = torch.Generator().manual_seed(2)
    for _ in range(10):
        predicted, truth = random_maps(generator, 11, (4, 16, 16), agreement=0.5)
        theirs = BinaryJaccardIndex()((predicted > 0).long(), (truth > 0).long()).item()
        assert abs(foreground_iou(predicted, truth) - theirs) < 1e-6


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="same shape"):
        confusion_matrix(np.zeros((2, 2), int), np.zeros((2, 3), int), 3)
    with pytest.raises(ValueError, match="truth labels must lie in 0 .. 2"):
        confusion_matrix(np.zeros(3, int), np.array([0, 1, 5]), 3)
    with pytest.raises(ValueError, match="predicted labels"):
        confusion_matrix(np.array([0, -1]), np.zeros(2, int), 3)
    with pytest.raises(TypeError, match="predicted must hold integer"):
        confusion_matrix(np.zeros(2), np.zeros(2, int), 3)
    with pytest.raises(ValueError, match="matrix must be a square"):
        segmentation_scores(np.zeros((2, 3), int))
    with pytest.raises(ValueError, match="classes must be"):
        segmentation_scores(np.eye(3, dtype=int), classes=[3])


def test_boundary_map_and_f1():
    from course_utils.metrics import boundary_f1, boundary_map

    square = np.zeros((6, 6), int)
    square[2:4, 2:4] = 3
    edges = boundary_map(square)
    # the pixels left of / above a change, and the square's own right and lower rim
    assert edges.sum() == 7 and edges[1, 2] and edges[2, 1] and edges[3, 3] and not edges[0, 0]
    assert boundary_f1(square[None], square[None]) == 1.0
    shifted = np.roll(square, 1, axis=1)
    assert boundary_f1(shifted[None], square[None], tolerance=1) == 1.0
    assert boundary_f1(shifted[None], square[None], tolerance=0) < 1.0
    assert np.isnan(boundary_f1(np.zeros((1, 4, 4), int), np.zeros((1, 4, 4), int)))
    # boundaries do not see which class a region has, only where it ends
    assert boundary_f1(np.where(square == 3, 5, 0)[None], square[None]) == 1.0
    with pytest.raises(ValueError, match="class_map must be"):
        boundary_map(np.zeros(4, int))
