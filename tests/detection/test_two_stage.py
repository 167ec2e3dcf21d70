"""The two-stage rules of course_utils.detection.two_stage against torchvision's RPN and RoIHeads."""

import numpy as np
import pytest
import torch
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection import roi_heads as tv_roi_heads
from torchvision.models.detection import rpn as tv_rpn
from torchvision.models.detection.anchor_utils import AnchorGenerator

from course_utils import detection
from course_utils.detection import two_stage


def random_boxes(generator, n, size=64.0, low=2.0, high=40.0):
    xy = torch.rand(n, 2, generator=generator, dtype=torch.float64) * size
    wh = low + torch.rand(n, 2, generator=generator, dtype=torch.float64) * (high - low)
    return torch.cat([xy, xy + wh], dim=1)


def test_sample_balanced_counts_equal_torchvision_sampler():
    generator = torch.Generator().manual_seed(0)
    for trial in range(30):
        n = int(torch.randint(1, 400, (1,), generator=generator))
        labels = torch.randint(-1, 3, (n,), generator=generator)
        batch, fraction = [16, 64, 256][trial % 3], [0.25, 0.5, 1.0][trial % 3]
        pos, neg = two_stage.sample_balanced(labels, batch, fraction, torch.Generator().manual_seed(trial))
        (tv_pos,), (tv_neg,) = det_utils.BalancedPositiveNegativeSampler(batch, fraction)([labels])
        assert int(pos.sum()) == int(tv_pos.sum()) and int(neg.sum()) == int(tv_neg.sum())
        assert (labels[pos] >= 1).all() and (labels[neg] == 0).all() and not (pos & neg).any()
    # seeded: the same generator state gives the same sample
    a = two_stage.sample_balanced(labels, 32, 0.5, torch.Generator().manual_seed(5))
    b = two_stage.sample_balanced(labels, 32, 0.5, torch.Generator().manual_seed(5))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    with pytest.raises(ValueError, match="positive_fraction must be <= 1"):
        two_stage.sample_balanced(labels, 32, 1.5)
    with pytest.raises(TypeError, match="labels must be a 1-D"):
        two_stage.sample_balanced(labels.float(), 32, 0.5)


def test_sample_balanced_of_rows_equals_each_row_and_is_uniform():
    generator = torch.Generator().manual_seed(8)
    labels = torch.randint(-1, 3, (5, 300), generator=generator)
    pos, neg = two_stage.sample_balanced(labels, 40, 0.25, torch.Generator().manual_seed(3))
    one_by_one = torch.Generator().manual_seed(3)
    for row, p, n in zip(labels, pos, neg):
        p1, n1 = two_stage.sample_balanced(row, 40, 0.25, one_by_one)
        assert torch.equal(p, p1) and torch.equal(n, n1)
    # every positive is equally likely to be chosen: 10 of 40 positives, 4,000 draws
    labels = torch.cat([torch.ones(40, dtype=torch.int64), torch.zeros(60, dtype=torch.int64)])
    counts = torch.zeros(100)
    draws = torch.Generator().manual_seed(9)
    for _ in range(4000):
        counts += two_stage.sample_balanced(labels, 40, 0.25, draws)[0].float()
    assert counts[40:].sum() == 0 and (counts[:40] - 1000).abs().max() < 150  # binomial sd ~27


def tv_rpn_module(pre, post, nms_thresh=0.7, score_thresh=0.0):
    generator = AnchorGenerator(sizes=((12, 20),), aspect_ratios=((1.0, 2.0),))
    return tv_rpn.RegionProposalNetwork(generator, tv_rpn.RPNHead(8, 4), 0.7, 0.3, 256, 0.5,
                                        dict(training=pre, testing=pre), dict(training=post, testing=post),
                                        nms_thresh, score_thresh)


def test_rpn_proposals_equal_torchvision_filter_proposals():
    generator = torch.Generator().manual_seed(1)
    for trial in range(20):
        anchors = detection.make_anchors(8, 8, (12, 20), (1.0, 2.0)).double()
        deltas = torch.randn(len(anchors), 4, generator=generator, dtype=torch.float64) * 0.3
        logits = torch.randn(len(anchors), generator=generator, dtype=torch.float64) * 2
        pre, post = [(50, 20), (300, 100), (1000, 1000)][trial % 3]
        score = [0.0, 0.3][trial % 2]
        ours, our_scores = two_stage.rpn_proposals(logits, deltas, anchors, (64, 64), pre_nms_top_n=pre,
                                                   post_nms_top_n=post, score_threshold=score)
        module = tv_rpn_module(pre, post, score_thresh=score).eval()
        decoded = det_utils.BoxCoder((1.0, 1.0, 1.0, 1.0)).decode(deltas, [anchors]).reshape(1, -1, 4)
        (theirs,), (their_scores,) = module.filter_proposals(decoded, logits[None], [(64, 64)], [len(anchors)])
        torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-10)
        torch.testing.assert_close(our_scores, their_scores, rtol=0, atol=1e-12)


def test_rpn_targets_and_loss_equal_torchvision_with_the_same_sample():
    generator = torch.Generator().manual_seed(2)
    anchors = detection.make_anchors(8, 8, (12, 20), (1.0, 2.0)).double()
    module = tv_rpn_module(100, 50)
    targets, objectness, deltas, tv_labels, tv_regression = [], [], [], [], []
    for image in range(3):
        gt = random_boxes(generator, [0, 2, 5][image], high=30.0)
        target = two_stage.rpn_targets(anchors, gt, generator=torch.Generator().manual_seed(image))
        targets.append(target)
        labels, matched_gt = module.assign_targets_to_anchors([anchors], [{"boxes": gt}])
        # torchvision's labels: 1 object, 0 background, -1 ignored; ours agree where they are decided
        tv_labels.append(labels[0])
        wanted, _, pos, neg = target
        assert torch.equal(wanted == 1, labels[0] == 1) and torch.equal(labels[0] == -1, ~(wanted == 1) & (
            two_stage.label_boxes(anchors, gt, 0.7, 0.3, True) == detection.BETWEEN_THRESHOLDS))
        assert not (pos & (labels[0] != 1)).any() and not (neg & (labels[0] != 0)).any()
        tv_regression.append(module.box_coder.encode([matched_gt[0]], [anchors])[0])
        objectness.append(torch.randn(len(anchors), generator=generator, dtype=torch.float64))
        deltas.append(torch.randn(len(anchors), 4, generator=generator, dtype=torch.float64))
    ours = two_stage.rpn_loss(objectness, deltas, targets)
    # torchvision's compute_loss draws its own sample: give it ours
    module.fg_bg_sampler = lambda labels: ([t[2] for t in targets], [t[3] for t in targets])
    theirs = module.compute_loss(torch.cat(objectness), torch.cat(deltas), tv_labels, tv_regression)
    for a, b in zip(ours, theirs):  # torchvision's box coder encodes in float32: 1e-6
        torch.testing.assert_close(a, b.to(a.dtype), rtol=0, atol=1e-6)


def test_roi_head_loss_and_postprocess_equal_torchvision():
    generator = torch.Generator().manual_seed(3)
    n_classes = 4
    heads = tv_roi_heads.RoIHeads(None, None, None, 0.5, 0.5, 64, 0.25, (10.0, 10.0, 5.0, 5.0), 0.05, 0.5, 100)
    for trial in range(10):
        n = [1, 30, 200][trial % 3]
        logits = torch.randn(n, n_classes + 1, generator=generator, dtype=torch.float64) * 2
        deltas = torch.randn(n, (n_classes + 1) * 4, generator=generator, dtype=torch.float64) * 0.5
        labels = torch.randint(0, n_classes + 1, (n,), generator=generator)
        regression = torch.randn(n, 4, generator=generator, dtype=torch.float64)
        ours = two_stage.roi_head_loss(logits, deltas, labels, regression)
        theirs = tv_roi_heads.fastrcnn_loss(logits, deltas, [labels], [regression])
        for a, b in zip(ours, theirs):
            torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
        proposals = random_boxes(generator, n)
        out = two_stage.postprocess_detections(logits, deltas, proposals, (64, 64))
        (boxes,), (scores,), (tv_labels,) = heads.postprocess_detections(logits, deltas, [proposals], [(64, 64)])
        torch.testing.assert_close(out["boxes"], boxes, rtol=0, atol=1e-10)
        torch.testing.assert_close(out["scores"], scores, rtol=0, atol=1e-12)
        assert torch.equal(out["labels"], tv_labels)


def test_proposal_targets_label_sample_and_encode():
    generator = torch.Generator().manual_seed(4)
    gt = torch.tensor([[10.0, 10, 30, 40], [40, 5, 60, 25]], dtype=torch.float64)
    gt_labels = torch.tensor([3, 7])
    proposals = random_boxes(generator, 200)
    boxes, labels, regression = two_stage.proposal_targets(proposals, gt, gt_labels, batch_size=64,
                                                           positive_fraction=0.25,
                                                           generator=torch.Generator().manual_seed(0))
    assert len(boxes) == len(labels) == len(regression) <= 64
    iou = detection.box_iou(boxes, gt)
    best, which = iou.max(1)
    np.testing.assert_array_equal(labels.numpy(), np.where(best.numpy() >= 0.5, gt_labels[which].numpy(), 0))
    assert 1 <= int((labels > 0).sum()) <= 16  # the ground truth joins the proposals: positives exist
    positive = labels > 0
    decoded = detection.decode_boxes(regression[positive], boxes[positive], two_stage.ROI_WEIGHTS)
    torch.testing.assert_close(decoded, gt[which[positive]], rtol=0, atol=1e-9)
    # an image with no object: every sampled proposal is background
    _, labels, regression = two_stage.proposal_targets(proposals, torch.zeros(0, 4, dtype=torch.float64),
                                                       torch.zeros(0, dtype=torch.int64), batch_size=32)
    assert len(labels) == 32 and (labels == 0).all() and (regression == 0).all()


def test_rpn_proposals_of_a_batch_equal_those_of_each_image():
    generator = torch.Generator().manual_seed(6)
    anchors = detection.make_anchors(8, 8, (12, 20), (1.0, 2.0))
    logits = torch.randn(3, len(anchors), generator=generator)
    deltas = torch.randn(3, len(anchors), 4, generator=generator) * 0.3
    batch = two_stage.rpn_proposals(logits, deltas, anchors, (64, 64), pre_nms_top_n=60, post_nms_top_n=20)
    assert len(batch) == 3
    for i, (boxes, scores) in enumerate(batch):
        alone = two_stage.rpn_proposals(logits[i], deltas[i], anchors, (64, 64), pre_nms_top_n=60, post_nms_top_n=20)
        assert torch.equal(boxes, alone[0]) and torch.equal(scores, alone[1]) and len(boxes) <= 20
    with pytest.raises(ValueError, match="must describe the same anchors"):
        two_stage.rpn_proposals(logits, deltas[:, :10], anchors, (64, 64))


def test_targets_of_a_batch_equal_those_of_each_image():
    generator = torch.Generator().manual_seed(7)
    anchors = detection.make_anchors(16, 4, (12, 20, 32), (1.0, 1.6, 2.4), offset=0.5)
    gts = [random_boxes(generator, n, high=30.0).float() for n in (3, 0, 1, 5)]
    labels = [torch.randint(1, 11, (len(g),), generator=generator) for g in gts]
    batch = two_stage.rpn_targets(anchors, gts, batch_size=64, generator=torch.Generator().manual_seed(1))
    one_by_one = torch.Generator().manual_seed(1)
    for got, gt in zip(batch, gts):
        wanted = two_stage.rpn_targets(anchors, gt, batch_size=64, generator=one_by_one)
        assert all(torch.equal(a, b) for a, b in zip(got, wanted))
    proposals = [random_boxes(generator, n).float() for n in (40, 7, 0, 25)]
    batch = two_stage.proposal_targets(proposals, gts, labels, batch_size=16,
                                       generator=torch.Generator().manual_seed(2))
    one_by_one = torch.Generator().manual_seed(2)
    for got, p, g, lab in zip(batch, proposals, gts, labels):
        wanted = two_stage.proposal_targets(p, g, lab, batch_size=16, generator=one_by_one)
        assert all(torch.equal(a, b) for a, b in zip(got, wanted))
    # a batch with no object at all
    empty = [torch.zeros(0, 4)] * 2
    assert all(not t[2].any() for t in two_stage.rpn_targets(anchors, empty, batch_size=8))
    assert all((t[1] == 0).all() for t in two_stage.proposal_targets(proposals[:2], empty,
                                                                       [torch.zeros(0, dtype=torch.int64)] * 2))
    with pytest.raises(ValueError, match="one entry per image"):
        two_stage.proposal_targets(proposals, gts[:2], labels)
    with pytest.raises(TypeError, match="gt_boxes must be a tensor or a list of tensors"):
        two_stage.rpn_targets(anchors, np.zeros((2, 4)))
    with pytest.raises(ValueError, match="low must be <= high"):
        two_stage.rpn_targets(anchors, gts[0], high=0.3, low=0.7)
