"""Tests of course_utils.features against scikit-image / SciPy references."""

import time
import warnings

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage import color, data, feature, filters, measure, util

from course_utils import features as F

# ---------------------------------------------------------------------------
# Shared inputs
# ---------------------------------------------------------------------------

SHAPES = [(7, 13), (31, 17), (16, 16), (3, 3), (5, 40), (23, 9), (64, 48), (37, 53)]


def random_image(seed, shape, kind="float"):
    rng = np.random.default_rng(seed)
    if kind == "uint8":
        return rng.integers(0, 256, shape, dtype=np.uint8)
    image = rng.random(shape)
    return image.astype(np.float32) if kind == "float32" else image


def _real_images():
    """Gray uint8 images shipped with scikit-image (no network needed)."""
    return {
        "camera": data.camera(),
        "coins": data.coins(),
        "astronaut": util.img_as_ubyte(color.rgb2gray(data.astronaut())),
        "brick": data.brick(),
        "grass": data.grass(),
        "gravel": data.gravel(),
        "lfw": util.img_as_ubyte(data.lfw_subset()[0]),
    }


REAL = _real_images()


def square_image(size=64):
    image = np.zeros((size, size))
    image[size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = 1.0
    return image


# ---------------------------------------------------------------------------
# Colour
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("kind", ["uint8", "float"])
def test_value_and_saturation_match_rgb2hsv(seed, kind):
    image = random_image(seed, (19, 23, 3), kind)
    image[:3, :4] = 0  # black pixels: saturation is defined as 0 there
    image[5, :] = image[5, :, :1]  # grays: saturation 0, value > 0
    value, saturation = F.value_and_saturation(image)
    hsv = color.rgb2hsv(image)
    np.testing.assert_allclose(value, hsv[..., 2], rtol=0, atol=1e-12)
    np.testing.assert_allclose(saturation, hsv[..., 1], rtol=0, atol=1e-12)
    assert np.all(saturation[:3, :4] == 0)


def test_value_and_saturation_real_image():
    image = data.astronaut()
    value, saturation = F.value_and_saturation(image)
    hsv = color.rgb2hsv(image)
    np.testing.assert_allclose(value, hsv[..., 2], rtol=0, atol=1e-12)
    np.testing.assert_allclose(saturation, hsv[..., 1], rtol=0, atol=1e-12)


def test_to_gray():
    image = data.astronaut()
    np.testing.assert_allclose(F.to_gray(image), color.rgb2gray(image), atol=1e-12)
    gray = data.camera()
    np.testing.assert_allclose(F.to_gray(gray), gray / 255.0, rtol=0, atol=1e-15)


# ---------------------------------------------------------------------------
# Gradients
# ---------------------------------------------------------------------------


def test_gradient_kernels_values():
    kx, ky = F.gradient_kernels("sobel")
    np.testing.assert_array_equal(kx, [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    np.testing.assert_array_equal(ky, kx.T)
    kx, ky = F.gradient_kernels("prewitt")
    np.testing.assert_array_equal(kx, [[-1, 0, 1]] * 3)
    kx, ky = F.gradient_kernels("central")
    np.testing.assert_array_equal(kx, [[-1, 0, 1]])
    assert ky.shape == (3, 1)


def test_gradient_signs_on_ramps():
    ramp = np.tile(np.arange(6.0), (5, 1))  # brighter to the right
    for operator in F.GRADIENT_OPERATORS:
        gx, gy = F.image_gradients(ramp, operator)
        assert np.all(gx[:, 1:-1] > 0) and np.all(gy == 0)
        gx, gy = F.image_gradients(ramp.T, operator)  # brighter downward
        assert np.all(gy[1:-1, :] > 0) and np.all(gx == 0)


# skimage.filters.sobel_v / prewitt_v give d/dx (columns) and sobel_h /
# prewitt_h give d/dy (rows), with the same sign as ours (positive toward
# the right / downward) but divided by the sum of the smoothing weights:
# 4 for Sobel ([1, 2, 1]) and 3 for Prewitt ([1, 1, 1]). They use border
# mode "reflect" and scale uint8 images to [0, 1] (hence the 255).
SKIMAGE_GRADIENTS = {
    "sobel": (filters.sobel_v, filters.sobel_h, 4.0),
    "prewitt": (filters.prewitt_v, filters.prewitt_h, 3.0),
}


@pytest.mark.parametrize("operator", ["sobel", "prewitt"])
@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("kind", ["float", "uint8"])
def test_sobel_prewitt_match_skimage(operator, seed, kind):
    image = random_image(seed, SHAPES[seed % len(SHAPES)], kind)
    along_x, along_y, scale = SKIMAGE_GRADIENTS[operator]
    if kind == "uint8":
        scale *= 255.0
    gx, gy = F.image_gradients(image, operator)
    assert gx.dtype == gy.dtype == np.float64 and gx.shape == image.shape
    np.testing.assert_allclose(gx, scale * along_x(image), rtol=0, atol=1e-10)
    np.testing.assert_allclose(gy, scale * along_y(image), rtol=0, atol=1e-10)


@pytest.mark.parametrize("seed", range(20))
def test_central_reflect_matches_correlate1d(seed):
    image = random_image(seed, SHAPES[seed % len(SHAPES)], "uint8" if seed % 3 == 0 else "float")
    gx, gy = F.image_gradients(image, "central")
    reference = image.astype(np.float64)
    np.testing.assert_allclose(
        gx, ndi.correlate1d(reference, [-1, 0, 1], axis=1, mode="reflect"), rtol=0, atol=1e-12
    )
    np.testing.assert_allclose(
        gy, ndi.correlate1d(reference, [-1, 0, 1], axis=0, mode="reflect"), rtol=0, atol=1e-12
    )


@pytest.mark.parametrize("operator", ["central", "sobel", "prewitt"])
@pytest.mark.parametrize("seed", range(4))
def test_gradients_equal_correlation_with_printed_kernels(operator, seed):
    image = random_image(seed, (19, 27))
    kx, ky = F.gradient_kernels(operator)
    gx, gy = F.image_gradients(image, operator)
    for ours, kernel in [(gx, kx), (gy, ky)]:
        expected = ndi.correlate(image, kernel.astype(float), mode="reflect")
        np.testing.assert_allclose(ours, expected, atol=1e-12)


@pytest.mark.parametrize("shape", [(1, 1), (1, 5), (5, 1), (2, 2), (2, 7), (3, 3)])
def test_gradients_of_tiny_images(shape):
    image = random_image(3, shape)
    gx, gy = F.image_gradients(image, "central")
    for ours, axis in [(gx, 1), (gy, 0)]:
        expected = ndi.correlate1d(image, [-1, 0, 1], axis=axis, mode="reflect")
        np.testing.assert_allclose(ours, expected, atol=1e-12)
    gx, gy = F.image_gradients(image, "sobel")
    np.testing.assert_allclose(gx, ndi.sobel(image, axis=1), atol=1e-12)
    np.testing.assert_allclose(gy, ndi.sobel(image, axis=0), atol=1e-12)
    for operator in F.GRADIENT_OPERATORS:  # zero border: defined for every size
        gx, gy = F.image_gradients(image, operator, border="zero")
        assert gx.shape == gy.shape == shape


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("kind", ["float", "float32", "uint8"])
def test_central_zero_border_is_hogs_gradient(seed, kind):
    image = random_image(seed, SHAPES[seed % len(SHAPES)], kind)
    gx, gy = F.image_gradients(image, "central", border="zero")
    expected_dtype = np.float32 if kind == "float32" else np.float64
    assert gx.dtype == gy.dtype == expected_dtype
    work = image.astype(expected_dtype)
    g_row = np.zeros_like(work)
    g_row[1:-1, :] = work[2:, :] - work[:-2, :]
    g_col = np.zeros_like(work)
    g_col[:, 1:-1] = work[:, 2:] - work[:, :-2]
    np.testing.assert_array_equal(gx, g_col)
    np.testing.assert_array_equal(gy, g_row)


@pytest.mark.parametrize("operator", ["sobel", "prewitt"])
def test_sobel_zero_border_has_zero_frame(operator):
    image = random_image(5, (12, 15))
    gx, gy = F.image_gradients(image, operator, border="zero")
    rx, ry = F.image_gradients(image, operator, border="reflect")
    for g, r in [(gx, rx), (gy, ry)]:
        np.testing.assert_allclose(g[1:-1, 1:-1], r[1:-1, 1:-1], atol=1e-12)
        assert not g[[0, -1], :].any() and not g[:, [0, -1]].any()


@pytest.mark.parametrize("seed", range(10))
def test_gradient_magnitude_direction(seed):
    rng = np.random.default_rng(seed)
    gx, gy = rng.normal(size=(2, 11, 13))
    gx[0, :3] = 0  # zero gradients and axis-aligned ones
    gy[0, :2] = 0
    magnitude, direction = F.gradient_magnitude_direction(gx, gy)
    np.testing.assert_allclose(magnitude, np.sqrt(gx**2 + gy**2), rtol=1e-14, atol=0)
    np.testing.assert_array_equal(direction, np.rad2deg(np.arctan2(gy, gx)))
    assert np.all((direction >= -180) & (direction <= 180))
    _, unsigned = F.gradient_magnitude_direction(gx, gy, unsigned=True)
    np.testing.assert_array_equal(unsigned, np.rad2deg(np.arctan2(gy, gx)) % 180)
    assert np.all((unsigned >= 0) & (unsigned < 180))


def test_direction_convention():
    _, direction = F.gradient_magnitude_direction([1.0, 0.0, -1.0, 0.0], [0.0, 1.0, 0.0, -1.0])
    np.testing.assert_array_equal(direction, [0, 90, 180, -90])  # 90: pointing down


# ---------------------------------------------------------------------------
# Canny
# ---------------------------------------------------------------------------


def nms_reference(magnitude, direction):
    """Per-pixel loop version of non-maximum suppression (test only)."""
    steps = {0: (0, 1), 1: (1, 1), 2: (1, 0), 3: (1, -1)}
    H, W = magnitude.shape
    out = np.zeros_like(magnitude)

    def at(r, c):
        return magnitude[r, c] if 0 <= r < H and 0 <= c < W else 0.0

    for r in range(H):
        for c in range(W):
            angle = direction[r, c] % 180
            k = int(np.round(angle / 45)) % 4
            dr, dc = steps[k]
            m = magnitude[r, c]
            if m >= at(r + dr, c + dc) and m >= at(r - dr, c - dc):
                out[r, c] = m
    return out


@pytest.mark.parametrize("seed", range(20))
def test_non_max_suppression_matches_loop(seed):
    image = random_image(seed, SHAPES[seed % len(SHAPES)])
    gx, gy = F.image_gradients(F.gaussian_smooth(image, 1.0))
    magnitude, direction = F.gradient_magnitude_direction(gx, gy)
    np.testing.assert_array_equal(
        F.non_max_suppression(magnitude, direction), nms_reference(magnitude, direction)
    )


def test_non_max_suppression_thins_a_blurred_line():
    image = np.zeros((9, 15))
    image[:, 7] = 1.0
    gx, gy = F.image_gradients(F.gaussian_smooth(image, 1.5))
    thinned = F.non_max_suppression(*F.gradient_magnitude_direction(gx, gy))
    # the gradient peaks on the line's two flanks, about sigma from its
    # centre: one pixel survives on each side
    assert np.array_equal(np.flatnonzero(thinned[4]), [5, 9])


@pytest.mark.parametrize("seed", range(30))
def test_hysteresis_4_matches_apply_hysteresis_threshold(seed):
    # skimage.filters.apply_hysteresis_threshold labels the weak mask with
    # scipy's default structure, i.e. 4-connectivity in 2-D.
    rng = np.random.default_rng(seed)
    magnitude = ndi.gaussian_filter(rng.random((25 + seed, 30)), 1.0)
    low, high = np.sort(rng.uniform(magnitude.min(), magnitude.max(), 2))
    expected = filters.apply_hysteresis_threshold(magnitude, low, high)
    np.testing.assert_array_equal(F.hysteresis(magnitude, low, high, connectivity=4), expected)


@pytest.mark.parametrize("seed", range(20))
def test_hysteresis_8_matches_label_reference(seed):
    rng = np.random.default_rng(100 + seed)
    magnitude = rng.random((20, 27))
    low, high = 0.4, 0.9
    weak, strong = magnitude > low, magnitude > high
    labels = measure.label(weak, connectivity=2)
    expected = weak & np.isin(labels, labels[strong])
    np.testing.assert_array_equal(F.hysteresis(magnitude, low, high), expected)


def test_hysteresis_connectivity_diagonal():
    magnitude = np.zeros((4, 4))
    magnitude[0, 0] = 1.0  # strong
    magnitude[1, 1] = magnitude[2, 2] = 0.5  # weak, diagonal chain
    assert F.hysteresis(magnitude, 0.2, 0.8, connectivity=8).sum() == 3
    assert F.hysteresis(magnitude, 0.2, 0.8, connectivity=4).sum() == 1


def edge_f1(ours, reference):
    """F1 score of edge pixels, a pixel matching within one pixel (3x3)."""
    near = np.ones((3, 3), dtype=bool)
    precision = (ours & ndi.binary_dilation(reference, near)).sum() / max(ours.sum(), 1)
    recall = (reference & ndi.binary_dilation(ours, near)).sum() / max(reference.sum(), 1)
    return 2 * precision * recall / max(precision + recall, 1e-12)


# Measured F1 (sigma, low, high) = (1, 0.1, 0.2) / (2, 0.05, 0.15):
# camera 0.982 / 0.952, coins 0.992 / 0.992, astronaut 0.993 / 0.987,
# brick 0.998 / 0.999, lfw 0.996 / 0.990, square 1.0 / 1.0.
@pytest.mark.parametrize("name", ["camera", "coins", "astronaut", "brick", "lfw", "square"])
@pytest.mark.parametrize("sigma, low, high", [(1.0, 0.1, 0.2), (2.0, 0.05, 0.15)])
def test_canny_agrees_with_skimage(name, sigma, low, high):
    image = square_image() if name == "square" else util.img_as_float64(REAL[name])
    ours = F.canny(image, sigma, low, high)
    reference = feature.canny(image, sigma, low, high)
    assert ours.dtype == bool and ours.shape == image.shape
    assert edge_f1(ours, reference) >= 0.9


def test_canny_uint8_scaled_like_float():
    image = data.coins()
    np.testing.assert_array_equal(F.canny(image), F.canny(image / 255.0))


def test_canny_square_edges_and_steps():
    image = square_image()
    edges, steps = F.canny(image, sigma=1.0, return_steps=True)
    assert set(steps) == {"smoothed", "gx", "gy", "magnitude", "direction", "thinned"}
    rows, cols = np.nonzero(edges)
    assert rows.min() >= 14 and rows.max() <= 49 and cols.min() >= 14 and cols.max() <= 49
    assert edges[32, 15] or edges[32, 16]  # left side of the square found
    assert not edges[32, 32] and not edges[[0, -1], :].any()


# ---------------------------------------------------------------------------
# HoG
# ---------------------------------------------------------------------------

# scikit-image sums each cell's magnitudes in float32, we in float64: the
# measured differences are ~1e-7 at most, hence atol 1e-6 (not bit-exact).
HOG_ATOL = 1e-6

HOG_CASES = [
    (9, (8, 8), (2, 2)),
    (8, (6, 7), (1, 1)),
    (7, (5, 5), (3, 2)),
    (12, (8, 8), (3, 2)),
    (9, (5, 5), (1, 1)),
    (12, (6, 7), (2, 2)),
    (7, (8, 8), (1, 1)),
    (8, (5, 5), (2, 2)),
]
HOG_SHAPES = [(37, 53), (64, 128), (50, 61), (41, 33)]


@pytest.mark.parametrize("block_norm", F.HOG_BLOCK_NORMS)
@pytest.mark.parametrize("case", range(len(HOG_CASES)))
@pytest.mark.parametrize("kind", ["float", "uint8", "float32"])
def test_hog_matches_skimage_random(block_norm, case, kind):
    orientations, cell, block = HOG_CASES[case]
    for seed, shape in enumerate(HOG_SHAPES):
        image = random_image(seed + 10 * case, shape, kind)
        ours = F.hog(image, orientations, cell, block, block_norm)
        reference = feature.hog(image, orientations, cell, block, block_norm, channel_axis=None)
        assert ours.dtype == reference.dtype and ours.shape == reference.shape
        np.testing.assert_allclose(ours, reference, rtol=0, atol=HOG_ATOL)


@pytest.mark.parametrize("name", list(REAL))
@pytest.mark.parametrize("block_norm", F.HOG_BLOCK_NORMS)
def test_hog_matches_skimage_real(name, block_norm):
    image = REAL[name]
    for orientations, cell, block in [(9, (8, 8), (2, 2)), (7, (6, 7), (3, 2))]:
        for img in (image, util.img_as_float64(image)):
            ours = F.hog(img, orientations, cell, block, block_norm, feature_vector=False)
            reference = feature.hog(
                img, orientations, cell, block, block_norm, feature_vector=False, channel_axis=None
            )
            assert ours.shape == reference.shape
            np.testing.assert_allclose(ours, reference, rtol=0, atol=HOG_ATOL)


def test_hog_dtypes_and_shapes():
    image = random_image(0, (64, 128))
    assert F.hog(image.astype(np.float16)).dtype == np.float32
    assert F.hog(image.astype(np.float32)).dtype == np.float32
    assert F.hog((image * 255).astype(np.uint8)).dtype == np.float64
    grid = F.hog(image, feature_vector=False)
    assert grid.shape == (7, 15, 2, 2, 9)
    np.testing.assert_array_equal(F.hog(image), grid.ravel())
    assert F.hog_feature_length(image.shape) == 36 * 7 * 15 == F.hog(image).size
    reference = feature.hog(image.astype(np.float16), cells_per_block=(2, 2), channel_axis=None)
    np.testing.assert_allclose(F.hog(image.astype(np.float16)), reference, atol=HOG_ATOL)


@pytest.mark.parametrize("case", range(len(HOG_CASES)))
def test_hog_feature_length(case):
    orientations, cell, block = HOG_CASES[case]
    for shape in HOG_SHAPES + [(40, 40, 3)]:
        expected = F.hog(np.zeros(shape[:2]), orientations, cell, block).size
        assert F.hog_feature_length(shape, orientations, cell, block) == expected


@pytest.mark.parametrize("seed", range(6))
def test_hog_cell_histograms_sum_cell_magnitudes(seed):
    image = random_image(seed, (37, 53))
    cell = (6, 7)
    hist = F.hog_cell_histograms(image, 9, cell)
    assert hist.shape == (6, 7, 9)
    gx, gy = F.image_gradients(image, "central", border="zero")
    magnitude = np.hypot(gx, gy)
    for r in range(hist.shape[0]):
        for c in range(hist.shape[1]):
            patch = magnitude[r * 6 : r * 6 + 6, c * 7 : c * 7 + 7]
            assert hist[r, c].sum() == pytest.approx(patch.sum() / 42, rel=1e-12)


def test_hog_cell_histogram_bins_a_known_edge():
    image = np.zeros((8, 8))
    image[:, 4:] = 1.0  # vertical edge: gradient along +x, angle 0
    hist = F.hog_cell_histograms(image, orientations=9, pixels_per_cell=(8, 8))
    assert hist[0, 0, 0] == pytest.approx(8 * 2 / 64) and hist[0, 0, 1:].sum() == 0
    hist = F.hog_cell_histograms(image.T, orientations=9, pixels_per_cell=(8, 8))
    assert hist[0, 0, 4] > 0 and hist[0, 0].sum() == hist[0, 0, 4]  # 90 degrees


@pytest.mark.parametrize("method", F.HOG_BLOCK_NORMS)
@pytest.mark.parametrize("seed", range(5))
def test_normalize_block_formulas(method, seed):
    v = np.random.default_rng(seed).random((2, 2, 9))
    eps = 1e-5
    if method == "L1":
        expected = v / (np.abs(v).sum() + eps)
    elif method == "L1-sqrt":
        expected = np.sqrt(v / (np.abs(v).sum() + eps))
    elif method == "L2":
        expected = v / np.sqrt((v**2).sum() + eps**2)
    else:
        clipped = np.minimum(v / np.sqrt((v**2).sum() + eps**2), 0.2)
        expected = clipped / np.sqrt((clipped**2).sum() + eps**2)
    np.testing.assert_allclose(F.normalize_block(v, method), expected, rtol=1e-14)
    # a grid of blocks normalized at once equals block by block
    grid = np.random.default_rng(seed).random((3, 4, 2, 2, 9))
    together = F.normalize_block(grid, method, axis=(-3, -2, -1))
    np.testing.assert_allclose(together[2, 1], F.normalize_block(grid[2, 1], method), rtol=1e-14)


def median_ms(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1e3 * np.median(times)


def test_hog_speed_within_3x_of_skimage():
    # Measured ~20 ms (ours) vs ~70 ms (skimage) on 512x512: ratio ~0.3.
    image = random_image(0, (512, 512))
    ours = median_ms(lambda: F.hog(image), 5)
    reference = median_ms(lambda: feature.hog(image, cells_per_block=(2, 2), channel_axis=None), 5)
    assert ours <= 3 * reference, (ours, reference)


# ---------------------------------------------------------------------------
# LBP
# ---------------------------------------------------------------------------

LBP_P_R = [(P, R) for P in (4, 8, 12, 16, 24) for R in (1, 1.5, 2, 3)]


@pytest.mark.parametrize("P, R", LBP_P_R)
@pytest.mark.parametrize("method", F.LBP_METHODS)
def test_lbp_matches_skimage_random(P, R, method):
    for seed, shape in enumerate([(23, 31), (17, 9), (6, 5)]):
        image = random_image(seed + P, shape, "uint8")
        if seed == 1:
            image //= 64  # few gray levels: many ties with the centre
        expected = feature.local_binary_pattern(image, P, R, method)
        ours = F.lbp(image, P, R, method)
        assert ours.dtype == np.float64
        np.testing.assert_array_equal(ours, expected)


@pytest.mark.parametrize("name", list(REAL))
@pytest.mark.parametrize("method", F.LBP_METHODS)
def test_lbp_matches_skimage_real(name, method):
    image = REAL[name][:96, :80]
    for P, R in [(8, 1), (16, 2), (24, 3), (12, 1.5)]:
        np.testing.assert_array_equal(
            F.lbp(image, P, R, method), feature.local_binary_pattern(image, P, R, method)
        )


@pytest.mark.parametrize("method", F.LBP_METHODS)
def test_lbp_flat_and_float_images(method):
    flat = np.full((9, 12), 77, dtype=np.uint8)
    for P, R in [(8, 1), (4, 2)]:
        np.testing.assert_array_equal(
            F.lbp(flat, P, R, method), feature.local_binary_pattern(flat, P, R, method)
        )
    image = random_image(4, (15, 21))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skimage warns about float images
        expected = feature.local_binary_pattern(image, 8, 1.5, method)
    np.testing.assert_array_equal(F.lbp(image, 8, 1.5, method), expected)


@pytest.mark.parametrize("P, R", LBP_P_R)
def test_lbp_variance_matches_skimage(P, R):
    # skimage returns NaN where all neighbours are equal (variance exactly 0); ours returns 0.
    for seed, shape in enumerate([(23, 31), (17, 9), (6, 5), (40, 3)]):
        image = random_image(seed + 3 * P, shape, "uint8")
        if seed == 1:
            image //= 64  # few gray levels: many flat neighbourhoods
        expected = np.nan_to_num(feature.local_binary_pattern(image, P, R, "var"), nan=0.0)
        ours = F.lbp_variance(image, P, R)
        assert ours.dtype == np.float64 and ours.shape == image.shape
        np.testing.assert_allclose(ours, expected, rtol=1e-9, atol=1e-7)


def test_lbp_variance_real_flat_and_contrast():
    for image in REAL.values():
        image = image[:64, :64]
        expected = np.nan_to_num(feature.local_binary_pattern(image, 8, 1, "var"), nan=0.0)
        np.testing.assert_allclose(F.lbp_variance(image, 8, 1), expected, rtol=1e-9, atol=1e-7)
    flat = np.full((7, 9), 50, dtype=np.uint8)
    assert np.all(F.lbp_variance(flat, 8, 1)[1:-1, 1:-1] == 0)
    assert np.all(np.isnan(feature.local_binary_pattern(flat, 8, 1, "var")[1:-1, 1:-1]))
    image = random_image(11, (20, 20), "uint8").astype(np.float64)
    # Contrast a gives variance a**2; an added constant changes nothing away from the zero border.
    np.testing.assert_allclose(F.lbp_variance(3 * image + 5, 8, 2)[2:-2, 2:-2],
                               9 * F.lbp_variance(image, 8, 2)[2:-2, 2:-2], rtol=1e-9, atol=1e-12)


def test_lbp_variance_bad_arguments():
    with pytest.raises(ValueError, match="P"):
        F.lbp_variance(GOOD, 0, 1)
    with pytest.raises(ValueError, match="R"):
        F.lbp_variance(GOOD, 8, 0)
    with pytest.raises(ValueError, match="image"):
        F.lbp_variance(RGB, 8, 1)


def test_lbp_offsets():
    rows, cols = F.lbp_offsets(4, 1)
    np.testing.assert_array_equal(rows, [0, -1, 0, 1])  # right, up, left, down
    np.testing.assert_array_equal(cols, [1, 0, -1, 0])
    rows, cols = F.lbp_offsets(8, 2)
    np.testing.assert_allclose(np.hypot(rows, cols), 2, atol=1e-5)


def test_lbp_known_patterns():
    image = np.zeros((3, 3), dtype=np.uint8)
    image[1, 1] = 10
    image[1, 2] = 20  # only the right neighbour (bit 0) is brighter
    assert F.lbp(image, 4, 1)[1, 1] == 1
    assert F.lbp(image, 4, 1, "uniform")[1, 1] == 1
    image[0, 1] = 20  # bits 0 and 1: code 3, rotation-invariant code 3
    assert F.lbp(image, 4, 1)[1, 1] == 3 and F.lbp(image, 4, 1, "ror")[1, 1] == 3
    image[0, 1], image[2, 1] = 0, 20  # bits 0 and 3: code 9, ror 3
    assert F.lbp(image, 4, 1)[1, 1] == 9 and F.lbp(image, 4, 1, "ror")[1, 1] == 3


@pytest.mark.parametrize("method", F.LBP_METHODS)
@pytest.mark.parametrize("P", [4, 8, 12])
def test_lbp_histogram(method, P):
    codes = F.lbp(REAL["brick"][:64, :64], P, 1.5, method)
    hist = F.lbp_histogram(codes, P, method)
    expected_bins = {
        "default": 2**P, "ror": 2**P, "uniform": P + 2, "nri_uniform": P * (P - 1) + 3
    }
    assert hist.shape == (expected_bins[method],) == (F.lbp_n_bins(P, method),)
    assert hist.sum() == pytest.approx(1.0)
    counts = np.bincount(codes.astype(int).ravel(), minlength=hist.size)
    np.testing.assert_allclose(hist * codes.size, counts)


@pytest.mark.parametrize("P, R", [(8, 1), (16, 2)])
@pytest.mark.parametrize("method", ["default", "uniform"])
def test_lbp_speed_within_4x_of_skimage(P, R, method):
    # Measured medians on 512x512 uint8 (ours / skimage): P=8 ~0.6x,
    # P=16 ~1.2x.
    image = random_image(0, (512, 512), "uint8")
    ours = median_ms(lambda: F.lbp(image, P, R, method), 3)
    reference = median_ms(lambda: feature.local_binary_pattern(image, P, R, method), 3)
    assert ours <= 4 * reference, (ours, reference)


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------

GOOD = np.zeros((32, 32))
RGB = np.zeros((8, 8, 3))
NAN = np.full((32, 32), np.nan)
TEXT = np.full((32, 32), "a")

BAD_CALLS = [
    (F.value_and_saturation, (GOOD,), {}, ValueError, "rgb"),
    (F.value_and_saturation, (np.zeros((8, 8, 4)),), {}, ValueError, "rgb"),
    (F.value_and_saturation, ("image.png",), {}, TypeError, "rgb"),
    (F.to_gray, (np.zeros(5),), {}, ValueError, "image"),
    (F.gradient_kernels, ("laplace",), {}, ValueError, "operator"),
    (F.image_gradients, (np.zeros(5),), {}, ValueError, "image"),
    (F.image_gradients, (TEXT,), {}, TypeError, "image"),
    (F.image_gradients, (NAN,), {}, ValueError, "image"),
    (F.image_gradients, (RGB,), {}, ValueError, "image"),
    (F.image_gradients, (GOOD, "scharr"), {}, ValueError, "operator"),
    (F.image_gradients, (GOOD,), {"border": "wrap"}, ValueError, "border"),
    (F.gradient_magnitude_direction, (GOOD, np.zeros((3, 3))), {}, ValueError, "gy"),
    (F.gradient_magnitude_direction, (TEXT, GOOD), {}, TypeError, "gx"),
    (F.gradient_magnitude_direction, (GOOD, NAN), {}, ValueError, "gy"),
    (F.gradient_magnitude_direction, (GOOD, GOOD), {"unsigned": "yes"}, TypeError, "unsigned"),
    (F.gaussian_smooth, (GOOD, -1.0), {}, ValueError, "sigma"),
    (F.gaussian_smooth, (GOOD, "1"), {}, TypeError, "sigma"),
    (F.gaussian_smooth, (NAN, 1.0), {}, ValueError, "image"),
    (F.non_max_suppression, (GOOD, np.zeros((4, 4))), {}, ValueError, "direction"),
    (F.non_max_suppression, (np.zeros(4), np.zeros(4)), {}, ValueError, "magnitude"),
    (F.hysteresis, (GOOD, 0.5, 0.1), {}, ValueError, "low"),
    (F.hysteresis, (GOOD, 0.1, "high"), {}, TypeError, "high"),
    (F.hysteresis, (GOOD, 0.1, 0.2), {"connectivity": 6}, ValueError, "connectivity"),
    (F.hysteresis, (NAN, 0.1, 0.2), {}, ValueError, "magnitude"),
    (F.canny, (RGB,), {}, ValueError, "image"),
    (F.canny, (GOOD,), {"sigma": -2}, ValueError, "sigma"),
    (F.canny, (GOOD,), {"low": -0.1}, ValueError, "low"),
    (F.canny, (GOOD,), {"low": 0.3, "high": 0.2}, ValueError, "low"),
    (F.hog, (RGB,), {}, ValueError, "image"),
    (F.hog, (NAN,), {}, ValueError, "image"),
    (F.hog, (TEXT,), {}, TypeError, "image"),
    (F.hog, (GOOD,), {"orientations": 0}, ValueError, "orientations"),
    (F.hog, (GOOD,), {"orientations": 9.0}, TypeError, "orientations"),
    (F.hog, (GOOD,), {"pixels_per_cell": (0, 8)}, ValueError, "pixels_per_cell"),
    (F.hog, (GOOD,), {"pixels_per_cell": (8, 8, 8)}, TypeError, "pixels_per_cell"),
    (F.hog, (GOOD,), {"cells_per_block": (0, 2)}, ValueError, "cells_per_block"),
    (F.hog, (GOOD,), {"block_norm": "L3"}, ValueError, "block_norm"),
    (F.hog, (GOOD,), {"feature_vector": "yes"}, TypeError, "feature_vector"),
    (F.hog, (np.zeros((12, 40)),), {}, ValueError, "too small"),
    (F.hog, (GOOD,), {"cells_per_block": (5, 5)}, ValueError, "cells_per_block"),
    (F.hog_cell_histograms, (GOOD,), {"pixels_per_cell": -1}, ValueError, "pixels_per_cell"),
    (F.hog_cell_histograms, (np.zeros(9),), {}, ValueError, "image"),
    (F.normalize_block, (np.zeros((2, 2, 9)), "L3"), {}, ValueError, "method"),
    (F.normalize_block, (TEXT,), {}, TypeError, "block"),
    (F.hog_feature_length, ((8,),), {}, TypeError, "image_shape"),
    (F.hog_feature_length, ((8, 8),), {}, ValueError, "too small"),
    (F.hog_feature_length, ((64, 64),), {"orientations": -3}, ValueError, "orientations"),
    (F.lbp_offsets, (0, 1), {}, ValueError, "P"),
    (F.lbp_offsets, (8, 0), {}, ValueError, "R"),
    (F.lbp, (GOOD, 0, 1), {}, ValueError, "P"),
    (F.lbp, (GOOD, 8.0, 1), {}, TypeError, "P"),
    (F.lbp, (GOOD, 40, 1), {}, ValueError, "P"),
    (F.lbp, (GOOD, 8, 0), {}, ValueError, "R"),
    (F.lbp, (GOOD, 8, -1.5), {}, ValueError, "R"),
    (F.lbp, (GOOD, 8, 1, "var"), {}, ValueError, "method"),
    (F.lbp, (RGB, 8, 1), {}, ValueError, "image"),
    (F.lbp, (NAN, 8, 1), {}, ValueError, "image"),
    (F.lbp_histogram, (np.full((4, 4), 300.0), 8, "default"), {}, ValueError, "codes"),
    (F.lbp_histogram, (np.full((4, 4), 10.0), 8, "uniform"), {}, ValueError, "codes"),
    (F.lbp_histogram, (np.zeros((4, 4)), 8, "bogus"), {}, ValueError, "method"),
    (F.lbp_n_bins, (0,), {}, ValueError, "P"),
]


@pytest.mark.parametrize(
    "function, args, kwargs, error, name",
    BAD_CALLS,
    ids=[f"{c[0].__name__}-{c[4]}-{i}" for i, c in enumerate(BAD_CALLS)],
)
def test_bad_input_names_the_argument(function, args, kwargs, error, name):
    with pytest.raises(error, match=name):
        function(*args, **kwargs)


def test_public_names():
    for name in F.__all__:
        assert hasattr(F, name), name


# --- chi-square distance ------------------------------------------------------

@pytest.mark.parametrize("seed", range(15))
def test_chi_square_distance_matches_sklearn(seed):
    from sklearn.metrics.pairwise import additive_chi2_kernel

    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 60))
    h1, h2 = rng.random(n), rng.random(n)
    h1[rng.random(n) < 0.3] = 0  # empty bins, some empty in both
    h2[h1 == 0] = 0
    expected = -0.5 * additive_chi2_kernel(h1[None], h2[None])[0, 0]
    assert F.chi_square_distance(h1, h2) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert F.chi_square_distance(h1, h1) == 0


def test_chi_square_distance_pairwise_matrix():
    from sklearn.metrics.pairwise import additive_chi2_kernel

    rng = np.random.default_rng(0)
    a, b = rng.random((7, 10)), rng.random((5, 10))
    a[:, 3] = b[:, 3] = 0
    matrix = F.chi_square_distance(a[:, None], b[None])
    assert matrix.shape == (7, 5)
    assert np.allclose(matrix, -0.5 * additive_chi2_kernel(a, b), rtol=1e-12, atol=1e-15)


def test_chi_square_distance_bad_input():
    with pytest.raises(ValueError, match="h2"):
        F.chi_square_distance(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="non-negative"):
        F.chi_square_distance(np.array([1.0, -1.0]), np.ones(2))
    with pytest.raises(TypeError, match="h1"):
        F.chi_square_distance("abc", np.ones(2))


# --- bilinear sampling ---------------------------------------------------------

@pytest.mark.parametrize("seed", range(12))
def test_sample_at_offset_matches_scipy_map_coordinates(seed):
    rng = np.random.default_rng(seed)
    shape = tuple(int(n) for n in rng.integers(1, 30, size=2))
    image = rng.random(shape)
    dy, dx = rng.uniform(-3.5, 3.5, size=2)
    rows, cols = np.meshgrid(np.arange(shape[0]) + dy, np.arange(shape[1]) + dx, indexing="ij")
    # order=1: bilinear; points outside read 0. grid-constant pads with 0 like
    # we do (plain "constant" also zeroes points less than a pixel outside).
    expected = ndi.map_coordinates(image, [rows, cols], order=1, mode="grid-constant", cval=0.0)
    assert np.allclose(F.sample_at_offset(image, dy, dx), expected, atol=1e-12)


def test_sample_at_offset_integer_offset_is_a_shift():
    image = np.arange(20.0).reshape(4, 5)
    shifted = F.sample_at_offset(image, 1, -2)
    assert np.array_equal(shifted[:3, 2:], image[1:, :3])
    assert np.all(shifted[3] == 0) and np.all(shifted[:, :2] == 0)
    with pytest.raises(TypeError, match="dy"):
        F.sample_at_offset(image, "up", 0)
