"""Tests of course_utils.augment against torch / torchvision operations.

Tolerances: the affine warps equal ``torchvision.transforms.v2.functional``
``affine`` (angle sign flipped: torchvision's affine turns clockwise) and
``rotate`` to 1e-6 (torchvision builds its matrix in float32); flips,
quarter turns and whole-pixel shifts are exact to 1e-12.
"""

import numpy as np
import pytest
import torch
import torchvision.transforms.v2.functional as TF

from course_utils import augment as A

BILINEAR = TF.InterpolationMode.BILINEAR


def batch(n=6, c=3, h=9, w=13, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, c, h, w, generator=g, dtype=torch.float64), torch.arange(n) % 4


def test_affine_matches_torchvision():
    rng = np.random.default_rng(0)
    for seed in range(12):
        x, _ = batch(2, 2, int(rng.integers(5, 20)), int(rng.integers(5, 20)), seed)
        angle, scale = float(rng.uniform(-180, 180)), float(rng.uniform(0.5, 2))
        shift = [float(v) for v in rng.uniform(-3, 3, 2)]
        ours = A.affine(x, torch.full((2,), angle), torch.full((2,), scale), torch.tensor([shift, shift]))
        ref = TF.affine(x, angle=-angle, translate=shift, scale=scale, shear=[0.0, 0.0], interpolation=BILINEAR)
        assert (ours - ref).abs().max() < 1e-6
        only_rotation = A.affine(x, torch.full((2,), angle), torch.ones(2), torch.zeros(2, 2))
        assert (only_rotation - TF.rotate(x, angle, interpolation=BILINEAR)).abs().max() < 1e-6


def test_exact_cases():
    x, _ = batch(3, 2, 8, 8)
    n = x.shape[0]
    quarter = A.affine(x, torch.full((n,), 90.0), torch.ones(n), torch.zeros(n, 2))
    assert (quarter - torch.rot90(x, 1, (2, 3))).abs().max() < 1e-12
    shifted = A.affine(x, torch.zeros(n), torch.ones(n), torch.tensor([[2.0, 1.0]] * n))
    expected = torch.zeros_like(x)
    expected[..., 1:, 2:] = x[..., :-1, :-2]
    assert (shifted - expected).abs().max() < 1e-12
    same = A.affine(x, torch.zeros(n), torch.ones(n), torch.zeros(n, 2))
    assert (same - x).abs().max() < 1e-12


def test_flip():
    x, y = batch(40)
    out, labels = A.flip(x, y, p=0.5, seed=3)
    flipped = [bool((out[i] == x[i].flip(-1)).all()) for i in range(40)]
    kept = [bool((out[i] == x[i]).all()) for i in range(40)]
    assert all(f or k for f, k in zip(flipped, kept)) and 10 < sum(flipped) < 30
    assert torch.equal(labels, y)
    assert torch.equal(A.flip(x, y, p=1.0)[0], x.flip(-1))
    assert torch.equal(A.flip(x, y, p=0.0)[0], x)


def test_seeded_and_inputs_untouched():
    x, y = batch()
    before = x.clone()
    for fn in (A.flip, A.rotate, A.translate, A.crop, A.noise, A.cutout):
        a, _ = fn(x, y, seed=5)
        b, _ = fn(x, y, seed=5)
        c, _ = fn(x, y, seed=6)
        assert torch.equal(a, b), fn.__name__
        assert not torch.equal(a, c), fn.__name__
    a, _ = A.scale(x, y, (0.8, 1.2), seed=1)
    assert torch.equal(a, A.scale(x, y, (0.8, 1.2), seed=1)[0])
    assert torch.equal(x, before)


def test_rotate_scale_translate_use_affine():
    x, y = batch()
    out, _ = A.rotate(x, y, degrees=(30, 30))
    assert (out - TF.rotate(x, 30.0, interpolation=BILINEAR)).abs().max() < 1e-6
    out, _ = A.scale(x, y, factors=(1.0, 1.0))
    assert (out - x).abs().max() < 1e-12
    out, _ = A.translate(x, y, max_shift=0.0)
    assert (out - x).abs().max() < 1e-12


def test_crop_is_a_whole_pixel_shift():
    x, y = batch(10, 1, 12, 12)
    out, _ = A.crop(x, y, padding=3, seed=2)
    padded = torch.nn.functional.pad(x, (3, 3, 3, 3))
    for i in range(10):
        windows = [padded[i, :, r:r + 12, c:c + 12] for r in range(7) for c in range(7)]
        assert any(torch.equal(out[i], wnd) for wnd in windows)
    assert torch.equal(A.crop(x, y, padding=0)[0], x)


def test_noise_statistics():
    x = torch.zeros(4, 1, 64, 64, dtype=torch.float64)
    out, _ = A.noise(x, torch.zeros(4), std=0.3, seed=0)
    assert abs(out.std().item() - 0.3) < 0.01 and abs(out.mean().item()) < 0.01


def test_cutout():
    x = torch.ones(20, 2, 16, 16, dtype=torch.float64) * torch.arange(1, 21, dtype=torch.float64).view(20, 1, 1, 1)
    y = torch.arange(20)
    out, labels = A.cutout(x, y, size=4, patches=1, fill=0.0, seed=0)
    zeros = (out == 0).all(dim=1).flatten(1).sum(1)
    assert zeros.max() <= 16 and zeros.min() >= 4  # a 4x4 square, possibly clipped at the border
    assert torch.equal(labels, y)
    out3, _ = A.cutout(x, y, size=4, patches=3, seed=0)
    assert (out3 == 0).flatten(1).sum(1).float().mean() > (out == 0).flatten(1).sum(1).float().mean()
    img = torch.rand(5, 3, 10, 10, dtype=torch.float64)
    filled, _ = A.cutout(img, torch.arange(5), size=3, fill="mean", seed=1)
    changed = filled != img
    means = img.mean(dim=(2, 3), keepdim=True).expand_as(img)
    assert torch.allclose(filled[changed], means[changed])


def test_mixup():
    x, _ = batch(8)
    y = torch.arange(8)  # one class per image: a soft label names the partner and lambda
    out, soft = A.mixup(x, y, num_classes=8, alpha=0.4, seed=0)
    assert soft.shape == (8, 8)
    assert torch.allclose(soft.sum(1), torch.ones(8, dtype=soft.dtype))
    for i in range(8):
        lam = soft[i, i].item()
        others = [j for j in range(8) if j != i and soft[i, j] > 0]
        j = others[0] if others else i
        assert torch.allclose(out[i], lam * x[i] + (1 - lam) * x[j]), i
    assert torch.equal(A.mixup(x, y, 8, alpha=0.4, seed=0)[0], out)  # seeded
    soft_in = A.one_hot(y, 8)
    assert torch.allclose(A.mixup(x, soft_in, 8, alpha=0.4, seed=0)[1], soft)  # soft labels accepted


def test_mixup_lambda_distribution():
    x = torch.zeros(2000, 1, 2, 2, dtype=torch.float64)
    y = torch.zeros(2000, dtype=torch.long)
    y[1000:] = 1
    _, soft = A.mixup(x, y, 2, alpha=0.2, seed=0)
    # Beta(0.2, 0.2) puts most of its mass near 0 and 1
    own = soft[torch.arange(2000), y]
    assert ((own > 0.9) | (own < 0.1)).float().mean() > 0.5


def test_cutmix_labels_follow_area():
    n, h, w = 16, 10, 12
    x = torch.arange(n, dtype=torch.float64).view(n, 1, 1, 1).expand(n, 1, h, w).clone() + 100
    y = torch.arange(n) % 4
    out, soft = A.cutmix(x, y, num_classes=4, alpha=1.0, seed=0)
    assert torch.allclose(soft.sum(1), torch.ones(n, dtype=soft.dtype))
    for i in range(n):
        own_share = (out[i] == x[i, 0, 0, 0]).float().mean().item()
        partner_values = out[i][out[i] != x[i, 0, 0, 0]].unique()
        assert partner_values.numel() <= 1
        if partner_values.numel():
            j = int(partner_values.item() - 100)
            assert soft[i, y[j]].item() == pytest.approx(1 - own_share + (own_share if y[j] == y[i] else 0))


def test_augmented_loader():
    import functools

    x, y = batch(10)
    make = lambda: A.augmented_loader(x, y, [functools.partial(A.rotate, degrees=20), A.noise], 4, seed=1)  # noqa: E731
    first = [b for _ in range(2) for b in make()]
    second = [b for _ in range(2) for b in make()]
    assert all(torch.equal(a[0], b[0]) for a, b in zip(first, second))  # reproducible
    loader = make()
    epoch1, epoch2 = [b[0] for b in loader], [b[0] for b in loader]
    assert not torch.equal(epoch1[0], epoch2[0])  # new versions every epoch
    assert sum(len(b[1]) for b in make()) == 10
    with pytest.raises(TypeError, match="transforms must be a list"):
        A.augmented_loader(x, y, A.noise)


def test_bad_arguments():
    x, y = batch()
    with pytest.raises(TypeError, match="images must be a float torch.Tensor"):
        A.flip(x.numpy(), y)
    with pytest.raises(TypeError, match="images must be a float torch.Tensor"):
        A.flip((x * 255).to(torch.uint8), y)
    with pytest.raises(ValueError, match=r"images must be a batch of shape \(N, C, H, W\)"):
        A.flip(x[0], y)
    with pytest.raises(ValueError, match="labels must have one entry per image"):
        A.rotate(x, y[:2])
    with pytest.raises(ValueError, match="p must be <= 1"):
        A.flip(x, y, p=2)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        A.noise(x, y, seed=-1)
    with pytest.raises(ValueError, match="fill must be one of 'mean'"):
        A.cutout(x, y, fill="median")
    with pytest.raises(ValueError, match="degrees must be"):
        A.rotate(x, y, degrees=(10, -10))
    with pytest.raises(TypeError, match="factors must be a pair"):
        A.scale(x, y, factors=1.2)
    with pytest.raises(ValueError, match="labels must be class indices"):
        A.mixup(x, y, num_classes=2)
    with pytest.raises(ValueError, match="alpha must be > 0"):
        A.cutmix(x, y, 4, alpha=0)
    with pytest.raises(ValueError, match="scales must be positive"):
        A.affine(x, torch.zeros(6), torch.zeros(6), torch.zeros(6, 2))


def _rectangles(boxes_per_image, size=64):
    """Images whose only bright pixels fill their boxes (even corners), and the matching targets."""
    images = torch.zeros(len(boxes_per_image), 1, size, size)
    targets = []
    for i, boxes in enumerate(boxes_per_image):
        for x1, y1, x2, y2 in boxes:
            images[i, 0, y1:y2, x1:x2] = 1.0
        targets.append({"boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
                        "labels": torch.arange(len(boxes))})
    return images, targets


def test_mosaic_detection_boxes_follow_the_pixels():
    from course_utils.augment import mosaic_detection

    images, targets = _rectangles([[(4, 6, 20, 30)], [(40, 10, 60, 40)], [(10, 44, 30, 62)], [(30, 30, 50, 50)]])
    out, new = mosaic_detection(images, targets, seed=3)
    assert out.shape == images.shape and len(new) == 4
    for image, t in zip(out, new):
        assert len(t["boxes"]) == 4 and len(t["labels"]) == 4
        drawn = torch.zeros(64, 64)
        for x1, y1, x2, y2 in t["boxes"].round().long().tolist():
            drawn[y1:y2, x1:x2] = 1.0
        assert torch.equal((image[0] > 0).float(), drawn), "every box frames exactly the pixels of its object"
    # image i keeps its own objects, in the top-left quarter
    assert torch.equal(new[0]["boxes"][0], torch.tensor([2.0, 3, 10, 15]))
    again, _ = mosaic_detection(images, targets, seed=3)
    assert torch.equal(out, again)
    with pytest.raises(ValueError, match="even height and width"):
        mosaic_detection(torch.zeros(1, 1, 5, 6), [{"boxes": torch.zeros(0, 4), "labels": torch.zeros(0)}])


def test_mixup_detection_blends_images_and_keeps_both_box_sets():
    from course_utils.augment import mixup_detection

    images, targets = _rectangles([[(4, 6, 20, 30)], [(40, 10, 60, 40), (0, 0, 8, 8)], [(10, 44, 30, 62)]])
    out, new = mixup_detection(images, targets, seed=1)
    for i, t in enumerate(new):
        lam = float(t["weights"][0])
        partner = [j for j in range(3) if len(targets[j]["boxes"]) == len(t["boxes"]) - len(targets[i]["boxes"])
                   and torch.equal(t["boxes"][len(targets[i]["boxes"]):], targets[j]["boxes"])][0]
        torch.testing.assert_close(out[i], lam * images[i] + (1 - lam) * images[partner])
        assert torch.equal(t["boxes"][:len(targets[i]["boxes"])], targets[i]["boxes"])
        assert torch.allclose(t["weights"][len(targets[i]["boxes"]):], torch.tensor(1 - lam))
    with pytest.raises(ValueError, match="targets must be a list of 3 dicts"):
        mixup_detection(images, targets[:2])
