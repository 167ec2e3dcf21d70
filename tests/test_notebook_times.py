"""The course map's run times (course_utils.notebook.COURSE_MAP) and the check that keeps them true.

The repository's conftest.py prints each notebook's wall time after an nbval run and fails the run
when a notebook that ran whole took more than 50 % more or less than its recorded time.  Here: the
check on doctored times (it fires, and only where it should), the table itself, and one real nbval
run of the course map with a doctored record.
"""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils.exercises import find_notebooks
from course_utils.notebook import COURSE_MAP, course_map_table, recorded_seconds

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = find_notebooks(ROOT / "notebooks")


def _repository_conftest():
    spec = importlib.util.spec_from_file_location("_repository_conftest", ROOT / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


conftest = _repository_conftest()
A, B = "notebooks/3_training/10_optimizers.ipynb", "notebooks/00_start_here.ipynb"


def test_drift_fires_on_a_doctored_time():
    recorded = {"10_optimizers": 50.0, "00_start_here": 8.0}
    both = {A, B}
    assert conftest.drift_failures({A: 50.0 * 1.6, B: 8.0}, recorded, both) == {A: (80.0, 50.0)}
    assert conftest.drift_failures({A: 50.0 * 0.4, B: 8.0}, recorded, both) == {A: (20.0, 50.0)}
    assert conftest.drift_failures({A: 50.0 * 1.45, B: 8.0}, recorded, both) == {}, "within 50 %: no failure"
    assert conftest.drift_failures({A: 50.0 * 0.55, B: 8.0}, recorded, both) == {}


def test_drift_counts_only_notebooks_that_ran_whole_and_have_a_record():
    recorded = {"10_optimizers": 50.0}
    assert conftest.drift_failures({A: 5.0}, recorded, whole=set()) == {}, "a partial run says nothing"
    assert conftest.drift_failures({B: 500.0}, recorded, whole={B}) == {}, "no record, nothing to compare"


def test_short_notebooks_get_a_few_seconds_of_slack():
    recorded = {"00_start_here": 8.0}
    assert conftest.drift_failures({B: 12.9}, recorded, {B}) == {}, "4.9 s off: kernel start-up noise"
    assert conftest.drift_failures({B: 13.5}, recorded, {B}) == {B: (13.5, 8.0)}


def test_every_notebook_has_a_record_in_course_order():
    names = [p.stem for p in NOTEBOOKS]
    assert list(COURSE_MAP) == names, "COURSE_MAP must list every notebook, in course order"
    for name, (seconds, needs, outcome) in COURSE_MAP.items():
        assert 0 < seconds <= conftest.NOTEBOOK_BUDGET_S, f"{name}: {seconds} s"
        number = name[:2]
        assert all(n < number for n in needs), f"{name} builds on a later notebook: {needs}"
        assert all(any(m.startswith(n + "_") for m in names) for n in needs), f"{name}: unknown {needs}"
        assert outcome and not outcome.endswith("."), name
    assert recorded_seconds() == {name: record[0] for name, record in COURSE_MAP.items()}


def test_the_course_map_shows_the_table():
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / "00_start_here.ipynb", as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and "course_map_table()" in c.source]
    assert len(cells) == 1, "00_start_here renders the table with course_map_table()"
    shown = "".join(o.get("data", {}).get("text/markdown", "") for o in cells[0].outputs)
    assert shown == course_map_table(markdown=False), "00's output is stale: re-run notebooks/00_start_here.ipynb"


def test_a_run_off_its_recorded_time_fails():
    """nbval on the course map, whose record says 1000 s: the run fails and says why."""
    # machine factor 1: the recorded time is judged as measured (timing the machine under the unit
    # tests' load would be noise, and a factor outside its bounds turns the drift check off)
    env = dict(os.environ, COURSE_RECORDED_SECONDS=json.dumps({"00_start_here": 1000}), COURSE_MACHINE_FACTOR="1")
    cmd = [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-p", "no:xdist", "-p",
           "no:cacheprovider", "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"), B]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert "FAILED recorded time: notebooks/00_start_here.ipynb" in result.stdout, result.stdout[-2000:]
    assert result.returncode == 1, result.stdout[-2000:]
