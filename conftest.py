"""Repository-wide pytest hooks: the notebook time table and its budget.

When nbval runs notebooks, each notebook's wall time (kernel start, every
cell, kernel shutdown) is summed from pytest's own reports, printed as a
table at the end of the run, and a notebook over ``NOTEBOOK_BUDGET_S`` fails
the run.
"""

import os
from collections import defaultdict

import pytest

#: The course's promise to a lecturer: a notebook runs top to bottom within
#: this many seconds on a 2-core laptop. (The variable exists so that a test
#: can check that going over the budget really fails a run.)
NOTEBOOK_BUDGET_S = float(os.environ.get("COURSE_NOTEBOOK_BUDGET_S", "90"))

_notebook_seconds: dict = defaultdict(float)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _notebook_seconds[path] += report.duration


def _over_budget():
    return {p: s for p, s in _notebook_seconds.items() if s > NOTEBOOK_BUDGET_S}


def pytest_terminal_summary(terminalreporter):
    if not _notebook_seconds:
        return
    tr = terminalreporter
    tr.section("notebook wall times")
    width = max(len(p) for p in _notebook_seconds)
    for path, seconds in sorted(_notebook_seconds.items()):
        flag = "  OVER BUDGET" if seconds > NOTEBOOK_BUDGET_S else ""
        tr.write_line(f"{path:<{width}}  {seconds:6.1f} s{flag}")
    total = sum(_notebook_seconds.values())
    tr.write_line(f"{'total':<{width}}  {total:6.1f} s   (budget {NOTEBOOK_BUDGET_S:.0f} s per notebook)")
    for path, seconds in sorted(_over_budget().items()):
        tr.write_line(f"FAILED budget: {path} took {seconds:.1f} s > {NOTEBOOK_BUDGET_S:.0f} s", red=True)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    if _over_budget() and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
