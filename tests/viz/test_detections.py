"""Tests of course_utils.viz.detections.show_detection_matches, drawn off-screen with the Agg backend."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from course_utils import viz  # noqa: E402

GREEN, RED, ORANGE = to_rgba("limegreen"), to_rgba("red"), to_rgba("orange")

IMAGE = np.zeros((40, 40))
# 0: TP of object 0 (class 1); 1: TP of object 1 (class 2); 2: FP (overlaps nothing);
# 3: below min_score, not drawn; object 2 (class 1) is missed
PREDICTION = {"boxes": np.array([[1.0, 1, 10, 10], [20, 20, 30, 30], [0, 30, 5, 35], [30, 0, 39, 9]]),
              "scores": np.array([0.9, 0.8, 0.7, 0.1]), "labels": np.array([1, 2, 1, 1])}
TRUTH = {"boxes": np.array([[1.0, 1, 10, 10], [20, 20, 30, 31], [30, 0, 39, 9]]), "labels": np.array([1, 2, 1])}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _boxes(fig):
    """(edge colour, dashed?, lower-left corner) of every box drawn, in drawing order."""
    return [(p.get_edgecolor(), p.get_linestyle() == "--", p.get_xy()) for p in fig.axes[0].patches]


def test_true_positives_false_positives_and_missed_objects():
    fig = viz.show_detection_matches(IMAGE, PREDICTION, TRUTH)
    assert isinstance(fig, Figure)
    boxes = _boxes(fig)
    assert [c for c, _, _ in boxes] == [ORANGE, RED, GREEN, GREEN]
    assert [dashed for _, dashed, _ in boxes] == [True, False, False, False]
    assert boxes[0][2] == (29.5, -0.5), "the missed object, at pixel edges"
    assert [t.get_text() for t in fig.axes[0].texts] == ["1", "1 0.70", "1 0.90", "2 0.80"]
    assert fig.axes[0].get_title() == "2 TP (green), 1 FP (red), 1 missed (orange, dashed)"
    # with every detection, the low-scoring one finds the missed object
    fig = viz.show_detection_matches(IMAGE, PREDICTION, TRUTH, min_score=0.0)
    assert [c for c, _, _ in _boxes(fig)] == [RED, GREEN, GREEN, GREEN]


def test_matching_is_class_by_class_and_best_score_first():
    truth = {"boxes": np.array([[0.0, 0, 10, 10]]), "labels": np.array([0])}
    # same box twice: the better score takes the object, the other is a duplicate (FP)
    twice = {"boxes": np.array([[0.0, 0, 10, 10], [0, 0, 10, 9]]), "scores": np.array([0.5, 0.6]),
             "labels": np.array([0, 0])}
    fig = viz.show_detection_matches(IMAGE, twice, truth, class_names=["zero"])
    assert [c for c, _, _ in _boxes(fig)] == [RED, GREEN]
    assert [t.get_text() for t in fig.axes[0].texts] == ["zero 0.50", "zero 0.60"]
    # the right box with the wrong class: a false positive and a missed object
    wrong = {"boxes": np.array([[0.0, 0, 10, 10]]), "scores": np.array([0.9]), "labels": np.array([1])}
    fig = viz.show_detection_matches(IMAGE, wrong, truth)
    assert [c for c, _, _ in _boxes(fig)] == [ORANGE, RED]
    # a stricter threshold turns a loose hit into a miss and a false alarm
    loose = {"boxes": np.array([[0.0, 0, 10, 6]]), "scores": np.array([0.9]), "labels": np.array([0])}
    assert [c for c, _, _ in _boxes(viz.show_detection_matches(IMAGE, loose, truth, iou_threshold=0.5))] == [GREEN]
    assert [c for c, _, _ in _boxes(viz.show_detection_matches(IMAGE, loose, truth, iou_threshold=0.7))] == \
        [ORANGE, RED]


def test_tensors_given_axes_and_title():
    torch = pytest.importorskip("torch")
    fig, axes = plt.subplots(1, 2)
    out = viz.show_detection_matches(torch.zeros(40, 40), {k: torch.as_tensor(v) for k, v in PREDICTION.items()},
                                     {k: torch.as_tensor(v) for k, v in TRUTH.items()}, ax=axes[1], title="image 3")
    assert out is fig and len(axes[1].patches) == 4 and len(axes[0].patches) == 0
    assert axes[1].get_title() == "image 3" and len(axes[1].images) == 1
    empty = {"boxes": np.zeros((0, 4)), "scores": np.zeros(0), "labels": np.zeros(0, int)}
    fig = viz.show_detection_matches(IMAGE, empty, {"boxes": np.zeros((0, 4)), "labels": np.zeros(0, int)})
    assert len(fig.axes[0].patches) == 0 and fig.axes[0].get_title().startswith("0 TP")


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"prediction": {"boxes": [[0, 0, 1, 1]], "labels": [0]}}, TypeError, "prediction must be a dict with keys"),
        ({"truth": [[0, 0, 1, 1]]}, TypeError, "truth must be a dict"),
        ({"truth": {"boxes": [[0, 0, 1]], "labels": [0]}}, ValueError, "truth['boxes'] must have shape (K, 4)"),
        ({"prediction": {**PREDICTION, "scores": [0.5]}}, ValueError, "prediction['scores'] must have one entry per box"),
        ({"iou_threshold": 0}, ValueError, "iou_threshold must be > 0"),
        ({"iou_threshold": 1.5}, ValueError, "iou_threshold must be <= 1"),
        ({"min_score": "high"}, TypeError, "min_score must be a number"),
        ({"class_names": ["zero"]}, ValueError, "class_names has 1 names"),
        ({"class_names": "012"}, TypeError, "class_names must be a sequence"),
        ({"image": np.zeros(5)}, ValueError, "image must be"),
        ({"ax": "left"}, TypeError, "ax must be a matplotlib Axes"),
        ({"title": 3}, TypeError, "title"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, words):
    arguments = {"image": IMAGE, "prediction": PREDICTION, "truth": TRUTH, **kwargs}
    with pytest.raises(error) as info:
        viz.show_detection_matches(**arguments)
    assert words in str(info.value)
