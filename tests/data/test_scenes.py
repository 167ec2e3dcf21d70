"""Tests of course_utils.datasets (multi-digit scenes) and plotting.show_detections."""

import contextlib
import io
import json
import time

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from course_utils import data, detection, metrics
from course_utils.viz import show_detections
from course_utils.data.scenes import _overlap


@pytest.fixture(scope="module")
def scenes():
    return data.make_scenes(60, "train", seed=3, clutter=2, noise=0.05)


def test_scenes_are_deterministic_and_seeds_differ():
    a, b = data.make_scenes(10, seed=1), data.make_scenes(10, seed=1)
    np.testing.assert_array_equal(a.images, b.images)
    for ta, tb in zip(a.targets, b.targets):
        for key in ta:
            np.testing.assert_array_equal(ta[key], tb[key])
    assert not np.array_equal(a.images, data.make_scenes(10, seed=2).images)


def test_train_and_val_use_disjoint_source_digits():
    train = data.make_scenes(150, "train")
    val = data.make_scenes(150, "val")
    train_src = np.concatenate([t["source"] for t in train.targets])
    val_src = np.concatenate([t["source"] for t in val.targets])
    train_idx, val_idx = data.mnist_split()
    assert np.isin(train_src, train_idx).all() and np.isin(val_src, val_idx).all()
    assert not np.intersect1d(train_src, val_src).size


def test_targets_are_consistent(scenes):
    _, labels = data.load_mnist_subset()
    low, high = scenes.settings["digits"]
    assert scenes.images.dtype == np.float32 and scenes.images.min() >= 0 and scenes.images.max() <= 1
    for image, t in zip(scenes.images, scenes.targets):
        k = len(t["labels"])
        assert k <= high and t["boxes"].shape == (k, 4) and t["masks"].shape == (k,) + image.shape
        np.testing.assert_array_equal(t["labels"], labels[t["source"]])
        np.testing.assert_array_equal(t["area"], t["masks"].sum(axis=(1, 2)))
        for box, mask in zip(t["boxes"], t["masks"]):
            x1, y1, x2, y2 = box.astype(int)
            assert 0 <= x1 < x2 <= image.shape[1] and 0 <= y1 < y2 <= image.shape[0]
            assert mask.any() and mask.sum() == mask[y1:y2, x1:x2].sum(), "mask outside its box"
            assert image[mask].min() >= 0.5 - 0.2, "mask pixels are ink"
        # placement keeps the glyphs' rectangles within max_overlap; the tight boxes of the inked
        # pixels are a little smaller, so their overlap can exceed it slightly
        for i in range(k):
            for j in range(i):
                assert _overlap(t["boxes"][i], t["boxes"][j]) <= scenes.settings["max_overlap"] + 0.1


def test_statistics_cover_every_size_bucket_and_class():
    scenes = data.make_scenes(300, "train")
    stats = data.scene_statistics(scenes)
    assert stats["objects_per_image"].sum() == 300
    assert 1.8 < stats["mean_objects"] < 3
    assert all(stats["sizes"][name] > 0.1 * stats["areas"].size for name in ("small", "medium", "large"))
    assert (stats["classes"] > 0).all()


def test_generation_is_fast():
    start = time.perf_counter()
    data.make_scenes(300, "val", clutter=2, noise=0.05)
    assert time.perf_counter() - start < 10, "300 scenes should take seconds, not minutes"


def test_options_canvas_digit_range_and_empty_scenes():
    big = data.make_scenes(5, canvas_size=200, digits=(3, 3), scale=(0.2, 0.3))
    assert big.images.shape == (5, 200, 200) and big.canvas_size == (200, 200)
    assert all(len(t["labels"]) == 3 for t in big.targets)
    empty = data.make_scenes(3, digits=(0, 0))
    assert all(len(t["labels"]) == 0 and t["masks"].shape == (0, 128, 128) for t in empty.targets)
    assert empty.images.max() == 0
    assert data.make_scenes(0).images.shape == (0, 128, 128)


def test_semantic_mask_labels_pixels(scenes):
    t = scenes.targets[0]
    sem = data.semantic_mask(t, scenes.canvas_size)
    for mask, label in zip(t["masks"], t["labels"]):
        assert (sem[mask] >= 1).all()
    assert (sem[~t["masks"].any(0)] == 0).all()


def test_torch_dataset_and_collate(scenes):
    ds = data.SceneDataset(scenes, label_offset=1)
    image, target = ds[4]
    assert image.shape == (1, 128, 128) and image.dtype == torch.float32
    assert target["boxes"].dtype == torch.float32 and target["labels"].dtype == torch.int64
    np.testing.assert_array_equal(target["labels"].numpy(), scenes.targets[4]["labels"] + 1)
    assert target["masks"].shape[0] == len(target["labels"]) and target["image_id"] == 4
    loader = torch.utils.data.DataLoader(ds, batch_size=8, collate_fn=data.detection_collate)
    images, targets = next(iter(loader))
    assert images.shape == (8, 1, 128, 128) and len(targets) == 8
    assert "masks" not in data.SceneDataset(scenes, with_masks=False)[0][1]
    with pytest.raises(IndexError):
        ds[len(ds)]


# pycocotools' annToMask calls np.array(..., copy=False), which NumPy 2
# deprecates; the masks are still right, and it is pycocotools' line to fix.
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")
def test_coco_export_loads_in_pycocotools_and_round_trips(scenes):
    coco_dict = json.loads(json.dumps(data.to_coco(scenes)))  # JSON-safe
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = coco_dict
        coco.createIndex()
    assert len(coco.getImgIds()) == len(scenes) and len(coco.getCatIds()) == 10
    annotations = coco.loadAnns(coco.getAnnIds())
    flat = [(t, i) for t in scenes.targets for i in range(len(t["labels"]))]
    assert len(annotations) == len(flat)
    for ann, (t, i) in zip(annotations, flat):
        np.testing.assert_array_equal(coco.annToMask(ann), t["masks"][i])
        x1, y1, x2, y2 = t["boxes"][i]
        assert ann["bbox"] == [x1, y1, x2 - x1, y2 - y1] and ann["iscrowd"] == 0
        assert ann["area"] == t["area"][i] and ann["category_id"] == t["labels"][i]
    # the ground truth as detections: AP 1 in pycocotools and in our evaluation
    results = [{"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 1.0}
               for a in annotations]
    with contextlib.redirect_stdout(io.StringIO()):
        ev = COCOeval(coco, coco.loadRes(results), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    assert ev.stats[0] == pytest.approx(1.0)
    predictions = [{"boxes": t["boxes"], "scores": np.ones(len(t["labels"])), "labels": t["labels"]}
                   for t in scenes.targets]
    assert metrics.evaluate_detections(predictions, scenes.targets)["AP"] == pytest.approx(1.0)


def test_area_ranges_scale_with_canvas():
    r = data.scene_area_ranges(128)
    assert r["small"][1] == pytest.approx(12.8**2) and r["large"][0] == pytest.approx(32.0**2)
    assert list(r) == list(metrics.COCO_AREA_RANGES)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"n_images": -1}, ValueError, "n_images must be >= 0"),
        ({"n_images": 2, "split": "test"}, ValueError, "split must be one of"),
        ({"n_images": 2, "digits": (3, 1)}, ValueError, "digits must have low <= high"),
        ({"n_images": 2, "digits": 3}, TypeError, "digits must be a pair"),
        ({"n_images": 2, "scale": (0.1, 1.5)}, ValueError, "scale[1] must be <= 1"),
        ({"n_images": 2, "canvas_size": 8}, ValueError, "canvas_size must be >= 16"),
        ({"n_images": 2, "noise": -0.1}, ValueError, "noise must be >= 0"),
        ({"n_images": 2, "max_overlap": 2}, ValueError, "max_overlap must be <= 1"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, error, words):
    with pytest.raises(error) as info:
        data.make_scenes(**kwargs)
    assert words in str(info.value)


def test_show_detections_draws_boxes_captions_and_masks(scenes):
    t = scenes.targets[1]
    fig = show_detections(scenes.images[1], t["boxes"], t["labels"], scores=np.linspace(1, 0.5, len(t["labels"])),
                          masks=t["masks"], class_names=data.DIGIT_NAMES, title="scene")
    ax = fig.axes[0]
    assert len(ax.patches) == len(t["labels"]) and len(ax.texts) == len(t["labels"])
    assert len(ax.images) == 1 + len(t["labels"])
    # second call on the same axes: ground truth dashed over predictions
    show_detections(scenes.images[1], torch.as_tensor(t["boxes"]), ax=ax, color="white", linestyle="--")
    assert len(ax.patches) == 2 * len(t["labels"]) and len(ax.images) == 1 + len(t["labels"])
    plt.close(fig)
    fig = show_detections(np.zeros((10, 10)), np.zeros((0, 4)))
    assert len(fig.axes[0].patches) == 0
    plt.close(fig)
    with pytest.raises(ValueError, match="labels must have one entry per box"):
        show_detections(np.zeros((10, 10)), [[0, 0, 2, 2]], labels=[1, 2])
    with pytest.raises(ValueError, match="boxes must have shape"):
        show_detections(np.zeros((10, 10)), [[0, 0, 2]])
    with pytest.raises(ValueError, match="masks must have the image's height and width"):
        show_detections(np.zeros((10, 10)), [[0, 0, 2, 2]], masks=np.zeros((1, 5, 5), bool))
    plt.close("all")


def test_noisy_detections_quality_follows_jitter(scenes):
    exact = detection.noisy_detections(scenes.targets, 128, seed=0, jitter=0.0, copies=(1, 1), false_positives=(0, 0),
                               wrong_class=0.0)
    for d, t in zip(exact, scenes.targets):
        np.testing.assert_allclose(d["boxes"], t["boxes"])
        np.testing.assert_array_equal(d["labels"], t["labels"])
        assert d["boxes"].dtype == np.float32 and d["scores"].dtype == np.float32
    perfect = metrics.evaluate_detections(exact, scenes.targets)
    assert perfect["AP"] == pytest.approx(1.0)
    aps = [metrics.evaluate_detections(detection.noisy_detections(scenes.targets, 128, seed=0, jitter=j), scenes.targets)["AP"]
           for j in (0.02, 0.1, 0.3)]
    assert aps[0] > aps[1] > aps[2]
    noisy = detection.noisy_detections(scenes.targets, 128, seed=1, copies=(2, 2), false_positives=(3, 3))
    for d, t in zip(noisy, scenes.targets):
        assert len(d["scores"]) == 2 * len(t["labels"]) + 3
        assert d["boxes"].min() >= 0 and d["boxes"].max() <= 128
        assert np.all(d["boxes"][:, 2:] >= d["boxes"][:, :2])
    with pytest.raises(ValueError, match="wrong_class must be <= 1"):
        detection.noisy_detections(scenes.targets, 128, wrong_class=2)
