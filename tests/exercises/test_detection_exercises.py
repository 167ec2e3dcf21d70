"""Notebooks 20-24: every graded cell accepts the solution and rejects the stub and plausible wrong answers."""

import pytest

from graded import exercise_cells, grade, stub

COMMON = """
import math
import numpy as np
import torch
import torchvision
from course_utils import detection
SEED = 0
"""
PRELUDES = {
    "20_region_proposals_and_rcnn": COMMON + """
_corners = np.sort(np.random.default_rng(0).uniform(0, 64, (40, 2, 2)), axis=1)
test_proposals = {2: torch.tensor(np.c_[_corners[:, 0], _corners[:, 1]][:, [0, 1, 2, 3]], dtype=torch.float64)}
""",
    "21_faster_rcnn": COMMON + "anchors = [None] * (16 * 16 * 9)\n",
    "22_yolo": COMMON,
    "23_ssd": COMMON + """
LEVELS, RATIOS = [(16, 16), (8, 8), (4, 4)], [[2.0], [2.0], [2.0]]
defaults = detection.ssd_default_boxes(LEVELS, (64, 64), RATIOS)
""",
    "24_anchor_free": COMMON,
}

_BACKWARD = ("def roi_align_bin_backward(map_shape, points, grad):\n"
             "    h, w = map_shape\n    result = np.zeros((h, w))\n"
             "    for y, x in points:\n"
             "        y0, x0 = int(math.floor(y)), int(math.floor(x))\n"
             "        y1, x1 = {y1}, min(x0 + 1, w - 1)\n        fy, fx = y - y0, x - x0\n"
             "        for row, wy in ((y0, 1 - {fy}), (y1, {fy})):\n"
             "            for col, wx in ((x0, 1 - {fx}), (x1, {fx})):\n"
             "                result[row, col] {op} grad * wy * wx / {n}\n"
             "    return result\n")

WRONG = {
    ("20_region_proposals_and_rcnn", "rcnn_fill_similarity"): {
        "sizes not subtracted": ("def fill_similarity(box_a, size_a, box_b, size_b, image_size):\n"
                                 "    x1, y1 = min(box_a[0], box_b[0]), min(box_a[1], box_b[1])\n"
                                 "    x2, y2 = max(box_a[2], box_b[2]), max(box_a[3], box_b[3])\n"
                                 "    return 1 - (x2 - x1) * (y2 - y1) / image_size\n"),
        "two boxes instead of the box around both": (
            "def fill_similarity(box_a, size_a, box_b, size_b, image_size):\n"
            "    area = lambda b: (b[2] - b[0]) * (b[3] - b[1])\n"
            "    return 1 - (area(box_a) + area(box_b) - size_a - size_b) / image_size\n"),
        "the course's own similarity": (
            "def fill_similarity(box_a, size_a, box_b, size_b, image_size):\n"
            "    regions = {'size': np.array([size_a, size_b], float), 'box': np.array([box_a, box_b], float)}\n"
            "    return detection.proposals._similarity(regions, np.array([0]), np.array([1]), {'fill'}, image_size)[0]\n"),
    },
    ("20_region_proposals_and_rcnn", "rcnn_pool_bins"): {
        "Python's round": ("def pool_bins(x1, x2, bins, stride, map_size):\n"
                           "    first, last = round(x1 / stride), round(x2 / stride)\n"
                           "    size = max(last - first + 1, 1) / bins\n"
                           "    return [(min(max(first + math.floor(j * size), 0), map_size),\n"
                           "             min(max(first + math.ceil((j + 1) * size), 0), map_size)) for j in range(bins)]\n"),
        "not clipped to the map": ("def pool_bins(x1, x2, bins, stride, map_size):\n"
                                   "    first, last = math.floor(x1 / stride + 0.5), math.floor(x2 / stride + 0.5)\n"
                                   "    size = max(last - first + 1, 1) / bins\n"
                                   "    return [(first + math.floor(j * size), first + math.ceil((j + 1) * size))\n"
                                   "            for j in range(bins)]\n"),
        "bins rounded inwards": ("def pool_bins(x1, x2, bins, stride, map_size):\n"
                                 "    first, last = math.floor(x1 / stride + 0.5), math.floor(x2 / stride + 0.5)\n"
                                 "    size = max(last - first + 1, 1) / bins\n"
                                 "    return [(min(max(first + math.floor(j * size), 0), map_size),\n"
                                 "             min(max(first + math.floor((j + 1) * size), 0), map_size)) for j in range(bins)]\n"),
    },
    ("20_region_proposals_and_rcnn", "rcnn_bilinear"): {
        "reads past the last cell": ("def bilinear(feature_map, y, x):\n"
                                     "    v = np.asarray(feature_map, float)\n"
                                     "    y0, x0 = int(math.floor(y)), int(math.floor(x))\n"
                                     "    fy, fx = y - y0, x - x0\n"
                                     "    top = (1 - fx) * v[y0, x0] + fx * v[y0, x0 + 1]\n"
                                     "    bottom = (1 - fx) * v[y0 + 1, x0] + fx * v[y0 + 1, x0 + 1]\n"
                                     "    return (1 - fy) * top + fy * bottom\n"),
        "weights of the two axes swapped": ("def bilinear(feature_map, y, x):\n"
                                            "    v = np.asarray(feature_map, float)\n"
                                            "    h, w = v.shape\n"
                                            "    y0, x0 = int(math.floor(y)), int(math.floor(x))\n"
                                            "    y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)\n"
                                            "    fy, fx = x - x0, y - y0\n"
                                            "    top = (1 - fx) * v[y0, x0] + fx * v[y0, x1]\n"
                                            "    bottom = (1 - fx) * v[y1, x0] + fx * v[y1, x1]\n"
                                            "    return (1 - fy) * top + fy * bottom\n"),
        "nearest neighbour": ("def bilinear(feature_map, y, x):\n"
                              "    return float(np.asarray(feature_map, float)[int(round(y)), int(round(x))])\n"),
    },
    ("20_region_proposals_and_rcnn", "rcnn_roi_align_backward"): {
        "sum, not mean": _BACKWARD.format(y1="min(y0 + 1, h - 1)", fy="fy", fx="fx", op="+=", n="1"),
        "shared cells overwritten": _BACKWARD.format(y1="min(y0 + 1, h - 1)", fy="fy", fx="fx", op="=",
                                                     n="len(points)"),
        "y and x fractions swapped": _BACKWARD.format(y1="min(y0 + 1, h - 1)", fy="fx", fx="fy", op="+=",
                                                      n="len(points)"),
        "reads past the last row": _BACKWARD.format(y1="y0 + 1", fy="fy", fx="fx", op="+=", n="len(points)"),
        "autograd through a torch bilinear": (
            "def roi_align_bin_backward(map_shape, points, grad):\n"
            "    m = torch.zeros(map_shape, dtype=torch.float64, requires_grad=True)\n"
            "    h, w = map_shape\n    total = 0\n"
            "    for y, x in points:\n"
            "        y0, x0 = int(math.floor(y)), int(math.floor(x))\n"
            "        y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)\n        fy, fx = y - y0, x - x0\n"
            "        total = total + ((1 - fy) * ((1 - fx) * m[y0, x0] + fx * m[y0, x1])\n"
            "                         + fy * ((1 - fx) * m[y1, x0] + fx * m[y1, x1]))\n"
            "    (total / len(points) * grad).backward()\n    return m.grad.numpy()\n"),
        "torchvision's RoI Align and autograd": (
            "def roi_align_bin_backward(map_shape, points, grad):\n"
            "    m = torch.zeros((1, 1, *map_shape), dtype=torch.float64, requires_grad=True)\n"
            "    boxes = torch.tensor([[0, x, y, x + 1, y + 1] for y, x in points], dtype=torch.float64)\n"
            "    (torchvision.ops.roi_align(m, boxes, 1, 1.0, 1, True).mean() * grad).backward()\n"
            "    return m.grad[0, 0].numpy()\n"),
        "torchvision's RoIAlign module on one-hot maps": (
            "def roi_align_bin_backward(map_shape, points, grad):\n"
            "    layer = torchvision.ops.RoIAlign((1, 1), 1.0, 1, True)\n"
            "    h, w = map_shape\n    eye = torch.eye(h * w, dtype=torch.float64).reshape(h * w, 1, h, w)\n"
            "    boxes = [torch.tensor([[x, y, x + 1, y + 1] for y, x in points], dtype=torch.float64)] * (h * w)\n"
            "    return (layer(eye, boxes).reshape(h * w, -1).mean(1) * grad).reshape(h, w).numpy()\n"),
        "fancy-index += loses repeated cells": (
            "def roi_align_bin_backward(map_shape, points, grad):\n"
            "    h, w = map_shape\n    p = np.asarray(points, float).reshape(-1, 2)\n    r = np.zeros((h, w))\n"
            "    y0, x0 = np.floor(p[:, 0]).astype(int), np.floor(p[:, 1]).astype(int)\n"
            "    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)\n"
            "    fy, fx = p[:, 0] - y0, p[:, 1] - x0\n    g = grad / len(p)\n"
            "    r[y0, x0] += g * (1 - fy) * (1 - fx)\n    r[y0, x1] += g * (1 - fy) * fx\n"
            "    r[y1, x0] += g * fy * (1 - fx)\n    r[y1, x1] += g * fy * fx\n    return r\n"),
    },
    ("21_faster_rcnn", "frcnn_count_anchors"): {
        "map size rounded down": ("def count_anchors(height, width, stride, n_sizes, n_ratios):\n"
                                  "    return (height // stride) * (width // stride) * n_sizes * n_ratios\n"),
        "ratios forgotten": ("def count_anchors(height, width, stride, n_sizes, n_ratios):\n"
                             "    return -(-height // stride) * -(-width // stride) * n_sizes\n"),
        "the course's anchors, counted": (
            "def count_anchors(height, width, stride, n_sizes, n_ratios):\n"
            "    return len(detection.make_anchors((-(-height // stride), -(-width // stride)), stride,\n"
            "                                      list(range(8, 8 + 4 * n_sizes, 4)), [1.0 + i for i in range(n_ratios)]))\n"),
        "torchvision's AnchorGenerator through rpn": (
            "def count_anchors(height, width, stride, n_sizes, n_ratios):\n"
            "    from torchvision.models.detection.rpn import AnchorGenerator\n"
            "    from torchvision.models.detection.image_list import ImageList\n"
            "    g = AnchorGenerator((tuple(range(8, 8 + 4 * n_sizes, 4)),), (tuple(1.0 + i for i in range(n_ratios)),))\n"
            "    cells = torch.zeros(1, 1, -(-height // stride), -(-width // stride))\n"
            "    return len(g(ImageList(torch.zeros(1, 1, height, width), [(height, width)]), [cells])[0])\n"),
    },
    ("21_faster_rcnn", "frcnn_label_anchors"): {
        "no best-anchor rescue": ("def label_anchors(iou, high, low):\n"
                                  "    iou = np.asarray(iou, float)\n"
                                  "    if iou.shape[0] == 0:\n        return np.zeros(iou.shape[1], int)\n"
                                  "    best = iou.max(axis=0)\n"
                                  "    return np.where(best >= high, 1, np.where(best < low, 0, -1))\n"),
        "strict threshold": ("def label_anchors(iou, high, low):\n"
                             "    iou = np.asarray(iou, float)\n"
                             "    if iou.shape[0] == 0:\n        return np.zeros(iou.shape[1], int)\n"
                             "    best = iou.max(axis=0)\n"
                             "    labels = np.where(best > high, 1, np.where(best < low, 0, -1))\n"
                             "    labels[(iou == iou.max(axis=1, keepdims=True)).any(axis=0)] = 1\n"
                             "    return labels\n"),
        "one rescued anchor per object, ties ignored": (
            "def label_anchors(iou, high, low):\n"
            "    iou = np.asarray(iou, float)\n"
            "    if iou.shape[0] == 0:\n        return np.zeros(iou.shape[1], int)\n"
            "    best = iou.max(axis=0)\n"
            "    labels = np.where(best >= high, 1, np.where(best < low, 0, -1))\n"
            "    labels[iou.argmax(axis=1)] = 1\n"
            "    return labels\n"),
    },
    ("21_faster_rcnn", "frcnn_true_class_deltas"): {
        "classes along the wrong axis": ("def true_class_deltas(box_deltas, labels):\n"
                                         "    per_class = box_deltas.reshape(box_deltas.shape[0], 4, -1)\n"
                                         "    return per_class[torch.arange(len(labels)), :, labels]\n"),
        "background assumed absent": ("def true_class_deltas(box_deltas, labels):\n"
                                      "    per_class = box_deltas.reshape(box_deltas.shape[0], -1, 4)\n"
                                      "    return per_class[torch.arange(len(labels)), labels - 1]\n"),
    },
    ("22_yolo", "yolo_v1_target"): {
        "row and column swapped": ("def yolo_v1_target(box, image_size, grid):\n"
                                   "    x1, y1, x2, y2 = (float(v) for v in box)\n    cell = image_size / grid\n"
                                   "    cx, cy = (x1 + x2) / 2 / cell, (y1 + y2) / 2 / cell\n"
                                   "    row, column = min(int(cx), grid - 1), min(int(cy), grid - 1)\n"
                                   "    return row, column, cx - row, cy - column, ((x2 - x1) / image_size) ** 0.5, "
                                   "((y2 - y1) / image_size) ** 0.5\n"),
        "offsets in pixels": ("def yolo_v1_target(box, image_size, grid):\n"
                              "    x1, y1, x2, y2 = (float(v) for v in box)\n    cell = image_size / grid\n"
                              "    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2\n"
                              "    row, column = min(int(cy // cell), grid - 1), min(int(cx // cell), grid - 1)\n"
                              "    return row, column, cx - column * cell, cy - row * cell, "
                              "((x2 - x1) / image_size) ** 0.5, ((y2 - y1) / image_size) ** 0.5\n"),
        "sizes without the square root": ("def yolo_v1_target(box, image_size, grid):\n"
                                          "    x1, y1, x2, y2 = (float(v) for v in box)\n    cell = image_size / grid\n"
                                          "    cx, cy = (x1 + x2) / 2 / cell, (y1 + y2) / 2 / cell\n"
                                          "    row, column = min(int(cy), grid - 1), min(int(cx), grid - 1)\n"
                                          "    return row, column, cx - column, cy - row, (x2 - x1) / image_size, "
                                          "(y2 - y1) / image_size\n"),
    },
    ("22_yolo", "yolo_decode_one"): {
        "no sigmoid on the offsets": ("def decode_one(tx, ty, tw, th, row, column, anchor_w, anchor_h, stride):\n"
                                      "    cx, cy = (column + tx) * stride, (row + ty) * stride\n"
                                      "    w, h = anchor_w * math.exp(tw), anchor_h * math.exp(th)\n"
                                      "    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2\n"),
        "row and column swapped": ("def decode_one(tx, ty, tw, th, row, column, anchor_w, anchor_h, stride):\n"
                                   "    s = lambda v: 1 / (1 + math.exp(-v))\n"
                                   "    cx, cy = (row + s(tx)) * stride, (column + s(ty)) * stride\n"
                                   "    w, h = anchor_w * math.exp(tw), anchor_h * math.exp(th)\n"
                                   "    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2\n"),
        "linear sizes": ("def decode_one(tx, ty, tw, th, row, column, anchor_w, anchor_h, stride):\n"
                         "    s = lambda v: 1 / (1 + math.exp(-v))\n"
                         "    cx, cy = (column + s(tx)) * stride, (row + s(ty)) * stride\n"
                         "    w, h = anchor_w * (1 + tw), anchor_h * (1 + th)\n"
                         "    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2\n"),
    },
    ("23_ssd", "ssd_count_default_boxes"): {
        "one square per cell": ("def count_default_boxes(map_sides, ratios_per_map):\n"
                                "    return sum(s * s * (1 + 2 * len(r)) for s, r in zip(map_sides, ratios_per_map))\n"),
        "sides, not cells": ("def count_default_boxes(map_sides, ratios_per_map):\n"
                             "    return sum(s * (2 + 2 * len(r)) for s, r in zip(map_sides, ratios_per_map))\n"),
        "the course's default boxes, counted": (
            "def count_default_boxes(map_sides, ratios_per_map):\n"
            "    return len(detection.ssd_default_boxes([(s, s) for s in map_sides], (96, 96), ratios_per_map))\n"),
        "torchvision's DefaultBoxGenerator through ssd": (
            "def count_default_boxes(map_sides, ratios_per_map):\n"
            "    from torchvision.models.detection.ssd import DefaultBoxGenerator\n"
            "    from torchvision.models.detection.image_list import ImageList\n"
            "    g = DefaultBoxGenerator([list(r) for r in ratios_per_map])\n"
            "    maps = [torch.zeros(1, 1, s, s) for s in map_sides]\n"
            "    return len(g(ImageList(torch.zeros(1, 1, 96, 96), [(96, 96)]), maps)[0])\n"),
    },
    ("23_ssd", "ssd_hard_negatives"): {
        "easiest negatives": ("def hard_negatives(loss, positive, ratio):\n"
                              "    loss, positive = np.asarray(loss, float), np.asarray(positive, bool)\n"
                              "    c = np.flatnonzero(~positive)\n    chosen = np.zeros(len(loss), bool)\n"
                              "    chosen[c[np.argsort(loss[c])][:ratio * int(positive.sum())]] = True\n"
                              "    return chosen\n"),
        "positives ranked too": ("def hard_negatives(loss, positive, ratio):\n"
                                 "    loss, positive = np.asarray(loss, float), np.asarray(positive, bool)\n"
                                 "    chosen = np.zeros(len(loss), bool)\n"
                                 "    chosen[np.argsort(-loss)[:ratio * int(positive.sum())]] = True\n"
                                 "    return chosen & ~positive\n"),
        "ratio of all boxes": ("def hard_negatives(loss, positive, ratio):\n"
                               "    loss, positive = np.asarray(loss, float), np.asarray(positive, bool)\n"
                               "    c = np.flatnonzero(~positive)\n    chosen = np.zeros(len(loss), bool)\n"
                               "    chosen[c[np.argsort(-loss[c])][:max(1, len(loss) // (ratio + 1))]] = True\n"
                               "    return chosen\n"),
    },
    ("24_anchor_free", "anchor_free_centerness"): {
        "no square root": ("def center_ness(left, top, right, bottom):\n"
                           "    return (min(left, right) / max(left, right)) * (min(top, bottom) / max(top, bottom))\n"),
        "one ratio over all four sides": ("def center_ness(left, top, right, bottom):\n"
                                          "    d = (left, top, right, bottom)\n    return (min(d) / max(d)) ** 0.5\n"),
    },
    ("24_anchor_free", "anchor_free_focal_loss"): {
        "the given bug, p_t ** gamma": ("def focal_loss(p, y, alpha=0.25, gamma=2.0):\n"
                                        "    p_t = p if y == 1 else 1 - p\n    a = alpha if y == 1 else 1 - alpha\n"
                                        "    return -a * p_t ** gamma * math.log(p_t)\n"),
        "alpha not switched for background": ("def focal_loss(p, y, alpha=0.25, gamma=2.0):\n"
                                              "    p_t = p if y == 1 else 1 - p\n"
                                              "    return -alpha * (1 - p_t) ** gamma * math.log(p_t)\n"),
        "alpha forgotten": ("def focal_loss(p, y, alpha=0.25, gamma=2.0):\n"
                            "    p_t = p if y == 1 else 1 - p\n"
                            "    return -(1 - p_t) ** gamma * math.log(p_t)\n"),
    },
}

CELLS = {notebook: exercise_cells(f"5_detection/{notebook}.ipynb") for notebook in PRELUDES}


@pytest.mark.parametrize("notebook, grade_id", sorted(WRONG))
def test_solution_passes_and_stub_fails(notebook, grade_id):
    answer, graded = CELLS[notebook][grade_id], CELLS[notebook][grade_id + "_test"]
    assert grade(PRELUDES[notebook], answer, graded) is None
    assert grade(PRELUDES[notebook], stub(answer), graded) is not None


@pytest.mark.parametrize("notebook, grade_id, wrong", [(n, g, w) for (n, g), answers in sorted(WRONG.items())
                                                      for w in answers])
def test_wrong_answers_fail(notebook, grade_id, wrong):
    graded = CELLS[notebook][grade_id + "_test"]
    assert grade(PRELUDES[notebook], WRONG[notebook, grade_id][wrong], graded) is not None, f"accepted: {wrong}"


def test_every_graded_cell_of_these_notebooks_is_covered():
    for notebook, cells in CELLS.items():
        answers = {g for g in cells if not g.endswith("_test")}
        assert answers == {g for n, g in WRONG if n == notebook}, notebook
        assert all(len(WRONG[notebook, g]) >= 2 for g in answers)
