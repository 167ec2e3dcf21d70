"""Mask R-CNN (He et al., 2017) for the scenes: a mask branch beside a trained Faster R-CNN (notebook 27).

Mask R-CNN is Faster R-CNN plus a third output for each region: a small
``M x M`` mask per class, predicted by a few convolutions and one
transposed convolution on RoI Align features, and pasted into the image
inside the detected box. :class:`MaskRCNN` adds :class:`MaskHead` to notebook
21's torchvision Faster R-CNN (its shipped weights,
:func:`~course_utils.models.load_torchvision_faster_rcnn`), kept frozen: in
training, the mask branch learns on the detector's own proposals that
overlap an object (IoU >= 0.5), with targets cropped from that object's
mask (:func:`course_utils.segmentation.mask_targets`) and the per-class loss
(:func:`~course_utils.segmentation.mask_loss`); in eval mode it masks the
detector's detections (:func:`~course_utils.segmentation.paste_masks`).

torchvision's ``MaskRCNN`` and the course, component by component:

============================  =====================================================
torchvision                   course_utils
============================  =====================================================
``FasterRCNN`` (its parts)    notebook 21 (``models.FasterRCNN``; the detector here)
``mask_roi_pool``             :func:`course_utils.detection.roi_align` (14 x 14)
``MaskRCNNHeads``             :class:`MaskHead` ``convs``
``MaskRCNNPredictor``         :class:`MaskHead` ``upsample`` + ``predict``
``project_masks_on_boxes``    :func:`course_utils.segmentation.mask_targets`
``maskrcnn_loss``             :func:`course_utils.segmentation.mask_loss`
``maskrcnn_inference``        :meth:`MaskRCNN.forward` (the channel of each label)
``paste_masks_in_image``      :func:`course_utils.segmentation.paste_masks`
============================  =====================================================
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_int, check_module, check_number
from ..detection.boxes import box_iou
from ..detection.roi import roi_align
from ..segmentation.masks import mask_loss, mask_targets, paste_masks

__all__ = ["MaskHead", "MaskRCNN"]


class MaskHead(nn.Module):
    """RoI features (R, C, P, P) -> mask logits (R, classes, 2P, 2P): 3x3 convolutions, a x2 transposed one, 1x1.

    Parameters
    ----------
    in_channels : int
    n_classes : int
        One mask per object class.
    hidden : int
        Channels of the convolutions (Mask R-CNN: 256).
    n_convs : int
        3x3 convolutions before upsampling (Mask R-CNN: 4).
    image_channels : int
        Channels of an image crop (RoI Align of the image itself at the
        masks' size) joined after upsampling, then one more 3x3 convolution:
        a fine-resolution skip, as in a U-Net, for objects drawn in strokes
        thinner than the backbone's stride. 0: Mask R-CNN's head as published.
    """

    def __init__(self, in_channels=64, n_classes=10, hidden=32, n_convs=2, image_channels=1):
        super().__init__()
        in_channels, hidden = check_int(in_channels, "in_channels", minimum=1), check_int(hidden, "hidden", minimum=1)
        layers = []
        for i in range(check_int(n_convs, "n_convs", minimum=0)):
            layers += [nn.Conv2d(in_channels if i == 0 else hidden, hidden, 3, padding=1), nn.ReLU()]
        self.convs = nn.Sequential(*layers)
        width = hidden if layers else in_channels
        self.upsample = nn.Sequential(nn.ConvTranspose2d(width, hidden, 2, stride=2), nn.ReLU())
        self.image_channels = check_int(image_channels, "image_channels", minimum=0)
        if self.image_channels:
            self.refine = nn.Sequential(nn.Conv2d(hidden + self.image_channels, hidden, 3, padding=1), nn.ReLU())
        self.predict = nn.Conv2d(hidden, check_int(n_classes, "n_classes", minimum=1), 1)

    def forward(self, pooled, image_crops=None):
        x = self.upsample(self.convs(pooled))
        if self.image_channels:
            if image_crops is None or image_crops.shape[2:] != x.shape[2:]:
                raise ValueError(f"this head needs image_crops of size {tuple(x.shape[2:])}")
            x = self.refine(torch.cat([x, image_crops], dim=1))
        return self.predict(x)


class MaskRCNN(nn.Module):
    """A frozen torchvision Faster R-CNN (labels 1 .. C) and a trainable :class:`MaskHead`.

    Parameters
    ----------
    detector : torchvision.models.detection.FasterRCNN
        Trained; its backbone must return one map (stride ``stride``).
    mask_head : MaskHead, optional
        Default ``MaskHead(64, 10)``.
    pool_size : int
        RoI Align output (the masks are twice as large).
    stride : int
        The backbone's stride.
    mask_threshold : float
        Probability above which a pasted mask pixel belongs to the object.
    max_positives : int
        Positive proposals per image that the mask loss samples (at random,
        with the objects' own boxes always in).

    Train mode: ``model(images, targets)`` (targets with ``boxes``, ``labels``
    1 .. C and ``masks``) returns ``{"loss_mask": ...}``; only the mask head
    learns. Eval mode: ``model(images)`` returns the detector's dicts plus
    ``masks`` (K, H, W) bool and ``mask_scores`` (K, H, W) probabilities.
    """

    def __init__(self, detector, mask_head=None, pool_size=14, stride=4, mask_threshold=0.5, max_positives=12):
        super().__init__()
        self.detector = check_module(detector, "detector")
        for p in self.detector.parameters():
            p.requires_grad_(False)
        self.mask_head = MaskHead() if mask_head is None else check_module(mask_head, "mask_head")
        # few channels on many small maps: the channels-last layout runs these convolutions fastest (notebook 25)
        self.mask_head.to(memory_format=torch.channels_last)
        self.pool_size = check_int(pool_size, "pool_size", minimum=1)
        self.stride = check_int(stride, "stride", minimum=1)
        self.mask_threshold = check_number(mask_threshold, "mask_threshold", minimum=0.0, maximum=1.0)
        self.max_positives = check_int(max_positives, "max_positives", minimum=1)

    def train(self, mode=True):
        super().train(mode)
        self.detector.eval()  # frozen: batch norm keeps its statistics, the RPN its test-time settings
        return self

    def _features(self, images):
        with torch.no_grad():
            return self.detector.backbone(images)

    def _pool(self, features, boxes):
        return roi_align(features, list(boxes), self.pool_size, 1 / self.stride, 2, True)

    def _head(self, images, features, boxes):
        crops = None
        if getattr(self.mask_head, "image_channels", 0):
            crops = roi_align(images, list(boxes), 2 * self.pool_size, 1.0, 2, True)
        return self.mask_head(self._pool(features, boxes), crops)

    def forward(self, images, targets=None):
        features = self._features(images)
        if self.training:
            if targets is None:
                raise ValueError("targets are needed in train mode: model(images, targets)")
            return {"loss_mask": self._loss(images, features, targets)}
        with torch.no_grad():
            detections = self.detector(images)
        logits = self._head(images, features, [d["boxes"] for d in detections])
        out, start = [], 0
        for d in detections:
            k = len(d["boxes"])
            own = logits[start:start + k][torch.arange(k), d["labels"] - 1]  # the mask of the detected class
            start += k
            probabilities = paste_masks(torch.sigmoid(own), d["boxes"], images.shape[-2:])
            out.append({**d, "mask_scores": probabilities, "masks": probabilities >= self.mask_threshold})
        return out

    def _loss(self, images, features, targets):
        with torch.no_grad():
            transformed, _ = self.detector.transform(images)
            proposals, _ = self.detector.rpn(transformed, {"0": features})
        boxes, labels, wanted = [], [], []
        for p, t in zip(proposals, targets):
            if not len(t["boxes"]):
                continue
            iou = box_iou(p, t["boxes"].to(p.dtype))  # (proposals, objects)
            best, matched = iou.max(dim=1)
            keep = torch.nonzero(best >= 0.5)[:, 0]
            keep = keep[torch.randperm(len(keep))[:self.max_positives]]
            p = torch.cat([p[keep], t["boxes"].to(p.dtype)])  # the objects' own boxes are proposals too
            matched = torch.cat([matched[keep], torch.arange(len(t["boxes"]))])
            boxes.append(p)
            labels.append(t["labels"][matched] - 1)
            wanted.append(mask_targets(t["masks"], p, matched, 2 * self.pool_size))
        if not boxes:
            return sum(p.sum() for p in self.mask_head.parameters()) * 0
        logits = self._head(images, features, boxes)
        return mask_loss(logits, torch.cat(labels), torch.cat(wanted))
