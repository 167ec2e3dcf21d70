"""The R-CNN family of course_utils.models.two_stage: torchvision's convention, losses, proposals, decoding."""

import math

import pytest
import torch

from course_utils import data, detection, models


def batch(n=4, seed=0):
    scenes = data.make_scenes(n, "train", seed=seed)
    images = torch.from_numpy(scenes.images)[:, None]
    targets = [{"boxes": torch.from_numpy(t["boxes"]), "labels": torch.from_numpy(t["labels"] + 1)}
               for t in scenes.targets]
    return images, targets


def blobs(image):
    return detection.connected_component_boxes(image)[0]


@pytest.mark.parametrize("make", [
    lambda: models.FasterRCNN(),
    lambda: models.FastRCNN(proposer=blobs),
    lambda: models.RCNN(proposer=blobs),
])
def test_train_mode_returns_losses_and_eval_mode_detections(make):
    torch.manual_seed(0)
    model = make()
    images, targets = batch()
    losses = model(images, targets)
    expected = {"loss_classifier", "loss_box_reg"} | (
        {"loss_objectness", "loss_rpn_box_reg"} if isinstance(model, models.FasterRCNN) else set())
    assert set(losses) == expected and all(v.ndim == 0 and math.isfinite(v.item()) for v in losses.values())
    sum(losses.values()).backward()
    assert all(p.grad is not None for p in model.box_head.parameters())
    model.eval()
    with torch.no_grad():
        out = model(images)
    assert len(out) == len(images)
    for o in out:
        assert set(o) == {"boxes", "scores", "labels"} and o["boxes"].shape[1:] == (4,)
        assert ((o["labels"] >= 1) & (o["labels"] <= 10)).all() and (o["scores"][:-1] >= o["scores"][1:]).all()
        assert (o["boxes"] >= 0).all() and (o["boxes"] <= 64).all()


def test_external_proposals_come_from_the_argument_the_targets_or_the_proposer():
    torch.manual_seed(0)
    images, targets = batch(2)
    model = models.FastRCNN().eval()
    given = [torch.tensor([[0.0, 0, 20, 20], [10, 10, 40, 50]]), torch.tensor([[5.0, 5, 30, 30]])]
    with torch.no_grad():
        from_argument = model(images, proposals=given)
        from_targets = model(images, [{**t, "proposals": p} for t, p in zip(targets, given)])
    for a, b in zip(from_argument, from_targets):
        assert torch.equal(a["boxes"], b["boxes"])
    with pytest.raises(ValueError, match="no proposals"):
        model(images)
    with pytest.raises(ValueError, match="one \\(K, 4\\) tensor per image"):
        model(images, proposals=given[:1])


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="n_classes must be >= 1"):
        models.FasterRCNN(n_classes=0)
    with pytest.raises(ValueError, match="warp_size must be >= 4"):
        models.RCNN(warp_size=2)
    model = models.FasterRCNN()
    images, _ = batch(1)
    with pytest.raises(ValueError, match="targets are needed in train mode"):
        model(images)
