"""Sample images and small data sets that ship inside installed packages.

Photographs and textures from scikit-image (:func:`load_image`,
:func:`load_texture`, :func:`load_faces`) and the 8x8 digits of scikit-learn
(:func:`load_digits`).  Every loader returns freshly created arrays, so a
notebook that modifies what it got cannot change what the next call returns.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_choice
from .files import DataFileError

__all__ = [
    "IMAGE_NAMES",
    "TEXTURE_NAMES",
    "load_image",
    "load_texture",
    "load_faces",
    "load_digits",
]


#: scikit-image sample images that :func:`load_image` accepts. Each one is a
#: file inside the installed scikit-image package, so it loads without a
#: network connection (scikit-image downloads its other samples on demand,
#: which is why those are not listed). All are uint8, gray ``(H, W)`` or RGB
#: ``(H, W, 3)``, except ``"horse"``, a bool silhouette.
IMAGE_NAMES = (
    "astronaut",
    "brick",
    "camera",
    "cell",
    "checkerboard",
    "chelsea",
    "clock",
    "coffee",
    "coins",
    "colorwheel",
    "grass",
    "gravel",
    "horse",
    "hubble_deep_field",
    "immunohistochemistry",
    "microaneurysms",
    "moon",
    "page",
    "retina",
    "rocket",
    "text",
)

#: Gray 512x512 uint8 textures accepted by :func:`load_texture`.
TEXTURE_NAMES = ("brick", "grass", "gravel")

_N_FACES = 100  # lfw_subset: the first 100 images are faces, the next 100 are not


def _check_name(name, argument, choices):
    if not isinstance(name, str):
        raise TypeError(f"{argument} must be a string, one of {', '.join(choices)}; got {name!r}")
    return check_choice(name, argument, choices)


def _skimage_sample(name):
    """Call ``skimage.data.<name>()``, turning "would need a download" into DataFileError."""
    import skimage
    import skimage.data

    try:
        return getattr(skimage.data, name)()
    except (ImportError, OSError) as exc:
        # scikit-image gets here only when the file is not inside the
        # package and it would have to fetch it: ImportError without pooch,
        # a connection error (an OSError) with pooch but no network.
        raise DataFileError(
            f"scikit-image {skimage.__version__} does not ship the sample image {name!r} "
            "inside its package, and the course never downloads data. "
            "Reinstall the course environment (pip install -e .) or pick another image."
        ) from exc


def load_image(name):
    """Return one of scikit-image's bundled sample images.

    Parameters
    ----------
    name : str
        One of :data:`IMAGE_NAMES`, for example ``"camera"`` (gray),
        ``"astronaut"`` or ``"coffee"`` (RGB), ``"coins"``, ``"moon"``.

    Returns
    -------
    numpy.ndarray
        The image as scikit-image gives it: uint8, gray ``(H, W)`` or RGB
        ``(H, W, 3)``; ``"horse"`` is a bool ``(H, W)`` silhouette. A new
        array on every call.

    Raises
    ------
    TypeError
        If ``name`` is not a string.
    ValueError
        If ``name`` is not one of :data:`IMAGE_NAMES` (the message lists them).
    DataFileError
        If the installed scikit-image no longer ships that image.

    Examples
    --------
    >>> load_image("camera").shape
    (512, 512)
    """
    _check_name(name, "name", IMAGE_NAMES)
    return np.array(_skimage_sample(name), copy=True)


def load_texture(name):
    """Return one of scikit-image's gray texture samples.

    Parameters
    ----------
    name : {"brick", "grass", "gravel"}
        Which texture.

    Returns
    -------
    numpy.ndarray
        Gray uint8 image of shape ``(512, 512)``.

    Raises
    ------
    TypeError
        If ``name`` is not a string.
    ValueError
        If ``name`` is not one of :data:`TEXTURE_NAMES`.
    """
    _check_name(name, "name", TEXTURE_NAMES)
    return load_image(name)


def load_faces():
    """Return scikit-image's small face / non-face set (a subset of LFW).

    Returns
    -------
    images : numpy.ndarray
        float64 array of shape ``(200, 25, 25)`` with values in [0, 1].
    labels : numpy.ndarray
        int64 array of shape ``(200,)``: 1 (face) for the first 100 images,
        0 (non-face) for the last 100. The images are in that order, faces
        first, so shuffle or split by label before training.
    """
    images = np.array(_skimage_sample("lfw_subset"), dtype=np.float64, copy=True)
    labels = np.zeros(len(images), dtype=np.int64)
    labels[:_N_FACES] = 1
    return images, labels


def load_digits():
    """Return scikit-learn's 8x8 handwritten digits.

    Returns
    -------
    images : numpy.ndarray
        float64 array of shape ``(1797, 8, 8)``, grey levels 0-16.
    labels : numpy.ndarray
        Integer array of shape ``(1797,)`` with the digit (0-9) of each image.
    """
    from sklearn.datasets import load_digits as sklearn_load_digits

    bunch = sklearn_load_digits()
    return np.array(bunch.images, dtype=np.float64, copy=True), np.array(bunch.target, copy=True)
