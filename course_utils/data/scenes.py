"""Multi-digit scenes: the detection and segmentation data set of the course.

Real handwritten digits (the MNIST subset of :func:`course_utils.data.load_mnist_subset`)
are pasted at random sizes and places on a canvas. Every digit comes with its
box, its class and its mask, so the same scenes serve every detector
(notebooks 17-24) and segmenter (25-27) of the course.

* **Pure.** Scene ``i`` of a split is a function of ``(seed, split, i)`` and
  the settings only (:func:`make_scene`): a data set can serve a new scene at
  every training step (:class:`SceneStream`), and parallel workers produce the
  same scenes as one process.
* **Three splits, no shared handwriting.** ``"train"``, ``"val"`` and
  ``"test"`` draw from disjoint sets of MNIST digits
  (:func:`scene_split_digits`): choose settings on ``val``, report ``test``.
* **Two presets.** ``"simple"``: white digits on black, apart from each other
  (notebooks 17-19). ``"standard"``: the default, made so that a detector has
  to learn: touching and overlapping digits, digit fragments and pen strokes as
  clutter, a background of varying brightness, digits of varying contrast and
  noise. Thresholding plus connected components, with no learning, finds most
  digits of simple scenes and far fewer of standard ones (notebook 17).
* **Fast.** Thousands of 64 x 64 scenes per second on one core.

Conventions
-----------
Images are float32 in [0, 1], shape (H, W), light digits on a darker
background. A later digit is painted over the earlier ones (alpha blending by
its ink), so it hides what it covers. **Masks and boxes describe what is
visible** (COCO's convention): a digit's mask is its ink not covered by a later
digit, its box is the tight box of that mask, and ``area`` its pixel count.
Masks are therefore disjoint. ``visible`` gives the fraction of the digit's ink
left visible; placement keeps it at least ``min_visible``, so that no labelled
digit is hidden beyond recognition. Boxes are corners ``(x1, y1, x2, y2)`` in
pixels, the box of pixel row r, column c being ``(c, r, c + 1, r + 1)``; a label
is the digit 0-9.

Views for torch: :class:`SceneDataset` gives a detection view (boxes and
labels, torchvision's format), an instance view (with per-instance masks) and
a semantic view (a class map, 0 = background, with an optional ignore band);
:mod:`course_utils.data.coco` exports scenes to COCO JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
import math

import numpy as np

from .files import load_mnist_subset
from .splits import mnist_split, stratified_split
from .._checks import check_choice, check_int, check_interval, check_number

__all__ = [
    "DIGIT_NAMES",
    "SCENE_SPLITS",
    "SCENE_PRESETS",
    "IGNORE_INDEX",
    "Scenes",
    "SceneStream",
    "scene_split_digits",
    "scene_settings",
    "scene_area_ranges",
    "make_scene",
    "make_scenes",
    "scene_statistics",
    "semantic_mask",
    "SceneDataset",
    "detection_collate",
    "segmentation_collate",
    "fresh_scene_loader",
]


#: Category names, index = label.
DIGIT_NAMES = tuple(str(d) for d in range(10))

#: The three splits, each drawing from its own MNIST digits.
SCENE_SPLITS = ("train", "val", "test")

#: Label of ignored pixels in a semantic class map (what ``ignore_index`` of
#: ``torch.nn.CrossEntropyLoss`` and torchmetrics is set to).
IGNORE_INDEX = 255

#: Settings of each preset; :func:`make_scene` accepts any of them as a keyword
#: to override the preset. Ranges ``(low, high)`` are drawn uniformly per scene
#: (per digit for ``contrast``); ``scale`` log-uniformly per digit.
SCENE_PRESETS = {
    "simple": {
        "canvas_size": 128,
        "digits": (1, 4),
        "scale": (0.12, 0.8),
        "max_overlap": 0.25,
        "min_visible": 0.5,
        "fragments": (0, 0),
        "strokes": (0, 0),
        "background": (0.0, 0.0),
        "contrast": (1.0, 1.0),
        "noise": (0.0, 0.0),
    },
    "standard": {
        "canvas_size": 64,
        "digits": (1, 5),
        "scale": (0.2, 0.6),
        "max_overlap": 0.5,
        "min_visible": 0.6,
        "fragments": (0, 3),
        "strokes": (0, 2),
        "background": (0.0, 0.25),
        "contrast": (0.5, 1.0),
        "noise": (0.0, 0.08),
    },
}

_INK = 128  # a resized glyph pixel at least this grey (of 255) belongs to the digit's mask
_TRIES = 25  # places tried for a digit before it is left out
_SPLIT_CODES = {name: code for code, name in enumerate(SCENE_SPLITS)}


@lru_cache(maxsize=1)
def _digit_table():
    """The MNIST subset once per process: labels, and every digit cropped to its ink (uint8, read-only)."""
    images, labels = load_mnist_subset()
    crops = []
    for image in images:
        ink = image > 30
        rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
        crop = np.ascontiguousarray(image[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1])
        crop.setflags(write=False)
        crops.append(crop)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels, tuple(crops)


@lru_cache(maxsize=1)
def _split_digits():
    train, held_out = mnist_split(test_fraction=0.2, seed=0)
    labels = _digit_table()[1]
    val_part, test_part = stratified_split(labels[held_out], test_fraction=0.5, seed=0)
    pools = {"train": train, "val": held_out[val_part], "test": held_out[test_part]}
    for pool in pools.values():
        pool.setflags(write=False)
    return pools


def scene_split_digits(split):
    """Indices (into the MNIST subset) of the digits that scenes of a split are made of.

    ``"train"`` uses the training part of :func:`course_utils.data.mnist_split`
    (4,000 digits, the same as the classification notebooks); its held-out
    1,000 digits are split, stratified by class, into ``"val"`` and ``"test"``
    (500 each). The three sets are disjoint.

    Parameters
    ----------
    split : {"train", "val", "test"}

    Returns
    -------
    (n,) int64 ndarray, sorted, read-only
    """
    return _split_digits()[check_choice(split, "split", SCENE_SPLITS)]


def _as_range(value, name, kind, minimum, maximum=None):
    """A setting given as one number or as a (low, high) pair -> (low, high)."""
    if isinstance(value, (tuple, list)):
        return check_interval(value, name, kind, minimum, maximum)
    check = check_int if kind is int else check_number
    value = check(value, name, minimum=minimum, maximum=maximum)
    return value, value


def scene_settings(preset="standard", **overrides):
    """The complete, checked settings of a preset with some of them overridden.

    Parameters
    ----------
    preset : {"standard", "simple"}
        See :data:`SCENE_PRESETS`.
    **overrides
        Any of the keys below, to replace the preset's value.

        - ``canvas_size`` (int >= 16): side of the square canvas, pixels.
        - ``digits`` (int or (low, high)): digits per scene (0 allowed).
        - ``scale`` ((low, high)): digit height as a fraction of the canvas,
          drawn log-uniformly (small digits as common as large ones); the
          width keeps the digit's proportions.
        - ``max_overlap`` (0-1): largest intersection of two digits'
          rectangles over the area of the smaller one.
        - ``min_visible`` (0-1): smallest fraction of a digit's ink that later
          digits may leave visible.
        - ``fragments``, ``strokes`` (int or (low, high)): unlabelled clutter
          per scene, painted under the digits: pieces cut from other digits of
          the split, and straight pen strokes.
        - ``background`` (float or (low, high)): brightness of the
          background; each scene also gets a linear ramp of up to the high
          end across the canvas, in a random direction.
        - ``contrast`` (float or (low, high)): ink brightness of each digit
          and piece of clutter.
        - ``noise`` (float or (low, high)): standard deviation of the
          Gaussian noise added to a scene.

    Returns
    -------
    dict
        Every setting, ranges as ``(low, high)`` tuples, plus ``"preset"``.
    """
    preset = check_choice(preset, "preset", tuple(SCENE_PRESETS))
    unknown = sorted(set(overrides) - set(SCENE_PRESETS[preset]))
    if unknown:
        raise TypeError(f"unknown scene setting(s) {unknown}; the settings are {sorted(SCENE_PRESETS[preset])}")
    s = {**SCENE_PRESETS[preset], **overrides}
    size = check_int(s["canvas_size"], "canvas_size", minimum=16)
    return {
        "preset": preset,
        "canvas_size": size,
        "digits": _as_range(s["digits"], "digits", int, 0),
        "scale": check_interval(s["scale"], "scale", float, 2 / size, 1.0),
        "max_overlap": check_number(s["max_overlap"], "max_overlap", minimum=0, maximum=1),
        "min_visible": check_number(s["min_visible"], "min_visible", minimum=0, maximum=1),
        "fragments": _as_range(s["fragments"], "fragments", int, 0),
        "strokes": _as_range(s["strokes"], "strokes", int, 0),
        "background": _as_range(s["background"], "background", float, 0, 1),
        "contrast": _as_range(s["contrast"], "contrast", float, 0, 1),
        "noise": _as_range(s["noise"], "noise", float, 0),
    }


@dataclass
class Scenes:
    """A set of generated scenes (see the module's conventions).

    ``scenes[i]`` is the pair ``(images[i], targets[i])``.

    Attributes
    ----------
    images : (N, H, W) float32 ndarray
        Values in [0, 1].
    targets : list of dict
        Per image: ``boxes`` (K, 4) float32 corners of the visible ink,
        ``labels`` (K,) int64, ``masks`` (K, H, W) bool visible ink (disjoint),
        ``area`` (K,) float32 mask pixels (COCO's and torchvision's key, what
        :func:`course_utils.metrics.evaluate_detections` reads), ``visible``
        (K,) float32 fraction of each digit's ink left visible, ``source``
        (K,) int64 index of each digit in the MNIST subset.
    split : str
        ``"train"``, ``"val"`` or ``"test"``.
    settings : dict
        The settings that made the scenes (:func:`scene_settings`), plus
        ``seed`` and ``start``: image ``n`` is scene ``start + n`` of the split.
    """

    images: np.ndarray
    targets: list
    split: str
    settings: dict = field(default_factory=dict)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        return self.images[index], self.targets[index]

    @property
    def canvas_size(self):
        return self.images.shape[1:]


#: Side of the small / large thresholds of each preset's size buckets, as a fraction of the canvas.
_SIZE_BUCKETS = {"simple": (1 / 10, 1 / 4), "standard": (1 / 7, 1 / 4)}


def scene_area_ranges(canvas_size=64, preset="standard"):
    """Small / medium / large buckets for the digits of a preset's scenes, in COCO's format.

    COCO calls an object small below 32**2 pixels of (mask) area and large
    above 96**2, thresholds made for 640-pixel photographs. Scaled to a
    canvas the choice is a matter of taste; here an object is large above
    ``(canvas_size / 4)**2`` and small below ``(canvas_size / 10)**2``
    (``"simple"`` scenes, whose digits range from tiny to huge) or
    ``(canvas_size / 7)**2`` (``"standard"`` scenes, whose digits are never
    tiny). Either way roughly a third, a half and a fifth of the digits of
    the preset fall in the three buckets.

    Parameters
    ----------
    canvas_size : int
        Side of the (square) canvas.
    preset : {"standard", "simple"}

    Returns
    -------
    dict
        ``{"all", "small", "medium", "large"}`` -> (low, high) areas, for
        :func:`course_utils.metrics.evaluate_detections`.
    """
    canvas_size = check_int(canvas_size, "canvas_size", minimum=8)
    small_side, large_side = _SIZE_BUCKETS[check_choice(preset, "preset", tuple(_SIZE_BUCKETS))]
    small, large = (canvas_size * small_side) ** 2, (canvas_size * large_side) ** 2
    return {"all": (0.0, 1e5**2), "small": (0.0, small), "medium": (small, large), "large": (large, 1e5**2)}


_FIXED = 1 << 12  # resize weights are integers: multiples of 1 / _FIXED


@lru_cache(maxsize=4096)
def _resize_matrix(n_in, n_out):
    """(n_out, n_in) integer weights of a linear-interpolation resize, antialiased when shrinking.

    Output pixel i samples the input at its centre (i + 0.5) n_in / n_out - 0.5
    with a triangle (tent) filter, widened by the shrink factor when the
    output is smaller so that every input pixel contributes (PIL's
    ``BILINEAR``). The weights are fixed-point integers, each row summing to
    exactly ``_FIXED``: integer products are exact, so a scene is the same
    bit for bit on every CPU, whatever order a matrix product adds in.
    """
    scale = n_in / n_out
    width = max(scale, 1.0)
    rows = []
    for i in range(n_out):
        centre = (i + 0.5) * scale - 0.5
        weights = [max(0.0, 1.0 - abs(j - centre) / width) for j in range(n_in)]
        total = sum(weights)
        fixed = [round(w / total * _FIXED) for w in weights]
        fixed[weights.index(max(weights))] += _FIXED - sum(fixed)
        rows.append(fixed)
    matrix = np.array(rows, dtype=np.int64)
    matrix.setflags(write=False)
    return matrix


def _resize(glyph, height, width):
    """A uint8 glyph (h, w) resized to (height, width): its ink opacity (float32, 0-1) and its mask."""
    fixed = _resize_matrix(glyph.shape[0], height) @ glyph.astype(np.int64) @ _resize_matrix(glyph.shape[1], width).T
    opacity = (fixed * (1.0 / (255 * _FIXED**2))).astype(np.float32)
    return opacity, fixed >= _INK * _FIXED**2


class _Draws:
    """Random numbers of one scene, drawn from its own generator in blocks.

    A scene needs a few dozen scalars; asking numpy for each one costs more
    than making the scene, so uniform numbers come from a block drawn at
    once (the same generator, hence the same purity and reproducibility).
    """

    def __init__(self, rng):
        self.rng = rng
        self._block, self._next = [], 0

    def random(self):
        """A float uniform in [0, 1)."""
        if self._next == len(self._block):
            self._block, self._next = self.rng.random(64).tolist(), 0
        self._next += 1
        return self._block[self._next - 1]

    def uniform(self, low, high):
        return low if low == high else low + (high - low) * self.random()

    def log_uniform(self, low, high):
        return low * (high / low) ** self.random()

    def integer(self, low, high):
        """An int uniform in [low, high)."""
        return min(high - 1, low + int((high - low) * self.random()))

    def count(self, pair):
        """An int uniform in [low, high] for a setting (low, high)."""
        return self.integer(pair[0], pair[1] + 1)


def _overlap(a, b):
    """Intersection of two corner boxes over the area of the smaller one."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return float(w * h / smaller)


def _paint(canvas, alpha, x, y, brightness):
    """Paint ink of opacity ``alpha`` (h, w) and the given brightness over the canvas at (x, y)."""
    window = canvas[y:y + alpha.shape[0], x:x + alpha.shape[1]]
    window += alpha * (brightness - window)  # alpha blending: the new ink covers what lies under it


def _background(draws, size, settings):
    low, high = settings["background"]
    if high == 0:
        return np.zeros((size, size), dtype=np.float32)
    level = draws.uniform(low, high)
    angle, ramp = draws.uniform(0, 2 * np.pi), draws.uniform(0, high)
    axis = ((np.arange(size, dtype=np.float32) + 0.5) / size - 0.5) * np.float32(ramp)
    # a plane: level + ramp * (cos(angle) x + sin(angle) y), x and y in [-1/2, 1/2]
    plane = np.add.outer(np.float32(math.sin(angle)) * axis, np.float32(level) + np.float32(math.cos(angle)) * axis)
    return np.clip(plane, 0, 1, out=plane)


def _paste_fragment(canvas, digit, draws, settings):
    """A random 6x6 to 10x10 piece of a 28x28 digit, scaled like the digits, at a random place.

    Small enough not to pass for a whole digit (a third of a digit's height at most)."""
    side = draws.integer(6, 11)
    r, c = draws.integer(4, 28 - side - 3), draws.integer(4, 28 - side - 3)
    size = canvas.shape[0]
    target = int(round(size * draws.log_uniform(*settings["scale"]) * side / 28))
    target = max(2, min(target, size))
    alpha, _ = _resize(digit[r:r + side, c:c + side], target, target)
    y, x = draws.integer(0, size - target + 1), draws.integer(0, size - target + 1)
    _paint(canvas, alpha, x, y, draws.uniform(*settings["contrast"]))


def _paste_stroke(canvas, draws, settings):
    """A straight, anti-aliased pen stroke, as long as a small to large digit."""
    size = canvas.shape[0]
    length = size * draws.log_uniform(*settings["scale"])
    half_width = draws.uniform(0.6, 1.4)
    x0, y0 = draws.uniform(0, size), draws.uniform(0, size)
    angle = draws.uniform(0, np.pi)
    x1, y1 = min(max(x0 + length * math.cos(angle), 0), size), min(max(y0 + length * math.sin(angle), 0), size)
    # only the pixels near the segment can get ink: work in its bounding window
    reach = half_width + 1
    left, right = int(max(0, min(x0, x1) - reach)), int(min(size, max(x0, x1) + reach + 1))
    top, bottom = int(max(0, min(y0, y1) - reach)), int(min(size, max(y0, y1) + reach + 1))
    px = np.arange(left, right, dtype=np.float32)[None, :] + 0.5 - x0
    py = np.arange(top, bottom, dtype=np.float32)[:, None] + 0.5 - y0
    seg_x, seg_y = x1 - x0, y1 - y0
    t = np.clip((px * seg_x + py * seg_y) / max(seg_x**2 + seg_y**2, 1e-6), 0, 1)  # nearest point of the segment
    dx, dy = px - t * seg_x, py - t * seg_y
    distance = np.sqrt(dx * dx + dy * dy)  # sqrt, not hypot: correctly rounded, the same on every CPU
    alpha = np.clip(half_width + 0.5 - distance, 0, 1).astype(np.float32)
    _paint(canvas, alpha, left, top, draws.uniform(*settings["contrast"]))


def _place(draws, size, height, width, placed, visible, settings, glyph_mask):
    """Find a place for a digit: box overlap and hidden ink within the limits. None if none found."""
    for _ in range(_TRIES):
        y, x = draws.integer(0, size - height + 1), draws.integer(0, size - width + 1)
        box = (x, y, x + width, y + height)
        if any(_overlap(box, other) > settings["max_overlap"] for other in placed):
            continue
        fine = True
        for other, (mask, full) in zip(placed, visible):
            # ink of an earlier digit that this one would cover, in the rectangles' intersection
            x1, y1, x2, y2 = max(x, other[0]), max(y, other[1]), min(x + width, other[2]), min(y + height, other[3])
            if x1 >= x2 or y1 >= y2:
                continue
            covered = np.count_nonzero(mask[y1:y2, x1:x2] & glyph_mask[y1 - y:y2 - y, x1 - x:x2 - x])
            if mask.sum() - covered < settings["min_visible"] * full:
                fine = False
                break
        if fine:
            return x, y
    return None


def make_scene(index, split="train", preset="standard", seed=0, **settings):
    """Scene number ``index`` of a split: the same arguments always give the same scene.

    Each scene gets a number of digits drawn uniformly from ``digits``. Each
    digit is a random MNIST digit of the split, cropped to its ink, resized to
    a height drawn from ``scale`` and placed at random where its rectangle
    overlaps earlier ones by at most ``max_overlap`` and leaves at least
    ``min_visible`` of each earlier digit's ink visible; a digit that finds
    no such place in 25 tries is left out. Clutter is painted first, digits
    over it in order, noise last.

    Parameters
    ----------
    index : int
        Which scene of the split (>= 0). Scenes of one split differ from index
        to index and do not depend on each other, so any index can be made
        alone, in any order or process.
    split : {"train", "val", "test"}
        Which digits to draw from (disjoint sets, :func:`scene_split_digits`).
    preset : {"standard", "simple"}
        Settings to start from (:data:`SCENE_PRESETS`).
    seed : int
        Seed of the generator; another seed gives other scenes.
    **settings
        Settings overriding the preset's (see :func:`scene_settings`).

    Returns
    -------
    image : (H, W) float32 ndarray
    target : dict
        As in :class:`Scenes`.
    """
    index = check_int(index, "index", minimum=0)
    split = check_choice(split, "split", SCENE_SPLITS)
    seed = check_int(seed, "seed", minimum=0)
    return _make_scene(index, split, seed, scene_settings(preset, **settings))


def _make_scene(index, split, seed, settings):
    mnist, labels, crops = _digit_table()
    pool = _split_digits()[split]
    rng = np.random.default_rng([seed, _SPLIT_CODES[split], index])
    draws = _Draws(rng)
    size = settings["canvas_size"]
    canvas = _background(draws, size, settings)
    for _ in range(draws.count(settings["fragments"])):
        _paste_fragment(canvas, mnist[pool[draws.integer(0, len(pool))]], draws, settings)
    for _ in range(draws.count(settings["strokes"])):
        _paste_stroke(canvas, draws, settings)

    placed, visible, sources = [], [], []  # visible: (visible mask over the canvas, full ink pixel count)
    for source in [pool[draws.integer(0, len(pool))] for _ in range(draws.count(settings["digits"]))]:
        glyph = crops[source]
        height = max(2, min(size, int(round(size * draws.log_uniform(*settings["scale"])))))
        width = max(1, min(size, int(round(height * glyph.shape[1] / glyph.shape[0]))))
        ink, glyph_mask = _resize(glyph, height, width)
        full = int(np.count_nonzero(glyph_mask))
        if full == 0:
            continue
        spot = _place(draws, size, height, width, placed, visible, settings, glyph_mask)
        if spot is None:
            continue
        x, y = spot
        _paint(canvas, ink, x, y, draws.uniform(*settings["contrast"]))
        for mask, _ in visible:  # the new digit is on top: it hides the ink it covers
            mask[y:y + height, x:x + width] &= ~glyph_mask
        mask = np.zeros((size, size), dtype=bool)
        mask[y:y + height, x:x + width] = glyph_mask
        placed.append((x, y, x + width, y + height))
        visible.append((mask, full))
        sources.append(source)

    noise = draws.uniform(*settings["noise"])
    if noise > 0:
        canvas += noise * rng.standard_normal(canvas.shape, dtype=np.float32)
    np.clip(canvas, 0, 1, out=canvas)

    k = len(sources)
    masks = np.array([m for m, _ in visible], dtype=bool).reshape(k, size, size)
    boxes = np.zeros((k, 4), dtype=np.float32)
    for j, mask in enumerate(masks):  # the tight box of what is visible
        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        boxes[j] = cols[0], rows[0], cols[-1] + 1, rows[-1] + 1
    area = masks.reshape(k, size * size).sum(1).astype(np.float32)
    sources = np.array(sources, dtype=np.int64)
    target = {
        "boxes": boxes,
        "labels": labels[sources].astype(np.int64),
        "masks": masks,
        "area": area,
        "visible": (area / np.array([f for _, f in visible], dtype=np.float32).reshape(k)).astype(np.float32),
        "source": sources,
    }
    return canvas, target


def make_scenes(n_images, split="train", preset="standard", seed=0, start=0, **settings):
    """Scenes ``start`` to ``start + n_images - 1`` of a split, as one :class:`Scenes`.

    Image ``n`` equals ``make_scene(start + n, split, preset, seed, **settings)``,
    so ``make_scenes(100)`` and ``make_scenes(50)`` + ``make_scenes(50, start=50)``
    hold the same scenes.

    Parameters
    ----------
    n_images : int
        Number of scenes.
    split : {"train", "val", "test"}
    preset : {"standard", "simple"}
    seed : int
    start : int
        Index of the first scene.
    **settings
        Settings overriding the preset's (see :func:`scene_settings`).

    Returns
    -------
    Scenes
    """
    n_images = check_int(n_images, "n_images", minimum=0)
    split = check_choice(split, "split", SCENE_SPLITS)
    seed = check_int(seed, "seed", minimum=0)
    start = check_int(start, "start", minimum=0)
    resolved = scene_settings(preset, **settings)
    size = resolved["canvas_size"]
    images = np.zeros((n_images, size, size), dtype=np.float32)
    targets = []
    for n in range(n_images):
        images[n], target = _make_scene(start + n, split, seed, resolved)
        targets.append(target)
    return Scenes(images=images, targets=targets, split=split, settings={**resolved, "seed": seed, "start": start})


class SceneStream:
    """A long split whose scenes are made when asked: fresh data at every training step.

    ``stream[i]`` is ``make_scene(i, split, preset, seed, **settings)`` as
    ``(image, target)``; nothing is stored. With a length of a million, a
    model trained for a few thousand steps never sees a scene twice, and the
    result does not depend on the number of DataLoader workers (each scene is
    a function of its index alone).

    Parameters
    ----------
    split : {"train", "val", "test"}
    length : int
        Number of scenes the stream pretends to hold (>= 1).
    preset : {"standard", "simple"}
    seed : int
    **settings
        Settings overriding the preset's (see :func:`scene_settings`).
    """

    def __init__(self, split="train", length=1_000_000, preset="standard", seed=0, **settings):
        self.split = check_choice(split, "split", SCENE_SPLITS)
        self.length = check_int(length, "length", minimum=1)
        self.seed = check_int(seed, "seed", minimum=0)
        self.settings = scene_settings(preset, **settings)

    def __len__(self):
        return self.length

    def __getitem__(self, index):
        index = check_int(index, "index")
        if not -self.length <= index < self.length:
            raise IndexError(f"index {index} out of range for a stream of {self.length} scenes")
        return _make_scene(index % self.length, self.split, self.seed, self.settings)

    @property
    def canvas_size(self):
        return (self.settings["canvas_size"],) * 2

    def __repr__(self):
        return (f"SceneStream(split={self.split!r}, length={self.length}, preset={self.settings['preset']!r}, "
                f"seed={self.seed})")


def scene_statistics(scenes, area_ranges=None):
    """Counts that describe a set of scenes.

    Parameters
    ----------
    scenes : Scenes
    area_ranges : dict, optional
        Size buckets; default :func:`scene_area_ranges` of the canvas and preset.

    Returns
    -------
    dict
        ``objects_per_image`` (histogram: index = count), ``mean_objects``,
        ``sizes`` (objects per bucket ``small`` / ``medium`` / ``large``, by
        mask area), ``classes`` (objects per digit), ``box_heights`` (all
        box heights, pixels), ``areas`` (all mask areas) and ``visible`` (the
        visible fraction of every digit).
    """
    if not isinstance(scenes, Scenes):
        raise TypeError(f"scenes must be Scenes from make_scenes, got {type(scenes).__name__}")
    ranges = area_ranges or scene_area_ranges(scenes.canvas_size[0], scenes.settings.get("preset", "standard"))
    counts = np.array([len(t["labels"]) for t in scenes.targets], dtype=np.int64)

    def joined(key, shape, dtype):
        return np.concatenate([t[key] for t in scenes.targets] + [np.zeros(shape, dtype)])

    areas, boxes = joined("area", 0, np.float32), joined("boxes", (0, 4), np.float32)
    sizes = {}
    for name in ("small", "medium", "large"):
        low, high = ranges[name]
        # as in COCO both ends are inclusive; an area exactly on a threshold counts in both buckets
        sizes[name] = int(np.count_nonzero((areas >= low) & (areas <= high)))
    return {
        "objects_per_image": np.bincount(counts, minlength=1),
        "mean_objects": float(counts.mean()) if counts.size else 0.0,
        "sizes": sizes,
        "classes": np.bincount(joined("labels", 0, np.int64), minlength=10),
        "box_heights": boxes[:, 3] - boxes[:, 1],
        "areas": areas,
        "visible": joined("visible", 0, np.float32),
    }


def semantic_mask(target, shape, ignore_band=0, ignore_index=IGNORE_INDEX):
    """One class map from a scene's instance masks: 0 background, digit + 1 on a digit's ink.

    Parameters
    ----------
    target : dict
        One scene's target (``masks`` and ``labels``).
    shape : (H, W)
        Canvas shape.
    ignore_band : int
        Pixels within this many pixels (chessboard distance) of a pixel of
        another class get ``ignore_index``: a band along every edge of a
        digit, where the anti-aliased ink makes the class uncertain, that a
        loss and a metric can leave out. 0: no band.
    ignore_index : int
        Label of the band's pixels.

    Returns
    -------
    (H, W) int64 ndarray
    """
    ignore_band = check_int(ignore_band, "ignore_band", minimum=0)
    ignore_index = check_int(ignore_index, "ignore_index", minimum=11)
    out = np.zeros(tuple(shape), dtype=np.int64)
    for mask, label in zip(target["masks"], target["labels"]):
        out[np.asarray(mask, dtype=bool)] = int(label) + 1
    if ignore_band:
        from scipy import ndimage

        window = 2 * ignore_band + 1
        mixed = ndimage.maximum_filter(out, size=window, mode="nearest") != ndimage.minimum_filter(
            out, size=window, mode="nearest")
        out[mixed] = ignore_index
    return out


_VIEWS = ("detection", "instance", "semantic")


class SceneDataset:
    """Scenes as a torch ``Dataset``: a detection, instance or semantic-segmentation view.

    ``dataset[i]`` is ``(image, target)`` with ``image`` a float32 tensor of
    shape (1, H, W) and ``target``, by ``view``:

    - ``"detection"``: torchvision's detection format, a dict of ``boxes``
      (K, 4) float32, ``labels`` (K,) int64 (digit + ``label_offset``),
      ``area`` (K,) float32, ``iscrowd`` (K,) zeros and ``image_id`` (int);
    - ``"instance"``: the same plus ``masks`` (K, H, W) uint8 (Mask R-CNN's format);
    - ``"semantic"``: a class map (H, W) int64, 0 = background, digit + 1 on
      ink, ``IGNORE_INDEX`` in the optional ignore band (:func:`semantic_mask`).

    Give the loader ``collate_fn=dataset.collate_fn``.

    Parameters
    ----------
    scenes : Scenes or SceneStream
        Stored scenes, or a stream that makes each one when asked.
    view : {"detection", "instance", "semantic"}
    label_offset : int
        Added to the digits of the detection and instance views:
        torchvision's detectors reserve label 0 for the background, so pass 1
        for them.
    ignore_band : int
        Width of the semantic view's ignore band (0: none).
    """

    def __init__(self, scenes, view="detection", label_offset=0, ignore_band=0):
        if not isinstance(scenes, (Scenes, SceneStream)):
            raise TypeError(f"scenes must be Scenes (make_scenes) or a SceneStream, got {type(scenes).__name__}")
        self.scenes = scenes
        self.view = check_choice(view, "view", _VIEWS)
        self.label_offset = check_int(label_offset, "label_offset", minimum=0)
        self.ignore_band = check_int(ignore_band, "ignore_band", minimum=0)

    def __len__(self):
        return len(self.scenes)

    @property
    def collate_fn(self):
        """The collate function of this view, for ``torch.utils.data.DataLoader``."""
        return segmentation_collate if self.view == "semantic" else detection_collate

    def __getitem__(self, index):
        import torch

        index = check_int(index, "index")
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} scenes")
        index %= len(self)
        image, t = self.scenes[index]
        image = torch.from_numpy(np.array(image, dtype=np.float32))[None]
        if self.view == "semantic":
            return image, torch.from_numpy(semantic_mask(t, image.shape[1:], self.ignore_band))
        target = {
            "boxes": torch.from_numpy(t["boxes"].copy()),
            "labels": torch.from_numpy(t["labels"] + self.label_offset),
            "area": torch.from_numpy(t["area"].copy()),
            "iscrowd": torch.zeros(len(t["labels"]), dtype=torch.int64),
            "image_id": index,
        }
        if self.view == "instance":
            target["masks"] = torch.from_numpy(t["masks"].astype(np.uint8))
        return image, target


def _check_pairs(batch):
    if not isinstance(batch, (list, tuple)) or not all(isinstance(b, (list, tuple)) and len(b) == 2 for b in batch):
        raise TypeError("batch must be a list of (image, target) pairs")


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

    _check_pairs(batch)
    images, targets = zip(*batch) if batch else ((), ())
    return (torch.stack(images) if images else torch.zeros(0)), list(targets)


def segmentation_collate(batch):
    """Collate ``(image, class map)`` pairs into ``(B, C, H, W)`` images and ``(B, H, W)`` class maps.

    Parameters
    ----------
    batch : list of (tensor, tensor)

    Returns
    -------
    images : (B, C, H, W) float tensor
    class_maps : (B, H, W) int64 tensor
    """
    import torch

    _check_pairs(batch)
    if not batch:
        return torch.zeros(0), torch.zeros(0, dtype=torch.int64)
    images, maps = zip(*batch)
    return torch.stack(images), torch.stack(maps)


def fresh_scene_loader(steps, batch_size, view="detection", label_offset=0, split="train", seed=0, **settings):
    """Batches of scenes never seen before, ``steps`` of them: one new scene per example, no epochs.

    The training data of Parts 5 and 6: a :class:`SceneStream` of
    ``steps * batch_size`` scenes in a :class:`SceneDataset` view, in order
    (scene ``i`` is a function of the seed and ``i``, so the batches are the
    same on every run).

    Parameters
    ----------
    steps, batch_size : int
    view : {"detection", "instance", "semantic"}
    label_offset : int
        See :class:`SceneDataset` (1 for torchvision's detectors).
    split : str
    seed : int
    **settings
        Scene settings that override the preset (e.g. ``scale=(0.5, 0.9)``).

    Returns
    -------
    torch.utils.data.DataLoader
        With the view's collate function; ``len(loader) == steps``.
    """
    import torch

    steps = check_int(steps, "steps", minimum=1)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    scenes = SceneDataset(SceneStream(split, length=steps * batch_size, seed=seed, **settings), view=view,
                          label_offset=label_offset)
    return torch.utils.data.DataLoader(scenes, batch_size=batch_size, collate_fn=scenes.collate_fn)
