"""Region proposals with no learning: selective search.

Selective search (Uijlings, van de Sande, Gevers and Smeulders, *Selective
Search for Object Recognition*, IJCV 2013) is how R-CNN and Fast R-CNN
chose the boxes worth classifying, before the RPN of Faster R-CNN learned
them. It starts from an over-segmentation of the image (Felzenszwalb and
Huttenlocher's graph-based segmentation) and merges, again and again, the two
adjacent regions that look most alike, until one region covers the image.
Every region ever formed, small or large, gives a box: objects of every size
turn up somewhere in the hierarchy. Several segmentations (``scales``) make
different hierarchies, whose boxes are pooled and ranked.

Written from the paper for the course; notebook 20 compares its recall with
that of sliding windows (:func:`course_utils.metrics.proposal_recall`).
"""

from __future__ import annotations

import heapq
import numbers

import numpy as np

from .._checks import as_numpy, check_image, check_int, check_number

__all__ = [
    "SIMILARITIES",
    "selective_search",
]


#: The four similarity terms of the paper; a strategy sums some of them.
SIMILARITIES = ("colour", "texture", "size", "fill")

_COLOUR_BINS = 25  # per channel, as in the paper
_TEXTURE_BINS = 10  # per orientation and channel
_ORIENTATIONS = 8


def selective_search(image, scales=(50, 100, 200), sigma=0.8, min_size=10,
                     similarities=("colour", "texture", "size", "fill"), max_proposals=None, seed=0):
    """Class-agnostic object proposals by hierarchical grouping of regions.

    For each scale ``k``, the image is over-segmented by
    ``skimage.segmentation.felzenszwalb`` (larger ``k``, larger regions).
    Then, as long as two regions are left, the most similar pair of adjacent
    regions is merged into one region, adjacent to the neighbours of both.
    The similarity of two regions ``a`` and ``b`` is the sum of the chosen
    terms, each in [0, 1]:

    * ``"colour"``: intersection ``sum(min(h_a, h_b))`` of their intensity
      histograms (25 bins per channel, L1-normalised);
    * ``"texture"``: the same for histograms of Gaussian derivatives
      (sigma 1) in 8 orientations, 10 bins per orientation and channel;
    * ``"size"``: ``1 - (size_a + size_b) / size_image``, which merges small
      regions first, all over the image, so that no region swallows the rest
      one piece at a time;
    * ``"fill"``: ``1 - (size_box - size_a - size_b) / size_image``, with
      ``size_box`` the area of the box around both: high when one region
      fills a gap in the other.

    A merged region's histograms are the size-weighted means of its parts'
    (the histograms of its pixels), so nothing is recomputed from the image.
    Every region of every hierarchy gives the box around it. Boxes are
    ranked as in the paper: in each hierarchy, the region formed last (the
    whole image) has position 1, the one before it 2, and so on, down to the
    initial regions; each position is multiplied by a random number in [0, 1)
    and the boxes of all hierarchies are sorted by that value, lowest first.
    Large regions thus tend to come first without every hierarchy's
    whole-image box hiding the rest. Duplicate boxes keep their best rank.

    Parameters
    ----------
    image : (H, W) or (H, W, 3) array_like or tensor
        Gray or RGB image, any range (rescaled to [0, 1] as a whole).
    scales : number or sequence of numbers
        Felzenszwalb's ``k`` (> 0), one segmentation and one hierarchy each,
        in units of the paper's 0-255 intensities.
    sigma : float
        Smoothing of the image before segmenting it (>= 0).
    min_size : int
        Smallest initial region, in pixels (>= 0); smaller ones are merged
        into a neighbour by the segmentation.
    similarities : sequence of str
        The terms to add, among :data:`SIMILARITIES` (at least one).
    max_proposals : int, optional
        Keep only this many boxes, the best ranked.
    seed : int
        Seed of the random numbers of the ranking: the same seed gives the
        same boxes in the same order; another seed reorders them.

    Returns
    -------
    (K, 4) float32 ndarray
        Corner boxes ``(x1, y1, x2, y2)``, exclusive ends (the box of pixel
        ``(r, c)`` is ``(c, r, c + 1, r + 1)``), best first, all distinct.

    Examples
    --------
    >>> image = np.zeros((32, 32), dtype=np.float32)
    >>> image[4:12, 6:20] = 1.0
    >>> boxes = selective_search(image, scales=(100,))
    >>> bool(((boxes == [6, 4, 20, 12]).all(axis=1)).any())
    True
    """
    from skimage.segmentation import felzenszwalb

    image = _unit_image(image)
    scales = _scales(scales)
    sigma = check_number(sigma, "sigma", minimum=0)
    min_size = check_int(min_size, "min_size", minimum=0)
    terms = _similarity_terms(similarities)
    if max_proposals is not None:
        max_proposals = check_int(max_proposals, "max_proposals", minimum=1)
    seed = check_int(seed, "seed", minimum=0)

    colour_bins = _colour_bins(image)
    texture_bins = _texture_bins(image)
    rng = np.random.default_rng(seed)
    boxes, ranks = [], []
    for scale in scales:
        segments = felzenszwalb(image, scale=scale, sigma=sigma, min_size=min_size,
                                channel_axis=-1 if image.ndim == 3 else None)
        labels = _consecutive(segments)
        hierarchy = _hierarchical_grouping(labels, colour_bins, texture_bins, terms)
        boxes.append(hierarchy)
        position = np.arange(len(hierarchy), 0, -1)  # the last region formed is 1
        ranks.append(position * rng.random(len(hierarchy)))
    return _rank_boxes(np.concatenate(boxes), np.concatenate(ranks), max_proposals)


# ----------------------------------------------------------------------------- input


def _unit_image(image):
    """The image as float64 (H, W) or (H, W, 3) in [0, 1]: min to 0, max to 1 (a flat image to 0)."""
    image = check_image(as_numpy(image), "image", channels=(None, 3)).astype(np.float64)
    low, high = image.min(), image.max()
    return (image - low) / (high - low) if high > low else np.zeros_like(image)


def _scales(scales):
    if isinstance(scales, numbers.Real) and not isinstance(scales, bool):
        scales = [scales]
    if not isinstance(scales, (list, tuple, np.ndarray)) or len(scales) == 0:
        raise TypeError(f"scales must be a number or a non-empty list of numbers, got {scales!r}")
    return [check_number(s, f"scales[{i}]", minimum=0, strict_minimum=True) for i, s in enumerate(scales)]


def _similarity_terms(similarities):
    """The chosen terms as a frozenset, after checking the names."""
    if isinstance(similarities, str):  # one name, not a sequence of its letters
        similarities = (similarities,)
    if not isinstance(similarities, (list, tuple, set, frozenset)) or len(similarities) == 0:
        raise ValueError(f"similarities must be a non-empty list of names among {SIMILARITIES}, "
                         f"got {similarities!r}")
    for name in similarities:
        if name not in SIMILARITIES:
            raise ValueError(f"similarities must name terms among {SIMILARITIES}; got {name!r}")
    return frozenset(similarities)


# ----------------------------------------------------------------------------- pixel features


def _channels(image):
    return image[..., None] if image.ndim == 2 else image


def _colour_bins(image):
    """(H, W, C) int: the colour-histogram bin of each pixel in each channel."""
    bins = np.minimum((_channels(image) * _COLOUR_BINS).astype(np.int64), _COLOUR_BINS - 1)
    return bins + _COLOUR_BINS * np.arange(bins.shape[-1])  # one block of bins per channel


def _texture_bins(image):
    """(H, W, C * 8) int: the texture-histogram bin of each pixel in each channel and orientation.

    The derivative of a Gaussian (sigma 1) in direction ``theta`` is
    ``cos(theta) d/dx + sin(theta) d/dy`` of the smoothed image. Eight
    directions 45 degrees apart come in opposite pairs; keeping only the
    positive part of each response makes the eight different (an edge from
    dark to light and one from light to dark no longer look alike). Each
    channel's responses are binned over [0, their maximum].
    """
    from scipy import ndimage

    planes = []
    for channel in np.moveaxis(_channels(image), -1, 0):
        dy = ndimage.gaussian_filter(channel, 1.0, order=(1, 0))
        dx = ndimage.gaussian_filter(channel, 1.0, order=(0, 1))
        angles = np.arange(_ORIENTATIONS) * (2 * np.pi / _ORIENTATIONS)
        responses = np.maximum(np.cos(angles) * dx[..., None] + np.sin(angles) * dy[..., None], 0.0)
        top = responses.max()
        scaled = responses / top if top > 0 else responses
        planes.append(np.minimum((scaled * _TEXTURE_BINS).astype(np.int64), _TEXTURE_BINS - 1))
    bins = np.concatenate(planes, axis=-1)
    return bins + _TEXTURE_BINS * np.arange(bins.shape[-1])


# ----------------------------------------------------------------------------- regions


def _consecutive(segments):
    """Labels renumbered 0, 1, ..., n - 1 in order (no label left unused)."""
    used = np.zeros(int(segments.max()) + 1, dtype=bool)
    used[segments] = True
    return (np.cumsum(used) - 1)[segments]


def _region_adjacency(labels):
    """(P, 2) int pairs ``a < b`` of regions that touch (4-connected), each pair once."""
    pairs = np.concatenate([
        np.stack([labels[:, :-1].ravel(), labels[:, 1:].ravel()], axis=1),  # left-right neighbours
        np.stack([labels[:-1, :].ravel(), labels[1:, :].ravel()], axis=1),  # up-down neighbours
    ])
    pairs = np.sort(pairs[pairs[:, 0] != pairs[:, 1]], axis=1)
    n = int(labels.max()) + 1
    codes = np.unique(pairs[:, 0] * n + pairs[:, 1])  # one integer per pair: a faster unique
    return np.stack([codes // n, codes % n], axis=1)


def _histograms(labels, bins, n_bins, n_regions):
    """(n, n_bins) L1-normalised histograms of each region's pixels, from per-pixel bin indices (H, W, F)."""
    index = labels[..., None] * n_bins + bins
    counts = np.bincount(index.ravel(), minlength=n_regions * n_bins).reshape(n_regions, n_bins)
    return counts / counts.sum(axis=1, keepdims=True)


def _region_descriptors(labels, colour_bins, texture_bins):
    """Size, box and histograms of each initial region, in arrays with room for every merge.

    A hierarchy over ``n`` regions has ``2n - 1`` regions in all; merged
    region ``n + m`` is the ``m``-th merge.
    """
    from scipy import ndimage

    n = int(labels.max()) + 1
    room = 2 * n - 1
    size = np.zeros(room)
    size[:n] = np.bincount(labels.ravel(), minlength=n)
    box = np.zeros((room, 4))
    # find_objects gives each label's slices, whose stops are the exclusive ends of the course's boxes
    box[:n] = [(cols.start, rows.start, cols.stop, rows.stop)
               for rows, cols in ndimage.find_objects(labels + 1)]
    regions = {"size": size, "box": box}
    for key, bins, width in (("colour", colour_bins, _COLOUR_BINS), ("texture", texture_bins, _TEXTURE_BINS)):
        hist = _histograms(labels, bins, width * bins.shape[-1], n)
        regions[key] = np.concatenate([hist, np.zeros((room - n, hist.shape[1]))])
    return regions


def _similarity(regions, a, b, terms, image_size):
    """Similarity of regions ``a`` and ``b`` (index arrays of the same length): the sum of ``terms``."""
    total = np.zeros(len(b))
    if "colour" in terms:
        total += np.minimum(regions["colour"][a], regions["colour"][b]).sum(axis=1)
    if "texture" in terms:
        total += np.minimum(regions["texture"][a], regions["texture"][b]).sum(axis=1)
    both = regions["size"][a] + regions["size"][b]
    if "size" in terms:
        total += 1 - both / image_size
    if "fill" in terms:
        box_a, box_b = regions["box"][a], regions["box"][b]
        low, high = np.minimum(box_a[:, :2], box_b[:, :2]), np.maximum(box_a[:, 2:], box_b[:, 2:])
        total += 1 - (np.prod(high - low, axis=1) - both) / image_size
    return total


def _merge(regions, a, b, new):
    """Fill region ``new`` with the union of regions ``a`` and ``b``."""
    size_a, size_b = regions["size"][a], regions["size"][b]
    regions["size"][new] = size_a + size_b
    box_a, box_b = regions["box"][a], regions["box"][b]
    regions["box"][new] = np.concatenate([np.minimum(box_a[:2], box_b[:2]), np.maximum(box_a[2:], box_b[2:])])
    for key in ("colour", "texture"):  # the histogram of the union of the pixels
        regions[key][new] = (size_a * regions[key][a] + size_b * regions[key][b]) / (size_a + size_b)


def _hierarchical_grouping(labels, colour_bins, texture_bins, terms):
    """Boxes (2n - 1, 4) of every region of the hierarchy, in the order they were formed.

    A heap holds the similarity of every adjacent pair; pairs whose regions
    were merged away are skipped when they come up (cheaper than removing
    them), and the merged region's similarities to its neighbours are pushed.
    Ties go to the pair with the smallest indices, so the result is
    deterministic.
    """
    regions = _region_descriptors(labels, colour_bins, texture_bins)
    n = int(labels.max()) + 1
    image_size = labels.size
    pairs = _region_adjacency(labels)
    neighbours = [set() for _ in range(2 * n - 1)]
    for a, b in pairs.tolist():
        neighbours[a].add(b)
        neighbours[b].add(a)
    similarity = _similarity(regions, pairs[:, 0], pairs[:, 1], terms, image_size)
    heap = [(-s, a, b) for s, (a, b) in zip(similarity.tolist(), pairs.tolist())]
    heapq.heapify(heap)
    alive = np.zeros(2 * n - 1, dtype=bool)
    alive[:n] = True
    new = n
    while heap:
        _, a, b = heapq.heappop(heap)
        if not (alive[a] and alive[b]):
            continue
        _merge(regions, a, b, new)
        alive[[a, b]] = False
        alive[new] = True
        neighbours[new] = (neighbours[a] | neighbours[b]) - {a, b}
        for other in neighbours[new]:
            neighbours[other] -= {a, b}
            neighbours[other].add(new)
        others = sorted(neighbours[new])
        if others:
            similarity = _similarity(regions, np.full(len(others), new), np.array(others), terms, image_size)
            for s, other in zip(similarity.tolist(), others):
                heapq.heappush(heap, (-s, other, new))  # other < new: pairs are (smaller, larger)
        new += 1
    return regions["box"][:new]


def _rank_boxes(boxes, ranks, max_proposals):
    """Boxes sorted by rank (lowest first), later duplicates dropped, as float32."""
    order = np.argsort(ranks, kind="stable")
    boxes = boxes[order]
    _, first = np.unique(boxes, axis=0, return_index=True)
    boxes = boxes[np.sort(first)].astype(np.float32)
    return boxes if max_proposals is None else boxes[:max_proposals]
