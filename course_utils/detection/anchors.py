"""Anchors and what a detector learns from them: sliding windows, anchor grids,
matching anchors to objects, and the box coding of offsets.

Equal to torchvision's ``AnchorGenerator``, ``Matcher`` and ``BoxCoder``
(``tests/detection/test_boxes.py``).  Notebook 19.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from .._checks import check_number, check_pair
from .boxes import _boxes, _out, _to_tensor

__all__ = [
    "BELOW_LOW_THRESHOLD",
    "BETWEEN_THRESHOLDS",
    "DEFAULT_XFORM_CLIP",
    "sliding_windows",
    "make_anchors",
    "make_multilevel_anchors",
    "encode_boxes",
    "decode_boxes",
    "match_anchors",
]


#: Labels :func:`match_anchors` gives to anchors that are background / ignored.
BELOW_LOW_THRESHOLD = -1

BETWEEN_THRESHOLDS = -2

#: torchvision's clip of the log-size offsets before ``exp`` in decoding.
DEFAULT_XFORM_CLIP = math.log(1000.0 / 16)


def sliding_windows(image_size, sizes, aspect_ratios=(1.0,), stride_fraction=0.25):
    """Every window a sliding-window detector would have to classify.

    For each size ``s`` and aspect ratio ``r`` (height / width), windows of
    height ``round(s * sqrt(r))`` and width ``round(s / sqrt(r))`` (area
    about ``s**2``) are placed at every multiple of the stride
    ``max(1, round(stride_fraction * s))`` where they fit whole in the image.

    Parameters
    ----------
    image_size : int or (H, W)
    sizes : sequence of float
        Square roots of the window areas, in pixels.
    aspect_ratios : sequence of float
    stride_fraction : float
        Step between windows as a fraction of the size (> 0).

    Returns
    -------
    (N, 4) float32 ndarray
        Corner boxes, size by size, ratio by ratio, row by row.
    """

    height, width = check_pair(image_size, "image_size")
    sizes = _positive_list(sizes, "sizes")
    ratios = _positive_list(aspect_ratios, "aspect_ratios")
    stride_fraction = check_number(stride_fraction, "stride_fraction", minimum=0, strict_minimum=True)
    windows = [np.zeros((0, 4), dtype=np.float32)]
    for s in sizes:
        stride = max(1, int(round(stride_fraction * s)))
        for r in ratios:
            h, w = int(round(s * math.sqrt(r))), int(round(s / math.sqrt(r)))
            if h < 1 or w < 1 or h > height or w > width:
                continue
            ys, xs = np.meshgrid(np.arange(0, height - h + 1, stride), np.arange(0, width - w + 1, stride),
                                 indexing="ij")
            ys, xs = ys.ravel(), xs.ravel()
            windows.append(np.stack([xs, ys, xs + w, ys + h], axis=1).astype(np.float32))
    return np.concatenate(windows)


def _positive_list(values, name):
    if isinstance(values, numbers.Real) and not isinstance(values, bool):
        values = [values]
    if not isinstance(values, (list, tuple, np.ndarray)) or len(values) == 0:
        raise TypeError(f"{name} must be a number or a non-empty list of numbers, got {values!r}")
    return [check_number(v, f"{name}[{i}]", minimum=0, strict_minimum=True) for i, v in enumerate(values)]


def _positive_pair(value, name):
    """``(y, x)`` from one positive number or a pair of them (ints or floats)."""
    pair = value if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2:
        raise TypeError(f"{name} must be a positive number or a pair of them, got {value!r}")
    return tuple(check_number(v, f"{name}[{i}]", minimum=0, strict_minimum=True) for i, v in enumerate(pair))


def make_anchors(feature_size, stride, sizes=(32,), aspect_ratios=(0.5, 1.0, 2.0), offset=0.0):
    """Anchor boxes tiled over a feature map, as torchvision's ``AnchorGenerator``.

    Each cell ``(i, j)`` of an ``H x W`` feature map stands for the image
    point ``((j + offset) * stride, (i + offset) * stride)``; around it sit
    ``len(aspect_ratios) * len(sizes)`` boxes of area ``size**2`` and shape
    ``height / width = aspect_ratio``, their offsets from that point rounded
    to whole pixels.

    Which point of the cell is the anchor's centre is a convention:
    ``offset=0`` (the default) is torchvision's, the **top-left corner** of
    the cell, so on a 128-pixel image with stride 32 the centres are at 0,
    32, 64, 96; ``offset=0.5`` is SSD's and YOLO's, the **centre** of the
    cell (16, 48, 80, 112).

    Parameters
    ----------
    feature_size : int or (H, W)
        Size of the feature map.
    stride : float or (stride_y, stride_x)
        Image pixels per feature-map cell (need not be whole: 300 / 38 for SSD).
    sizes : sequence of float
        Square roots of the anchor areas, in pixels.
    aspect_ratios : sequence of float
        Height / width ratios.
    offset : float
        Position of the centre inside its cell, in cells: 0 (corner,
        torchvision) to 0.5 (centre, SSD and YOLO), in [0, 1).

    Returns
    -------
    (H * W * A, 4) float32 tensor
        Corner boxes; for each cell in row-major order, the ``A`` anchors
        with the aspect ratio varying slowest.
    """
    height, width = check_pair(feature_size, "feature_size")
    stride_y, stride_x = _positive_pair(stride, "stride")
    offset = check_number(offset, "offset", minimum=0)
    if offset >= 1:
        raise ValueError(f"offset must be in [0, 1) cells, got {offset}")
    scales = torch.as_tensor(_positive_list(sizes, "sizes"), dtype=torch.float32)
    ratios = torch.as_tensor(_positive_list(aspect_ratios, "aspect_ratios"), dtype=torch.float32)
    h_ratios = torch.sqrt(ratios)
    w_ratios = 1 / h_ratios
    ws = (w_ratios[:, None] * scales[None, :]).reshape(-1)
    hs = (h_ratios[:, None] * scales[None, :]).reshape(-1)
    base = (torch.stack([-ws, -hs, ws, hs], dim=1) / 2).round()  # centred at 0
    shift_x = (torch.arange(width, dtype=torch.int32).to(torch.float32) + offset) * stride_x
    shift_y = (torch.arange(height, dtype=torch.int32).to(torch.float32) + offset) * stride_y
    yy, xx = torch.meshgrid(shift_y, shift_x, indexing="ij")
    xx, yy = xx.reshape(-1), yy.reshape(-1)
    shifts = torch.stack((xx, yy, xx, yy), dim=1)
    return (shifts[:, None, :] + base[None, :, :]).reshape(-1, 4)


def make_multilevel_anchors(feature_sizes, strides, sizes, aspect_ratios=((0.5, 1.0, 2.0),), offset=0.0):
    """Anchors of several feature maps (an FPN's or SSD's levels), level after level.

    Equal to torchvision's ``AnchorGenerator`` given one entry of ``sizes``
    and ``aspect_ratios`` per feature map: :func:`make_anchors` for each
    level, concatenated in level order.

    Parameters
    ----------
    feature_sizes : sequence of (int or (H, W))
        One feature-map size per level.
    strides : sequence of (float or (stride_y, stride_x))
        One stride per level.
    sizes : sequence of sequence of float
        The anchor sizes of each level (usually larger on coarser levels).
    aspect_ratios : sequence of sequence of float
        The ratios of each level, or a single entry used for every level.
    offset : float
        As in :func:`make_anchors`, the same for every level.

    Returns
    -------
    (sum over levels of H * W * A, 4) float32 tensor
    """
    levels = len(feature_sizes)
    if not (len(strides) == len(sizes) == levels) or levels == 0:
        raise ValueError(f"feature_sizes, strides and sizes must have one entry per level, got "
                         f"{len(feature_sizes)}, {len(strides)} and {len(sizes)}")
    if len(aspect_ratios) == 1:
        aspect_ratios = tuple(aspect_ratios) * levels
    if len(aspect_ratios) != levels:
        raise ValueError(f"aspect_ratios must have one entry per level or a single one, got {len(aspect_ratios)}")
    return torch.cat([make_anchors(f, s, z, r, offset)
                      for f, s, z, r in zip(feature_sizes, strides, sizes, aspect_ratios)])


def _weights(weights):
    if not isinstance(weights, (tuple, list)) or len(weights) != 4:
        raise TypeError(f"weights must be a tuple of 4 numbers (wx, wy, ww, wh), got {weights!r}")
    return [check_number(w, f"weights[{i}]", minimum=0, strict_minimum=True) for i, w in enumerate(weights)]


def encode_boxes(reference, proposals, weights=(1.0, 1.0, 1.0, 1.0)):
    """Offsets that turn each proposal (anchor) into its reference (ground-truth) box.

    .. math::
        t_x = w_x \\frac{x - x_a}{w_a},\\quad t_y = w_y \\frac{y - y_a}{h_a},\\quad
        t_w = w_w \\log\\frac{w}{w_a},\\quad t_h = w_h \\log\\frac{h}{h_a}

    with ``(x, y, w, h)`` centre and size of the reference box and
    ``(x_a, y_a, w_a, h_a)`` those of the proposal: what a detector's
    regression head learns (torchvision ``BoxCoder.encode_single``).

    Parameters
    ----------
    reference : (N, 4) array or tensor
        Target corner boxes (positive widths and heights).
    proposals : (N, 4) array or tensor
        Anchors or proposals, one per reference box.
    weights : tuple of 4 floats
        Scale of each offset (Faster R-CNN's second stage uses (10, 10, 5, 5)).

    Returns
    -------
    (N, 4) array or tensor
        ``(t_x, t_y, t_w, t_h)`` per row.
    """
    g, numpy_g = _boxes(reference, "reference")
    p, numpy_p = _boxes(proposals, "proposals")
    if g.shape != p.shape:
        raise ValueError(f"proposals must have the shape of reference {tuple(g.shape)}, got {tuple(p.shape)}")
    wx, wy, ww, wh = _weights(weights)
    p = p.to(g.dtype)
    pw, ph = p[:, 2] - p[:, 0], p[:, 3] - p[:, 1]
    px, py = p[:, 0] + 0.5 * pw, p[:, 1] + 0.5 * ph
    gw, gh = g[:, 2] - g[:, 0], g[:, 3] - g[:, 1]
    gx, gy = g[:, 0] + 0.5 * gw, g[:, 1] + 0.5 * gh
    deltas = torch.stack(
        (wx * (gx - px) / pw, wy * (gy - py) / ph, ww * torch.log(gw / pw), wh * torch.log(gh / ph)), dim=1
    )
    return _out(deltas, numpy_g and numpy_p)


def decode_boxes(deltas, proposals, weights=(1.0, 1.0, 1.0, 1.0), clip=DEFAULT_XFORM_CLIP):
    """Apply offsets to proposals: the inverse of :func:`encode_boxes`.

    Parameters
    ----------
    deltas : (N, 4) array or tensor
        ``(t_x, t_y, t_w, t_h)`` per proposal.
    proposals : (N, 4) array or tensor
        Anchors or proposals, corner format.
    weights : tuple of 4 floats
        As given to :func:`encode_boxes`.
    clip : float
        Upper bound on ``t_w / w_w`` and ``t_h / w_h`` before ``exp``, so a
        wild prediction cannot overflow (torchvision: ``log(1000 / 16)``).

    Returns
    -------
    (N, 4) array or tensor
        Decoded corner boxes.
    """
    d, numpy_d = _to_tensor(deltas, "deltas", ndim=2, last=4)
    p, numpy_p = _boxes(proposals, "proposals")
    if d.shape != p.shape:
        raise ValueError(f"deltas must have the shape of proposals {tuple(p.shape)}, got {tuple(d.shape)}")
    wx, wy, ww, wh = _weights(weights)
    clip = check_number(clip, "clip")
    p = p.to(d.dtype)
    pw, ph = p[:, 2] - p[:, 0], p[:, 3] - p[:, 1]
    px, py = p[:, 0] + 0.5 * pw, p[:, 1] + 0.5 * ph
    dx, dy = d[:, 0] / wx, d[:, 1] / wy
    dw, dh = (d[:, 2] / ww).clamp(max=clip), (d[:, 3] / wh).clamp(max=clip)
    cx, cy = dx * pw + px, dy * ph + py
    half_w, half_h = 0.5 * torch.exp(dw) * pw, 0.5 * torch.exp(dh) * ph
    return _out(torch.stack((cx - half_w, cy - half_h, cx + half_w, cy + half_h), dim=1), numpy_d and numpy_p)


def match_anchors(iou_matrix, high=0.7, low=0.3, allow_low_quality=True):
    """Assign each anchor to a ground-truth box, or to background, by IoU.

    torchvision's ``Matcher`` rule: an anchor takes the object it overlaps
    most; it is background (:data:`BELOW_LOW_THRESHOLD`, -1) when that
    IoU is below ``low`` and ignored (:data:`BETWEEN_THRESHOLDS`, -2) when
    it is in ``[low, high)``. With ``allow_low_quality``, the anchor(s) that
    overlap an object most are rescued from background or ignore, however
    little they overlap it, and are matched to *the object they overlap
    most* (their own row maximum), as in ``Matcher``. So when two objects
    share their best anchor, it goes to one of them, and the other can be
    left without any anchor (notebook 19 shows such a case); SSD's matcher,
    which forces each object's best anchor to that object, is not this one.

    Parameters
    ----------
    iou_matrix : (M, N) array or tensor
        IoU of M ground-truth boxes (rows) with N anchors (columns).
    high, low : float
        Thresholds, ``low <= high``.
    allow_low_quality : bool

    Returns
    -------
    (N,) int64 array or tensor
        Index of the matched object for each anchor, or -1 / -2.
        With no object at all (M = 0) every anchor is background
        (torchvision raises an error there instead).
    """
    q, was_numpy = _to_tensor(iou_matrix, "iou_matrix", ndim=2)
    high = check_number(high, "high")
    low = check_number(low, "low")
    if low > high:
        raise ValueError(f"low must be <= high, got low={low} and high={high}")
    if not isinstance(allow_low_quality, (bool, np.bool_)):
        raise TypeError(f"allow_low_quality must be True or False, got {allow_low_quality!r}")
    return _out(_match(q.detach(), high, low, allow_low_quality), was_numpy)


def _match(q, high, low, allow_low_quality):
    """:func:`match_anchors` on a checked IoU tensor, also for a padded batch.

    ``q`` is (M, N), or (B, M, N) for B images whose missing objects are rows
    of -1 (an IoU is never negative, so such a row is nobody's best and
    rescues no anchor). The detectors' training loops call this.
    """
    m, n = q.shape[-2], q.shape[-1]
    if m == 0:
        return torch.full((*q.shape[:-2], n), BELOW_LOW_THRESHOLD, dtype=torch.int64, device=q.device)
    if n == 0:
        return torch.zeros((*q.shape[:-2], 0), dtype=torch.int64, device=q.device)
    best_iou, matches = q.max(dim=-2)
    best_object = matches.clone()
    matches[best_iou < low] = BELOW_LOW_THRESHOLD
    matches[(best_iou >= low) & (best_iou < high)] = BETWEEN_THRESHOLDS
    if allow_low_quality:
        best_per_object = q.max(dim=-1, keepdim=True).values
        rescued = ((q == best_per_object) & (best_per_object >= 0)).any(dim=-2)
        matches[rescued] = best_object[rescued]
    return matches
