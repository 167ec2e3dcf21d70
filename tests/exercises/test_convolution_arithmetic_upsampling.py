"""Notebooks 05, 06 and 07: graded cells accept the solution and reject the stub and plausible wrong answers.

Each grader runs the learner's function with the course's own implementation
forbidden (the grouped convolution may still call ``conv.conv2d``, but only with
``groups=1``, one group at a time; the channel shuffle may not call torch's
shuffles, the max-pooling backward pass neither torch's pooling nor autograd),
so "call the course function" (or torch's) is among the wrong answers rejected
below.
"""

from graded import exercise_tests

ARITHMETIC_PRELUDE = """
import numpy as np
from course_utils import conv
"""
_SIZE = "def output_size(n, f, p=0, s=1, d=1):\n"
_PAD = "def same_padding(f, d=1):\n"
_FIELD = "def field(layers):\n"
_INV = "def padding_for(n, o, f, s=1, d=1):\n    span = d * (f - 1) + 1\n"

test_arithmetic_solution, test_arithmetic_wrong = exercise_tests(
    "2_convolution/05_convolution_arithmetic.ipynb", ARITHMETIC_PRELUDE, [
        ("conv_output_size", {
            "dilation ignored": _SIZE + "    return (n + 2 * p - f) // s + 1\n",
            "dilated kernel spans d * f": _SIZE + "    return (n + 2 * p - d * f) // s + 1\n",
            "rounded up": _SIZE + "    return -(-(n + 2 * p - d * (f - 1) - 1) // s) + 1\n",
            "padding on one side only": _SIZE + "    return (n + p - d * (f - 1) - 1) // s + 1\n",
            "no + 1": _SIZE + "    return (n + 2 * p - d * (f - 1) - 1) // s\n",
            "the course's function": _SIZE + "    return conv.conv_output_size(n, f, s, p, d)\n",
        }),
        ("conv_same_padding", {
            "dilation ignored": _PAD + "    return (f - 1) // 2\n",
            "d * f // 2": _PAD + "    return d * f // 2\n",
            "full padding": _PAD + "    return d * (f - 1)\n",
            "the course's function, searched": (
                _PAD + "    return next(p for p in range(100) if conv.conv_output_size(20, f, 1, p, d) == 20)\n"),
        }),
        ("conv_receptive_field", {
            "stride applied before the layer's own kernel": (
                _FIELD + "    r, jump = 1, 1\n    for k, s in layers:\n        jump *= s\n"
                         "        r += (k - 1) * jump\n    return r\n"),
            "strides not multiplied": _FIELD + "    return 1 + sum(k - 1 for k, s in layers)\n",
            "own stride only": _FIELD + "    return 1 + sum((k - 1) * s for k, s in layers)\n",
            "starts at 0": (_FIELD + "    r, jump = 0, 1\n    for k, s in layers:\n        r += (k - 1) * jump\n"
                                     "        jump *= s\n    return r\n"),
            "the course's function": _FIELD + "    return conv.receptive_field(layers)\n",
        }),
        ("conv_padding_for", {
            "2P rounded down": (_INV + "    low = (o - 1) * s + span - n\n    p = max(0, low // 2)\n"
                                "    return p if n + 2 * p - span <= o * s - 1 else None\n"),
            "never None (upper bound not checked)": (
                _INV + "    return max(0, -(-((o - 1) * s + span - n) // 2))\n"),
            "negative padding returned": (_INV + "    p = -(-((o - 1) * s + span - n) // 2)\n"
                                          "    return p if n + 2 * p - span <= o * s - 1 else None\n"),
            "dilation ignored": (
                "def padding_for(n, o, f, s=1, d=1):\n    span = f\n    low = (o - 1) * s + span - n\n"
                "    p = max(0, -(-low // 2))\n    return p if n + 2 * p - span <= o * s - 1 else None\n"),
            "the largest padding instead of the smallest": (
                _INV + "    p = (o * s - 1 + span - n) // 2\n"
                       "    return p if p >= 0 and (n + 2 * p - span) // s + 1 == o else None\n"),
            "padding on one side only": (_INV + "    p = max(0, (o - 1) * s + span - n)\n"
                                         "    return p if n + p - span <= o * s - 1 else None\n"),
            "the same-padding formula": "def padding_for(n, o, f, s=1, d=1):\n    return d * (f - 1) // 2\n",
            "the course's function, searched": (
                "def padding_for(n, o, f, s=1, d=1):\n"
                "    return next((p for p in range(64) if n + 2 * p >= d * (f - 1) + 1\n"
                "                 and conv.conv_output_size(n, f, s, p, d) == o), None)\n"),
        }),
    ])

EFFICIENT_PRELUDE = """
import numpy as np
import torch
from torch import nn
from course_utils import conv
"""
_POINT = "def pointwise(x, weight, bias):\n    c, h, w = x.shape\n"
_SEP = "def separable_weights(c_in, c_out, k):\n"
_SHUF = "def channel_shuffle(x, groups):\n    n, c, h, w = x.shape\n"
_GROUP = "def grouped_conv(x, weight, groups):\n    cin, cout = x.shape[1] // groups, weight.shape[0] // groups\n"

test_efficient_solution, test_efficient_wrong = exercise_tests(
    "2_convolution/06_efficient_convolutions.ipynb", EFFICIENT_PRELUDE, [
        ("conv_pointwise", {
            "bias forgotten": _POINT + "    return (weight @ x.reshape(c, h * w)).reshape(weight.shape[0], h, w)\n",
            "pixels flattened channel-last by mistake": (
                _POINT + "    return (weight @ x.reshape(h * w, c).T + bias[:, None]).reshape(weight.shape[0], h, w)\n"),
            "output reshaped as (W, H) and transposed": (
                _POINT + "    out = weight @ x.reshape(c, h * w) + bias[:, None]\n"
                         "    return out.reshape(weight.shape[0], w, h).transpose(0, 2, 1)\n"),
            "bias added to every channel's sum": (
                _POINT + "    return (weight @ x.reshape(c, h * w)).reshape(weight.shape[0], h, w) + bias.sum()\n"),
            "the course's conv2d": (
                _POINT + "    return conv.conv2d(x[None], weight[:, :, None, None], bias)[0]\n"),
        }),
        ("conv_separable_weights", {
            "a full k x k convolution": _SEP + "    return c_in * c_out * k * k\n",
            "one depthwise filter shared": _SEP + "    return k * k + c_in * c_out\n",
            "with biases": _SEP + "    return c_in * k * k + c_in * c_out + c_in + c_out\n",
            "depthwise sized by c_out": _SEP + "    return c_out * k * k + c_in * c_out\n",
            "the course's conv_cost": (
                _SEP + "    return (conv.conv_cost(c_in, c_in, k, 1, groups=c_in, bias=False).parameters\n"
                       "            + conv.conv_cost(c_in, c_out, 1, 1, bias=False).parameters)\n"),
        }),
        ("conv_grouped", {
            "input sliced by the output group size": (
                _GROUP + "    parts = [conv.conv2d(x[:, g * cout:(g + 1) * cout], weight[g * cout:(g + 1) * cout])"
                         " for g in range(groups)]\n    return np.concatenate(parts, axis=1)\n"),
            "interleaved channel groups": (
                _GROUP + "    parts = [conv.conv2d(x[:, g::groups], weight[g * cout:(g + 1) * cout])"
                         " for g in range(groups)]\n    return np.concatenate(parts, axis=1)\n"),
            "weights sliced by the input group size": (
                _GROUP + "    parts = [conv.conv2d(x[:, g * cin:(g + 1) * cin], weight[g * cin:(g + 1) * cin])"
                         " for g in range(groups)]\n    return np.concatenate(parts, axis=1)\n"),
            "groups summed instead of stacked": (
                _GROUP + "    return sum(conv.conv2d(x[:, g * cin:(g + 1) * cin], weight[g * cout:(g + 1) * cout])"
                         " for g in range(groups))\n"),
            "the course's conv2d with groups": "def grouped_conv(x, weight, groups):\n"
                                               "    return conv.conv2d(x, weight, groups=groups)\n",
            "the course's conv2d_loop with groups, positional": (
                "def grouped_conv(x, weight, groups):\n    return conv.conv2d_loop(x, weight, None, 1, 0, 1, groups)\n"),
        }),
        ("conv_channel_shuffle", {
            "group size and number of groups swapped (the inverse shuffle)": (
                _SHUF + "    return x.reshape(n, c // groups, groups, h, w).transpose(0, 2, 1, 3, 4).reshape(n, c, h, w)\n"),
            "reshaped without the transpose": _SHUF + "    return x.reshape(n, groups, c // groups, h, w).reshape(n, c, h, w)\n",
            "every G-th channel gathered": (
                _SHUF + "    return np.concatenate([x[:, i::groups] for i in range(groups)], axis=1)\n"),
            "pixels flattened in with the channels": (
                _SHUF + "    return x.reshape(n, groups, -1).transpose(0, 2, 1).reshape(n, c, h, w)\n"),
            "channels reversed within each group": (
                _SHUF + "    return x.reshape(n, groups, c // groups, h, w)[:, :, ::-1].reshape(n, c, h, w)\n"),
            "nn.ChannelShuffle": (
                "import torch\ndef channel_shuffle(x, groups):\n"
                "    return torch.nn.ChannelShuffle(groups)(torch.from_numpy(x)).numpy()\n"),
            "F.channel_shuffle": (
                "import torch\ndef channel_shuffle(x, groups):\n"
                "    return torch.nn.functional.channel_shuffle(torch.from_numpy(x), groups).numpy()\n"),
        }),
    ])

UPSAMPLING_PRELUDE = """
import numpy as np
import torch
import torch.nn.functional as F
from course_utils import conv
"""
_NEAR = "def nearest_upsample(image, s):\n    image = np.asarray(image)\n"
_TRANS = ("def transposed_conv(x, kernel, stride):\n    (h, w), (kh, kw) = x.shape, kernel.shape\n"
          "    out = np.zeros(((h - 1) * stride + kh, (w - 1) * stride + kw))\n")
_STAMP = ("    for i in range(h):\n        for j in range(w):\n"
          "            out[i * stride:i * stride + kh, j * stride:j * stride + kw] {op} x[i, j] * {k}\n"
          "    return out\n")
_BACK = ("def max_pool_backward(x, grad_out, k, s):\n    grad = np.zeros(x.shape)\n"
         "    for i in range(grad_out.shape[0]):\n        for j in range(grad_out.shape[1]):\n"
         "            window = x[i * s:i * s + k, j * s:j * s + k]\n"
         "            r, c = np.unravel_index(np.argmax(window), window.shape)\n"
         "            grad[{at}] {op} {g}\n    return grad\n")
_UNPOOL = "def unpool(values, indices, shape):\n    out = np.zeros(shape)\n"

test_upsampling_solution, test_upsampling_wrong = exercise_tests(
    "2_convolution/07_upsampling.ipynb", UPSAMPLING_PRELUDE, [
        ("conv_nearest_upsample", {
            "whole image tiled": _NEAR + "    return np.tile(image, (s, s))\n",
            "rows only": _NEAR + "    return np.repeat(np.repeat(image, s, axis=0), 1, axis=1)\n",
            "bed of nails": (_NEAR + "    out = np.zeros((image.shape[0] * s, image.shape[1] * s))\n"
                                     "    out[::s, ::s] = image\n    return out\n"),
            "flattened repeat reshaped": (_NEAR + "    return np.repeat(image.ravel(), s * s)"
                                                  ".reshape(image.shape[0] * s, image.shape[1] * s)\n"),
            "the course's upsample_nearest": _NEAR + "    return conv.upsample_nearest(image[None, None], s)[0, 0]\n",
        }),
        ("conv_transpose_scatter", {
            "stamps overwrite instead of adding": _TRANS + _STAMP.format(op="=", k="kernel"),
            "kernel flipped": _TRANS + _STAMP.format(op="+=", k="kernel[::-1, ::-1]"),
            "output sized h * stride": (
                "def transposed_conv(x, kernel, stride):\n    (h, w), (kh, kw) = x.shape, kernel.shape\n"
                "    out = np.zeros((h * stride + kh, w * stride + kw))\n" + _STAMP.format(op="+=", k="kernel")),
            "kernel axes swapped": (
                "def transposed_conv(x, kernel, stride):\n    kernel = kernel.T\n" + _TRANS.split("\n", 1)[1]
                + _STAMP.format(op="+=", k="kernel")),
            "the course's conv_transpose2d": (
                "def transposed_conv(x, kernel, stride):\n"
                "    return conv.conv_transpose2d(x[None, None], kernel[None, None], stride=stride)[0, 0]\n"),
        }),
        ("conv_max_unpool", {
            "column-major positions": (
                _UNPOOL + "    out.T.flat[np.asarray(indices).ravel()] = np.asarray(values).ravel()\n    return out\n"),
            "index taken as the row": (
                _UNPOOL + "    for v, i in zip(np.ravel(values), np.ravel(indices)):\n        out[i % shape[0], 0] = v\n"
                          "    return out\n"),
            "row length taken from the number of rows (right only for square maps)": (
                _UNPOOL + "    for v, i in zip(np.ravel(values), np.ravel(indices)):\n"
                          "        out[i // shape[0], i % shape[0]] = v\n    return out\n"),
            "nearest-neighbour instead": (
                "def unpool(values, indices, shape):\n"
                "    return np.repeat(np.repeat(values, 2, axis=0), 2, axis=1)\n"),
            "unravelled with the transposed shape": (
                _UNPOOL + "    for v, i in zip(np.ravel(values), np.ravel(indices)):\n"
                          "        out[np.unravel_index(i, shape[::-1])[::-1]] = v\n    return out\n"),
            "the course's max_unpool2d": (
                "def unpool(values, indices, shape):\n"
                "    return conv.max_unpool2d(np.asarray(values)[None, None], np.asarray(indices)[None, None], 2)[0, 0]\n"),
        }),
        ("conv_max_pool_backward", {
            "stamps overwrite instead of adding": _BACK.format(op="=", g="grad_out[i, j]", at="i * s + r, j * s + c"),
            "window offset forgotten": _BACK.format(op="+=", g="grad_out[i, j]", at="r, c"),
            "windows stepped by k instead of s": _BACK.replace("i * s:i * s + k, j * s:j * s + k", "i * k:i * k + k, j * k:j * k + k")
                                                      .format(op="+=", g="grad_out[i, j]", at="i * k + r, j * k + c"),
            "gradient times the maximum": _BACK.format(op="+=", g="grad_out[i, j] * window.max()", at="i * s + r, j * s + c"),
            "argmax unravelled with the image's shape": _BACK.replace("np.argmax(window), window.shape", "np.argmax(window), x.shape")
                                                             .format(op="+=", g="grad_out[i, j]", at="i * s + r, j * s + c"),
            "spread evenly over the window (average pooling's backward)": (
                "def max_pool_backward(x, grad_out, k, s):\n    grad = np.zeros(x.shape)\n"
                "    for i in range(grad_out.shape[0]):\n        for j in range(grad_out.shape[1]):\n"
                "            grad[i * s:i * s + k, j * s:j * s + k] += grad_out[i, j] / k**2\n    return grad\n"),
            "routed to the maximum of the input that is positive": _BACK.replace("np.argmax(window)", "np.argmax(np.maximum(window, 0))")
                                                                      .format(op="+=", g="grad_out[i, j]", at="i * s + r, j * s + c"),
            "max unpooling of the gradient (right only without overlap)": (
                "def max_pool_backward(x, grad_out, k, s):\n"
                "    _, where = conv.max_pool2d(x[None, None], k, stride=s, return_indices=True)\n"
                "    return conv.max_unpool2d(grad_out[None, None], where, k, stride=s, output_size=x.shape)[0, 0]\n"),
            "the course's max_pool2d indices, added up": (
                "def max_pool_backward(x, grad_out, k, s):\n"
                "    _, where = conv.max_pool2d(x[None, None], k, stride=s, return_indices=True)\n"
                "    grad = np.zeros(x.size)\n    np.add.at(grad, where.ravel(), grad_out.ravel())\n"
                "    return grad.reshape(x.shape)\n"),
            "torch's autograd": (
                "def max_pool_backward(x, grad_out, k, s):\n    xt = torch.tensor(x, requires_grad=True)\n"
                "    F.max_pool2d(xt[None, None], k, s)[0, 0].backward(torch.tensor(grad_out))\n"
                "    return xt.grad.numpy()\n"),
            "torch.autograd.grad on its own pooling": (
                "def max_pool_backward(x, grad_out, k, s):\n    xt = torch.tensor(x, requires_grad=True)\n"
                "    y = torch.stack([torch.stack([xt[i * s:i * s + k, j * s:j * s + k].max()\n"
                "                                  for j in range(grad_out.shape[1])]) for i in range(grad_out.shape[0])])\n"
                "    return torch.autograd.grad(y, xt, torch.tensor(grad_out))[0].numpy()\n"),
        }),
    ])
