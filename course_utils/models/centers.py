"""An anchor-free, centre-based detector (FCOS-style) for the scenes, with a decoupled head and an NMS-free head.

One feature map of stride 4 (16 x 16 cells for a 64-pixel scene), whose
receptive field is widened by dilated convolutions (notebook 05), feeds two
heads of the same shape:

* the **one-to-many** head (FCOS): every location near an object's centre
  predicts it (:func:`course_utils.detection.center_targets`), so one
  object gets several boxes and NMS removes the duplicates;
* the **one-to-one** head (YOLOv10, YOLO26): every object is given exactly
  one location by the Hungarian algorithm on a matching cost
  (:func:`course_utils.detection.one_to_one_assignment`), so at test time
  it needs no NMS.

Each head is **decoupled** (YOLOX): a classification branch (C sigmoid
scores, focal loss) and a regression branch (distances to the four sides,
GIoU loss; plus centre-ness for the one-to-many head). Both heads train
together on the shared backbone. torchvision's detection convention
(labels 0 .. C - 1 here, as in notebook 22); :attr:`CenterDetector.inference`
chooses the head used in eval mode and :attr:`CenterDetector.nms` whether NMS
follows. Notebook 24.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .._checks import check_choice, check_int
from ..detection.centers import center_targets, centerness, decode_distances, location_centres, one_to_one_assignment
from ..detection.boxes import box_iou
from ..detection.losses import giou_loss, sigmoid_focal_loss
from ..detection.nms import batched_nms
from .blocks import conv_bn_layers

__all__ = ["CenterDetector"]


class _DecoupledHead(nn.Module):
    """Two branches on one map: C class logits, and 4 distances (+ 1 centre-ness logit)."""

    def __init__(self, width, n_classes):
        super().__init__()
        self.classify = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.ReLU(), nn.Conv2d(width, n_classes, 1))
        self.regress = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.ReLU(), nn.Conv2d(width, 5, 1))
        nn.init.constant_(self.classify[-1].bias, -4.6)  # start at p = 0.01 for every class (RetinaNet's prior)

    def forward(self, features, stride):
        n = features.shape[0]
        logits = self.classify(features).flatten(2).transpose(1, 2)  # (N, L, C), locations row by row
        raw = self.regress(features).flatten(2).transpose(1, 2)  # (N, L, 5)
        return logits, F.softplus(raw[..., :4]) * stride, raw[..., 4].reshape(n, -1)


class CenterDetector(nn.Module):
    """FCOS-style detector at stride 4 with a decoupled one-to-many head and a one-to-one head.

    Parameters
    ----------
    n_classes : int
    image_size : int
        Side of the square images (a multiple of 4).
    width : int
        Channels of the feature map and of the heads' branches.
    radius : float
        Centre sampling radius of the one-to-many targets, in cells.
    """

    stride = 4

    def __init__(self, n_classes=10, image_size=64, width=64, radius=1.5):
        super().__init__()
        self.n_classes = check_int(n_classes, "n_classes", minimum=1)
        self.image_size = check_int(image_size, "image_size", minimum=4)
        if self.image_size % self.stride:
            raise ValueError(f"image_size must be a multiple of {self.stride}, got {self.image_size}")
        self.grid_size = self.image_size // self.stride
        self.radius = radius
        self.backbone = nn.Sequential(*conv_bn_layers(1, 32, 2), *conv_bn_layers(32, width, 2),
                                      *conv_bn_layers(width, width),
                                      *conv_bn_layers(width, width, dilation=2),
                                      *conv_bn_layers(width, width, dilation=2),
                                      *conv_bn_layers(width, width, dilation=4))
        self.one_to_many = _DecoupledHead(width, self.n_classes)
        self.one_to_one = _DecoupledHead(width, self.n_classes)
        self.register_buffer("points", location_centres(self.grid_size, self.stride), persistent=False)
        #: Which head answers in eval mode: "one_to_many" (FCOS) or "one_to_one" (NMS-free).
        self.inference = "one_to_many"
        #: Whether per-class NMS follows in eval mode.
        self.nms = True

    def forward(self, images, targets=None):
        features = self.backbone(images)
        many = self.one_to_many(features, self.stride)
        one = self.one_to_one(features, self.stride)
        if not self.training:
            head = check_choice(self.inference, "inference", ("one_to_many", "one_to_one"))
            return self.detections(*(many if head == "one_to_many" else one), with_centerness=head == "one_to_many")
        if targets is None:
            raise ValueError("targets are needed in train mode: model(images, targets)")
        return {**self._one_to_many_loss(many, targets), **self._one_to_one_loss(one, targets)}

    def _one_to_many_loss(self, outputs, targets):
        logits, distances, centre_logits = outputs
        wanted = [center_targets(t["boxes"], t["labels"], self.grid_size, self.stride, self.radius) for t in targets]
        labels = torch.stack([w["labels"] for w in wanted]).to(logits.device)
        goal = torch.stack([w["distances"] for w in wanted]).to(logits.device)
        positive = labels >= 0
        n_positive = max(1, int(positive.sum()))
        one_hot = F.one_hot(labels.clamp(min=0), self.n_classes).to(logits.dtype) * positive[..., None]
        loss_class = sigmoid_focal_loss(logits, one_hot, reduction="sum") / n_positive
        centre_goal = centerness(goal[positive])
        boxes = decode_distances(distances, self.grid_size, self.stride)[positive]
        true_boxes = decode_distances(goal, self.grid_size, self.stride)[positive]
        loss_box = (giou_loss(boxes, true_boxes) * centre_goal).sum() / centre_goal.sum().clamp(min=1e-6)
        loss_centre = F.binary_cross_entropy_with_logits(centre_logits[positive], centre_goal,
                                                         reduction="sum") / n_positive
        return {"loss_classifier": loss_class, "loss_box": loss_box, "loss_centerness": loss_centre}

    def _one_to_one_loss(self, outputs, targets):
        logits, distances, _ = outputs
        boxes = decode_distances(distances, self.grid_size, self.stride)  # (N, L, 4)
        one_hot = torch.zeros_like(logits)
        chosen_pred, chosen_true = [], []
        with torch.no_grad():
            probabilities = torch.sigmoid(logits)
        for i, t in enumerate(targets):
            gt = t["boxes"].to(boxes.dtype)
            if not len(gt):
                continue
            # YOLOv10's matching metric p^0.5 * IoU^6, for locations inside the object only
            with torch.no_grad():
                iou = box_iou(gt, boxes[i]).clamp(min=0)
                p = probabilities[i][:, t["labels"]].T  # (G, L)
                x, y = self.points[:, 0], self.points[:, 1]
                inside = (x > gt[:, 0:1]) & (x < gt[:, 2:3]) & (y > gt[:, 1:2]) & (y < gt[:, 3:4])
                cost = -(p.sqrt() * iou**6) + 1e3 * (~inside)
            where = one_to_one_assignment(cost).to(logits.device)
            one_hot[i, where, t["labels"].to(logits.device)] = 1.0
            chosen_pred.append(boxes[i, where])
            chosen_true.append(gt)
        n_positive = max(1, int(one_hot.sum()))
        loss_class = sigmoid_focal_loss(logits, one_hot, reduction="sum") / n_positive
        loss_box = (giou_loss(torch.cat(chosen_pred), torch.cat(chosen_true), reduction="sum") / n_positive
                    if chosen_pred else logits.sum() * 0)
        return {"loss_classifier_o2o": loss_class, "loss_box_o2o": loss_box}

    def detections(self, logits, distances, centre_logits, with_centerness=True, score_threshold=0.05,
                   nms_threshold=0.5, detections_per_image=100):
        """One dict (boxes, scores, labels 0 .. C - 1) per image from a head's outputs."""
        boxes = decode_distances(distances.detach(), self.grid_size, self.stride).clamp(0, self.image_size)
        probabilities = torch.sigmoid(logits.detach())
        if with_centerness:  # FCOS: rank boxes far from a centre lower
            probabilities = torch.sqrt(probabilities * torch.sigmoid(centre_logits.detach())[..., None])
        out = []
        for b, p in zip(boxes, probabilities):
            scores, labels = p.max(dim=1)  # one class per location
            keep = scores > score_threshold
            b, scores, labels = b[keep], scores[keep], labels[keep]
            if self.nms:
                order = batched_nms(b, scores, labels, nms_threshold)
            else:
                order = torch.argsort(scores, descending=True, stable=True)
            order = order[:detections_per_image]
            out.append({"boxes": b[order], "scores": scores[order], "labels": labels[order]})
        return out
