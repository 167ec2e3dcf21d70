"""Train the source network of notebook 16 and write ``data/source_digits_0-4.npz``.

Transfer learning needs a network trained on a *source* task. The course's
is small and made here, offline, from the course's own data:

* model: ``course_utils.models.SmallVGG(n_classes=5)`` (three blocks of one
  3x3 convolution + batch norm + ReLU + 2x2 max pooling with 16, 32 and 64
  channels, global average pooling, one FC layer);
* data: the MNIST subset's **training** digits 0-4 (``data.mnist_split()``
  with its defaults), 28 x 28, scaled to [0, 1] then standardized with
  mean 0.13 and standard deviation 0.31. The test digits and the digits
  5-9 are never seen, so notebook 16 can use them as held-out data and as a
  new task;
* training: ``course_utils.train.fit``, Adam with a one-cycle schedule
  (learning rate up to 0.005 and back down, stepped every batch), batches
  of 64, 6 epochs, seed 0, deterministic algorithms, 2 threads.

The weights (the model's ``state_dict``, batch-norm running statistics
included) are stored as a ``.npz`` archive of float32 arrays with fixed zip
metadata, so that the same code, torch version and CPU give the same bytes.
The script prints the file's SHA-256 for ``CHECKSUMS`` in
``course_utils/data/files.py``.

Usage, from the repository root (about ten seconds on a 2-core CPU)::

    python scripts/train_source_model.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from course_utils import data, models, setup_notebook  # noqa: E402
from course_utils.train import evaluate, fit, make_loader  # noqa: E402
from extract_mnist_subset import write_model_weights  # noqa: E402  (one home for reproducible weights)

SOURCE_CLASSES = (0, 1, 2, 3, 4)
MEAN, STD = 0.13, 0.31
EPOCHS, LEARNING_RATE, BATCH_SIZE, SEED = 6, 5e-3, 64, 0
DEFAULT_OUTPUT = ROOT / "data" / data.SOURCE_WEIGHTS_FILE


def source_data():
    """Training and test tensors of the source task (digits 0-4 of the MNIST subset)."""
    images, labels = data.load_mnist_subset()
    train_idx, test_idx = data.mnist_split()
    x = (torch.tensor(images, dtype=torch.float32).unsqueeze(1) / 255 - MEAN) / STD
    y = torch.tensor(labels, dtype=torch.long)
    keep = lambda idx: idx[np.isin(labels[idx], SOURCE_CLASSES)]  # noqa: E731
    train_idx, test_idx = keep(train_idx), keep(test_idx)
    return x[train_idx], y[train_idx], x[test_idx], y[test_idx]


def train_source_model():
    """Train the source network; return it and its held-out accuracy."""
    setup_notebook(seed=SEED)
    x_train, y_train, x_test, y_test = source_data()
    torch.manual_seed(SEED)
    model = models.SmallVGG(n_classes=len(SOURCE_CLASSES))
    loader = make_loader(x_train, y_train, batch_size=BATCH_SIZE, seed=SEED)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=LEARNING_RATE,
                                                   total_steps=EPOCHS * len(loader))
    fit(model, loader, optimizer, epochs=EPOCHS, scheduler=schedule, scheduler_step="step", progress=False)
    return model, evaluate(model, (x_test, y_test))["accuracy"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help=f"where to write the weights (default: {DEFAULT_OUTPUT})")
    args = parser.parse_args(argv)
    model, accuracy = train_source_model()
    if accuracy < 0.97:
        sys.exit(f"the source model reached only {accuracy:.3f} on held-out digits 0-4; not written")
    print(f"held-out accuracy on digits 0-4: {accuracy:.4f}")
    write_model_weights(args.output, model)


if __name__ == "__main__":
    main()
