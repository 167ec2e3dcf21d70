"""Notebook 26's graded cells accept the solution and reject the stub and plausible wrong answers."""

import pytest

from graded import exercise_cells, grade, stub

CELLS = exercise_cells("6_segmentation/26_dilated_convolutions_and_deeplab.ipynb")
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


@pytest.mark.parametrize("grade_id", [e[0] for e in EXERCISES])
def test_solution_passes_and_stub_fails(grade_id):
    answer, graded = CELLS[grade_id], CELLS[grade_id + "_test"]
    assert grade(PRELUDE, answer, graded) is None
    assert grade(PRELUDE, stub(answer), graded) is not None


@pytest.mark.parametrize("grade_id, wrong", [(g, w) for g, answers in EXERCISES for w in answers])
def test_wrong_answers_fail(grade_id, wrong):
    answers = dict(EXERCISES)[grade_id]
    assert grade(PRELUDE, answers[wrong], CELLS[grade_id + "_test"]) is not None, f"accepted: {wrong}"
