"""edge_scores against scikit-learn (tolerance 0) and against hand-made cases."""

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score

from course_utils.metrics import edge_scores


@pytest.mark.parametrize("seed", range(20))
def test_exact_match_equals_sklearn(seed):
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(3, 40, size=2))
    predicted = rng.random(shape) < rng.uniform(0.05, 0.5)
    truth = rng.random(shape) < rng.uniform(0.05, 0.5)
    scores = edge_scores(predicted, truth, tolerance=0)
    y_true, y_pred = truth.ravel(), predicted.ravel()
    assert scores["precision"] == pytest.approx(precision_score(y_true, y_pred), abs=1e-12)
    assert scores["recall"] == pytest.approx(recall_score(y_true, y_pred), abs=1e-12)
    assert scores["f1"] == pytest.approx(f1_score(y_true, y_pred), abs=1e-12)


def test_tolerance_accepts_a_shifted_edge():
    truth = np.zeros((20, 20), bool)
    truth[:, 10] = True
    shifted = np.roll(truth, 1, axis=1)
    assert edge_scores(shifted, truth, tolerance=0)["f1"] == 0
    assert edge_scores(shifted, truth, tolerance=1) == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    far = np.roll(truth, 3, axis=1)
    assert edge_scores(far, truth, tolerance=2)["f1"] == 0


def test_empty_maps():
    empty = np.zeros((5, 5), bool)
    assert edge_scores(empty, empty) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_bad_input():
    with pytest.raises(ValueError, match="truth"):
        edge_scores(np.zeros((4, 4)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match="tolerance"):
        edge_scores(np.zeros((4, 4)), np.zeros((4, 4)), tolerance=-1)
    with pytest.raises(ValueError, match="predicted"):
        edge_scores(np.zeros(4), np.zeros(4))
