"""SSD's rules against torchvision's DefaultBoxGenerator, SSDMatcher and SSD.compute_loss."""

from types import SimpleNamespace

import pytest
import torch
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection import ssd as tv_ssd
from torchvision.models.detection.anchor_utils import DefaultBoxGenerator
from torchvision.models.detection.image_list import ImageList

from course_utils.detection import ssd


def random_boxes(generator, n, size=64.0):
    xy = torch.rand(n, 2, generator=generator) * (size - 10)
    wh = 4 + torch.rand(n, 2, generator=generator) * 30
    return torch.cat([xy, (xy + wh).clamp(max=size)], dim=1)


@pytest.mark.parametrize("config", [
    dict(feature_sizes=[(16, 16), (8, 8), (4, 4)], image_size=(64, 64), aspect_ratios=[[2], [2, 3], [2]]),
    dict(feature_sizes=[(10, 12)], image_size=(80, 96), aspect_ratios=[[2]], min_ratio=0.2, max_ratio=0.8),
    dict(feature_sizes=[(38, 38), (19, 19), (10, 10), (5, 5), (3, 3), (1, 1)], image_size=(300, 300),
         aspect_ratios=[[2], [2, 3], [2, 3], [2, 3], [2], [2]], scales=[0.07, 0.15, 0.33, 0.51, 0.69, 0.87, 1.05],
         steps=[8, 16, 32, 64, 100, 300]),
    dict(feature_sizes=[(5, 7), (3, 4)], image_size=(50, 70), aspect_ratios=[[0.5], [3]], clip=False),
])
def test_default_boxes_equal_torchvision(config):
    keys = {"aspect_ratios", "scales", "min_ratio", "max_ratio", "steps", "clip"}
    generator = DefaultBoxGenerator(**{k: v for k, v in config.items() if k in keys})
    images = ImageList(torch.zeros(1, 1, *config["image_size"]), [config["image_size"]])
    features = [torch.zeros(1, 1, *size) for size in config["feature_sizes"]]
    theirs = generator(images, features)[0]
    ours = ssd.ssd_default_boxes(**config)
    assert ours.shape == theirs.shape
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-4)  # torchvision rounds through float32 too
    assert len(ours) == sum(h * w * (2 + 2 * len(r)) for (h, w), r in zip(config["feature_sizes"],
                                                                          config["aspect_ratios"]))


def test_default_boxes_bad_input():
    with pytest.raises(ValueError, match="aspect_ratios must give one list per level"):
        ssd.ssd_default_boxes([(4, 4), (2, 2)], (64, 64), [[2]])
    with pytest.raises(ValueError, match="steps must give one number per level"):
        ssd.ssd_default_boxes([(4, 4)], (64, 64), [[2]], steps=[8, 16])
    with pytest.raises(ValueError, match="feature_sizes must be a non-empty"):
        ssd.ssd_default_boxes([], (64, 64), [])


def test_match_equals_torchvision_ssd_matcher():
    generator = torch.Generator().manual_seed(0)
    defaults = ssd.ssd_default_boxes([(8, 8), (4, 4)], (64, 64), [[2], [2]], min_ratio=0.2, max_ratio=0.6)
    matcher = det_utils.SSDMatcher(0.5)
    for trial in range(30):
        gt = random_boxes(generator, int(torch.randint(1, 7, (1,), generator=generator)))
        from course_utils.detection import box_iou
        assert torch.equal(ssd.ssd_match(defaults, gt), matcher(box_iou(gt, defaults)))
    assert (ssd.ssd_match(defaults, torch.zeros(0, 4)) == -1).all()


def test_hard_negative_mining_takes_the_largest_losses():
    loss = torch.tensor([[0.1, 5.0, 0.3, 2.0, 0.2, 4.0]])
    positive = torch.tensor([[False, True, False, False, False, False]])
    chosen = ssd.hard_negative_mining(loss, positive, ratio=2)
    assert chosen.tolist() == [[False, False, False, True, False, True]]  # 4.0 and 2.0, not the positive's 5.0
    assert not ssd.hard_negative_mining(loss, positive & False).any()  # no object, no negative
    with pytest.raises(ValueError, match="must both be"):
        ssd.hard_negative_mining(loss[0], positive[0])


def test_loss_equals_torchvision_compute_loss():
    generator = torch.Generator().manual_seed(1)
    defaults = ssd.ssd_default_boxes([(8, 8), (4, 4)], (64, 64), [[2], [2]], min_ratio=0.2, max_ratio=0.6)
    fake = SimpleNamespace(box_coder=det_utils.BoxCoder(ssd.SSD_WEIGHTS), neg_to_pos_ratio=3)
    for trial in range(10):
        targets, matched = [], []
        for image in range(3):
            gt = random_boxes(generator, int(torch.randint(1, 5, (1,), generator=generator)))
            targets.append({"boxes": gt, "labels": torch.randint(1, 11, (len(gt),), generator=generator)})
            matched.append(ssd.ssd_match(defaults, gt))
        logits = torch.randn(3, len(defaults), 11, generator=generator, dtype=torch.float64)
        deltas = torch.randn(3, len(defaults), 4, generator=generator, dtype=torch.float64)
        ours = ssd.ssd_loss(logits, deltas, defaults, targets, matched)
        theirs = tv_ssd.SSD.compute_loss(fake, targets, {"cls_logits": logits, "bbox_regression": deltas},
                                         [defaults] * 3, matched)
        for name in ("bbox_regression", "classification"):  # torchvision encodes in float32: 1e-5
            torch.testing.assert_close(ours[name], theirs[name].to(ours[name].dtype), rtol=1e-5, atol=1e-5)


def test_model_trains_one_step_and_returns_detections():
    from course_utils import data, models

    torch.manual_seed(0)
    model = models.SSD(channels=(8, 8, 8))
    scenes = data.SceneDataset(data.make_scenes(4, "train", seed=0), label_offset=1)
    images, targets = data.detection_collate([scenes[i] for i in range(4)])
    logits, deltas = model.head_outputs(images)
    assert logits.shape == (4, len(model.default_boxes), 11) and deltas.shape == (4, len(model.default_boxes), 4)
    losses = model(images, targets)
    assert set(losses) == {"bbox_regression", "classification"}
    sum(losses.values()).backward()
    model.eval()
    with torch.no_grad():
        out = model(images)
    assert len(out) == 4 and all(o["boxes"].shape[1] == 4 and (o["labels"] >= 1).all() for o in out)
    single = models.SSD(levels=1, channels=(8, 8, 8))
    assert len(single.default_boxes) == 16 * 16 * 4
    with pytest.raises(ValueError, match="image_size must be a multiple of 16"):
        models.SSD(image_size=72)
