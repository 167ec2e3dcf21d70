"""Notebooks 03 and 12: graded cells accept the solution and reject the stub and plausible wrong answers.

Both graders once accepted a wrong answer (the reviews of notebooks 00-16): 03's
LBP code never checked the diagonal bits one by one, and 12's channel
statistics accepted the unbiased variance on a batch so large that the two agree
to np.allclose. The wrong answers below are those two and their neighbours.
12's Exercises 2 and 3 also accepted an answer that calls the course's own code
(batchnorm_forward in evaluation mode, INIT_METHODS); they now refuse it. Each notebook's
Exercise 4 (03: a code after quarter turns; 12: layer norm's backward pass) is not shown in it.
"""

from graded import exercise_tests, guard_tests


LBP_PRELUDE = """
import numpy as np
from course_utils import data, features
brick = data.load_texture("brick")
"""
_LBP = "def lbp_code(patch):\n    patch = np.asarray(patch)\n"

_TURN = ("def code_after_quarter_turns(codes, k, P=8):\n    codes = np.asarray(codes).astype(np.int64)\n"
         "    shift = {shift}\n    return {bits}\n")

test_lbp_solution, test_lbp_wrong = exercise_tests("1_classical_features/03_lbp.ipynb", LBP_PRELUDE, [
    ("lbp_code_3x3", {
        "top-left and top-right swapped": _LBP + (
            "    order = [(1, 2), (0, 0), (0, 1), (0, 2), (1, 0), (2, 0), (2, 1), (2, 2)]\n"
            "    return sum(int(patch[r][c] >= patch[1][1]) << p for p, (r, c) in enumerate(order))\n"),
        "clockwise": _LBP + (
            "    order = [(1, 2), (2, 2), (2, 1), (2, 0), (1, 0), (0, 0), (0, 1), (0, 2)]\n"
            "    return sum(int(patch[r][c] >= patch[1][1]) << p for p, (r, c) in enumerate(order))\n"),
        "strictly brighter": _LBP + (
            "    order = [(1, 2), (0, 2), (0, 1), (0, 0), (1, 0), (2, 0), (2, 1), (2, 2)]\n"
            "    return sum(int(patch[r][c] > patch[1][1]) << p for p, (r, c) in enumerate(order))\n"),
        "bottom-left and bottom-right swapped": _LBP + (
            "    order = [(1, 2), (0, 2), (0, 1), (0, 0), (1, 0), (2, 2), (2, 1), (2, 0)]\n"
            "    return sum(int(patch[r][c] >= patch[1][1]) << p for p, (r, c) in enumerate(order))\n"),
        "the library with eight neighbours": _LBP + "    return int(features.lbp(patch.astype(float), 8, 1)[1, 1])\n",
    }),
    ("lbp_is_uniform", {
        # (not counting the wrap-around is *not* wrong: a circle has an even number of
        # transitions, so at most two in a row means at most two around the circle)
        "only 0-to-1 transitions counted": ("def is_uniform(bits):\n    bits = list(bits)\n"
                                            "    return sum(a < b for a, b in zip(bits, bits[1:] + bits[:1])) <= 2\n"),
        "at most two ones": "def is_uniform(bits):\n    return sum(bits) <= 2\n",
        "at most one transition": ("def is_uniform(bits):\n    bits = list(bits)\n"
                                   "    return sum(bits[i] != bits[(i + 1) % len(bits)] for i in range(len(bits))) <= 1\n"),
        "eight bits hard-coded": ("def is_uniform(bits):\n    bits = list(bits)\n"
                                  "    return sum(bits[i] != bits[(i + 1) % 8] for i in range(8)) <= 2\n"),
    }),
    ("lbp_rotation_invariant", {
        "rotation in one direction only, no wrap": (
            "def rotation_invariant(code, P=8):\n    return min(code >> k for k in range(P))\n"),
        "largest rotation": ("def rotation_invariant(code, P=8):\n    mask = (1 << P) - 1\n"
                             "    return max(((code >> k) | (code << (P - k))) & mask for k in range(P))\n"),
        "eight bits hard-coded": ("def rotation_invariant(code, P=8):\n"
                                  "    return min(((code >> k) | (code << (8 - k))) & 255 for k in range(8))\n"),
        "one rotation short": ("def rotation_invariant(code, P=8):\n    mask = (1 << P) - 1\n"
                               "    return min(((code >> k) | (code << (P - k))) & mask for k in range(P - 1))\n"),
    }),
    ("lbp_quarter_turn", {
        # no course function maps codes to codes; one that calls features.lbp at all is refused
        "calls features.lbp": _TURN.format(
            shift="(k * P // 4) % P + 0 * int(features.lbp(np.zeros((3, 3)), P, 1)[1, 1])",
            bits="((codes << shift) | (codes >> (P - shift))) & ((1 << P) - 1)"),
        "bits turned the wrong way (clockwise)": _TURN.format(
            shift="(k * P // 4) % P", bits="((codes >> shift) | (codes << (P - shift))) & ((1 << P) - 1)"),
        "one place per quarter turn": _TURN.format(
            shift="k % P", bits="((codes << shift) | (codes >> (P - shift))) & ((1 << P) - 1)"),
        "two places per quarter turn whatever P": _TURN.format(
            shift="(2 * k) % P", bits="((codes << shift) | (codes >> (P - shift))) & ((1 << P) - 1)"),
        "bits pushed out at the top are lost": _TURN.format(
            shift="(k * P // 4) % P", bits="(codes << shift) & ((1 << P) - 1)"),
        "not cut back to P bits": _TURN.format(
            shift="(k * P // 4) % P", bits="(codes << shift) | (codes >> (P - shift))"),
        "negative turns not taken modulo P": _TURN.format(
            shift="k * P // 4", bits="((codes << shift) | (codes >> (P - shift))) & ((1 << P) - 1)"),
        "the smallest rotation (Exercise 3) instead": _TURN.format(
            shift="0", bits="np.min([((codes >> s) | (codes << (P - s))) & ((1 << P) - 1) for s in range(P)], axis=0)"),
    }),
])

BN_PRELUDE = """
import numpy as np
from course_utils import layers
rng = np.random.default_rng(0)
maps = rng.normal(loc=rng.uniform(-3, 3, (1, 16, 1, 1)), scale=rng.uniform(0.5, 4, (1, 16, 1, 1)),
                  size=(64, 16, 32, 32))
"""

# layernorm_backward variants: statistics along `axis` (1 is right), then dx as given; g = dout * gamma
_LN = ("def layernorm_backward(dout, x, gamma, eps=1e-5):\n"
       "    inv_std = 1 / np.sqrt(x.var(axis={axis}, keepdims=True) + eps)\n"
       "    x_hat = (x - x.mean(axis={axis}, keepdims=True)) * inv_std\n"
       "    scale, g = gamma * inv_std, dout * gamma\n"
       "    dx = {dx}\n"
       "    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)\n")

# layernorm_backward answers that let torch (or the course's numerical gradient) differentiate a forward pass
_LN_TORCH = ("import torch\n\ndef layernorm_backward(dout, x, gamma, eps=1e-5):\n"
             "    def forward(xt, gt, bt):\n"
             "        m, v = xt.mean(1, keepdim=True), xt.var(1, unbiased=False, keepdim=True)\n"
             "        return (xt - m) / torch.sqrt(v + eps) * gt + bt\n"
             "    xt, gt = torch.tensor(x, requires_grad=True), torch.tensor(gamma, requires_grad=True)\n"
             "    bt = torch.zeros(len(gamma), dtype=xt.dtype, requires_grad=True)\n")
LAYERNORM_DELEGATIONS = {
    ".backward() of a hand-written torch layer norm": _LN_TORCH + (
        "    forward(xt, gt, bt).backward(torch.tensor(dout))\n"
        "    return xt.grad.numpy(), gt.grad.numpy(), bt.grad.numpy()\n"),
    "torch.autograd.grad of a hand-written torch layer norm": _LN_TORCH + (
        "    grads = torch.autograd.grad(forward(xt, gt, bt), (xt, gt, bt), torch.tensor(dout))\n"
        "    return tuple(g.numpy() for g in grads)\n"),
    "torch.autograd.functional.vjp of a hand-written layer norm": _LN_TORCH + (
        "    _, grads = torch.autograd.functional.vjp(forward, (xt.detach(), gt.detach(), bt.detach()),"
        " torch.tensor(dout))\n"
        "    return tuple(g.numpy() for g in grads)\n"),
    "the course's numerical gradient of a NumPy layer norm": (
        "def layernorm_backward(dout, x, gamma, eps=1e-5):\n"
        "    x, gamma = np.array(x, dtype=float), np.array(gamma, dtype=float)\n"
        "    x_hat = lambda: (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + eps)\n"
        "    loss = lambda: float(np.sum(dout * x_hat() * gamma))\n"
        "    return (layers.numerical_gradient(loss, x), layers.numerical_gradient(loss, gamma),"
        " dout.sum(axis=0))\n"),
}

test_bn_solution, test_bn_wrong = exercise_tests("3_training/12_batchnorm_and_initialization.ipynb", BN_PRELUDE, [
    ("bn_channel_stats", {
        "unbiased variance (ddof=1)": ("def channel_stats(x):\n"
                                       "    return x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3), ddof=1)\n"),
        "standard deviation instead of variance": ("def channel_stats(x):\n"
                                                   "    return x.mean(axis=(0, 2, 3)), x.std(axis=(0, 2, 3))\n"),
        "statistics per image, then averaged": (
            "def channel_stats(x):\n    return x.mean(axis=(2, 3)).mean(0), x.var(axis=(2, 3)).mean(0)\n"),
        "the wrong axis": ("def channel_stats(x):\n"
                           "    return x.mean(axis=(1, 2, 3)), x.var(axis=(1, 2, 3))\n"),
        "the course's batch norm": (
            "def channel_stats(x):\n"
            "    out, cache, *_ = layers.batchnorm_forward(x, np.ones(x.shape[1]), np.zeros(x.shape[1]),\n"
            "                                            np.zeros(x.shape[1]), np.ones(x.shape[1]))\n"
            "    return x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))\n"),
    }),
    ("bn_eval_mode", {
        "batch statistics": ("def bn_eval(x, gamma, beta, running_mean, running_var, eps=1e-5):\n"
                             "    return gamma * (x - x.mean(0)) / np.sqrt(x.var(0) + eps) + beta\n"),
        "epsilon outside the root": ("def bn_eval(x, gamma, beta, running_mean, running_var, eps=1e-5):\n"
                                     "    return gamma * (x - running_mean) / (np.sqrt(running_var) + 1.0) + beta\n"),
        "epsilon added to the root": ("def bn_eval(x, gamma, beta, running_mean, running_var, eps=1e-5):\n"
                                      "    return gamma * (x - running_mean) / (np.sqrt(running_var) + eps) + beta\n"),
        "the course's batch norm in evaluation mode": (
            "def bn_eval(x, gamma, beta, running_mean, running_var, eps=1e-5):\n"
            "    return layers.batchnorm_forward(x, gamma, beta, running_mean, running_var, training=False, eps=eps)[0]\n"),
    }),
    ("bn_init_std", {
        "He for both": "def init_std(fan_in, fan_out, activation):\n    return np.sqrt(2.0 / fan_in)\n",
        "Xavier's uniform bound": ("def init_std(fan_in, fan_out, activation):\n"
                                   "    if activation == 'relu':\n        return np.sqrt(2.0 / fan_in)\n"
                                   "    return np.sqrt(6.0 / (fan_in + fan_out))\n"),
        "the course's INIT_METHODS": ("def init_std(fan_in, fan_out, activation):\n"
                                      "    return layers.INIT_METHODS['he' if activation == 'relu' else 'xavier'](fan_in, fan_out)\n"),
        "the std of the course's init_weight": (
            "def init_std(fan_in, fan_out, activation):\n"
            "    return layers.init_weight(fan_in, fan_out, 'he' if activation == 'relu' else 'xavier', rng=0).std()\n"),
    }),
    ("bn_layernorm_backward", {
        "the course's batch norm on the transpose": (
            "def layernorm_backward(dout, x, gamma, eps=1e-5):\n    n = x.shape[0]\n"
            "    _, cache, *_ = layers.batchnorm_forward(x.T, np.ones(n), np.zeros(n), np.zeros(n), np.ones(n), eps=eps)\n"
            "    dx = layers.batchnorm_backward((dout * gamma).T, cache)[0].T\n"
            "    x_hat = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + eps)\n"
            "    return dx, (dout * x_hat).sum(0), dout.sum(0)\n"),
        "batch norm's backward as shown (statistics over the batch)": _LN.format(
            axis="0", dx="scale * (dout - dout.mean(0, keepdims=True) - x_hat * (dout * x_hat).mean(0, keepdims=True))"),
        "gamma applied after the means": _LN.format(
            axis="1", dx="scale * (dout - dout.mean(1, keepdims=True) - x_hat * (dout * x_hat).mean(1, keepdims=True))"),
        "sigma treated as a constant": _LN.format(axis="1", dx="inv_std * (g - g.mean(1, keepdims=True))"),
        "the mean treated as a constant": _LN.format(axis="1", dx="inv_std * (g - x_hat * (g * x_hat).mean(1, keepdims=True))"),
        "epsilon added to the standard deviation": _LN.format(
            axis="1", dx="inv_std * (g - g.mean(1, keepdims=True) - x_hat * (g * x_hat).mean(1, keepdims=True))").replace(
            "1 / np.sqrt(x.var(axis=1, keepdims=True) + eps)", "1 / (x.std(axis=1, keepdims=True) + eps)"),
        "unbiased variance": _LN.format(
            axis="1", dx="inv_std * (g - g.mean(1, keepdims=True) - x_hat * (g * x_hat).mean(1, keepdims=True))").replace(
            "x.var(axis=1, keepdims=True)", "x.var(axis=1, keepdims=True, ddof=1)"),
        "dgamma and dbeta summed over the features": _LN.format(
            axis="1", dx="inv_std * (g - g.mean(1, keepdims=True) - x_hat * (g * x_hat).mean(1, keepdims=True))").replace(
            "sum(axis=0)", "sum(axis=1)"),
        **LAYERNORM_DELEGATIONS,
    }),
])
test_bn_guard = guard_tests("3_training/12_batchnorm_and_initialization.ipynb", BN_PRELUDE, "bn_layernorm_backward",
                            LAYERNORM_DELEGATIONS)
