"""Multi-digit scenes: the detection and segmentation data set of the course.

Real handwritten digits (the MNIST subset of :func:`course_utils.data.load_mnist_subset`)
are pasted at random sizes and places on a black canvas. Every digit comes
with its tight box, its class and its mask, so the same scenes serve every
detector (notebooks 17-24) and segmenter (25-27) of the course.

* Deterministic: the same arguments give the same scenes.
* Honest validation: ``split="train"`` draws digits only from the training
  indices of :func:`course_utils.data.mnist_split`, ``split="val"`` only from
  its held-out indices, so no handwritten digit is shared.
* Fast: a few hundred 128 x 128 scenes take well under a second.

Conventions: images are float32 in [0, 1], shape (H, W); boxes are corners
``(x1, y1, x2, y2)`` in pixels, the box of pixel row r, column c being
``(c, r, c + 1, r + 1)``; a label is the digit 0-9; ``area`` holds the mask pixel
counts (COCO's convention); masks may overlap only where digits touch.

Scenes are also a torch ``Dataset`` (:class:`SceneDataset` with
:func:`detection_collate`); :mod:`course_utils.data.coco` exports them to COCO JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .files import load_mnist_subset
from .splits import mnist_split
from .._checks import check_choice, check_int, check_interval, check_number

__all__ = [
    "DIGIT_NAMES",
    "Scenes",
    "scene_area_ranges",
    "make_scenes",
    "scene_statistics",
    "semantic_mask",
    "SceneDataset",
    "detection_collate",
]


#: Category names, index = label.
DIGIT_NAMES = tuple(str(d) for d in range(10))

_INK = 128  # a resized glyph pixel >= this grey level (of 255) belongs to the digit's mask


@dataclass
class Scenes:
    """A set of generated scenes.

    Attributes
    ----------
    images : (N, H, W) float32 ndarray
        Values in [0, 1], white digits on black.
    targets : list of dict
        Per image: ``boxes`` (K, 4) float32 corners, ``labels`` (K,) int64,
        ``masks`` (K, H, W) bool, ``area`` (K,) float32 (mask pixels; COCO's
        and torchvision's key, what :func:`course_utils.metrics.evaluate_detections` reads),
        ``source`` (K,) int64 index of each digit in the MNIST subset.
    split : str
        ``"train"`` or ``"val"``.
    settings : dict
        The arguments that made the scenes.
    """

    images: np.ndarray
    targets: list
    split: str
    settings: dict = field(default_factory=dict)

    def __len__(self):
        return len(self.images)

    @property
    def canvas_size(self):
        return self.images.shape[1:]


def scene_area_ranges(canvas_size=128):
    """Small / medium / large buckets for digits on a canvas, in COCO's format.

    COCO calls an object small below 32**2 pixels of (mask) area and large
    above 96**2, thresholds made for 640-pixel photographs. Scaled to a
    canvas the same choice is a matter of taste; here an object is small
    below ``(canvas_size / 10)**2`` and large above ``(canvas_size / 4)**2``
    (164 and 1024 pixels on 128 x 128), which puts roughly 30 %, 50 % and
    20 % of the digits of default scenes in the three buckets.

    Parameters
    ----------
    canvas_size : int
        Side of the (square) canvas.

    Returns
    -------
    dict
        ``{"all", "small", "medium", "large"}`` -> (low, high) areas, for
        :func:`course_utils.metrics.evaluate_detections`.
    """
    canvas_size = check_int(canvas_size, "canvas_size", minimum=8)
    small, large = (canvas_size / 10) ** 2, (canvas_size / 4) ** 2
    return {"all": (0.0, 1e5**2), "small": (0.0, small), "medium": (small, large), "large": (large, 1e5**2)}


def _glyphs(indices, images):
    """Tight crops of the given MNIST digits (uint8), one per index."""
    crops = []
    for i in indices:
        ink = images[i] > 30
        rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
        crops.append(images[i][rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1])
    return crops


def _resize(glyph, height, width):
    from PIL import Image

    return np.asarray(Image.fromarray(glyph).resize((width, height), Image.BILINEAR))


def make_scenes(n_images, split="train", canvas_size=128, digits=(1, 4), scale=(0.12, 0.8), max_overlap=0.25,
                clutter=0, noise=0.0, test_fraction=0.2, split_seed=0, seed=0):
    """Generate scenes of handwritten digits with boxes, labels and masks.

    Each scene gets a number of digits drawn uniformly from ``digits``.
    Each digit is a random MNIST digit of the split, cropped to its ink,
    resized to a height drawn log-uniformly from ``scale`` (a fraction of the
    canvas; its width keeps the digit's proportions) and placed at random
    where its rectangle overlaps earlier ones by at most ``max_overlap``
    (intersection over the smaller rectangle; the tight boxes of the ink are a
    little smaller); a digit that finds no such place in 30 tries is
    left out. Digits are combined by a pixel-wise maximum; a mask keeps the
    pixels of its digit not covered by a later one.

    Parameters
    ----------
    n_images : int
        Number of scenes.
    split : {"train", "val"}
        Which MNIST digits to draw from (disjoint sets, see
        :func:`course_utils.data.mnist_split`).
    canvas_size : int
        Side of the square canvas, in pixels (>= 16).
    digits : (int, int)
        Fewest and most digits per scene (0 allowed: empty scenes).
    scale : (float, float)
        Smallest and largest digit height, as a fraction of ``canvas_size``.
    max_overlap : float
        Largest intersection of two boxes over the area of the smaller one.
    clutter : int
        Number of unlabelled distractors per scene: small pieces cut from
        other digits of the split, which a detector must learn to ignore.
    noise : float
        Standard deviation of Gaussian noise added to the image (clipped to [0, 1]).
    test_fraction, split_seed : float, int
        Passed to :func:`course_utils.data.mnist_split`.
    seed : int
        Seed of the scene generator.

    Returns
    -------
    Scenes
    """
    n_images = check_int(n_images, "n_images", minimum=0)
    split = check_choice(split, "split", ("train", "val"))
    canvas_size = check_int(canvas_size, "canvas_size", minimum=16)
    low_n, high_n = check_interval(digits, "digits", int, 0)
    low_s, high_s = check_interval(scale, "scale", float, 2 / canvas_size, 1.0)
    max_overlap = check_number(max_overlap, "max_overlap", minimum=0, maximum=1)
    clutter = check_int(clutter, "clutter", minimum=0)
    noise = check_number(noise, "noise", minimum=0)
    seed = check_int(seed, "seed", minimum=0)
    settings = dict(n_images=n_images, split=split, canvas_size=canvas_size, digits=(low_n, high_n),
                    scale=(low_s, high_s), max_overlap=max_overlap, clutter=clutter, noise=noise,
                    test_fraction=test_fraction, split_seed=split_seed, seed=seed)

    mnist, labels = load_mnist_subset()
    train_idx, val_idx = mnist_split(test_fraction=test_fraction, seed=split_seed)
    pool = train_idx if split == "train" else val_idx
    rng = np.random.default_rng([seed, 0 if split == "train" else 1])
    size = canvas_size
    images = np.zeros((n_images, size, size), dtype=np.float32)
    targets = []
    for n in range(n_images):
        canvas = images[n]
        boxes, masks, sources, placed = [], [], [], []
        for source in rng.choice(pool, size=rng.integers(low_n, high_n + 1)):
            glyph = _glyphs([source], mnist)[0]
            height = int(round(size * np.exp(rng.uniform(np.log(low_s), np.log(high_s)))))
            height = max(2, min(height, size))
            width = max(1, min(size, int(round(height * glyph.shape[1] / glyph.shape[0]))))
            for _ in range(30):
                y, x = int(rng.integers(0, size - height + 1)), int(rng.integers(0, size - width + 1))
                box = np.array([x, y, x + width, y + height], dtype=np.float32)
                if all(_overlap(box, other) <= max_overlap for other in placed):
                    break
            else:
                continue
            pixels = _resize(glyph, height, width)
            mask = np.zeros((size, size), dtype=bool)
            mask[y:y + height, x:x + width] = pixels >= _INK
            if not mask.any():
                continue
            np.maximum(canvas[y:y + height, x:x + width], pixels / np.float32(255), out=canvas[y:y + height, x:x + width])
            for earlier in masks:  # the new digit is on top
                earlier &= ~mask
            rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
            boxes.append(np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], dtype=np.float32))
            masks.append(mask)
            sources.append(source)
            placed.append(box)
        for _ in range(clutter):
            _paste_clutter(canvas, mnist[rng.choice(pool)], rng, low_s, high_s)
        if noise > 0:
            canvas += rng.normal(0, noise, canvas.shape).astype(np.float32)
            np.clip(canvas, 0, 1, out=canvas)
        k = len(boxes)
        targets.append({
            "boxes": np.array(boxes, dtype=np.float32).reshape(k, 4),
            "labels": labels[np.array(sources, dtype=np.int64)].astype(np.int64),
            "masks": np.array(masks, dtype=bool).reshape(k, size, size),
            "area": np.array([m.sum() for m in masks], dtype=np.float32),
            "source": np.array(sources, dtype=np.int64),
        })
    return Scenes(images=images, targets=targets, split=split, settings=settings)


def _overlap(a, b):
    """Intersection of two corner boxes over the area of the smaller one."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return float(w * h / smaller)


def _paste_clutter(canvas, digit, rng, low_s, high_s):
    """Paste a random 8x8 to 12x12 piece of a digit, scaled like the digits, at a random place."""
    side = int(rng.integers(8, 13))
    r, c = (int(v) for v in rng.integers(4, 28 - side - 3, size=2))
    piece = digit[r:r + side, c:c + side]
    target = int(round(canvas.shape[0] * np.exp(rng.uniform(np.log(low_s), np.log(high_s))) * side / 28))
    target = max(2, min(target, canvas.shape[0]))
    pixels = _resize(np.ascontiguousarray(piece), target, target) / np.float32(255)
    y, x = (int(v) for v in rng.integers(0, canvas.shape[0] - target + 1, size=2))
    np.maximum(canvas[y:y + target, x:x + target], pixels, out=canvas[y:y + target, x:x + target])


def scene_statistics(scenes, area_ranges=None):
    """Counts that describe a set of scenes.

    Parameters
    ----------
    scenes : Scenes
    area_ranges : dict, optional
        Size buckets; default :func:`scene_area_ranges` of the canvas.

    Returns
    -------
    dict
        ``objects_per_image`` (histogram: index = count), ``mean_objects``,
        ``sizes`` (objects per bucket ``small`` / ``medium`` / ``large``, by
        mask area), ``classes`` (objects per digit), ``box_heights`` (all
        box heights, pixels) and ``areas`` (all mask areas).
    """
    if not isinstance(scenes, Scenes):
        raise TypeError(f"scenes must be Scenes from make_scenes, got {type(scenes).__name__}")
    ranges = area_ranges or scene_area_ranges(scenes.canvas_size[0])
    counts = np.array([len(t["labels"]) for t in scenes.targets], dtype=np.int64)
    areas = np.concatenate([t["area"] for t in scenes.targets] + [np.zeros(0, np.float32)])
    boxes = np.concatenate([t["boxes"] for t in scenes.targets] + [np.zeros((0, 4), np.float32)])
    labels = np.concatenate([t["labels"] for t in scenes.targets] + [np.zeros(0, np.int64)])
    sizes = {}
    for name in ("small", "medium", "large"):
        low, high = ranges[name]
        # as in COCO both ends are inclusive; an area exactly on a threshold counts in both buckets
        sizes[name] = int(np.count_nonzero((areas >= low) & (areas <= high)))
    return {
        "objects_per_image": np.bincount(counts, minlength=1),
        "mean_objects": float(counts.mean()) if counts.size else 0.0,
        "sizes": sizes,
        "classes": np.bincount(labels, minlength=10),
        "box_heights": boxes[:, 3] - boxes[:, 1],
        "areas": areas,
    }


def semantic_mask(target, shape):
    """One label image from a scene's instance masks: 0 background, digit + 1 elsewhere.

    Parameters
    ----------
    target : dict
        One entry of ``Scenes.targets``.
    shape : (H, W)
        Canvas shape.

    Returns
    -------
    (H, W) int64 ndarray
        Later digits (on top) win where masks overlap.
    """
    out = np.zeros(tuple(shape), dtype=np.int64)
    for mask, label in zip(target["masks"], target["labels"]):
        out[mask] = int(label) + 1
    return out


class SceneDataset:
    """The scenes as a torch ``Dataset`` in torchvision's detection format.

    ``dataset[i]`` is ``(image, target)``: a float32 tensor of shape
    (1, H, W) and a dict of tensors ``boxes`` (K, 4) float32, ``labels``
    (K,) int64 (digit + ``label_offset``), ``masks`` (K, H, W) uint8,
    ``area`` (K,), ``iscrowd`` (K,) zeros and ``image_id`` (int).

    Parameters
    ----------
    scenes : Scenes
    label_offset : int
        Added to the digits: torchvision's detectors reserve label 0 for the
        background, so pass 1 for them.
    with_masks : bool
        Leave the masks out (smaller batches) when False.
    """

    def __init__(self, scenes, label_offset=0, with_masks=True):
        if not isinstance(scenes, Scenes):
            raise TypeError(f"scenes must be Scenes from make_scenes, got {type(scenes).__name__}")
        self.scenes = scenes
        self.label_offset = check_int(label_offset, "label_offset", minimum=0)
        self.with_masks = bool(with_masks)

    def __len__(self):
        return len(self.scenes)

    def __getitem__(self, index):
        import torch

        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} scenes")
        t = self.scenes.targets[index]
        target = {
            "boxes": torch.from_numpy(t["boxes"].copy()),
            "labels": torch.from_numpy(t["labels"] + self.label_offset),
            "area": torch.from_numpy(t["area"].copy()),
            "iscrowd": torch.zeros(len(t["labels"]), dtype=torch.int64),
            "image_id": int(index % len(self)),
        }
        if self.with_masks:
            target["masks"] = torch.from_numpy(t["masks"].astype(np.uint8))
        return torch.from_numpy(self.scenes.images[index].copy())[None], target


def detection_collate(batch):
    """Collate ``(image, target)`` pairs: images stacked into one tensor, targets kept as a list.

    Scenes have different numbers of objects, so their targets cannot be
    stacked; detection models take a list of target dicts.

    Parameters
    ----------
    batch : list of (tensor, dict)

    Returns
    -------
    images : (B, C, H, W) tensor
    targets : list of dict
    """
    import torch

    if not isinstance(batch, (list, tuple)) or not all(isinstance(b, (list, tuple)) and len(b) == 2 for b in batch):
        raise TypeError("batch must be a list of (image, target) pairs")
    images, targets = zip(*batch) if batch else ((), ())
    return (torch.stack(images) if images else torch.zeros(0)), list(targets)
