"""Anchor-free targets by centres: ownership, distances (decoding inverts them), centre-ness, one-to-one assignment."""

import itertools

import numpy as np
import pytest
import torch

from course_utils import data, models
from course_utils.detection import centers


def test_targets_decode_back_and_follow_the_rules():
    scenes = data.make_scenes(30, "train", seed=3)
    points = centers.location_centres(16, 4)
    for t in scenes.targets:
        got = centers.center_targets(t["boxes"], t["labels"], 16, 4, radius=1.5)
        positive = got["labels"] >= 0
        owner = got["object_index"][positive]
        boxes = torch.from_numpy(t["boxes"]).float()
        decoded = centers.decode_distances(got["distances"], 16, 4)[positive]
        torch.testing.assert_close(decoded, boxes[owner], rtol=0, atol=1e-4)
        assert torch.equal(got["labels"][positive], torch.from_numpy(t["labels"]).long()[owner])
        # a positive lies inside its object and within 1.5 cells of its centre; it owns the smallest such object
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        centre = (boxes[:, :2] + boxes[:, 2:]) / 2
        for location in range(len(points)):
            x, y = points[location].tolist()
            fits = [g for g in range(len(boxes)) if boxes[g, 0] < x < boxes[g, 2] and boxes[g, 1] < y < boxes[g, 3]
                    and abs(x - centre[g, 0]) < 6 and abs(y - centre[g, 1]) < 6]
            if fits:
                assert area[got["object_index"][location]] == min(area[g] for g in fits)
            else:
                assert got["object_index"][location] == -1 and got["labels"][location] == -1


def test_centerness_and_empty_images():
    assert float(centers.centerness(torch.tensor([3.0, 5.0, 3.0, 5.0]))) == 1.0
    assert abs(float(centers.centerness(torch.tensor([1.0, 2.0, 3.0, 8.0]))) - (1 / 3 * 2 / 8) ** 0.5) < 1e-7
    empty = centers.center_targets(np.zeros((0, 4)), np.zeros(0, int), 8, 8)
    assert (empty["labels"] == -1).all() and empty["distances"].shape == (64, 4)
    with pytest.raises(ValueError, match="labels must have one entry per box"):
        centers.center_targets(np.array([[0.0, 0, 5, 5]]), [1, 2], 8, 8)
    with pytest.raises(ValueError, match="distances must have shape"):
        centers.decode_distances(torch.zeros(10, 4), 8, 8)


def test_one_to_one_assignment_is_the_cheapest():
    generator = torch.Generator().manual_seed(0)
    for g, n in [(1, 1), (2, 5), (3, 6), (4, 4)]:
        cost = torch.rand(g, n, generator=generator)
        got = centers.one_to_one_assignment(cost)
        assert len(set(got.tolist())) == g  # no location twice
        best = min(sum(float(cost[i, c]) for i, c in enumerate(choice))
                   for choice in itertools.permutations(range(n), g))
        assert abs(sum(float(cost[i, c]) for i, c in enumerate(got.tolist())) - best) < 1e-9
    assert len(centers.one_to_one_assignment(torch.zeros(0, 5))) == 0
    with pytest.raises(ValueError, match="G <= L"):
        centers.one_to_one_assignment(torch.zeros(3, 2))


def test_center_detector_trains_one_step_with_both_heads():
    torch.manual_seed(0)
    model = models.CenterDetector(width=16)
    scenes = data.SceneDataset(data.make_scenes(4, "train", seed=0))
    images, targets = data.detection_collate([scenes[i] for i in range(4)])
    losses = model(images, targets)
    assert set(losses) == {"loss_classifier", "loss_box", "loss_centerness", "loss_classifier_o2o", "loss_box_o2o"}
    sum(losses.values()).backward()
    model.eval()
    for head, nms in itertools.product(("one_to_many", "one_to_one"), (True, False)):
        model.inference, model.nms = head, nms
        with torch.no_grad():
            out = model(images)
        assert len(out) == 4 and all(o["boxes"].shape[1] == 4 and len(o["boxes"]) <= 100 for o in out)
    model.inference = "both"
    with pytest.raises(ValueError, match="inference must be one of"):
        model(images)
