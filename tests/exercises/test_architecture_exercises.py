"""Notebooks 13-17: graded cells accept the solution and reject the stub and plausible wrong answers.

Each graded cell runs the answer with the course function that is its answer
forbidden (``course_utils.exercises.forbid``), so an answer that only calls it
fails; the wrong answers below are the slips the exercises invite (a missed
bias, no padding, a pool that rounds up, no max shift, a missed factor of two or
of the groups, a wrong axis, an unclamped intersection, a ReLU in the wrong place,
an unbalanced class mean, a layer left frozen) and that delegation.

Each notebook's fourth exercise is not a transcription of code it shows: 13 the
expected calibration error of softmax probabilities (bins weighted by their share
of the images, a confidence of exactly 1 in the last bin), 14 the largest 1x1
reduction that saves FLOPs (derived; equal cost is not cheaper), 15 the backward
pass of a residual block (the shortcut's copy, both ReLU masks), 16 a training
step that leaves frozen batch norms as they were (a given bug to fix), 17 the
boxes of visible ink under occlusion (later digits on top, pixel edges). Their
graders also refuse autograd where it would answer, and 13's refuses torchmetrics'
calibration error (its reference).
"""

from graded import exercise_tests

# ---------------------------------------------------------------- notebook 13
LENET_PRELUDE = """
import numpy as np
import torch
from torch import nn
from course_utils import models
from course_utils.train import predict
torch.manual_seed(0)
lenet = models.LeNet5().eval()
x_test = torch.randn(50, 1, 28, 28)
probabilities = torch.softmax(predict(lenet, x_test), dim=1)
y_test = torch.randint(0, 10, (50,))
"""
_CONV = "def conv_parameters(in_channels, out_channels, kernel_size, bias=True):\n"
_SIDE = "def lenet_flatten_size(height, width):\n    def side(n):\n"
_FLAT_END = "    return 16 * side(height) * side(width)\n"
_SM = "def softmax(logits):\n"
_ECE = ("def expected_calibration_error(probabilities, labels, n_bins=10):\n"
        "    p = torch.as_tensor(probabilities, dtype=torch.float64)\n"
        "    confidence, prediction = p.max(dim=1)\n"
        "    correct = (prediction == torch.as_tensor(labels)).double()\n")
_CLAMPED = "    bins = torch.clamp((confidence * n_bins).long(), max=n_bins - 1)\n"
_FLOORED = "    bins = (confidence * n_bins).long()\n"


def _ece_sum(bins="bins == m", bins_range="range(n_bins)", accuracy="correct[in_bin].mean()", gap=None,
             end="    return float(ece)\n"):
    gap = gap or f"({accuracy} - confidence[in_bin].mean()).abs()"
    return (f"    ece = 0.0\n    for m in {bins_range}:\n        in_bin = {bins}\n        if in_bin.any():\n"
            f"            ece += in_bin.double().mean() * {gap}\n" + end)


_NUDGED = ("    q = torch.as_tensor(probabilities, dtype=torch.float32)\n"
           "    q = torch.where(q == 1, 1 - 2.0 ** -24, q)\n")

test_lenet_solution, test_lenet_wrong = exercise_tests("4_architectures/13_cnn_layers_and_lenet.ipynb", LENET_PRELUDE, [
    ("lenet_conv_parameters", {
        "no bias ever": _CONV + "    return out_channels * in_channels * kernel_size ** 2\n",
        "bias counted when bias=False": _CONV + "    return out_channels * (in_channels * kernel_size ** 2 + 1)\n",
        "kernel not squared": _CONV + (
            "    return out_channels * in_channels * kernel_size + (out_channels if bias else 0)\n"),
        "one bias per input channel": _CONV + (
            "    return out_channels * in_channels * kernel_size ** 2 + (in_channels if bias else 0)\n"),
        "the course's layer_parameters": _CONV + (
            "    return models.layer_parameters(nn.Conv2d(in_channels, out_channels, kernel_size, bias=bias))\n"),
    }),
    ("lenet_flatten_size", {
        "no padding in conv1": _SIDE + "        return ((n - 4) // 2 - 4) // 2\n" + _FLAT_END,
        "pooling rounds up": _SIDE + "        return -(-(-(-n // 2) - 4) // 2)\n" + _FLAT_END,
        "six channels (conv1's)": _SIDE + "        return ((n) // 2 - 4) // 2\n"
                                  "    return 6 * side(height) * side(width)\n",
        "one pooling only": _SIDE + "        return n // 2 - 4\n" + _FLAT_END,
        "the course's LeNet5": ("def lenet_flatten_size(height, width):\n"
                                "    return models.LeNet5().features(torch.zeros(1, 1, height, width)).numel()\n"),
    }),
    ("lenet_softmax", {
        "no max shift": _SM + "    e = torch.exp(logits)\n    return e / e.sum(dim=1, keepdim=True)\n",
        "one maximum for the whole batch": _SM + (
            "    e = torch.exp(logits - logits.max())\n    return e / e.sum(dim=1, keepdim=True)\n"),
        "normalized over the batch (dim 0)": _SM + (
            "    e = torch.exp(logits - logits.max(dim=1, keepdim=True).values)\n"
            "    return e / e.sum(dim=0, keepdim=True)\n"),
        "torch.softmax": _SM + "    return torch.softmax(logits, dim=1)\n",
        "nn.Softmax": _SM + "    return nn.Softmax(dim=1)(logits)\n",
        "the tensor method": _SM + "    return logits.softmax(1)\n",
        "the course's layers.softmax": _SM + (
            "    from course_utils import layers\n"
            "    return torch.as_tensor(layers.softmax(logits.numpy()), dtype=logits.dtype)\n"),
    }),
    ("lenet_calibration_error", {
        "unweighted mean over the non-empty bins": _ECE + _CLAMPED + (
            "    gaps = [(correct[bins == m].mean() - confidence[bins == m].mean()).abs()\n"
            "            for m in range(n_bins) if (bins == m).any()]\n"
            "    return float(sum(gaps) / len(gaps))\n"),
        "mean over all bins, empty ones included": _ECE + _CLAMPED + (
            "    gaps = [(correct[bins == m].mean() - confidence[bins == m].mean()).abs()\n"
            "            for m in range(n_bins) if (bins == m).any()]\n"
            "    return float(sum(gaps) / n_bins)\n"),
        "binned by predicted class instead of confidence": _ECE + _ece_sum(
            bins="prediction == m", bins_range="range(p.shape[1])"),
        "accuracy over all images instead of per bin": _ECE + _CLAMPED + _ece_sum(accuracy="correct.mean()"),
        "floor without clamp: a confidence of 1.0 dropped": _ECE + _FLOORED + _ece_sum(),
        "a confidence of 1.0 in a bin of its own (torchmetrics' way)": _ECE + _FLOORED + _ece_sum(
            bins_range="range(n_bins + 1)"),
        "signed difference, no absolute value": _ECE + _CLAMPED + _ece_sum(
            gap="(correct[in_bin].mean() - confidence[in_bin].mean())"),
        "bins closed on the right (an edge counted in the bin below)": _ECE + (
            "    bins = torch.clamp(torch.ceil(confidence * n_bins).long() - 1, min=0)\n") + _ece_sum(),
        "bins spread over the confidences' own range (torch.histc's default)": _ECE + (
            "    low, high = confidence.min(), confidence.max()\n"
            "    bins = torch.clamp(((confidence - low) / (high - low) * n_bins).long(), max=n_bins - 1)\n")
            + _ece_sum(),
        "a tensor returned, not a float": _ECE + _CLAMPED + _ece_sum(end="    return ece\n"),
        "torchmetrics' MulticlassCalibrationError": (
            "def expected_calibration_error(probabilities, labels, n_bins=10):\n" + _NUDGED +
            "    from torchmetrics.classification import MulticlassCalibrationError\n"
            "    metric = MulticlassCalibrationError(num_classes=q.shape[1], n_bins=n_bins, norm='l1')\n"
            "    return float(metric(q, torch.as_tensor(labels)))\n"),
        "torchmetrics' class from its own module": (
            "def expected_calibration_error(probabilities, labels, n_bins=10):\n" + _NUDGED +
            "    from torchmetrics.classification.calibration_error import MulticlassCalibrationError\n"
            "    metric = MulticlassCalibrationError(num_classes=q.shape[1], n_bins=n_bins, norm='l1')\n"
            "    return float(metric(q, torch.as_tensor(labels)))\n"),
        "torchmetrics' functional calibration_error": (
            "def expected_calibration_error(probabilities, labels, n_bins=10):\n" + _NUDGED +
            "    import torchmetrics.functional as F\n"
            "    return float(F.calibration_error(q, torch.as_tensor(labels), task='multiclass',\n"
            "                                     num_classes=q.shape[1], n_bins=n_bins))\n"),
        "torchmetrics' private _ce_compute": (
            "def expected_calibration_error(probabilities, labels, n_bins=10):\n" + _NUDGED +
            "    import sys\n"
            "    module = sys.modules['torchmetrics.functional.classification.calibration_error']\n"
            "    confidence, prediction = q.max(dim=1)\n"
            "    return float(module._ce_compute(confidence, (prediction == torch.as_tensor(labels)).float(), n_bins))\n"),
    }),
])

# ---------------------------------------------------------------- notebook 14
ARCH_PRELUDE = """
import torch
from torch import nn
from course_utils import models
with torch.device("meta"):
    vgg_ours = models.vgg16()
config_3a = (192, 64, 96, 128, 16, 32, 32)
"""
_FLOPS = "def conv_flops(in_channels, out_channels, kernel_size, out_height, out_width, groups=1):\n"
_VGG = ("def vgg_conv_parameters(config, in_channels=3):\n    total, channels = 0, in_channels\n"
        "    for item in config:\n        if item != 'M':\n")
_RED = ("def largest_cheaper_reduction(in_channels, out_channels, kernel_size):\n"
        "    c, k, f = in_channels, out_channels, kernel_size\n")
_INC = "def inception_channels(config):\n    in_ch, ch1x1, red3, ch3x3, red5, ch5x5, pool_proj = config\n"

test_arch_solution, test_arch_wrong = exercise_tests("4_architectures/14_classic_architectures.ipynb", ARCH_PRELUDE, [
    ("arch_conv_flops", {
        "multiply-adds (no factor 2)": _FLOPS + (
            "    return out_channels * out_height * out_width * (in_channels // groups) * kernel_size ** 2\n"),
        "groups ignored": _FLOPS + (
            "    return 2 * out_channels * out_height * out_width * in_channels * kernel_size ** 2\n"),
        "groups divide the output channels too": _FLOPS + (
            "    return 2 * (out_channels // groups) * out_height * out_width * (in_channels // groups)"
            " * kernel_size ** 2\n"),
        "kernel not squared": _FLOPS + (
            "    return 2 * out_channels * out_height * out_width * (in_channels // groups) * kernel_size\n"),
        "output width used twice": _FLOPS + (
            "    return 2 * out_channels * out_width * out_width * (in_channels // groups) * kernel_size ** 2\n"),
        "the course's count_flops": _FLOPS + (
            "    layer = nn.Conv2d(in_channels, out_channels, kernel_size, groups=groups)\n"
            "    shape = (1, in_channels, out_height + kernel_size - 1, out_width + kernel_size - 1)\n"
            "    return models.count_flops(layer, shape)\n"),
    }),
    ("arch_vgg_conv_parameters", {
        "no biases": _VGG + "            total += item * channels * 9\n            channels = item\n    return total\n",
        "channels never updated": _VGG + "            total += item * (channels * 9 + 1)\n    return total\n",
        "bias per input channel": _VGG + (
            "            total += item * channels * 9 + channels\n            channels = item\n    return total\n"),
        "always three input channels": (
            "def vgg_conv_parameters(config, in_channels=3):\n    total, channels = 0, 3\n"
            "    for item in config:\n        if item != 'M':\n"
            "            total += item * (channels * 9 + 1)\n            channels = item\n    return total\n"),
        "the course's vgg16 and count_parameters": (
            "def vgg_conv_parameters(config, in_channels=3):\n    with torch.device('meta'):\n"
            "        return models.count_parameters(models.vgg16(config=config).features).total\n"),
        "the course's layer_parameters, layer by layer": _VGG + (
            "            total += models.layer_parameters(nn.Conv2d(channels, item, 3))\n"
            "            channels = item\n    return total\n"),
    }),
    ("arch_inception_channels", {
        "reduce layers counted": _INC + "    return ch1x1 + red3 + ch3x3 + red5 + ch5x5 + pool_proj\n",
        "input channels counted": _INC + "    return in_ch + ch1x1 + ch3x3 + ch5x5 + pool_proj\n",
        "reduce widths instead of outputs": _INC + "    return ch1x1 + red3 + red5 + pool_proj\n",
        "pool branch left out": _INC + "    return ch1x1 + ch3x3 + ch5x5\n",
        "the course's InceptionModule": (
            "def inception_channels(config):\n"
            "    return models.InceptionModule(*config)(torch.zeros(1, config[0], 4, 4)).shape[1]\n"),
    }),
    ("arch_largest_cheaper_reduction", {
        "equal cost counted as cheaper": _RED + "    return c * k * f * f // (c + k * f * f)\n",
        "the 1x1 layer's own cost left out": _RED + "    return c - 1\n",
        "F squared left out of the reduced convolution": _RED + "    return (c * k * f * f - 1) // (c + k)\n",
        "parameters with biases instead of FLOPs": _RED + "    return (c * k * f * f - 1) // (c + 1 + k * f * f)\n",
        "bound rounded to the nearest": _RED + "    return round(c * k * f * f / (c + k * f * f))\n",
        "at least one channel": _RED + "    return max(1, (c * k * f * f - 1) // (c + k * f * f))\n",
        "the bound as a float": _RED + "    return c * k * f * f / (c + k * f * f)\n",
        "the course's count_flops, r by r": _RED + (
            "    direct = models.count_flops(nn.Conv2d(c, k, f, padding=f // 2), (1, c, 3, 3))\n"
            "    r = 0\n"
            "    while models.count_flops(nn.Sequential(nn.Conv2d(c, r + 1, 1), nn.Conv2d(r + 1, k, f, padding=f // 2)),\n"
            "                             (1, c, 3, 3)) < direct:\n"
            "        r += 1\n    return r\n"),
    }),
])

# ---------------------------------------------------------------- notebook 17
BOXES_PRELUDE = """
import numpy as np
import torch
import torchvision
from course_utils import data, detection
rng = np.random.default_rng(0)
corners = np.sort(rng.uniform(0, 128, (1000, 2, 2)), axis=1).transpose(0, 2, 1).reshape(-1, 4)[:, [0, 2, 1, 3]]
"""
_CX = "def cxcywh_to_xyxy(box):\n    cx, cy, w, h = box\n"
_IOU = "def iou(a, b):\n"
_VIS = ("def visible_boxes(masks):\n    masks = np.asarray(masks, dtype=bool)\n"
        "    boxes = np.zeros((len(masks), 4))\n    for k, mask in enumerate(masks):\n")
_VIS_MASK = "        rows, cols = np.nonzero(mask & ~masks[k + 1:].any(axis=0))\n"
_VIS_END = "    return boxes\n"
_INTER = ("    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))\n"
          "    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))\n    inter = w * h\n")
_AREAS = "    area_a, area_b = (a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1])\n"
_GIOU = "def giou(a, b):\n" + _INTER + _AREAS + "    union = area_a + area_b - inter\n"
_ENCL = "    enclosing = (max(a[2], b[2]) - min(a[0], b[0])) * (max(a[3], b[3]) - min(a[1], b[1]))\n"

test_boxes_solution, test_boxes_wrong = exercise_tests("5_detection/17_localization_and_boxes.ipynb", BOXES_PRELUDE, [
    ("boxes_cxcywh_to_xyxy", {
        "full width on each side": _CX + "    return (cx - w, cy - h, cx + w, cy + h)\n",
        "returns corner and size (xywh)": _CX + "    return (cx - w / 2, cy - h / 2, w, h)\n",
        "order x1, x2, y1, y2": _CX + "    return (cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2)\n",
        "width and height swapped": _CX + "    return (cx - h / 2, cy - w / 2, cx + h / 2, cy + w / 2)\n",
        "integer halves": _CX + "    return (cx - w // 2, cy - h // 2, cx + w // 2, cy + h // 2)\n",
        "the course's box_convert": _CX + (
            "    return tuple(detection.box_convert(np.array([box], dtype=float), 'cxcywh', 'xyxy')[0])\n"),
    }),
    ("boxes_pair_iou", {
        "torchvision's box_iou": ("def iou(a, b):\n    import torch, torchvision\n"
                                  "    a, b = torch.tensor([a], dtype=torch.float64), torch.tensor([b], dtype=torch.float64)\n"
                                  "    return float(torchvision.ops.box_iou(a, b)[0, 0])\n"),
        "intersection not clamped": _IOU + (
            "    w = min(a[2], b[2]) - max(a[0], b[0])\n    h = min(a[3], b[3]) - max(a[1], b[1])\n"
            "    inter = w * h\n" + _AREAS + "    return inter / (area_a + area_b - inter)\n"),
        "only the product clamped": _IOU + (
            "    w = min(a[2], b[2]) - max(a[0], b[0])\n    h = min(a[3], b[3]) - max(a[1], b[1])\n"
            "    inter = max(0.0, w * h)\n" + _AREAS + "    return inter / (area_a + area_b - inter)\n"),
        "union counts the overlap twice": _IOU + _INTER + _AREAS + "    return inter / (area_a + area_b)\n",
        "over the smaller box": _IOU + _INTER + _AREAS + "    return inter / min(area_a, area_b)\n",
        "the course's box_iou": _IOU + "    return float(detection.box_iou(np.array([a], float), np.array([b], float))[0, 0])\n",
    }),
    ("boxes_pair_giou", {
        "torchvision's generalized_box_iou": (
            "def giou(a, b):\n    import torch, torchvision\n"
            "    a, b = torch.tensor([a], dtype=torch.float64), torch.tensor([b], dtype=torch.float64)\n"
            "    return float(torchvision.ops.generalized_box_iou(a, b)[0, 0])\n"),
        "plain IoU": _GIOU + "    return inter / union\n",
        "penalty over the union": _GIOU + _ENCL + "    return inter / union - (enclosing - union) / union\n",
        "penalty with the intersection": _GIOU + _ENCL + "    return inter / union - (enclosing - inter) / enclosing\n",
        "intersection not clamped": (
            "def giou(a, b):\n    w = min(a[2], b[2]) - max(a[0], b[0])\n    h = min(a[3], b[3]) - max(a[1], b[1])\n"
            "    inter = w * h\n" + _AREAS + "    union = area_a + area_b - inter\n" + _ENCL
            + "    return inter / union - (enclosing - union) / enclosing\n"),
        "enclosing box of the intersection": _GIOU + (
            "    enclosing = (min(a[2], b[2]) - max(a[0], b[0])) * (min(a[3], b[3]) - max(a[1], b[1]))\n"
            "    return inter / union - (enclosing - union) / enclosing\n"),
        "the course's generalized_box_iou": "def giou(a, b):\n    return float(detection.generalized_box_iou("
                                            "np.array([a], float), np.array([b], float))[0, 0])\n",
    }),
    ("boxes_visible_boxes", {
        "torchvision's convention (no + 1)": _VIS + _VIS_MASK + (
            "        boxes[k] = cols.min(), rows.min(), cols.max(), rows.max()\n") + _VIS_END,
        "rows taken for x": _VIS + _VIS_MASK + (
            "        boxes[k] = rows.min(), cols.min(), rows.max() + 1, cols.max() + 1\n") + _VIS_END,
        "occlusion ignored (the whole ink's box)": _VIS + (
            "        rows, cols = np.nonzero(mask)\n"
            "        boxes[k] = cols.min(), rows.min(), cols.max() + 1, rows.max() + 1\n") + _VIS_END,
        "earlier digits on top": _VIS + (
            "        rows, cols = np.nonzero(mask & ~masks[:k].any(axis=0))\n"
            "        boxes[k] = cols.min(), rows.min(), cols.max() + 1, rows.max() + 1\n") + _VIS_END,
        "only the next digit hides ink": _VIS + (
            "        rows, cols = np.nonzero(mask & ~masks[k + 1:k + 2].any(axis=0))\n"
            "        boxes[k] = cols.min(), rows.min(), cols.max() + 1, rows.max() + 1\n") + _VIS_END,
        "corners of the first and last visible pixel in reading order": _VIS + _VIS_MASK + (
            "        boxes[k] = cols[0], rows[0], cols[-1] + 1, rows[-1] + 1\n") + _VIS_END,
        "the course's connected_component_boxes": _VIS + (
            "        visible = (mask & ~masks[k + 1:].any(axis=0)).astype(float)\n"
            "        found, _ = detection.connected_component_boxes(visible, threshold=0.5, min_area=1)\n"
            "        boxes[k] = found[:, 0].min(), found[:, 1].min(), found[:, 2].max(), found[:, 3].max()\n") + _VIS_END,
    }),
])

# ---------------------------------------------------------------- notebook 15
RESNET_PRELUDE = """
import torch
from torch import nn
from course_utils import models
torch.manual_seed(0)
"""
_RF = "def residual_forward(x, f):\n"
_ZP = "def zero_pad_shortcut(x, out_channels, stride):\n"
_RB_FWD = ("def residual_backward(x, w1, w2, grad_y):\n    a = x @ w1.T\n"
           "    s = torch.relu(a) @ w2.T + x\n")
_RB = _RB_FWD + "    grad_s = grad_y * (s > 0)\n"
_ZEROS = "    zeros = torch.zeros(x.shape[0], out_channels - x.shape[1], x.shape[2], x.shape[3], dtype=x.dtype)\n"

test_resnet_solution, test_resnet_wrong = exercise_tests("4_architectures/15_residual_learning.ipynb", RESNET_PRELUDE, [
    ("resnet_residual_forward", {
        "no ReLU": _RF + "    return f(x) + x\n",
        "ReLU before the sum": _RF + "    return torch.relu(f(x)) + x\n",
        "ReLU on each term": _RF + "    return torch.relu(f(x)) + torch.relu(x)\n",
        "f applied to ReLU(x)": _RF + "    return torch.relu(f(torch.relu(x)) + x)\n",
    }),
    ("resnet_zero_pad_shortcut", {
        "zeros in front": _ZP + "    x = x[:, :, ::stride, ::stride]\n" + _ZEROS + "    return torch.cat([zeros, x], dim=1)\n",
        "no subsampling": _ZP + _ZEROS + "    return torch.cat([x, zeros], dim=1)\n",
        "subsampling from the second pixel": _ZP + "    x = x[:, :, 1::stride, 1::stride]\n" + _ZEROS
                                             + "    return torch.cat([x, zeros], dim=1)\n",
        "channels doubled": _ZP + "    x = x[:, :, ::stride, ::stride]\n    return torch.cat([x, torch.zeros_like(x)], dim=1)\n",
        "average pooling": _ZP + "    x = nn.functional.avg_pool2d(x, stride, ceil_mode=True)\n" + _ZEROS
                           + "    return torch.cat([x, zeros], dim=1)\n",
        "the course's BasicBlock": _ZP + (
            "    shortcut = models.BasicBlock(x.shape[1], out_channels, stride=stride, shortcut='identity').downsample\n"
            "    return x if shortcut is None else shortcut(x)\n"),
    }),
    ("resnet_stack_depth", {
        "the FC layer left out": "def stack_depth(n):\n    return 6 * n + 1\n",
        "stages only": "def stack_depth(n):\n    return 6 * n\n",
        "one convolution per block": "def stack_depth(n):\n    return 3 * n + 2\n",
        "the course's DepthStack": ("def stack_depth(n):\n    return sum(isinstance(m, (nn.Conv2d, nn.Linear))\n"
                                    "               for m in models.DepthStack(n, shortcut='none').modules())\n"),
    }),
    ("resnet_residual_backward", {
        "no shortcut path (the plain block)": _RB + "    return (grad_s @ w2 * (a > 0)) @ w1\n",
        "no ReLU after the sum": _RB_FWD + "    grad_s = grad_y\n    return (grad_s @ w2 * (a > 0)) @ w1 + grad_s\n",
        "outer mask from F(x), not the sum": _RB_FWD + (
            "    grad_s = grad_y * (torch.relu(a) @ w2.T > 0)\n    return (grad_s @ w2 * (a > 0)) @ w1 + grad_s\n"),
        "shortcut gradient not masked": _RB + "    return (grad_s @ w2 * (a > 0)) @ w1 + grad_y\n",
        "inner ReLU mask left out": _RB + "    return (grad_s @ w2) @ w1 + grad_s\n",
        "weights not transposed back": _RB + "    return (grad_s @ w2.T * (a > 0)) @ w1.T + grad_s\n",
        "autograd": ("def residual_backward(x, w1, w2, grad_y):\n    x = x.clone().requires_grad_(True)\n"
                     "    torch.relu(torch.relu(x @ w1.T) @ w2.T + x).backward(grad_y)\n    return x.grad\n"),
        "torch.func.vjp": ("def residual_backward(x, w1, w2, grad_y):\n"
                           "    _, pull = torch.func.vjp(lambda t: torch.relu(torch.relu(t @ w1.T) @ w2.T + t), x)\n"
                           "    return pull(grad_y)[0]\n"),
        "the course's layers backward functions": _RB_FWD + (
            "    from course_utils import layers\n"
            "    grad_s = grad_y * (s > 0)\n"
            "    grad_h = grad_s @ w2\n"
            "    grad_a = layers.relu_backward(grad_h.numpy(), a.numpy())\n"
            "    return torch.as_tensor(grad_a) @ w1 + grad_s\n"),
    }),
])

# ---------------------------------------------------------------- notebook 16
TRANSFER_PRELUDE = """
import torch
from torch import nn
from course_utils import models
from course_utils.train import fit
"""
_STEP = "def train_step(model, x, y, optimizer):\n"
_STEP_REST = ("    optimizer.zero_grad()\n    loss = nn.functional.cross_entropy(model(x), y)\n"
              "    loss.backward()\n    optimizer.step()\n    return loss.item()\n")
_FROZEN = ("    for module in model.modules():\n        own = list(module.parameters(recurse=False))\n"
           "        if own and not any(p.requires_grad for p in own):\n            module.eval()\n")
_TF = "def trainable_fraction(model):\n"
_CM = "def class_means(features, labels):\n"
_FF = "def freeze_features(model):\n"

test_transfer_solution, test_transfer_wrong = exercise_tests("4_architectures/16_transfer_learning.ipynb", TRANSFER_PRELUDE, [
    ("transfer_trainable_fraction", {
        "tensors counted, not values": _TF + (
            "    params = list(model.parameters())\n    return sum(p.requires_grad for p in params) / len(params)\n"),
        "the frozen fraction": _TF + ("    total = sum(p.numel() for p in model.parameters())\n"
                                      "    return sum(p.numel() for p in model.parameters() if not p.requires_grad) / total\n"),
        "buffers in the total": _TF + ("    total = sum(t.numel() for t in model.state_dict().values())\n"
                                       "    return sum(p.numel() for p in model.parameters() if p.requires_grad) / total\n"),
        "the course's count_parameters": _TF + (
            "    return models.count_parameters(model, trainable_only=True).total / models.count_parameters(model).total\n"),
    }),
    ("transfer_class_means", {
        "sums, not means": _CM + "    return torch.stack([features[labels == c].sum(0) for c in range(int(labels.max()) + 1)])\n",
        "one class short": _CM + "    return torch.stack([features[labels == c].mean(0) for c in range(int(labels.max()))])\n",
        "divided by the average class size": _CM + (
            "    k = int(labels.max()) + 1\n"
            "    return torch.stack([features[labels == c].sum(0) for c in range(k)]) * k / len(labels)\n"),
        "medians": _CM + "    return torch.stack([features[labels == c].median(0).values for c in range(int(labels.max()) + 1)])\n",
    }),
    ("transfer_freeze_features", {
        "everything frozen": _FF + "    model.requires_grad_(False)\n    return model\n",
        "fc frozen, the rest trains": _FF + (
            "    for name, p in model.named_parameters():\n        p.requires_grad_(not name.startswith('fc.'))\n"
            "    return model\n"),
        "only convolution weights frozen": _FF + (
            "    for name, p in model.named_parameters():\n        if 'conv' in name:\n            p.requires_grad_(False)\n"
            "    return model\n"),
        "fc never switched back on": _FF + (
            "    for name, p in model.named_parameters():\n        if not name.startswith('fc.'):\n"
            "            p.requires_grad_(False)\n    return model\n"),
        "the course's transfer_model": _FF + (
            "    reference = dict(models.transfer_model('train fc', model.fc.out_features).named_parameters())\n"
            "    for name, p in model.named_parameters():\n        p.requires_grad_(reference[name].requires_grad)\n"
            "    return model\n"),
    }),
    ("transfer_train_step", {
        "the given step (everything in train mode)": _STEP + "    model.train()\n" + _STEP_REST,
        "everything in eval mode": _STEP + "    model.eval()\n" + _STEP_REST,
        "block1 and block2 in eval mode, by name": _STEP + (
            "    model.train()\n    model.block1.eval()\n    model.block2.eval()\n") + _STEP_REST,
        "frozen layers in eval mode, the rest left as it was": _STEP + _FROZEN + _STEP_REST,
        "running averages put back after a train-mode step": _STEP + (
            "    model.train()\n    saved = {k: v.clone() for k, v in model.state_dict().items()}\n"
            "    optimizer.zero_grad()\n    loss = nn.functional.cross_entropy(model(x), y)\n"
            "    loss.backward()\n    optimizer.step()\n"
            "    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}\n"
            "    with torch.no_grad():\n"
            "        for name, value in model.state_dict().items():\n"
            "            if name.rsplit('.', 1)[0] + '.weight' in frozen:\n"
            "                value.copy_(saved[name])\n"
            "    return loss.item()\n"),
        "the frozen part run without gradients, in train mode": _STEP + (
            "    model.train()\n    optimizer.zero_grad()\n"
            "    with torch.no_grad():\n        features = model.pool(model.block3(model.block2(model.block1(x))))\n"
            "    loss = nn.functional.cross_entropy(model.fc(features), y)\n"
            "    loss.backward()\n    optimizer.step()\n    return loss.item()\n"),
        "the notebook's fit": _STEP + (
            "    return fit(model, (x, y), optimizer, epochs=1, progress=False)['train_loss'][0]\n"),
        "the course's fit": _STEP + (
            "    from course_utils import train\n"
            "    return train.fit(model, (x, y), optimizer, epochs=1, progress=False)['train_loss'][0]\n"),
        "the course's _set_train_mode": _STEP + (
            "    from course_utils import train\n    train._set_train_mode(model)\n") + _STEP_REST,
    }),
])
