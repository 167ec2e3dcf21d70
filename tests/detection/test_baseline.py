"""Tests of course_utils.detection.baseline: thresholding plus connected components."""

import numpy as np
import pytest
import torch

from course_utils import data, detection, metrics


def test_boxes_are_tight_corners_of_each_blob_scored_by_size():
    image = np.zeros((20, 30), np.float32)
    image[2:5, 3:9] = 1.0  # 18 pixels: rows 2-4, columns 3-8 -> box (3, 2, 9, 5)
    image[10:18, 20:22] = 0.8  # 16 pixels
    image[10, 10] = 0.9  # one pixel: a speck below min_area
    image[11, 11] = 0.9  # touches (10, 10) diagonally: 8-connected, one region of 2 pixels
    boxes, scores = detection.connected_component_boxes(image, threshold=0.5, min_area=3)
    np.testing.assert_array_equal(boxes, [[3, 2, 9, 5], [20, 10, 22, 18]])
    np.testing.assert_allclose(scores, [1.0, 16 / 18])
    assert boxes.dtype == np.float32 and scores.dtype == np.float32
    boxes, _ = detection.connected_component_boxes(image, threshold=0.5, min_area=2)
    assert [10, 10, 12, 12] in boxes.tolist()
    # the default threshold (Otsu) separates the blobs from a dark, noisy background
    noisy = image + np.random.default_rng(0).uniform(0, 0.2, image.shape).astype(np.float32)
    boxes, _ = detection.connected_component_boxes(noisy, min_area=3)
    np.testing.assert_array_equal(boxes, [[3, 2, 9, 5], [20, 10, 22, 18]])
    # tensors, constant and empty images
    assert len(detection.connected_component_boxes(torch.from_numpy(image), threshold=0.5)[0]) == 2
    for flat in (np.zeros((8, 8)), np.ones((8, 8))):
        boxes, scores = detection.connected_component_boxes(flat)
        assert boxes.shape == (0, 4) and scores.shape == (0,)


def test_the_baseline_finds_simple_scenes_and_fails_standard_ones():
    """The claim of notebook 17, with its margins, on other scenes than the notebook's."""
    recall = {}
    for preset in ("simple", "standard"):
        scenes = data.make_scenes(150, "val", preset=preset, seed=11)
        found = []
        for image, _ in scenes:
            boxes, scores = detection.connected_component_boxes(image)
            found.append({"boxes": boxes, "scores": scores, "labels": np.zeros(len(boxes), int)})
        truth = [{"boxes": t["boxes"], "labels": np.zeros(len(t["boxes"]), int)} for t in scenes.targets]
        recall[preset] = metrics.detection_counts(found, truth)["recall"]
    assert recall["simple"] > 0.75 and recall["standard"] < 0.6


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"image": np.zeros((4, 4, 3))}, ValueError, "image must be a 2-D array"),
        ({"image": np.zeros((4, 4)), "min_area": 0}, ValueError, "min_area must be >= 1"),
        ({"image": np.zeros((4, 4)), "threshold": "high"}, TypeError, "threshold must be"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, error, words):
    with pytest.raises(error, match=words):
        detection.connected_component_boxes(**kwargs)
