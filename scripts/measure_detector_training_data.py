"""Measure how the training pictures change notebook 24's detector: plain scenes, mosaic, mixup, denser scenes.

Usage, from the repository root (about 3.5 minutes per seed on a 2-core CPU)::

    .venv/bin/python scripts/measure_detector_training_data.py

Each arm trains notebook 24's two-head centre-based detector
(``models.CenterDetector``, channels last) with notebook 24's recipe (280
steps of 32 fresh training scenes, AdamW, one-cycle learning rate 3e-3) and
changes only the pictures it trains on:

* ``plain``: the scenes as drawn (1 to 5 digits);
* ``mosaic``: every other batch goes through ``augment.mosaic_detection``
  (four scenes tiled at half size);
* ``mixup``: every other batch goes through ``augment.mixup_detection``
  (two scenes blended, both sets of boxes kept);
* ``denser``: scenes drawn with 3 to 7 digits (``digits=(3, 7)``): more
  objects per picture, what mosaic is after, at the digits' own sizes;
  notebook 24's own training.

The one-to-many head with NMS is scored on notebook 24's 300 test scenes
(digits no training scene uses) by ``metrics.evaluate_detector``. The table
is printed, and written as JSON to ``--out`` (default
``data/detector_training_data.json``), which notebook 24 shows through
``data.load_detector_training_data()``; paste the SHA-256 it prints into
``CHECKSUMS`` in ``course_utils/data/files.py``.
Training is deterministic for a seed on one machine; another CPU may give
slightly different figures.
"""

import argparse
import hashlib
import json
import platform
import time
from pathlib import Path

import torch

from course_utils import augment, data, metrics, models
from course_utils.train import fit

ARMS = ("plain", "mosaic", "mixup", "denser")
DENSER = {"digits": (3, 7)}
KEYS = ("AP50", "AP", "AP_small", "AP_medium", "AP_large")


class _Batches(torch.utils.data.Dataset):
    """Batch ``k`` of the arm's training stream: scenes ``k * batch`` onwards, collated, then augmented.

    Indexed by the list of scene indices a ``BatchSampler`` gives, so the
    step is known without a counter: every other batch (half, so the plain
    scenes are still seen) goes through mosaic or mixup, with a different
    draw per seed and step.
    """

    def __init__(self, arm, seed, steps, batch):
        settings = DENSER if arm == "denser" else {}
        self.scenes = data.SceneDataset(data.SceneStream("train", length=steps * batch, seed=seed, **settings))
        self.arm, self.seed, self.batch = arm, seed, batch

    def __len__(self):
        return len(self.scenes) // self.batch

    def __getitem__(self, indices):
        images, targets = self.scenes.collate_fn([self.scenes[i] for i in indices])
        step = indices[0] // self.batch
        if step % 2 == 1 and self.arm in ("mosaic", "mixup"):
            augmentation = augment.mosaic_detection if self.arm == "mosaic" else augment.mixup_detection
            images, targets = augmentation(images, targets, seed=self.seed * 100_003 + step)
        return images, targets


def train(arm, seed, steps, batch):
    """Notebook 24's detector trained on the arm's pictures, as notebook 24 trains it; returns (model, seconds)."""
    torch.manual_seed(seed)
    batches = _Batches(arm, seed, steps, batch)
    order = torch.utils.data.BatchSampler(torch.utils.data.SequentialSampler(batches.scenes), batch, drop_last=True)
    loader = torch.utils.data.DataLoader(batches, sampler=order, batch_size=None)
    model = models.channels_last(models.CenterDetector())
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=steps, pct_start=0.1)
    history = fit(model, loader, optimizer, epochs=1, loss_fn="model", metric=None, scheduler=schedule,
                  scheduler_step="step", progress=False)
    return model, history["seconds"][-1]


def evaluate(model, seed):
    """AP figures of the one-to-many head with NMS on the 300 test scenes of ``seed``."""
    model.inference, model.nms = "one_to_many", True
    test_set = data.SceneDataset(data.make_scenes(300, "test", seed=seed))
    stats = metrics.evaluate_detector(model, test_set, batch_size=50, area_ranges=data.scene_area_ranges(64))
    return {key: float(stats[key]) for key in KEYS}


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=_positive, default=280)
    parser.add_argument("--batch", type=_positive, default=32)
    parser.add_argument("--arms", nargs="+", choices=ARMS, default=list(ARMS),
                        help="notebook 24 needs all four, for at least two seeds")
    parser.add_argument("--out", type=Path, default=Path("data/detector_training_data.json"))
    args = parser.parse_args()

    runs = []
    print(f"{'seed':<6}{'arm':<8}" + "".join(f"{k:>11}" for k in KEYS) + f"{'train s':>9}", flush=True)
    for seed in args.seeds:
        for arm in args.arms:
            model, seconds = train(arm, seed, args.steps, args.batch)
            scores = evaluate(model, seed)
            runs.append({"seed": seed, "arm": arm, **scores, "train_seconds": round(seconds, 1)})
            print(f"{seed:<6}{arm:<8}" + "".join(f"{scores[k]:11.3f}" for k in KEYS) + f"{seconds:9.1f}", flush=True)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "script": "scripts/measure_detector_training_data.py",
        "measured": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}",
        "steps": args.steps, "batch": args.batch, "denser_settings": {k: list(v) for k, v in DENSER.items()},
        "runs": runs,
    }
    content = (json.dumps(record, indent=1) + "\n").encode("utf-8")
    args.out.write_bytes(content)
    print(f"written: {args.out}, SHA-256 {hashlib.sha256(content).hexdigest()}")


if __name__ == "__main__":
    main()
