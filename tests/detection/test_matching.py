"""DETR's matching: the cost equals its formula, the Hungarian match equals brute force, the set loss is permutation-invariant."""

import itertools

import pytest
import torch
import torchvision
from torch.nn import functional as F

from course_utils.detection import matching


def _random_case(generator, n_queries, n_objects, n_classes=4, dtype=torch.float64):
    logits = torch.randn(n_queries, n_classes + 1, generator=generator, dtype=dtype) * 2
    centres = torch.rand(n_queries, 2, generator=generator, dtype=dtype)
    sizes = 0.05 + 0.4 * torch.rand(n_queries, 2, generator=generator, dtype=dtype)
    boxes = torch.cat([centres, sizes], 1)
    labels = torch.randint(0, n_classes, (n_objects,), generator=generator)
    true = torch.cat([torch.rand(n_objects, 2, generator=generator, dtype=dtype),
                      0.05 + 0.4 * torch.rand(n_objects, 2, generator=generator, dtype=dtype)], 1)
    return logits, boxes, labels, true


def test_match_cost_equals_its_formula_with_torchvision():
    g = torch.Generator().manual_seed(0)
    for trial in range(20):
        logits, boxes, labels, true = _random_case(g, 7, 1 + trial % 5)
        p = logits.softmax(-1)
        weights = (1.0, 5.0, 2.0) if trial % 2 else (0.5, 3.0, 1.5)
        cost = matching.match_cost(p, boxes, labels, true, *weights)
        corners = torchvision.ops.box_convert(boxes, "cxcywh", "xyxy")
        true_corners = torchvision.ops.box_convert(true, "cxcywh", "xyxy")
        expected = torch.empty(7, len(labels), dtype=torch.float64)
        for q, k in itertools.product(range(7), range(len(labels))):
            expected[q, k] = (-weights[0] * p[q, labels[k]] + weights[1] * (boxes[q] - true[k]).abs().sum()
                              - weights[2] * torchvision.ops.generalized_box_iou(corners[q:q + 1], true_corners[k:k + 1])[0, 0])
        torch.testing.assert_close(cost, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("n_queries, n_objects", [(1, 1), (3, 1), (3, 3), (4, 2), (5, 3), (6, 4), (7, 5), (6, 6)])
def test_hungarian_match_equals_brute_force(n_queries, n_objects):
    g = torch.Generator().manual_seed(10 * n_queries + n_objects)
    for _ in range(25):
        logits, boxes, labels, true = _random_case(g, n_queries, n_objects)
        cost = matching.match_cost(logits.softmax(-1), boxes, labels, true)
        fast, slow = matching.hungarian_match(cost), matching.brute_force_match(cost)
        assert len(set(fast.tolist())) == n_objects
        total = cost[fast, torch.arange(n_objects)].sum()
        best = min(float(cost[list(p), torch.arange(n_objects)].sum())
                   for p in itertools.permutations(range(n_queries), n_objects))
        assert abs(float(total) - best) < 1e-12
        assert torch.equal(fast, slow)  # continuous random costs: the optimum is unique


def test_match_edge_cases_and_errors():
    assert len(matching.hungarian_match(torch.zeros(5, 0))) == 0
    assert len(matching.brute_force_match(torch.zeros(5, 0))) == 0
    with pytest.raises(ValueError, match="Q >= G"):
        matching.hungarian_match(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="Q >= G"):
        matching.brute_force_match(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="too many"):
        matching.brute_force_match(torch.zeros(20, 10))
    with pytest.raises(TypeError, match="cost must be a torch.Tensor"):
        matching.brute_force_match([[1.0]])
    p, b = torch.full((3, 5), 0.2), torch.full((3, 4), 0.3)
    with pytest.raises(ValueError, match="labels must lie in 0 .. 4"):
        matching.match_cost(p, b, torch.tensor([5]), torch.full((1, 4), 0.3))
    with pytest.raises(ValueError, match="true_boxes must be"):
        matching.match_cost(p, b, torch.tensor([1]), torch.full((1, 3), 0.3))
    with pytest.raises(ValueError, match="boxes must have one row per query"):
        matching.match_cost(p, b[:2], torch.tensor([1]), torch.full((1, 4), 0.3))
    with pytest.raises(ValueError, match="l1_weight must be >= 0"):
        matching.match_cost(p, b, torch.tensor([1]), torch.full((1, 4), 0.3), l1_weight=-1)


def _batch(generator, n_queries=6, n_classes=4):
    targets, logits, boxes = [], [], []
    for n in (2, 0, 4):
        lg, bx, labels, true = _random_case(generator, n_queries, n, n_classes)
        logits.append(lg), boxes.append(bx)
        targets.append({"labels": labels, "boxes": true})
    return torch.stack(logits).requires_grad_(), torch.stack(boxes).requires_grad_(), targets


def test_set_loss_equals_the_loss_written_out():
    g = torch.Generator().manual_seed(3)
    logits, boxes, targets = _batch(g)
    losses = matching.set_prediction_loss([(logits, boxes)], targets)
    matched = matching.match_queries(logits, boxes, targets)
    wanted = torch.full((3, 6), 4)
    l1 = giou = 0.0
    for i, (q, t) in enumerate(zip(matched, targets)):
        wanted[i, q] = t["labels"]
        l1 = l1 + (boxes[i, q] - t["boxes"]).abs().sum()
        giou = giou + torchvision.ops.generalized_box_iou_loss(
            torchvision.ops.box_convert(boxes[i, q], "cxcywh", "xyxy"),
            torchvision.ops.box_convert(t["boxes"], "cxcywh", "xyxy"), reduction="sum")
    weight = torch.tensor([1.0, 1, 1, 1, 0.1], dtype=torch.float64)
    ce = F.cross_entropy(logits.reshape(-1, 5), wanted.reshape(-1), weight=weight)
    torch.testing.assert_close(losses["loss_class"], ce, rtol=0, atol=1e-12)
    torch.testing.assert_close(losses["loss_l1"], 5 * l1 / 6, rtol=0, atol=1e-12)
    torch.testing.assert_close(losses["loss_giou"], 2 * giou / 6, rtol=0, atol=1e-12)
    sum(losses.values()).backward()
    assert torch.isfinite(logits.grad).all() and boxes.grad[1].abs().sum() == 0  # an empty image pulls no box


def test_set_loss_ignores_the_order_of_the_queries_and_sums_the_layers():
    g = torch.Generator().manual_seed(4)
    logits, boxes, targets = _batch(g)
    order = torch.randperm(6, generator=g)
    a = matching.set_prediction_loss([(logits, boxes)], targets)
    b = matching.set_prediction_loss([(logits[:, order], boxes[:, order])], targets)
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=1e-12)
    other_logits, other_boxes, _ = _batch(g)
    c = matching.set_prediction_loss([(other_logits, other_boxes)], targets)
    both = matching.set_prediction_loss([(other_logits, other_boxes), (logits, boxes)], targets)
    for key in a:
        torch.testing.assert_close(both[key], a[key] + c[key], rtol=0, atol=1e-12)


def test_matching_instability():
    a = [torch.tensor([0, 3]), torch.tensor([], dtype=torch.int64), torch.tensor([1, 2, 5])]
    b = [torch.tensor([0, 4]), torch.tensor([], dtype=torch.int64), torch.tensor([2, 1, 5])]
    assert matching.matching_instability(a, a) == 0
    assert matching.matching_instability(a, b) == 3 / 5
    assert matching.matching_instability([torch.zeros(0)], [torch.zeros(0)]) == 0
    with pytest.raises(ValueError, match="same shape"):
        matching.matching_instability(a, [b[0], b[1], b[2][:2]])
    with pytest.raises(ValueError, match="same length"):
        matching.matching_instability(a, b[:2])


def test_set_loss_errors_are_named():
    g = torch.Generator().manual_seed(5)
    logits, boxes, targets = _batch(g)
    with pytest.raises(ValueError, match="outputs must be a non-empty list"):
        matching.set_prediction_loss([], targets)
    with pytest.raises(ValueError, match="targets must be a list of 3 dicts"):
        matching.set_prediction_loss([(logits, boxes)], targets[:2])
    with pytest.raises(ValueError, match=r"targets\[0\] must be a dict"):
        matching.set_prediction_loss([(logits, boxes)], [{"boxes": t["boxes"]} for t in targets])
    with pytest.raises(ValueError, match="no_object_weight must be <= 1"):
        matching.set_prediction_loss([(logits, boxes)], targets, no_object_weight=2)


def test_match_queries_equals_image_by_image():
    g = torch.Generator().manual_seed(6)
    logits, boxes, targets = _batch(g, n_queries=7)
    matched = matching.match_queries(logits, boxes, targets)
    for i, t in enumerate(targets):
        expected = (matching.hungarian_match(matching.match_cost(logits[i].softmax(-1), boxes[i], t["labels"], t["boxes"]))
                    if len(t["labels"]) else torch.zeros(0, dtype=torch.int64))
        assert torch.equal(matched[i], expected)
    empty = [{"labels": torch.zeros(0, dtype=torch.int64), "boxes": torch.zeros(0, 4)} for _ in range(3)]
    assert all(len(m) == 0 for m in matching.match_queries(logits, boxes, empty))
