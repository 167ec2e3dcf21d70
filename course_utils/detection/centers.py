"""Anchor-free detection by centres (FCOS-style): which locations own an object, and their distances to its sides.

An anchor-free detector drops anchors altogether. FCOS (Tian et al., 2019)
lets every feature-map location whose centre lies inside an object (here:
inside it *and* within ``radius`` cells of its centre, FCOS's "centre
sampling") predict that object: its class, the **distances to the four
sides** :math:`(l, t, r, b)`, and a **centre-ness**

.. math:: \\sqrt{\\frac{\\min(l, r)}{\\max(l, r)} \\cdot \\frac{\\min(t, b)}{\\max(t, b)}}

that is 1 at the object's centre and falls towards its edges, so that at test
time boxes predicted far from a centre rank lower. A location inside two
objects predicts the smaller one.

An **NMS-free** detector (DETR, YOLOv10, YOLO26) instead trains a head with
**one-to-one** assignment: every object is given exactly one location, the
one that best matches it, by the Hungarian algorithm
(:func:`one_to_one_assignment`); the others must say "nothing". Then the
head outputs one box per object and needs no NMS.

Every function here works on one feature map of ``grid_size x grid_size``
cells of ``stride`` pixels. Notebook 24; the network is
:class:`course_utils.models.CenterDetector`.
"""

from __future__ import annotations

import numpy as np
import torch

from .._checks import check_int, check_number
from .boxes import _boxes

__all__ = ["location_centres", "center_targets", "decode_distances", "centerness", "one_to_one_assignment"]


def location_centres(grid_size, stride, dtype=torch.float32):
    """(grid_size ** 2, 2) pixel centres ``(x, y)`` of the cells, row by row."""
    s = check_int(grid_size, "grid_size", minimum=1)
    stride = check_number(stride, "stride", minimum=0, strict_minimum=True)
    coords = (torch.arange(s, dtype=dtype) + 0.5) * stride
    y, x = torch.meshgrid(coords, coords, indexing="ij")
    return torch.stack([x.reshape(-1), y.reshape(-1)], dim=1)


def centerness(distances):
    """FCOS's centre-ness of (..., 4) distances ``(l, t, r, b)`` (all > 0)."""
    left, top, right, bottom = distances.unbind(-1)
    return torch.sqrt((torch.minimum(left, right) / torch.maximum(left, right))
                      * (torch.minimum(top, bottom) / torch.maximum(top, bottom)))


def center_targets(boxes, labels, grid_size, stride, radius=1.5):
    """What every location of one image should predict.

    Parameters
    ----------
    boxes : (G, 4) array or tensor
        Corner boxes in pixels.
    labels : (G,) integer array or tensor
        Classes 0 .. C - 1.
    grid_size : int
    stride : float
    radius : float
        Centre sampling: a location is positive only within ``radius x
        stride`` pixels of the object's centre, along both axes (and inside
        the box).

    Returns
    -------
    dict
        ``labels`` (L,) int64, the class or -1 for background (L =
        grid_size ** 2, row by row); ``distances`` (L, 4) ``(l, t, r, b)``
        to the owned object's sides (zeros for background); ``object_index``
        (L,) int64, -1 for background.
    """
    gt, _ = _boxes(boxes, "boxes")
    gt = gt.to(torch.float32)
    classes = torch.as_tensor(labels).to(torch.int64).reshape(-1)
    if len(classes) != len(gt):
        raise ValueError(f"labels must have one entry per box ({len(gt)}), got {len(classes)}")
    radius = check_number(radius, "radius", minimum=0, strict_minimum=True)
    points = location_centres(grid_size, stride)
    n = len(points)
    if len(gt) == 0:
        return {"labels": torch.full((n,), -1, dtype=torch.int64), "distances": torch.zeros(n, 4),
                "object_index": torch.full((n,), -1, dtype=torch.int64)}
    x, y = points[:, 0:1], points[:, 1:2]  # (L, 1)
    distances = torch.stack([x - gt[:, 0], y - gt[:, 1], gt[:, 2] - x, gt[:, 3] - y], dim=-1)  # (L, G, 4)
    inside = distances.min(dim=-1).values > 0
    centre = (gt[:, :2] + gt[:, 2:]) / 2
    reach = radius * float(stride)
    near = ((x - centre[:, 0]).abs() < reach) & ((y - centre[:, 1]).abs() < reach)
    area = (gt[:, 2] - gt[:, 0]) * (gt[:, 3] - gt[:, 1])
    candidate_area = torch.where(inside & near, area, torch.full_like(distances[..., 0], float("inf")))
    smallest, owner = candidate_area.min(dim=1)
    positive = torch.isfinite(smallest)
    owner = torch.where(positive, owner, -1)
    chosen = distances[torch.arange(n), owner.clamp(min=0)]
    return {"labels": torch.where(positive, classes[owner.clamp(min=0)], -1),
            "distances": torch.where(positive[:, None], chosen, torch.zeros_like(chosen)),
            "object_index": owner}


def decode_distances(distances, grid_size, stride):
    """Corner boxes from per-location distances ``(l, t, r, b)``: the inverse of :func:`center_targets`.

    Parameters
    ----------
    distances : (..., L, 4) tensor
    grid_size : int
    stride : float

    Returns
    -------
    (..., L, 4) tensor
    """
    points = location_centres(grid_size, stride, dtype=distances.dtype).to(distances.device)
    if distances.shape[-2:] != (len(points), 4):
        raise ValueError(f"distances must have shape (..., {len(points)}, 4) for a {grid_size} x {grid_size} grid, "
                         f"got {tuple(distances.shape)}")
    return torch.cat([points - distances[..., :2], points + distances[..., 2:]], dim=-1)


def one_to_one_assignment(cost):
    """The Hungarian assignment of objects to locations: each object gets one location, no location two objects.

    Parameters
    ----------
    cost : (G, L) array or tensor
        Cost of giving object g to location l (lower is better), G <= L.

    Returns
    -------
    (G,) int64 tensor
        The location of each object; the total cost is the smallest possible
        (``scipy.optimize.linear_sum_assignment``).
    """
    from scipy.optimize import linear_sum_assignment

    c = cost.detach().cpu().numpy() if isinstance(cost, torch.Tensor) else np.asarray(cost, dtype=float)
    if c.ndim != 2 or c.shape[0] > c.shape[1]:
        raise ValueError(f"cost must be (G, L) with G <= L, got shape {c.shape}")
    if c.shape[0] == 0:
        return torch.zeros(0, dtype=torch.int64)
    rows, cols = linear_sum_assignment(c)
    out = np.empty(c.shape[0], dtype=np.int64)
    out[rows] = cols
    return torch.from_numpy(out)
