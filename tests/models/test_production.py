"""torchvision's Faster R-CNN for the scenes (course_utils.models.production) and its shipped weights."""

import hashlib
import math

import numpy as np
import pytest
import torch

from course_utils import data, detection, metrics, models

#: The shipped detector measured AP50 0.860 on these 100 test scenes (0.878 on 500, data/README.md); the
#: margin covers another CPU or torch version, not a broken model.
MIN_AP50_100_SCENES = 0.75


def scene_batch(n=4, split="train", seed=0):
    dataset = data.SceneDataset(data.make_scenes(n, split, seed=seed), label_offset=1)
    return dataset.collate_fn([dataset[i] for i in range(n)])


def test_weights_file_matches_its_checksum_and_the_model():
    path = data.data_dir() / data.TORCHVISION_WEIGHTS_FILE
    assert hashlib.sha256(path.read_bytes()).hexdigest() == data.CHECKSUMS[data.TORCHVISION_WEIGHTS_FILE]
    weights = data.load_torchvision_weights()
    assert list(weights) == list(models.torchvision_faster_rcnn().state_dict())
    assert all(w.dtype in (np.float32, np.int64) for w in weights.values())


def test_loaded_model_detects_digits_offline(no_network):
    model = models.load_torchvision_faster_rcnn()
    assert not model.training
    images, _ = scene_batch(4, "test")
    with torch.no_grad():
        out = model(images)
    assert len(out) == 4
    for o in out:
        assert set(o) == {"boxes", "scores", "labels"} and o["boxes"].shape[1:] == (4,) and len(o["boxes"]) > 0
        assert ((o["labels"] >= 1) & (o["labels"] <= 10)).all()
        assert (o["boxes"] >= 0).all() and (o["boxes"] <= 64).all()
    test_set = data.SceneDataset(data.make_scenes(100, "test", seed=0), label_offset=1)
    stats = metrics.evaluate_detector(model, test_set, batch_size=50, area_ranges=data.scene_area_ranges(64))
    assert stats["AP50"] >= MIN_AP50_100_SCENES


def test_builder_has_the_course_models_sizes():
    model = models.torchvision_faster_rcnn()
    transform, rpn, heads = model.transform, model.rpn, model.roi_heads
    assert transform.min_size == (64,) and transform.max_size == 64
    assert transform.image_mean == [0.0] and transform.image_std == [1.0]
    assert rpn.anchor_generator.num_anchors_per_location() == [9]
    assert rpn.head.cls_logits.out_channels == 9 and rpn.head.bbox_pred.out_channels == 36
    assert rpn.fg_bg_sampler.batch_size_per_image == 128
    assert rpn._pre_nms_top_n == {"training": 128, "testing": 300}
    assert rpn._post_nms_top_n == {"training": 64, "testing": 50}
    assert heads.box_roi_pool.output_size == (4, 4) and heads.box_roi_pool.sampling_ratio == 2
    assert heads.fg_bg_sampler.batch_size_per_image == 48
    assert heads.box_head.fc6.in_features == 64 * 4 * 4
    assert heads.box_head.fc6.out_features == heads.box_head.fc7.out_features == 128
    assert heads.box_predictor.cls_score.out_features == 11  # num_classes: background + 10 digits
    assert heads.box_predictor.bbox_pred.out_features == 11 * 4
    assert isinstance(model.backbone, models.SceneBackbone) and model.backbone.out_channels == 64
    # about as many parameters as the course's model (their RPN heads differ: 64 vs 48 hidden channels)
    ours = sum(p.numel() for p in models.FasterRCNN().parameters())
    assert abs(sum(p.numel() for p in model.parameters()) - ours) < 0.05 * ours


def test_scenes_go_in_unchanged_and_anchors_are_the_courses_at_cell_corners():
    from torchvision.models.detection.image_list import ImageList

    model = models.torchvision_faster_rcnn().eval()
    images, _ = scene_batch(2)
    image_list, _ = model.transform(list(images))
    assert torch.equal(image_list.tensors, images) and image_list.image_sizes == [(64, 64)] * 2
    features = model.backbone(images)
    assert features.shape[-2:] == (16, 16)
    anchors = model.rpn.anchor_generator(ImageList(images, [(64, 64)] * 2), [features])[0]
    # torchvision's aspect ratios are height / width, as make_anchors'; its centres are the cells' corners
    expected = detection.make_anchors(16, 4, (12, 20, 32), (1.0, 1.6, 2.4), offset=0)
    torch.testing.assert_close(anchors, expected)
    tall = anchors[:9][-1]  # ratio 2.4, size 32
    assert tall[3] - tall[1] > tall[2] - tall[0]


def test_train_mode_returns_the_four_losses():
    torch.manual_seed(0)
    model = models.torchvision_faster_rcnn()
    images, targets = scene_batch(4)
    losses = model(images, targets)
    assert set(losses) == {"loss_classifier", "loss_box_reg", "loss_objectness", "loss_rpn_box_reg"}
    assert all(v.ndim == 0 and math.isfinite(v.item()) for v in losses.values())
    sum(losses.values()).backward()
    assert all(p.grad is not None for p in model.roi_heads.parameters())


def test_seed_fixes_the_weights_and_leaves_the_global_generator_alone():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    a, b, c = (models.torchvision_faster_rcnn(seed=s).state_dict() for s in (0, 0, 1))
    assert torch.equal(torch.random.get_rng_state(), before)
    name = "roi_heads.box_head.fc6.weight"
    assert torch.equal(a[name], b[name]) and not torch.equal(a[name], c[name])
    with pytest.raises(ValueError, match="seed"):
        models.torchvision_faster_rcnn(seed=-1)
