"""A detector with no learning: threshold the image, box each connected blob.

It is the bar every trained detector of the course has to clear. On white
digits apart from each other on black (the ``"simple"`` scenes) it finds most
digits; touching digits merge into one blob, clutter makes false blobs, and a
bright background or faint ink breaks the threshold, which is why the
``"standard"`` scenes need a detector that learns (notebook 17).
"""

from __future__ import annotations

import numpy as np

from .._checks import as_numpy, check_image, check_int, check_number

__all__ = [
    "connected_component_boxes",
]


def connected_component_boxes(image, threshold=None, min_area=4):
    """Boxes of the bright connected regions of a gray image, scored by their size.

    Parameters
    ----------
    image : (H, W) array_like or tensor
        Gray image, light objects on a darker background.
    threshold : float, optional
        Pixels brighter than this are foreground. Default: Otsu's threshold of
        the image (``skimage.filters.threshold_otsu``), the one that best
        separates its histogram into two classes.
    min_area : int
        Regions with fewer pixels are dropped (noise specks).

    Returns
    -------
    boxes : (K, 4) float32 ndarray
        Corner boxes ``(x1, y1, x2, y2)``, tight around each region (8-connected).
    scores : (K,) float32 ndarray
        Pixel count of each region divided by the largest one: the bigger a
        blob, the likelier an object, so AP can rank the boxes.
    """
    from skimage import filters, measure

    image = check_image(as_numpy(image), "image", channels=(None,)).astype(np.float64)
    min_area = check_int(min_area, "min_area", minimum=1)
    if threshold is None:
        threshold = filters.threshold_otsu(image) if image.max() > image.min() else np.inf
    else:
        threshold = check_number(threshold, "threshold")
    regions = [r for r in measure.regionprops(measure.label(image > threshold, connectivity=2))
               if r.area >= min_area]
    # regionprops gives (row0, col0, row1, col1) with exclusive ends: the corner boxes of the course
    boxes = np.array([[r.bbox[1], r.bbox[0], r.bbox[3], r.bbox[2]] for r in regions], dtype=np.float32)
    sizes = np.array([r.area for r in regions], dtype=np.float32)
    return boxes.reshape(-1, 4), sizes / sizes.max() if sizes.size else sizes
