"""YOLO's grid rules: shape IoU, k-means anchors, targets, decoding (its exact inverse), loss, detections."""

import numpy as np
import pytest
import torch

from course_utils import data, detection, models
from course_utils.detection import yolo


def random_boxes(generator, n, size=64.0):
    xy = torch.rand(n, 2, generator=generator, dtype=torch.float64) * (size - 12)
    wh = 3 + torch.rand(n, 2, generator=generator, dtype=torch.float64) * (size - xy - 3).clamp(min=1)
    return torch.cat([xy, (xy + wh).clamp(max=size)], dim=1)


def test_shape_iou_is_the_iou_of_boxes_on_one_centre():
    generator = torch.Generator().manual_seed(0)
    a = 1 + torch.rand(30, 2, generator=generator, dtype=torch.float64) * 40
    b = 1 + torch.rand(7, 2, generator=generator, dtype=torch.float64) * 40
    centred = lambda s: torch.cat([-s / 2, s / 2], dim=1)  # noqa: E731
    torch.testing.assert_close(yolo.shape_iou(a, b), detection.box_iou(centred(a), centred(b)), rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="sizes_a must have shape"):
        yolo.shape_iou(torch.zeros(3, 4), b)
    with pytest.raises(ValueError, match="positive"):
        yolo.shape_iou(torch.tensor([[0.0, 2.0]]), b)


def test_kmeans_anchors_is_a_fixed_point_and_beats_bad_anchors():
    scenes = data.make_scenes(200, "train", seed=0)
    wh = np.concatenate([t["boxes"][:, 2:] - t["boxes"][:, :2] for t in scenes.targets])
    anchors = yolo.kmeans_anchors(wh, 5, seed=0)
    assert anchors.shape == (5, 2) and bool((anchors[1:].prod(1) >= anchors[:-1].prod(1)).all())
    # a fixed point of Lloyd's iteration: every anchor is the mean shape of the boxes closest to it
    sizes = torch.as_tensor(wh, dtype=torch.float64)
    closest = yolo.shape_iou(sizes, anchors).argmax(1)
    for c in range(5):
        torch.testing.assert_close(anchors[c], sizes[closest == c].mean(0), rtol=0, atol=1e-9)
    assert torch.equal(yolo.kmeans_anchors(wh, 5, seed=0), anchors)  # seeded
    squares = torch.tensor([[12.0, 12.0], [20.0, 20.0], [32.0, 32.0], [8.0, 8.0], [44.0, 44.0]])
    assert yolo.mean_best_iou(wh, anchors) > yolo.mean_best_iou(wh, squares) + 0.05
    with pytest.raises(ValueError, match="k must be at most"):
        yolo.kmeans_anchors(wh[:3], 4)


def test_targets_decode_back_to_the_boxes():
    generator = torch.Generator().manual_seed(1)
    anchors = torch.tensor([[8.0, 14.0], [14.0, 22.0], [22.0, 34.0]], dtype=torch.float64)
    for trial in range(20):
        boxes = random_boxes(generator, int(torch.randint(0, 6, (1,), generator=generator)))
        labels = torch.randint(0, 10, (len(boxes),), generator=generator)
        t = yolo.yolo_targets(boxes, labels, anchors, 8, 8)
        responsible = t["objectness"] > 0
        decoded = yolo.decode_yolo(t["offsets"], t["log_sizes"], anchors, 8)[responsible]
        which = t["object_index"][responsible]
        torch.testing.assert_close(decoded, boxes[which], rtol=0, atol=1e-9)
        assert torch.equal(t["labels"][responsible], labels[which])
        assert bool((t["offsets"][responsible] >= 0).all() and (t["offsets"][responsible] < 1).all())
        # each object is in the cell of its centre, with the anchor of the best shape (or lost to a larger one)
        centres = (boxes[:, :2] + boxes[:, 2:]) / 2
        for g in range(len(boxes)):
            j, i = (centres[g] // 8).long().tolist()
            k = int(yolo.shape_iou(boxes[g:g + 1, 2:] - boxes[g:g + 1, :2], anchors).argmax())
            owner = int(t["object_index"][i, j, k])
            assert owner == g or (boxes[owner, 2:] - boxes[owner, :2]).prod() >= (boxes[g, 2:] - boxes[g, :2]).prod()


def test_targets_of_an_empty_image_and_bad_input():
    anchors = torch.tensor([[10.0, 10.0]])
    t = yolo.yolo_targets(torch.zeros(0, 4), torch.zeros(0, dtype=torch.int64), anchors, 4, 16)
    assert t["objectness"].shape == (4, 4, 1) and t["objectness"].sum() == 0 and (t["labels"] == -1).all()
    with pytest.raises(ValueError, match="labels must have one entry per box"):
        yolo.yolo_targets(torch.tensor([[0.0, 0, 5, 5]]), torch.zeros(2), anchors, 4, 16)
    with pytest.raises(ValueError, match="stride must be > 0"):
        yolo.yolo_targets(torch.tensor([[0.0, 0, 5, 5]]), torch.zeros(1), anchors, 4, 0)
    with pytest.raises(ValueError, match="offsets and log_sizes must both have shape"):
        yolo.decode_yolo(torch.zeros(4, 4, 2), torch.zeros(4, 4, 2), anchors, 8)


def test_loss_is_small_on_its_own_targets_and_detections_find_the_boxes():
    generator = torch.Generator().manual_seed(2)
    anchors = torch.tensor([[8.0, 14.0], [14.0, 22.0], [22.0, 34.0]])
    boxes = torch.tensor([[4.0, 4, 16, 22], [30, 20, 52, 56]])
    labels = torch.tensor([3, 7])
    t = yolo.yolo_targets(boxes, labels, anchors, 8, 8)
    # raw outputs that say exactly the targets (logits of the offsets, confident objectness and classes)
    raw = torch.randn(1, 8, 8, 3, 15, generator=generator)
    responsible = t["objectness"] > 0
    raw[..., 0] = torch.where(responsible, 12.0, -12.0)
    raw[..., 1:3] = torch.logit(t["offsets"].float().clamp(1e-6, 1 - 1e-6))
    raw[..., 3:5] = t["log_sizes"].float()
    raw[..., 5:] = -12.0
    raw[0, ..., 5:][responsible] = torch.nn.functional.one_hot(t["labels"][responsible], 10).float() * 24 - 12
    losses = yolo.yolo_loss(raw, [t])
    assert losses["loss_objectness"] < 1e-3 and losses["loss_classifier"] < 1e-3
    # the centre loss is a cross-entropy against soft targets: its floor is their entropy, reached here
    found = yolo.yolo_detections(raw, anchors, 8, (64, 64))[0]
    assert len(found["boxes"]) == 2 and sorted(found["labels"].tolist()) == [3, 7]
    torch.testing.assert_close(found["boxes"][found["labels"].argsort()], boxes, rtol=0, atol=1e-3)
    with pytest.raises(ValueError, match="targets must have one dict per image"):
        yolo.yolo_loss(raw, [t, t])


def test_model_trains_one_step_and_returns_detections():
    torch.manual_seed(0)
    anchors = torch.tensor([[8.0, 14.0], [14.0, 22.0], [22.0, 34.0]])
    model = models.YOLO(anchors, channels=(8, 8, 16, 16))
    scenes = data.SceneDataset(data.make_scenes(4, "train", seed=0))
    images, targets = data.detection_collate([scenes[i] for i in range(4)])
    losses = model(images, targets)
    assert set(losses) == {"loss_objectness", "loss_box", "loss_classifier"}
    sum(losses.values()).backward()
    model.eval()
    with torch.no_grad():
        out = model(images)
    assert len(out) == 4 and all(o["boxes"].shape[1] == 4 for o in out)
    with pytest.raises(ValueError, match="image_size must be a multiple of 8"):
        models.YOLO(anchors, image_size=60)
