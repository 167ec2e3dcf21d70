"""Generated images with known answers: shapes with their true edges, texture patches with their class.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_choice, check_int, check_number
from .samples import TEXTURE_NAMES, load_texture

__all__ = [
    "shapes_image",
    "texture_patches",
]


def shapes_image(size=128, n_shapes=6, noise=0.05, seed=0):
    """A gray image of random discs and rectangles, with its true edges.

    Parameters
    ----------
    size : int
        Side of the square image in pixels (>= 16).
    n_shapes : int
        Number of shapes drawn, later ones on top of earlier ones.
    noise : float
        Standard deviation of the Gaussian noise added (image values in [0, 1]).
    seed : int
        Seed of the generator: the same seed gives the same image.

    Returns
    -------
    image : (size, size) ndarray of float64
        Noisy image, clipped to [0, 1].
    edges : (size, size) ndarray of bool
        The true boundaries between regions (one pixel wide, on the inner
        side of each region), computed before the noise was added.
    """
    from skimage.draw import disk, rectangle
    from skimage.segmentation import find_boundaries

    size = check_int(size, "size", minimum=16)
    n_shapes = check_int(n_shapes, "n_shapes", minimum=0)
    noise = check_number(noise, "noise", minimum=0)
    seed = check_int(seed, "seed", minimum=0)
    rng = np.random.default_rng(seed)
    regions = np.zeros((size, size), dtype=int)
    levels = [rng.uniform(0.1, 0.3)]  # background gray level
    for label in range(1, n_shapes + 1):
        if rng.random() < 0.5:
            center = rng.uniform(0.2, 0.8, size=2) * size
            rr, cc = disk(tuple(center), rng.uniform(0.08, 0.2) * size, shape=regions.shape)
        else:
            start = (rng.uniform(0.05, 0.6, size=2) * size).astype(int)
            extent = (rng.uniform(0.15, 0.35, size=2) * size).astype(int)
            rr, cc = rectangle(tuple(start), extent=tuple(extent), shape=regions.shape)
        regions[rr, cc] = label
        levels.append(rng.uniform(0.35, 0.95))
    clean = np.asarray(levels)[regions]
    edges = find_boundaries(regions, mode="inner")
    image = np.clip(clean + rng.normal(0.0, noise, clean.shape), 0.0, 1.0)
    return image, edges


def texture_patches(region, size=64, stride=32, angle=0.0, names=TEXTURE_NAMES):
    """Square patches of the textures, from one half of each image, optionally rotated.

    The left half (columns 0-255) and the right half (256-511) of each
    512 x 512 texture share no pixel, so patches from one half can train a
    classifier and patches from the other half test it.

    Parameters
    ----------
    region : {"left", "right"}
        Which half of every texture the patches come from.
    size : int
        Side of a patch in pixels (8 to 128).
    stride : int
        Step between neighbouring patches, in pixels (>= 1).
    angle : float
        Rotation in degrees, counter-clockwise. A rotated patch is cut from
        the centre of a larger window (``ceil(size * sqrt(2))`` pixels, so no
        corner is empty), rotated with bicubic interpolation; the window
        stays inside ``region``.
    names : sequence of str
        Textures to use, each one of :data:`TEXTURE_NAMES`.

    Returns
    -------
    patches : (N, size, size) ndarray of uint8
    labels : (N,) ndarray of int
        Index into ``names`` of each patch's texture.
    """
    from skimage.transform import rotate

    check_choice(region, "region", ("left", "right"))
    size = check_int(size, "size", minimum=8, maximum=128)
    stride = check_int(stride, "stride", minimum=1)
    angle = check_number(angle, "angle")
    if isinstance(names, str) or len(names) == 0:
        raise ValueError(f"names must be a non-empty sequence of texture names, got {names!r}")
    window = size if angle % 360 == 0 else int(np.ceil(size * np.sqrt(2)))
    first_column = 0 if region == "left" else 256
    patches, labels = [], []
    for label, name in enumerate(names):
        half = load_texture(name)[:, first_column:first_column + 256]
        for top in range(0, half.shape[0] - window + 1, stride):
            for left in range(0, half.shape[1] - window + 1, stride):
                crop = half[top:top + window, left:left + window]
                if window != size:
                    crop = rotate(crop, angle, order=3, preserve_range=True)
                    margin = (window - size) // 2
                    crop = np.clip(np.round(crop[margin:margin + size, margin:margin + size]), 0, 255)
                patches.append(crop.astype(np.uint8))
                labels.append(label)
    return np.stack(patches), np.asarray(labels)
