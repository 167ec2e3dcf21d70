"""Notebooks 13-17: graded cells accept the solution and reject the stub and plausible wrong answers.

Each graded cell runs the answer with the course function that is its answer
forbidden (``course_utils.exercises.forbid``), so an answer that only calls it
fails; the wrong answers below are the slips the exercises invite (a missed
bias, no padding, a pool that rounds up, no max shift, a missed factor of two or
of the groups, a wrong axis, an unclamped intersection, a ReLU in the wrong place,
an unbalanced class mean, a layer left frozen) and that delegation.
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
"""
_CONV = "def conv_parameters(in_channels, out_channels, kernel_size, bias=True):\n"
_SIDE = "def lenet_flatten_size(height, width):\n    def side(n):\n"
_FLAT_END = "    return 16 * side(height) * side(width)\n"
_SM = "def softmax(logits):\n"

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
])

# ---------------------------------------------------------------- notebook 17
BOXES_PRELUDE = """
import numpy as np
from course_utils import detection
rng = np.random.default_rng(0)
corners = np.sort(rng.uniform(0, 128, (1000, 2, 2)), axis=1).transpose(0, 2, 1).reshape(-1, 4)[:, [0, 2, 1, 3]]
"""
_CX = "def cxcywh_to_xyxy(box):\n    cx, cy, w, h = box\n"
_IOU = "def iou(a, b):\n"
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
])

# ---------------------------------------------------------------- notebook 16
TRANSFER_PRELUDE = """
import torch
from torch import nn
from course_utils import models
"""
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
])
