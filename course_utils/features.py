"""Hand-made image features: gradients, Canny edges, HoG and LBP.

Each step of each method is its own short function so that a notebook can
show the code (``inspect.getsource``) and the intermediate result of every
stage. The implementations are vectorized NumPy written for reading; the
tests check them against scikit-image:

* :func:`hog` equals ``skimage.feature.hog`` (2-D images, ``channel_axis=None``);
* :func:`lbp` equals ``skimage.feature.local_binary_pattern`` bit for bit;
* :func:`hysteresis` with ``connectivity=4`` equals
  ``skimage.filters.apply_hysteresis_threshold``;
* :func:`canny` is close to ``skimage.feature.canny`` but not identical
  (it quantizes the gradient direction instead of interpolating).

Conventions: images are indexed ``image[row, column]``; ``x`` runs along the
columns (to the right) and ``y`` along the rows (downward).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import ndimage as ndi
from skimage import color, filters, util

from ._checks import check_array, check_choice, check_image, check_int, check_number, check_pair

__all__ = [
    "GRADIENT_OPERATORS",
    "HOG_BLOCK_NORMS",
    "LBP_METHODS",
    "value_and_saturation",
    "to_gray",
    "gradient_kernels",
    "image_gradients",
    "gradient_magnitude_direction",
    "gaussian_smooth",
    "non_max_suppression",
    "hysteresis",
    "canny",
    "hog_cell_histograms",
    "normalize_block",
    "hog_feature_length",
    "hog",
    "lbp_offsets",
    "sample_at_offset",
    "lbp",
    "lbp_variance",
    "lbp_n_bins",
    "lbp_histogram",
    "chi_square_distance",
]

# Weight of the centre tap of the smoothing kernel [1, c, 1] applied across
# the derivative; None means no smoothing (plain central difference).
GRADIENT_OPERATORS = {"central": None, "sobel": 2, "prewitt": 1}
HOG_BLOCK_NORMS = ("L1", "L1-sqrt", "L2", "L2-Hys")
LBP_METHODS = ("default", "ror", "uniform", "nri_uniform")


# ---------------------------------------------------------------------------
# Colour
# ---------------------------------------------------------------------------


def value_and_saturation(rgb):
    """Value and saturation channels of the HSV colour space.

    Parameters
    ----------
    rgb : (H, W, 3) array_like
        Colour image. Integer images are scaled to [0, 1] (uint8 divided by
        255); float images are assumed to be in [0, 1] already.

    Returns
    -------
    value : (H, W) ndarray of float64
        ``V = max(R, G, B)``, the brightness of the strongest channel.
    saturation : (H, W) ndarray of float64
        ``S = (max - min) / max``, how far the colour is from a gray of the
        same value; 0 for black pixels, where the ratio is undefined.
    """
    rgb = util.img_as_float64(check_image(rgb, "rgb", channels=(3,)))
    value = rgb.max(axis=-1)
    spread = value - rgb.min(axis=-1)
    # where=... skips black pixels (max == 0), which keep the 0 of `out`
    saturation = np.divide(spread, value, out=np.zeros_like(value), where=value > 0)
    return value, saturation


def to_gray(image):
    """Gray image in [0, 1]: luminance of an RGB image, or a gray image as float.

    Thin wrapper of ``skimage.color.rgb2gray`` (0.2125 R + 0.7154 G +
    0.0721 B) that also accepts an image that is already gray.

    Parameters
    ----------
    image : (H, W) or (H, W, 3) array_like
        Integer images are scaled to [0, 1] (uint8 divided by 255).

    Returns
    -------
    (H, W) ndarray of float64
    """
    image = check_image(image, "image", channels=(None, 3))
    if image.ndim == 2:
        return util.img_as_float64(image)
    return color.rgb2gray(util.img_as_float64(image))


# ---------------------------------------------------------------------------
# Gradients
# ---------------------------------------------------------------------------


def gradient_kernels(operator="sobel"):
    """The correlation kernels that :func:`image_gradients` applies.

    Parameters
    ----------
    operator : {"central", "sobel", "prewitt"}

    Returns
    -------
    kernel_x, kernel_y : ndarray of int
        ``kernel_x`` gives ``gx`` (derivative along the columns): the
        difference ``[-1, 0, 1]`` along x times the smoothing ``[1, c, 1]``
        along y (c = 2 for Sobel, 1 for Prewitt; no smoothing and a 1x3
        kernel for "central"). ``kernel_y`` is its transpose. The kernels
        are not normalized (Sobel is not divided by 4 nor Prewitt by 3).
    """
    center = GRADIENT_OPERATORS[check_choice(operator, "operator", GRADIENT_OPERATORS)]
    difference = np.array([[-1, 0, 1]])
    if center is None:
        kernel_x = difference
    else:
        kernel_x = np.array([[1], [center], [1]]) * difference  # outer product
    return kernel_x, kernel_x.T


def _tap(a, start, axis):
    """The slice ``start : start + n - 2`` of ``a`` along ``axis``.

    Multiplying the slices for start = 0, 1, 2 by the three weights of a
    kernel and adding them correlates ``a`` with it ('valid' part only).
    """
    index = [slice(None)] * a.ndim
    index[axis] = slice(start, start + max(a.shape[axis] - 2, 0))
    return a[tuple(index)]


def _valid_gradient(a, axis, center):
    """Difference [-1, 0, 1] along ``axis``, then smoothing [1, center, 1] across it."""
    derivative = _tap(a, 2, axis) - _tap(a, 0, axis)
    if center is None:
        return derivative
    before, middle, after = (_tap(derivative, k, 1 - axis) for k in range(3))
    return before + center * middle + after


def _gradient_along(image, axis, center, border):
    """Derivative of a 2-D float image along ``axis``, same shape as ``image``."""
    # The kernel covers 3 pixels along `axis`, and across it too when smoothing.
    spans = [axis] if center is None else [0, 1]
    if border == "reflect":
        # Mirror one pixel on each side (edge pixel repeated: a | a b c | c),
        # so the 'valid' correlation has the image's shape again.
        width = [(1, 1) if ax in spans else (0, 0) for ax in range(2)]
        return _valid_gradient(np.pad(image, width, mode="symmetric"), axis, center)
    # border == "zero": compute where the kernel fits, leave the frame at 0.
    out = np.zeros_like(image)
    inside = tuple(slice(1, -1) if ax in spans else slice(None) for ax in range(2))
    out[inside] = _valid_gradient(image, axis, center)
    return out


def image_gradients(image, operator="sobel", border="reflect"):
    """Horizontal and vertical derivatives of a gray image.

    Parameters
    ----------
    image : (H, W) array_like
        Gray image, any size. Integer images are cast to float but not
        rescaled, so the gradients are in the image's own units.
    operator : {"sobel", "prewitt", "central"}
        Kernel (see :func:`gradient_kernels`): central difference
        ``[-1, 0, 1]`` (the one Dalal & Triggs use for HoG), or that
        difference smoothed across by ``[1, 2, 1]`` (Sobel) or ``[1, 1, 1]``
        (Prewitt). Applied as a correlation, without normalization.
    border : {"reflect", "zero"}
        "reflect" mirrors the image by one pixel (the edge pixel repeated,
        like ``scipy.ndimage`` mode "reflect"). "zero" uses only real pixels
        and sets the gradient to 0 where the kernel would stick out of the
        image: the first and last rows of ``gy`` and columns of ``gx`` (what
        scikit-image's HoG does), and with Sobel/Prewitt the whole frame.

    Returns
    -------
    gx, gy : (H, W) ndarray
        ``gx`` is positive where intensity increases to the right, ``gy``
        where it increases downward. float64, except that float32 images
        stay float32 with ``operator="central", border="zero"`` (HoG).
    """
    image = check_image(image, "image")
    center = GRADIENT_OPERATORS[check_choice(operator, "operator", GRADIENT_OPERATORS)]
    check_choice(border, "border", ("reflect", "zero"))
    keep_float32 = image.dtype == np.float32 and operator == "central" and border == "zero"
    image = image.astype(np.float32 if keep_float32 else np.float64)
    gx = _gradient_along(image, axis=1, center=center, border=border)
    gy = _gradient_along(image, axis=0, center=center, border=border)
    return gx, gy


def gradient_magnitude_direction(gx, gy, unsigned=False):
    """Length and angle of the gradient vectors.

    Parameters
    ----------
    gx, gy : array_like
        Derivatives along x (columns) and y (rows, downward), same shape.
    unsigned : bool
        If True, fold opposite directions together: an edge from dark to
        bright and one from bright to dark get the same angle.

    Returns
    -------
    magnitude : ndarray of float64
        ``sqrt(gx**2 + gy**2)`` (computed with ``np.hypot``, which cannot
        overflow).
    direction : ndarray of float64
        Angle in degrees from ``arctan2(gy, gx)``: in [-180, 180]
        (0 = pointing right, 90 = pointing down), or in [0, 180) when
        ``unsigned``, computed as ``angle % 180``.
    """
    gx = check_array(gx, "gx").astype(np.float64)
    gy = check_array(gy, "gy").astype(np.float64)
    if gx.shape != gy.shape:
        raise ValueError(f"gy must have the shape of gx {gx.shape}, got shape {gy.shape}")
    if not isinstance(unsigned, (bool, np.bool_)):
        raise TypeError(f"unsigned must be True or False, got {unsigned!r}")
    magnitude = np.hypot(gx, gy)
    direction = np.rad2deg(np.arctan2(gy, gx))
    if unsigned:
        direction = direction % 180
    return magnitude, direction


# ---------------------------------------------------------------------------
# Canny edge detector
# ---------------------------------------------------------------------------


def gaussian_smooth(image, sigma=1.0):
    """Blur a gray image with a Gaussian (Canny's first step).

    Wraps ``skimage.filters.gaussian`` with border mode "reflect".

    Parameters
    ----------
    image : (H, W) array_like
        Gray image; integer images are first scaled to [0, 1].
    sigma : float
        Standard deviation in pixels, >= 0 (0 leaves the image unchanged).

    Returns
    -------
    (H, W) ndarray of float64
    """
    image = check_image(image, "image")
    sigma = check_number(sigma, "sigma", minimum=0)
    return filters.gaussian(util.img_as_float64(image), sigma=sigma, mode="reflect")


# Step to the neighbour in front along each quantized gradient direction
# (0, 45, 90, 135 degrees with y pointing down); the one behind is opposite.
_NMS_STEPS = ((0, 1), (1, 1), (1, 0), (1, -1))


def non_max_suppression(magnitude, direction):
    """Thin edges to one pixel: keep only local maxima across the edge.

    Parameters
    ----------
    magnitude : (H, W) array_like
        Gradient magnitude.
    direction : (H, W) array_like
        Gradient direction in degrees (signed or unsigned), as returned by
        :func:`gradient_magnitude_direction`.

    Returns
    -------
    thinned : (H, W) ndarray of float64
        ``magnitude`` where the pixel is >= both of its neighbours along the
        gradient direction (rounded to 0, 45, 90 or 135 degrees), else 0.
        Pixels outside the image count as 0.
    """
    magnitude = check_array(magnitude, "magnitude", ndim=2).astype(np.float64)
    direction = check_array(direction, "direction", ndim=2)
    if direction.shape != magnitude.shape:
        raise ValueError(
            f"direction must have the shape of magnitude {magnitude.shape}, got {direction.shape}"
        )
    # 0..3 for 0, 45, 90, 135 degrees; a direction and its opposite agree.
    sector = np.round((direction % 180) / 45).astype(int) % 4
    padded = np.pad(magnitude, 1)
    H, W = magnitude.shape
    keep = np.zeros((H, W), dtype=bool)
    for k, (dr, dc) in enumerate(_NMS_STEPS):
        ahead = padded[1 + dr : 1 + dr + H, 1 + dc : 1 + dc + W]
        behind = padded[1 - dr : 1 - dr + H, 1 - dc : 1 - dc + W]
        keep |= (sector == k) & (magnitude >= ahead) & (magnitude >= behind)
    return np.where(keep, magnitude, 0.0)


def hysteresis(magnitude, low, high, connectivity=8):
    """Double threshold with edge tracking.

    Parameters
    ----------
    magnitude : (H, W) array_like
        Edge strength, e.g. the output of :func:`non_max_suppression`.
    low, high : float
        Thresholds, ``low <= high``. Pixels ``> high`` are strong edges;
        pixels ``> low`` are weak edges.
    connectivity : {8, 4}
        Neighbourhood that links pixels of a weak edge: 8 (diagonals too,
        as in Canny) or 4 (as ``skimage.filters.apply_hysteresis_threshold``).

    Returns
    -------
    edges : (H, W) ndarray of bool
        The weak pixels whose connected region of weak pixels contains at
        least one strong pixel.
    """
    magnitude = check_array(magnitude, "magnitude", ndim=2)
    low = check_number(low, "low")
    high = check_number(high, "high")
    if low > high:
        raise ValueError(f"low must be <= high, got low={low} and high={high}")
    check_choice(connectivity, "connectivity", (8, 4))
    weak = magnitude > low
    strong = magnitude > high  # a subset of weak, since low <= high
    structure = np.ones((3, 3)) if connectivity == 8 else None  # None: 4-neighbours
    labels, count = ndi.label(weak, structure=structure)
    # Label 0 is the background; strong pixels are never in it.
    has_strong = np.zeros(count + 1, dtype=bool)
    has_strong[labels[strong]] = True
    return has_strong[labels]


def canny(image, sigma=1.0, low=0.1, high=0.2, return_steps=False):
    """Canny edge detector, one visible step at a time.

    Parameters
    ----------
    image : (H, W) array_like
        Gray image. Integer images are scaled to [0, 1] first.
    sigma : float
        Standard deviation of the Gaussian blur, in pixels.
    low, high : float
        Absolute hysteresis thresholds on the (unnormalized) Sobel gradient
        magnitude of the blurred [0, 1] image. A step from 0 to 1 gives a
        magnitude of 4 before blurring. Same meaning as in
        ``skimage.feature.canny`` for float images (for a uint8 image
        scikit-image expects them multiplied by 255).
    return_steps : bool
        Also return the intermediate images.

    Returns
    -------
    edges : (H, W) ndarray of bool
    steps : dict, only if ``return_steps``
        "smoothed", "gx", "gy", "magnitude", "direction", "thinned".
    """
    low = check_number(low, "low", minimum=0)
    high = check_number(high, "high", minimum=0)
    smoothed = gaussian_smooth(image, sigma)
    gx, gy = image_gradients(smoothed, operator="sobel", border="reflect")
    magnitude, direction = gradient_magnitude_direction(gx, gy)
    thinned = non_max_suppression(magnitude, direction)
    # The frame's gradient depends on the made-up pixels beyond the border,
    # so, like scikit-image, report no edge there.
    thinned[[0, -1], :] = 0
    thinned[:, [0, -1]] = 0
    edges = hysteresis(thinned, low, high)
    if not return_steps:
        return edges
    steps = dict(smoothed=smoothed, gx=gx, gy=gy, magnitude=magnitude,
                 direction=direction, thinned=thinned)
    return edges, steps


# ---------------------------------------------------------------------------
# Histogram of Oriented Gradients
# ---------------------------------------------------------------------------


def _hog_float(image):
    """HoG's working type: float32 (and float16) images stay float32, all else float64."""
    is_small_float = image.dtype.kind == "f" and image.dtype.itemsize <= 4
    return np.float32 if is_small_float else np.float64


def hog_cell_histograms(image, orientations=9, pixels_per_cell=(8, 8)):
    """Histogram of gradient orientations in each cell (HoG's first stage).

    Parameters
    ----------
    image : (H, W) array_like
        Gray image (not rescaled: a uint8 image gives gradients up to 255).
    orientations : int
        Number of bins splitting the unsigned angles [0, 180) degrees.
    pixels_per_cell : (int, int)
        Cell height and width. Pixels after the last full cell are ignored.

    Returns
    -------
    histograms : (H // cell_rows, W // cell_cols, orientations) ndarray of float64
        For each cell and bin, the sum of the gradient magnitudes of the
        cell's pixels whose angle falls in the bin, divided by the number of
        pixels in a cell. Each pixel votes for one bin only (no
        interpolation), as in ``skimage.feature.hog``.
    """
    image = check_image(image, "image")
    orientations = check_int(orientations, "orientations", minimum=1)
    cell_rows, cell_cols = check_pair(pixels_per_cell, "pixels_per_cell", minimum=1)
    # Central differences, frame at 0: the gradient of Dalal & Triggs / skimage.
    gx, gy = image_gradients(image.astype(_hog_float(image)), "central", border="zero")
    magnitude, angle = gradient_magnitude_direction(gx, gy, unsigned=True)

    n_rows, n_cols = image.shape[0] // cell_rows, image.shape[1] // cell_cols
    magnitude = magnitude[: n_rows * cell_rows, : n_cols * cell_cols]
    angle = angle[: n_rows * cell_rows, : n_cols * cell_cols]
    # Bin i holds angles in [w*i, w*(i+1)). An angle that rounds up to 180
    # gets index `orientations`: an extra bin that is dropped at the end.
    width = 180 / orientations
    bins = np.searchsorted(width * np.arange(1, orientations + 1), angle, side="right")
    cell = (np.arange(angle.shape[0]) // cell_rows)[:, None] * n_cols + (
        np.arange(angle.shape[1]) // cell_cols
    )
    votes = np.bincount(
        (cell * (orientations + 1) + bins).ravel(),
        weights=magnitude.ravel(),
        minlength=n_rows * n_cols * (orientations + 1),
    )
    votes = votes.reshape(n_rows, n_cols, orientations + 1)[..., :orientations]
    return votes / (cell_rows * cell_cols)


def normalize_block(block, method="L2-Hys", axis=None, eps=1e-5):
    """Contrast-normalize a block of cell histograms (HoG's second stage).

    Parameters
    ----------
    block : array_like
        Non-negative histogram values of one block, e.g. shape
        (2, 2, orientations).
    method : {"L2-Hys", "L2", "L1", "L1-sqrt"}
        With ``s1 = sum(|v|)`` and ``s2 = sum(v**2)`` over the block:
        "L1": ``v / (s1 + eps)``; "L1-sqrt": ``sqrt(v / (s1 + eps))``;
        "L2": ``v / sqrt(s2 + eps**2)``; "L2-Hys": L2, then values clipped
        at 0.2 (so one strong edge cannot dominate), then L2 again.
    axis : int or tuple of int, optional
        Axes that form one block; the others index separate blocks, so a
        whole grid is normalized at once. Default: the whole array.
    eps : float
        Small constant that avoids dividing by zero in flat blocks.

    Returns
    -------
    ndarray of float64, the shape of ``block``.
    """
    block = check_array(block, "block").astype(np.float64)
    check_choice(method, "method", HOG_BLOCK_NORMS)
    eps = check_number(eps, "eps", minimum=0)

    def l2(v):
        return v / np.sqrt(np.sum(v**2, axis=axis, keepdims=True) + eps**2)

    if method == "L1":
        return block / (np.sum(np.abs(block), axis=axis, keepdims=True) + eps)
    if method == "L1-sqrt":
        return np.sqrt(block / (np.sum(np.abs(block), axis=axis, keepdims=True) + eps))
    if method == "L2":
        return l2(block)
    return l2(np.minimum(l2(block), 0.2))  # "L2-Hys"


def _hog_block_grid(image_shape, pixels_per_cell, cells_per_block):
    """Number of block positions (rows, columns); ValueError if not even one fits."""
    cells = [size // cell for size, cell in zip(image_shape, pixels_per_cell)]
    blocks = [n - b + 1 for n, b in zip(cells, cells_per_block)]
    if min(blocks) <= 0:
        need = [b * c for b, c in zip(cells_per_block, pixels_per_cell)]
        raise ValueError(
            f"image of shape {tuple(image_shape)} is too small for one block of "
            f"cells_per_block={tuple(cells_per_block)} cells of "
            f"pixels_per_cell={tuple(pixels_per_cell)} pixels: it needs at least "
            f"{need[0]} rows and {need[1]} columns"
        )
    return blocks[0], blocks[1]


def hog_feature_length(image_shape, orientations=9, pixels_per_cell=(8, 8), cells_per_block=(2, 2)):
    """Length of the :func:`hog` feature vector of an image of this shape.

    ``orientations * cells_per_block[0] * cells_per_block[1]`` values per
    block, times the number of (overlapping) block positions; for the
    defaults that is 36 per block.
    """
    if isinstance(image_shape, (tuple, list)):
        image_shape = tuple(image_shape)[:2]  # (H, W) or (H, W, C)
    image_shape = check_pair(image_shape, "image_shape", minimum=1)
    orientations = check_int(orientations, "orientations", minimum=1)
    cell = check_pair(pixels_per_cell, "pixels_per_cell", minimum=1)
    block = check_pair(cells_per_block, "cells_per_block", minimum=1)
    n_blocks_row, n_blocks_col = _hog_block_grid(image_shape, cell, block)
    return orientations * block[0] * block[1] * n_blocks_row * n_blocks_col


def hog(
    image,
    orientations=9,
    pixels_per_cell=(8, 8),
    cells_per_block=(2, 2),
    block_norm="L2-Hys",
    feature_vector=True,
):
    """Histogram of Oriented Gradients descriptor of a gray image.

    Same result as ``skimage.feature.hog(image, orientations,
    pixels_per_cell, cells_per_block, block_norm, feature_vector=...,
    channel_axis=None)`` (whose default is 3x3 cells per block, ours 2x2).

    Parameters
    ----------
    image : (H, W) array_like
        Gray image; not rescaled.
    orientations : int
        Number of orientation bins over [0, 180) degrees.
    pixels_per_cell : (int, int)
        Cell size in pixels.
    cells_per_block : (int, int)
        Block size in cells; blocks overlap, sliding by one cell.
    block_norm : {"L2-Hys", "L2", "L1", "L1-sqrt"}
        See :func:`normalize_block`.
    feature_vector : bool
        Return a flat vector instead of the block grid.

    Returns
    -------
    ndarray
        Shape (n_blocks_row, n_blocks_col, cells_per_block[0],
        cells_per_block[1], orientations), or raveled when
        ``feature_vector``. float32 for float32/float16 images, else float64.
    """
    histograms = hog_cell_histograms(image, orientations, pixels_per_cell)
    b_row, b_col = check_pair(cells_per_block, "cells_per_block", minimum=1)
    check_choice(block_norm, "block_norm", HOG_BLOCK_NORMS)
    if not isinstance(feature_vector, (bool, np.bool_)):
        raise TypeError(f"feature_vector must be True or False, got {feature_vector!r}")
    cell = check_pair(pixels_per_cell, "pixels_per_cell")
    _hog_block_grid(np.shape(image), cell, (b_row, b_col))  # raises if no block fits

    # All block positions as a view: (n_blocks_row, n_blocks_col, orientations,
    # b_row, b_col); move the orientation axis back to the end.
    blocks = sliding_window_view(histograms, (b_row, b_col), axis=(0, 1))
    blocks = np.moveaxis(blocks, 2, -1)
    normalized = normalize_block(blocks, block_norm, axis=(-3, -2, -1))
    normalized = normalized.astype(_hog_float(np.asarray(image)))
    return normalized.ravel() if feature_vector else normalized


# ---------------------------------------------------------------------------
# Local Binary Patterns
# ---------------------------------------------------------------------------


def lbp_offsets(P, R):
    """Positions of the ``P`` neighbours on a circle of radius ``R``.

    Returns
    -------
    rows, cols : (P,) ndarray of float64
        Offsets from the centre pixel, rounded to 5 decimals (as
        scikit-image does, so that e.g. sin(pi) gives exactly 0).
        Neighbour 0 is to the right; the next ones go counter-clockwise
        on screen (rows point down, hence the minus sign).
    """
    P = check_int(P, "P", minimum=1)
    R = check_number(R, "R", minimum=0, strict_minimum=True)
    angles = 2 * np.pi * np.arange(P, dtype=np.float64) / P
    return np.round(-R * np.sin(angles), 5), np.round(R * np.cos(angles), 5)


def sample_at_offset(image, dy, dx):
    """Value of the image at ``(row + dy, column + dx)`` for every pixel at once.

    Bilinear interpolation between the four pixels around each point; points
    outside the image read 0. This is how LBP reads its neighbours on a
    circle (see :func:`lbp_offsets`).

    Parameters
    ----------
    image : (H, W) array_like
        Gray image; computed in float64.
    dy, dx : float
        The offset in rows (down) and columns (right), the same for every pixel.

    Returns
    -------
    (H, W) ndarray of float64

    Notes
    -----
    The offset is the same for every pixel, so each of the four corners of
    the interpolation is one shifted slice of a zero-padded image. The
    fractions are computed per row / column, as ``(row + dy) - floor(row +
    dy)``, to round exactly like scikit-image.
    """
    image = check_image(image, "image").astype(np.float64, copy=False)
    dy = check_number(dy, "dy")
    dx = check_number(dx, "dx")
    H, W = image.shape
    pad = int(np.ceil(max(abs(dy), abs(dx)))) + 1
    padded = np.pad(image, pad)
    r = np.arange(H, dtype=np.float64)[:, None] + dy
    c = np.arange(W, dtype=np.float64)[None, :] + dx
    fr, fc = r - np.floor(r), c - np.floor(c)

    def corner(row_step, col_step):  # image[floor or ceil of r, floor or ceil of c]
        r0, c0 = pad + row_step, pad + col_step
        return padded[r0 : r0 + H, c0 : c0 + W]

    up, down = int(np.floor(dy)), int(np.ceil(dy))
    left, right = int(np.floor(dx)), int(np.ceil(dx))
    top = (1 - fc) * corner(up, left) + fc * corner(up, right)
    bottom = (1 - fc) * corner(down, left) + fc * corner(down, right)
    return (1 - fr) * top + fr * bottom


def _rotate_right(code, P):
    """Rotate P-bit integer codes right by one bit (bit 0 wraps to bit P-1)."""
    return (code >> 1) | ((code & 1) << (P - 1))


def lbp(image, P, R, method="default"):
    """Local Binary Pattern code of every pixel.

    Each of the ``P`` neighbours on a circle of radius ``R`` (see
    :func:`lbp_offsets`, values by bilinear interpolation, 0 outside the
    image) gives a bit ``s_i = 1`` if it is >= the centre pixel.

    Parameters
    ----------
    image : (H, W) array_like
        Gray image (uint8 is the usual choice).
    P : int
        Number of neighbours, 1 to 31.
    R : float
        Radius in pixels, > 0.
    method : {"default", "ror", "uniform", "nri_uniform"}
        "default": ``sum(s_i * 2**i)``, in [0, 2**P).
        "ror": the smallest value over all circular rotations of the bits
        (rotation invariant).
        "uniform": for a uniform pattern (at most 2 changes 0/1 along
        s_0..s_{P-1}, not wrapping around; counting the wrap-around as well
        selects the same patterns) the number of ones, else P + 1;
        P + 2 values, rotation invariant.
        "nri_uniform": a different code for each uniform pattern and each of
        its rotations (1 .. P*(P-1)+1; 0 for all zeros), P*(P-1)+2 for the
        rest.

    Returns
    -------
    codes : (H, W) ndarray of float64
        Same result as ``skimage.feature.local_binary_pattern``.
    """
    image = check_image(image, "image").astype(np.float64)
    P = check_int(P, "P", minimum=1, maximum=31)
    check_choice(method, "method", LBP_METHODS)
    rows, cols = lbp_offsets(P, R)
    bits = np.stack([sample_at_offset(image, dy, dx) - image >= 0 for dy, dx in zip(rows, cols)])

    if method in ("default", "ror"):
        code = np.zeros(image.shape, dtype=np.int64)
        for i in range(P):
            code |= bits[i].astype(np.int64) << i
        if method == "ror":
            rotated = code
            for _ in range(P - 1):
                rotated = _rotate_right(rotated, P)
                code = np.minimum(code, rotated)
        return code.astype(np.float64)

    changes = np.count_nonzero(bits[:-1] != bits[1:], axis=0)
    n_ones = np.count_nonzero(bits, axis=0)
    if method == "uniform":
        return np.where(changes <= 2, n_ones, P + 1).astype(np.float64)
    return _nri_uniform_code(bits, changes, n_ones, P).astype(np.float64)


def _nri_uniform_code(bits, changes, n_ones, P):
    """Non rotation-invariant uniform code: which uniform pattern, and which rotation."""
    first_one = np.argmax(bits, axis=0)
    first_zero = np.argmax(~bits, axis=0)
    # A uniform pattern is one run of ones; find how far it is rotated.
    rotation = np.where(first_one == 0, n_ones - first_zero, P - first_one)
    code = 1 + (n_ones - 1) * P + rotation
    return np.select(
        [changes > 2, n_ones == 0, n_ones == P],
        [P * (P - 1) + 2, 0, P * (P - 1) + 1],
        default=code,
    )


def lbp_variance(image, P, R):
    """Local contrast VAR of every pixel: the variance of its ``P`` neighbours.

    Ojala, Pietikäinen and Mäenpää (2002) pair the LBP code, which ignores
    contrast, with this measure, which is nothing but contrast:
    ``VAR = 1/P * sum((g_p - mu)**2)`` with ``mu = 1/P * sum(g_p)``, over the
    same neighbours as :func:`lbp` (bilinear interpolation, 0 outside the
    image). The centre pixel takes no part. VAR is rotation invariant like
    the "uniform" code, but not gray-scale invariant: scaling the contrast
    by ``a`` multiplies it by ``a**2``.

    Parameters
    ----------
    image : (H, W) array_like
        Gray image.
    P : int
        Number of neighbours, 1 to 31.
    R : float
        Radius in pixels, > 0.

    Returns
    -------
    var : (H, W) ndarray of float64
        ``skimage.feature.local_binary_pattern(image, P, R, "var")``, except
        where all neighbours are equal: 0 here, NaN there.
    """
    image = check_image(image, "image").astype(np.float64)
    P = check_int(P, "P", minimum=1, maximum=31)
    rows, cols = lbp_offsets(P, R)
    samples = np.stack([sample_at_offset(image, dy, dx) for dy, dx in zip(rows, cols)])
    return samples.var(axis=0)


def lbp_n_bins(P, method="default"):
    """Number of distinct codes :func:`lbp` can return."""
    P = check_int(P, "P", minimum=1, maximum=31)
    check_choice(method, "method", LBP_METHODS)
    return {"default": 2**P, "ror": 2**P, "uniform": P + 2, "nri_uniform": P * (P - 1) + 3}[method]


def lbp_histogram(codes, P, method="default"):
    """Normalized histogram of LBP codes: the texture descriptor of a region.

    Parameters
    ----------
    codes : array_like
        Output of :func:`lbp` (or part of it) computed with the same P, method.
    P : int
    method : {"default", "ror", "uniform", "nri_uniform"}

    Returns
    -------
    (n_bins,) ndarray of float64
        Fraction of pixels with each code; 2**P bins for "default"/"ror",
        P + 2 for "uniform", P*(P-1) + 3 for "nri_uniform".
    """
    n_bins = lbp_n_bins(P, method)
    codes = check_array(codes, "codes")
    if np.any(codes != np.round(codes)) or codes.min() < 0 or codes.max() >= n_bins:
        raise ValueError(
            f"codes must be whole numbers in [0, {n_bins}) for P={P} and method={method!r}, "
            f"got values in [{codes.min()}, {codes.max()}]"
        )
    return np.bincount(codes.ravel().astype(np.int64), minlength=n_bins) / codes.size


def chi_square_distance(h1, h2):
    """Chi-square distance between histograms, the usual way to compare LBP histograms.

    ``d(h1, h2) = 1/2 * sum((h1 - h2)**2 / (h1 + h2))`` over the bins, a bin
    empty in both contributing 0. Bins are weighted by how full they are, so
    a difference in a rare code counts more than the same difference in a
    common one.

    Parameters
    ----------
    h1, h2 : array_like
        Non-negative histograms, bins along the last axis. Leading axes
        broadcast, so ``chi_square_distance(A[:, None], B[None])`` gives the
        matrix of distances between the rows of ``A`` and those of ``B``.

    Returns
    -------
    float or ndarray
        The distance, or an array of distances of the broadcast leading shape.
    """
    h1 = check_array(h1, "h1").astype(np.float64)
    h2 = check_array(h2, "h2").astype(np.float64)
    if h1.ndim == 0 or h2.ndim == 0 or h1.shape[-1] != h2.shape[-1]:
        raise ValueError(f"h1 and h2 need the same number of bins on the last axis, got shapes "
                         f"{h1.shape} and {h2.shape}")
    if h1.min() < 0 or h2.min() < 0:
        raise ValueError("h1 and h2 must be non-negative histograms")
    total = h1 + h2
    terms = np.divide((h1 - h2) ** 2, total, out=np.zeros_like(total), where=total > 0)
    distance = 0.5 * terms.sum(axis=-1)
    return float(distance) if distance.ndim == 0 else distance
