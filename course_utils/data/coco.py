"""COCO's JSON format: scenes as a COCO data set, detections as COCO results.

What ``pycocotools`` reads (``COCO``, ``COCO.loadRes``), so that the course's
evaluator can be checked against ``COCOeval`` on the same data.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_image_dicts
from .scenes import DIGIT_NAMES, Scenes

__all__ = [
    "to_coco_ground_truth",
    "to_coco_detections",
    "to_coco",
]


def to_coco_ground_truth(ground_truth, image_sizes, classes=None):
    """Ground truth as a COCO dictionary (boxes only), for ``pycocotools.coco.COCO``.

    Parameters
    ----------
    ground_truth : list of dict
        As for :func:`~course_utils.metrics.evaluate_detections`: ``boxes``,
        ``labels``, optional ``area``.
    image_sizes : (height, width) or list of them
        Size of every image (one pair for all, or one per image).
    classes : sequence of int, optional
        Category ids to list; default the labels that occur.

    Returns
    -------
    dict
        ``images`` (ids 1, 2, ...), ``annotations`` (bbox ``[x, y, w, h]``,
        area, iscrowd 0, ids from 1) and ``categories``.
    """
    truths = check_image_dicts(ground_truth, "ground_truth", ("boxes", "labels"))
    if len(image_sizes) == 2 and np.ndim(image_sizes[0]) == 0:
        image_sizes = [image_sizes] * len(truths)
    if len(image_sizes) != len(truths):
        raise ValueError(f"image_sizes must give one (height, width) per image ({len(truths)}), got {len(image_sizes)}")
    if classes is None:
        classes = np.unique(np.concatenate([t["labels"] for t in truths] + [np.zeros(0, int)]))
    images, annotations = [], []
    for i, (truth, (height, width)) in enumerate(zip(truths, image_sizes)):
        images.append({"id": i + 1, "height": int(height), "width": int(width)})
        boxes = truth["boxes"]
        areas = truth.get("area", (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))
        for box, label, area in zip(boxes, truth["labels"], areas):
            x1, y1, x2, y2 = (float(v) for v in box)
            annotations.append({"id": len(annotations) + 1, "image_id": i + 1, "category_id": int(label),
                                "bbox": [x1, y1, x2 - x1, y2 - y1], "area": float(area), "iscrowd": 0})
    categories = [{"id": int(c), "name": str(int(c))} for c in classes]
    return {"images": images, "annotations": annotations, "categories": categories}


def to_coco_detections(predictions):
    """Detections as COCO's result list: one dict per box, image ids from 1.

    Parameters
    ----------
    predictions : list of dict
        ``boxes`` (corners), ``scores``, ``labels`` per image.

    Returns
    -------
    list of dict
        ``{"image_id", "category_id", "bbox": [x, y, w, h], "score"}``.
    """
    preds = check_image_dicts(predictions, "predictions", ("boxes", "scores", "labels"))
    results = []
    for i, pred in enumerate(preds):
        for box, score, label in zip(pred["boxes"], pred["scores"], pred["labels"]):
            x1, y1, x2, y2 = (float(v) for v in box)
            results.append({"image_id": i + 1, "category_id": int(label), "bbox": [x1, y1, x2 - x1, y2 - y1],
                            "score": float(score)})
    return results


def to_coco(scenes, file_pattern="scene_{:05d}.png"):
    """The scenes' annotations as a COCO dictionary (``json.dump`` it, or load it in pycocotools).

    Parameters
    ----------
    scenes : Scenes
    file_pattern : str
        ``file_name`` of image i is ``file_pattern.format(i)``.

    Returns
    -------
    dict
        ``images`` (ids from 1), ``annotations`` (``bbox`` [x, y, w, h],
        ``area`` = mask pixels, ``segmentation`` as run-length encoding,
        ``iscrowd`` 0, ids from 1) and ``categories`` 0-9.
    """
    from pycocotools import mask as mask_utils

    if not isinstance(scenes, Scenes):
        raise TypeError(f"scenes must be Scenes from make_scenes, got {type(scenes).__name__}")
    coco = to_coco_ground_truth(scenes.targets, scenes.canvas_size, classes=range(10))
    for image in coco["images"]:
        image["file_name"] = file_pattern.format(image["id"] - 1)
    masks = [m for t in scenes.targets for m in t["masks"]]
    for annotation, mask in zip(coco["annotations"], masks):
        rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
        rle["counts"] = rle["counts"].decode("ascii")  # JSON needs text
        annotation["segmentation"] = rle
    coco["categories"] = [{"id": d, "name": name, "supercategory": "digit"} for d, name in enumerate(DIGIT_NAMES)]
    return coco
