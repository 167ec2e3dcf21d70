"""The groundwork end to end: fresh scenes -> fit -> evaluate_detector -> drawing, with a real torchvision detector."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch import nn
from torchvision.models import detection as tv_detection
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.ops import MultiScaleRoIAlign

from course_utils import data, metrics, train
from course_utils.viz import show_detection_matches


def tiny_faster_rcnn():
    torch.manual_seed(0)
    backbone = nn.Sequential(nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU(),
                             nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU())
    backbone.out_channels = 16
    return tv_detection.FasterRCNN(
        backbone, num_classes=11, min_size=64, max_size=64, image_mean=[0.5], image_std=[0.25],
        rpn_anchor_generator=AnchorGenerator(sizes=((16, 32),), aspect_ratios=((0.5, 1.0),)),
        box_roi_pool=MultiScaleRoIAlign(featmap_names=["0"], output_size=4, sampling_ratio=2),
        representation_size=32, rpn_pre_nms_top_n_train=100, rpn_post_nms_top_n_train=30,
        rpn_pre_nms_top_n_test=100, rpn_post_nms_top_n_test=30, box_batch_size_per_image=32,
        box_detections_per_img=20, box_score_thresh=0.0)


def test_a_detector_trains_on_fresh_scenes_and_is_scored_on_the_test_split():
    stream = data.SceneStream("train", length=10_000, seed=0)
    train_set = data.SceneDataset(stream, label_offset=1)
    # 3 batches of 4 fresh scenes: scenes 0-11 of the stream, never stored
    loader = torch.utils.data.DataLoader(torch.utils.data.Subset(train_set, range(12)), batch_size=4,
                                         collate_fn=train_set.collate_fn)
    model = tiny_faster_rcnn()
    history = train.fit(model, loader, torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9), epochs=1,
                        loss_fn="model", progress=False)
    assert len(history["step_loss"]) == 3 and all(math.isfinite(v) for v in history["step_loss"])
    assert {"train_loss_classifier", "train_loss_objectness"} <= set(history)

    test_set = data.SceneDataset(data.make_scenes(6, "test", seed=0), label_offset=1)
    stats = metrics.evaluate_detector(model, test_set, batch_size=3)
    assert list(stats) == list(metrics.COCO_STAT_NAMES) and all(-1 <= v <= 1 for v in stats.values())
    # the same numbers by hand: predictions, then evaluate_detections on the scenes' own targets
    predictions = train.predict(model, test_set, batch_size=3, collate_fn=test_set.collate_fn)
    truth = [{"boxes": t["boxes"], "labels": t["labels"] + 1, "area": t["area"]} for t in test_set.scenes.targets]
    by_hand = metrics.evaluate_detections([{k: v.numpy() for k, v in p.items()} for p in predictions], truth)
    assert stats == pytest.approx(by_hand)

    image, target = test_set[0]
    fig = show_detection_matches(image[0], predictions[0], target, min_score=0.0)
    assert len(fig.axes[0].patches) >= len(target["boxes"])  # every object: matched or drawn as missed
    plt.close(fig)


def test_semantic_view_feeds_a_segmentation_loss():
    dataset = data.SceneDataset(data.SceneStream("val", length=8, seed=1), view="semantic", ignore_band=1)
    images, class_maps = next(iter(torch.utils.data.DataLoader(dataset, batch_size=8, collate_fn=dataset.collate_fn)))
    logits = torch.zeros(8, 11, 64, 64, requires_grad=True)
    loss = nn.functional.cross_entropy(logits, class_maps, ignore_index=data.IGNORE_INDEX)
    loss.backward()
    assert loss.item() == pytest.approx(math.log(11))
    ignored = class_maps == data.IGNORE_INDEX
    assert ignored.any() and (logits.grad.abs().sum(1)[ignored] == 0).all()
    assert set(np.unique(class_maps[~ignored].numpy())) <= set(range(11))
