"""Notebook 26's graded cells accept the solution and reject the stub and plausible wrong answers."""

from graded import exercise_tests

PRELUDE = """
import numpy as np
from course_utils import conv
"""

FIELD_WRONG = {
    "rates multiplied": "def stacked_field(rates, kernel=3):\n    return 1 + (kernel - 1) * int(np.prod(rates))\n",
    "dilated kernel size summed": "def stacked_field(rates, kernel=3):\n    return sum(r * (kernel - 1) + 1 for r in rates)\n",
    "kernel ignored": "def stacked_field(rates, kernel=3):\n    return 1 + 2 * sum(rates)\n",
    "the course's own function": ("def stacked_field(rates, kernel=3):\n"
                                  "    return conv.receptive_field([(kernel, 1, r) for r in rates])\n"),
}

OFFSETS_WRONG = {
    "the window, without holes": ("def seen_offsets(rates):\n    reach = sum(rates)\n"
                                  "    return list(range(-reach, reach + 1))\n"),
    "last layer only": "def seen_offsets(rates):\n    return [-rates[-1], 0, rates[-1]] if rates else [0]\n",
    "taps of each layer, not their sums": ("def seen_offsets(rates):\n"
                                           "    return sorted({0} | {s * r for r in rates for s in (-1, 1)})\n"),
    "duplicates kept": ("def seen_offsets(rates):\n    offsets = [0]\n    for r in rates:\n"
                        "        offsets = [o + s for o in offsets for s in (-r, 0, r)]\n    return sorted(offsets)\n"),
}

EXERCISES = [("dilated_stacked_field", FIELD_WRONG), ("dilated_seen_offsets", OFFSETS_WRONG)]

test_solution_passes_and_stub_fails, test_wrong_answers_fail = exercise_tests(
    "6_segmentation/26_dilated_convolutions_and_deeplab.ipynb", PRELUDE, EXERCISES)
