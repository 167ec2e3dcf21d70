"""The R-CNN family for the digit scenes: R-CNN, Fast R-CNN and Faster R-CNN, small enough for a CPU.

They share the second stage (:class:`BoxHead`: a class score per class plus
background and one box per class, trained with the multi-task loss) and
differ in where region features come from:

* :class:`RCNN` crops every proposal from the **image**, warps it to a fixed
  size and runs a CNN on each crop (one CNN pass per region: slow);
* :class:`FastRCNN` runs the CNN **once** per image and pools each proposal
  from the feature map (RoI Pool);
* :class:`FasterRCNN` also makes its own proposals, with a region proposal
  network on the same feature map, and pools them with RoI Align.

R-CNN and Fast R-CNN take their proposals from outside (selective search): a
``proposer(image) -> (K, 4) boxes`` given at construction, or ``proposals`` in
each target (precomputed, so that training does not search again every
epoch), or the ``proposals=`` argument of ``forward``.

Every network here follows torchvision's detection convention, so the
course's one loop trains it (``fit(..., loss_fn="model")``) and
:func:`course_utils.metrics.evaluate_detector` scores it:

* in train mode ``model(images, targets)`` returns a dict of losses;
* in eval mode ``model(images)`` returns one dict of ``boxes``, ``scores``
  and ``labels`` per image, labels 1 .. C (0 is background).

The rules of each stage (targets, sampling, losses, decoding) are functions of
:mod:`course_utils.detection.two_stage`; this module only wires them to
layers. Notebooks 20 and 21.
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_int
from ..detection.anchors import make_anchors
from ..detection.roi import roi_align as course_roi_align, roi_pool as course_roi_pool
from ..detection.two_stage import (postprocess_detections, proposal_targets, roi_head_loss, rpn_loss,
                                   rpn_proposals, rpn_targets)
from .blocks import conv_bn_layers

__all__ = [
    "SceneBackbone",
    "RPNHead",
    "BoxHead",
    "RCNN",
    "FastRCNN",
    "FasterRCNN",
]


class SceneBackbone(nn.Sequential):
    """A small CNN from a gray scene to a feature map of stride 4: four 3x3 conv-BN-ReLU layers.

    ``out_channels`` and ``stride`` say what the detector heads receive.
    """

    def __init__(self, channels=(24, 48, 64)):
        c1, c2, c3 = channels
        super().__init__(*conv_bn_layers(1, c1, 2), *conv_bn_layers(c1, c2, 2), *conv_bn_layers(c2, c3),
                         *conv_bn_layers(c3, c3))
        self.out_channels = c3
        self.stride = 4


class RPNHead(nn.Module):
    """The region proposal network's head: a 3x3 conv, then per anchor an objectness logit and 4 offsets."""

    def __init__(self, in_channels, n_anchors, hidden=48):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(in_channels, hidden, 3, padding=1), nn.ReLU())
        self.objectness = nn.Conv2d(hidden, n_anchors, 1)
        self.deltas = nn.Conv2d(hidden, n_anchors * 4, 1)

    def forward(self, features):
        """Per image: (H * W * A,) logits and (H * W * A, 4) offsets, in :func:`make_anchors`' order."""
        h = self.conv(features)
        n, a = features.shape[0], self.objectness.out_channels
        logits = self.objectness(h).permute(0, 2, 3, 1).reshape(n, -1)
        deltas = self.deltas(h).reshape(n, a, 4, *h.shape[2:]).permute(0, 3, 4, 1, 2).reshape(n, -1, 4)
        return logits, deltas


class BoxHead(nn.Module):
    """The second stage: pooled region features -> class scores (C + 1) and one box per class."""

    def __init__(self, in_channels, pool_size, n_classes, hidden=128):
        super().__init__()
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(in_channels * pool_size**2, hidden), nn.ReLU(),
                                nn.Linear(hidden, hidden), nn.ReLU())
        self.classify = nn.Linear(hidden, n_classes + 1)
        self.regress = nn.Linear(hidden, (n_classes + 1) * 4)

    def forward(self, pooled):
        h = self.fc(pooled)
        return self.classify(h), self.regress(h)


class _SecondStage(nn.Module):
    """What R-CNN, Fast R-CNN and Faster R-CNN share: sampling proposals, the box head, its loss, decoding."""

    def _init_second_stage(self, n_classes, in_features, pool_size, roi_batch, seed, hidden=128,
                           positive_fraction=0.25):
        self.n_classes = check_int(n_classes, "n_classes", minimum=1)
        self.pool_size = check_int(pool_size, "pool_size", minimum=1)
        self.roi_batch = check_int(roi_batch, "roi_batch", minimum=1)
        self.positive_fraction = positive_fraction
        self.box_head = BoxHead(in_features, pool_size, self.n_classes, check_int(hidden, "head_hidden", minimum=1))
        self.generator = torch.Generator().manual_seed(check_int(seed, "seed", minimum=0))

    def second_stage(self, region_features, proposals, targets, image_size):
        """Losses (train mode) or detections (eval mode) from per-image proposals.

        ``region_features(list of (K_i, 4) boxes) -> (sum K_i, C, pool, pool)``.
        """
        if self.training:
            sampled = proposal_targets(list(proposals), [t["boxes"] for t in targets], [t["labels"] for t in targets],
                                       batch_size=self.roi_batch, positive_fraction=self.positive_fraction,
                                       generator=self.generator)
            class_logits, box_deltas = self.box_head(region_features([s[0] for s in sampled]))
            loss_classifier, loss_box = roi_head_loss(class_logits, box_deltas, torch.cat([s[1] for s in sampled]),
                                                      torch.cat([s[2] for s in sampled]))
            return {"loss_classifier": loss_classifier, "loss_box_reg": loss_box}
        class_logits, box_deltas = self.box_head(region_features(proposals))
        counts = [len(b) for b in proposals]
        return [postprocess_detections(c, d, b, image_size)
                for c, d, b in zip(class_logits.split(counts), box_deltas.split(counts), proposals)]


def _external_proposals(images, targets, proposals, proposer):
    """Proposals of R-CNN and Fast R-CNN: the argument, else the targets', else the proposer's."""
    if proposals is None and targets is not None and all("proposals" in t for t in targets):
        proposals = [t["proposals"] for t in targets]
    if proposals is None:
        if proposer is None:
            raise ValueError("no proposals: pass proposals=, put 'proposals' in every target, or build the model "
                             "with a proposer")
        proposals = [torch.as_tensor(proposer(image[0].cpu().numpy())) for image in images]
    if len(proposals) != len(images):
        raise ValueError(f"proposals must give one (K, 4) tensor per image ({len(images)}), got {len(proposals)}")
    return [p.to(device=images.device, dtype=images.dtype).reshape(-1, 4) for p in proposals]


class RCNN(_SecondStage):
    """R-CNN (Girshick et al., 2014): each proposal cropped, warped to ``warp_size`` pixels, run through a CNN.

    The warp is bilinear resampling of the crop (RoI Align on the image
    itself); the CNN and the box head then see one region at a time, which
    is why R-CNN's cost grows with the number of proposals.

    Parameters
    ----------
    proposer : callable(image (H, W) ndarray) -> (K, 4) boxes, optional
    n_classes : int
    warp_size : int
        Side of the warped crops.
    roi_align : callable, optional
        Default the course's :func:`course_utils.detection.roi_align`.
    roi_batch : int
        Proposals sampled per image for the loss.
    seed : int
    """

    def __init__(self, proposer=None, n_classes=10, warp_size=24, roi_align=None, roi_batch=48, seed=0):
        super().__init__()
        self.proposer = proposer
        self.warp_size = check_int(warp_size, "warp_size", minimum=4)
        self.cnn = nn.Sequential(*conv_bn_layers(1, 32, 2), *conv_bn_layers(32, 48, 2), *conv_bn_layers(48, 64))
        self._init_second_stage(n_classes, 64, -(-self.warp_size // 4), roi_batch, seed)
        self.roi_align = course_roi_align if roi_align is None else roi_align

    def region_features(self, images, boxes):
        crops = self.roi_align(images, list(boxes), self.warp_size, 1.0, 2, True)
        return self.cnn(crops)

    def forward(self, images, targets=None, proposals=None):
        proposals = _external_proposals(images, targets, proposals, self.proposer)
        return self.second_stage(lambda b: self.region_features(images, b), proposals, targets, images.shape[-2:])


class FastRCNN(_SecondStage):
    """Fast R-CNN (Girshick, 2015): one feature map per image, each proposal max-pooled from it (RoI Pool).

    Parameters
    ----------
    proposer : callable(image (H, W) ndarray) -> (K, 4) boxes, optional
    n_classes : int
    backbone : nn.Module, optional
        Default :class:`SceneBackbone`.
    roi_pool : callable, optional
        ``roi_pool(features, boxes, output_size, spatial_scale)``; default the
        course's :func:`course_utils.detection.roi_pool`.
    pool_size, roi_batch, seed :
        As for :class:`FasterRCNN`.
    """

    def __init__(self, proposer=None, n_classes=10, backbone=None, roi_pool=None, pool_size=5, roi_batch=48, seed=0):
        super().__init__()
        self.proposer = proposer
        self.backbone = SceneBackbone() if backbone is None else backbone
        self._init_second_stage(n_classes, self.backbone.out_channels, pool_size, roi_batch, seed)
        self.roi_pool = course_roi_pool if roi_pool is None else roi_pool

    def forward(self, images, targets=None, proposals=None):
        proposals = _external_proposals(images, targets, proposals, self.proposer)
        features = self.backbone(images)
        pool = lambda b: self.roi_pool(features, list(b), self.pool_size, 1 / self.backbone.stride)  # noqa: E731
        return self.second_stage(pool, proposals, targets, images.shape[-2:])


class FasterRCNN(_SecondStage):
    """Faster R-CNN (Ren et al., 2015) for the course's scenes: backbone, RPN, RoI Align, box head.

    Parameters
    ----------
    n_classes : int
        Object classes (10 digits); labels are 1 .. n_classes.
    image_size : int
        Side of the (square) images it will see.
    anchor_sizes, aspect_ratios : sequences of float
        Anchors at every feature-map cell: ``len(sizes) * len(ratios)`` boxes
        (height / width ratios, > 1 for tall digits).
    backbone : nn.Module, optional
        Default :class:`SceneBackbone`; needs ``out_channels`` and ``stride``.
    roi_align : callable, optional
        ``roi_align(features, boxes, output_size, spatial_scale, sampling_ratio, aligned)``;
        default the course's :func:`course_utils.detection.roi_align` (equal to torchvision's).
    pool_size : int
        Side of the pooled region features.
    rpn_batch, roi_batch : int
        Anchors and proposals sampled per image for the losses.
    train_proposals, test_proposals : int
        Proposals kept after NMS per image.
    train_pre_nms, test_pre_nms : int
        Best-scoring anchors decoded before that NMS (more at test time: a
        digit that only a few lower-ranked anchors cover still gets a proposal).
    head_hidden : int
        Width of the box head's two fully connected layers.
    roi_positive_fraction : float
        Largest share of objects among the proposals sampled for the head
        (Fast R-CNN: a quarter).
    seed : int
        Seed of the anchor and proposal sampling.
    """

    def __init__(self, n_classes=10, image_size=64, anchor_sizes=(12, 20, 32), aspect_ratios=(1.0, 1.6, 2.4),
                 backbone=None, roi_align=None, pool_size=4, rpn_batch=128, roi_batch=48, train_proposals=64,
                 test_proposals=50, train_pre_nms=128, test_pre_nms=300, head_hidden=128, roi_positive_fraction=0.25,
                 seed=0):
        super().__init__()
        self.image_size = check_int(image_size, "image_size", minimum=8)
        self.backbone = SceneBackbone() if backbone is None else backbone
        stride = self.backbone.stride
        cells = -(-self.image_size // stride)
        self.register_buffer("anchors", make_anchors(cells, stride, anchor_sizes, aspect_ratios, offset=0.5),
                             persistent=False)
        self.n_anchors = len(anchor_sizes) * len(aspect_ratios)
        self.rpn = RPNHead(self.backbone.out_channels, self.n_anchors)
        self._init_second_stage(n_classes, self.backbone.out_channels, pool_size, roi_batch, seed, head_hidden,
                                roi_positive_fraction)
        self.roi_align = course_roi_align if roi_align is None else roi_align
        self.rpn_batch = check_int(rpn_batch, "rpn_batch", minimum=1)
        self.train_proposals = check_int(train_proposals, "train_proposals", minimum=1)
        self.test_proposals = check_int(test_proposals, "test_proposals", minimum=1)
        self.train_pre_nms = check_int(train_pre_nms, "train_pre_nms", minimum=1)
        self.test_pre_nms = check_int(test_pre_nms, "test_pre_nms", minimum=1)

    def propose(self, images):
        """Backbone features, the RPN's raw outputs, and its proposals (boxes, scores) per image."""
        features = self.backbone(images)
        logits, deltas = self.rpn(features)
        keep, pre = ((self.train_proposals, self.train_pre_nms) if self.training
                     else (self.test_proposals, self.test_pre_nms))
        proposals = rpn_proposals(logits, deltas, self.anchors, images.shape[-2:], pre_nms_top_n=pre,
                                  post_nms_top_n=keep)
        return features, logits, deltas, proposals

    def pool(self, features, boxes):
        """RoI Align of each image's boxes on the feature map: (sum of K, C, pool, pool)."""
        return self.roi_align(features, list(boxes), self.pool_size, 1 / self.backbone.stride, 2, True)

    def forward(self, images, targets=None):
        features, logits, deltas, proposals = self.propose(images)
        boxes = [p for p, _ in proposals]
        if not self.training:
            return self.second_stage(lambda b: self.pool(features, b), boxes, None, images.shape[-2:])
        if targets is None:
            raise ValueError("targets are needed in train mode: model(images, targets)")
        anchor_targets = rpn_targets(self.anchors, [t["boxes"] for t in targets], batch_size=self.rpn_batch,
                                     generator=self.generator)
        loss_objectness, loss_rpn_box = rpn_loss(list(logits), list(deltas), anchor_targets)
        losses = self.second_stage(lambda b: self.pool(features, b), boxes, targets, images.shape[-2:])
        return {**losses, "loss_objectness": loss_objectness, "loss_rpn_box_reg": loss_rpn_box}
