"""Notebook 27's graded cells accept the solution and reject the stub and plausible wrong answers."""

from graded import exercise_tests

PRELUDE = """
import numpy as np
import torch
from scipy import ndimage
from course_utils import segmentation
"""

COUNT_WRONG = {
    "4-connectivity": ("def count_objects(class_map):\n    class_map = np.asarray(class_map)\n"
                       "    return int(sum(ndimage.label(class_map == c)[1] for c in np.unique(class_map) if c))\n"),
    "one region for all classes": ("def count_objects(class_map):\n"
                                   "    return int(ndimage.label(np.asarray(class_map) > 0, structure=np.ones((3, 3)))[1])\n"),
    "classes, not regions": ("def count_objects(class_map):\n    class_map = np.asarray(class_map)\n"
                             "    return int(len(np.unique(class_map[class_map > 0])))\n"),
    "background counted": ("def count_objects(class_map):\n    class_map = np.asarray(class_map)\n"
                           "    return int(sum(ndimage.label(class_map == c, structure=np.ones((3, 3)))[1]\n"
                           "                   for c in np.unique(class_map)))\n"),
}

LOSS_WRONG = {
    "every channel scored": ("def per_class_mask_loss(logits, labels, targets):\n"
                             "    logits, targets = np.asarray(logits, float), np.asarray(targets, float)\n"
                             "    p = 1 / (1 + np.exp(-logits))\n    t = targets[:, None]\n"
                             "    return float(np.mean(-(t * np.log(p) + (1 - t) * np.log(1 - p))))\n"),
    "softmax over classes": ("def per_class_mask_loss(logits, labels, targets):\n"
                             "    logits, targets = np.asarray(logits, float), np.asarray(targets, float)\n"
                             "    e = np.exp(logits - logits.max(axis=1, keepdims=True))\n"
                             "    p = (e / e.sum(axis=1, keepdims=True))[np.arange(len(labels)), labels]\n"
                             "    return float(np.mean(-(targets * np.log(p) + (1 - targets) * np.log(1 - p + 1e-12))))\n"),
    "labels off by one": ("def per_class_mask_loss(logits, labels, targets):\n"
                          "    logits, targets = np.asarray(logits, float), np.asarray(targets, float)\n"
                          "    own = logits[np.arange(len(labels)), (np.asarray(labels) + 1) % logits.shape[1]]\n"
                          "    p = 1 / (1 + np.exp(-own))\n"
                          "    return float(np.mean(-(targets * np.log(p) + (1 - targets) * np.log(1 - p))))\n"),
    "summed, not averaged": ("def per_class_mask_loss(logits, labels, targets):\n"
                             "    logits, targets = np.asarray(logits, float), np.asarray(targets, float)\n"
                             "    own = logits[np.arange(len(labels)), labels]\n    p = 1 / (1 + np.exp(-own))\n"
                             "    return float(np.sum(-(targets * np.log(p) + (1 - targets) * np.log(1 - p))))\n"),
    "the course's own loss": ("def per_class_mask_loss(logits, labels, targets):\n"
                              "    return float(segmentation.mask_loss(torch.as_tensor(logits), torch.as_tensor(labels),\n"
                              "                                        torch.as_tensor(targets)))\n"),
}

EXERCISES = [("instance_count_objects", COUNT_WRONG), ("instance_mask_loss", LOSS_WRONG)]

test_solution_passes_and_stub_fails, test_wrong_answers_fail = exercise_tests(
    "6_segmentation/27_instance_segmentation.ipynb", PRELUDE, EXERCISES)
