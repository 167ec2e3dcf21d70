"""Notebook 28: every graded cell accepts the solution and rejects the stub and plausible wrong answers."""

from graded import exercise_tests

PRELUDE = """
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from course_utils import data
from course_utils.models import transformers

x_train, y_train, x_test, y_test = data.mnist_tensors(seed=0)
"""

_COUNT = "def block_parameters(dim, mlp_dim, heads):\n"
_BACK = "def unpatchify(patches, patch_size, channels):\n"
_BACK_GRID = ("    batch, n, _ = patches.shape\n    side = int(round(n ** 0.5))\n    p = patch_size\n")

test_solution_passes_and_stub_fails, test_wrong_answers_fail = exercise_tests(
    "7_beyond/28_vision_transformers.ipynb", PRELUDE, [
        ("vit_block_parameters", {
            "no biases": _COUNT + "    return 4 * dim * dim + 2 * dim * mlp_dim + 4 * dim\n",
            "no layer norms": _COUNT + "    return 4 * dim * dim + 4 * dim + 2 * dim * mlp_dim + mlp_dim + dim\n",
            "no output projection": _COUNT + "    return 3 * dim * dim + 3 * dim + 2 * dim * mlp_dim + mlp_dim + dim + 4 * dim\n",
            "heads multiply the projections": _COUNT + (
                "    return heads * (4 * dim * dim + 4 * dim) + 2 * dim * mlp_dim + mlp_dim + dim + 4 * dim\n"),
            "one parameter per feature in a layer norm": _COUNT + (
                "    return 4 * dim * dim + 4 * dim + 2 * dim * mlp_dim + mlp_dim + dim + 2 * dim\n"),
            "the course's block counted": _COUNT + (
                "    return sum(p.numel() for p in transformers.TransformerEncoderBlock(dim, heads, mlp_dim).parameters())\n"),
            "torch's layer counted": _COUNT + (
                "    return sum(p.numel() for p in nn.TransformerEncoderLayer(dim, heads, mlp_dim, batch_first=True).parameters())\n"),
        }),
        ("vit_unpatchify", {
            "patch grid read column by column": _BACK + _BACK_GRID + (
                "    grid = patches.reshape(batch, side, side, channels, p, p)\n"
                "    return grid.permute(0, 3, 2, 4, 1, 5).reshape(batch, channels, side * p, side * p)\n"),
            "channels last inside a patch": _BACK + _BACK_GRID + (
                "    grid = patches.reshape(batch, side, side, p, p, channels)\n"
                "    return grid.permute(0, 5, 1, 3, 2, 4).reshape(batch, channels, side * p, side * p)\n"),
            "patches put back transposed": _BACK + _BACK_GRID + (
                "    grid = patches.reshape(batch, side, side, channels, p, p)\n"
                "    return grid.permute(0, 3, 1, 5, 2, 4).reshape(batch, channels, side * p, side * p)\n"),
            "a plain reshape": _BACK + _BACK_GRID + (
                "    return patches.reshape(batch, channels, side * p, side * p)\n"),
            "grey images only": _BACK + _BACK_GRID + (
                "    grid = patches.reshape(batch, side, side, p, p)\n"
                "    return grid.permute(0, 1, 3, 2, 4).reshape(batch, 1, side * p, side * p)\n"),
        }),
    ])
