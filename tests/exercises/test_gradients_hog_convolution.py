"""Notebooks 01, 02 and 04: every graded cell accepts the solution and rejects the stub and plausible wrong answers.

Each wrong answer is one a learner could plausibly write (a flipped sign, the
other axis, zero padding, a hard-coded size, a convolution instead of a
correlation, ...) or one that only calls the course's own implementation,
which the graded cells forbid.
"""

from graded import exercise_tests, guard_tests


GRADIENTS_PRELUDE = """
import numpy as np
from course_utils import data, features

SEED = 0
camera = data.load_image("camera")
image = camera / 255
gx_sobel, gy_sobel = features.image_gradients(image, "sobel")
edges, steps = features.canny(image, sigma=2.0, low=0.1, high=0.3, return_steps=True)
"""
_SOBEL = "def sobel_x(image):\n"
_PAD = "    p = np.pad(image, 1, mode='symmetric')\n"

# grow_edges variants: a number of rounds, a neighbourhood, a way to shift the map, and the weak mask (or not)
_GROW = ("def grow_edges(labels):\n    labels = np.asarray(labels)\n    weak, edges = labels > 0, labels == 2\n"
         "    for _ in {rounds}:\n        touching = edges.copy()\n"
         "        for dr, dc in {neighbours}:\n            touching |= {shift}\n"
         "        grown = touching {mask}\n        if np.array_equal(grown, edges):\n            break\n"
         "        edges = grown\n    return edges\n")
_EIGHT = "[(a, b) for a in (-1, 0, 1) for b in (-1, 0, 1)]"
_FOUR = "[(-1, 0), (1, 0), (0, -1), (0, 1)]"
_PADDED = "np.pad(edges, 1)[1 + dr:1 + dr + edges.shape[0], 1 + dc:1 + dc + edges.shape[1]]"
_ROLLED = "np.roll(edges, (dr, dc), axis=(0, 1))"

# grow_edges answers that hand the whole propagation to a library (the graded cell forbids them)
GROW_DELEGATIONS = {
    "ndi.binary_propagation": (
        "import scipy.ndimage as ndi\n\ndef grow_edges(labels):\n    labels = np.asarray(labels)\n"
        "    return ndi.binary_propagation(labels == 2, structure=np.ones((3, 3)), mask=labels > 0)\n"),
    "binary_propagation imported by name": (
        "from scipy.ndimage import binary_propagation\n\ndef grow_edges(labels):\n    labels = np.asarray(labels)\n"
        "    return binary_propagation(labels == 2, structure=np.ones((3, 3)), mask=labels > 0)\n"),
    "ndi.binary_dilation until stable (iterations=0, mask)": (
        "import scipy.ndimage as ndi\n\ndef grow_edges(labels):\n    labels = np.asarray(labels)\n"
        "    return ndi.binary_dilation(labels == 2, np.ones((3, 3)), iterations=0, mask=labels > 0)\n"),
    "skimage.morphology.reconstruction": (
        "from skimage.morphology import reconstruction\n\ndef grow_edges(labels):\n    labels = np.asarray(labels)\n"
        "    return reconstruction((labels == 2).astype(float), (labels > 0).astype(float),"
        " footprint=np.ones((3, 3))) > 0\n"),
    "skimage's flood from each strong pixel": (
        "from skimage.segmentation import flood\n\ndef grow_edges(labels):\n    labels = np.asarray(labels)\n"
        "    out = np.zeros(labels.shape, dtype=bool)\n"
        "    for r, c in zip(*np.nonzero(labels == 2)):\n"
        "        out |= flood(labels > 0, (r, c), connectivity=2)\n    return out\n"),
}

test_gradients_solution, test_gradients_wrong = exercise_tests(
    "1_classical_features/01_images_and_gradients.ipynb", GRADIENTS_PRELUDE, [
        ("gradients_sobel_x", {
            "scipy's sobel": ("def sobel_x(image):\n    import scipy.ndimage\n"
                              "    return scipy.ndimage.sobel(np.asarray(image, float), axis=1)\n"),
            "scipy's correlate with the kernel": (
                "def sobel_x(image):\n    import scipy.ndimage\n"
                "    kernel = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]\n"
                "    return scipy.ndimage.correlate(np.asarray(image, float), kernel, mode='reflect')\n"),
            "the course function": _SOBEL + "    return features.image_gradients(image, 'sobel')[0]\n",
            "sign flipped (left minus right)": _SOBEL + _PAD + (
                "    diff = p[:, :-2] - p[:, 2:]\n    return diff[:-2] + 2 * diff[1:-1] + diff[2:]\n"),
            "derivative along y": _SOBEL + _PAD + (
                "    diff = p[2:] - p[:-2]\n    return diff[:, :-2] + 2 * diff[:, 1:-1] + diff[:, 2:]\n"),
            "zero padding": _SOBEL + "    p = np.pad(image, 1)\n" + (
                "    diff = p[:, 2:] - p[:, :-2]\n    return diff[:-2] + 2 * diff[1:-1] + diff[2:]\n"),
            "Prewitt weights (1, 1, 1)": _SOBEL + _PAD + (
                "    diff = p[:, 2:] - p[:, :-2]\n    return diff[:-2] + diff[1:-1] + diff[2:]\n"),
            "mirrored without the edge pixel (reflect)": _SOBEL + "    p = np.pad(image, 1, mode='reflect')\n" + (
                "    diff = p[:, 2:] - p[:, :-2]\n    return diff[:-2] + 2 * diff[1:-1] + diff[2:]\n"),
        }),
        ("gradients_direction", {
            "the course function": ("def gradient_direction(gx, gy):\n"
                                    "    return features.gradient_magnitude_direction(gx, gy)[1]\n"),
            "arguments swapped": "def gradient_direction(gx, gy):\n    return np.degrees(np.arctan2(gx, gy))\n",
            "arctan of the ratio": ("def gradient_direction(gx, gy):\n"
                                    "    with np.errstate(all='ignore'):\n"
                                    "        return np.nan_to_num(np.degrees(np.arctan(gy / gx)))\n"),
            "radians": "def gradient_direction(gx, gy):\n    return np.arctan2(gy, gx)\n",
            "in [0, 360)": "def gradient_direction(gx, gy):\n    return np.degrees(np.arctan2(gy, gx)) % 360\n",
            "y pointing up": "def gradient_direction(gx, gy):\n    return np.degrees(np.arctan2(-gy, gx))\n",
        }),
        ("gradients_classify", {
            "the course's Canny": ("def classify_edges(magnitude, low, high):\n"
                                   "    features.hysteresis(magnitude, low, high)\n"
                                   "    return (magnitude > low).astype(int) + (magnitude > high)\n"),
            "at or above the thresholds": ("def classify_edges(magnitude, low, high):\n"
                                           "    return (magnitude >= low).astype(int) + (magnitude >= high)\n"),
            "strong above twice the low threshold": ("def classify_edges(magnitude, low, high):\n"
                                                     "    return (magnitude > low).astype(int) + (magnitude > 2 * low)\n"),
            "weak and strong labels swapped": (
                "def classify_edges(magnitude, low, high):\n"
                "    return np.where(magnitude > high, 1, np.where(magnitude > low, 2, 0))\n"),
            "never labels strong": (
                "def classify_edges(magnitude, low, high):\n    return (magnitude > low).astype(int)\n"),
        }),
        ("gradients_grow_edges", {
            "the course's hysteresis": "def grow_edges(labels):\n    return features.hysteresis(labels, 0.5, 1.5)\n",
            "connected components (ndi.label)": (
                "import scipy.ndimage as ndi\n\ndef grow_edges(labels):\n"
                "    components, count = ndi.label(labels > 0, structure=np.ones((3, 3)))\n"
                "    return np.isin(components, components[labels == 2])\n"),
            "one round of growth only": _GROW.format(rounds="range(1)", neighbours=_EIGHT, shift=_PADDED, mask="& weak"),
            "4-neighbours only": _GROW.format(rounds="range(10**6)", neighbours=_FOUR, shift=_PADDED, mask="& weak"),
            "np.roll (wraps around the borders)": _GROW.format(rounds="range(10**6)", neighbours=_EIGHT, shift=_ROLLED,
                                                               mask="& weak"),
            "growth not limited to weak pixels": _GROW.format(rounds="range(10**6)", neighbours=_EIGHT, shift=_PADDED,
                                                              mask=""),
            "every weak or strong pixel": "def grow_edges(labels):\n    return np.asarray(labels) > 0\n",
            **GROW_DELEGATIONS,
        }),
    ])
test_gradients_guard = guard_tests("1_classical_features/01_images_and_gradients.ipynb", GRADIENTS_PRELUDE,
                                   "gradients_grow_edges", GROW_DELEGATIONS)

HOG_PRELUDE = """
import numpy as np
from course_utils import data, features

SEED = 0
image = features.to_gray(data.load_image("astronaut"))[20:200, 150:330]
"""
_BIN = "def orientation_bin(angle, orientations=9):\n    angle = np.asarray(angle)\n"
_HIST = "def cell_histogram(magnitude, angle, orientations=9):\n    magnitude, angle = np.asarray(magnitude), np.asarray(angle)\n"
_LENGTH = "def hog_length(height, width, cell=8, block=2, orientations=9):\n"

_SOFT = ("def soft_cell_histogram(magnitude, angle, orientations=9):\n"
         "    magnitude, angle = np.ravel(magnitude).astype(float), np.ravel(angle).astype(float)\n")
# a shared vote: t in bin widths, lower bin floor(t) with share lower_share, the next bin the rest
_SOFT_VOTE = _SOFT + ("    t = {t}\n    k = np.floor(t).astype(int)\n    f = t - k\n"
                      "    lower, upper = {lower}, {upper}\n    share = {lower_share}\n{add}"
                      "    return hist / magnitude.size\n")
_BINCOUNT = ("    hist = (np.bincount(lower, magnitude * share, orientations)[:orientations]\n"
             "            + np.bincount(upper, magnitude * (1 - share), orientations)[:orientations])\n")
_FANCY = ("    hist = np.zeros(orientations)\n    hist[lower] += magnitude * share\n"
          "    hist[upper] += magnitude * (1 - share)\n")

test_hog_solution, test_hog_wrong = exercise_tests("1_classical_features/02_hog.ipynb", HOG_PRELUDE, [
    ("hog_orientation_bin", {
        "rounded instead of floored": _BIN + "    return np.round(angle / (180 / orientations)).astype(int)\n",
        "bins of 20 degrees whatever the count": _BIN + "    return (angle // 20).astype(int)\n",
        "bins over 360 degrees": _BIN + "    return (angle // (360 / orientations)).astype(int)\n",
        "ceiling minus one": _BIN + "    return np.maximum(np.ceil(angle / (180 / orientations)) - 1, 0).astype(int)\n",
        "returns floats": _BIN + "    return angle // (180 / orientations)\n",
    }),
    ("hog_cell_histogram", {
        "calls the course's hog_cell_histograms": (
            _HIST + "    features.hog_cell_histograms(magnitude)\n"
            "    return np.bincount((angle // (180 / orientations)).astype(int).ravel(), magnitude.ravel(),"
            " orientations) / magnitude.size\n"),
        "not divided by the pixel count": (
            _HIST + "    return np.bincount((angle // (180 / orientations)).astype(int).ravel(), magnitude.ravel(),"
            " orientations)\n"),
        "always divided by 64": (
            _HIST + "    return np.bincount((angle // (180 / orientations)).astype(int).ravel(), magnitude.ravel(),"
            " orientations) / 64\n"),
        "bins of 20 degrees whatever the count": (
            _HIST + "    return np.bincount((angle // 20).astype(int).ravel(), magnitude.ravel(), 9)[:orientations]"
            " / magnitude.size\n"),
        "counts instead of magnitudes": (
            _HIST + "    return np.bincount((angle // (180 / orientations)).astype(int).ravel(), None,"
            " orientations) / magnitude.size\n"),
        "normalised to sum 1": (
            _HIST + "    h = np.bincount((angle // (180 / orientations)).astype(int).ravel(), magnitude.ravel(),"
            " orientations)\n    return h / h.sum()\n"),
    }),
    ("hog_length", {
        "the course function": (_LENGTH + "    return features.hog_feature_length((height, width), orientations,"
                                " (cell, cell), (block, block))\n"),
        "blocks do not overlap": (_LENGTH + "    return (height // cell // block) * (width // cell // block)"
                                  " * block * block * orientations\n"),
        "one block too few per axis": (_LENGTH + "    return (height // cell - block) * (width // cell - block)"
                                       " * block * block * orientations\n"),
        "nine orientations whatever the argument": (
            _LENGTH + "    return (height // cell - block + 1) * (width // cell - block + 1) * block * block * 9\n"),
        "partial cells counted": (
            _LENGTH + "    return (-(-height // cell) - block + 1) * (-(-width // cell) - block + 1)"
            " * block * block * orientations\n"),
    }),
    ("hog_soft_cell_histogram", {
        "the course's (hard-binned) cell histograms": (
            _SOFT + "    return features.hog_cell_histograms(magnitude.reshape(1, -1), orientations,"
            " (1, magnitude.size))[0, 0]\n"),
        "one bin per pixel (Exercise 2's hard vote)": (
            _SOFT + "    return np.bincount((angle // (180 / orientations)).astype(int), magnitude, orientations)"
            " / magnitude.size\n"),
        "centres at the bin starts (t = angle / width)": _SOFT_VOTE.format(
            t="angle / (180 / orientations)", lower_share="1 - f", lower="k % orientations",
            upper="(k + 1) % orientations", add=_BINCOUNT),
        "shares swapped (the nearer centre gets less)": _SOFT_VOTE.format(
            t="angle / (180 / orientations) - 0.5", lower_share="f", lower="k % orientations",
            upper="(k + 1) % orientations", add=_BINCOUNT),
        "no wrap-around (end bins clipped)": _SOFT_VOTE.format(
            t="angle / (180 / orientations) - 0.5", lower_share="1 - f", lower="np.clip(k, 0, orientations - 1)",
            upper="np.clip(k + 1, 0, orientations - 1)", add=_BINCOUNT),
        "hist[k] += (a repeated bin counted once)": _SOFT_VOTE.format(
            t="angle / (180 / orientations) - 0.5", lower_share="1 - f", lower="k % orientations",
            upper="(k + 1) % orientations", add=_FANCY),
        "not divided by the pixel count": _SOFT_VOTE.format(
            t="angle / (180 / orientations) - 0.5", lower_share="1 - f", lower="k % orientations",
            upper="(k + 1) % orientations", add=_BINCOUNT).replace(" / magnitude.size", ""),
    }),
])

CONV_PRELUDE = """
import numpy as np
from torch import nn
from course_utils import conv

SEED = 0
"""
_CORR = "def correlate2d(image, kernel):\n"
_LOOP = ("    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))\n"
         "    for i in range(out.shape[0]):\n        for j in range(out.shape[1]):\n")
_MATMUL = "def conv_as_matmul(x, weight):\n    k = weight.shape[-1]\n    cols = conv.im2col(x[None], kernel_size=k)[0]\n"

# correlate2d_backward variants: what dL/dw[u, v] is, what the window of dL/dx at offset (u, v) receives, and how
_BACKWARD = ("def correlate2d_backward(image, kernel, grad_out):\n    kh, kw = kernel.shape\n"
             "    out_h, out_w = grad_out.shape\n"
             "    grad_image, grad_kernel = np.zeros(image.shape), np.zeros(kernel.shape)\n"
             "    for u in range(kh):\n        for v in range(kw):\n"
             "            grad_kernel[u, v] = {kernel_grad}\n"
             "            grad_image[u:u + out_h, v:v + out_w] {scatter} {image_grad}\n"
             "    return grad_image, grad_kernel\n")

# correlate2d_backward answers that let torch (or a numerical gradient) do the backward pass
BACKWARD_DELEGATIONS = {
    "torch's autograd of F.conv2d": (
        "import torch\n\ndef correlate2d_backward(image, kernel, grad_out):\n"
        "    x, w = torch.tensor(image, requires_grad=True), torch.tensor(kernel, requires_grad=True)\n"
        "    torch.nn.functional.conv2d(x[None, None], w[None, None])[0, 0].backward(torch.tensor(grad_out))\n"
        "    return x.grad.numpy(), w.grad.numpy()\n"),
    "F.conv_transpose2d and F.conv2d, no autograd": (
        "import torch\nimport torch.nn.functional as F\n\ndef correlate2d_backward(image, kernel, grad_out):\n"
        "    x, w, g = (torch.tensor(a)[None, None] for a in (image, kernel, grad_out))\n"
        "    return F.conv_transpose2d(g, w)[0, 0].numpy(), F.conv2d(x, g)[0, 0].numpy()\n"),
    "torch.conv_transpose2d and torch.conv2d, no autograd": (
        "import torch\n\ndef correlate2d_backward(image, kernel, grad_out):\n"
        "    x, w, g = (torch.tensor(a)[None, None] for a in (image, kernel, grad_out))\n"
        "    return torch.conv_transpose2d(g, w)[0, 0].numpy(), torch.conv2d(x, g)[0, 0].numpy()\n"),
    "torch.nn.grad.conv2d_input and conv2d_weight": (
        "import torch\nimport torch.nn.grad\n\ndef correlate2d_backward(image, kernel, grad_out):\n"
        "    x, w, g = (torch.tensor(a)[None, None] for a in (image, kernel, grad_out))\n"
        "    return (torch.nn.grad.conv2d_input(x.shape, w, g)[0, 0].numpy(),\n"
        "            torch.nn.grad.conv2d_weight(x, w.shape, g)[0, 0].numpy())\n"),
    "torch.func.vjp of F.conv2d": (
        "import torch\n\ndef correlate2d_backward(image, kernel, grad_out):\n"
        "    f = lambda x, w: torch.nn.functional.conv2d(x[None, None], w[None, None])[0, 0]\n"
        "    _, vjp = torch.func.vjp(f, torch.tensor(image), torch.tensor(kernel))\n"
        "    return tuple(t.numpy() for t in vjp(torch.tensor(grad_out)))\n"),
    "the course's numerical gradient of a NumPy correlation": (
        "from course_utils import layers\n\ndef correlate2d_backward(image, kernel, grad_out):\n"
        "    image, kernel = np.array(image, dtype=float), np.array(kernel, dtype=float)\n"
        "    kh, kw = kernel.shape\n    oh, ow = grad_out.shape\n"
        "    def loss():\n"
        "        return float(sum(kernel[u, v] * np.sum(grad_out * image[u:u + oh, v:v + ow])"
        " for u in range(kh) for v in range(kw)))\n"
        "    return layers.numerical_gradient(loss, image), layers.numerical_gradient(loss, kernel)\n"),
}

test_conv_solution, test_conv_wrong = exercise_tests("2_convolution/04_convolution_operation.ipynb", CONV_PRELUDE, [
    ("conv_correlate2d", {
        "the course function": _CORR + "    return conv.conv2d(image[None, None], kernel[None, None])[0, 0]\n",
        "kernel flipped (a convolution)": _CORR + "    kh, kw = kernel.shape\n    kernel = kernel[::-1, ::-1]\n" + _LOOP + (
            "            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)\n    return out\n"),
        "one output row and column short": _CORR + "    kh, kw = kernel.shape\n" + (
            "    out = np.zeros((image.shape[0] - kh, image.shape[1] - kw))\n"
            "    for i in range(out.shape[0]):\n        for j in range(out.shape[1]):\n"
            "            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)\n    return out\n"),
        "window height and width crossed": _CORR + "    kh, kw = kernel.shape\n" + _LOOP + (
            "            out[i, j] = np.sum(image[i:i + kw, j:j + kh] * kernel.T)\n    return out\n"),
        "window centred (same size, zero padded)": _CORR + "    kh, kw = kernel.shape\n" + (
            "    p = np.pad(image, ((kh // 2, (kh - 1) // 2), (kw // 2, (kw - 1) // 2)))\n"
            "    out = np.zeros(image.shape)\n"
            "    for i in range(out.shape[0]):\n        for j in range(out.shape[1]):\n"
            "            out[i, j] = np.sum(p[i:i + kh, j:j + kw] * kernel)\n    return out\n"),
    }),
    ("conv_layer_parameters", {
        "the course cost function": (
            "def layer_parameters(in_channels, out_channels, kernel_size, bias=True):\n"
            "    return conv.conv_cost(in_channels, out_channels, kernel_size, 1, bias=bias).parameters\n"),
        "input channels forgotten": ("def layer_parameters(in_channels, out_channels, kernel_size, bias=True):\n"
                                     "    return out_channels * kernel_size ** 2 + (out_channels if bias else 0)\n"),
        "one bias per layer": ("def layer_parameters(in_channels, out_channels, kernel_size, bias=True):\n"
                               "    return out_channels * in_channels * kernel_size ** 2 + int(bias)\n"),
        "kernel_size * 2 instead of squared": (
            "def layer_parameters(in_channels, out_channels, kernel_size, bias=True):\n"
            "    return out_channels * in_channels * kernel_size * 2 + (out_channels if bias else 0)\n"),
        "bias always counted": ("def layer_parameters(in_channels, out_channels, kernel_size, bias=True):\n"
                                "    return out_channels * in_channels * kernel_size ** 2 + out_channels\n"),
        "one bias per input channel": ("def layer_parameters(in_channels, out_channels, kernel_size, bias=True):\n"
                                       "    return out_channels * in_channels * kernel_size ** 2 + (in_channels if bias else 0)\n"),
    }),
    ("conv_as_matmul", {
        "the course function": "def conv_as_matmul(x, weight):\n    return conv.conv2d(x[None], weight)[0]\n",
        "the course im2col convolution": "def conv_as_matmul(x, weight):\n    return conv.conv2d_im2col(x[None], weight)[0]\n",
        "weights reshaped the other way": _MATMUL + (
            "    out_h, out_w = x.shape[1] - k + 1, x.shape[2] - k + 1\n"
            "    return (weight.reshape(-1, weight.shape[0]).T @ cols).reshape(weight.shape[0], out_h, out_w)\n"),
        "output height and width crossed": _MATMUL + (
            "    out_h, out_w = x.shape[2] - k + 1, x.shape[1] - k + 1\n"
            "    return (weight.reshape(weight.shape[0], -1) @ cols).reshape(weight.shape[0], out_h, out_w)\n"),
        "3 x 3 kernels assumed": (
            "def conv_as_matmul(x, weight):\n    cols = conv.im2col(x[None], kernel_size=3)[0]\n"
            "    out_h, out_w = x.shape[1] - 2, x.shape[2] - 2\n"
            "    return (weight.reshape(weight.shape[0], -1) @ cols).reshape(weight.shape[0], out_h, out_w)\n"),
    }),
    ("conv_correlate2d_backward", {
        "the course's conv2d for dL/dw": _BACKWARD.format(
            kernel_grad="conv.conv2d(image[None, None], grad_out[None, None])[0, 0][u, v]",
            image_grad="kernel[u, v] * grad_out", scatter="+="),
        "scipy's full convolution for dL/dx": (
            "from scipy import signal\n\n" + _BACKWARD.format(
                kernel_grad="np.sum(grad_out * image[u:u + out_h, v:v + out_w])",
                image_grad="kernel[u, v] * grad_out", scatter="+=").replace(
                "    return grad_image", "    grad_image = signal.convolve2d(grad_out, kernel, 'full')\n    return grad_image")),
        "kernel rotated by 180 degrees in dL/dx": _BACKWARD.format(
            kernel_grad="np.sum(grad_out * image[u:u + out_h, v:v + out_w])",
            image_grad="kernel[kh - 1 - u, kw - 1 - v] * grad_out", scatter="+="),
        "overlapping windows overwritten (= instead of +=)": _BACKWARD.format(
            kernel_grad="np.sum(grad_out * image[u:u + out_h, v:v + out_w])",
            image_grad="kernel[u, v] * grad_out", scatter="="),
        "dL/dw averaged over the outputs": _BACKWARD.format(
            kernel_grad="np.mean(grad_out * image[u:u + out_h, v:v + out_w])",
            image_grad="kernel[u, v] * grad_out", scatter="+="),
        "dL/dw a convolution (window read backwards)": _BACKWARD.format(
            kernel_grad="np.sum(grad_out[::-1, ::-1] * image[u:u + out_h, v:v + out_w])",
            image_grad="kernel[u, v] * grad_out", scatter="+="),
        "dL/dx without the kernel (sum of g only)": _BACKWARD.format(
            kernel_grad="np.sum(grad_out * image[u:u + out_h, v:v + out_w])",
            image_grad="grad_out", scatter="+="),
        "gradients returned in the other order": _BACKWARD.format(
            kernel_grad="np.sum(grad_out * image[u:u + out_h, v:v + out_w])",
            image_grad="kernel[u, v] * grad_out", scatter="+=").replace(
            "return grad_image, grad_kernel", "return grad_kernel, grad_image"),
        **BACKWARD_DELEGATIONS,
    }),
])
test_conv_guard = guard_tests("2_convolution/04_convolution_operation.ipynb", CONV_PRELUDE,
                              "conv_correlate2d_backward", BACKWARD_DELEGATIONS)
