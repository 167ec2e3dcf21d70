"""Notebooks 00, 18 and 19: every graded cell accepts the solution and rejects the stub and plausible wrong answers."""

from graded import exercise_tests

START_PRELUDE = """
import numpy as np
from course_utils import data
"""

test_start_solution, test_start_wrong = exercise_tests("00_start_here.ipynb", START_PRELUDE, [
    ("start_to_unit_float", {
        "divided by 256": "def to_unit_float(image):\n    return np.asarray(image, dtype=np.float64) / 256\n",
        "float32": "def to_unit_float(image):\n    return np.asarray(image, dtype=np.float32) / 255\n",
        "stretched to the image's own range": (
            "def to_unit_float(image):\n    image = np.asarray(image, dtype=np.float64)\n"
            "    return (image - image.min()) / (image.max() - image.min())\n"),
    }),
    ("start_center_crop", {
        "extra pixel at the top and left": (
            "def center_crop(image, size):\n    top = -(-(image.shape[0] - size) // 2)\n"
            "    left = -(-(image.shape[1] - size) // 2)\n    return image[top:top + size, left:left + size]\n"),
        "rows and columns crossed": (
            "def center_crop(image, size):\n    top = (image.shape[1] - size) // 2\n"
            "    left = (image.shape[0] - size) // 2\n    return image[top:top + size, left:left + size]\n"),
        "the last two axes cropped": (
            "def center_crop(image, size):\n    top = (image.shape[-2] - size) // 2\n"
            "    left = (image.shape[-1] - size) // 2\n    return image[..., top:top + size, left:left + size]\n"),
    }),
])

METRICS_PRELUDE = """
import numpy as np
from course_utils import data, detection, metrics

SEED = 0
scenes = data.make_scenes(300, "val", preset="simple", seed=SEED + 1)
truth = scenes.targets
detections = detection.noisy_detections(truth, canvas_size=128, seed=SEED, jitter=0.1)


def class_curve(label, threshold=0.5):
    is_tp, scores, n_objects = [], [], 0
    for d, t in zip(detections, truth):
        mine = np.flatnonzero(d["labels"] == label)
        mine = mine[np.argsort(-d["scores"][mine], kind="stable")]
        theirs = t["boxes"][t["labels"] == label]
        is_tp.append(metrics.match_detections(detection.box_iou(d["boxes"][mine], theirs), threshold) >= 0)
        scores.append(d["scores"][mine])
        n_objects += len(theirs)
    return np.concatenate(is_tp), np.concatenate(scores), n_objects


is_tp, scores, n_objects = class_curve(3)
precision, recall = metrics.precision_recall_curve(is_tp, scores, n_objects)
"""

_BEST_F1_HEAD = "def best_f1_threshold(is_tp, scores, n_objects):\n"
test_metrics_solution, test_metrics_wrong = exercise_tests("5_detection/18_detection_metrics.ipynb", METRICS_PRELUDE, [
    ("detmetrics_precision_recall", {
        "recall over the detections": (
            "def precision_recall(is_tp, n_objects):\n    tp = np.cumsum(np.asarray(is_tp, dtype=bool))\n"
            "    k = np.arange(1, len(tp) + 1)\n    return tp / k, tp / len(tp)\n"),
        "precision and recall swapped": (
            "def precision_recall(is_tp, n_objects):\n    tp = np.cumsum(np.asarray(is_tp, dtype=bool))\n"
            "    return tp / n_objects, tp / np.arange(1, len(tp) + 1)\n"),
        "the course's curve": (
            "def precision_recall(is_tp, n_objects):\n"
            "    p, r = metrics.precision_recall_curve(np.asarray(is_tp), -np.arange(len(is_tp)), n_objects)\n"
            "    return p, r\n"),
    }),
    ("detmetrics_ap_11", {
        "precision at the first recall reaching the level": (
            "def ap_11_point(recall, precision):\n    recall, precision = np.asarray(recall), np.asarray(precision)\n"
            "    total = 0.0\n    for t in np.linspace(0, 1, 11):\n        reached = np.flatnonzero(recall >= t)\n"
            "        total += precision[reached[0]] if reached.size else 0.0\n    return total / 11\n"),
        "ten levels": (
            "def ap_11_point(recall, precision):\n    recall, precision = np.asarray(recall), np.asarray(precision)\n"
            "    return float(np.mean([precision[recall >= t].max(initial=0.0) for t in np.linspace(0, 0.9, 10)]))\n"),
        "the course's AP": (
            "def ap_11_point(recall, precision):\n"
            "    return metrics.average_precision(recall, precision, '11-point')\n"),
    }),
    ("detmetrics_count_matches", {
        "taken objects not removed": (
            "def count_matches(iou, threshold):\n    iou = np.asarray(iou, dtype=float)\n"
            "    return int(sum(row.size and row.max() >= threshold for row in iou))\n"),
        "strictly above the threshold": (
            "def count_matches(iou, threshold):\n    iou = np.asarray(iou, dtype=float)\n"
            "    free = np.ones(iou.shape[1], dtype=bool)\n    count = 0\n    for row in iou:\n"
            "        candidates = np.where(free & (row > threshold), row, -1.0)\n"
            "        if candidates.size and candidates.max() > 0:\n"
            "            free[np.argmax(candidates)] = False\n            count += 1\n    return count\n"),
        "objects counted, not matches": (
            "def count_matches(iou, threshold):\n    iou = np.asarray(iou, dtype=float)\n"
            "    return int((iou >= threshold).any(axis=0).sum())\n"),
        "the course's matcher": (
            "def count_matches(iou, threshold):\n"
            "    return int((metrics.match_detections(np.asarray(iou), threshold) >= 0).sum())\n"),
    }),
    ("detmetrics_best_f1", {
        "ties split": _BEST_F1_HEAD + (
            "    is_tp, scores = np.asarray(is_tp, dtype=bool), np.asarray(scores, dtype=float)\n"
            "    order = np.argsort(-scores, kind='stable')\n    tp = np.cumsum(is_tp[order])\n"
            "    f1 = 2 * tp / (np.arange(1, len(tp) + 1) + n_objects)\n    best = int(np.argmax(f1))\n"
            "    return float(scores[order][best]), float(f1[best])\n"),
        "inputs assumed sorted": _BEST_F1_HEAD + (
            "    is_tp, scores = np.asarray(is_tp, dtype=bool), np.asarray(scores, dtype=float)\n"
            "    tp = np.cumsum(is_tp)\n    last = np.r_[scores[1:] != scores[:-1], True]\n"
            "    f1 = 2 * tp[last] / (np.arange(1, len(tp) + 1)[last] + n_objects)\n    best = int(np.argmax(f1))\n"
            "    return float(scores[last][best]), float(f1[best])\n"),
        "the lower threshold on a tie": _BEST_F1_HEAD + (
            "    is_tp, scores = np.asarray(is_tp, dtype=bool), np.asarray(scores, dtype=float)\n"
            "    levels = np.unique(scores)\n"
            "    f1 = [2 * np.sum(is_tp & (scores >= t)) / (np.sum(scores >= t) + n_objects) for t in levels]\n"
            "    best = int(np.argmax(f1))  # levels ascend: the first maximum is the lowest threshold\n    return float(levels[best]), float(f1[best])\n"),
        "F1 from the true positives instead of the objects": _BEST_F1_HEAD + (
            "    is_tp, scores = np.asarray(is_tp, dtype=bool), np.asarray(scores, dtype=float)\n"
            "    levels = np.unique(scores)[::-1]\n"
            "    f1 = [2 * np.sum(is_tp & (scores >= t)) / (np.sum(scores >= t) + is_tp.sum()) for t in levels]\n"
            "    best = int(np.argmax(f1))\n    return float(levels[best]), float(f1[best])\n"),
        "the course's curve": _BEST_F1_HEAD + (
            "    p, r = metrics.precision_recall_curve(np.asarray(is_tp), np.asarray(scores), n_objects)\n"
            "    f1 = 2 * p * r / np.maximum(p + r, 1e-12)\n    best = int(np.argmax(f1))\n"
            "    return float(np.sort(scores)[::-1][best]), float(f1[best])\n"),
    }),
])

NMS_PRELUDE = """
import numpy as np
import torch
from course_utils import data, detection

SEED = 0
scenes = data.make_scenes(200, "val", preset="simple", seed=SEED + 3, digits=(4, 6), scale=(0.25, 0.5), max_overlap=0.8)
truth = scenes.targets
detections = detection.noisy_detections(truth, 128, seed=SEED, jitter=0.05, copies=(2, 4), false_positives=(0, 2),
                                       wrong_class=0.0)
anchors = detection.make_anchors((4, 4), 32, sizes=(32, 64), aspect_ratios=(0.5, 1.0, 2.0))
t0 = truth[0]
matches = detection.match_anchors(detection.box_iou(torch.from_numpy(t0["boxes"]), anchors), high=0.7, low=0.3,
                                  allow_low_quality=True)
positive = torch.nonzero(matches >= 0).flatten()
deltas = detection.encode_boxes(torch.from_numpy(t0["boxes"])[matches[positive]], anchors[positive])
"""

_NMS_HEAD = "def simple_nms(box_list, scores, iou_threshold):\n"
_SHAPE_HEAD = "def best_shape_iou(box_sizes, anchor_sizes):\n"
test_nms_solution, test_nms_wrong = exercise_tests("5_detection/19_nms_and_anchors.ipynb", NMS_PRELUDE, [
    ("nms_count_windows", {
        "partial windows counted": "def count_windows(image_size, window, stride):\n"
                                   "    return (-(-(image_size - window) // stride) + 1) ** 2\n",
        "one axis only": "def count_windows(image_size, window, stride):\n"
                         "    return (image_size - window) // stride + 1\n",
        "off by one": "def count_windows(image_size, window, stride):\n"
                      "    return ((image_size - window) // stride) ** 2\n",
        "the course's windows": "def count_windows(image_size, window, stride):\n"
                                "    return len(detection.sliding_windows(image_size, [window], [1.0], "
                                "stride_fraction=stride / window))\n",
    }),
    ("nms_greedy", {
        "torchvision's nms": ("def simple_nms(box_list, scores, iou_threshold):\n    import torch, torchvision\n"
                              "    boxes = torch.as_tensor(np.asarray(box_list, float)).reshape(-1, 4)\n"
                              "    return torchvision.ops.nms(boxes, torch.as_tensor(np.asarray(scores, float)),\n"
                              "                               iou_threshold).tolist()\n"),
        "input order, not score order": _NMS_HEAD + (
            "    box_list = np.asarray(box_list, dtype=float)\n    remaining, keep = list(range(len(box_list))), []\n"
            "    while remaining:\n        best = remaining.pop(0)\n        keep.append(best)\n"
            "        if remaining:\n            overlap = detection.box_iou(box_list[[best]], box_list[remaining])[0]\n"
            "            remaining = [r for r, o in zip(remaining, overlap) if not o > iou_threshold]\n"
            "    return keep\n"),
        "removed boxes still suppress": _NMS_HEAD + (
            "    box_list, scores = np.asarray(box_list, dtype=float), np.asarray(scores, dtype=float)\n"
            "    order = list(np.argsort(-scores, kind='stable'))\n    if not order:\n        return []\n"
            "    iou = detection.box_iou(box_list, box_list)\n"
            "    return [int(i) for k, i in enumerate(order) if all(iou[i, j] <= iou_threshold for j in order[:k])]\n"),
        "the course's NMS": _NMS_HEAD + (
            "    return detection.nms(np.asarray(box_list, dtype=float), np.asarray(scores, dtype=float), "
            "iou_threshold).tolist()\n"),
    }),
    ("nms_decode_one", {
        "offsets in pixels": (
            "def decode_one(anchor, offsets):\n    x1, y1, x2, y2 = anchor\n    tx, ty, tw, th = offsets\n"
            "    wa, ha = x2 - x1, y2 - y1\n    cx, cy = x1 + wa / 2 + tx, y1 + ha / 2 + ty\n"
            "    w, h = wa * np.exp(tw), ha * np.exp(th)\n    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)\n"),
        "width and height offsets swapped": (
            "def decode_one(anchor, offsets):\n    x1, y1, x2, y2 = anchor\n    tx, ty, tw, th = offsets\n"
            "    wa, ha = x2 - x1, y2 - y1\n    cx, cy = x1 + wa / 2 + tx * wa, y1 + ha / 2 + ty * ha\n"
            "    w, h = wa * np.exp(th), ha * np.exp(tw)\n    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)\n"),
        "corner kept instead of centre": (
            "def decode_one(anchor, offsets):\n    x1, y1, x2, y2 = anchor\n    tx, ty, tw, th = offsets\n"
            "    wa, ha = x2 - x1, y2 - y1\n    x, y = x1 + tx * wa, y1 + ty * ha\n"
            "    return (x, y, x + wa * np.exp(tw), y + ha * np.exp(th))\n"),
        "the course's decoder": (
            "def decode_one(anchor, offsets):\n"
            "    return tuple(detection.decode_boxes(torch.tensor([offsets], dtype=torch.float32), "
            "torch.tensor([anchor], dtype=torch.float32))[0].tolist())\n"),
    }),
    ("nms_best_shape_iou", {
        "area ratio": _SHAPE_HEAD + (
            "    a = np.asarray(box_sizes, dtype=float).prod(1)[:, None]\n"
            "    b = np.asarray(anchor_sizes, dtype=float).prod(1)[None]\n"
            "    return (np.minimum(a, b) / np.maximum(a, b)).max(1)\n"),
        "union without the overlap removed": _SHAPE_HEAD + (
            "    a, b = np.asarray(box_sizes, dtype=float)[:, None], np.asarray(anchor_sizes, dtype=float)[None]\n"
            "    overlap = np.minimum(a, b).prod(2)\n    return (overlap / (a.prod(2) + b.prod(2))).max(1)\n"),
        "mean over anchors": _SHAPE_HEAD + (
            "    a, b = np.asarray(box_sizes, dtype=float)[:, None], np.asarray(anchor_sizes, dtype=float)[None]\n"
            "    overlap = np.minimum(a, b).prod(2)\n    return (overlap / (a.prod(2) + b.prod(2) - overlap)).mean(1)\n"),
        "width of one, height of the other": _SHAPE_HEAD + (
            "    a, b = np.asarray(box_sizes, dtype=float)[:, None], np.asarray(anchor_sizes, dtype=float)[None]\n"
            "    overlap = np.minimum(a[..., 0], b[..., 1]) * np.minimum(a[..., 1], b[..., 0])\n"
            "    return (overlap / (a.prod(2) + b.prod(2) - overlap)).max(1)\n"),
        "the course's shape IoU": _SHAPE_HEAD + (
            "    return detection.shape_iou(torch.as_tensor(np.asarray(box_sizes, dtype=float)), "
            "torch.as_tensor(np.asarray(anchor_sizes, dtype=float))).max(1).values.numpy()\n"),
    }),
])
