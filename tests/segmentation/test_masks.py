"""Mask R-CNN's mask targets, loss and pasting, equal to torchvision's roi_heads functions."""

import pytest
import torch
from torchvision.models.detection import roi_heads

from course_utils import data
from course_utils.segmentation import mask_loss, mask_targets, paste_masks


def scene_masks_and_boxes(seed, n_images=8):
    scenes = data.make_scenes(n_images, "val", seed=seed)
    generator = torch.Generator().manual_seed(seed)
    for t in scenes.targets:
        masks = torch.from_numpy(t["masks"].astype("uint8"))
        boxes = torch.from_numpy(t["boxes"]).double()
        matched = torch.randint(0, len(masks), (12,), generator=generator)
        jitter = torch.randn(12, 4, generator=generator, dtype=torch.float64) * 3  # proposals around the objects
        proposals = boxes[matched] + jitter
        proposals = torch.cat([torch.minimum(proposals[:, :2], proposals[:, 2:]),
                               torch.maximum(proposals[:, :2], proposals[:, 2:]) + 0.5], dim=1)
        yield masks, proposals, matched


@pytest.mark.parametrize("size", [7, 14, 28])
def test_mask_targets_equal_torchvision(size):
    for masks, proposals, matched in scene_masks_and_boxes(seed=size):
        ours = mask_targets(masks, proposals, matched, size)
        theirs = roi_heads.project_masks_on_boxes(masks, proposals, matched, size)
        torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-12)
        assert ours.min() >= 0 and ours.max() <= 1 + 1e-12


def test_mask_loss_equals_torchvision():
    generator = torch.Generator().manual_seed(0)
    for masks, proposals, matched in scene_masks_and_boxes(seed=1, n_images=4):
        labels_of_objects = torch.randint(1, 6, (len(masks),), generator=generator)
        logits = torch.randn(len(proposals), 6, 14, 14, generator=generator, dtype=torch.float64)
        targets = mask_targets(masks, proposals, matched, 14)
        ours = mask_loss(logits, labels_of_objects[matched], targets)
        theirs = roi_heads.maskrcnn_loss(logits, [proposals], [masks], [labels_of_objects], [matched])
        torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-12)
    empty = torch.zeros(0, 6, 14, 14, requires_grad=True)
    assert mask_loss(empty, torch.zeros(0, dtype=torch.int64), torch.zeros(0, 14, 14)) == 0


@pytest.mark.parametrize("padding", [0, 1, 2])
def test_paste_masks_equals_torchvision(padding):
    generator = torch.Generator().manual_seed(padding)
    for trial in range(20):
        n, m = int(torch.randint(1, 8, (1,), generator=generator)), [14, 28][trial % 2]
        masks = torch.rand(n, m, m, generator=generator, dtype=torch.float64)
        if trial % 2:  # boxes across the image's edges (torchvision's rule needs some overlap with the image)
            xy = torch.rand(n, 2, generator=generator, dtype=torch.float64) * 70 - 8
            wh = torch.rand(n, 2, generator=generator, dtype=torch.float64) * 30 + 10
        else:  # boxes inside, down to a fraction of a pixel
            xy = torch.rand(n, 2, generator=generator, dtype=torch.float64) * 60
            wh = torch.rand(n, 2, generator=generator, dtype=torch.float64) * 20 + 0.2
        boxes = torch.cat([xy, xy + wh], dim=1)
        ours = paste_masks(masks, boxes, (64, 72), padding)
        theirs = roi_heads.paste_masks_in_image(masks[:, None], boxes, (64, 72), padding)[:, 0]
        torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-12)


def test_bad_inputs_name_the_argument():
    masks = torch.zeros(2, 8, 8)
    with pytest.raises(ValueError, match="boxes must be"):
        mask_targets(masks, torch.zeros(3, 5), torch.zeros(3, dtype=torch.int64))
    with pytest.raises(ValueError, match="matched indices"):
        mask_targets(masks, torch.zeros(1, 4), torch.tensor([2]))
    with pytest.raises(ValueError, match="one row per detection"):
        paste_masks(torch.zeros(2, 7, 7), torch.zeros(3, 4), (10, 10))
    with pytest.raises(ValueError, match="targets"):
        mask_loss(torch.zeros(2, 3, 7, 7), torch.zeros(2, dtype=torch.int64), torch.zeros(2, 5, 5))
