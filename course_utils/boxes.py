"""Bounding boxes: formats, areas, IoU, non-maximum suppression and anchors.

Every function accepts NumPy arrays or torch tensors and returns the same
kind it was given (a tensor keeps its gradient, so IoU and GIoU can serve as
losses).  Boxes are rows of four numbers; unless a function says otherwise
they are corners ``(x1, y1, x2, y2)`` with ``x1 <= x2`` and ``y1 <= y2``, in
pixels, x to the right and y down.  Each function is checked against its
``torchvision`` counterpart in ``tests/test_boxes.py``.

Notebooks: 17 (formats, IoU, GIoU), 19 (NMS, soft-NMS, anchors, matching,
box encoding).
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from ._checks import check_choice, check_number

__all__ = [
    "BOX_FORMATS",
    "box_convert",
    "box_area",
    "box_iou",
    "generalized_box_iou",
    "greedy_nms",
    "nms",
    "batched_nms",
    "soft_nms",
    "make_anchors",
    "encode_boxes",
    "decode_boxes",
    "match_anchors",
    "BELOW_LOW_THRESHOLD",
    "BETWEEN_THRESHOLDS",
    "smooth_l1",
    "LocalizationLoss",
    "sliding_windows",
]

#: Box formats understood by :func:`box_convert`: corners, corner + size, centre + size.
BOX_FORMATS = ("xyxy", "xywh", "cxcywh")

#: Labels :func:`match_anchors` gives to anchors that are background / ignored.
BELOW_LOW_THRESHOLD = -1
BETWEEN_THRESHOLDS = -2

#: torchvision's clip of the log-size offsets before ``exp`` in decoding.
DEFAULT_XFORM_CLIP = math.log(1000.0 / 16)


# --------------------------------------------------------------------------
# Input handling: NumPy in -> NumPy out, tensor in -> tensor out
# --------------------------------------------------------------------------


def _to_tensor(value, name, *, last=None, ndim=None):
    """Return ``(tensor, was_numpy)`` after checking type, dtype, shape and finiteness."""
    if isinstance(value, torch.Tensor):
        tensor, was_numpy = value, False
    else:
        if isinstance(value, (str, bytes)) or value is None:
            raise TypeError(f"{name} must be a NumPy array or a torch tensor, got {type(value).__name__} {value!r}")
        try:
            array = np.asarray(value)
        except Exception as exc:
            raise TypeError(f"{name} must be array-like, got {type(value).__name__}") from exc
        if array.dtype.kind not in "biuf":
            raise TypeError(f"{name} must have a numeric dtype, got dtype {array.dtype}")
        if array.dtype.kind in "biu":
            array = array.astype(np.float64)
        tensor, was_numpy = torch.from_numpy(np.ascontiguousarray(array)), True
    if tensor.dtype == torch.bool or tensor.is_complex():
        raise TypeError(f"{name} must hold real numbers, got dtype {tensor.dtype}")
    if ndim is not None and tensor.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {tuple(tensor.shape)}")
    if last is not None and (tensor.ndim == 0 or tensor.shape[-1] != last):
        raise ValueError(f"{name} must have shape (N, {last}), got shape {tuple(tensor.shape)}")
    if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"{name} must contain only finite values (no NaN or inf)")
    return tensor, was_numpy


def _boxes(value, name, fmt="xyxy"):
    """Check an (N, 4) box array; for corners also x1 <= x2 and y1 <= y2."""
    tensor, was_numpy = _to_tensor(value, name, ndim=2, last=4)
    if not tensor.is_floating_point():
        tensor = tensor.to(torch.float32)
    if fmt == "xyxy" and tensor.numel():
        bad = (tensor[:, 2] < tensor[:, 0]) | (tensor[:, 3] < tensor[:, 1])
        if bool(bad.any()):
            row = int(torch.nonzero(bad)[0])
            raise ValueError(
                f"{name} must be (x1, y1, x2, y2) with x2 >= x1 and y2 >= y1; "
                f"row {row} is {tensor[row].tolist()}"
            )
    elif fmt != "xyxy" and tensor.numel() and bool((tensor[:, 2:] < 0).any()):
        raise ValueError(f"{name} must have non-negative widths and heights (format {fmt!r})")
    return tensor, was_numpy


def _scores(value, name, n):
    tensor, was_numpy = _to_tensor(value, name, ndim=1)
    if tensor.shape[0] != n:
        raise ValueError(f"{name} must have one value per box ({n}), got shape {tuple(tensor.shape)}")
    return tensor, was_numpy


def _out(tensor, was_numpy):
    return tensor.detach().cpu().numpy() if was_numpy else tensor


# --------------------------------------------------------------------------
# Formats, areas, IoU
# --------------------------------------------------------------------------


def box_convert(boxes, in_fmt, out_fmt):
    """Convert boxes between corner, corner-size and centre-size formats.

    Parameters
    ----------
    boxes : (N, 4) array or tensor
        Boxes in ``in_fmt``.
    in_fmt, out_fmt : {"xyxy", "xywh", "cxcywh"}
        ``xyxy``: corners (x1, y1, x2, y2); ``xywh``: top-left corner,
        width and height (COCO's format); ``cxcywh``: centre, width and
        height (YOLO's and DETR's format).

    Returns
    -------
    (N, 4) array or tensor
        The same boxes in ``out_fmt``.
    """
    in_fmt = check_choice(in_fmt, "in_fmt", BOX_FORMATS)
    out_fmt = check_choice(out_fmt, "out_fmt", BOX_FORMATS)
    b, was_numpy = _boxes(boxes, "boxes", in_fmt)
    a0, a1, a2, a3 = b.unbind(-1)
    # Every conversion goes through corners, as torchvision does.
    if in_fmt == "xywh":
        a2, a3 = a0 + a2, a1 + a3
    elif in_fmt == "cxcywh":
        a0, a1, a2, a3 = a0 - 0.5 * a2, a1 - 0.5 * a3, a0 + 0.5 * a2, a1 + 0.5 * a3
    if out_fmt == "xywh":
        a2, a3 = a2 - a0, a3 - a1
    elif out_fmt == "cxcywh":
        a0, a1, a2, a3 = (a0 + a2) / 2, (a1 + a3) / 2, a2 - a0, a3 - a1
    return _out(torch.stack((a0, a1, a2, a3), dim=-1), was_numpy)


def box_area(boxes):
    """Area ``(x2 - x1) * (y2 - y1)`` of each corner box.

    Parameters
    ----------
    boxes : (N, 4) array or tensor
        Boxes ``(x1, y1, x2, y2)``.

    Returns
    -------
    (N,) array or tensor
    """
    b, was_numpy = _boxes(boxes, "boxes")
    return _out((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]), was_numpy)


def _inter_union(a, b):
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    top_left = torch.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = (bottom_right - top_left).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    union = area_a[:, None] + area_b[None, :] - inter
    return inter, union


def _pair(a, b):
    a, numpy_a = _boxes(a, "a")
    b, numpy_b = _boxes(b, "b")
    dtype = torch.promote_types(a.dtype, b.dtype)
    return a.to(dtype), b.to(dtype), numpy_a and numpy_b


def box_iou(a, b):
    """Intersection over union of every box of ``a`` with every box of ``b``.

    .. math:: \\mathrm{IoU}(A, B) = \\frac{|A \\cap B|}{|A \\cup B|}

    Parameters
    ----------
    a : (N, 4) array or tensor
    b : (M, 4) array or tensor
        Corner boxes ``(x1, y1, x2, y2)``.

    Returns
    -------
    (N, M) array or tensor
        IoU in [0, 1]. Two zero-area boxes give 0/0 = NaN, as in torchvision.
    """
    a, b, was_numpy = _pair(a, b)
    inter, union = _inter_union(a, b)
    return _out(inter / union, was_numpy)


def generalized_box_iou(a, b):
    """Generalized IoU (Rezatofighi et al., 2019) of every pair of boxes.

    .. math:: \\mathrm{GIoU} = \\mathrm{IoU} - \\frac{|C \\setminus (A \\cup B)|}{|C|}

    where C is the smallest box enclosing A and B. It lies in (-1, 1] and,
    unlike IoU, still says how far apart two boxes that do not overlap are,
    which gives a loss ``1 - GIoU`` a gradient there.

    Parameters
    ----------
    a : (N, 4) array or tensor
    b : (M, 4) array or tensor
        Corner boxes ``(x1, y1, x2, y2)``.

    Returns
    -------
    (N, M) array or tensor
    """
    a, b, was_numpy = _pair(a, b)
    inter, union = _inter_union(a, b)
    iou = inter / union
    top_left = torch.minimum(a[:, None, :2], b[None, :, :2])
    bottom_right = torch.maximum(a[:, None, 2:], b[None, :, 2:])
    wh = (bottom_right - top_left).clamp(min=0)
    enclosing = wh[..., 0] * wh[..., 1]
    return _out(iou - (enclosing - union) / enclosing, was_numpy)


# --------------------------------------------------------------------------
# Non-maximum suppression
# --------------------------------------------------------------------------


def _check_threshold(value, name):
    return check_number(value, name, minimum=0.0, maximum=1.0)


def greedy_nms(boxes, scores, iou_threshold=0.5, score_threshold=None):
    """Greedy non-maximum suppression, written as it is taught.

    Drop boxes scoring under ``score_threshold`` (when given); then repeat:
    keep the best remaining box, discard every remaining box whose IoU with
    it is above ``iou_threshold``, until no box remains. Ties in score go
    to the lower index, as in ``torchvision.ops.nms``.

    The loop runs once per *kept* box, so it is slow when thousands of boxes
    survive; :func:`nms` gives the same answer faster.

    Parameters
    ----------
    boxes : (N, 4) array or tensor
        Corner boxes ``(x1, y1, x2, y2)``.
    scores : (N,) array or tensor
        Confidence of each box.
    iou_threshold : float
        Boxes overlapping a kept box by IoU > this are discarded.
    score_threshold : float, optional
        Boxes with a score below this are dropped first.

    Returns
    -------
    (K,) int64 array or tensor
        Indices of the kept boxes, best score first.
    """
    b, order, was_numpy, iou_threshold = _nms_inputs(boxes, scores, iou_threshold, score_threshold)
    x1, y1, x2, y2 = b[order].T
    area = (x2 - x1) * (y2 - y1)
    alive = np.arange(order.size)  # positions in `order` still in the race
    keep = []
    while alive.size > 0:
        i, rest = alive[0], alive[1:]  # the best remaining box, and the others
        keep.append(i)
        w = np.maximum(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), 0)
        h = np.maximum(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), 0)
        inter = w * h
        with np.errstate(invalid="ignore"):
            iou = inter / (area[i] + area[rest] - inter)
        alive = rest[~(iou > iou_threshold)]  # a NaN IoU (two empty boxes) suppresses nothing
    return _index_out(order[np.array(keep, dtype=np.int64)], was_numpy)


def _nms_inputs(boxes, scores, iou_threshold, score_threshold):
    """Checked inputs of the NMS functions: NumPy boxes, score order, threshold."""
    b, was_numpy = _boxes(boxes, "boxes")
    s, _ = _scores(scores, "scores", b.shape[0])
    # float64 threshold: a float32 IoU is compared in double, as in torchvision's C++ kernel
    iou_threshold = np.float64(_check_threshold(iou_threshold, "iou_threshold"))
    b, s = b.detach().cpu().numpy(), s.detach().cpu().numpy()
    order = np.argsort(-s, kind="stable")  # best first, ties by index
    if score_threshold is not None:
        score_threshold = check_number(score_threshold, "score_threshold")
        order = order[s[order] >= score_threshold]
    return b, order.astype(np.int64), was_numpy, iou_threshold


def _index_out(indices, was_numpy):
    return indices if was_numpy else torch.from_numpy(indices)


def _overlaps(a, area_a, b, area_b, iou_threshold):
    """Boolean (len(a), len(b)) matrix: IoU > threshold, computed as torchvision's kernel does."""
    w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.maximum(w, 0) * np.maximum(h, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return inter / (area_a[:, None] + area_b[None, :] - inter) > iou_threshold


def nms(boxes, scores, iou_threshold=0.5, score_threshold=None, block=256):
    """Greedy non-maximum suppression, vectorized by blocks of boxes.

    Same result as :func:`greedy_nms` (and ``torchvision.ops.nms``), with
    far fewer Python steps. Boxes are taken in score order, ``block`` at a
    time:

    1. drop the block's boxes that overlap (IoU > threshold) a box already
       kept from earlier blocks: one (kept x block) IoU matrix;
    2. within the block, box j survives if no *surviving* earlier box of the
       block overlaps it. Starting from "all survive", re-evaluate that rule
       for every box at once until nothing changes; after t rounds the first
       t boxes are certainly right, and the rule has a single solution, so
       the fixed point is exactly the greedy answer (usually after a few
       rounds).

    Parameters
    ----------
    boxes : (N, 4) array or tensor
        Corner boxes ``(x1, y1, x2, y2)``.
    scores : (N,) array or tensor
    iou_threshold : float
    score_threshold : float, optional
    block : int
        Boxes handled together (memory grows as block x kept).

    Returns
    -------
    (K,) int64 array or tensor
        Indices of the kept boxes, best score first.
    """
    from ._checks import check_int

    block = check_int(block, "block", minimum=1)
    b, order, was_numpy, iou_threshold = _nms_inputs(boxes, scores, iou_threshold, score_threshold)
    b = b[order]
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    kept = [np.zeros(0, dtype=np.int64)]  # positions in `order`, block by block
    kept_boxes, kept_area = b[:0], area[:0]
    for start in range(0, b.shape[0], block):
        cand = np.arange(start, min(start + block, b.shape[0]))
        if kept_boxes.shape[0]:  # 1. suppressed by a box kept earlier?
            cand = cand[~_overlaps(kept_boxes, kept_area, b[cand], area[cand], iou_threshold).any(axis=0)]
        # 2. within the block: overlap[i, j] for earlier i only
        overlap = np.triu(_overlaps(b[cand], area[cand], b[cand], area[cand], iou_threshold), k=1)
        overlap = overlap.astype(np.float32)
        survive = np.ones(cand.size, dtype=bool)
        while True:
            new = (survive.astype(np.float32) @ overlap) == 0  # no surviving earlier box overlaps
            if np.array_equal(new, survive):
                break
            survive = new
        kept.append(cand[survive])
        kept_boxes = np.concatenate([kept_boxes, b[cand[survive]]])
        kept_area = np.concatenate([kept_area, area[cand[survive]]])
    return _index_out(order[np.concatenate(kept)], was_numpy)


def batched_nms(boxes, scores, classes, iou_threshold=0.5):
    """Class-aware NMS: boxes of different classes never suppress each other.

    Runs :func:`nms` class by class and merges the kept boxes by score
    (ties: lower index first), which is what ``torchvision.ops.batched_nms``
    returns. (Above 1,000 boxes torchvision takes another path on CPU, whose
    order among boxes of *equal* score is unspecified; the kept boxes and
    their scores in order are still the same.)

    Parameters
    ----------
    boxes : (N, 4) array or tensor
        Corner boxes.
    scores : (N,) array or tensor
    classes : (N,) integer array or tensor
        Class (or image) index of each box.
    iou_threshold : float

    Returns
    -------
    (K,) int64 array or tensor
        Indices of the kept boxes, best score first.
    """
    b, was_numpy = _boxes(boxes, "boxes")
    s, _ = _scores(scores, "scores", b.shape[0])
    c, _ = _scores(classes, "classes", b.shape[0])
    if c.is_floating_point() and bool((c != c.round()).any()):
        raise TypeError("classes must hold integers (one class index per box)")
    iou_threshold = _check_threshold(iou_threshold, "iou_threshold")
    b, s, c = b.detach().numpy(), s.detach().numpy(), c.detach().numpy()
    keep = [np.zeros(0, dtype=np.int64)]
    for k in np.unique(c):
        members = np.flatnonzero(c == k)
        keep.append(members[nms(b[members], s[members], iou_threshold)])
    keep = np.sort(np.concatenate(keep))  # index order, so that a stable sort breaks score ties by index
    keep = keep[np.argsort(-s[keep], kind="stable")]
    return _index_out(keep.astype(np.int64), was_numpy)


def soft_nms(boxes, scores, sigma=0.5, iou_threshold=0.3, score_threshold=0.001, method="gaussian"):
    """Soft-NMS (Bodla et al., 2017): lower the scores of overlapping boxes instead of deleting them.

    Repeat: pick the box with the highest current score, keep it, and
    multiply the score of every remaining box by a weight that shrinks with
    its IoU to the picked box:

    * ``"linear"``: ``1 - IoU`` when IoU > ``iou_threshold``, else 1;
    * ``"gaussian"``: ``exp(-IoU**2 / sigma)`` (``iou_threshold`` unused);
    * ``"hard"``: 0 when IoU > ``iou_threshold``, else 1 (plain greedy NMS).

    Boxes whose score falls below ``score_threshold`` are dropped.

    Parameters
    ----------
    boxes : (N, 4) array or tensor
    scores : (N,) array or tensor
    sigma : float
        Width of the Gaussian penalty (> 0).
    iou_threshold : float
        Overlap above which the linear and hard rules act.
    score_threshold : float
        Final scores below this are discarded.
    method : {"gaussian", "linear", "hard"}

    Returns
    -------
    keep : (K,) int64 array or tensor
        Indices of the surviving boxes, in the order they were picked.
    new_scores : (K,) array or tensor
        Their decayed scores (non-increasing).
    """
    b, was_numpy = _boxes(boxes, "boxes")
    s, _ = _scores(scores, "scores", b.shape[0])
    sigma = check_number(sigma, "sigma", minimum=0, strict_minimum=True)
    iou_threshold = _check_threshold(iou_threshold, "iou_threshold")
    score_threshold = check_number(score_threshold, "score_threshold")
    method = check_choice(method, "method", ("gaussian", "linear", "hard"))
    b, current = b.detach(), s.detach().clone().to(b.dtype)
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    alive = torch.nonzero(current >= score_threshold).flatten()
    keep, kept_scores = [], []
    while alive.numel() > 0:
        best = alive[torch.argmax(current[alive])]  # first of equal maxima: lower index
        keep.append(best)
        kept_scores.append(current[best])
        alive = alive[alive != best]
        x1 = torch.maximum(b[best, 0], b[alive, 0])
        y1 = torch.maximum(b[best, 1], b[alive, 1])
        x2 = torch.minimum(b[best, 2], b[alive, 2])
        y2 = torch.minimum(b[best, 3], b[alive, 3])
        inter = (x2 - x1).clamp(min=0) * (y2 - y1).clamp(min=0)
        iou = torch.nan_to_num(inter / (area[best] + area[alive] - inter), nan=0.0)
        if method == "gaussian":
            weight = torch.exp(-iou**2 / sigma)
        elif method == "linear":
            weight = torch.where(iou > iou_threshold, 1 - iou, torch.ones_like(iou))
        else:
            weight = (iou <= iou_threshold).to(iou.dtype)
        current[alive] = current[alive] * weight
        alive = alive[current[alive] >= score_threshold]
    if keep:
        keep, kept_scores = torch.stack(keep), torch.stack(kept_scores)
    else:
        keep, kept_scores = torch.zeros(0, dtype=torch.int64), current[:0]
    return _out(keep, was_numpy), _out(kept_scores, was_numpy)


# --------------------------------------------------------------------------
# Anchors, box encoding, matching
# --------------------------------------------------------------------------


def _positive_list(values, name):
    if isinstance(values, numbers.Real) and not isinstance(values, bool):
        values = [values]
    if not isinstance(values, (list, tuple, np.ndarray)) or len(values) == 0:
        raise TypeError(f"{name} must be a number or a non-empty list of numbers, got {values!r}")
    return [check_number(v, f"{name}[{i}]", minimum=0, strict_minimum=True) for i, v in enumerate(values)]


def make_anchors(feature_size, stride, sizes=(32,), aspect_ratios=(0.5, 1.0, 2.0)):
    """Anchor boxes tiled over a feature map, as torchvision's ``AnchorGenerator``.

    Each cell ``(i, j)`` of an ``H x W`` feature map stands for the image
    point ``(j * stride, i * stride)``; around it sit ``len(aspect_ratios)
    * len(sizes)`` boxes of area ``size**2`` and shape ``height / width =
    aspect_ratio``, coordinates rounded to whole pixels.

    Parameters
    ----------
    feature_size : int or (H, W)
        Size of the feature map.
    stride : int or (stride_y, stride_x)
        Image pixels per feature-map cell.
    sizes : sequence of float
        Square roots of the anchor areas, in pixels.
    aspect_ratios : sequence of float
        Height / width ratios.

    Returns
    -------
    (H * W * A, 4) float32 tensor
        Corner boxes; for each cell in row-major order, the ``A`` anchors
        with the aspect ratio varying slowest.
    """
    from ._checks import check_pair

    height, width = check_pair(feature_size, "feature_size")
    stride_y, stride_x = check_pair(stride, "stride")
    scales = torch.as_tensor(_positive_list(sizes, "sizes"), dtype=torch.float32)
    ratios = torch.as_tensor(_positive_list(aspect_ratios, "aspect_ratios"), dtype=torch.float32)
    h_ratios = torch.sqrt(ratios)
    w_ratios = 1 / h_ratios
    ws = (w_ratios[:, None] * scales[None, :]).reshape(-1)
    hs = (h_ratios[:, None] * scales[None, :]).reshape(-1)
    base = (torch.stack([-ws, -hs, ws, hs], dim=1) / 2).round()  # centred at 0
    shift_x = torch.arange(width, dtype=torch.int32).to(torch.float32) * stride_x
    shift_y = torch.arange(height, dtype=torch.int32).to(torch.float32) * stride_y
    yy, xx = torch.meshgrid(shift_y, shift_x, indexing="ij")
    xx, yy = xx.reshape(-1), yy.reshape(-1)
    shifts = torch.stack((xx, yy, xx, yy), dim=1)
    return (shifts[:, None, :] + base[None, :, :]).reshape(-1, 4)


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
    it is in ``[low, high)``. With ``allow_low_quality``, every object also
    keeps the anchor(s) that overlap it most, however little, so that no
    object is left without an anchor.

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
    q = q.detach()
    if q.shape[0] == 0:
        return _out(torch.full((q.shape[1],), BELOW_LOW_THRESHOLD, dtype=torch.int64), was_numpy)
    if q.shape[1] == 0:
        return _out(torch.zeros(0, dtype=torch.int64), was_numpy)
    best_iou, matches = q.max(dim=0)
    best_object = matches.clone()
    matches[best_iou < low] = BELOW_LOW_THRESHOLD
    matches[(best_iou >= low) & (best_iou < high)] = BETWEEN_THRESHOLDS
    if allow_low_quality:
        best_per_object = q.max(dim=1).values
        anchors = torch.nonzero(q == best_per_object[:, None])[:, 1]
        matches[anchors] = best_object[anchors]
    return _out(matches, was_numpy)


# --------------------------------------------------------------------------
# Losses for box regression (notebook 17)
# --------------------------------------------------------------------------


def smooth_l1(input, target, beta=1.0, reduction="mean"):
    """Smooth L1 (Huber-like) loss: quadratic near zero, linear far away.

    .. math::
        \\ell(d) = \\begin{cases} 0.5\\, d^2 / \\beta & |d| < \\beta \\\\
                               |d| - 0.5\\, \\beta & \\text{otherwise} \\end{cases}

    with ``d = input - target``. It has L2's smooth minimum and L1's
    bounded gradient for outliers (Fast R-CNN's box loss);
    ``torch.nn.functional.smooth_l1_loss`` computes the same.

    Parameters
    ----------
    input, target : tensor
        Same shape.
    beta : float
        Where the quadratic part ends (> 0).
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    tensor
    """
    if not isinstance(input, torch.Tensor) or not isinstance(target, torch.Tensor):
        raise TypeError(f"input and target must be torch tensors, got {type(input).__name__} and {type(target).__name__}")
    if input.shape != target.shape:
        raise ValueError(f"target must have the shape of input {tuple(input.shape)}, got {tuple(target.shape)}")
    beta = check_number(beta, "beta", minimum=0, strict_minimum=True)
    reduction = check_choice(reduction, "reduction", ("mean", "sum", "none"))
    d = (input - target).abs()
    loss = torch.where(d < beta, 0.5 * d**2 / beta, d - 0.5 * beta)
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


class LocalizationLoss:
    """Multi-task loss of a classifier-localizer: ``CE(class) + box_weight * box_loss(box)``.

    The model outputs one (B, C + 4) tensor, the C class scores followed by
    the 4 box numbers (or a pair ``(class_logits, boxes)``), and the target
    is a (B, 5) tensor: the class, then the four box numbers (in whatever
    format and scale the model predicts).

    Parameters
    ----------
    box_weight : float
        Weight of the box term (>= 0). Its value changes the loss's scale,
        so losses with different weights cannot be compared: choose it on a
        validation *metric* (accuracy, IoU).
    box_loss : {"smooth_l1", "l1", "l2"}
    beta : float
        ``beta`` of :func:`smooth_l1`.
    """

    def __init__(self, box_weight=1.0, box_loss="smooth_l1", beta=1.0):
        self.box_weight = check_number(box_weight, "box_weight", minimum=0)
        self.box_loss = check_choice(box_loss, "box_loss", ("smooth_l1", "l1", "l2"))
        self.beta = check_number(beta, "beta", minimum=0, strict_minimum=True)

    def box_term(self, predicted, target):
        """Mean box loss over the batch's box numbers."""
        if self.box_loss == "smooth_l1":
            return smooth_l1(predicted, target, self.beta)
        d = predicted - target
        return d.abs().mean() if self.box_loss == "l1" else (d**2).mean()

    def __call__(self, outputs, target):
        logits, boxes = outputs if isinstance(outputs, (tuple, list)) else (outputs[:, :-4], outputs[:, -4:])
        labels = target[:, 0].long()
        classification = torch.nn.functional.cross_entropy(logits, labels)
        return classification + self.box_weight * self.box_term(boxes, target[:, 1:])


# --------------------------------------------------------------------------
# Sliding windows (notebook 19)
# --------------------------------------------------------------------------


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
    from ._checks import check_pair

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
