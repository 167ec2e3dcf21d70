"""The instructor's round trip with nbgrader's own tools.

``make test`` runs it on Part 1; ``make test-grading`` on every part
(``COURSE_GRADING_PARTS=all``).

generate_assignment -> two submissions -> autograde, in a temporary course
folder using the repository's nbgrader_config.py:

* a submission of the instructor notebooks (solutions in) scores full marks;
* a submission of the untouched student copy scores 0.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from kernels import private_kernel_folder

ROOT = Path(__file__).resolve().parent.parent
PARTS = sorted(p.name for p in (ROOT / "notebooks").iterdir() if p.is_dir() and any(p.glob("*.ipynb")))
#: The round trip executes each notebook twice: Part 1 in ``make test``, all
#: parts in ``make test-grading``.
ROUND_TRIP_PARTS = PARTS if os.environ.get("COURSE_GRADING_PARTS") == "all" else PARTS[:1]


def _nbgrader(course, *args):
    # nbgrader reads nbgrader_config.py from its working folder, and calls the
    # `alembic` program of its environment: put the environment's bin first.
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    # Kernels over IPC in a folder of their own: safe beside other tests' kernels.
    with private_kernel_folder() as ip:
        # (nbgrader's Execute uses AsyncKernelManager, which is what takes the options.)
        cmd = [sys.executable, "-m", "nbgrader", *args,
               "--AsyncKernelManager.transport=ipc", f"--AsyncKernelManager.ip={ip}"]
        result = subprocess.run(cmd, cwd=course, env=env, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.mark.parametrize("part", ROUND_TRIP_PARTS)
def test_generate_and_autograde(tmp_path, part):
    course = tmp_path / "course"
    shutil.copytree(ROOT / "notebooks" / part, course / "notebooks" / part,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")

    _nbgrader(course, "generate_assignment", part, "--force")
    released = sorted((course / "release" / part).glob("*.ipynb"))
    assert released, "generate_assignment wrote no notebook"
    for path in released:
        text = path.read_text()
        assert "### BEGIN SOLUTION" not in text and "### BEGIN HIDDEN TESTS" not in text

    shutil.copytree(course / "notebooks" / part, course / "submitted" / "solver" / part)
    shutil.copytree(course / "release" / part, course / "submitted" / "blank" / part)
    _nbgrader(course, "autograde", part, "--create", "--force")

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assignment = gb.find_assignment(part)
        assert assignment.max_score > 0
        solver = gb.find_submission(part, "solver")
        blank = gb.find_submission(part, "blank")
        assert solver.score == pytest.approx(assignment.max_score), (
            f"solutions scored {solver.score} of {assignment.max_score}"
        )
        assert blank.score == 0, f"the untouched student copy scored {blank.score}"



def test_every_part_generates_an_assignment(tmp_path):
    """Every part folder is a valid nbgrader assignment (metadata, unique ids, locked cells).

    generate_assignment runs nothing, so this is cheap; the full round trip
    above, which runs every notebook twice, covers Part 1 in ``make test``
    and every part in ``make test-grading``; in ``make test`` the other
    parts' graded cells meet nbgrader's stubs during the nbval run
    (conftest.py).
    """
    course = tmp_path / "course"
    for part in PARTS:
        shutil.copytree(ROOT / "notebooks" / part, course / "notebooks" / part,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "README.md"))
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    assert len(PARTS) >= 4, f"expected the course's part folders, found {PARTS}"
    for part in PARTS:
        _nbgrader(course, "generate_assignment", part, "--force")
        sources = sorted((course / "notebooks" / part).glob("*.ipynb"))
        released = sorted((course / "release" / part).glob("*.ipynb"))
        assert [p.name for p in released] == [p.name for p in sources], f"{part}: notebooks missing"
        for path in released:
            text = path.read_text()
            assert "### BEGIN SOLUTION" not in text, f"{part}/{path.name}: solution left in"
            assert "raise NotImplementedError()" in text, f"{part}/{path.name}: no stub"
