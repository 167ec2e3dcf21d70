"""Input validation shared by every public function of ``course_utils``.

Each helper raises ``TypeError`` (wrong kind of object) or ``ValueError``
(right kind, wrong shape / range / choice) with a message that names the
argument and says what was expected, so a learner can fix the call without
reading a traceback into library internals.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "check_array",
    "check_image",
    "check_choice",
    "check_int",
    "check_number",
    "check_pair",
    "as_numpy",
    "check_module",
    "check_image_dicts",
    "check_interval",
]


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"


def check_array(value, name: str, *, ndim=None, dtype_kinds="biuf", allow_empty=False, finite=True):
    """Return ``value`` as a NumPy array after checking it.

    Parameters
    ----------
    value : array_like
        What the caller passed.
    name : str
        The argument's name, used in error messages.
    ndim : int or tuple of int, optional
        Accepted numbers of dimensions.
    dtype_kinds : str
        Accepted ``dtype.kind`` letters (``b`` bool, ``i``/``u`` integers,
        ``f`` floats).
    allow_empty : bool
        Whether an array with no elements is accepted.
    finite : bool
        Whether to reject NaN and infinite values.
    """
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be a NumPy array, got {_describe(value)}")
    try:
        array = np.asarray(value)
    except Exception as exc:  # ragged lists and similar
        raise TypeError(f"{name} must be array-like, got {_describe(value)}") from exc
    if array.dtype.kind not in dtype_kinds:
        raise TypeError(
            f"{name} must have a numeric dtype (kinds {dtype_kinds!r}), got dtype {array.dtype}"
        )
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if array.ndim not in allowed:
            wanted = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be a {wanted} array, got shape {array.shape}")
    if not allow_empty and array.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    if finite and array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must contain only finite values (no NaN or inf)")
    return array


def check_image(value, name: str = "image", *, channels=(None,), min_size=1):
    """Check a gray (H, W) or colour (H, W, C) image and return it as an array.

    ``channels`` lists the accepted layouts: ``None`` for a 2-D gray image,
    an integer C for an (H, W, C) image.
    """
    ndims = tuple(2 if c is None else 3 for c in channels)
    image = check_array(value, name, ndim=ndims)
    if image.ndim == 3 and image.shape[2] not in [c for c in channels if c is not None]:
        wanted = [c for c in channels if c is not None]
        raise ValueError(f"{name} must have {wanted} channels on its last axis, got shape {image.shape}")
    if min(image.shape[:2]) < min_size:
        raise ValueError(
            f"{name} must be at least {min_size}x{min_size} pixels, got shape {image.shape}"
        )
    return image


def check_choice(value, name: str, choices):
    """Check that ``value`` is one of ``choices`` and return it."""
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {options}; got {value!r}")
    return value


def check_int(value, name: str, *, minimum=None, maximum=None):
    """Check an integer (bools rejected) within optional bounds and return it as ``int``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {_describe(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_number(value, name: str, *, minimum=None, maximum=None, strict_minimum=False):
    """Check a real number (bools rejected) within optional bounds and return it as ``float``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {_describe(value)}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None:
        if strict_minimum and value <= minimum:
            raise ValueError(f"{name} must be > {minimum}, got {value}")
        if not strict_minimum and value < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_pair(value, name: str, *, minimum=1):
    """Check a pair of integers such as ``(8, 8)``; a single integer is repeated."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value, value)
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{name} must be an integer or a pair of integers, got {_describe(value)}")
    return tuple(check_int(v, f"{name}[{i}]", minimum=minimum) for i, v in enumerate(value))


def as_numpy(value):
    """A NumPy array from a NumPy array, a list or a torch tensor (detached, on the CPU)."""
    return value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)


def check_module(model, name="model"):
    """Return ``model`` after checking that it is a ``torch.nn.Module``."""
    from torch import nn

    if not isinstance(model, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(model).__name__}")
    return model


def check_image_dicts(items, name, keys):
    """Check a list of per-image dicts of boxes or masks (and ``keys[1:]``, e.g. scores and labels).

    Returns a list of dicts of NumPy arrays: ``keys[0]``, either ``boxes``
    (N, 4) float64 corners or ``masks`` (N, H, W) bool, and one (N,) array per
    other key (``area`` too, when present).
    """
    if not isinstance(items, (list, tuple)):
        raise TypeError(f"{name} must be a list with one dict per image, got {type(items).__name__}")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not set(keys) <= set(item):
            raise TypeError(f"{name}[{i}] must be a dict with keys {keys}, got {item!r:.80}")
        if keys[0] == "masks":
            boxes = np.asarray(as_numpy(item["masks"]))
            if boxes.ndim != 3:
                raise ValueError(f"{name}[{i}]['masks'] must be (N, H, W) binary masks, got shape {boxes.shape}")
            entry = {"masks": boxes.astype(bool)}
        else:
            boxes = np.asarray(as_numpy(item["boxes"]), dtype=np.float64)
            boxes = boxes.reshape(0, 4) if boxes.size == 0 else boxes
            boxes = check_array(boxes, f"{name}[{i}]['boxes']", ndim=2, allow_empty=True)
            if boxes.shape[1] != 4 or np.any(boxes[:, 2:] < boxes[:, :2]):
                raise ValueError(f"{name}[{i}]['boxes'] must be (N, 4) corners (x1, y1, x2, y2) with "
                                 f"x2 >= x1 and y2 >= y1, got shape {boxes.shape}")
            entry = {"boxes": boxes}
        for key in keys[1:] + tuple(k for k in ("area",) if k in item):
            value = check_array(as_numpy(item[key]), f"{name}[{i}][{key!r}]", ndim=1, allow_empty=True)
            if value.shape[0] != boxes.shape[0]:
                raise ValueError(f"{name}[{i}][{key!r}] must have one value per box ({boxes.shape[0]}), "
                                 f"got shape {value.shape}")
            entry[key] = value
        out.append(entry)
    return out


def check_interval(value, name, kind, minimum, maximum=None):
    """Return ``(low, high)`` after checking a pair of ints (``kind=int``) or numbers with low <= high."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{name} must be a pair (low, high), got {value!r}")
    check = check_int if kind is int else check_number
    low, high = (check(v, f"{name}[{i}]", minimum=minimum, maximum=maximum) for i, v in enumerate(value))
    if low > high:
        raise ValueError(f"{name} must have low <= high, got {value!r}")
    return low, high
