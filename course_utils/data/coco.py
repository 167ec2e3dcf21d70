"""COCO's JSON format: scenes as a COCO data set, detections as COCO results.

What ``pycocotools`` reads (``COCO``, ``COCO.loadRes``), so that the course's
evaluator can be checked against ``COCOeval`` on the same data, and so that
the scenes can be opened by any tool that reads COCO files.

Category ids
------------
COCO's category ids are whatever the file says; torchvision's detectors
reserve label 0 for the background, so the course writes digit ``d`` as
category ``d + category_offset`` with ``category_offset=1`` by default: the
digits are categories 1-10, named ``"0"`` to ``"9"``. The ground truth and the
detections must be written with the same offset (the defaults agree), or
every detection has the wrong class. Labels that already include the
background shift (the outputs of a torchvision detector trained on
``SceneDataset(scenes, label_offset=1)``) are written with ``category_offset=0``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .._checks import as_numpy, check_array, check_choice, check_image_dicts, check_int, check_pair
from .scenes import DIGIT_NAMES, Scenes

__all__ = [
    "to_coco_ground_truth",
    "to_coco_detections",
    "to_coco",
]


def _image_sizes(image_sizes, n_images, name="image_sizes"):
    """One checked ``(height, width)`` per image, from one pair for all or a list of pairs."""
    if isinstance(image_sizes, np.ndarray):
        image_sizes = image_sizes.tolist()
    if not isinstance(image_sizes, (tuple, list)):
        raise TypeError(f"{name} must be a (height, width) pair or a list of them, got {type(image_sizes).__name__}")
    if len(image_sizes) == 2 and all(np.ndim(v) == 0 for v in image_sizes):
        return [check_pair(tuple(image_sizes), name)] * n_images
    if len(image_sizes) != n_images:
        raise ValueError(f"{name} must give one (height, width) per image ({n_images}), got {len(image_sizes)}")
    return [check_pair(tuple(size) if isinstance(size, (tuple, list, np.ndarray)) else size, f"{name}[{i}]")
            for i, size in enumerate(image_sizes)]


def _category_ids(labels, offset, name):
    """Labels (integer classes >= 0) plus the offset, as Python ints for JSON."""
    if labels.size and (np.any(labels != np.round(labels)) or labels.min() < 0):
        raise ValueError(f"{name} must hold integer classes >= 0, got {labels[:8]!r}")
    return [int(label) + offset for label in labels]


def _xywh(box):
    """Corners to COCO's [x, y, width, height], as Python floats for JSON."""
    x1, y1, x2, y2 = (float(v) for v in box)
    return [x1, y1, x2 - x1, y2 - y1]


def _rle(masks):
    """Run-length encodings of (K, H, W) boolean masks, with text counts so that ``json.dumps`` takes them."""
    from pycocotools import mask as mask_utils

    if len(masks) == 0:
        return []
    # pycocotools encodes a Fortran-ordered (H, W, K) uint8 stack in one call
    stack = np.asfortranarray(np.moveaxis(masks, 0, -1).astype(np.uint8))
    rles = mask_utils.encode(stack)
    for rle in rles:
        rle["counts"] = rle["counts"].decode("ascii")  # bytes are not JSON
    return rles


def _binary_masks(value, n_boxes, size, name):
    """(K, H, W) bool masks from bool, 0/1 integer or probability masks, (K, H, W) or torchvision's (K, 1, H, W)."""
    masks = check_array(as_numpy(value), name, ndim=(3, 4), allow_empty=True)
    if masks.ndim == 4:
        if masks.shape[1] != 1:
            raise ValueError(f"{name} must be (K, H, W) or (K, 1, H, W), got shape {masks.shape}")
        masks = masks[:, 0]
    if masks.shape[0] != n_boxes:
        raise ValueError(f"{name} must have one mask per box ({n_boxes}), got shape {masks.shape}")
    if size is not None and masks.shape[1:] != tuple(size):
        raise ValueError(f"{name} must have the image's height and width {tuple(size)}, got shape {masks.shape}")
    if masks.dtype.kind == "b":
        return masks
    if masks.size and (masks.min() < 0 or masks.max() > 1):
        # logits or 0-255 images would otherwise turn into nonsense masks without a word
        raise ValueError(f"{name} must be bool, 0/1 or probabilities in [0, 1], got values in "
                         f"[{masks.min()}, {masks.max()}]")
    if masks.dtype.kind in "iu":
        return masks.astype(bool)
    return masks > 0.5  # probabilities, thresholded as torchvision's reference COCO evaluation does


def to_coco_ground_truth(ground_truth, image_sizes, classes=None, category_offset=1):
    """Ground truth as a COCO dictionary (boxes only), for ``pycocotools.coco.COCO``.

    Parameters
    ----------
    ground_truth : list of dict
        As for :func:`~course_utils.metrics.evaluate_detections`: ``boxes``
        (G, 4) corners, ``labels`` (G,) integer classes >= 0, optional
        ``area`` (G,) (the mask areas; default the box areas).
    image_sizes : (height, width) or list of them
        Size of every image (one pair for all, or one per image).
    classes : sequence of int, optional
        Classes (labels, before the offset) to list as categories; default
        the labels that occur.
    category_offset : int
        Added to every label to give its ``category_id`` (>= 0; default 1,
        because torchvision's detectors keep 0 for the background). Use the
        same value for :func:`to_coco_detections`.

    Returns
    -------
    dict
        ``images`` (ids 1, 2, ...), ``annotations`` (bbox ``[x, y, w, h]``,
        area, iscrowd 0, ids from 1) and ``categories`` (id = class +
        ``category_offset``, name = the class).
    """
    truths = check_image_dicts(ground_truth, "ground_truth", ("boxes", "labels"))
    sizes = _image_sizes(image_sizes, len(truths))
    offset = check_int(category_offset, "category_offset", minimum=0)
    if classes is None:
        classes = np.unique(np.concatenate([t["labels"] for t in truths] + [np.zeros(0, int)]))
    classes = check_array(np.asarray(list(classes)), "classes", ndim=1, allow_empty=True)
    images, annotations = [], []
    for i, (truth, (height, width)) in enumerate(zip(truths, sizes)):
        images.append({"id": i + 1, "height": height, "width": width})
        boxes = truth["boxes"]
        areas = truth.get("area", (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))
        category_ids = _category_ids(truth["labels"], offset, f"ground_truth[{i}]['labels']")
        for box, category_id, area in zip(boxes, category_ids, areas):
            annotations.append({"id": len(annotations) + 1, "image_id": i + 1, "category_id": category_id,
                                "bbox": _xywh(box), "area": float(area), "iscrowd": 0})
    categories = [{"id": c + offset, "name": str(c)} for c in _category_ids(classes, 0, "classes")]
    return {"images": images, "annotations": annotations, "categories": categories}


def to_coco_detections(predictions, category_offset=1, iou_type="bbox", image_sizes=None):
    """Detections as COCO's result list (``COCO.loadRes``): one dict per detection, image ids from 1.

    Parameters
    ----------
    predictions : list of dict
        One dict per image, in the order of the ground truth: ``boxes`` (K, 4)
        corners, ``scores`` (K,), ``labels`` (K,) integer classes >= 0, and
        for ``iou_type="segm"`` ``masks``: (K, H, W) or torchvision's
        (K, 1, H, W), bool, 0/1 or probabilities (a pixel belongs to the
        object above 0.5). NumPy arrays or tensors.
    category_offset : int
        Added to every label to give its ``category_id`` (>= 0; default 1,
        as :func:`to_coco_ground_truth` and :func:`to_coco`). Detectors whose
        labels already start at 1 (torchvision's) take 0.
    iou_type : {"bbox", "segm"}
        The evaluation the results are for, ``COCOeval``'s ``iouType``:
        ``"bbox"`` writes boxes (masks are not read), ``"segm"`` writes the
        masks as run-length encoding and no box. A segm result must not
        carry a box: ``loadRes`` then takes the box's area as the
        detection's area, and the small / medium / large numbers would mix
        box areas of detections with mask areas of objects.
    image_sizes : (height, width) or list of them, optional
        When given, every image's masks must have that size (COCOeval
        cannot compare masks of different sizes).

    Returns
    -------
    list of dict
        ``{"image_id", "category_id", "score"}`` plus ``"bbox": [x, y, w, h]``
        or ``"segmentation"`` (RLE with text counts, JSON-safe). Empty when
        there is no detection; ``COCO.loadRes`` rejects an empty list, so
        evaluate that case with an empty ``COCO`` object instead.
    """
    preds = check_image_dicts(predictions, "predictions", ("boxes", "scores", "labels"))
    offset = check_int(category_offset, "category_offset", minimum=0)
    iou_type = check_choice(iou_type, "iou_type", ("bbox", "segm"))
    sizes = None if image_sizes is None else _image_sizes(image_sizes, len(preds))
    results = []
    for i, pred in enumerate(preds):
        category_ids = _category_ids(pred["labels"], offset, f"predictions[{i}]['labels']")
        n_boxes = len(category_ids)
        if iou_type == "bbox":
            shapes = [{"bbox": _xywh(box)} for box in pred["boxes"]]
        elif n_boxes == 0 and "masks" not in predictions[i]:
            shapes = []
        else:
            if "masks" not in predictions[i]:
                raise ValueError(f"predictions[{i}] must have 'masks' for iou_type='segm'")
            masks = _binary_masks(predictions[i]["masks"], n_boxes, None if sizes is None else sizes[i],
                                  f"predictions[{i}]['masks']")
            shapes = [{"segmentation": rle} for rle in _rle(masks)]
        for shape, score, category_id in zip(shapes, pred["scores"], category_ids):
            results.append({"image_id": i + 1, "category_id": category_id, **shape, "score": float(score)})
    return results


def to_coco(scenes, file_pattern="scene_{:05d}.png", image_dir=None, category_offset=1):
    """The scenes as a COCO data set: a dictionary to ``json.dump`` or to load in pycocotools.

    Parameters
    ----------
    scenes : Scenes
    file_pattern : str
        ``file_name`` of image i (from 0) is ``file_pattern.format(i)``, a
        plain file name relative to the folder of the images (COCO's
        convention).
    image_dir : str or path, optional
        When given, every scene is written there as an 8-bit grey PNG under
        its ``file_name`` (the folder is created if needed; files of the
        same name are replaced). ``file_pattern`` must then end in
        ``.png`` and give every image its own name. Values are rounded to
        the nearest of 256 levels, so reading a file back gives the image to
        within 0.5 / 255.
    category_offset : int
        Digit d is category ``d + category_offset`` (>= 0; default 1, as
        :func:`to_coco_detections`).

    Returns
    -------
    dict
        ``info``, ``images`` (ids from 1, ``file_name``, ``height``,
        ``width``), ``annotations`` (ids from 1; ``bbox`` [x, y, w, h] of the
        box; ``area`` the mask's pixel count, COCO's convention;
        ``segmentation`` the mask as run-length encoding, with text counts
        so that it is JSON-safe; ``iscrowd`` 0) and ``categories`` (the ten
        digits, named ``"0"`` to ``"9"``, supercategory ``"digit"``).

    Notes
    -----
    Masks are written as run-length encoding only, which gives every pixel
    back. COCO's other form, a list of polygons, cannot hold a hole
    (pycocotools merges the polygons of an object into their union) and 0,
    4, 6, 8 and 9 have holes; and pycocotools' rasterisation of an outline
    traced around the pixels gains or loses pixels along thin strokes, so
    such masks would not come back as they were, nor keep their ``area``.
    """
    if not isinstance(scenes, Scenes):
        raise TypeError(f"scenes must be Scenes from make_scenes, got {type(scenes).__name__}")
    if not isinstance(file_pattern, str):
        raise TypeError(f"file_pattern must be a str such as 'scene_{{:05d}}.png', got {type(file_pattern).__name__}")
    try:
        names = [file_pattern.format(i) for i in range(len(scenes))]
    except (IndexError, KeyError, ValueError) as exc:
        raise ValueError(f"file_pattern must format an image index, as 'scene_{{:05d}}.png' does, "
                         f"got {file_pattern!r}") from exc
    offset = check_int(category_offset, "category_offset", minimum=0)
    height, width = scenes.canvas_size
    folder = None if image_dir is None else _image_folder(image_dir, names)

    coco = to_coco_ground_truth(scenes.targets, (height, width), classes=range(len(DIGIT_NAMES)),
                                category_offset=offset)
    for image, name in zip(coco["images"], names):
        image["file_name"] = name
    annotations = iter(coco["annotations"])
    for i, target in enumerate(scenes.targets):
        masks = np.asarray(target["masks"])
        if masks.shape != (len(target["labels"]), height, width) or masks.dtype != bool:
            raise ValueError(f"scenes.targets[{i}]['masks'] must be (K, H, W) bool with K = "
                             f"{len(target['labels'])} and (H, W) = {(height, width)}, got {masks.dtype} {masks.shape}")
        for mask, rle in zip(masks, _rle(masks)):
            annotation = next(annotations)
            # COCO's area is the object's pixel count, counted from the mask itself
            annotation["area"] = float(np.count_nonzero(mask))
            annotation["segmentation"] = rle
    coco["categories"] = [{"id": d + offset, "name": name, "supercategory": "digit"}
                          for d, name in enumerate(DIGIT_NAMES)]
    coco["info"] = {"description": f"course_utils multi-digit scenes, split {scenes.split!r}"}
    if folder is not None:  # written last, once every input has passed its checks
        _write_pngs(scenes.images, folder, names)
    return coco


def _image_folder(image_dir, names):
    """The checked folder to write the PNGs to, for the given file names."""
    if not isinstance(image_dir, (str, os.PathLike)):
        raise TypeError(f"image_dir must be a folder path (str or Path), got {type(image_dir).__name__}")
    folder = Path(image_dir)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"image_dir must be a folder, but {str(folder)!r} is a file")
    for name in names:
        if Path(name).name != name or not name.lower().endswith(".png"):
            raise ValueError(f"file_pattern must give plain file names ending in .png when image_dir is given, "
                             f"got {name!r}")
    seen = set()
    for name in names:
        if name in seen:  # a pattern without the index would write every scene over the first
            raise ValueError(f"file_pattern must give every image its own file name, got {name!r} twice")
        seen.add(name)
    return folder


def _write_pngs(images, folder, names):
    """Each (H, W) image in [0, 1] as an 8-bit grey PNG."""
    from PIL import Image

    if images.size and (images.min() < 0 or images.max() > 1):
        raise ValueError(f"scenes.images must lie in [0, 1] to be written as 8-bit PNGs, got values in "
                         f"[{images.min()}, {images.max()}]")
    folder.mkdir(parents=True, exist_ok=True)
    for image, name in zip(images, names):
        pixels = np.round(image * 255).astype(np.uint8)  # nearest level: at most 0.5 / 255 off
        Image.fromarray(pixels).save(folder / name, format="PNG")
