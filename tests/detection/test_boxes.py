"""Tests of course_utils.boxes against torchvision.ops and torchvision's detection utilities.

Tolerances: conversions, areas, IoU, GIoU, anchors and box coding agree with
torchvision to 1e-6 (float32) or 1e-12 (float64), in practice bit for bit; NMS
indices are compared for exact equality, order included.
"""

import math

import numpy as np
import pytest
import torch
import torchvision
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection.anchor_utils import AnchorGenerator

from course_utils import detection, viz


def random_boxes(n, seed, size=100.0, max_wh=30.0, dtype=torch.float32, integer=False):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g, dtype=torch.float64) * size
    wh = torch.rand(n, 2, generator=g, dtype=torch.float64) * max_wh
    if integer:  # many exact ties in IoU and zero-area boxes
        xy, wh = xy.round(), (wh / 5).round()
    return torch.cat([xy, xy + wh], 1).to(dtype)


def random_scores(n, seed, levels=None):
    g = torch.Generator().manual_seed(seed + 1000)
    s = torch.rand(n, generator=g)
    return (s * levels).floor() / levels if levels else s  # levels: ties in score


def edge_box_sets():
    """Empty, single, identical, zero-area and touching boxes."""
    return [
        torch.zeros((0, 4)),
        torch.tensor([[0.0, 0, 10, 10]]),
        torch.tensor([[0.0, 0, 10, 10]] * 4),
        torch.tensor([[5.0, 5, 5, 5], [5.0, 5, 5, 5], [0, 0, 10, 10]]),
        torch.tensor([[0.0, 0, 10, 10], [10, 0, 20, 10], [0, 10, 10, 20], [5, 5, 15, 15]]),
        torch.tensor([[0.0, 0, 0, 10], [0, 0, 10, 0], [0, 0, 10, 10]]),
    ]


# --------------------------------------------------------------------------
# Formats, areas, IoU, GIoU
# --------------------------------------------------------------------------


def test_box_convert_matches_torchvision_all_pairs():
    for seed in range(20):
        for dtype in (torch.float32, torch.float64):
            xyxy = random_boxes(50, seed, dtype=dtype)
            for in_fmt in detection.BOX_FORMATS:
                src = torchvision.ops.box_convert(xyxy, "xyxy", in_fmt)
                for out_fmt in detection.BOX_FORMATS:
                    ref = torchvision.ops.box_convert(src, in_fmt, out_fmt)
                    ours = detection.box_convert(src, in_fmt, out_fmt)
                    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-5 if dtype == torch.float32 else 1e-12)
                    ours_np = detection.box_convert(src.numpy(), in_fmt, out_fmt)
                    assert isinstance(ours_np, np.ndarray)
                    np.testing.assert_allclose(ours_np, ref.numpy(), rtol=0, atol=1e-5)


def test_box_convert_round_trip_and_empty():
    boxes = random_boxes(30, 1, dtype=torch.float64)
    for fmt in detection.BOX_FORMATS:
        back = detection.box_convert(detection.box_convert(boxes, "xyxy", fmt), fmt, "xyxy")
        torch.testing.assert_close(back, boxes, rtol=0, atol=1e-12)
    assert detection.box_convert(np.zeros((0, 4)), "xyxy", "cxcywh").shape == (0, 4)
    np.testing.assert_array_equal(detection.box_convert([[1, 2, 3, 4]], "xywh", "xyxy"), [[1, 2, 4, 6]])


def test_area_iou_giou_match_torchvision():
    cases = [(random_boxes(n, seed, integer=seed % 2 == 0), random_boxes(m, seed + 50, integer=seed % 3 == 0))
             for seed, (n, m) in enumerate([(1, 1), (7, 13), (40, 25), (100, 3), (0, 5), (5, 0)] * 5)]
    cases += [(e, f) for e in edge_box_sets() for f in edge_box_sets()]
    for a, b in cases:
        torch.testing.assert_close(detection.box_area(a), torchvision.ops.box_area(a), rtol=0, atol=0)
        for ours_fn, ref_fn in [(detection.box_iou, torchvision.ops.box_iou),
                                (detection.generalized_box_iou, torchvision.ops.generalized_box_iou)]:
            ours, ref = ours_fn(a, b), ref_fn(a, b)
            torch.testing.assert_close(ours, ref, rtol=0, atol=1e-6, equal_nan=True)
            ours_np = ours_fn(a.double().numpy(), b.double().numpy())
            np.testing.assert_allclose(ours_np, ref_fn(a.double(), b.double()).numpy(), rtol=0, atol=1e-12)


def test_iou_known_values_and_giou_of_distant_boxes():
    a = np.array([[0, 0, 2, 2]])
    b = np.array([[1, 1, 3, 3], [0, 0, 2, 2], [4, 0, 6, 2]])
    np.testing.assert_allclose(detection.box_iou(a, b), [[1 / 7, 1.0, 0.0]])
    # the third box: IoU 0 but GIoU = 0 - (12 - 8) / 12
    np.testing.assert_allclose(detection.generalized_box_iou(a, b)[0, 2], -1 / 3)


def test_giou_keeps_gradients_for_tensors():
    pred = torch.tensor([[0.0, 0, 2, 2]], requires_grad=True)
    target = torch.tensor([[3.0, 0, 5, 2]])
    loss = 1 - detection.generalized_box_iou(pred, target).diagonal().sum()
    loss.backward()
    assert pred.grad is not None and pred.grad[0, 2] < 0  # moving x2 right lowers the loss


# --------------------------------------------------------------------------
# NMS
# --------------------------------------------------------------------------


def test_nms_matches_torchvision_indices_and_order():
    n_cases = 0
    for seed in range(120):
        n = [0, 1, 2, 5, 30, 200, 600][seed % 7]
        boxes = random_boxes(n, seed, max_wh=[30.0, 60.0][seed % 2], integer=seed % 3 == 0)
        scores = random_scores(n, seed, levels=[None, 5, 2][seed % 3])
        threshold = [0.5, 0.3, 0.7, 0.0, 1.0, 0.45][seed % 6]
        if seed % 4 == 0:
            boxes, scores = boxes.double(), scores.double()
        ref = torchvision.ops.nms(boxes, scores, threshold)
        for fn in (detection.nms, detection.greedy_nms):
            ours = fn(boxes, scores, threshold)
            assert ours.dtype == torch.int64 and torch.equal(ours, ref), (fn.__name__, seed)
        np.testing.assert_array_equal(detection.nms(boxes.numpy(), scores.numpy(), threshold), ref.numpy())
        n_cases += 1
    for boxes in edge_box_sets():
        for scores in (torch.ones(len(boxes)), torch.arange(len(boxes), dtype=torch.float32)):
            for threshold in (0.0, 0.5, 1.0):
                ref = torchvision.ops.nms(boxes, scores, threshold)
                assert torch.equal(detection.nms(boxes, scores, threshold), ref)
                assert torch.equal(detection.greedy_nms(boxes, scores, threshold), ref)
                n_cases += 1
    assert n_cases > 150


def test_nms_blocks_do_not_change_the_answer():
    boxes, scores = random_boxes(700, 3, max_wh=50), random_scores(700, 3, levels=20)
    ref = torchvision.ops.nms(boxes, scores, 0.4)
    for block in (1, 7, 64, 1000):
        assert torch.equal(detection.nms(boxes, scores, 0.4, block=block), ref)


def test_nms_score_threshold_drops_low_scores_first():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], dtype=float)
    scores = np.array([0.9, 0.8, 0.05])
    np.testing.assert_array_equal(detection.nms(boxes, scores, 0.5), [0, 2])
    np.testing.assert_array_equal(detection.nms(boxes, scores, 0.5, score_threshold=0.1), [0])
    np.testing.assert_array_equal(detection.greedy_nms(boxes, scores, 0.5, score_threshold=0.1), [0])


def test_batched_nms_matches_torchvision():
    for seed in range(60):
        n = [0, 3, 40, 200, 900, 1500][seed % 6]  # 1500 boxes: torchvision's per-class branch
        boxes = random_boxes(n, seed, max_wh=40, integer=seed % 2 == 0)
        scores = random_scores(n, seed, levels=None if n > 1000 else [None, 4][seed % 2])
        classes = torch.randint(0, [1, 3, 10][seed % 3], (n,), generator=torch.Generator().manual_seed(seed))
        ref = torchvision.ops.batched_nms(boxes, scores, classes, 0.5)
        ours = detection.batched_nms(boxes, scores, classes, 0.5)
        assert torch.equal(ours, ref), seed
        np.testing.assert_array_equal(detection.batched_nms(boxes.numpy(), scores.numpy(), classes.numpy(), 0.5), ref.numpy())


def test_batched_nms_with_score_ties_above_1000_boxes_same_set_and_score_order():
    # torchvision's per-class branch (> 1000 boxes on CPU) orders equal scores arbitrarily
    for seed in range(6):
        boxes, scores = random_boxes(2000, seed, max_wh=40), random_scores(2000, seed, levels=5)
        classes = torch.randint(0, 5, (2000,), generator=torch.Generator().manual_seed(seed))
        ours = detection.batched_nms(boxes, scores, classes, 0.5)
        ref = torchvision.ops.batched_nms(boxes, scores, classes, 0.5)
        assert set(ours.tolist()) == set(ref.tolist()) and torch.equal(scores[ours], scores[ref])


def _soft_nms_reference(boxes, scores, sigma, nt, thresh, method):
    """Plain Python soft-NMS, following the pseudo-code of Bodla et al. (2017)."""
    boxes = [list(map(float, b)) for b in boxes]
    scores = list(map(float, scores))
    alive = [i for i in range(len(boxes)) if scores[i] >= thresh]
    keep, kept = [], []

    def iou(p, q):
        w = max(0.0, min(p[2], q[2]) - max(p[0], q[0]))
        h = max(0.0, min(p[3], q[3]) - max(p[1], q[1]))
        union = (p[2] - p[0]) * (p[3] - p[1]) + (q[2] - q[0]) * (q[3] - q[1]) - w * h
        return w * h / union if union > 0 else 0.0

    while alive:
        best = max(alive, key=lambda i: (scores[i], -i))
        keep.append(best)
        kept.append(scores[best])
        alive.remove(best)
        for i in alive:
            o = iou(boxes[best], boxes[i])
            if method == "gaussian":
                scores[i] *= math.exp(-o * o / sigma)
            elif method == "linear":
                scores[i] *= 1 - o if o > nt else 1.0
            else:
                scores[i] *= 0.0 if o > nt else 1.0
        alive = [i for i in alive if scores[i] >= thresh]
    return keep, kept


def test_soft_nms_matches_the_paper_loop():
    for seed in range(40):
        n = [0, 1, 8, 40, 120][seed % 5]
        boxes = random_boxes(n, seed, size=60, max_wh=40, dtype=torch.float64, integer=seed % 3 == 0)
        scores = random_scores(n, seed, levels=[None, 6][seed % 2]).double()
        for method in ("gaussian", "linear", "hard"):
            sigma, nt, thresh = [0.5, 0.1, 2.0][seed % 3], [0.3, 0.5][seed % 2], [0.001, 0.2][seed % 2]
            keep, kept = detection.soft_nms(boxes.numpy(), scores.numpy(), sigma, nt, thresh, method)
            ref_keep, ref_kept = _soft_nms_reference(boxes, scores, sigma, nt, thresh, method)
            np.testing.assert_array_equal(keep, ref_keep)
            np.testing.assert_allclose(kept, ref_kept, rtol=0, atol=1e-12)


def test_soft_nms_hard_equals_nms_and_soft_keeps_more():
    boxes, scores = random_boxes(300, 9, max_wh=40), random_scores(300, 9)
    keep, _ = detection.soft_nms(boxes, scores, iou_threshold=0.5, score_threshold=1e-9, method="hard")
    assert torch.equal(keep, torchvision.ops.nms(boxes, scores, 0.5))
    soft, soft_scores = detection.soft_nms(boxes, scores, sigma=0.5, score_threshold=0.001)
    assert len(soft) > len(keep) and bool((soft_scores[:-1] >= soft_scores[1:]).all())


# --------------------------------------------------------------------------
# Anchors, box coding, matching
# --------------------------------------------------------------------------


def test_make_anchors_matches_anchor_generator():
    for feature_size, stride, sizes, ratios in [
        ((4, 5), (16, 16), (32,), (0.5, 1.0, 2.0)),
        ((3, 3), (8, 8), (16, 32, 64), (1.0,)),
        ((7, 2), (4, 10), (10, 23.5), (0.25, 1.0, 3.0)),
        ((1, 1), (32, 32), (128,), (0.5, 2.0)),
    ]:
        gen = AnchorGenerator(sizes=(tuple(sizes),), aspect_ratios=(tuple(ratios),))
        gen.set_cell_anchors(torch.float32, torch.device("cpu"))
        ref = gen.grid_anchors([list(feature_size)], [[torch.tensor(stride[0]), torch.tensor(stride[1])]])[0]
        ours = detection.make_anchors(feature_size, stride, sizes, ratios)
        torch.testing.assert_close(ours, ref, rtol=0, atol=0)
        assert ours.shape == (feature_size[0] * feature_size[1] * len(sizes) * len(ratios), 4)


def test_encode_decode_match_box_coder():
    for seed in range(20):
        weights = [(1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0), (2.0, 3.0, 0.5, 1.5)][seed % 3]
        coder = det_utils.BoxCoder(weights)
        proposals = random_boxes(50, seed, max_wh=40) + torch.tensor([0, 0, 1.0, 1.0])
        reference = random_boxes(50, seed + 7, max_wh=40) + torch.tensor([0, 0, 1.0, 1.0])
        deltas = detection.encode_boxes(reference, proposals, weights)
        torch.testing.assert_close(deltas, coder.encode_single(reference, proposals), rtol=0, atol=1e-5)
        wild = deltas * 3 + torch.tensor([0, 0, 10.0, -3.0])  # exercises the clip before exp
        torch.testing.assert_close(detection.decode_boxes(wild, proposals, weights),
                                   coder.decode_single(wild, proposals), rtol=1e-6, atol=1e-4)
        back = detection.decode_boxes(deltas.double().numpy(), proposals.double().numpy(), weights)
        np.testing.assert_allclose(back, reference.double().numpy(), rtol=0, atol=1e-4)


def test_match_anchors_matches_torchvision_matcher():
    for seed in range(60):
        g = torch.Generator().manual_seed(seed)
        m, n = [1, 2, 5, 9][seed % 4], [1, 10, 200][seed % 3]
        iou = torch.rand(m, n, generator=g)
        if seed % 2:  # ties everywhere
            iou = (iou * 4).floor() / 4
        high, low = [(0.7, 0.3), (0.5, 0.4), (0.5, 0.5)][seed % 3]
        for allow in (True, False):
            ref = det_utils.Matcher(high, low, allow)(iou)
            assert torch.equal(detection.match_anchors(iou, high, low, allow), ref), (seed, allow)
            np.testing.assert_array_equal(detection.match_anchors(iou.numpy(), high, low, allow), ref.numpy())


def test_match_anchors_without_objects_is_all_background():
    np.testing.assert_array_equal(detection.match_anchors(np.zeros((0, 3))), [-1, -1, -1])
    assert detection.match_anchors(np.zeros((2, 0))).shape == (0,)


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: detection.box_iou([[0, 0, 1]], [[0, 0, 1, 1]]), ValueError, "a must have shape (N, 4)"),
        (lambda: detection.box_iou([[2, 0, 1, 1]], [[0, 0, 1, 1]]), ValueError, "x2 >= x1"),
        (lambda: detection.box_area([[0, 0, 1, np.nan]]), ValueError, "finite"),
        (lambda: detection.box_area("0 0 1 1"), TypeError, "boxes must be"),
        (lambda: detection.box_convert([[0, 0, 1, 1]], "xyxy", "yolo"), ValueError, "out_fmt must be one of"),
        (lambda: detection.box_convert([[0, 0, -1, 1]], "xywh", "xyxy"), ValueError, "non-negative widths"),
        (lambda: detection.nms([[0, 0, 1, 1]], [0.5, 0.2], 0.5), ValueError, "scores must have one value per box"),
        (lambda: detection.nms([[0, 0, 1, 1]], [0.5], 1.5), ValueError, "iou_threshold must be <= 1"),
        (lambda: detection.nms([[0, 0, 1, 1]], [np.nan], 0.5), ValueError, "scores must contain only finite"),
        (lambda: detection.batched_nms([[0, 0, 1, 1]], [0.5], [0.5], 0.5), TypeError, "classes must hold integers"),
        (lambda: detection.soft_nms([[0, 0, 1, 1]], [0.5], method="cubic"), ValueError, "method must be one of"),
        (lambda: detection.soft_nms([[0, 0, 1, 1]], [0.5], sigma=0), ValueError, "sigma must be > 0"),
        (lambda: detection.make_anchors((4, 4), 16, sizes=(), aspect_ratios=(1.0,)), TypeError, "sizes must be"),
        (lambda: detection.make_anchors((4, 4), 16, sizes=(32,), aspect_ratios=(-1.0,)), ValueError, "aspect_ratios[0]"),
        (lambda: detection.encode_boxes([[0, 0, 1, 1]], [[0, 0, 1, 1]] * 2), ValueError, "proposals must have the shape"),
        (lambda: detection.encode_boxes([[0, 0, 1, 1]], [[0, 0, 1, 1]], weights=(1, 1)), TypeError, "weights must be"),
        (lambda: detection.decode_boxes([[0, 0, 1]], [[0, 0, 1, 1]]), ValueError, "deltas must have shape (N, 4)"),
        (lambda: detection.match_anchors(np.ones((2, 3)), high=0.3, low=0.7), ValueError, "low must be <= high"),
        (lambda: detection.match_anchors(np.ones(3)), ValueError, "iou_matrix must be a 2-D"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)


# --------------------------------------------------------------------------
# Sliding windows, regression losses, the NMS explorer
# --------------------------------------------------------------------------


def test_sliding_windows_count_and_fit():
    windows = detection.sliding_windows(128, (16, 32, 64), (0.5, 1.0, 2.0), stride_fraction=0.25)
    assert windows.shape[1] == 4 and windows.dtype == np.float32
    assert windows.min() >= 0 and windows[:, 2].max() <= 128 and windows[:, 3].max() <= 128
    for size, stride in [(16, 4), (32, 8), (64, 16)]:
        square = detection.sliding_windows(128, [size], [1.0], stride_fraction=stride / size)
        assert len(square) == ((128 - size) // stride + 1) ** 2
    assert len(detection.sliding_windows((10, 20), [30])) == 0  # larger than the image
    with pytest.raises(ValueError, match="stride_fraction must be > 0"):
        detection.sliding_windows(64, [8], stride_fraction=0)


def test_smooth_l1_and_localization_loss_match_torch():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(500, generator=g) * 3, torch.randn(500, generator=g)
    for beta in (0.05, 1.0, 4.0):
        for reduction in ("mean", "sum", "none"):
            torch.testing.assert_close(detection.smooth_l1(x, y, beta, reduction),
                                       torch.nn.functional.smooth_l1_loss(x, y, beta=beta, reduction=reduction))
    outputs = torch.randn(8, 14, generator=g)
    target = torch.cat([torch.randint(0, 10, (8, 1), generator=g).float(), torch.rand(8, 4, generator=g)], 1)
    ce = torch.nn.functional.cross_entropy(outputs[:, :10], target[:, 0].long())
    for name, ref in [("smooth_l1", torch.nn.functional.smooth_l1_loss(outputs[:, 10:], target[:, 1:])),
                      ("l1", torch.nn.functional.l1_loss(outputs[:, 10:], target[:, 1:])),
                      ("l2", torch.nn.functional.mse_loss(outputs[:, 10:], target[:, 1:]))]:
        loss = detection.LocalizationLoss(3.0, name)
        torch.testing.assert_close(loss(outputs, target), ce + 3.0 * ref)
        torch.testing.assert_close(loss((outputs[:, :10], outputs[:, 10:]), target), ce + 3.0 * ref)
    with pytest.raises(ValueError, match="box_loss must be one of"):
        detection.LocalizationLoss(1.0, "huber")
    with pytest.raises(ValueError, match="target must have the shape of input"):
        detection.smooth_l1(x, y[:3])


def test_nms_figure_and_explorer_draw_their_default_state():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt


    image = np.zeros((64, 64))
    boxes = np.array([[0, 0, 20, 20], [1, 1, 21, 21], [40, 40, 60, 60], [2, 2, 22, 22]], dtype=float)
    scores = np.array([0.9, 0.8, 0.7, 0.1])
    fig = viz.nms_figure(image, boxes, scores, labels=[1, 1, 2, 1], iou_threshold=0.5, score_threshold=0.3)
    left, right = fig.axes
    assert len(left.patches) == 3 and len(right.patches) == 2  # 3 above the score threshold, 2 kept
    plt.close(fig)
    box = viz.nms_explorer(image, boxes, scores)
    sliders = box.children[0].children
    assert [s.description for s in sliders] == ["IoU thr.", "score thr."]
    sliders[0].value = 0.95  # redraws without error
    with pytest.raises(ValueError, match="iou_threshold must be <= 1"):
        viz.nms_figure(image, boxes, scores, iou_threshold=2)
    plt.close("all")


@pytest.mark.parametrize("suppress", [detection.greedy_nms, detection.nms,
                                      lambda b, s, t: detection.batched_nms(b, s, torch.zeros(len(s)), t)])
def test_nms_returns_indices_on_the_input_device(suppress):
    """Tensors are moved to the CPU for the NumPy work and the indices go back to the input's device
    (on a CUDA machine, cuda; here the check is that nothing assumes a CPU tensor's .numpy())."""
    boxes = torch.tensor([[0.0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    kept = suppress(boxes, scores, 0.5)
    assert isinstance(kept, torch.Tensor) and kept.device == boxes.device and kept.dtype == torch.int64
    assert kept.tolist() == [0, 2]
    kept_np = suppress(boxes.numpy(), scores.numpy(), 0.5)
    assert isinstance(kept_np, np.ndarray) and kept_np.tolist() == [0, 2]


def test_anchor_centres_follow_the_offset_convention():
    corner = detection.make_anchors((4, 4), 32, sizes=(16,), aspect_ratios=(1.0,))
    centre = detection.make_anchors((4, 4), 32, sizes=(16,), aspect_ratios=(1.0,), offset=0.5)
    cx = lambda a: ((a[:, 0] + a[:, 2]) / 2).reshape(4, 4)[0].tolist()  # noqa: E731
    assert cx(corner) == [0.0, 32.0, 64.0, 96.0], "torchvision: the cell's top-left corner"
    assert cx(centre) == [16.0, 48.0, 80.0, 112.0], "SSD / YOLO: the cell's centre"
    torch.testing.assert_close(centre, corner + 16.0, rtol=0, atol=0)
    fractional = detection.make_anchors((38, 38), 300 / 38, sizes=(30,), aspect_ratios=(1.0,), offset=0.5)
    centres = (fractional[:, 0] + fractional[:, 2]) / 2
    assert centres.min().item() == pytest.approx(0.5 * 300 / 38) and centres.max().item() == pytest.approx(37.5 * 300 / 38)
    with pytest.raises(ValueError, match="offset"):
        detection.make_anchors(4, 8, offset=1.0)
    with pytest.raises(ValueError, match="stride"):
        detection.make_anchors(4, -8)


def test_multilevel_anchors_match_torchvision():
    from torchvision.models.detection.image_list import ImageList

    sizes, ratios = ((32,), (64, 90), (128,)), ((0.5, 1.0, 2.0), (1.0,), (0.5, 2.0))
    gen = AnchorGenerator(sizes=sizes, aspect_ratios=ratios)
    images = ImageList(torch.zeros(1, 1, 128, 96), [(128, 96)])
    maps = [torch.zeros(1, 1, 16, 12), torch.zeros(1, 1, 8, 6), torch.zeros(1, 1, 4, 3)]
    reference = gen(images, maps)[0]
    ours = detection.make_multilevel_anchors([(16, 12), (8, 6), (4, 3)], [8, 16, 32], sizes, ratios)
    torch.testing.assert_close(ours, reference, rtol=0, atol=0)
    one_ratio_set = detection.make_multilevel_anchors([(16, 12), (8, 6)], [8, 16], ((32,), (64,)))
    assert one_ratio_set.shape == (16 * 12 * 3 + 8 * 6 * 3, 4)
    with pytest.raises(ValueError, match="one entry per level"):
        detection.make_multilevel_anchors([(16, 12)], [8, 16], ((32,),))
