"""Every exercise of every notebook, checked the way a grader relies on it.

The tests are parametrized over all notebooks in the repository, so a new part
is covered without new test code:

* structure: at least two graded exercises per notebook, nbgrader metadata
  (schema 3, unique grade_id, points, locked), solution delimiters in answer
  cells, hidden-test delimiters paired;
* the graded cells pass on the instructor notebook: their committed outputs
  carry no error, and nbval (``make test``) re-runs every notebook in strict
  mode, failing on any exception, so the committed state is the real state;
* the graded cells fail on the student copy: checked during that same nbval
  run, without a second execution of the notebook.  Before each answer cell,
  conftest.py runs the learner's stub (made by nbgrader's preprocessors) in
  nbval's kernel, then the graded cells after it, each of which must raise
  AssertionError or NotImplementedError; tests/test_stub_check.py shows that
  a grader accepting the stub fails the run.
"""

from pathlib import Path

import nbformat
import pytest

from course_utils.exercises import (
    graded_cells,
    solution_cells,
    student_version,
    reset_student_copy,
    write_student_copies,
)

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
IDS = [p.relative_to(ROOT / "notebooks").as_posix() for p in NOTEBOOKS]


def _read(path):
    return nbformat.read(path, as_version=4)


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 4, "the course should have notebooks under notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_exercise_structure(path):
    nb = _read(path)
    graded = graded_cells(nb)
    answers = solution_cells(nb)
    assert len(graded) >= 2, f"{path.name}: needs at least 2 graded test cells, has {len(graded)}"
    assert len(answers) >= 2, f"{path.name}: needs at least 2 answer cells, has {len(answers)}"
    ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids)), f"{path.name}: duplicate grade_id in {ids}"
    for cell in answers:
        meta = cell.metadata["nbgrader"]
        assert meta["schema_version"] == 3 and not meta["locked"]
        assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source, meta["grade_id"]
    for cell in graded:
        meta = cell.metadata["nbgrader"]
        assert meta["schema_version"] == 3, meta
        assert meta["locked"] is True, f"{meta['grade_id']}: graded cells must be locked"
        assert meta["points"] > 0, f"{meta['grade_id']}: graded cells need points"
        assert "assert" in cell.source, f"{meta['grade_id']}: graded cells need visible asserts"
        assert cell.source.count("### BEGIN HIDDEN TESTS") == cell.source.count("### END HIDDEN TESTS")
        # The source notebook is the reference: its graded cells ran clean.
        assert cell.execution_count is not None, f"{meta['grade_id']}: not executed"
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, f"{meta['grade_id']}: fails on the instructor notebook: {errors}"
        assert "raises-exception" not in cell.metadata.get("tags", [])


def test_student_copies_never_overwrite_learner_work(tmp_path):
    source = tmp_path / "notebooks"
    source.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    answer = nbformat.v4.new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION")
    answer.metadata["nbgrader"] = {"grade": False, "grade_id": "f", "locked": False,
                                   "schema_version": 3, "solution": True, "task": False}
    nb.cells = [answer]
    nbformat.write(nb, source / "a.ipynb")
    target = tmp_path / "student"

    first = write_student_copies(source, target, verbose=False)
    assert first["written"] == ["a.ipynb"]
    copy = (target / "a.ipynb").read_text()
    assert "raise NotImplementedError()" in copy and "return 1" not in copy

    again = write_student_copies(source, target, verbose=False)
    assert again["unchanged"] == ["a.ipynb"]

    # The instructor changes the notebook: an untouched copy is refreshed.
    nb.cells.append(nbformat.v4.new_markdown_cell("new text"))
    nbformat.write(nb, source / "a.ipynb")
    refreshed = write_student_copies(source, target, verbose=False)
    assert refreshed["written"] == ["a.ipynb"]

    # The learner edits the copy: it is never overwritten again.
    edited = (target / "a.ipynb").read_text().replace("raise NotImplementedError()", "return 1")
    (target / "a.ipynb").write_text(edited)
    nb.cells.append(nbformat.v4.new_markdown_cell("more text"))
    nbformat.write(nb, source / "a.ipynb")
    kept = write_student_copies(source, target, verbose=False)
    assert kept["kept"] == ["a.ipynb"]
    assert (target / "a.ipynb").read_text() == edited


def test_reset_gives_a_fresh_copy_and_keeps_the_old_one(tmp_path):
    source = tmp_path / "notebooks"
    (source / "3_part").mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    answer = nbformat.v4.new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION")
    answer.metadata["nbgrader"] = {"grade": False, "grade_id": "f", "locked": False,
                                   "schema_version": 3, "solution": True, "task": False}
    nb.cells = [answer]
    nbformat.write(nb, source / "3_part" / "10_topic.ipynb")
    nbformat.write(nb, source / "11_other.ipynb")
    target = tmp_path / "student"
    write_student_copies(source, target, verbose=False)
    copy = target / "3_part" / "10_topic.ipynb"
    fresh = copy.read_text()
    copy.write_text(fresh.replace("raise NotImplementedError()", "return 2"))

    # By number, by name or by path: each finds the same notebook.
    for name in ("10", "10_topic", "3_part/10_topic.ipynb"):
        report = reset_student_copy(name, source, target, verbose=False)
        assert report["written"] == "3_part/10_topic.ipynb"
        assert copy.read_text() == fresh
    kept = sorted((target / ".replaced").glob("10_topic-*.ipynb"))
    assert len(kept) == 3 and any("return 2" in k.read_text() for k in kept), "the learner's copy must be kept, not deleted"
    # The fresh copy counts as untouched: the next refresh may update it.
    assert write_student_copies(source, target, verbose=False)["unchanged"] == ["11_other.ipynb",
                                                                              "3_part/10_topic.ipynb"]
    nbformat.write(nb, source / "07_early.ipynb")
    assert reset_student_copy("7", source, target, verbose=False)["written"] == "07_early.ipynb"
    with pytest.raises(ValueError, match="notebook must name one notebook"):
        reset_student_copy("99", source, target, verbose=False)
    with pytest.raises(ValueError, match="notebook must be"):
        reset_student_copy("", source, target, verbose=False)


def test_grade_ids_are_unique_across_the_course():
    seen = {}
    for path in NOTEBOOKS:
        for cell in _read(path).cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id:
                assert grade_id not in seen, f"grade_id {grade_id!r} in {path.name} and {seen[grade_id]}"
                seen[grade_id] = path.name


def test_bad_input_is_named():
    with pytest.raises(TypeError, match="nb must be"):
        student_version({"cells": []})
    with pytest.raises(TypeError, match="nb must be"):
        graded_cells(["not", "a", "notebook"])
    with pytest.raises(ValueError, match="source must be"):
        write_student_copies("/nonexistent/folder", "/tmp/unused", verbose=False)
