"""The budget check's machine factor (tests/machine_speed.py and the repository conftest.py)."""
import importlib.util
from pathlib import Path

import pytest

import machine_speed

ROOT = Path(__file__).resolve().parent.parent


def _repository_conftest():
    spec = importlib.util.spec_from_file_location("_conftest_for_speed", ROOT / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_factor_is_the_ratio_within_bounds():
    ref = machine_speed.REFERENCE_S
    assert machine_speed.speed_factor(ref) == pytest.approx(1.0)
    assert machine_speed.speed_factor(1.1 * ref) == pytest.approx(1.1)
    assert machine_speed.speed_factor(0.9 * ref) == pytest.approx(0.9)
    assert machine_speed.speed_factor(10 * ref) == machine_speed.MAX_FACTOR, "a very slow machine gets no more"
    assert machine_speed.speed_factor(0.1 * ref) == machine_speed.MIN_FACTOR, "a fast one is held to more"
    assert 1 < machine_speed.MAX_FACTOR <= 1.3 and 0.75 <= machine_speed.MIN_FACTOR < 1, "bounds the data support"


def test_workload_takes_about_a_second():
    seconds = machine_speed.workload_seconds(repeats=1)
    assert 0.1 < seconds < 10 * machine_speed.REFERENCE_S


def test_budget_is_checked_on_reference_seconds(monkeypatch):
    conftest = _repository_conftest()
    path = "notebooks/5_detection/21_faster_rcnn.ipynb"
    conftest._notebook_seconds[path] = 100.0
    budget = conftest.NOTEBOOK_BUDGET_S
    assert conftest._over_budget(1.0) == ({path: 100.0} if 100.0 > budget else {})
    assert conftest._over_budget(100.0 / budget * 1.01) == {}, "on a slower machine, the same time is within budget"
    assert path in conftest._over_budget(100.0 / budget * 0.99)
    monkeypatch.setenv("COURSE_MACHINE_FACTOR", "1.25")
    assert conftest.machine_factor() == 1.25
    monkeypatch.setenv("COURSE_MACHINE_FACTOR", "5")
    assert conftest.machine_factor() == machine_speed.MAX_FACTOR, "the variable cannot lift the bound"


def test_recorded_times_are_not_judged_outside_the_bounds(monkeypatch):
    conftest = _repository_conftest()
    path = "notebooks/00_start_here.ipynb"
    conftest._notebook_seconds[path] = 1.0  # far off its recorded time
    conftest._collected[path] = conftest._passed[path] = 1
    monkeypatch.setenv("COURSE_MACHINE_FACTOR", "0.3")  # a machine much faster than the bounds allow for
    assert not conftest.verdict()["judge_drift"] and conftest.verdict()["drifted"] == {}
    conftest._verdict.clear()
    monkeypatch.setenv("COURSE_MACHINE_FACTOR", "1")
    assert conftest.verdict()["judge_drift"] and path in conftest.verdict()["drifted"]
