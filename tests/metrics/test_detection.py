"""Detection metrics of course_utils.metrics against pycocotools and PASCAL VOC's devkit code.

Tolerance: COCO's twelve numbers and the full precision / recall arrays agree
with ``pycocotools.cocoeval.COCOeval`` to 1e-6 (in practice exactly); VOC AP
agrees with the devkit's ``voc_ap`` to 1e-12.
"""

import contextlib
import io

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from course_utils import data, metrics


def coco_eval(ground_truth, predictions, image_size=(300, 300), area_ranges=None, max_dets=None):
    """Run pycocotools on our data; return the COCOeval object (quietly)."""
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        # the same category_offset on both sides, by keyword; 0 keeps category ids equal to our classes,
        # which assert_same_as_coco compares with the classes of our arrays
        gt.dataset = data.to_coco_ground_truth(ground_truth, image_sizes=image_size, category_offset=0)
        gt.createIndex()
        results = data.to_coco_detections(predictions, category_offset=0)
        dt = gt.loadRes(results) if results else COCO()
        if not results:
            dt.dataset = {"images": gt.dataset["images"], "annotations": [], "categories": gt.dataset["categories"]}
            dt.createIndex()
        ev = COCOeval(gt, dt, "bbox")
        if area_ranges is not None:
            ev.params.areaRng = [list(v) for v in area_ranges.values()]
        if max_dets is not None:
            ev.params.maxDets = list(max_dets)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


def random_scene(n_images, seed, n_classes=3, max_gt=6, max_dt=30, size=200.0, integer=False, score_levels=None):
    """Ground truth plus noisy detections around it, with extra false positives and wrong labels."""
    rng = np.random.default_rng(seed)
    gt, pred = [], []
    for _ in range(n_images):
        g = int(rng.integers(0, max_gt + 1))
        xy = rng.uniform(0, size, (g, 2))
        wh = rng.uniform(1, 130, (g, 2))
        boxes = np.c_[xy, xy + wh]
        labels = rng.integers(0, n_classes, g)
        if integer:
            boxes = np.round(boxes / 4) * 4
        gt.append({"boxes": boxes, "labels": labels})
        d = int(rng.integers(0, max_dt + 1))
        if g:
            src = rng.integers(0, g, d)
            db = boxes[src] + rng.normal(0, [2, 8, 20][seed % 3], (d, 4))
            dl = np.where(rng.random(d) < 0.8, labels[src], rng.integers(0, n_classes, d))
        else:
            db = rng.uniform(0, size, (d, 4))
            dl = rng.integers(0, n_classes, d)
        db = np.c_[np.minimum(db[:, :2], db[:, 2:]), np.maximum(db[:, :2], db[:, 2:])]
        if integer:
            db = np.round(db / 4) * 4
        scores = rng.random(d)
        if score_levels:
            scores = np.floor(scores * score_levels) / score_levels
        pred.append({"boxes": db, "scores": scores, "labels": dl})
    return gt, pred


def assert_same_as_coco(gt, pred, **kwargs):
    ours, arrays = metrics.evaluate_detections(pred, gt, return_arrays=True, area_ranges=kwargs.get("area_ranges"),
                                         max_detections=kwargs.get("max_dets") or (1, 10, 100))
    ev = coco_eval(gt, pred, **kwargs)
    # pycocotools' summarize() reads AP (its first number) at maxDets == 100 literally, so with other
    # limits it prints -1; we read it at the last limit, as it does for AP50 and AP75.
    first = 0 if 100 in ev.params.maxDets else 1
    np.testing.assert_allclose([ours[k] for k in metrics.COCO_STAT_NAMES][first:], ev.stats[first:], rtol=0, atol=1e-6)
    # classes listed by pycocotools are those of the ground truth
    keep = np.isin(arrays["classes"], [c["id"] for c in ev.cocoGt.dataset["categories"]])
    np.testing.assert_allclose(arrays["precision"][:, :, keep], ev.eval["precision"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(arrays["recall"][:, keep], ev.eval["recall"], rtol=0, atol=1e-6)
    return ours


def test_evaluate_detections_equals_pycocotools_on_random_scenes():
    checked = 0
    for seed in range(24):
        gt, pred = random_scene(
            n_images=[1, 5, 30, 60][seed % 4], seed=seed, n_classes=[1, 3, 7][seed % 3],
            max_dt=[0, 5, 30, 150][seed % 4] if seed else 3,  # 150: more than 100 detections per image
            integer=seed % 2 == 1, score_levels=[None, 3][seed % 2],
        )
        if not any(len(g["labels"]) for g in gt):
            continue
        assert_same_as_coco(gt, pred)
        checked += 1
    assert checked >= 20


def test_images_without_objects_or_detections_and_classes_without_objects():
    gt = [
        {"boxes": np.array([[10.0, 10, 50, 60]]), "labels": np.array([1])},
        {"boxes": np.zeros((0, 4)), "labels": np.zeros(0, int)},  # no object: its detections are FPs
        {"boxes": np.array([[0.0, 0, 120, 110], [5, 5, 25, 30]]), "labels": np.array([2, 1])},
        {"boxes": np.array([[30.0, 30, 40, 40]]), "labels": np.array([1])},  # no detection
    ]
    pred = [
        {"boxes": np.array([[11.0, 9, 50, 61], [10, 10, 50, 60]]), "scores": np.array([0.9, 0.3]),
         "labels": np.array([1, 1])},
        {"boxes": np.array([[0.0, 0, 30, 30]]), "scores": np.array([0.95]), "labels": np.array([1])},
        {"boxes": np.array([[2.0, 0, 118, 112], [5, 5, 25, 31], [60, 60, 70, 70]]),
         "scores": np.array([0.8, 0.7, 0.6]), "labels": np.array([2, 1, 3])},  # class 3 has no object
        {"boxes": np.zeros((0, 4)), "scores": np.zeros(0), "labels": np.zeros(0, int)},
    ]
    stats = assert_same_as_coco(gt, pred)
    assert stats["AP_large"] > 0 and stats["AP_small"] > 0


def test_perfect_detections_score_one_and_no_detections_zero():
    gt, _ = random_scene(10, 3, max_gt=5)
    perfect = [{"boxes": g["boxes"], "scores": np.ones(len(g["labels"])), "labels": g["labels"]} for g in gt]
    stats = metrics.evaluate_detections(perfect, gt)
    assert stats["AP"] == pytest.approx(1.0) and stats["AR100"] == pytest.approx(1.0)
    empty = [{"boxes": np.zeros((0, 4)), "scores": np.zeros(0), "labels": np.zeros(0, int)} for _ in gt]
    assert_same_as_coco(gt, empty)
    assert metrics.evaluate_detections(empty, gt)["AP"] == 0.0


def test_custom_area_ranges_max_detections_and_mask_areas():
    ranges = {"all": (0, 1e10), "small": (0, 16.0**2), "medium": (16.0**2, 48.0**2), "large": (48.0**2, 1e10)}
    gt, pred = random_scene(40, 11, n_classes=4, max_dt=40)
    rng = np.random.default_rng(0)
    for g in gt:  # areas smaller than the box, as a mask's would be
        box_area = (g["boxes"][:, 2] - g["boxes"][:, 0]) * (g["boxes"][:, 3] - g["boxes"][:, 1])
        g["area"] = box_area * rng.uniform(0.2, 0.8, len(box_area))
    assert_same_as_coco(gt, pred, area_ranges=ranges)
    assert_same_as_coco(gt, pred, max_dets=(2, 5, 20))


def test_accepts_tensors():
    torch = pytest.importorskip("torch")
    gt, pred = random_scene(8, 5)
    as_t = [{k: torch.as_tensor(v) for k, v in p.items()} for p in pred]
    assert metrics.evaluate_detections(as_t, gt) == metrics.evaluate_detections(pred, gt)


# --------------------------------------------------------------------------
# Matching, curves, VOC AP
# --------------------------------------------------------------------------


def voc_ap(rec, prec, use_07_metric=False):
    """PASCAL VOC devkit's AP (py-faster-rcnn voc_eval.py), transcribed as the reference."""
    if use_07_metric:
        ap = 0.0
        for t in np.arange(0.0, 1.1, 0.1):
            p = 0 if np.sum(rec >= t) == 0 else np.max(prec[rec >= t])
            ap = ap + p / 11.0
        return ap
    mrec = np.concatenate(([0.0], rec, [1.0]))
    mpre = np.concatenate(([0.0], prec, [0.0]))
    for i in range(mpre.size - 1, 0, -1):
        mpre[i - 1] = np.maximum(mpre[i - 1], mpre[i])
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1])


def test_average_precision_matches_voc_devkit():
    rng = np.random.default_rng(0)
    for trial in range(200):
        n = int(rng.integers(1, 60))
        is_tp = rng.random(n) < rng.uniform(0.1, 0.9)
        n_gt = int(is_tp.sum() + rng.integers(0 if is_tp.sum() else 1, 5))
        scores = np.floor(rng.random(n) * [100, 3][trial % 2])
        precision, recall = metrics.precision_recall_curve(is_tp, scores, n_gt)
        for method, old in (("all-point", False), ("11-point", True)):
            assert metrics.average_precision(recall, precision, method) == pytest.approx(
                voc_ap(recall, precision, old), abs=1e-12)
    assert metrics.average_precision(np.array([]), np.array([])) == 0.0


def test_precision_recall_curve_by_hand():
    precision, recall = metrics.precision_recall_curve([True, False, True, True], [0.9, 0.8, 0.7, 0.1], 5)
    np.testing.assert_allclose(recall, [0.2, 0.2, 0.4, 0.6])
    np.testing.assert_allclose(precision, [1, 0.5, 2 / 3, 0.75])
    assert metrics.average_precision(recall, precision) == pytest.approx(0.2 * 1 + 0.4 * 0.75)


def test_match_detections_rules():
    iou = np.array([[0.6, 0.7], [0.9, 0.4], [0.55, 0.2]])
    # the first detection takes object 1 (higher IoU), the second takes object 0, the third nothing
    np.testing.assert_array_equal(metrics.match_detections(iou, 0.5), [1, 0, -1])
    np.testing.assert_array_equal(metrics.match_detections(iou, [0.5, 0.65, 0.95]), [[1, 0, -1], [1, 0, -1], [-1, -1, -1]])
    # ties go to the last object; ignored objects only when no ordinary one is free
    np.testing.assert_array_equal(metrics.match_detections(np.array([[0.6, 0.6]]), 0.5), [1])
    assert metrics.match_detections(np.array([[0.9, 0.6]]), [0.5], gt_ignore=np.array([True, False]))[0, 0] == 1
    assert metrics.match_detections(np.zeros((3, 0)), 0.5).tolist() == [-1, -1, -1]


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: metrics.average_precision([0.5, 0.2], [1, 1]), ValueError, "recall must be non-decreasing"),
        (lambda: metrics.average_precision([0.5], [1, 1]), ValueError, "precision must have the shape of recall"),
        (lambda: metrics.average_precision([0.5], [1], method="101"), ValueError, "method must be one of"),
        (lambda: metrics.precision_recall_curve([True], [0.5], 0), ValueError, "n_ground_truth must be >= 1"),
        (lambda: metrics.evaluate_detections([{}], [{"boxes": [], "labels": []}]), TypeError, "predictions[0] must be a dict"),
        (lambda: metrics.evaluate_detections([], [{"boxes": [], "labels": []}]), ValueError, "one entry per image"),
        (lambda: metrics.evaluate_detections([{"boxes": [[2, 0, 1, 1]], "scores": [1], "labels": [0]}],
                                       [{"boxes": [], "labels": []}]), ValueError, "x2 >= x1"),
        (lambda: metrics.evaluate_detections([{"boxes": [[0, 0, 1, 1]], "scores": [np.nan], "labels": [0]}],
                                       [{"boxes": [], "labels": []}]), ValueError, "finite"),
        (lambda: metrics.evaluate_detections([{"boxes": [[0, 0, 1, 1]], "scores": [1, 2], "labels": [0]}],
                                       [{"boxes": [], "labels": []}]), ValueError, "one value per box"),
        (lambda: metrics.evaluate_detections([], [], area_ranges={"all": (0, 1)}), ValueError, "area_ranges must be"),
        (lambda: metrics.evaluate_detections([], [], max_detections=(1, 10)), TypeError, "max_detections must be"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)


def test_scene_targets_are_evaluated_by_their_mask_areas():
    """SceneDataset and Scenes.targets say ``area``, and that is the key the evaluator reads."""
    from course_utils import detection

    scenes = data.make_scenes(60, "val", seed=5)
    dataset = data.SceneDataset(scenes)
    dataset_targets = [dataset[i][1] for i in range(len(dataset))]
    assert all("area" in t for t in dataset_targets) and all("area" in t for t in scenes.targets)
    predictions = detection.noisy_detections(scenes.targets, canvas_size=128, seed=1, jitter=0.05)
    from_dataset = metrics.evaluate_detections(predictions, dataset_targets)
    from_scenes = metrics.evaluate_detections(predictions, scenes.targets)
    box_areas_only = metrics.evaluate_detections(
        predictions, [{"boxes": t["boxes"], "labels": t["labels"]} for t in scenes.targets])
    assert from_dataset == from_scenes
    # mask areas are smaller than box areas: objects move to smaller buckets, so the size numbers change
    assert from_dataset != box_areas_only
    assert from_dataset["AP"] == box_areas_only["AP"], "the 'all' range does not depend on areas"


# --------------------------------------------------------------------------
# evaluate_detector: a model run over a data set
# --------------------------------------------------------------------------


def _replay_detector(predictions):
    """A "detector" whose eval-mode output for image i is ``predictions[i]``: noisy ground truth, no training.

    Image i carries its index in its first pixel.
    """
    torch = pytest.importorskip("torch")

    class Replay(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.unused = torch.nn.Parameter(torch.zeros(1))  # a device to be found, as any model has

        def forward(self, images):
            assert not self.training and not torch.is_grad_enabled()
            return [{"boxes": torch.as_tensor(predictions[i]["boxes"], dtype=torch.float32),
                     "scores": torch.as_tensor(predictions[i]["scores"], dtype=torch.float32),
                     "labels": torch.as_tensor(predictions[i]["labels"])}
                    for i in images[:, 0, 0, 0].long().tolist()]

    return Replay()


def _as_dataset(ground_truth, with_area=False):
    """(image, target) pairs in torchvision's format, image i holding i in its first pixel."""
    torch = pytest.importorskip("torch")
    items = []
    for i, g in enumerate(ground_truth):
        image = torch.zeros(1, 4, 4)
        image[0, 0, 0] = i
        target = {"boxes": torch.as_tensor(g["boxes"], dtype=torch.float32).reshape(-1, 4),
                  "labels": torch.as_tensor(g["labels"], dtype=torch.int64),
                  "iscrowd": torch.zeros(len(g["labels"]), dtype=torch.int64), "image_id": i}
        if with_area:
            target["area"] = torch.as_tensor(g["area"], dtype=torch.float32)
        items.append((image, target))
    return items


def test_evaluate_detector_equals_pycocotools():
    torch = pytest.importorskip("torch")
    gt, pred = random_scene(23, seed=4, n_classes=3, max_dt=20)
    # the data set holds float32 boxes: compare with pycocotools on the same numbers
    gt = [{"boxes": np.float32(g["boxes"]).astype(float), "labels": g["labels"]} for g in gt]
    pred = [{"boxes": np.float32(p["boxes"]).astype(float), "scores": np.float32(p["scores"]).astype(float),
             "labels": p["labels"]} for p in pred]
    model = _replay_detector(pred)
    ours = metrics.evaluate_detector(model, _as_dataset(gt), batch_size=5)  # 5 batches, the last one of 3
    ev = coco_eval(gt, pred)
    np.testing.assert_allclose([ours[k] for k in metrics.COCO_STAT_NAMES], ev.stats, rtol=0, atol=1e-6)
    assert ours == metrics.evaluate_detections(pred, gt)

    # a DataLoader with its own collate, a device, and the size ranges passed through (mask-like areas)
    ranges = {"all": (0, 1e10), "small": (0, 16.0**2), "medium": (16.0**2, 48.0**2), "large": (48.0**2, 1e10)}
    rng = np.random.default_rng(1)
    for g in gt:
        g["area"] = np.float32((g["boxes"][:, 2] - g["boxes"][:, 0]) * (g["boxes"][:, 3] - g["boxes"][:, 1])
                               * rng.uniform(0.2, 0.8, len(g["labels"]))).astype(float)
    loader = torch.utils.data.DataLoader(_as_dataset(gt, with_area=True), batch_size=4,
                                         collate_fn=lambda b: (torch.stack([x for x, _ in b]), [t for _, t in b]))
    ours = metrics.evaluate_detector(model, loader, area_ranges=ranges, device="cpu")
    ev = coco_eval(gt, pred, area_ranges=ranges)
    np.testing.assert_allclose([ours[k] for k in metrics.COCO_STAT_NAMES], ev.stats, rtol=0, atol=1e-6)
    assert ours != metrics.evaluate_detector(model, loader), "the ranges were used"
    half = metrics.evaluate_detector(model, loader, iou_thresholds=[0.5], max_detections=(1, 5, 10))
    assert half == metrics.evaluate_detections(pred, gt, iou_thresholds=[0.5], max_detections=(1, 5, 10))


def test_evaluate_detector_rejects_what_it_cannot_score():
    torch = pytest.importorskip("torch")
    gt, pred = random_scene(4, seed=2)
    dataset = _as_dataset(gt)
    with pytest.raises(TypeError, match="model must return, in eval mode, a list with one dict"):
        metrics.evaluate_detector(torch.nn.Flatten(), dataset)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        metrics.evaluate_detector("detector", dataset)
    crowded = [(x, {**t, "iscrowd": torch.ones_like(t["iscrowd"])}) for x, t in dataset]
    assert all(len(t["labels"]) for _, t in crowded)
    with pytest.raises(ValueError, match="crowd regions"):
        metrics.evaluate_detector(_replay_detector(pred), crowded)
    with pytest.raises(TypeError, match="device must be"):
        metrics.evaluate_detector(_replay_detector(pred), dataset, device=1.5)


def test_detection_counts_equal_pycocotools_matches_at_one_threshold():
    for seed in range(8):
        gt, pred = random_scene(n_images=[3, 20][seed % 2], seed=100 + seed, n_classes=[1, 4][seed % 2], max_dt=40,
                                integer=seed % 2 == 1, score_levels=[None, 3][seed % 2])
        ev = coco_eval(gt, pred)
        # pycocotools' per-image records at area "all", 100 detections: dtMatches[0] is IoU 0.5
        records = [r for r in ev.evalImgs if r is not None and r["aRng"] == ev.params.areaRng[0]
                   and r["maxDet"] == 100]
        tp = sum(int(np.count_nonzero(r["dtMatches"][0] > 0)) for r in records)
        fp = sum(int(np.count_nonzero(r["dtMatches"][0] == 0)) for r in records)
        counts = metrics.detection_counts(pred, gt, iou_threshold=0.5)
        n_truth = sum(len(g["labels"]) for g in gt)
        assert (counts["tp"], counts["fp"], counts["fn"]) == (tp, fp, n_truth - tp)
        assert counts["recall"] == pytest.approx(tp / n_truth) and counts["precision"] == pytest.approx(tp / (tp + fp))
    high = metrics.detection_counts(pred, gt, iou_threshold=0.5, min_score=0.5)
    assert high["tp"] + high["fp"] == sum(int(np.count_nonzero(p["scores"] >= 0.5)) for p in pred)


def test_detection_counts_edge_cases():
    box = np.array([[0.0, 0, 10, 10]])
    nothing = {"boxes": np.zeros((0, 4)), "scores": np.zeros(0), "labels": np.zeros(0, int)}
    empty_truth = {"boxes": np.zeros((0, 4)), "labels": np.zeros(0, int)}
    assert metrics.detection_counts([nothing], [empty_truth]) == {"tp": 0, "fp": 0, "fn": 0, "precision": 1.0,
                                                                  "recall": 1.0}
    one = {"boxes": box, "labels": np.array([3])}
    assert metrics.detection_counts([nothing], [one])["recall"] == 0
    # right box, wrong class: a false positive and a miss; two copies: one TP and one duplicate FP
    wrong = {"boxes": box, "scores": np.array([0.9]), "labels": np.array([2])}
    assert metrics.detection_counts([wrong], [one]) == {"tp": 0, "fp": 1, "fn": 1, "precision": 0.0, "recall": 0.0}
    twice = {"boxes": np.r_[box, box], "scores": np.array([0.9, 0.8]), "labels": np.array([3, 3])}
    assert metrics.detection_counts([twice], [one])["fp"] == 1
    with pytest.raises(ValueError, match="one entry per image"):
        metrics.detection_counts([nothing, nothing], [one])
    with pytest.raises(ValueError, match="iou_threshold must be <= 1"):
        metrics.detection_counts([nothing], [one], iou_threshold=2)


def coco_segm_eval(ground_truth, predictions):
    """pycocotools' mask evaluation of per-image dicts of binary masks (RLE-encoded here)."""
    from pycocotools import mask as mask_utils

    height, width = ground_truth[0]["masks"].shape[1:]
    images = [{"id": i, "height": height, "width": width} for i in range(len(ground_truth))]
    classes = sorted({int(c) for g in ground_truth for c in g["labels"]} | {int(c) for p in predictions for c in p["labels"]})

    def rle(mask):
        encoded = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
        encoded["counts"] = encoded["counts"].decode("ascii")
        return encoded

    annotations, results = [], []
    for i, g in enumerate(ground_truth):
        for mask, label in zip(g["masks"], g["labels"]):
            r = rle(mask)
            annotations.append({"id": len(annotations) + 1, "image_id": i, "category_id": int(label), "segmentation": r,
                                "area": float(mask_utils.area(r)), "bbox": list(mask_utils.toBbox(r)), "iscrowd": 0})
    for i, p in enumerate(predictions):
        for mask, label, score in zip(p["masks"], p["labels"], p["scores"]):
            results.append({"image_id": i, "category_id": int(label), "segmentation": rle(mask), "score": float(score)})
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = {"images": images, "annotations": annotations, "categories": [{"id": c} for c in classes]}
        gt.createIndex()
        dt = gt.loadRes(results)
        ev = COCOeval(gt, dt, "segm")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


def random_mask_scene(n_images, seed, n_classes=3, size=32):
    """Scenes' instance masks as ground truth; predictions are shifted, grown or shrunk copies plus false alarms."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    scenes = data.make_scenes(n_images, "val", seed=seed)
    gt, pred = [], []
    for t in scenes.targets:
        masks, labels = t["masks"].astype(bool), t["labels"] % n_classes
        gt.append({"masks": masks, "labels": labels})
        out_masks, out_labels = [], []
        for mask, label in zip(masks, labels):
            for _ in range(int(rng.integers(0, 3))):
                m = np.roll(mask, tuple(rng.integers(-3, 4, 2)), axis=(0, 1))
                m = [ndimage.binary_dilation, ndimage.binary_erosion, lambda x: x][int(rng.integers(0, 3))](m)
                out_masks.append(m)
                out_labels.append(label if rng.random() < 0.8 else int(rng.integers(0, n_classes)))
        for _ in range(int(rng.integers(0, 3))):  # false alarms
            m = np.zeros(masks.shape[1:], bool)
            y, x = rng.integers(0, masks.shape[1] - 10, 2)
            m[y:y + int(rng.integers(2, 10)), x:x + int(rng.integers(2, 10))] = True
            out_masks.append(m)
            out_labels.append(int(rng.integers(0, n_classes)))
        shape = (0,) + masks.shape[1:]
        pred.append({"masks": np.array(out_masks).reshape((-1,) + masks.shape[1:]) if out_masks else np.zeros(shape, bool),
                     "labels": np.array(out_labels, dtype=np.int64), "scores": rng.random(len(out_labels))})
    return gt, pred


@pytest.mark.parametrize("seed", range(6))
def test_mask_evaluation_equals_pycocotools_segm(seed):
    gt, pred = random_mask_scene(n_images=[3, 20, 40][seed % 3], seed=seed, n_classes=[1, 3, 10][seed % 3])
    ours = metrics.evaluate_detections(pred, gt, iou_type="segm",
                                       area_ranges={"all": (0, 1e10), "small": (0, 100), "medium": (100, 300),
                                                    "large": (300, 1e10)})
    ev = coco_segm_eval(gt, pred)
    ev.params.areaRng = [[0, 1e10], [0, 100], [100, 300], [300, 1e10]]
    with contextlib.redirect_stdout(io.StringIO()):
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    np.testing.assert_allclose([ours[k] for k in metrics.COCO_STAT_NAMES], ev.stats, rtol=0, atol=1e-9)


def test_mask_iou_by_hand():
    a = np.zeros((2, 4, 4), bool)
    a[0, :2, :2] = True  # 4 pixels
    b = np.zeros((3, 4, 4), bool)
    b[0, :2, :1] = True  # 2 pixels inside a[0]
    b[1, 2:, 2:] = True  # disjoint
    iou = metrics.mask_iou(a, b)
    np.testing.assert_array_equal(iou, [[0.5, 0.0, 0.0], [0.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match="same"):
        metrics.mask_iou(a, np.zeros((1, 5, 4), bool))
