"""Repository-wide pytest hooks: the notebook time table, its budget and its drift.

When nbval runs notebooks, each notebook's wall time (kernel start, every
cell, kernel shutdown) is summed from pytest's own reports, printed as a
table at the end of the run, and a notebook over ``NOTEBOOK_BUDGET_S`` fails
the run.  So does a notebook that ran whole (every cell collected ran and
passed) in a time off its recorded time (``course_utils.notebook.COURSE_MAP``,
which the course map shows learners) by more than ``DRIFT`` of it: the
course map's times stay true.
"""

import json
import os
from collections import defaultdict
from pathlib import Path

import pytest

#: The course's promise to a lecturer: a notebook runs top to bottom within
#: this many seconds on a 2-core laptop. (The variable exists so that a test
#: can check that going over the budget really fails a run.)
NOTEBOOK_BUDGET_S = float(os.environ.get("COURSE_NOTEBOOK_BUDGET_S", "90"))

#: A notebook's measured time may be off its recorded time by this share of it (0.5: 50 %) ...
DRIFT = float(os.environ.get("COURSE_NOTEBOOK_DRIFT", "0.5"))
#: ... or by this many seconds, whichever is more: kernel start-up alone varies by a few seconds, which
#: is 50 % of the shortest notebooks.
DRIFT_FLOOR_S = 5.0

_notebook_seconds: dict = defaultdict(float)
_collected: dict = defaultdict(int)   # notebook -> cells collected
_passed: dict = defaultdict(int)      # notebook -> cells that ran and passed


#: Workload seconds measured before the notebooks run and after (machine_speed.py).
_workload_seconds: list = []


def _machine_speed():
    """tests/machine_speed.py, loaded by its path (pytest's ``pythonpath`` is not set for every run)."""
    import importlib.util
    import sys

    if "course_machine_speed" not in sys.modules:
        path = Path(__file__).resolve().parent / "tests" / "machine_speed.py"
        if not path.exists():
            raise RuntimeError(f"{path} is missing: the notebook budget needs it (or set COURSE_MACHINE_FACTOR)")
        spec = importlib.util.spec_from_file_location("course_machine_speed", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules["course_machine_speed"] = module
    return sys.modules["course_machine_speed"]


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        if path.endswith(".ipynb"):
            _collected[path] += 1
    if _collected and "COURSE_MACHINE_FACTOR" not in os.environ and not config.option.collectonly:
        _workload_seconds.append(_machine_speed().workload_seconds())


def _raw_factor() -> float:
    """The unbounded ratio: the mean of the workload's timings, before and after the notebooks, over
    the reference machine's; ``COURSE_MACHINE_FACTOR`` sets it instead (tests)."""
    if "COURSE_MACHINE_FACTOR" in os.environ:
        return float(os.environ["COURSE_MACHINE_FACTOR"])
    speed = _machine_speed()
    if len(_workload_seconds) < 2:
        _workload_seconds.append(speed.workload_seconds())
    return sum(_workload_seconds) / len(_workload_seconds) / speed.REFERENCE_S


def machine_factor() -> float:
    """How many times slower than the course's reference machine this one is, within the bounds."""
    speed = _machine_speed()
    return min(speed.MAX_FACTOR, max(speed.MIN_FACTOR, _raw_factor()))


def _reference_seconds(factor):
    """Each notebook's time as the reference machine would take it: measured / factor."""
    return {p: s / factor for p, s in _notebook_seconds.items()}


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _notebook_seconds[path] += report.duration
        if report.when == "call" and report.passed:
            _passed[path] += 1


def recorded_seconds() -> dict:
    """Recorded run times by notebook name; ``COURSE_RECORDED_SECONDS`` (JSON) overrides some (tests)."""
    from course_utils.notebook import recorded_seconds as recorded

    times = recorded()
    times.update(json.loads(os.environ.get("COURSE_RECORDED_SECONDS", "{}")))
    return times


def drift_failures(measured: dict, recorded: dict, whole, drift: float = DRIFT, floor: float = DRIFT_FLOOR_S):
    """Notebooks whose measured time is off the recorded one: ``{path: (measured, recorded)}``.

    Only notebooks in ``whole`` (they ran whole: a partial run says nothing about the time) and with a
    recorded time count; a notebook fails when ``|measured - recorded| > max(drift * recorded, floor)``.
    """
    failures = {}
    for path, seconds in measured.items():
        name = Path(path).stem
        if path not in whole or name not in recorded:
            continue
        if abs(seconds - recorded[name]) > max(drift * recorded[name], floor):
            failures[path] = (seconds, recorded[name])
    return failures


def _ran_whole():
    return {p for p, n in _collected.items() if n and _passed.get(p, 0) == n}


def _drifted(factor):
    return drift_failures(_reference_seconds(factor), recorded_seconds(), _ran_whole())


def _over_budget(factor):
    return {p: s for p, s in _reference_seconds(factor).items() if s > NOTEBOOK_BUDGET_S}


_verdict: dict = {}


def verdict():
    """The machine factor and the notebooks failing the budget or the recorded time, decided once.

    pytest calls this first from ``pytest_sessionfinish`` (exit status), then
    the terminal summary prints it; the workload's second timing runs here.
    """
    if not _verdict:
        factor = machine_factor()
        # Where the machine is slower or faster than the bounds allow for, its times say nothing about
        # the reference machine's: the budget still applies (bounded), the recorded times are not judged.
        judge_drift = factor == _raw_factor()
        _verdict.update(factor=factor, over=_over_budget(factor), judge_drift=judge_drift,
                        drifted=_drifted(factor) if judge_drift else {})
    return _verdict


def pytest_terminal_summary(terminalreporter):
    if not _notebook_seconds:
        return
    tr = terminalreporter
    factor = verdict()["factor"]
    reference = _reference_seconds(factor)
    tr.section("notebook wall times")
    width = max(len(p) for p in _notebook_seconds)
    tr.write_line(f"{'':<{width}}  {'here':>8}  {'reference':>9}")
    for path, seconds in sorted(_notebook_seconds.items()):
        flag = "  OVER BUDGET" if path in verdict()["over"] else ""
        tr.write_line(f"{path:<{width}}  {seconds:6.1f} s  {reference[path]:7.1f} s{flag}")
    total = sum(_notebook_seconds.values())
    tr.write_line(f"{'total':<{width}}  {total:6.1f} s  {total / factor:7.1f} s   "
                  f"(budget {NOTEBOOK_BUDGET_S:.0f} s per notebook on the reference machine)")
    speed = _machine_speed()
    if _workload_seconds:
        when = "before and after the notebooks" if len(_workload_seconds) == 2 else "after the notebooks"
        tr.write_line(f"machine speed: the reference workload took {', '.join(f'{w:.2f}' for w in _workload_seconds)} s "
                      f"here ({when}), {speed.REFERENCE_S:.2f} s on the course's 2-core reference machine: "
                      f"factor {factor:.2f} (bounded to {speed.MIN_FACTOR}-{speed.MAX_FACTOR}); "
                      "'reference' = here / factor")
    else:
        tr.write_line(f"machine factor {factor:.2f} (COURSE_MACHINE_FACTOR {_raw_factor():g}, bounded to "
                      f"{speed.MIN_FACTOR}-{speed.MAX_FACTOR})")
    if not verdict()["judge_drift"]:
        tr.write_line("recorded times not judged: this machine's speed is outside the bounds", yellow=True)
    for path, seconds in sorted(_notebook_seconds.items()):
        if seconds > NOTEBOOK_BUDGET_S and path not in verdict()["over"]:
            tr.write_line(f"note: {path} took {seconds:.1f} s here, over {NOTEBOOK_BUDGET_S:.0f} s; within "
                          f"budget only as the reference machine would take it ({reference[path]:.1f} s)",
                          yellow=True)
    for path, seconds in sorted(verdict()["over"].items()):
        tr.write_line(f"FAILED budget: {path} took {_notebook_seconds[path]:.1f} s here, {seconds:.1f} s on the "
                      f"reference machine > {NOTEBOOK_BUDGET_S:.0f} s", red=True)
    for path, (seconds, recorded) in sorted(verdict()["drifted"].items()):
        tr.write_line(f"FAILED recorded time: {path} took {seconds:.1f} s on the reference machine, the course "
                      f"map says {recorded:.0f} s (more than {DRIFT:.0%} off): update its time in "
                      "course_utils/notebook.py COURSE_MAP and re-run notebooks/00_start_here.ipynb", red=True)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    if not _notebook_seconds:
        return
    v = verdict()
    if (v["over"] or v["drifted"]) and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# --- Graded cells must fail on the learner's stub, checked in nbval's kernel ---
#
# Before nbval runs an answer cell (nbgrader ``solution: true``), the same
# kernel runs the learner's version of it (nbgrader's stub, ``raise
# NotImplementedError()``), then the graded cells that follow it as the
# learner sees them (hidden tests removed), and records how each ended.  Then
# nbval runs the real solution and the notebook goes on as usual.  So one
# execution of a notebook proves both that its graded cells pass on the
# solutions (nbval) and that they fail on the stubs (here).

#: How a graded cell may fail on the stub: an assert that says what is wrong,
#: or the stub's own NotImplementedError.
STUB_FAILURES = frozenset({"AssertionError", "NotImplementedError"})
#: ``COURSE_CHECK_STUBS=0`` turns the check off (``make test-seeds`` checks
#: the asserts of the notebooks under other seeds, not the graders).
CHECK_STUBS = os.environ.get("COURSE_CHECK_STUBS", "1") != "0"


def _stub_runs(nb):
    """Map the code-cell number of each answer cell to what to run on its stub.

    Returns ``{cell_num: (grade_id, stub_source, [(label, source), ...])}``:
    the learner's version of the answer cell, then the code cells from it to
    the last graded cell before the next answer cell (learner's versions;
    graded ones labelled by grade_id, others ``None``).
    """
    from course_utils.exercises import student_version

    student = student_version(nb)
    code = [(c, s) for c, s in zip(nb.cells, student.cells) if c.cell_type == "code"]
    runs = {}
    for num, (cell, stub) in enumerate(code):
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("solution"):
            continue
        following = []
        for later, later_stub in code[num + 1:]:
            later_meta = later.metadata.get("nbgrader", {})
            if later_meta.get("solution"):
                break
            label = later_meta.get("grade_id") if later_meta.get("grade") else None
            following.append((label, later_stub.source))
        while following and following[-1][0] is None:
            following.pop()  # the cells after the last graded one are not the exercise's
        runs[num] = (meta.get("grade_id"), stub.source, following)
    return runs


def _run_quietly(kernel, source, timeout):
    """Run ``source`` in nbval's kernel; return the exception name or None.

    Its outputs are drained here, so nbval never sees them.
    """
    msg_id = kernel.execute_cell_input(source, allow_stdin=False)
    while True:
        msg = kernel.get_message(stream="shell", timeout=timeout)
        if msg["parent_header"].get("msg_id") == msg_id:
            break
    kernel.await_idle(msg_id, timeout)
    content = msg["content"]
    return content.get("ename") if content.get("status") == "error" else None


def check_graded_cells_fail_on_stub(item):
    """Problems found running the stub of answer cell ``item`` (empty if none)."""
    notebook = item.parent
    if not hasattr(notebook, "_course_stub_runs"):
        notebook._course_stub_runs = _stub_runs(notebook.nb)
    planned = notebook._course_stub_runs.get(item.cell_num)
    if planned is None:
        return []
    grade_id, stub, following = planned
    timeout = item.config.option.nbval_cell_timeout or 300
    kernel = notebook.kernel
    _run_quietly(kernel, stub, timeout)
    problems = []
    graded = 0
    for label, source in following:
        ended = _run_quietly(kernel, source, timeout)
        if label is None:
            continue
        graded += 1
        if ended is None:
            problems.append(f"graded cell {label} passes when {grade_id} is the learner's stub: it checks nothing")
        elif ended not in STUB_FAILURES:
            problems.append(f"graded cell {label} fails on the stub of {grade_id} with {ended}, "
                            f"expected one of {sorted(STUB_FAILURES)}")
    if graded == 0:
        problems.append(f"answer cell {grade_id} is followed by no graded cell")
    return problems


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    problems = []
    if CHECK_STUBS and type(item).__name__ == "IPyNbCell":
        problems = check_graded_cells_fail_on_stub(item)
    result = yield
    if problems:
        raise AssertionError("; ".join(problems))
    return result
