"""RoI Pool and RoI Align drawn over one small feature map: rounded bins against exact ones.

:func:`roi_pool_align_figure` draws, side by side, a box on a feature map,
the cells RoI Pool max-pools for it and the points RoI Align samples for it,
from the geometry :mod:`course_utils.detection.roi` computes.  Notebook 20.

Coordinates on the drawings: cell (row r, column c) of the map is the square
``[c, c + 1] x [r, r + 1]``, so a box ``(x1, y1, x2, y2)`` in image pixels
is drawn at ``spatial_scale`` times its corners, edges on cell edges as in
:func:`course_utils.viz.show_detections`.  The functions of
``detection.roi`` put cell centres at integers: add 0.5 to draw them.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from .._checks import as_numpy, check_array, check_image, check_int, check_number, check_pair
from ..detection.roi import roi_align, roi_align_bins, roi_align_samples, roi_pool, roi_pool_bins

__all__ = [
    "roi_pool_align_figure",
]

_BOX_COLOR = "red"
_POOL_COLOR = "orange"
_ALIGN_COLOR = "cyan"
_SAMPLE_COLOR = "red"


def _check_box(box):
    box = check_array(as_numpy(box), "box", ndim=1).astype(float)
    if box.shape != (4,):
        raise ValueError(f"box must be four numbers (x1, y1, x2, y2), got shape {box.shape}")
    if box[2] < box[0] or box[3] < box[1]:
        raise ValueError(f"box must be (x1, y1, x2, y2) with x2 >= x1 and y2 >= y1, got {box.tolist()}")
    return box


def _scale_text(spatial_scale):
    stride = 1 / spatial_scale
    return f"1/{stride:g}" if stride == round(stride) and stride > 1 else f"{spatial_scale:g}"


def _draw_map(ax, feature_map, title, vmin, vmax):
    """The map as a heatmap, cell (r, c) on [c, c + 1] x [r, r + 1], with its grid lines."""
    height, width = feature_map.shape
    ax.imshow(feature_map, cmap="viridis", vmin=vmin, vmax=vmax, interpolation="nearest",
              extent=(0, width, height, 0))
    ax.vlines(np.arange(width + 1), 0, height, colors="white", linewidth=0.5, alpha=0.6)
    ax.hlines(np.arange(height + 1), 0, width, colors="white", linewidth=0.5, alpha=0.6)
    ax.set_xticks(np.arange(width) + 0.5, labels=[str(c) for c in range(width)], fontsize=7)
    ax.set_yticks(np.arange(height) + 0.5, labels=[str(r) for r in range(height)], fontsize=7)
    ax.tick_params(length=0)
    ax.set_title(title, fontsize=10)


def _draw_rectangle(ax, x0, y0, x1, y1, color, linestyle="-", linewidth=2.0, alpha=None):
    ax.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor=color, linestyle=linestyle,
                               linewidth=linewidth, alpha=alpha))


def _write_value(ax, x, y, value):
    ax.text(x, y, f"{value:.2f}", color="white", fontsize=8, ha="center", va="center",
            bbox={"facecolor": "black", "alpha": 0.55, "pad": 1, "linewidth": 0})


def roi_pool_align_figure(feature_map, box, output_size=(2, 2), spatial_scale=1.0, sampling_ratio=2, aligned=True):
    """One box on a feature map, pooled by RoI Pool and by RoI Align, in three panels.

    1. the box scaled onto the map, in continuous coordinates (red);
    2. RoI Pool: the box rounded to cells, cut into ``h x w`` bins rounded
       to cells again (orange; neighbouring bins may share cells), the cell
       of each bin's maximum (white ``x``) and the pooled value;
    3. RoI Align: the exact bins (cyan), the bilinear sample points of each
       bin (red dots) and the averaged value.  With ``aligned=False`` the
       bins start half a cell after the box: the misalignment that
       ``aligned=True`` removes.

    The box is drawn dashed in panels 2 and 3 for comparison.

    Parameters
    ----------
    feature_map : (H, W) array_like or tensor
        One channel of a feature map, e.g. 8 x 8.
    box : four numbers
        Corners ``(x1, y1, x2, y2)`` in image pixels, ``x2 >= x1``, ``y2 >= y1``.
    output_size : int or (h, w)
        Bins per box.
    spatial_scale : float
        Map cells per image pixel, ``1 / stride`` (> 0).
    sampling_ratio : int
        RoI Align's samples per bin along each axis (``<= 0``: adaptive).
    aligned : bool
        RoI Align's half-cell shift.

    Returns
    -------
    matplotlib.figure.Figure
        Three axes, one per panel; the sample points of panel 3 are one
        line with label ``"samples"``.
    """
    feature_map = np.asarray(check_image(as_numpy(feature_map), "feature_map"), dtype=float)
    box = _check_box(box)
    output_size = check_pair(output_size, "output_size")
    spatial_scale = check_number(spatial_scale, "spatial_scale", minimum=0.0, strict_minimum=True)
    sampling_ratio = check_int(sampling_ratio, "sampling_ratio")
    if not isinstance(aligned, bool):
        raise TypeError(f"aligned must be True or False, got {type(aligned).__name__} {aligned!r}")
    height, width = feature_map.shape
    ph, pw = output_size

    # what the two operations compute, from the same code that pools
    features = torch.from_numpy(feature_map)[None, None]
    rois = [torch.from_numpy(box)[None]]
    pooled = roi_pool(features, rois, output_size, spatial_scale)[0, 0].numpy()
    aligned_values = roi_align(features, rois, output_size, spatial_scale, sampling_ratio, aligned)[0, 0].numpy()
    rows, cols = (t.numpy() for t in roi_pool_bins(box, output_size, (height, width), spatial_scale))
    row_edges, col_edges = (t.numpy() + 0.5 for t in roi_align_bins(box, output_size, spatial_scale, aligned))
    ys, xs = (t.numpy() + 0.5 for t in roi_align_samples(box, output_size, spatial_scale, sampling_ratio, aligned))

    fig, axes = plt.subplots(1, 3, figsize=(12, 4.4), layout="constrained")
    vmin, vmax = feature_map.min(), feature_map.max()
    x1, y1, x2, y2 = box * spatial_scale
    _draw_map(axes[0], feature_map, f"the box x {_scale_text(spatial_scale)}\non the {height}x{width} map",
              vmin, vmax)
    _draw_rectangle(axes[0], x1, y1, x2, y2, _BOX_COLOR)

    ax = axes[1]
    _draw_map(ax, feature_map, f"RoI Pool: {ph}x{pw} bins snapped to cells\n(x: the maximum of each bin)", vmin, vmax)
    _draw_rectangle(ax, x1, y1, x2, y2, _BOX_COLOR, linestyle="--", linewidth=1.0)
    peaks = []
    for i, (r0, r1) in enumerate(rows):
        for j, (c0, c1) in enumerate(cols):
            if r1 <= r0 or c1 <= c0:  # clipped away: pools to 0, nothing to draw
                continue
            _draw_rectangle(ax, c0, r0, c1, r1, _POOL_COLOR, alpha=0.9)
            cell = feature_map[r0:r1, c0:c1]
            r, c = np.unravel_index(np.argmax(cell), cell.shape)  # first maximum in row-major order
            peaks.append((c0 + c + 0.5, r0 + r + 0.5))
            _write_value(ax, (c0 + c1) / 2, (r0 + r1) / 2, pooled[i, j])
    if peaks:
        ax.plot(*zip(*peaks), linestyle="none", marker="x", color="white", markersize=7, label="maxima")

    ax = axes[2]
    grid = f"{ys.shape[1]}x{xs.shape[1]}"
    shift = "aligned" if aligned else "aligned=False: half a cell late"
    _draw_map(ax, feature_map, f"RoI Align: exact bins ({shift})\n{grid} bilinear samples each", vmin, vmax)
    _draw_rectangle(ax, x1, y1, x2, y2, _BOX_COLOR, linestyle="--", linewidth=1.0)
    for i in range(ph):
        for j in range(pw):
            _draw_rectangle(ax, col_edges[j], row_edges[i], col_edges[j + 1], row_edges[i + 1], _ALIGN_COLOR)
            _write_value(ax, (col_edges[j] + col_edges[j + 1]) / 2, (row_edges[i] + row_edges[i + 1]) / 2,
                         aligned_values[i, j])
    # every bin (i, j) samples the grid ys[i] x xs[j]
    sample_x = np.concatenate([np.repeat(xs[j][None], ys.shape[1], 0).ravel() for i in range(ph) for j in range(pw)])
    sample_y = np.concatenate([np.repeat(ys[i], xs.shape[1]) for i in range(ph) for j in range(pw)])
    ax.plot(sample_x, sample_y, linestyle="none", marker="o", color=_SAMPLE_COLOR, markersize=3.5, label="samples")

    # show all of the map, and all of the box and the bins when they go past it
    left = min(0.0, x1, col_edges.min(), xs.min(initial=0.0)) - 0.2
    right = max(float(width), x2, col_edges.max(), xs.max(initial=0.0)) + 0.2
    top = min(0.0, y1, row_edges.min(), ys.min(initial=0.0)) - 0.2
    bottom = max(float(height), y2, row_edges.max(), ys.max(initial=0.0)) + 0.2
    for ax in axes:
        ax.set_xlim(left, right)
        ax.set_ylim(bottom, top)
    return fig
