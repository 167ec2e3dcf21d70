"""Box geometry: formats, areas, IoU and generalized IoU.

Every function accepts NumPy arrays or torch tensors and returns the same
kind it was given (a tensor keeps its gradient, so IoU and GIoU can serve as
losses).  Boxes are rows of four numbers; unless a function says otherwise
they are corners ``(x1, y1, x2, y2)`` with ``x1 <= x2`` and ``y1 <= y2``, in
pixels, x to the right and y down.  Each function equals its
``torchvision.ops`` counterpart (``tests/detection/test_boxes.py``).

Notebook 17 (formats, IoU, GIoU).
"""

from __future__ import annotations

import numpy as np
import torch

from .._checks import check_choice

__all__ = [
    "BOX_FORMATS",
    "box_convert",
    "box_area",
    "box_iou",
    "generalized_box_iou",
]


#: Box formats understood by :func:`box_convert`: corners, corner + size, centre + size.
BOX_FORMATS = ("xyxy", "xywh", "cxcywh")


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
