"""Train / test splits that share no source image, and the MNIST tensors every training notebook uses.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_array, check_choice, check_int, check_number
from .files import _read_mnist_arrays, load_mnist_subset

__all__ = [
    "stratified_split",
    "mnist_split",
    "mnist_tensors",
]


def stratified_split(labels, test_fraction=0.2, seed=0):
    """Split sample indices into disjoint train and test sets that keep the class proportions.

    A thin, validated wrapper of scikit-learn's ``train_test_split`` with
    ``stratify=labels`` (splitting is not what the course teaches).

    Parameters
    ----------
    labels : array_like of int
        1-D array with the class of each sample.
    test_fraction : float
        Share of the samples put in the test set, strictly between 0 and 1.
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
    from sklearn.model_selection import train_test_split

    labels = check_array(labels, "labels", ndim=1, dtype_kinds="biu")
    test_fraction = check_number(test_fraction, "test_fraction", minimum=0, maximum=1)
    seed = check_int(seed, "seed", minimum=0)
    for label, size in zip(*np.unique(labels, return_counts=True)):
        n_test = int(round(test_fraction * size))
        if not 0 < n_test < size:
            raise ValueError(
                f"test_fraction={test_fraction} puts {n_test} of the {size} samples "
                f"of class {label} in the test set; choose a value that leaves at least "
                "one sample of every class on each side"
            )
    train, test = train_test_split(np.arange(labels.size), test_size=test_fraction, stratify=labels,
                                   random_state=seed)
    return np.sort(train).astype(np.int64), np.sort(test).astype(np.int64)


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
