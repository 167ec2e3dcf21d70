"""RoI Pool and RoI Align: a fixed-size feature for every box, written from scratch.

A two-stage detector (Fast / Faster R-CNN) crops, for every proposal box, a
fixed ``h x w`` grid of features out of the backbone's feature map, so that
one head can classify boxes of any size.  There are two ways of cropping:

* :func:`roi_pool` (Fast R-CNN, 2015) rounds the box to the cells of the map,
  cuts it into ``h x w`` bins whose edges are rounded to cells again, and
  takes the maximum of each bin.  Two quantizations: boxes that differ by
  less than a cell often get exactly the same feature.
* :func:`roi_align` (Mask R-CNN, 2017) keeps the box's exact coordinates,
  reads ``sampling_ratio x sampling_ratio`` points in each bin by bilinear
  interpolation and averages them: the feature follows the box smoothly.

Conventions are ``torchvision.ops``': boxes are corners ``(x1, y1, x2, y2)``
in input-image pixels, and ``spatial_scale`` (1 / the stride of the feature
map) maps them onto the map, on which the value of cell (row r, column c)
sits at ``(y, x) = (r, c)``.  Both functions equal ``torchvision.ops.roi_pool``
and ``roi_align``, outputs and gradients (``tests/detection/test_roi.py``);
the one difference: an inverted box (``x2 < x1``) with ``aligned=True`` and
adaptive sampling pools to 0 here (no sample in its bins), where
torchvision's CPU kernel raises an error.

:func:`roi_pool_bins`, :func:`roi_align_bins` and :func:`roi_align_samples`
give one box's geometry (the cells of each bin; the exact bins and their
sample points), computed by the same code as the pooling itself, for
printing and drawing (:func:`course_utils.viz.roi_pool_align_figure`).
Notebook 20.
"""

from __future__ import annotations

import math

import torch

from .._checks import check_int, check_number, check_pair

__all__ = [
    "roi_pool",
    "roi_align",
    "roi_pool_bins",
    "roi_align_bins",
    "roi_align_samples",
]

#: Elements of the largest temporary tensor; RoIs are processed in chunks under it.
_BUDGET = 2**22


# --------------------------------------------------------------------------
# Checked inputs
# --------------------------------------------------------------------------


def _check_features(features):
    if not isinstance(features, torch.Tensor):
        raise TypeError(f"features must be a torch tensor of shape (N, C, H, W), got {type(features).__name__}")
    if features.ndim != 4:
        raise ValueError(f"features must be a 4-D tensor (N, C, H, W), got shape {tuple(features.shape)}")
    if not features.is_floating_point():
        raise TypeError(f"features must have a floating dtype, got {features.dtype}")
    if features.shape[2] < 1 or features.shape[3] < 1:
        raise ValueError(f"features must have H >= 1 and W >= 1, got shape {tuple(features.shape)}")
    if not bool(torch.isfinite(features).all()):
        raise ValueError("features must contain only finite values (no NaN or inf)")
    return features


def _check_box_tensor(value, name, columns, like):
    """A 2-D tensor with ``columns`` columns, finite, in the dtype and on the device of ``like``."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor, got {type(value).__name__}")
    if value.dtype == torch.bool or value.is_complex():
        raise TypeError(f"{name} must hold real numbers, got dtype {value.dtype}")
    if value.ndim != 2 or value.shape[1] != columns:
        raise ValueError(f"{name} must have shape (K, {columns}), got shape {tuple(value.shape)}")
    if value.is_floating_point() and not bool(torch.isfinite(value).all()):
        raise ValueError(f"{name} must contain only finite values (no NaN or inf)")
    # as torchvision: no gradient flows back to the boxes
    return value.detach().to(dtype=like.dtype, device=like.device)


def _check_rois(boxes, features):
    """The boxes as one (K, 5) tensor ``(batch index, x1, y1, x2, y2)`` in the features' dtype and device."""
    n = features.shape[0]
    if isinstance(boxes, (list, tuple)):
        if len(boxes) != n:
            raise ValueError(f"boxes given as a list must hold one (L_i, 4) tensor per image of features "
                             f"({n} images), got {len(boxes)} entries")
        parts = [features.new_zeros((0, 5))]
        for i, b in enumerate(boxes):
            b = _check_box_tensor(b, f"boxes[{i}]", 4, features)
            parts.append(torch.cat([b.new_full((b.shape[0], 1), i), b], dim=1))
        return torch.cat(parts)
    if not isinstance(boxes, torch.Tensor):
        raise TypeError("boxes must be a (K, 5) tensor (batch index, x1, y1, x2, y2) or a list of (L_i, 4) "
                        f"tensors, one per image; got {type(boxes).__name__}")
    if boxes.ndim != 2 or boxes.shape[1] != 5:
        raise ValueError("boxes must be a (K, 5) tensor (batch index, x1, y1, x2, y2) or a list of (L_i, 4) "
                         f"tensors, one per image; got a tensor of shape {tuple(boxes.shape)}")
    rois = _check_box_tensor(boxes, "boxes", 5, features)
    index = rois[:, 0]
    bad = (index != torch.floor(index)) | (index < 0) | (index >= n)
    if bool(bad.any()):
        row = int(torch.nonzero(bad)[0])
        raise ValueError(f"boxes[:, 0] is the batch index: an integer in [0, {n}) for features of {n} images; "
                         f"row {row} has {index[row].item()}")
    return rois


def _check_scale(spatial_scale):
    return check_number(spatial_scale, "spatial_scale", minimum=0.0, strict_minimum=True)


def _check_aligned(aligned):
    if not isinstance(aligned, bool):
        raise TypeError(f"aligned must be True or False, got {type(aligned).__name__} {aligned!r}")
    return aligned


def _check_one_box(box):
    """One box ``(x1, y1, x2, y2)`` as a (1, 4) tensor (float64 unless it is a floating tensor)."""
    if isinstance(box, torch.Tensor):
        tensor = box.detach()
    else:
        if isinstance(box, (str, bytes)) or box is None:
            raise TypeError(f"box must be four numbers (x1, y1, x2, y2), got {type(box).__name__} {box!r}")
        try:
            tensor = torch.as_tensor(box, dtype=torch.float64)
        except Exception as exc:  # ragged or non-numeric
            raise TypeError(f"box must be four numbers (x1, y1, x2, y2), got {box!r:.80}") from exc
    if tensor.shape != (4,):
        raise ValueError(f"box must be four numbers (x1, y1, x2, y2), got shape {tuple(tensor.shape)}")
    if not tensor.is_floating_point():
        tensor = tensor.to(torch.float64)
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError("box must contain only finite values (no NaN or inf)")
    return tensor[None]


def _batches(rois):
    """(image index, positions of its RoIs) for every image that has RoIs."""
    batch = rois[:, 0].long()
    for n in torch.unique(batch).tolist():
        yield n, torch.nonzero(batch == n).flatten()


def _in_roi_order(pieces, positions, empty):
    """Outputs computed chunk by chunk, put back in the order of the RoIs.

    One concatenation: writing each chunk into a preallocated output instead
    would make autograd copy the whole output's gradient once per chunk.
    """
    if not pieces:
        return empty
    out, order = torch.cat(pieces), torch.cat(positions)
    if bool((order[1:] > order[:-1]).all()):  # already in order (RoIs grouped by image)
        return out
    return out[torch.argsort(order)]


def _chunks(positions, per_roi):
    """Split RoI positions into chunks whose temporary tensors hold at most about ``_BUDGET`` elements."""
    size = max(1, _BUDGET // max(per_roi, 1))
    return positions.split(size)


# --------------------------------------------------------------------------
# RoI Pool
# --------------------------------------------------------------------------


def _round_half_away(value):
    """C's ``round``: halves go away from zero (``torch.round`` sends them to the even neighbour)."""
    whole = torch.trunc(value)
    return torch.where((value - whole).abs() >= 0.5, whole + torch.sign(value), whole)


def _pool_bins(start, end, bins, size):
    """Cells ``[lo, hi)`` of each RoI Pool bin along one axis.

    ``start`` and ``end`` (K,) are the box's edges already rounded to cells
    (floats of the features' dtype), ``end`` inclusive.  Returns ``lo, hi``
    (K, bins) int64, clipped to the map ``[0, size]``; a bin with
    ``hi <= lo`` is empty.
    """
    length = (end - start + 1).clamp(min=1)  # cells the box covers (an inverted box: one)
    bin_size = length / bins  # fractional: bin edges need not fall on cells...
    i = torch.arange(bins, dtype=length.dtype, device=length.device)
    lo = torch.floor(i * bin_size[:, None]) + start[:, None]  # ...so they are rounded outwards,
    hi = torch.ceil((i + 1) * bin_size[:, None]) + start[:, None]  # and neighbouring bins may share a cell
    return lo.clamp(0, size).long(), hi.clamp(0, size).long()


def _quantized_bins(rois, output_size, spatial_scale, map_size):
    """Rows and columns ``[lo, hi)`` of every RoI Pool bin: four (K, h) / (K, w) int64 tensors."""
    (ph, pw), (height, width) = output_size, map_size
    # 1st quantization: the box, rounded to whole cells
    x1, y1, x2, y2 = _round_half_away(rois[:, 1:] * spatial_scale).unbind(1)
    # 2nd quantization: the bins, rounded to whole cells
    row_lo, row_hi = _pool_bins(y1, y2, ph, height)
    col_lo, col_hi = _pool_bins(x1, x2, pw, width)
    return row_lo, row_hi, col_lo, col_hi


def _widest(lo, hi):
    """Cells in the widest of the bins ``[lo, hi)`` (0 when there are none)."""
    return max(int((hi - lo).max()), 0) if lo.numel() else 0


def _max_in_bins(image, row_lo, row_hi, col_lo, col_hi):
    """The maximum of each bin of each RoI on one image (C, H, W): (k, h, w, C), -inf for an empty bin.

    torchvision's loop over the cells of a bin (``if value > best: keep
    it``), run for every RoI, bin and channel at once: step ``(dy, dx)``
    reads the cell ``(dy, dx)`` away from each bin's top-left corner, for
    the bins that reach that far.  The gradient of ``torch.where`` goes to
    the value it kept, so it reaches the one cell that holds each bin's
    maximum: the first of equal maxima in row-major order, thanks to the
    strict ``>``, as in torchvision.
    """
    c, height, width = image.shape
    cells = image.permute(1, 2, 0).reshape(height * width, c)  # one row of C channels per cell
    best = image.new_full((*row_lo.shape, col_lo.shape[1], c), -torch.inf)  # (k, h, w, C)
    top, bottom = row_lo[:, :, None], row_hi[:, :, None]  # (k, h, 1)
    left, right = col_lo[:, None, :], col_hi[:, None, :]  # (k, 1, w)
    for dy in range(_widest(row_lo, row_hi)):
        for dx in range(_widest(col_lo, col_hi)):
            y, x = top + dy, left + dx
            value = cells[y.clamp(max=height - 1) * width + x.clamp(max=width - 1)]  # (k, h, w, C)
            in_bin = ((y < bottom) & (x < right))[..., None]
            best = torch.where(in_bin & (value > best), value, best)
    return best


def roi_pool(features, boxes, output_size, spatial_scale=1.0):
    """RoI Pool (Girshick, Fast R-CNN, 2015): the maximum of each of ``h x w`` bins of each box.

    For each box:

    1. scale it onto the feature map and round its edges to whole cells
       (halves away from zero); ``x2`` and ``y2`` count as included, so the
       box covers ``round(x2 * s) - round(x1 * s) + 1`` columns (at least 1);
    2. cut it into ``h x w`` bins of fractional size, and round each bin
       outwards to whole cells (``floor`` of its start, ``ceil`` of its end),
       then clip it to the map;
    3. output the maximum of every bin over its cells, channel by channel;
       a bin with no cell left (outside the map) gives 0.

    The two roundings lose up to half a cell of the box's position (a cell
    is ``1 / spatial_scale`` pixels of the image): :func:`roi_align` does not.
    The gradient flows to the cell holding each bin's maximum (to the first
    one in row-major order on ties), as torchvision's.

    Parameters
    ----------
    features : (N, C, H, W) floating tensor
        Feature maps of a batch of images.
    boxes : (K, 5) tensor or list of N (L_i, 4) tensors
        Rows ``(batch index, x1, y1, x2, y2)``, or one tensor of corners per
        image (then K is the sum of the L_i, in order); in image pixels.
        Cast to the dtype of ``features``; no gradient flows to them.
    output_size : int or (h, w)
        Bins per box (an int for a square grid).
    spatial_scale : float
        Feature-map cells per image pixel, ``1 / stride`` (> 0).

    Returns
    -------
    (K, C, h, w) tensor
        Row k pools box k; K = 0 gives an empty (0, C, h, w) tensor.

    See Also
    --------
    roi_pool_bins : the cells of one box's bins.
    """
    features = _check_features(features)
    output_size = check_pair(output_size, "output_size")
    spatial_scale = _check_scale(spatial_scale)
    rois = _check_rois(boxes, features)
    _, c, height, width = features.shape
    ph, pw = output_size
    row_lo, row_hi, col_lo, col_hi = _quantized_bins(rois, output_size, spatial_scale, (height, width))

    pieces, positions = [], []
    per_image = features.unbind(0)  # one select per image for autograd, not one per chunk
    for image, mine in _batches(rois):
        for part in _chunks(mine, 4 * ph * pw * c):
            pieces.append(_max_in_bins(per_image[image], row_lo[part], row_hi[part], col_lo[part], col_hi[part]))
            positions.append(part)
    pooled = _in_roi_order(pieces, positions, features.new_zeros((0, ph, pw, c)))
    pooled = pooled.permute(0, 3, 1, 2)  # (K, C, h, w)
    empty = (row_hi <= row_lo)[:, :, None] | (col_hi <= col_lo)[:, None, :]  # (K, h, w)
    # a bin with no cell gives 0 (its -inf has no gradient to pass on)
    return torch.where(empty[:, None], torch.zeros((), dtype=pooled.dtype, device=pooled.device), pooled)


def roi_pool_bins(box, output_size, map_size, spatial_scale=1.0):
    """The cells of each RoI Pool bin of one box, as :func:`roi_pool` computes them.

    Parameters
    ----------
    box : four numbers or (4,) tensor
        Corners ``(x1, y1, x2, y2)`` in image pixels.
    output_size : int or (h, w)
    map_size : int or (H, W)
        Size of the feature map, to which the bins are clipped.
    spatial_scale : float

    Returns
    -------
    rows : (h, 2) int64 tensor
        ``[start, stop)`` of the rows of each bin row: bin ``(i, j)`` covers
        rows ``rows[i, 0]`` to ``rows[i, 1] - 1`` ...
    cols : (w, 2) int64 tensor
        ... and columns ``cols[j, 0]`` to ``cols[j, 1] - 1``.  A bin with
        ``stop <= start`` on either axis is empty (it pools to 0).
    """
    box = _check_one_box(box)
    output_size = check_pair(output_size, "output_size")
    map_size = check_pair(map_size, "map_size")
    spatial_scale = _check_scale(spatial_scale)
    rois = torch.cat([box.new_zeros((1, 1)), box], dim=1)
    row_lo, row_hi, col_lo, col_hi = _quantized_bins(rois, output_size, spatial_scale, map_size)
    return torch.stack([row_lo[0], row_hi[0]], dim=1), torch.stack([col_lo[0], col_hi[0]], dim=1)


# --------------------------------------------------------------------------
# RoI Align
# --------------------------------------------------------------------------


def _sample_positions(start, length, bins, sampling_ratio):
    """Sample coordinates along one axis, for K RoIs.

    Each of the ``bins`` bins of size ``length / bins`` gets ``g`` samples at
    the centres of ``g`` equal sub-bins: ``g = sampling_ratio``, or when
    ``sampling_ratio <= 0`` ``g = ceil(length / bins)`` per RoI (about one
    sample per cell; 0 for an inverted box).  Returns positions (K, bins, G),
    a mask of the real samples (K, bins, G) (G is the largest g, the others
    are padding) and g (K,).
    """
    bin_size = length / bins
    if sampling_ratio > 0:
        grid = torch.full(bin_size.shape, sampling_ratio, dtype=torch.long, device=length.device)
    else:
        grid = torch.ceil(bin_size).clamp(min=0).long()
    most = int(grid.max()) if grid.numel() else 0
    i = torch.arange(bins, dtype=length.dtype, device=length.device)[None, :, None]
    s = torch.arange(most, dtype=length.dtype, device=length.device)[None, None, :]
    size, g = bin_size[:, None, None], grid.clamp(min=1).to(length.dtype)[:, None, None]
    positions = start[:, None, None] + i * size + (s + 0.5) * size / g
    real = (s < grid[:, None, None]).expand(positions.shape)
    return positions, real, grid


def _interpolation_weights(positions, real, grid, size):
    """(K, bins, size) weights: row i averages the linear-interpolation weights of bin i's samples.

    Along one axis, a sample at ``p`` reads ``(1 - f) * v[floor(p)] + f * v[floor(p) + 1]``
    with ``f = p - floor(p)``.  The border rules are torchvision's:

    * a sample more than one cell outside the map (``p < -1`` or ``p > size``)
      reads 0;
    * within one cell of the map it reads the nearest edge cell
      (``p`` clamped to ``[0, size - 1]``).

    Bilinear interpolation in 2-D is the product of the weights of the two
    axes, so these matrices for the rows and the columns make RoI Align.
    """
    k, bins, most = positions.shape
    inside = real & (positions >= -1) & (positions <= size)
    p = positions.clamp(0, size - 1)  # clamped to the edge cells; also keeps floor() in range
    low = torch.floor(p)
    frac = p - low
    low = low.long()
    high = (low + 1).clamp(max=size - 1)
    zero = torch.zeros((), dtype=p.dtype, device=p.device)
    weights = torch.zeros((k, bins, size), dtype=p.dtype, device=p.device)
    weights.scatter_add_(2, low, torch.where(inside, 1 - frac, zero))
    weights.scatter_add_(2, high, torch.where(inside, frac, zero))
    # the average over the bin's samples; along the other axis too, so the 2-D
    # average divides by g_y * g_x as torchvision does
    return weights / grid.clamp(min=1).to(p.dtype)[:, None, None]


def _align_geometry(rois, spatial_scale, aligned):
    """Continuous box edges on the map: ``(y1, height, x1, width)``, each (K,)."""
    # aligned: a pixel's centre is at +0.5, so shift the box onto the cells' grid
    offset = 0.5 if aligned else 0.0
    x1, y1, x2, y2 = (rois[:, 1:] * spatial_scale - offset).unbind(1)
    width, height = x2 - x1, y2 - y1
    if not aligned:  # the legacy rule: a box is at least one cell wide and high
        width, height = width.clamp(min=1), height.clamp(min=1)
    return y1, height, x1, width


def roi_align(features, boxes, output_size, spatial_scale=1.0, sampling_ratio=-1, aligned=False):
    """RoI Align (He et al., Mask R-CNN, 2017): bilinear samples averaged in each of ``h x w`` bins.

    For each box:

    1. scale it onto the feature map, without rounding (``aligned=True``
       also shifts it by half a cell, so that pixel centres land on cell
       centres; ``aligned=False`` is the original rule, which also stretches
       boxes smaller than one cell to one cell);
    2. cut it into ``h x w`` equal bins and place ``g_y x g_x`` sample points
       at the centres of a regular grid in each bin: ``g = sampling_ratio``,
       or, when ``sampling_ratio <= 0``, ``g = ceil(bin size in cells)`` for
       each box and axis;
    3. read the map at every sample by bilinear interpolation (0 for a
       sample more than one cell outside the map, the nearest edge cell
       within one cell of it) and output the mean of each bin's samples.

    Every step after the box is linear in the features: with ``A_y`` (h, H)
    holding each bin row's average interpolation weights over the rows of
    the map and ``A_x`` (w, W) the same for the columns, box k's output is
    ``A_y @ features[n, c] @ A_x.T`` for every channel c.  That is how it
    is computed here; the gradient with respect to ``features`` follows by
    autograd (and equals torchvision's).  No gradient flows to the boxes.

    Parameters
    ----------
    features : (N, C, H, W) floating tensor
    boxes : (K, 5) tensor or list of N (L_i, 4) tensors
        Rows ``(batch index, x1, y1, x2, y2)``, or one tensor of corners per
        image; in image pixels.  Cast to the dtype of ``features``.
    output_size : int or (h, w)
    spatial_scale : float
        Feature-map cells per image pixel, ``1 / stride`` (> 0).
    sampling_ratio : int
        Samples per bin along each axis; ``<= 0``: adaptive, as above.
    aligned : bool
        Shift boxes by -0.5 cell (the right thing; ``False`` for
        compatibility with the original Mask R-CNN).

    Returns
    -------
    (K, C, h, w) tensor

    See Also
    --------
    roi_align_samples : the sample points of one box.
    """
    features = _check_features(features)
    output_size = check_pair(output_size, "output_size")
    spatial_scale = _check_scale(spatial_scale)
    sampling_ratio = check_int(sampling_ratio, "sampling_ratio")
    aligned = _check_aligned(aligned)
    rois = _check_rois(boxes, features)
    _, c, height, width = features.shape
    ph, pw = output_size
    y1, box_h, x1, box_w = _align_geometry(rois, spatial_scale, aligned)

    pieces, positions = [], []
    # each image's map as (H, C * W): row h holds every channel's row h
    by_row = features.permute(0, 2, 1, 3).reshape(features.shape[0], height, c * width).unbind(0)
    if sampling_ratio > 0:  # the same number of samples for every box: all weights at once
        all_rows = _interpolation_weights(*_sample_positions(y1, box_h, ph, sampling_ratio), height)
        all_cols = _interpolation_weights(*_sample_positions(x1, box_w, pw, sampling_ratio), width)
    for image, mine in _batches(rois):
        # adaptive sampling gives big boxes many samples: chunks of RoIs bound the memory
        if sampling_ratio > 0:
            grid_y = grid_x = sampling_ratio
        else:
            grid_y = max(math.ceil(float(box_h[mine].max()) / ph), 1)
            grid_x = max(math.ceil(float(box_w[mine].max()) / pw), 1)
        per_roi = ph * (grid_y + height) + pw * (grid_x + width) + c * ph * width
        for part in _chunks(mine, per_roi):
            if sampling_ratio > 0:
                rows, cols = all_rows[part], all_cols[part]
            else:
                rows = _interpolation_weights(*_sample_positions(y1[part], box_h[part], ph, sampling_ratio), height)
                cols = _interpolation_weights(*_sample_positions(x1[part], box_w[part], pw, sampling_ratio), width)
            # out[k, c] = rows[k] @ features[image, c] @ cols[k].T, in two matrix products:
            # first every box's bin rows against the map's rows (one product for all boxes)
            k = rows.shape[0]
            across = rows.reshape(k * ph, height) @ by_row[image]  # (k * ph, C * W)
            # then each box's bin columns against the map's columns
            out = across.reshape(k, ph * c, width) @ cols.transpose(1, 2)  # (k, ph * C, pw)
            pieces.append(out.reshape(k, ph, c, pw).transpose(1, 2))
            positions.append(part)
    return _in_roi_order(pieces, positions, features.new_zeros((0, c, ph, pw)))


def _one_box_geometry(box, spatial_scale, aligned):
    box = _check_one_box(box)
    spatial_scale = _check_scale(spatial_scale)
    aligned = _check_aligned(aligned)
    rois = torch.cat([box.new_zeros((1, 1)), box], dim=1)
    return _align_geometry(rois, spatial_scale, aligned)


def roi_align_bins(box, output_size, spatial_scale=1.0, aligned=False):
    """The exact bins of one box's RoI Align, as :func:`roi_align` computes them.

    Parameters
    ----------
    box : four numbers or (4,) tensor
        Corners ``(x1, y1, x2, y2)`` in image pixels.
    output_size : int or (h, w)
    spatial_scale : float
    aligned : bool

    Returns
    -------
    row_edges : (h + 1,) tensor
        Edges of the bin rows on the map, in the map's coordinates (cell r's
        centre at r): bin row i spans ``[row_edges[i], row_edges[i + 1]]`` ...
    col_edges : (w + 1,) tensor
        ... and bin column j spans ``[col_edges[j], col_edges[j + 1]]``.
        ``aligned=False`` starts them half a cell later than the box, and
        makes them at least one cell long in all.
    """
    output_size = check_pair(output_size, "output_size")
    y1, box_h, x1, box_w = _one_box_geometry(box, spatial_scale, aligned)
    edges = []
    for start, length, bins in ((y1, box_h, output_size[0]), (x1, box_w, output_size[1])):
        i = torch.arange(bins + 1, dtype=length.dtype, device=length.device)
        edges.append(start[0] + i * (length[0] / bins))  # as the samples: start + i * bin size
    return tuple(edges)


def roi_align_samples(box, output_size, spatial_scale=1.0, sampling_ratio=-1, aligned=False):
    """The sample points of one box's RoI Align bins, as :func:`roi_align` computes them.

    Parameters
    ----------
    box : four numbers or (4,) tensor
        Corners ``(x1, y1, x2, y2)`` in image pixels.
    output_size : int or (h, w)
    spatial_scale : float
    sampling_ratio : int
    aligned : bool

    Returns
    -------
    ys : (h, g_y) tensor
        Row coordinates on the map (cell r's centre at r) of the samples of
        each bin row ...
    xs : (w, g_x) tensor
        ... and their column coordinates: bin ``(i, j)`` averages the map
        read at the ``g_y x g_x`` points ``(ys[i, a], xs[j, b])``.
        Coordinates may lie outside the map (such points read 0, or the
        edge cell when within one cell of it).
    """
    output_size = check_pair(output_size, "output_size")
    sampling_ratio = check_int(sampling_ratio, "sampling_ratio")
    y1, box_h, x1, box_w = _one_box_geometry(box, spatial_scale, aligned)
    ys, _, gy = _sample_positions(y1, box_h, output_size[0], sampling_ratio)
    xs, _, gx = _sample_positions(x1, box_w, output_size[1], sampling_ratio)
    return ys[0, :, : int(gy[0])], xs[0, :, : int(gx[0])]
