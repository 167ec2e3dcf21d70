"""Tests of course_utils.data.coco: scenes and detections in COCO's JSON format, read by pycocotools.

The exported files are checked by pycocotools itself: ``COCO`` must give back
every mask, box and area, ``COCOeval`` must score the ground truth taken as
detections 1 (boxes and masks), and on imperfect detections its box numbers
must equal those of :func:`course_utils.metrics.evaluate_detections`.
"""

import contextlib
import io
import json

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from course_utils import data, detection, metrics

# pycocotools' annToMask calls np.array(..., copy=False), which NumPy 2 deprecates;
# the masks are still right, and it is pycocotools' line to fix.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")

SIZE = 64


@pytest.fixture(scope="module")
def scenes():
    # 0 to 4 digits: some scenes are empty, some crowded
    return data.make_scenes(24, "train", seed=3, canvas_size=SIZE, digits=(0, 4))


def load(coco_dict):
    """A pycocotools COCO object from a dictionary, after a trip through JSON text (quietly)."""
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = json.loads(json.dumps(coco_dict))
        coco.createIndex()
    return coco


def coco_stats(ground_truth, results, iou_type, area_ranges=None):
    """COCOeval's twelve numbers for a COCO dictionary and a result list (quietly)."""
    with contextlib.redirect_stdout(io.StringIO()):
        gt = load(ground_truth)
        results = json.loads(json.dumps(results))
        if results:
            dt = gt.loadRes(results)
        else:  # loadRes cannot read an empty list; an empty data set says the same
            dt = COCO()
            dt.dataset = {"images": gt.dataset["images"], "annotations": [], "categories": gt.dataset["categories"]}
            dt.createIndex()
        ev = COCOeval(gt, dt, iou_type)
        if area_ranges is not None:
            ev.params.areaRng = [list(r) for r in area_ranges.values()]
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return dict(zip(metrics.COCO_STAT_NAMES, ev.stats))


def truth_as_detections(targets):
    """The ground truth as a perfect detector's output, masks included."""
    return [{"boxes": t["boxes"], "scores": np.ones(len(t["labels"])), "labels": t["labels"], "masks": t["masks"]}
            for t in targets]


def test_scenes_round_trip_through_json_and_pycocotools(scenes):
    counts = [len(t["labels"]) for t in scenes.targets]
    assert 0 in counts and max(counts) >= 3, "the fixture should hold empty and crowded scenes"
    coco = load(data.to_coco(scenes))
    assert coco.getImgIds() == list(range(1, len(scenes) + 1))
    assert [c["id"] for c in coco.dataset["categories"]] == list(range(1, 11)), "ids from 1: 0 is the background"
    assert [c["name"] for c in coco.dataset["categories"]] == list(data.DIGIT_NAMES)
    assert {c["supercategory"] for c in coco.dataset["categories"]} == {"digit"}
    annotations = coco.dataset["annotations"]
    assert [a["id"] for a in annotations] == list(range(1, sum(counts) + 1))
    for image_id, (image, target) in enumerate(zip(scenes.images, scenes.targets), start=1):
        info = coco.loadImgs(image_id)[0]
        assert (info["height"], info["width"]) == image.shape and info["file_name"] == f"scene_{image_id - 1:05d}.png"
        anns = coco.loadAnns(coco.getAnnIds(imgIds=[image_id]))
        assert len(anns) == len(target["labels"])
        for ann, box, label, mask, area in zip(anns, target["boxes"], target["labels"], target["masks"],
                                               target["area"]):
            np.testing.assert_array_equal(coco.annToMask(ann), mask)
            x1, y1, x2, y2 = (float(v) for v in box)
            assert ann["bbox"] == [x1, y1, x2 - x1, y2 - y1] and ann["iscrowd"] == 0
            assert ann["area"] == mask.sum() == area, "COCO's area is the mask's pixel count"
            assert ann["category_id"] == label + 1 and coco.loadCats(ann["category_id"])[0]["name"] == str(label)


def test_ground_truth_taken_as_detections_scores_one_for_boxes_and_masks(scenes):
    truth = data.to_coco(scenes)
    perfect = truth_as_detections(scenes.targets)
    ranges = data.scene_area_ranges(SIZE)
    for iou_type in ("bbox", "segm"):
        results = data.to_coco_detections(perfect, iou_type=iou_type, image_sizes=scenes.canvas_size)
        assert len(results) == len(truth["annotations"])
        stats = coco_stats(truth, results, iou_type, ranges)
        assert stats["AP"] == pytest.approx(1.0) and stats["AR100"] == pytest.approx(1.0), iou_type
    assert metrics.evaluate_detections(perfect, scenes.targets, area_ranges=ranges)["AP"] == pytest.approx(1.0)


def test_detection_results_hold_boxes_or_masks_but_not_both(scenes):
    perfect = truth_as_detections(scenes.targets[:4])
    boxes = data.to_coco_detections(perfect)
    masks = data.to_coco_detections(perfect, iou_type="segm")
    assert json.loads(json.dumps(boxes)) == boxes and json.loads(json.dumps(masks)) == masks
    # a segm result with a box would be sized by its box in loadRes, not by its mask
    assert all(set(r) == {"image_id", "category_id", "bbox", "score"} for r in boxes)
    assert all(set(r) == {"image_id", "category_id", "segmentation", "score"} for r in masks)
    expected = [(i + 1, int(label) + 1) for i, t in enumerate(scenes.targets[:4]) for label in t["labels"]]
    assert [(r["image_id"], r["category_id"]) for r in masks] == expected
    assert all(r["segmentation"]["size"] == [SIZE, SIZE] for r in masks)


def test_detection_masks_may_be_probabilities_or_torchvision_shaped(scenes):
    torch = pytest.importorskip("torch")
    target = scenes.targets[next(i for i, t in enumerate(scenes.targets) if len(t["labels"]))]
    exact = data.to_coco_detections(truth_as_detections([target]), iou_type="segm")
    rng = np.random.default_rng(0)
    # probabilities on either side of 0.5, as a Mask R-CNN's sigmoid gives, shaped (K, 1, H, W) and on a tensor
    probabilities = np.where(target["masks"], rng.uniform(0.51, 1, target["masks"].shape),
                             rng.uniform(0, 0.5, target["masks"].shape)).astype(np.float32)
    soft = dict(truth_as_detections([target])[0], masks=torch.as_tensor(probabilities[:, None]))
    assert data.to_coco_detections([soft], iou_type="segm") == exact
    as_uint8 = dict(truth_as_detections([target])[0], masks=target["masks"].astype(np.uint8))
    assert data.to_coco_detections([as_uint8], iou_type="segm") == exact


def test_jittered_and_wrong_detections_give_pycocotools_box_numbers():
    scenes = data.make_scenes(40, "val", seed=5, canvas_size=SIZE, digits=(0, 4))
    ranges = data.scene_area_ranges(SIZE)
    predictions = detection.noisy_detections(scenes.targets, canvas_size=SIZE, seed=1, jitter=0.1,
                                             copies=(1, 3), false_positives=(0, 3), wrong_class=0.2)
    ours = metrics.evaluate_detections(predictions, scenes.targets, area_ranges=ranges)
    assert 0.1 < ours["AP"] < 0.9, "imperfect detections, so that the comparison means something"
    theirs = coco_stats(data.to_coco(scenes), data.to_coco_detections(predictions), "bbox", ranges)
    np.testing.assert_allclose(list(ours.values()), list(theirs.values()), rtol=0, atol=1e-6)
    # the boxes-only ground truth of notebook 18 is the same data set without the masks
    boxes_only = data.to_coco_ground_truth(scenes.targets, (SIZE, SIZE), classes=range(10))
    exported = data.to_coco(scenes)["annotations"]
    assert boxes_only["annotations"] == [{k: v for k, v in a.items() if k != "segmentation"} for a in exported]
    # the offset changes no number as long as both sides use the same one, and ruins them if not
    for offset in (0, 4):
        same = coco_stats(data.to_coco_ground_truth(scenes.targets, (SIZE, SIZE), category_offset=offset),
                          data.to_coco_detections(predictions, category_offset=offset), "bbox", ranges)
        np.testing.assert_allclose(list(same.values()), list(theirs.values()), rtol=0, atol=1e-12)
    mismatched = coco_stats(data.to_coco(scenes), data.to_coco_detections(predictions, category_offset=0),
                            "bbox", ranges)
    assert mismatched["AP"] < ours["AP"] / 2


def test_masks_with_pixels_removed_score_below_one_in_segm_only(scenes):
    truth = data.to_coco(scenes)
    rng = np.random.default_rng(0)
    damaged = truth_as_detections(scenes.targets)
    for d in damaged:
        d["masks"] = d["masks"] & (rng.random(d["masks"].shape) < 0.7)  # about 30 % of every mask lost
    segm = coco_stats(truth, data.to_coco_detections(damaged, iou_type="segm"), "segm")
    bbox = coco_stats(truth, data.to_coco_detections(damaged), "bbox")
    assert 0 < segm["AP"] < 1 and segm["AP50"] == pytest.approx(1.0), "IoU about 0.7: found at 0.5, not at 0.95"
    assert bbox["AP"] == pytest.approx(1.0), "the boxes were left as they were"


def test_segm_average_precision_by_hand():
    # one 10 x 10 square digit; the detected mask misses 28 of its 100 pixels: mask IoU 0.72, box IoU 1
    mask = np.zeros((1, 32, 32), dtype=bool)
    mask[0, 5:15, 8:18] = True
    target = {"boxes": np.array([[8, 5, 18, 15]], np.float32), "labels": np.array([7]), "masks": mask,
              "area": np.array([100], np.float32)}
    scenes = data.Scenes(images=mask.astype(np.float32), targets=[target], split="val")
    partial = mask.copy()
    partial[0, 5:15, 8:18].flat[:28] = False  # the top two rows and 8 pixels of the third
    results = data.to_coco_detections([{"boxes": target["boxes"], "scores": [0.9], "labels": [7], "masks": partial}],
                                      iou_type="segm", image_sizes=(32, 32))
    stats = coco_stats(data.to_coco(scenes), results, "segm")
    # matched at the thresholds 0.50, 0.55, ..., 0.70 (precision 1 at every recall), missed at 0.75 to 0.95
    assert stats["AP"] == pytest.approx(5 / 10)
    assert stats["AP50"] == pytest.approx(1.0) and stats["AP75"] == 0
    assert stats["AR100"] == pytest.approx(5 / 10)
    assert stats["AP_small"] == pytest.approx(5 / 10) and stats["AP_medium"] == -1, "100 pixels < 32**2: small"


def test_empty_scenes_and_empty_predictions():
    empty = data.make_scenes(3, "val", seed=0, canvas_size=SIZE, digits=(0, 0))
    coco = load(data.to_coco(empty))
    assert len(coco.getImgIds()) == 3 and coco.getAnnIds() == [] and len(coco.getCatIds()) == 10
    nothing = [{"boxes": np.zeros((0, 4)), "scores": np.zeros(0), "labels": np.zeros(0, int)} for _ in range(3)]
    assert data.to_coco_detections(nothing) == [] and data.to_coco_detections(nothing, iou_type="segm") == []
    with_masks = [dict(p, masks=np.zeros((0, SIZE, SIZE), bool)) for p in nothing]
    assert data.to_coco_detections(with_masks, iou_type="segm", image_sizes=(SIZE, SIZE)) == []
    # nothing to find: every number undefined (-1), in pycocotools as in ours
    stats = coco_stats(data.to_coco(empty), [], "bbox")
    assert set(stats.values()) == {-1.0}
    assert set(metrics.evaluate_detections(nothing, empty.targets).values()) == {-1.0}
    # objects but no detection: 0
    scenes = data.make_scenes(4, "val", seed=1, canvas_size=SIZE, digits=(1, 3))
    for iou_type in ("bbox", "segm"):
        assert coco_stats(data.to_coco(scenes), [], iou_type)["AP"] == 0
    assert metrics.evaluate_detections(nothing + nothing[:1], scenes.targets)["AP"] == 0
    assert data.to_coco(data.make_scenes(0, "train", canvas_size=SIZE))["images"] == []


def test_images_written_as_png_read_back_within_quantisation(scenes, tmp_path):
    folder = tmp_path / "images" / "train"  # created with its parents
    coco = data.to_coco(scenes, file_pattern="digits_{}.png", image_dir=folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted(image["file_name"] for image in coco["images"])
    for image, info in zip(scenes.images, coco["images"]):
        with Image.open(folder / info["file_name"]) as png:
            assert png.format == "PNG" and png.mode == "L" and png.size == (info["width"], info["height"])
            pixels = np.asarray(png)
        assert pixels.dtype == np.uint8
        assert np.abs(pixels / 255 - image).max() <= 0.5 / 255 + 1e-6, "rounded to the nearest of 256 levels"
    # without image_dir the dictionary is the same, and nothing is written
    assert data.to_coco(scenes, file_pattern="digits_{}.png") == coco
    # a second export replaces the files
    data.to_coco(scenes, file_pattern="digits_{}.png", image_dir=folder)
    assert len(list(folder.iterdir())) == len(scenes)


def test_category_offset_and_classes():
    truth = [{"boxes": np.array([[0.0, 0, 4, 4], [2, 2, 9, 9]]), "labels": np.array([0, 3])}]
    preds = [dict(truth[0], scores=np.array([0.9, 0.8]))]
    for offset in (0, 1, 5):
        gt = data.to_coco_ground_truth(truth, (10, 10), category_offset=offset)
        assert [a["category_id"] for a in gt["annotations"]] == [offset, 3 + offset]
        assert gt["categories"] == [{"id": offset, "name": "0"}, {"id": 3 + offset, "name": "3"}]
        assert [r["category_id"] for r in data.to_coco_detections(preds, category_offset=offset)] == [offset,
                                                                                                   3 + offset]
    listed = data.to_coco_ground_truth(truth, [(10, 10)], classes=range(5))["categories"]
    assert [c["id"] for c in listed] == [1, 2, 3, 4, 5] and [c["name"] for c in listed] == list("01234")
    # boxes-only ground truth without 'area': the box areas
    assert [a["area"] for a in data.to_coco_ground_truth(truth, (10, 10))["annotations"]] == [16.0, 49.0]
    offset_two = data.to_coco(data.make_scenes(2, "train", seed=0, canvas_size=SIZE), category_offset=2)
    assert [c["id"] for c in offset_two["categories"]] == list(range(2, 12))


def _scenes_and_predictions(scenes):
    box = {"boxes": np.array([[1.0, 1, 5, 5]]), "scores": np.array([0.5]), "labels": np.array([2])}
    return scenes, [box]


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda s, p, d: data.to_coco_ground_truth(s.targets, (SIZE, SIZE), category_offset=-1), ValueError,
         "category_offset must be >= 0"),
        (lambda s, p, d: data.to_coco_detections(p, category_offset=-1), ValueError, "category_offset must be >= 0"),
        (lambda s, p, d: data.to_coco_detections(p, category_offset=1.0), TypeError,
         "category_offset must be an integer"),
        (lambda s, p, d: data.to_coco(s, category_offset=-2), ValueError, "category_offset must be >= 0"),
        (lambda s, p, d: data.to_coco_detections(p, iou_type="keypoints"), ValueError, "iou_type must be one of"),
        (lambda s, p, d: data.to_coco_detections(p, iou_type="segm"), ValueError,
         "predictions[0] must have 'masks' for iou_type='segm'"),
        (lambda s, p, d: data.to_coco_detections([dict(p[0], masks=np.ones((1, 32, 32), bool))], iou_type="segm",
                                                 image_sizes=(SIZE, SIZE)), ValueError,
         "predictions[0]['masks'] must have the image's height and width (64, 64)"),
        (lambda s, p, d: data.to_coco_detections([dict(p[0], masks=np.ones((2, SIZE, SIZE), bool))],
                                                 iou_type="segm"), ValueError, "must have one mask per box (1)"),
        (lambda s, p, d: data.to_coco_detections([dict(p[0], masks=np.ones((1, 3, SIZE, SIZE)))], iou_type="segm"),
         ValueError, "must be (K, H, W) or (K, 1, H, W)"),
        (lambda s, p, d: data.to_coco_detections([dict(p[0], masks=np.full((1, SIZE, SIZE), 3.5))],
                                                 iou_type="segm"), ValueError, "probabilities in [0, 1]"),
        (lambda s, p, d: data.to_coco_detections([dict(p[0], labels=np.array([-1]))]), ValueError,
         "predictions[0]['labels'] must hold integer classes >= 0"),
        (lambda s, p, d: data.to_coco_detections([dict(p[0], labels=np.array([1.5]))]), ValueError,
         "integer classes"),
        (lambda s, p, d: data.to_coco_ground_truth(s.targets, [(SIZE, SIZE)] * 2), ValueError,
         "image_sizes must give one (height, width) per image (24), got 2"),
        (lambda s, p, d: data.to_coco_ground_truth(s.targets, 64), TypeError, "image_sizes must be a (height, width)"),
        (lambda s, p, d: data.to_coco_ground_truth(s.targets, (SIZE, 0)), ValueError, "image_sizes[1] must be >= 1"),
        (lambda s, p, d: data.to_coco(s.targets), TypeError, "scenes must be Scenes"),
        (lambda s, p, d: data.to_coco(s, image_dir=d / "a_file.txt"), ValueError, "image_dir must be a folder"),
        (lambda s, p, d: data.to_coco(s, image_dir=3), TypeError, "image_dir must be a folder path"),
        (lambda s, p, d: data.to_coco(s, file_pattern="scene.png", image_dir=d / "out"), ValueError,
         "file_pattern must give every image its own file name"),
        (lambda s, p, d: data.to_coco(s, file_pattern="scene_{}.jpg", image_dir=d / "out"), ValueError,
         "ending in .png"),
        (lambda s, p, d: data.to_coco(s, file_pattern="sub/scene_{}.png", image_dir=d / "out"), ValueError,
         "plain file names"),
        (lambda s, p, d: data.to_coco(s, file_pattern="{}_{}.png"), ValueError, "file_pattern must format"),
        (lambda s, p, d: data.to_coco(s, file_pattern=None), TypeError, "file_pattern must be a str"),
    ],
)
def test_bad_arguments_raise_clear_errors(scenes, tmp_path, call, error, words):
    (tmp_path / "a_file.txt").write_text("not a folder")
    s, p = _scenes_and_predictions(scenes)
    with pytest.raises(error) as info:
        call(s, p, tmp_path)
    assert words in str(info.value)
    assert not (tmp_path / "out").exists(), "nothing is written when an argument is wrong"
