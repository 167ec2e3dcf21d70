"""Notebook 25's graded cells accept the solution and reject the stub and plausible wrong answers."""

from graded import exercise_tests

PRELUDE = """
import numpy as np
import torch
from torchmetrics.classification import MulticlassJaccardIndex
from course_utils import metrics
"""

MEAN_IOU_WRONG = {
    "absent classes count as 0": '''
def mean_iou(predicted, truth, n_classes, ignore_index=255):
    predicted, truth = np.asarray(predicted), np.asarray(truth)
    keep = truth != ignore_index
    predicted, truth = predicted[keep], truth[keep]
    ious = [np.count_nonzero((predicted == c) & (truth == c)) / max(np.count_nonzero((predicted == c) | (truth == c)), 1)
            for c in range(n_classes)]
    return float(np.mean(ious))
''',
    "ignored pixels kept": '''
def mean_iou(predicted, truth, n_classes, ignore_index=255):
    predicted, truth = np.asarray(predicted), np.asarray(truth)
    ious = []
    for c in range(n_classes):
        union = np.count_nonzero((predicted == c) | (truth == c))
        if union:
            ious.append(np.count_nonzero((predicted == c) & (truth == c)) / union)
    return float(np.mean(ious))
''',
    "recall instead of IoU": '''
def mean_iou(predicted, truth, n_classes, ignore_index=255):
    predicted, truth = np.asarray(predicted), np.asarray(truth)
    keep = truth != ignore_index
    predicted, truth = predicted[keep], truth[keep]
    ious = []
    for c in range(n_classes):
        if np.count_nonzero((predicted == c) | (truth == c)):
            ious.append(np.count_nonzero((predicted == c) & (truth == c)) / max(np.count_nonzero(truth == c), 1))
    return float(np.mean(ious))
''',
    "pixel accuracy": '''
def mean_iou(predicted, truth, n_classes, ignore_index=255):
    predicted, truth = np.asarray(predicted), np.asarray(truth)
    keep = truth != ignore_index
    return float(np.mean(predicted[keep] == truth[keep]))
''',
    "the course's own metric": '''
def mean_iou(predicted, truth, n_classes, ignore_index=255):
    matrix = metrics.confusion_matrix(np.asarray(predicted), np.asarray(truth), n_classes, ignore_index=ignore_index)
    return metrics.segmentation_scores(matrix)["miou"]
''',
}

LAZY_WRONG = {
    "background left out of the mean": '''
def all_background_scores(counts):
    counts = np.asarray(counts)
    return counts[0] / counts.sum(), 0.0
''',
    "absent classes in the mean": '''
def all_background_scores(counts):
    counts = np.asarray(counts)
    accuracy = counts[0] / counts.sum()
    return accuracy, accuracy / len(counts)
''',
    "accuracy against the ink only": '''
def all_background_scores(counts):
    counts = np.asarray(counts)
    accuracy = counts[0] / counts[1:].sum()
    return accuracy, accuracy / (1 + np.count_nonzero(counts[1:]))
''',
    "background IoU taken as 1": '''
def all_background_scores(counts):
    counts = np.asarray(counts)
    return counts[0] / counts.sum(), 1 / (1 + np.count_nonzero(counts[1:]))
''',
    "the course's own metric on a built map": '''
def all_background_scores(counts):
    truth = np.repeat(np.arange(len(counts)), counts)
    s = metrics.segmentation_scores(metrics.confusion_matrix(np.zeros_like(truth), truth, len(counts)))
    return s["pixel_accuracy"], s["miou"]
''',
}

EXERCISES = [("semantic_mean_iou", MEAN_IOU_WRONG), ("semantic_lazy_segmenter", LAZY_WRONG)]

test_solution_passes_and_stub_fails, test_wrong_answers_fail = exercise_tests(
    "6_segmentation/25_semantic_segmentation.ipynb", PRELUDE, EXERCISES)
