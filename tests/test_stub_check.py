"""The stub check of conftest.py really fails a notebook whose grader checks nothing.

``make test`` runs every notebook once, under nbval; conftest.py runs each
answer cell's learner stub in the same kernel first and requires the graded
cells after it to fail.  These tests run that machinery on two tiny notebooks:
one whose graded cell rejects the stub (the run passes) and one whose graded
cell accepts anything (the run must fail, naming the cell).
"""

import shutil
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent

pytest_plugins = ["pytester"]


def _exercise_notebook(test_source):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    answer = nbformat.v4.new_code_cell("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION")
    answer.metadata["nbgrader"] = {"grade": False, "grade_id": "double", "locked": False,
                                   "schema_version": 3, "solution": True, "task": False}
    graded = nbformat.v4.new_code_cell(test_source)
    graded.metadata["nbgrader"] = {"grade": True, "grade_id": "double_test", "locked": True,
                                   "points": 1, "schema_version": 3, "solution": False, "task": False}
    after = nbformat.v4.new_code_cell("print(double(21))")
    nb.cells = [answer, graded, after]
    # Committed outputs as nbval expects them: the real solution ran.
    after.outputs = [nbformat.v4.new_output("stream", name="stdout", text="42\n")]
    for number, cell in enumerate(nb.cells, start=1):
        cell.execution_count = number
    return nb


def _run(pytester, monkeypatch, test_source):
    shutil.copy(ROOT / "conftest.py", pytester.path / "conftest.py")
    (pytester.path / "tests").mkdir()
    shutil.copy(ROOT / "tests" / "machine_speed.py", pytester.path / "tests" / "machine_speed.py")
    monkeypatch.setenv("COURSE_MACHINE_FACTOR", "1")  # no need to time this machine here
    nbformat.write(_exercise_notebook(test_source), pytester.path / "exercise.ipynb")
    return pytester.runpytest_subprocess("--nbval", "--nbval-current-env", "exercise.ipynb", "-p", "no:cacheprovider")


@pytest.mark.parametrize("test_source", [
    "assert double(3) == 6, 'double(3) should be 6'",
    "assert double(0) == 0\nassert double(-2) == -4",
])
def test_a_grader_that_rejects_the_stub_passes(pytester, monkeypatch, test_source):
    result = _run(pytester, monkeypatch, test_source)
    result.assert_outcomes(passed=3)


@pytest.mark.parametrize("test_source, message", [
    ("checked = False  # no check at all", "double_test passes when double is the learner's stub"),
    ("try:\n    double(3)\nexcept Exception:\n    pass", "double_test passes when double is the learner's stub"),
    # Fails on the stub, but with a TypeError that tells the learner nothing.
    ("try:\n    r = double(3)\nexcept NotImplementedError:\n    r = None\nassert r + 0 == 6",
     "double_test fails on the stub of double with TypeError"),
])
def test_a_grader_that_accepts_the_stub_fails_the_run(pytester, monkeypatch, test_source, message):
    result = _run(pytester, monkeypatch, test_source)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([f"*{message}*"])
