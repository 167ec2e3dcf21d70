"""Rules of the repository that hold for every notebook and every release."""

import json
import os
import re
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
BANNED = re.compile(
    r"download\s*=\s*True|pretrained\s*=\s*True|weights\s*=\s*['\"]?(DEFAULT|IMAGENET)"
    r"|torch\.hub|urlretrieve|urlopen|requests\.get\("
)


def _code_cells(path):
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


# --- set-up files ----------------------------------------------------------

def _requirement_names(requirements):
    return sorted(re.split(r"[<>=!~ \[]", r, maxsplit=1)[0].lower() for r in requirements)


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["test"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = [r for r in pip if not r.startswith("-e")]
    assert sorted(listed) == sorted(wanted), "environment.yml and pyproject.toml list different packages"
    assert any(r.startswith("-e") for r in pip), "environment.yml must install the project itself"
    assert _requirement_names(listed) == _requirement_names(wanted)


def test_readme_gives_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    for command in ("make lab", "make test", "make student", "environment.yml", "nbgrader"):
        assert command in readme, f"README.md should mention {command!r}"


def test_ci_script_runs_make_test():
    script = (ROOT / ".ci" / "run").read_text()
    assert "make test" in script and "no test ran" in script


# --- notebooks ------------------------------------------------------------

def test_course_map_links_every_notebook():
    start = ROOT / "notebooks" / "00_start_here.ipynb"
    text = "\n".join(c.source for c in nbformat.read(start, as_version=4).cells if c.cell_type == "markdown")
    links = re.findall(r"\]\(([^)]+\.ipynb)\)", text)
    for link in links:
        assert (start.parent / link).is_file(), f"course map links to a missing notebook: {link}"
    linked = {(start.parent / link).resolve() for link in links}
    for path in NOTEBOOKS:
        if path != start:
            assert path.resolve() in linked, f"course map does not link {path.relative_to(ROOT)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_conventions(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert "setup_notebook(" in code[0].source, "the first code cell must call setup_notebook()"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), "title first"
    counts = [c.execution_count for c in code]
    assert None not in counts, "outputs must be committed: run the notebook top to bottom"
    assert counts == sorted(counts), "cells were not run top to bottom in one kernel"
    ignored = sum("nbval-ignore-output" in c.metadata.get("tags", []) for c in code)
    assert ignored / len(code) <= 0.3, f"{ignored} of {len(code)} cells ignore their output"
    for cell in code:
        assert "nbval-skip" not in cell.metadata.get("tags", []), "no cell is skipped"
        for line in cell.source.splitlines():
            assert not line.strip().startswith("# NBVAL"), "use tags, not NBVAL comments"
        match = BANNED.search(cell.source)
        assert not match, f"a cell downloads or asks for pretrained weights: {match.group(0)}"
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        assert not errors, f"a committed cell output is an error: {errors[0].get('ename')}"


def test_no_downloads_in_course_utils():
    for path in sorted((ROOT / "course_utils").rglob("*.py")):
        match = BANNED.search(path.read_text())
        assert not match, f"{path.name} downloads or asks for pretrained weights: {match.group(0)}"


# --- the offline guard ------------------------------------------------------

def test_guard_is_active_in_make_test():
    if os.environ.get("COURSE_OFFLINE") != "1":
        pytest.skip("run through `make test`, which turns the offline guard on")
    assert getattr(socket, "NETWORK_BLOCKED_BY_COURSE_TESTS", False)
    with pytest.raises(OSError, match="network access blocked"):
        socket.create_connection(("example.org", 80), timeout=1)


def test_guard_blocks_a_notebook_kernel():
    """A kernel started the way nbval starts it cannot reach the network."""
    from kernels import execute_notebook

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import urllib.request\n"
        "try:\n"
        "    urllib.request.urlopen('http://example.org', timeout=2)\n"
        "    print('REACHED')\n"
        "except OSError as exc:\n"
        "    print('BLOCKED', type(exc).__name__, exc)\n"
    )]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "tests" / "offline"))
    old = os.environ.copy()
    os.environ.update(env)  # the kernel inherits this process's environment
    try:
        execute_notebook(nb, cwd=ROOT)
    finally:
        os.environ.clear()
        os.environ.update(old)
    text = "".join(o.get("text", "") for o in nb.cells[0].outputs)
    assert "BLOCKED" in text and "network access blocked" in text, text


def test_guard_allows_loopback():
    code = (
        "import socket\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)\n"
        "c = socket.create_connection(s.getsockname(), timeout=2); print('ok')\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "tests" / "offline"))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


# --- the time budget --------------------------------------------------------

def test_notebook_over_budget_fails_the_run():
    """The time table is printed, and a notebook over budget fails the nbval run."""
    start = ROOT / "notebooks" / "00_start_here.ipynb"
    env = dict(os.environ, COURSE_NOTEBOOK_BUDGET_S="0.5")
    cmd = [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-p", "no:xdist",
           "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"), str(start)]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert "notebook wall times" in result.stdout
    assert "FAILED budget: notebooks/00_start_here.ipynb" in result.stdout, result.stdout[-2000:]
    assert result.returncode == 1, result.stdout[-2000:]


def test_package_docstring_lists_every_module():
    import course_utils

    listed = set(re.findall(r"^(\w+)\s{2,}", course_utils.__doc__, flags=re.M))
    modules = {p.stem for p in (ROOT / "course_utils").glob("*.py") if not p.stem.startswith("_")}
    assert modules <= listed, f"course_utils/__init__.py does not list {sorted(modules - listed)}"
