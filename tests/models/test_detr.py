"""The small DETR: position encoding formula, shapes, one answer per query without NMS, a training step, matching."""

import math

import pytest
import torch

from course_utils import data, detection
from course_utils.models import detr


def test_sine_position_encoding_is_the_formula():
    code = detr.sine_position_encoding(3, 5, 8, temperature=100.0)
    assert code.shape == (15, 8) and code.dtype == torch.float32
    for row in range(3):
        for col in range(5):
            y, x = (row + 1) / 3 * 2 * math.pi, (col + 1) / 5 * 2 * math.pi
            expected = []
            for value in (y, x):
                for k in range(2):
                    angle = value / 100.0 ** (2 * k / 4)
                    expected += [math.sin(angle), math.cos(angle)]
            torch.testing.assert_close(code[row * 5 + col].double(), torch.tensor(expected, dtype=torch.float64),
                                       rtol=0, atol=1e-6)
    assert len(set(map(tuple, detr.sine_position_encoding(16, 16, 64).tolist()))) == 256  # every token its own code
    with pytest.raises(ValueError, match="dim must be a multiple of 4"):
        detr.sine_position_encoding(4, 4, 6)
    with pytest.raises(ValueError, match="height must be >= 1"):
        detr.sine_position_encoding(0, 4, 8)


def _batch(n=4, seed=0):
    scenes = data.SceneDataset(data.make_scenes(n, "train", seed=seed))
    return data.detection_collate([scenes[i] for i in range(n)])


def test_detr_trains_one_step_and_answers_once_per_query():
    torch.manual_seed(0)
    model = detr.DETR(queries=8, decoder_layers=2, dim=32, mlp_dim=64, width=16, heads=2)
    images, targets = _batch()
    losses = model(images, targets)
    assert set(losses) == {"loss_class", "loss_l1", "loss_giou"}
    sum(losses.values()).backward()
    assert all(p.grad is not None for name, p in model.named_parameters()), "every parameter is trained"
    model.eval()
    with torch.no_grad():
        out = model(images)
        layers = model.predict_layers(images)
    assert len(out) == 4 and len(layers) == 2
    for o in out:
        assert o["boxes"].shape == (8, 4) and o["scores"].shape == o["labels"].shape == (8,)
        assert bool((o["boxes"][:, 2:] >= o["boxes"][:, :2]).all()) and float(o["boxes"].max()) <= 64
        assert bool((o["scores"][:-1] >= o["scores"][1:]).all()) and int(o["labels"].max()) < 10
    logits, boxes = layers[-1]
    assert logits.shape == (4, 8, 11) and boxes.shape == (4, 8, 4) and bool(((boxes > 0) & (boxes < 1)).all())


def test_untrained_boxes_are_the_reference_boxes_and_match_is_hungarian():
    torch.manual_seed(1)
    model = detr.DETR(queries=6, dim=32, mlp_dim=64, width=16).eval()
    images, targets = _batch(3, seed=1)
    with torch.no_grad():
        layers = model.predict_layers(images)
        matched = model.match(images, targets)
    reference = torch.cat([model.reference, torch.full_like(model.reference, 0.25)], -1)
    for _, boxes in layers:
        torch.testing.assert_close(boxes, reference.expand_as(boxes), rtol=0, atol=1e-6)
    logits, boxes = layers[-1]
    normalized = model.normalized_targets(targets)
    for i, t in enumerate(normalized):
        cost = detection.match_cost(logits[i].softmax(-1), boxes[i], t["labels"], t["boxes"])
        assert torch.equal(matched[i], detection.hungarian_match(cost))
        assert len(set(matched[i].tolist())) == len(t["labels"])


def test_cross_attention_prior_keeps_queries_near_their_boxes():
    torch.manual_seed(2)
    model = detr.DETR(queries=4, dim=32, mlp_dim=64, width=16, heads=2).eval()
    boxes = torch.tensor([[[0.1, 0.1, 0.1, 0.1], [0.9, 0.5, 0.2, 0.2], [0.5, 0.5, 0.5, 0.5], [0.3, 0.8, 0.1, 0.3]]])
    prior = model._prior(boxes)
    assert prior.shape == (2, 4, 256) and torch.equal(prior[0], prior[1])  # the same for every head
    nearest = prior[0].argmax(-1)
    centres = model.token_centres[nearest]
    assert bool(((centres - boxes[0, :, :2]).abs() <= 1 / 32 + 1e-6).all()), "the highest score is at the box centre"


def test_detr_errors_are_named():
    with pytest.raises(ValueError, match="image_size must be a multiple of 4"):
        detr.DETR(image_size=30)
    with pytest.raises(ValueError, match="queries must be >= 1"):
        detr.DETR(queries=0)
    with pytest.raises(ValueError, match="loss_weights must be three numbers"):
        detr.DETR(loss_weights=(1, 5))
    model = detr.DETR(dim=32, mlp_dim=64, width=16)
    with pytest.raises(ValueError, match="images must be a"):
        model(torch.zeros(2, 1, 32, 32))
    with pytest.raises(TypeError, match="images must be a torch.Tensor"):
        model(None)
    with pytest.raises(ValueError, match="targets are needed"):
        model(torch.zeros(1, 1, 64, 64))
