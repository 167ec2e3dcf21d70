"""Run a notebook's graded exercise cells against any answer: the solution, the stub, or a wrong answer.

A graded test that passes the reference solution but also passes a plausible
wrong answer does not grade anything; these helpers let ``tests/exercises``
show, exercise by exercise, that each wrong answer is rejected.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
_SOLUTION = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION\n.*?^[ \t]*### END SOLUTION[ \t]*$", re.S | re.M)


def exercise_cells(notebook):
    """{grade_id: source} of the graded and answer cells of a notebook (a path relative to notebooks/)."""
    nb = nbformat.read(ROOT / "notebooks" / notebook, as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
            if c.cell_type == "code" and "grade_id" in c.metadata.get("nbgrader", {})}


def stub(answer_source):
    """The student's version of an answer cell: the solution replaced as nbgrader does."""
    return _SOLUTION.sub(lambda m: f"{m['indent']}raise NotImplementedError()", answer_source)


def grade(prelude, answer_source, graded_source):
    """Run prelude, answer and graded cell in one namespace; return None if the grader accepts, else the error."""
    namespace = {}
    exec(compile(prelude, "<prelude>", "exec"), namespace)
    try:
        exec(compile(answer_source, "<answer>", "exec"), namespace)
        exec(compile(graded_source, "<graded>", "exec"), namespace)
    except Exception as error:  # noqa: BLE001 - any error fails a graded cell in nbgrader, as here
        return error
    return None


def exercise_tests(notebook, prelude, exercises):
    """The two tests of one notebook's exercises, to assign at module level in a test file.

    ``exercises`` is a list of ``(grade_id, {description: wrong answer source})``;
    the graded cell of ``grade_id`` is ``grade_id + "_test"``.
    """
    import pytest

    cells = exercise_cells(notebook)
    wrong = dict(exercises)

    @pytest.mark.parametrize("grade_id", list(wrong))
    def test_solution_passes_and_stub_fails(grade_id):
        answer, graded = cells[grade_id], cells[grade_id + "_test"]
        assert grade(prelude, answer, graded) is None
        assert grade(prelude, stub(answer), graded) is not None

    @pytest.mark.parametrize("grade_id, description", [(g, d) for g, answers in exercises for d in answers])
    def test_wrong_answers_fail(grade_id, description):
        graded = cells[grade_id + "_test"]
        assert grade(prelude, wrong[grade_id][description], graded) is not None, f"accepted: {description}"

    return test_solution_passes_and_stub_fails, test_wrong_answers_fail


def guard_tests(notebook, prelude, grade_id, answers):
    """A test that each answer fails on the graded cell's guard (forbid's message), not on a wrong value.

    ``answers`` maps a description to the source of an answer that delegates the
    work (to the course, a library one-liner, or autograd); assign the result to
    a module-level ``test_...`` name so that pytest collects it.
    """
    import pytest

    graded = exercise_cells(notebook)[grade_id + "_test"]

    @pytest.mark.parametrize("description", list(answers))
    def test_delegation_refused_by_the_guard(description):
        error = grade(prelude, answers[description], graded)
        assert isinstance(error, AssertionError) and "without calling" in str(error), repr(error)

    return test_delegation_refused_by_the_guard
