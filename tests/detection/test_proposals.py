"""Tests of course_utils.detection.proposals (selective search) and metrics.proposal_recall."""

import numpy as np
import pytest
import torch

from course_utils import data, detection, metrics
from course_utils.detection import proposals as ss_module


def rectangles_image(channels=None):
    """A dark 64 x 64 image with three bright rectangles, and their boxes (x1, y1, x2, y2)."""
    shape = (64, 64) if channels is None else (64, 64, channels)
    image = np.full(shape, 0.1, np.float32)
    boxes = [[5, 6, 20, 30], [30, 10, 58, 22], [26, 40, 40, 60]]
    colours = [1.0, 0.7, 0.85] if channels is None else [[1.0, 0.2, 0.2], [0.2, 0.9, 0.3], [0.3, 0.3, 1.0]]
    for (x1, y1, x2, y2), colour in zip(boxes, colours):
        image[y1:y2, x1:x2] = colour
    return image, boxes


# ----------------------------------------------------------------------------- selective search


@pytest.mark.parametrize("channels", [None, 3])
def test_the_exact_rectangles_are_among_the_proposals(channels):
    image, boxes = rectangles_image(channels)
    found = detection.selective_search(image).tolist()
    for box in boxes:
        assert box in found
    assert [0, 0, 64, 64] in found  # the last region of every hierarchy: the whole image


def test_boxes_are_distinct_non_empty_float32_corners_inside_the_image():
    scenes = data.make_scenes(4, "val", seed=3)
    wide = np.random.default_rng(0).random((40, 70, 3))  # not square: x runs along the 70 columns
    for image in [*scenes.images, wide]:
        boxes = detection.selective_search(image)
        height, width = image.shape[:2]
        assert boxes.dtype == np.float32 and boxes.ndim == 2 and boxes.shape[1] == 4 and len(boxes)
        assert np.all(boxes[:, :2] >= 0) and np.all(boxes[:, 2] <= width) and np.all(boxes[:, 3] <= height)
        assert np.all(boxes[:, 2:] > boxes[:, :2])
        assert np.all(boxes == np.round(boxes))  # whole pixels
        assert len(np.unique(boxes, axis=0)) == len(boxes)
        assert [0, 0, width, height] in boxes.tolist()


def test_same_seed_same_boxes_another_seed_reorders_them():
    image = data.make_scenes(1, "val", seed=5).images[0]
    first = detection.selective_search(image, seed=0)
    np.testing.assert_array_equal(first, detection.selective_search(image, seed=0))
    np.testing.assert_array_equal(first, detection.selective_search(torch.from_numpy(image), seed=0))
    other = detection.selective_search(image, seed=1)
    assert not np.array_equal(first, other)  # the ranking is random ...
    assert sorted(map(tuple, first.tolist())) == sorted(map(tuple, other.tolist()))  # ... the boxes are not


def test_max_proposals_keeps_the_best_ranked_ones():
    image = data.make_scenes(1, "val", seed=5).images[0]
    boxes = detection.selective_search(image)
    np.testing.assert_array_equal(detection.selective_search(image, max_proposals=7), boxes[:7])
    assert len(detection.selective_search(image, max_proposals=10_000)) == len(boxes)


def test_a_flat_image_is_one_region_the_whole_image():
    for image in (np.zeros((12, 20)), np.full((12, 20, 3), 0.5)):
        np.testing.assert_array_equal(detection.selective_search(image), [[0, 0, 20, 12]])


def test_more_scales_more_hierarchies_more_boxes():
    image = data.make_scenes(1, "val", seed=5).images[0]
    one = detection.selective_search(image, scales=50)
    three = detection.selective_search(image, scales=(50, 100, 200))
    assert set(map(tuple, one.tolist())) < set(map(tuple, three.tolist()))


def test_a_merged_region_has_the_descriptors_of_its_pixels():
    """Size-weighted means of the parts' histograms equal the histograms of the union, as the paper says."""
    image = data.make_scenes(1, "val", seed=2).images[0].astype(np.float64)
    labels = np.repeat(np.repeat(np.arange(16).reshape(4, 4), 16, axis=0), 16, axis=1)  # 16 tiles
    labels[5:9, 3:30] = 3  # so tiles differ in size and shape
    colour, texture = ss_module._colour_bins(image), ss_module._texture_bins(image)
    regions = ss_module._region_descriptors(labels, colour, texture)
    ss_module._merge(regions, 3, 6, 16)  # two tiles that do not touch: the box spans both
    union = ss_module._consecutive(np.where(labels == 6, 3, labels))  # 7, 8, ... move down; 3 stays 3
    direct = ss_module._region_descriptors(union, colour, texture)
    for key in ("size", "box", "colour", "texture"):
        np.testing.assert_allclose(regions[key][16], direct[key][3], atol=1e-12)
    assert regions["size"][16] == np.sum(labels == 3) + np.sum(labels == 6)


def test_the_hierarchy_merges_until_one_region_is_left():
    image, _ = rectangles_image()
    labels = np.repeat(np.repeat(np.arange(16).reshape(4, 4), 16, axis=0), 16, axis=1)
    pairs = ss_module._region_adjacency(labels)
    assert len(pairs) == 2 * 4 * 3  # a 4 x 4 grid of tiles: 24 edges
    boxes = ss_module._hierarchical_grouping(labels, ss_module._colour_bins(image),
                                             ss_module._texture_bins(image), frozenset(ss_module.SIMILARITIES))
    assert len(boxes) == 2 * 16 - 1
    np.testing.assert_array_equal(boxes[-1], [0, 0, 64, 64])
    np.testing.assert_array_equal(boxes[0], [0, 0, 16, 16])


def digit_windows(image_size, n, preset):
    """``n`` sliding windows of digit shapes, spread evenly over every size, shape and place.

    The fair competitor of selective search: the window sizes are the 10th to
    90th percentiles of the digits' sides ``sqrt(w * h)`` and the ratios the
    20th to 80th percentiles of their ``h / w``, both measured on training
    scenes; all windows at a stride of a quarter of their size are made and
    ``n`` of them are taken at evenly spaced places of that list.
    """
    boxes = np.concatenate([t["boxes"] for t in data.make_scenes(200, "train", preset=preset, seed=0).targets])
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    sizes = np.percentile(np.sqrt(w * h), [10, 30, 50, 70, 90]).tolist()
    ratios = np.percentile(h / w, [20, 50, 80]).tolist()
    windows = detection.sliding_windows(image_size, sizes, ratios, stride_fraction=0.25)
    assert len(windows) > n
    return windows[np.round(np.linspace(0, len(windows) - 1, n)).astype(int)]


@pytest.mark.parametrize("seed", [0, 1])
def test_selective_search_recalls_more_digits_than_as_many_sliding_windows(seed):
    """Notebook 20's claim, on standard test scenes: measured 0.83-0.86 against 0.39-0.41 at 50 boxes,
    0.93-0.94 against 0.49-0.56 at 100 (seeds 0 and 1)."""
    scenes = data.make_scenes(100, "test", seed=seed)
    found = [detection.selective_search(image) for image in scenes.images]
    counts = [50, 100]
    ours = metrics.proposal_recall(found, scenes.targets, counts)
    theirs = np.array([metrics.proposal_recall([digit_windows(64, n, "standard")] * len(scenes), scenes.targets, n)
                       for n in counts])
    assert np.all(ours > 0.8) and np.all(ours - theirs > 0.2), (ours, theirs)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"image": np.zeros(16)}, ValueError, "image must be a 2-D or 3-D array"),
        ({"image": np.zeros((2, 8, 8, 3))}, ValueError, "image must be a 2-D or 3-D array"),
        ({"image": np.zeros((8, 8, 2))}, ValueError, r"image must have \[3\] channels"),
        ({"image": "cat"}, TypeError, "image must have a numeric dtype"),
        ({"min_size": -1}, ValueError, "min_size must be >= 0"),
        ({"min_size": 2.5}, TypeError, "min_size must be an integer"),
        ({"similarities": ("colour", "shape")}, ValueError, "similarities must name terms among .* 'shape'"),
        ({"similarities": ()}, ValueError, "similarities must be a non-empty list"),
        ({"similarities": "color"}, ValueError, "'color'"),
        ({"scales": ()}, TypeError, "scales must be a number or a non-empty list"),
        ({"scales": (50, 0)}, ValueError, r"scales\[1\] must be > 0"),
        ({"sigma": -0.5}, ValueError, "sigma must be >= 0"),
        ({"max_proposals": 0}, ValueError, "max_proposals must be >= 1"),
        ({"seed": -1}, ValueError, "seed must be >= 0"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, error, words):
    kwargs = {"image": np.zeros((8, 8)), **kwargs}
    with pytest.raises(error, match=words):
        detection.selective_search(**kwargs)


# ----------------------------------------------------------------------------- proposal recall


def test_recall_counts_objects_covered_by_the_first_n_proposals():
    truth = [np.array([[0, 0, 10, 10], [20, 20, 30, 30]]), np.array([[0, 0, 4, 4]])]
    proposals = [
        np.array([[50, 50, 60, 60], [0, 0, 10, 5], [21, 21, 30, 30]]),  # IoU 0 / 0.5 exactly / 0.81
        np.zeros((0, 4)),  # no proposal: its object is never covered
    ]
    np.testing.assert_allclose(metrics.proposal_recall(proposals, truth, [0, 1, 2, 3, 100]),
                               [0, 0, 1 / 3, 2 / 3, 2 / 3])
    assert metrics.proposal_recall(proposals, truth, 2) == pytest.approx(1 / 3)
    assert metrics.proposal_recall(proposals, truth, 2, iou_threshold=0.51) == 0.0
    assert metrics.proposal_recall(proposals, truth, 3, iou_threshold=0.8) == pytest.approx(1 / 3)
    # ground truth as the targets of scenes (dicts with boxes), and as tensors
    as_dicts = [{"boxes": t, "labels": np.zeros(len(t), int)} for t in truth]
    np.testing.assert_array_equal(metrics.proposal_recall(proposals, as_dicts, [2, 3]), [1 / 3, 2 / 3])
    as_tensors = [torch.as_tensor(p, dtype=torch.float32) for p in proposals]
    np.testing.assert_array_equal(metrics.proposal_recall(as_tensors, truth, [2, 3]), [1 / 3, 2 / 3])


def test_one_proposal_may_cover_several_objects():
    """Unlike a detection, a proposal is not used up by the object it covers."""
    truth = [np.array([[0, 0, 10, 10], [0, 0, 10, 9]])]
    assert metrics.proposal_recall([np.array([[0, 0, 10, 10]])], truth, 1) == 1.0


def test_images_without_objects_do_not_count():
    proposals = [np.array([[0, 0, 5, 5]]), np.array([[0, 0, 5, 5]])]
    assert metrics.proposal_recall(proposals, [np.zeros((0, 4)), np.array([[0, 0, 5, 5]])], 1) == 1.0
    np.testing.assert_array_equal(metrics.proposal_recall(proposals, [[], []], [1, 2]), [1.0, 1.0])


def brute_force_recall(proposals, truth, counts, threshold):
    recalls = []
    for n in counts:
        covered = total = 0
        for props, objects in zip(proposals, truth):
            for g in objects:
                total += 1
                for p in props[:n]:
                    ix = max(0.0, min(p[2], g[2]) - max(p[0], g[0]))
                    iy = max(0.0, min(p[3], g[3]) - max(p[1], g[1]))
                    union = (p[2] - p[0]) * (p[3] - p[1]) + (g[2] - g[0]) * (g[3] - g[1]) - ix * iy
                    if union > 0 and ix * iy / union >= threshold:
                        covered += 1
                        break
        recalls.append(covered / total if total else 1.0)
    return np.array(recalls)


@pytest.mark.parametrize("seed", range(4))
def test_recall_equals_a_brute_force_loop(seed):
    rng = np.random.default_rng(seed)
    truth, proposals = [], []
    for _ in range(12):
        corners = np.round(rng.uniform(0, 40, (int(rng.integers(0, 5)), 2)))
        truth.append(np.c_[corners, corners + np.round(rng.uniform(2, 20, corners.shape))])
        corners = np.round(rng.uniform(0, 40, (int(rng.integers(0, 60)), 2)))
        proposals.append(np.c_[corners, corners + np.round(rng.uniform(1, 24, corners.shape))])
    counts = [0, 1, 3, 10, 30, 100]
    for threshold in (0.3, 0.5, 0.7):
        np.testing.assert_allclose(metrics.proposal_recall(proposals, truth, counts, threshold),
                                   brute_force_recall(proposals, truth, counts, threshold))


@pytest.mark.parametrize(
    "args, error, words",
    [
        (([np.zeros((1, 4))], [], [1]), ValueError, "one entry per image; got 1 and 0"),
        ((np.zeros((1, 4)), [np.zeros((1, 4))], [1]), TypeError, "proposals must be a list"),
        (([np.zeros((1, 4))], [np.zeros((1, 4))], [1, -1]), ValueError, r"counts\[1\] must be >= 0"),
        (([np.zeros((1, 4))], [np.zeros((1, 4))], 1.5), TypeError, "counts must be an integer"),
        (([np.zeros((1, 3))], [np.zeros((1, 4))], 1), ValueError, r"proposals\[0\] must be \(N, 4\) corners"),
        (([np.zeros((1, 4))], [{"labels": [1]}], 1), TypeError, r"ground_truth\[0\] must be a dict with key"),
        (([np.zeros((1, 4))], [np.array([[5, 5, 0, 0]])], 1), ValueError, r"ground_truth\[0\] must be"),
    ],
)
def test_recall_bad_arguments_raise_clear_errors(args, error, words):
    with pytest.raises(error, match=words):
        metrics.proposal_recall(*args)
    with pytest.raises(ValueError, match="iou_threshold must be <= 1"):
        metrics.proposal_recall([np.zeros((1, 4))], [np.zeros((1, 4))], 1, iou_threshold=1.5)
