"""Tests of course_utils.detection.roi against torchvision.ops.roi_pool and roi_align.

Tolerances: in float64, RoI Pool's outputs equal torchvision's exactly (it
selects values, it does not compute them) and so do the cells its gradient
reaches; the gradient of a cell that is the maximum of several bins sums the
same terms in another order, so gradients agree to 1e-12.  RoI Align's
outputs and gradients agree to 1e-10 (in practice about 1e-15: the same sums
in another order).  In float32: RoI Pool exactly, RoI Align to 1e-5.

torchvision's CPU RoI Align raises ("cannot create std::vector larger than
max_size()") for an inverted box with ``aligned=True`` and adaptive sampling
on one axis only; there our roi_align gives 0, what torchvision gives when
both axes are inverted (no sample in the bin).  Those boxes are compared with
0 instead.
"""

import itertools
import math

import numpy as np
import pytest
import torch
import torchvision

from course_utils import detection
from course_utils.detection import roi_align, roi_align_bins, roi_align_samples, roi_pool, roi_pool_bins

ALIGN_TOLERANCE = 1e-10  # float64, outputs and gradients
POOL_GRADIENT_TOLERANCE = 1e-12  # float64: the same sums in another order
SCALES = (1.0, 0.5, 0.25, 1 / 16)
OUTPUT_SIZES = ((1, 1), (2, 3), (7, 7))
SAMPLING_RATIOS = (1, 2, 0, -1)

# (N, C, H, W) of the random cases: batch sizes, channel counts, one-pixel maps
SHAPES = ((1, 1, 1, 1), (2, 3, 5, 6), (3, 2, 16, 16), (1, 4, 1, 9), (2, 1, 7, 1), (2, 5, 11, 8))


def random_rois(n_images, height, width, spatial_scale, k, generator, integer=False, inverted=False):
    """(K, 5) float64 RoIs in image pixels: inside, across the border and outside the map; degenerate too."""
    size = torch.tensor([width, height], dtype=torch.float64) / spatial_scale  # the image, in pixels
    xy = (torch.rand(k, 2, generator=generator, dtype=torch.float64) * 1.6 - 0.3) * size
    wh = torch.rand(k, 2, generator=generator, dtype=torch.float64) * 0.9 * size
    wh[: k // 8] = 0  # x1 == x2 and y1 == y2
    wh[k // 8: k // 4, 0] = 0  # x1 == x2 only
    if integer:  # corners on whole pixels: halves to round after scaling, samples on cell edges
        xy, wh = xy.round(), wh.round()
    if inverted:
        wh = -wh
    batch = torch.randint(0, n_images, (k, 1), generator=generator).to(torch.float64)
    return torch.cat([batch, xy, xy + wh], dim=1)


def cases(seed, count=4, **kwargs):
    """``count`` (features, rois, spatial_scale) cases per shape and scale, float64."""
    g = torch.Generator().manual_seed(seed)
    for (n, c, h, w), scale in itertools.product(SHAPES, SCALES):
        for i in range(count):
            features = torch.randn(n, c, h, w, generator=g, dtype=torch.float64)
            yield features, random_rois(n, h, w, scale, 24, g, integer=i % 2 == 1, **kwargs), scale


def reference_align(features, rois, output_size, scale, sampling_ratio, aligned):
    """torchvision's roi_align, box by box; None for the boxes it cannot pool (see the module docstring)."""
    try:
        return torchvision.ops.roi_align(features, rois, output_size, scale, sampling_ratio, aligned)
    except ValueError:
        if len(rois) == 1:
            return None
        return [reference_align(features, r[None], output_size, scale, sampling_ratio, aligned) for r in rois]


# --------------------------------------------------------------------------
# Outputs equal torchvision's
# --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_roi_pool_matches_torchvision(dtype):
    for features, rois, scale in cases(0):
        features, rois = features.to(dtype), rois.to(dtype)
        for output_size in OUTPUT_SIZES:
            ours = roi_pool(features, rois, output_size, scale)
            ref = torchvision.ops.roi_pool(features, rois, output_size, scale)
            assert ours.shape == ref.shape == (len(rois), features.shape[1], *output_size)
            assert ours.dtype == dtype
            torch.testing.assert_close(ours, ref, rtol=0, atol=0)


@pytest.mark.parametrize("aligned", [False, True])
@pytest.mark.parametrize("sampling_ratio", SAMPLING_RATIOS)
def test_roi_align_matches_torchvision(sampling_ratio, aligned):
    worst = 0.0
    for features, rois, scale in cases(1, count=2):
        for output_size in OUTPUT_SIZES:
            ours = roi_align(features, rois, output_size, scale, sampling_ratio, aligned)
            ref = torchvision.ops.roi_align(features, rois, output_size, scale, sampling_ratio, aligned)
            assert ours.shape == ref.shape and ours.dtype == torch.float64
            worst = max(worst, (ours - ref).abs().max().item() if ours.numel() else 0.0)
    assert worst < ALIGN_TOLERANCE


@pytest.mark.parametrize("aligned", [False, True])
def test_roi_align_float32_matches_torchvision(aligned):
    for features, rois, scale in itertools.islice(cases(2, count=1), 0, None, 3):
        features, rois = features.float(), rois.float()
        for sampling_ratio in SAMPLING_RATIOS:
            ours = roi_align(features, rois, (2, 3), scale, sampling_ratio, aligned)
            ref = torchvision.ops.roi_align(features, rois, (2, 3), scale, sampling_ratio, aligned)
            assert ours.dtype == torch.float32
            torch.testing.assert_close(ours, ref, rtol=0, atol=1e-5)


def test_inverted_boxes():
    for features, rois, scale in itertools.islice(cases(3, inverted=True), 0, None, 5):
        for output_size in ((1, 1), (2, 3)):
            torch.testing.assert_close(roi_pool(features, rois, output_size, scale),
                                       torchvision.ops.roi_pool(features, rois, output_size, scale), rtol=0, atol=0)
            for sampling_ratio, aligned in itertools.product(SAMPLING_RATIOS, (False, True)):
                ours = roi_align(features, rois, output_size, scale, sampling_ratio, aligned)
                ref = reference_align(features, rois, output_size, scale, sampling_ratio, aligned)
                if isinstance(ref, list):  # torchvision failed on some boxes: ours pools them to 0
                    assert aligned and sampling_ratio <= 0
                    for mine, theirs in zip(ours, ref):
                        expected = torch.zeros_like(mine) if theirs is None else theirs[0]
                        torch.testing.assert_close(mine, expected, rtol=0, atol=ALIGN_TOLERANCE)
                else:
                    torch.testing.assert_close(ours, ref, rtol=0, atol=ALIGN_TOLERANCE)


def test_hand_checked_values():
    """Two small cases worked out by hand: the rounding of RoI Pool and the interpolation of RoI Align."""
    features = torch.arange(16, dtype=torch.float64).reshape(1, 1, 4, 4)  # value = 4 * row + column
    # RoI Pool: x 0.5 -> (0.75, 0.25, 2.25, 1.75) rounds to columns 1..2, rows 0..2: 3 rows, 2 columns
    pooled = roi_pool(features, torch.tensor([[0, 1.5, 0.5, 4.5, 3.5]], dtype=torch.float64), (1, 2), 0.5)
    torch.testing.assert_close(pooled, torch.tensor([[[[9.0, 10.0]]]], dtype=torch.float64))
    # 2.5 rounds away from zero (to 3), not to the even 2 as torch.round would
    pooled = roi_pool(features, torch.tensor([[0, 5.0, 5.0, 5.0, 5.0]], dtype=torch.float64), 1, 0.5)
    assert pooled.item() == 15.0
    # RoI Align of a linear map is the map at the centre of each bin: with one sample, exactly
    box = torch.tensor([[0, 0.5, 1.0, 2.5, 3.0]], dtype=torch.float64)
    aligned = roi_align(features, box, (2, 2), 1.0, sampling_ratio=1, aligned=False)
    centres_y, centres_x = torch.tensor([1.5, 2.5]), torch.tensor([1.0, 2.0])
    torch.testing.assert_close(aligned[0, 0], (4 * centres_y[:, None] + centres_x).double())
    # a sample between -1 and 0 reads the edge cell; below -1 it reads 0
    near = roi_align(features, torch.tensor([[0, -0.75, 0, -0.25, 0.5]], dtype=torch.float64), 1, 1.0, 1, True)
    far = roi_align(features, torch.tensor([[0, -2.0, 0, -1.5, 0.5]], dtype=torch.float64), 1, 1.0, 1, True)
    assert near.item() == 0.0 and far.item() == 0.0  # row 0, column 0 holds 0: use another channel
    shifted = features + 1
    near = roi_align(shifted, torch.tensor([[0, -0.75, 0, -0.25, 0.5]], dtype=torch.float64), 1, 1.0, 1, True)
    far = roi_align(shifted, torch.tensor([[0, -2.0, 0, -1.5, 0.5]], dtype=torch.float64), 1, 1.0, 1, True)
    assert near.item() == 1.0 and far.item() == 0.0


def test_edge_cases():
    g = torch.Generator().manual_seed(4)
    features = torch.randn(2, 3, 6, 5, generator=g, dtype=torch.float64)
    # no boxes at all: (0, C, h, w)
    for boxes in (torch.zeros((0, 5), dtype=torch.float64), [torch.zeros((0, 4))] * 2):
        assert roi_pool(features, boxes, (2, 3)).shape == (0, 3, 2, 3)
        assert roi_align(features, boxes, (2, 3), sampling_ratio=0).shape == (0, 3, 2, 3)
    # boxes far outside the map pool to 0
    outside = torch.tensor([[0, 100.0, 100, 120, 120], [1, -50, -50, -20, -10]], dtype=torch.float64)
    assert not roi_pool(features, outside, 2).any()
    for sampling_ratio, aligned in itertools.product(SAMPLING_RATIOS, (False, True)):
        assert not roi_align(features, outside, 2, 1.0, sampling_ratio, aligned).any()
    # the same boxes as a (K, 5) tensor or as a list per image (the second image with none)
    boxes = [torch.tensor([[0.0, 0, 3, 4], [1.5, 2, 2.5, 2]], dtype=torch.float64), torch.zeros((0, 4))]
    rois = torch.cat([torch.zeros((2, 1), dtype=torch.float64), boxes[0]], dim=1)
    for fn, ref in ((roi_pool, torchvision.ops.roi_pool), (roi_align, torchvision.ops.roi_align)):
        torch.testing.assert_close(fn(features, boxes, 2), fn(features, rois, 2), rtol=0, atol=0)
        torch.testing.assert_close(fn(features, boxes, 2), ref(features, boxes, 2), rtol=0, atol=ALIGN_TOLERANCE)
    # integer boxes are cast to the features' dtype
    torch.testing.assert_close(roi_pool(features, rois.round().long(), 2), roi_pool(features, rois.round(), 2))
    # a non-contiguous feature map
    view = features.transpose(2, 3)
    torch.testing.assert_close(roi_pool(view, rois, 2), torchvision.ops.roi_pool(view.contiguous(), rois, 2),
                               rtol=0, atol=0)
    torch.testing.assert_close(roi_align(view, rois, 2, 1.0, 2), torchvision.ops.roi_align(view, rois, 2, 1.0, 2),
                               rtol=0, atol=ALIGN_TOLERANCE)


# --------------------------------------------------------------------------
# Gradients equal torchvision's
# --------------------------------------------------------------------------


def _gradient(fn, features, rois, output_size, *args, seed=0):
    features = features.clone().requires_grad_(True)
    out = fn(features, rois, output_size, *args)
    weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed), dtype=out.dtype)
    (out * weights).sum().backward()
    return features.grad


def test_roi_align_gradient_matches_torchvision():
    worst = 0.0
    options = itertools.cycle(itertools.product(SAMPLING_RATIOS, (False, True)))
    for (features, rois, scale), (sampling_ratio, aligned) in zip(itertools.islice(cases(5, count=1), 0, None, 2),
                                                                  options):
        for output_size in ((2, 3), (7, 7)):
            args = (scale, sampling_ratio, aligned)
            ours = _gradient(roi_align, features, rois, output_size, *args)
            ref = _gradient(torchvision.ops.roi_align, features, rois, output_size, *args)
            worst = max(worst, (ours - ref).abs().max().item())
    assert worst < ALIGN_TOLERANCE
    # and the analytic gradient is right (roi_align is linear in the features)
    features = torch.randn(2, 2, 5, 4, dtype=torch.float64, requires_grad=True)
    rois = random_rois(2, 5, 4, 0.5, 6, torch.Generator().manual_seed(6))
    assert torch.autograd.gradcheck(lambda f: roi_align(f, rois, (2, 2), 0.5, 0, True), (features,))


@pytest.mark.parametrize("ties", [False, True])
def test_roi_pool_gradient_matches_torchvision(ties):
    """The gradient goes to each bin's maximum; on ties to the first in row-major order, as torchvision's."""
    for features, rois, scale in itertools.islice(cases(7, count=1), 0, None, 2):
        if ties:  # few distinct values: many equal maxima in a bin
            features = torch.randint(0, 3, features.shape, generator=torch.Generator().manual_seed(8)).double()
        for output_size in OUTPUT_SIZES:
            ours = _gradient(roi_pool, features, rois, output_size, scale)
            ref = _gradient(torchvision.ops.roi_pool, features, rois, output_size, scale)
            torch.testing.assert_close(ours, ref, rtol=0, atol=POOL_GRADIENT_TOLERANCE)
            assert torch.equal(ours != 0, ref != 0)  # the same cells


def test_no_gradient_reaches_the_boxes():
    features = torch.randn(1, 2, 6, 6, dtype=torch.float64, requires_grad=True)
    rois = torch.tensor([[0, 0.5, 1, 4, 5]], dtype=torch.float64, requires_grad=True)
    (roi_align(features, rois, 2, 1.0, 2).sum() + roi_pool(features, rois, 2).sum()).backward()
    assert rois.grad is None and features.grad is not None


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_torchvision():
    for features, rois, scale in itertools.islice(cases(9, count=1), 0, None, 2):
        features, rois = features.cuda(), rois.cuda()
        for sampling_ratio, aligned in itertools.product(SAMPLING_RATIOS, (False, True)):
            args = ((2, 3), scale, sampling_ratio, aligned)
            ref = torchvision.ops.roi_align(features, rois, *args)
            torch.testing.assert_close(roi_align(features, rois, *args), ref, rtol=0, atol=ALIGN_TOLERANCE)
        torch.testing.assert_close(roi_pool(features, rois, (2, 3), scale),
                                   torchvision.ops.roi_pool(features, rois, (2, 3), scale), rtol=0, atol=0)


# --------------------------------------------------------------------------
# The geometry of one box
# --------------------------------------------------------------------------


def test_roi_pool_bins_are_what_roi_pool_maxes_over():
    g = torch.Generator().manual_seed(10)
    features = torch.randn(1, 2, 9, 7, generator=g, dtype=torch.float64)
    for roi in random_rois(1, 9, 7, 0.5, 30, g, integer=True):
        box = roi[1:]
        rows, cols = roi_pool_bins(box, (3, 2), (9, 7), 0.5)
        assert rows.shape == (3, 2) and cols.shape == (2, 2) and rows.dtype == torch.int64
        pooled = roi_pool(features, roi[None], (3, 2), 0.5)[0]
        for (i, (r0, r1)), (j, (c0, c1)) in itertools.product(enumerate(rows.tolist()), enumerate(cols.tolist())):
            window = features[0, :, r0:r1, c0:c1]
            expected = window.amax(dim=(1, 2)) if window.numel() else torch.zeros(2, dtype=torch.float64)
            torch.testing.assert_close(pooled[:, i, j], expected, rtol=0, atol=0)
    # the legacy rules, by hand: x2 is included, bins are rounded outwards (and may share a cell)
    rows, cols = roi_pool_bins([0, 0, 4, 2], (2, 2), (10, 10))
    assert rows.tolist() == [[0, 2], [1, 3]] and cols.tolist() == [[0, 3], [2, 5]]


def _bilinear(image, y, x):
    """The map read at (y, x) by torchvision's rules, one point at a time: the test's own reference."""
    height, width = image.shape
    if y < -1 or y > height or x < -1 or x > width:
        return 0.0
    y, x = max(y, 0.0), max(x, 0.0)
    y0, x0 = min(int(y), height - 1), min(int(x), width - 1)
    y1, x1 = min(y0 + 1, height - 1), min(x0 + 1, width - 1)
    ly, lx = (y - y0 if y0 < height - 1 else 0.0), (x - x0 if x0 < width - 1 else 0.0)
    return ((1 - ly) * (1 - lx) * image[y0, x0] + (1 - ly) * lx * image[y0, x1]
            + ly * (1 - lx) * image[y1, x0] + ly * lx * image[y1, x1])


def test_roi_align_samples_and_bins_are_what_roi_align_averages():
    g = torch.Generator().manual_seed(11)
    image = torch.randn(6, 7, generator=g, dtype=torch.float64)
    for roi, (sampling_ratio, aligned) in zip(random_rois(1, 6, 7, 0.5, 24, g),
                                             itertools.cycle(itertools.product(SAMPLING_RATIOS, (False, True)))):
        ys, xs = roi_align_samples(roi[1:], (2, 3), 0.5, sampling_ratio, aligned)
        row_edges, col_edges = roi_align_bins(roi[1:], (2, 3), 0.5, aligned)
        assert ys.shape[0] == 2 and xs.shape[0] == 3 and row_edges.shape == (3,) and col_edges.shape == (4,)
        if sampling_ratio > 0:
            assert ys.shape[1] == xs.shape[1] == sampling_ratio
        # samples at the centres of equal sub-bins of each bin
        for edges, samples in ((row_edges, ys), (col_edges, xs)):
            g_ = samples.shape[1]
            if g_:
                expected = edges[:-1, None] + (torch.arange(g_) + 0.5) * (edges[1:] - edges[:-1])[:, None] / g_
                torch.testing.assert_close(samples, expected, rtol=0, atol=1e-12)
        pooled = roi_align(image[None, None], roi[None], (2, 3), 0.5, sampling_ratio, aligned)[0, 0]
        for i, j in itertools.product(range(2), range(3)):
            reads = [_bilinear(image, y, x) for y in ys[i].tolist() for x in xs[j].tolist()]
            expected = sum(reads) / max(len(reads), 1)
            assert abs(pooled[i, j].item() - expected) < ALIGN_TOLERANCE
    # aligned=True: the bins are the box shifted by half a cell; aligned=False stretches tiny boxes to a cell
    row_edges, col_edges = roi_align_bins([2, 4, 6, 8], 2, 0.5, aligned=True)
    assert row_edges.tolist() == [1.5, 2.5, 3.5] and col_edges.tolist() == [0.5, 1.5, 2.5]
    row_edges, col_edges = roi_align_bins([2, 4, 2, 4.5], 2, 0.5, aligned=False)
    assert row_edges.tolist() == [2.0, 2.5, 3.0] and col_edges.tolist() == [1.0, 1.5, 2.0]


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------


def test_bad_input_is_rejected_with_the_argument_named():
    features = torch.zeros(2, 3, 8, 8)
    rois = torch.tensor([[0, 1.0, 1, 5, 5]])
    for fn in (roi_pool, roi_align):
        with pytest.raises(ValueError, match="features must be a 4-D"):
            fn(features[0], rois, 2)
        with pytest.raises(TypeError, match="features must be a torch tensor"):
            fn(features.numpy(), rois, 2)
        with pytest.raises(TypeError, match="features must have a floating dtype"):
            fn(features.long(), rois, 2)
        with pytest.raises(ValueError, match="features must contain only finite"):
            fn(torch.full((1, 1, 2, 2), math.nan), rois[:, :] * 0, 2)
        with pytest.raises(ValueError, match=r"boxes must be a \(K, 5\) tensor"):
            fn(features, rois[:, 1:], 2)
        with pytest.raises(ValueError, match=r"boxes must be a \(K, 5\) tensor"):
            fn(features, rois[0], 2)
        with pytest.raises(TypeError, match="boxes must be"):
            fn(features, rois.numpy(), 2)
        with pytest.raises(ValueError, match=r"boxes\[:, 0\] is the batch index.*\[0, 2\).*row 1 has 2"):
            fn(features, torch.tensor([[1, 1.0, 1, 5, 5], [2, 1.0, 1, 5, 5]]), 2)
        with pytest.raises(ValueError, match=r"boxes\[:, 0\] is the batch index"):
            fn(features, torch.tensor([[0.5, 1.0, 1, 5, 5]]), 2)
        with pytest.raises(ValueError, match=r"boxes\[:, 0\] is the batch index"):
            fn(features, torch.tensor([[-1, 1.0, 1, 5, 5]]), 2)
        with pytest.raises(ValueError, match=r"boxes\[1\] must have shape \(K, 4\)"):
            fn(features, [torch.zeros(1, 4), torch.zeros(1, 5)], 2)
        with pytest.raises(ValueError, match="one \\(L_i, 4\\) tensor per image"):
            fn(features, [torch.zeros(1, 4)], 2)
        with pytest.raises(ValueError, match="boxes must contain only finite"):
            fn(features, torch.tensor([[0, 1.0, math.inf, 5, 5]]), 2)
        with pytest.raises(TypeError, match="boxes.*real numbers"):
            fn(features, torch.ones(1, 5, dtype=torch.bool), 2)
        with pytest.raises(ValueError, match=r"output_size\[0\] must be >= 1"):
            fn(features, rois, (0, 2))
        with pytest.raises(ValueError, match=r"output_size\[1\] must be >= 1"):
            fn(features, rois, (2, -1))
        with pytest.raises(TypeError, match="output_size must be an integer or a pair"):
            fn(features, rois, (2, 2, 2))
        with pytest.raises(TypeError, match=r"output_size\[0\] must be an integer"):
            fn(features, rois, (2.0, 2))
        with pytest.raises(ValueError, match="spatial_scale must be > 0"):
            fn(features, rois, 2, -0.5)
        with pytest.raises(ValueError, match="spatial_scale must be > 0"):
            fn(features, rois, 2, 0)
        with pytest.raises(TypeError, match="spatial_scale must be a number"):
            fn(features, rois, 2, "1/16")
    with pytest.raises(TypeError, match="sampling_ratio must be an integer"):
        roi_align(features, rois, 2, 1.0, 2.0)
    with pytest.raises(TypeError, match="aligned must be True or False"):
        roi_align(features, rois, 2, 1.0, 2, 1)
    with pytest.raises(ValueError, match="box must be four numbers"):
        roi_pool_bins([0, 0, 1], 2, 8)
    with pytest.raises(ValueError, match="map_size"):
        roi_pool_bins([0, 0, 1, 1], 2, (0, 8))
    with pytest.raises(TypeError, match="box must be four numbers"):
        roi_align_samples("box", 2)
    with pytest.raises(ValueError, match="box must contain only finite"):
        roi_align_bins([0, 0, math.nan, 1], 2)


def test_public_names():
    for name in ("roi_pool", "roi_align", "roi_pool_bins", "roi_align_bins", "roi_align_samples"):
        assert getattr(detection, name) is getattr(detection.roi, name)
        assert name in detection.__all__


# --------------------------------------------------------------------------
# A measured fact: quantization costs localization
# --------------------------------------------------------------------------


def shifted_features(fn, shifts, **kwargs):
    """Features of one box on a stride-16 map, shifted right by each of ``shifts`` pixels: (S, C * h * w)."""
    features = torch.randn(1, 8, 16, 16, generator=torch.Generator().manual_seed(12), dtype=torch.float64)
    box = torch.tensor([64.0, 64.0, 160.0, 160.0], dtype=torch.float64)  # cells 4 to 10, on cell edges
    boxes = box + torch.stack([shifts, torch.zeros_like(shifts), shifts, torch.zeros_like(shifts)], dim=1)
    return fn(features, [boxes], (2, 2), 1 / 16, **kwargs).flatten(1)


def shift_regression_error(fn, **kwargs):
    """RMS error (pixels) of the best linear prediction of a sub-cell shift from the pooled features.

    400 shifts from -16 to 16 pixels (one cell each way); least squares on
    the even ones, error measured on the odd ones.
    """
    shifts = torch.linspace(-16, 16, 400, dtype=torch.float64)
    x = shifted_features(fn, shifts, **kwargs).numpy()
    x = np.concatenate([x, np.ones((len(x), 1))], axis=1)  # and an intercept
    y = shifts.numpy()
    w, *_ = np.linalg.lstsq(x[::2], y[::2], rcond=None)
    return float(np.sqrt(np.mean((x[1::2] @ w - y[1::2]) ** 2)))


def test_quantization_costs_localization():
    """RoI Pool cannot see a shift under half a cell; RoI Align sees every pixel of it.

    A box on a map of stride 16 (``spatial_scale=1/16``) moved right by 0 to
    15 pixels (less than one cell): RoI Pool gives 2 different features (the
    same for 0 to 7 pixels, then the rounded box jumps a cell); RoI Align
    gives 16, each further from the unshifted one.  Predicting a shift of
    -16 to 16 pixels from the features with least squares: from RoI Pool's
    the error is 3.66 pixels RMS (its features take 3 values over those two
    cells, for shifts spread over 8, 16 and 8 pixels: the error is that
    spread, sqrt((2 * 8**2 / 4 + 16**2 / 2) / 12) = 3.65 pixels);
    from RoI Align's it is about 1e-14 pixel: a linear function of the
    features gives the shift back exactly.
    """
    shifts = torch.arange(16, dtype=torch.float64)
    pool = shifted_features(roi_pool, shifts)
    align = shifted_features(roi_align, shifts, sampling_ratio=2, aligned=True)
    assert len(torch.unique(pool, dim=0)) == 2
    assert torch.equal(pool[:8], pool[:1].expand(8, -1))  # 0 to 7 pixels: the same feature
    assert len(torch.unique(align, dim=0)) == 16
    distance = (align - align[0]).norm(dim=1)
    assert bool((distance[1:] > distance[:-1]).all())  # further and further from the unshifted box

    pool_error = shift_regression_error(roi_pool)
    align_error = shift_regression_error(roi_align, sampling_ratio=2, aligned=True)
    assert abs(pool_error - math.sqrt((2 * 8**2 / 4 + 16**2 / 2) / 12)) < 0.05  # pixels: 3.66
    assert align_error < 1e-6
