"""Train notebook 21's torchvision Faster R-CNN and write ``data/torchvision_faster_rcnn.npz``.

Notebook 21 trains the course's own Faster R-CNN and sets the production one
beside it: ``torchvision.models.detection.FasterRCNN``, with no pretrained
weights. Training both would not fit the notebook's time budget, so the
torchvision detector is trained here, offline, and its weights are shipped:

* model: ``course_utils.models.torchvision_faster_rcnn(seed=0)``: torchvision's
  ``FasterRCNN`` on a ``course_utils.models.SceneBackbone`` (64 channels,
  stride 4), 11 classes (background + 10 digits), no resizing or
  normalization of the 64 x 64 scenes, 9 anchors per location (sizes 12, 20,
  32 and height / width ratios 1.0, 1.6, 2.4), RoI Align to 4 x 4, a box head
  128 wide: the same sizes as the course's ``models.FasterRCNN``;
* data: fresh standard **training** scenes,
  ``data.SceneStream("train", seed=0)`` viewed by
  ``data.SceneDataset(..., label_offset=1)`` (labels 1-10): every step sees
  16 scenes never seen before, none of them built from the val or test digits;
* training: ``course_utils.train.fit`` with the model's own losses, AdamW
  (learning rate 2e-3, weight decay 1e-4, constant), batches of 16, 1,500
  steps (``STEPS``; chosen on 500 val scenes, whose AP50 stopped rising
  between 1,500 and 1,800 steps), seed 0, deterministic algorithms, 1 thread;
* evaluation: ``metrics.evaluate_detector`` on 500 **test** scenes
  (``data.make_scenes(500, "test", seed=0)``, COCO's numbers with the
  scenes' area ranges), printed as AP50 and AP.

The weights (the model's ``state_dict``, batch-norm running statistics
included) are stored as a ``.npz`` archive of float32 arrays with fixed zip
metadata, so that the same code, torch version, CPU and thread count give the
same bytes. The script prints the file's SHA-256 for ``CHECKSUMS`` in
``course_utils/data/files.py``.

Usage, from the repository root (about five minutes on one thread of a
2-core CPU, evaluation included)::

    python scripts/train_torchvision_detector.py
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from course_utils import data, metrics, models, setup_notebook  # noqa: E402
from course_utils.train import fit  # noqa: E402
from extract_mnist_subset import write_model_weights  # noqa: E402  (one home for reproducible weights)

STEPS, BATCH_SIZE, LEARNING_RATE, WEIGHT_DECAY, SEED, THREADS = 1500, 16, 2e-3, 1e-4, 0, 1
TEST_SCENES = 500
MIN_AP50 = 0.80  # below this the weights are not written
DEFAULT_OUTPUT = ROOT / "data" / data.TORCHVISION_WEIGHTS_FILE


def train_detector(steps=STEPS):
    """Train the torchvision detector on fresh scenes; return it and the training seconds."""
    setup_notebook(seed=SEED, threads=THREADS)
    model = models.torchvision_faster_rcnn(seed=SEED)
    train_set = data.SceneDataset(data.SceneStream("train", length=steps * BATCH_SIZE, seed=SEED), label_offset=1)
    loader = torch.utils.data.DataLoader(train_set, batch_size=BATCH_SIZE, collate_fn=train_set.collate_fn)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    start = time.perf_counter()
    fit(model, loader, optimizer, epochs=1, loss_fn="model", metric=None, progress=False)
    return model.eval(), time.perf_counter() - start


def test_stats(model, seed=SEED, n_scenes=TEST_SCENES):
    """COCO's numbers of ``model`` on ``n_scenes`` test scenes."""
    test_set = data.SceneDataset(data.make_scenes(n_scenes, "test", seed=seed), label_offset=1)
    return metrics.evaluate_detector(model, test_set, batch_size=50, area_ranges=data.scene_area_ranges(64))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help=f"where to write the weights (default: {DEFAULT_OUTPUT})")
    parser.add_argument("--steps", type=int, default=STEPS,
                        help=f"training steps (default: {STEPS}; another number gives other weights)")
    args = parser.parse_args(argv)
    model, seconds = train_detector(args.steps)
    stats = test_stats(model)
    print(f"{args.steps} steps of {BATCH_SIZE} scenes in {seconds:.0f} s; "
          f"{sum(p.numel() for p in model.parameters()):,} parameters")
    print(f"test scenes (500, seed {SEED}): AP50 {stats['AP50']:.3f}  AP {stats['AP']:.3f}")
    if stats["AP50"] < MIN_AP50:
        sys.exit(f"the detector reached only AP50 {stats['AP50']:.3f} on test scenes; not written")
    write_model_weights(args.output, model)


if __name__ == "__main__":
    main()
