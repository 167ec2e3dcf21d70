"""Data augmentation on batches of image tensors, seeded.

Every function takes a batch ``images`` of shape (N, C, H, W) (float) and
its ``labels`` (N,) and returns a new ``(images, labels)`` pair; the inputs
are never modified. Each image gets its own random draw, from a
``torch.Generator`` seeded with ``seed``, so the same call gives the same
batch. Geometric transforms keep the labels; :func:`mixup` and
:func:`cutmix` mix them and return soft labels of shape (N, K). For
detection, :func:`mosaic_detection` and :func:`mixup_detection` take
torchvision-style targets (``boxes``, ``labels``) instead, and the boxes
follow the pixels.

The geometric transforms (:func:`rotate`, :func:`scale`, :func:`translate`)
share one routine, :func:`affine`: an affine sampling grid per image
(``torch.nn.functional.affine_grid``) and bilinear interpolation
(``grid_sample``), zeros outside the image. Tests check them against
``torch.flip``, ``torch.rot90``, ``torch.roll`` and
``torchvision.transforms.v2.functional.affine``.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from ._checks import check_choice, check_int, check_number

__all__ = [
    "affine",
    "flip",
    "rotate",
    "scale",
    "translate",
    "crop",
    "noise",
    "cutout",
    "mixup",
    "cutmix",
    "mosaic_detection",
    "mixup_detection",
    "one_hot",
    "augmented_loader",
]


def _check_batch(images, labels):
    if not isinstance(images, torch.Tensor) or not images.is_floating_point():
        raise TypeError(f"images must be a float torch.Tensor, got {type(images).__name__}"
                        + (f" of dtype {images.dtype}" if isinstance(images, torch.Tensor) else ""))
    if images.ndim != 4:
        raise ValueError(f"images must be a batch of shape (N, C, H, W), got shape {tuple(images.shape)}")
    if not isinstance(labels, torch.Tensor):
        raise TypeError(f"labels must be a torch.Tensor, got {type(labels).__name__}")
    if labels.shape[0] != images.shape[0]:
        raise ValueError(f"labels must have one entry per image ({images.shape[0]}), got shape {tuple(labels.shape)}")
    return images, labels


def _generator(seed):
    return torch.Generator().manual_seed(check_int(seed, "seed", minimum=0))


def _uniform(n, low, high, gen):
    return low + (high - low) * torch.rand(n, generator=gen, dtype=torch.float64)


def _range(value, name, minimum=None):
    """A number v means the range (-v, v); a pair is taken as (low, high)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise TypeError(f"{name} must be a number or a pair (low, high), got {value!r}")
        low, high = (check_number(v, f"{name}[{i}]", minimum=minimum) for i, v in enumerate(value))
        if low > high:
            raise ValueError(f"{name} must be (low, high) with low <= high, got {value!r}")
        return low, high
    v = check_number(value, name, minimum=0.0)
    return -v, v


def affine(images, angles, scales, shifts):
    """Rotate, scale and shift each image about its centre (bilinear, zeros outside).

    Parameters
    ----------
    images : (N, C, H, W) tensor
    angles : (N,) tensor
        Counter-clockwise rotation in degrees (as ``torchvision``'s rotate).
    scales : (N,) tensor
        Zoom factor: 2 shows the centre twice as large.
    shifts : (N, 2) tensor
        Shift in pixels, (dx to the right, dy downward).

    Returns
    -------
    (N, C, H, W) tensor
    """
    n, _, h, w = images.shape
    angles, scales, shifts = (torch.as_tensor(v, dtype=torch.float64) for v in (angles, scales, shifts))
    if angles.shape != (n,) or scales.shape != (n,) or shifts.shape != (n, 2):
        raise ValueError(f"angles and scales must have shape ({n},) and shifts ({n}, 2)")
    if torch.any(scales <= 0):
        raise ValueError("scales must be positive")
    # The grid maps each OUTPUT pixel to the input point it reads, in
    # normalized coordinates [-1, 1] (x right, y down): the inverse of the
    # wanted transform. A counter-clockwise rotation on screen (y down) is
    # the matrix [[cos, sin], [-sin, cos]]; its inverse is the transpose.
    a = torch.deg2rad(angles)
    cos, sin = torch.cos(a) / scales, torch.sin(a) / scales
    # pixel shifts in normalized units, undone after rotation/scaling
    tx, ty = -2 * shifts[:, 0] / w, -2 * shifts[:, 1] / h
    aspect = h / w  # rotations are in pixels, not in normalized units
    theta = torch.stack([
        torch.stack([cos, -sin * aspect, cos * tx - sin * aspect * ty], 1),
        torch.stack([sin / aspect, cos, sin / aspect * tx + cos * ty], 1),
    ], 1).to(images.dtype)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def flip(images, labels, p=0.5, seed=0):
    """Mirror each image left-right with probability ``p``."""
    images, labels = _check_batch(images, labels)
    p = check_number(p, "p", minimum=0.0, maximum=1.0)
    chosen = torch.rand(images.shape[0], generator=_generator(seed)) < p
    out = images.clone()
    out[chosen] = images[chosen].flip(-1)
    return out, labels.clone()


def rotate(images, labels, degrees=15.0, seed=0):
    """Rotate each image by an angle drawn uniformly from (-degrees, degrees) (or a (low, high) pair)."""
    images, labels = _check_batch(images, labels)
    low, high = _range(degrees, "degrees")
    n = images.shape[0]
    angles = _uniform(n, low, high, _generator(seed))
    return affine(images, angles, torch.ones(n), torch.zeros(n, 2)), labels.clone()


def scale(images, labels, factors=(0.8, 1.2), seed=0):
    """Zoom each image about its centre by a factor drawn uniformly from ``factors`` (low, high)."""
    images, labels = _check_batch(images, labels)
    if not isinstance(factors, (tuple, list)):
        raise TypeError(f"factors must be a pair (low, high), got {factors!r}")
    low, high = _range(factors, "factors", minimum=1e-3)
    n = images.shape[0]
    return affine(images, torch.zeros(n), _uniform(n, low, high, _generator(seed)), torch.zeros(n, 2)), labels.clone()


def translate(images, labels, max_shift=0.1, seed=0):
    """Shift each image by up to ``max_shift`` times its width / height in each direction."""
    images, labels = _check_batch(images, labels)
    max_shift = check_number(max_shift, "max_shift", minimum=0.0, maximum=1.0)
    n, _, h, w = images.shape
    gen = _generator(seed)
    shifts = torch.stack([_uniform(n, -max_shift * w, max_shift * w, gen),
                          _uniform(n, -max_shift * h, max_shift * h, gen)], 1)
    return affine(images, torch.zeros(n), torch.ones(n), shifts), labels.clone()


def crop(images, labels, padding=4, seed=0):
    """Pad each image with ``padding`` zeros and cut a random window of the original size.

    The usual small-image augmentation (CIFAR, MNIST): a random shift by
    whole pixels, at most ``padding`` in each direction.
    """
    images, labels = _check_batch(images, labels)
    padding = check_int(padding, "padding", minimum=0)
    n, _, h, w = images.shape
    padded = F.pad(images, (padding,) * 4)
    offsets = torch.randint(0, 2 * padding + 1, (n, 2), generator=_generator(seed))
    out = torch.stack([padded[i, :, r:r + h, c:c + w] for i, (r, c) in enumerate(offsets.tolist())])
    return out, labels.clone()


def noise(images, labels, std=0.1, seed=0):
    """Add Gaussian noise of standard deviation ``std`` to every pixel (no clipping)."""
    images, labels = _check_batch(images, labels)
    std = check_number(std, "std", minimum=0.0)
    gen = _generator(seed)
    return images + std * torch.randn(images.shape, generator=gen, dtype=images.dtype), labels.clone()


def cutout(images, labels, size=8, patches=1, fill=0.0, seed=0):
    """Blank out ``patches`` squares of ``size`` x ``size`` pixels at random places in each image.

    Parameters
    ----------
    size : int
        Side of each square (clipped at the image border; the centre is
        drawn anywhere in the image, as in DeVries & Taylor 2017).
    patches : int
        Squares per image (1-3 is typical).
    fill : float or "mean"
        Value written into the squares: a number, or ``"mean"`` for each
        image's own per-channel mean.
    """
    images, labels = _check_batch(images, labels)
    size = check_int(size, "size", minimum=1)
    patches = check_int(patches, "patches", minimum=1)
    if isinstance(fill, str):
        check_choice(fill, "fill", ("mean",))
    else:
        fill = check_number(fill, "fill")
    n, c, h, w = images.shape
    gen = _generator(seed)
    centres_y = torch.randint(0, h, (n, patches), generator=gen)
    centres_x = torch.randint(0, w, (n, patches), generator=gen)
    rows = torch.arange(h).view(1, 1, h, 1)
    cols = torch.arange(w).view(1, 1, 1, w)
    top, left = centres_y - size // 2, centres_x - size // 2
    inside = ((rows >= top[..., None, None]) & (rows < top[..., None, None] + size)
              & (cols >= left[..., None, None]) & (cols < left[..., None, None] + size))
    mask = inside.any(dim=1, keepdim=True)  # (N, 1, H, W): union of the patches
    value = images.mean(dim=(2, 3), keepdim=True) if fill == "mean" else torch.tensor(fill, dtype=images.dtype)
    return torch.where(mask, value, images), labels.clone()


def one_hot(labels, num_classes):
    """(N,) integer labels as (N, K) float one-hot rows."""
    if not isinstance(labels, torch.Tensor) or labels.dtype not in (torch.int64, torch.int32, torch.uint8):
        raise TypeError("labels must be an integer torch.Tensor of class indices")
    num_classes = check_int(num_classes, "num_classes", minimum=1)
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must be class indices in [0, {num_classes - 1}]")
    return F.one_hot(labels.long(), num_classes).float()


def _soft(labels, num_classes, dtype):
    """Labels as (N, K) rows of probabilities in ``dtype`` (integer labels become one-hot)."""
    if labels.ndim == 2:
        if labels.shape[1] != check_int(num_classes, "num_classes", minimum=1):
            raise ValueError(f"labels must have num_classes={num_classes} columns, got shape {tuple(labels.shape)}")
        return labels.to(dtype)
    return one_hot(labels, num_classes).to(dtype)


def _beta(alpha, n, generator):
    """``n`` draws of Beta(alpha, alpha) in float64, from ``generator``.

    Drawn as G1 / (G1 + G2) with two Gamma(alpha) variables, because
    ``torch.distributions.Beta`` cannot take a generator and the batch
    functions must be reproducible from their seed alone.
    """
    shape = torch.full((n,), alpha, dtype=torch.float64)
    g1 = torch._standard_gamma(shape, generator=generator)
    g2 = torch._standard_gamma(shape, generator=generator)
    return g1 / (g1 + g2)


def mixup(images, labels, num_classes, alpha=0.2, seed=0):
    """Blend each image with another of the batch: ``lam x_i + (1 - lam) x_j``, labels likewise.

    ``lam ~ Beta(alpha, alpha)`` per image, ``j`` a random permutation of the
    batch (Zhang et al. 2018).

    Returns
    -------
    images : (N, C, H, W) tensor
    soft_labels : (N, K) tensor
        Rows sum to 1: ``lam`` on the own class, ``1 - lam`` on the partner's.
    """
    images, labels = _check_batch(images, labels)
    alpha = check_number(alpha, "alpha", minimum=0.0, strict_minimum=True)
    n = images.shape[0]
    soft = _soft(labels, num_classes, images.dtype)
    gen = _generator(seed)
    partner = torch.randperm(n, generator=gen)
    lam = _beta(alpha, n, gen).to(images.dtype)
    mixed = lam.view(n, 1, 1, 1) * images + (1 - lam.view(n, 1, 1, 1)) * images[partner]
    return mixed, lam.view(n, 1) * soft + (1 - lam.view(n, 1)) * soft[partner]


def cutmix(images, labels, num_classes, alpha=1.0, seed=0):
    """Paste a random box of another image of the batch; labels mixed by area (Yun et al. 2019).

    The box covers a share ``1 - lam`` of the image (``lam ~ Beta(alpha,
    alpha)``), centred anywhere and clipped at the border; the label weight
    of the partner is the box's actual (clipped) area share.

    Returns
    -------
    images : (N, C, H, W) tensor
    soft_labels : (N, K) tensor
    """
    images, labels = _check_batch(images, labels)
    alpha = check_number(alpha, "alpha", minimum=0.0, strict_minimum=True)
    n, _, h, w = images.shape
    soft = _soft(labels, num_classes, images.dtype)
    gen = _generator(seed)
    partner = torch.randperm(n, generator=gen)
    lam = _beta(alpha, n, gen)
    cut = torch.sqrt(1 - lam)
    box_h, box_w = (cut * h).long(), (cut * w).long()
    cy = torch.randint(0, h, (n,), generator=gen)
    cx = torch.randint(0, w, (n,), generator=gen)
    top, bottom = (cy - box_h // 2).clamp(0, h), (cy + box_h - box_h // 2).clamp(0, h)
    left, right = (cx - box_w // 2).clamp(0, w), (cx + box_w - box_w // 2).clamp(0, w)
    rows, cols = torch.arange(h).view(1, h, 1), torch.arange(w).view(1, 1, w)
    box = ((rows >= top.view(n, 1, 1)) & (rows < bottom.view(n, 1, 1))
           & (cols >= left.view(n, 1, 1)) & (cols < right.view(n, 1, 1))).unsqueeze(1)
    mixed = torch.where(box, images[partner], images)
    share = box.flatten(1).to(images.dtype).mean(1).view(n, 1)  # partner's area share
    return mixed, (1 - share) * soft + share * soft[partner]



def _check_detection_batch(images, targets):
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or not images.is_floating_point():
        raise TypeError(f"images must be a float tensor (N, C, H, W), got {type(images).__name__}")
    if not isinstance(targets, (list, tuple)) or len(targets) != images.shape[0] or not all(
            isinstance(t, dict) and {"boxes", "labels"} <= set(t) for t in targets):
        raise ValueError(f"targets must be a list of {images.shape[0]} dicts with boxes and labels")
    return [{"boxes": torch.as_tensor(t["boxes"], dtype=torch.float32).reshape(-1, 4),
             "labels": torch.as_tensor(t["labels"]).reshape(-1)} for t in targets]


def mosaic_detection(images, targets, seed=0):
    """Mosaic (YOLOv4): each output tiles four images of the batch, each shrunk to half size.

    Output ``i`` puts image ``i`` top left and three others drawn at random
    top right, bottom left and bottom right, each averaged over 2 x 2 pixel
    blocks; its boxes are halved and shifted with their image, so they still
    frame the same pixels. One scene then holds four scenes' objects, at half
    their size: more, and smaller, objects per step.

    Parameters
    ----------
    images : (N, C, H, W) float tensor
        H and W even.
    targets : list of N dicts
        ``boxes`` (G, 4) corners in pixels and ``labels`` (G,).
    seed : int

    Returns
    -------
    images : (N, C, H, W) tensor
    targets : list of N dicts (``boxes``, ``labels``)
    """
    targets = _check_detection_batch(images, targets)
    n, _, height, width = images.shape
    if height % 2 or width % 2:
        raise ValueError(f"images must have an even height and width, got {height} x {width}")
    small = F.avg_pool2d(images, 2)
    gen = _generator(seed)
    out, out_targets = torch.empty_like(images), []
    corners = [(0, 0), (width // 2, 0), (0, height // 2), (width // 2, height // 2)]
    for i in range(n):
        chosen = [i] + torch.randint(0, n, (3,), generator=gen).tolist()
        boxes, labels = [], []
        for k, (x0, y0) in zip(chosen, corners):
            out[i, :, y0:y0 + height // 2, x0:x0 + width // 2] = small[k]
            shift = torch.tensor([x0, y0, x0, y0], dtype=torch.float32)
            boxes.append(targets[k]["boxes"] / 2 + shift)
            labels.append(targets[k]["labels"])
        out_targets.append({"boxes": torch.cat(boxes), "labels": torch.cat(labels)})
    return out, out_targets


def mixup_detection(images, targets, alpha=1.5, seed=0):
    """Mixup for detection (Zhang et al., 2019, "Bag of Freebies"): blend two scenes and keep both sets of boxes.

    ``lam x_i + (1 - lam) x_j`` with ``lam ~ Beta(alpha, alpha)`` per image
    and ``j`` a random permutation of the batch. The boxes of both images
    are kept where they were (the images are not moved); each box also gets
    a ``weights`` entry, ``lam`` or ``1 - lam``, for a loss that wants to
    weight faint objects less.

    Returns
    -------
    images : (N, C, H, W) tensor
    targets : list of N dicts (``boxes``, ``labels``, ``weights``)
    """
    targets = _check_detection_batch(images, targets)
    alpha = check_number(alpha, "alpha", minimum=0.0, strict_minimum=True)
    n = images.shape[0]
    gen = _generator(seed)
    partner = torch.randperm(n, generator=gen)
    lam = _beta(alpha, n, gen).to(images.dtype)
    mixed = lam.view(n, 1, 1, 1) * images + (1 - lam.view(n, 1, 1, 1)) * images[partner]
    out_targets = []
    for i in range(n):
        own, other = targets[i], targets[int(partner[i])]
        out_targets.append({"boxes": torch.cat([own["boxes"], other["boxes"]]),
                            "labels": torch.cat([own["labels"], other["labels"]]),
                            "weights": torch.cat([torch.full((len(own["boxes"]),), float(lam[i])),
                                                  torch.full((len(other["boxes"]),), 1 - float(lam[i]))])})
    return mixed, out_targets


def augmented_loader(x, y, transforms, batch_size=64, seed=0):
    """A shuffled DataLoader whose every batch passes through ``transforms``.

    Augmentation "on the fly": each epoch sees new random versions of the
    training images. Reproducible: the shuffling and the seed of each
    batch's transforms follow from ``seed`` (batch k of the loader's life
    uses seeds derived from k, so epoch 2 differs from epoch 1).

    Parameters
    ----------
    x : (N, C, H, W) float tensor
    y : (N,) tensor
    transforms : list of callables
        Each called as ``t(images, labels, seed=...)`` and returning
        ``(images, labels)``, e.g. ``functools.partial(rotate, degrees=15)``.
    batch_size : int
    seed : int

    Returns
    -------
    torch.utils.data.DataLoader
        Usable wherever a loader is, e.g. ``course_utils.train.fit``.
    """
    _check_batch(x, y)
    if not isinstance(transforms, (list, tuple)) or not all(callable(t) for t in transforms):
        raise TypeError("transforms must be a list of callables t(images, labels, seed=...)")
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    batches = itertools.count()

    def collate(samples):
        images = torch.stack([s[0] for s in samples])
        labels = torch.stack([s[1] for s in samples])
        k = next(batches)
        for i, transform in enumerate(transforms):
            images, labels = transform(images, labels, seed=(seed * 1_000_003 + k * len(transforms) + i) % 2**62)
        return images, labels

    generator = torch.Generator().manual_seed(seed)
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True, generator=generator,
                      collate_fn=collate)
