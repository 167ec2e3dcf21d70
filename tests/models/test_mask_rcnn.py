"""MaskRCNN: only the mask branch learns; eval outputs masks inside the detector's boxes."""

import pytest
import torch

from course_utils import data, models


@pytest.fixture(scope="module")
def batch():
    scenes = data.SceneDataset(data.make_scenes(4, "val", seed=3), view="instance", label_offset=1)
    images = torch.stack([scenes[i][0] for i in range(4)])
    return images, [scenes[i][1] for i in range(4)]


@pytest.mark.parametrize("image_channels", [0, 1])
def test_training_moves_only_the_mask_branch(batch, image_channels):
    torch.manual_seed(0)
    model = models.MaskRCNN(models.torchvision_faster_rcnn(), models.MaskHead(image_channels=image_channels),
                            pool_size=7).train()
    assert not model.detector.training, "the frozen detector stays in eval mode"
    before = {k: v.clone() for k, v in model.detector.state_dict().items()}
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    losses = model(*batch)
    assert set(losses) == {"loss_mask"} and torch.isfinite(losses["loss_mask"])
    losses["loss_mask"].backward()
    optimizer.step()
    assert all(torch.equal(v, model.detector.state_dict()[k]) for k, v in before.items())
    assert all(p.grad is not None for p in model.mask_head.parameters())


def test_eval_masks_lie_in_their_boxes(batch):
    torch.manual_seed(1)
    model = models.MaskRCNN(models.torchvision_faster_rcnn(), pool_size=7).eval()
    model.detector.roi_heads.score_thresh = 0.0  # an untrained detector: keep its detections
    images, _ = batch
    with torch.no_grad():
        out = model(images)
    assert len(out) == len(images)
    for d in out:
        k = len(d["boxes"])
        assert d["masks"].shape == (k, 64, 64) and d["masks"].dtype == torch.bool
        assert d["mask_scores"].shape == (k, 64, 64)
        for mask, box in zip(d["mask_scores"], d["boxes"]):
            ys, xs = torch.nonzero(mask > 0, as_tuple=True)
            if len(ys):  # pasted inside the box grown by the one-pixel padding (paste_masks)
                width, height = box[2] - box[0], box[3] - box[1]
                assert xs.min() >= box[0] - width / 7 - 1 and xs.max() <= box[2] + width / 7 + 1
                assert ys.min() >= box[1] - height / 7 - 1 and ys.max() <= box[3] + height / 7 + 1


def test_bad_inputs_name_the_argument(batch):
    with pytest.raises(TypeError, match="detector"):
        models.MaskRCNN("not a model")
    head = models.MaskHead(image_channels=1)
    with pytest.raises(ValueError, match="image_crops"):
        head(torch.zeros(2, 64, 7, 7))
    model = models.MaskRCNN(models.torchvision_faster_rcnn(), pool_size=7).train()
    with pytest.raises(ValueError, match="targets are needed"):
        model(batch[0])
