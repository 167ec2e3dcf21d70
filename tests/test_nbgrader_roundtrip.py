"""The instructor's round trip with nbgrader's own tools, on Part 1.

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
ASSIGNMENT = "1_classical_features"


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


@pytest.mark.skipif(not (ROOT / "notebooks" / ASSIGNMENT).is_dir(), reason="Part 1 not present")
def test_generate_and_autograde_part1(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(ROOT / "notebooks" / ASSIGNMENT, course / "notebooks" / ASSIGNMENT,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")

    _nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    released = sorted((course / "release" / ASSIGNMENT).glob("*.ipynb"))
    assert released, "generate_assignment wrote no notebook"
    for path in released:
        text = path.read_text()
        assert "### BEGIN SOLUTION" not in text and "### BEGIN HIDDEN TESTS" not in text

    shutil.copytree(course / "notebooks" / ASSIGNMENT, course / "submitted" / "solver" / ASSIGNMENT)
    shutil.copytree(course / "release" / ASSIGNMENT, course / "submitted" / "blank" / ASSIGNMENT)
    _nbgrader(course, "autograde", ASSIGNMENT, "--create", "--force")

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assignment = gb.find_assignment(ASSIGNMENT)
        assert assignment.max_score > 0
        solver = gb.find_submission(ASSIGNMENT, "solver")
        blank = gb.find_submission(ASSIGNMENT, "blank")
        assert solver.score == pytest.approx(assignment.max_score), (
            f"solutions scored {solver.score} of {assignment.max_score}"
        )
        assert blank.score == 0, f"the untouched student copy scored {blank.score}"
