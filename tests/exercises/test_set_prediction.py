"""Notebook 29: every graded cell accepts the solution and rejects the stub and plausible wrong answers."""

from graded import exercise_tests

PRELUDE = """
import itertools

import numpy as np
import torch
from course_utils import detection
"""

_MATCH = "def brute_force_match(cost):\n"
_COST = "def detr_cost(probabilities, boxes, labels, true_boxes):\n"
_GIOU = ("    giou = detection.generalized_box_iou(detection.box_convert(boxes, 'cxcywh', 'xyxy'),\n"
         "                                         detection.box_convert(true_boxes, 'cxcywh', 'xyxy'))\n")
_L1 = "    l1 = (boxes[:, None, :] - true_boxes[None, :, :]).abs().sum(-1)\n"
_FOCAL = "def focal_class_cost(probabilities, labels, alpha=0.25, gamma=2.0):\n    p = probabilities[:, labels]\n"
_LOGS = ("    pos_log = -torch.log(p + 1e-8)\n"
         "    neg_log = -torch.log(1 - p + 1e-8)\n")

test_solution_passes_and_stub_fails, test_wrong_answers_fail = exercise_tests(
    "7_beyond/29_set_prediction_detr.ipynb", PRELUDE, [
        ("detr_brute_force_match", {
            "greedy: each object its cheapest free query": _MATCH + (
                "    taken, out = set(), []\n"
                "    for g in range(cost.shape[1]):\n"
                "        order = torch.argsort(cost[:, g]).tolist()\n"
                "        q = next(q for q in order if q not in taken)\n"
                "        taken.add(q)\n"
                "        out.append(q)\n"
                "    return torch.tensor(out, dtype=torch.int64)\n"),
            "each object its cheapest query, repeats allowed": _MATCH + (
                "    return cost.argmin(0).to(torch.int64)\n"),
            "combinations instead of permutations": _MATCH + (
                "    best, best_cost = None, float('inf')\n"
                "    for queries in itertools.combinations(range(cost.shape[0]), cost.shape[1]):\n"
                "        total = sum(float(cost[q, g]) for g, q in enumerate(queries))\n"
                "        if total < best_cost:\n"
                "            best, best_cost = queries, total\n"
                "    return torch.tensor(best, dtype=torch.int64)\n"),
            "the most expensive assignment": _MATCH + (
                "    best, best_cost = None, -float('inf')\n"
                "    for queries in itertools.permutations(range(cost.shape[0]), cost.shape[1]):\n"
                "        total = sum(float(cost[q, g]) for g, q in enumerate(queries))\n"
                "        if total > best_cost:\n"
                "            best, best_cost = queries, total\n"
                "    return torch.tensor(best, dtype=torch.int64)\n"),
            "objects to queries, transposed": _MATCH + (
                "    best, best_cost = None, float('inf')\n"
                "    for queries in itertools.permutations(range(cost.shape[0]), cost.shape[1]):\n"
                "        total = sum(float(cost[q, g]) for g, q in enumerate(queries))\n"
                "        if total < best_cost:\n"
                "            best, best_cost = queries, total\n"
                "    inverse = sorted(range(len(best)), key=lambda g: best[g])\n"
                "    return torch.tensor(inverse, dtype=torch.int64)\n"),
            "delegating to the course": _MATCH + "    return detection.hungarian_match(cost)\n",
            "delegating to the brute force of the course": _MATCH + "    return detection.brute_force_match(cost)\n",
            "delegating to scipy": _MATCH + (
                "    from scipy.optimize import linear_sum_assignment\n"
                "    rows, cols = linear_sum_assignment(cost.T.numpy())\n"
                "    return torch.as_tensor(cols, dtype=torch.int64)\n"),
        }),
        ("detr_matching_cost", {
            "class probability added, not subtracted": _COST + _L1 + _GIOU + (
                "    return probabilities[:, labels] + 5 * l1 - 2 * giou\n"),
            "L1 on the corners": _COST + _GIOU + (
                "    a = detection.box_convert(boxes, 'cxcywh', 'xyxy')\n"
                "    b = detection.box_convert(true_boxes, 'cxcywh', 'xyxy')\n"
                "    l1 = (a[:, None, :] - b[None, :, :]).abs().sum(-1)\n"
                "    return -probabilities[:, labels] + 5 * l1 - 2 * giou\n"),
            "IoU instead of GIoU": _COST + _L1 + (
                "    iou = detection.box_iou(detection.box_convert(boxes, 'cxcywh', 'xyxy'),\n"
                "                            detection.box_convert(true_boxes, 'cxcywh', 'xyxy'))\n"
                "    return -probabilities[:, labels] + 5 * l1 - 2 * iou\n"),
            "GIoU of the cxcywh numbers as if corners": _COST + _L1 + (
                "    giou = detection.generalized_box_iou(boxes, true_boxes)\n"
                "    return -probabilities[:, labels] + 5 * l1 - 2 * giou\n"),
            "squared distance instead of L1": _COST + _GIOU + (
                "    l2 = ((boxes[:, None, :] - true_boxes[None, :, :]) ** 2).sum(-1)\n"
                "    return -probabilities[:, labels] + 5 * l2 - 2 * giou\n"),
            "weights left out": _COST + _L1 + _GIOU + "    return -probabilities[:, labels] + l1 - giou\n",
            "delegating to the course": _COST + (
                "    return detection.match_cost(probabilities, boxes, labels, true_boxes)\n"),
        }),
        ("detr_focal_class_cost", {
            "signs swapped: negative term minus positive": _FOCAL + _LOGS + (
                "    return (1 - alpha) * p ** gamma * neg_log - alpha * (1 - p) ** gamma * pos_log\n"),
            "alpha on both terms": _FOCAL + _LOGS + (
                "    return alpha * (1 - p) ** gamma * pos_log - alpha * p ** gamma * neg_log\n"),
            "gamma ignored": _FOCAL + _LOGS + (
                "    return alpha * pos_log - (1 - alpha) * neg_log\n"),
            "-p instead": _FOCAL + "    return -p\n",
            "positive term only": _FOCAL + _LOGS + "    return alpha * (1 - p) ** gamma * pos_log\n",
            "focusing factors exchanged": _FOCAL + _LOGS + (
                "    return alpha * p ** gamma * pos_log - (1 - alpha) * (1 - p) ** gamma * neg_log\n"),
            "no eps inside the logs": _FOCAL + (
                "    return alpha * (1 - p) ** gamma * -torch.log(p) - (1 - alpha) * p ** gamma * -torch.log(1 - p)\n"),
            "labels index the queries": _FOCAL.replace("probabilities[:, labels]", "probabilities[labels].T") + _LOGS + (
                "    return alpha * (1 - p) ** gamma * pos_log - (1 - alpha) * p ** gamma * neg_log\n"),
            "delegating to torchvision": _FOCAL + (
                "    import torchvision.ops\n"
                "    x = torch.logit(p)\n"
                "    return (torchvision.ops.sigmoid_focal_loss(x, torch.ones_like(x), alpha, gamma)\n"
                "            - torchvision.ops.sigmoid_focal_loss(x, torch.zeros_like(x), alpha, gamma))\n"),
            "delegating to the course": _FOCAL + (
                "    x = torch.logit(p)\n"
                "    return (detection.sigmoid_focal_loss(x, torch.ones_like(x), alpha, gamma)\n"
                "            - detection.sigmoid_focal_loss(x, torch.zeros_like(x), alpha, gamma))\n"),
        }),
    ])
