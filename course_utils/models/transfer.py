"""Transfer learning (notebook 16): the shipped source network and the regimes that reuse it.

:func:`load_source_model` (a :class:`~course_utils.models.SmallVGG` trained on
digits 0-4, weights checked by :func:`course_utils.data.load_source_weights`),
:func:`transfer_model` for each of :data:`TRANSFER_REGIMES`,
:func:`extract_features` and :func:`nearest_class_mean`.
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_choice, check_int, check_module
from ..data.files import load_source_weights
from ..train import eval_mode, freeze
from .small import SmallVGG

__all__ = [
    "TRANSFER_REGIMES",
    "load_source_model",
    "transfer_model",
    "extract_features",
    "nearest_class_mean",
]


#: The regimes of notebook 16, from "change nothing" to "learn everything".
TRANSFER_REGIMES = ("as is", "train fc", "train block3 + fc", "train all", "from scratch")


def load_source_model():
    """The source network of notebook 16, with its trained weights.

    A :class:`SmallVGG` with 5 outputs trained on the MNIST subset's training
    digits 0-4 by ``scripts/train_source_model.py``; the weights come from
    :func:`course_utils.data.load_source_weights`, which checks their SHA-256.
    Inputs must be scaled like its training data: ``(pixels / 255 - 0.13) / 0.31``.
    """

    model = SmallVGG(n_classes=5)
    model.load_state_dict({name: torch.from_numpy(array) for name, array in load_source_weights().items()})
    return model.eval()


def transfer_model(regime, n_classes):
    """A network ready for one transfer-learning regime.

    Parameters
    ----------
    regime : str
        One of :data:`TRANSFER_REGIMES`:

        - ``"as is"``: the source network, all of it frozen (its features
          are used without any training, e.g. with :func:`nearest_class_mean`);
        - ``"train fc"``: source blocks frozen, a new FC layer to train;
        - ``"train block3 + fc"``: ``block1`` and ``block2`` frozen, the last
          convolution block and a new FC layer train;
        - ``"train all"``: source weights as the starting point, everything trains;
        - ``"from scratch"``: a freshly initialized :class:`SmallVGG`.
    n_classes : int
        Number of classes of the target task (size of the new FC layer).

    Returns
    -------
    torch.nn.Module
        Frozen parameters have ``requires_grad = False`` (via
        :func:`course_utils.train.freeze`); build the optimizer over the others.
    """

    check_choice(regime, "regime", TRANSFER_REGIMES)
    n_classes = check_int(n_classes, "n_classes", minimum=1)
    if regime == "from scratch":
        return SmallVGG(n_classes=n_classes)
    model = load_source_model().train()
    model.fc = nn.Linear(model.fc.in_features, n_classes)
    frozen_up_to = {"as is": None, "train fc": "pool", "train block3 + fc": "block2"}
    if regime in frozen_up_to:
        freeze(model, up_to=frozen_up_to[regime])
    return model


def extract_features(model, x, batch_size=256):
    """Outputs of every top-level child of ``model`` but the last (``fc``): its features.

    Runs in eval mode without gradients. For :class:`SmallVGG`, the
    global-average-pooled output of ``block3``: one 64-D vector per image.
    """
    check_module(model)
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch tensor, got {type(x).__name__}")
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    body = nn.Sequential(*list(model.children())[:-1])
    with eval_mode(model):
        return torch.cat([body(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


def nearest_class_mean(train_features, train_labels, test_features):
    """Classify by the nearest class mean (Euclidean): a classifier with nothing to train.

    Parameters
    ----------
    train_features : (N, D) tensor
    train_labels : (N,) tensor of int
    test_features : (M, D) tensor

    Returns
    -------
    (M,) tensor of int
        For each test vector, the label whose training mean is closest.
    """
    for name, value, ndim in [("train_features", train_features, 2), ("train_labels", train_labels, 1),
                              ("test_features", test_features, 2)]:
        if not isinstance(value, torch.Tensor) or value.ndim != ndim:
            raise TypeError(f"{name} must be a {ndim}-D torch tensor, got {type(value).__name__}"
                            + (f" of shape {tuple(value.shape)}" if isinstance(value, torch.Tensor) else ""))
    if len(train_features) != len(train_labels):
        raise ValueError(f"train_features and train_labels must have the same length, got "
                         f"{len(train_features)} and {len(train_labels)}")
    if train_features.shape[1] != test_features.shape[1]:
        raise ValueError(f"test_features must have {train_features.shape[1]} columns like train_features, "
                         f"got {test_features.shape[1]}")
    classes = torch.unique(train_labels)
    means = torch.stack([train_features[train_labels == c].mean(0) for c in classes])
    return classes[torch.cdist(test_features.double(), means.double()).argmin(1)]
