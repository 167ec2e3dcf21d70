"""Exercises in nbgrader's format, and student copies of the notebooks.

The course's notebooks are the *instructor* versions: each exercise is an
answer cell (nbgrader metadata ``solution: true``) whose solution sits between
``### BEGIN SOLUTION`` and ``### END SOLUTION``, followed by a graded test cell
(``grade: true, locked: true, points``) with visible ``assert`` statements and
optionally ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``.

``make student`` (``python -m course_utils.exercises``) writes a learner's copy
of every notebook with nbgrader's own preprocessors, run standalone (no
gradebook database): solutions become ``raise NotImplementedError()``, hidden
tests and outputs are removed, graded cells are locked.  A copy the learner has
edited is never overwritten; ``make reset NB=<name>`` (``reset_student_copy``)
sets one aside and writes a fresh copy in its place.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "forbid",
    "forbid_autograd",
    "student_version",
    "write_student_copies",
    "reset_student_copy",
    "graded_cells",
    "solution_cells",
    "find_notebooks",
]

#: Where ``write_student_copies`` records what it wrote last, so it can tell
#: an untouched copy (safe to refresh) from a learner's work (left alone).
MANIFEST_NAME = ".written.json"


def _nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _check_notebook(nb):
    if not hasattr(nb, "cells"):
        raise TypeError(f"nb must be a notebook (nbformat.NotebookNode), got {type(nb).__name__}")


def graded_cells(nb) -> list:
    """Code cells that nbgrader grades automatically (``grade: true``, not answers)."""
    _check_notebook(nb)
    return [
        c for c in nb.cells
        if c.cell_type == "code" and _nbgrader_meta(c).get("grade") and not _nbgrader_meta(c).get("solution")
    ]


def solution_cells(nb) -> list:
    """Cells the learner writes (``solution: true``)."""
    _check_notebook(nb)
    return [c for c in nb.cells if _nbgrader_meta(c).get("solution")]


@contextmanager
def forbid(module, *names):
    """Within the block, calling ``module.<name>`` raises AssertionError: graders use it.

    A graded test runs the learner's function inside ``with forbid(detection,
    "match_anchors"):`` so that an answer that only calls the course's own
    implementation fails with a message saying what to do, instead of
    passing. The attributes are put back when the block ends, even on error.

    A name the notebook imported directly (``from course_utils.train import
    fit``) is bound in the notebook's own namespace, not read from the module
    at each call, so the caller's global names that refer to a forbidden
    function are replaced too, and restored with the rest.

    Parameters
    ----------
    module : module
        Where the functions live (e.g. ``course_utils.detection``).
    *names : str
        Attribute names of the functions to forbid.
    """
    if not names:
        raise ValueError("names must list at least one function to forbid")
    missing = [name for name in names if not callable(getattr(module, name, None))]
    if missing:
        raise ValueError(f"names must be functions of {getattr(module, '__name__', module)!r}; "
                         f"not found: {missing}")
    saved = {name: getattr(module, name) for name in names}

    def refuse(name):
        def call(*args, **kwargs):
            raise AssertionError(f"write it without calling {module.__name__.split('.')[-1]}.{name}: "
                                 f"the exercise is to do its work yourself")
        return call

    namespace = _caller_globals()
    aliases = {key: value for key, value in namespace.items()
               if any(value is function for function in saved.values())}
    try:
        for name in names:
            setattr(module, name, refuse(name))
        for key, value in aliases.items():
            original = next(name for name, function in saved.items() if function is value)
            namespace[key] = refuse(original)
        yield
    finally:
        for name, function in saved.items():
            setattr(module, name, function)
        namespace.update(aliases)


@contextmanager
def forbid_autograd():
    """Within the block, every way torch offers to differentiate for you raises AssertionError.

    Backward-pass exercises compare the learner's gradient with autograd's,
    computed before the block; inside it, ``Tensor.backward``,
    ``torch.autograd.grad`` / ``backward``, ``torch.func``'s ``grad``, ``vjp``,
    ``jacrev``, ``jacfwd`` and ``torch.autograd.functional``'s ``vjp``, ``jvp``
    and ``jacobian`` are forbidden, so that the answer is the derivation.
    """
    import torch
    import torch.autograd.functional
    import torch.func

    with forbid(torch.Tensor, "backward"), forbid(torch.autograd, "grad", "backward"), \
            forbid(torch.func, "grad", "vjp", "jacrev", "jacfwd"), \
            forbid(torch.autograd.functional, "vjp", "jvp", "jacobian"):
        yield


def _caller_globals() -> dict:
    """The global namespace of the code that entered ``with forbid(...)`` (a notebook's, in a kernel)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") in (__name__, "contextlib"):
        frame = frame.f_back
    return frame.f_globals if frame is not None else {}


def find_notebooks(root) -> list[Path]:
    """All notebooks under ``root``, sorted, checkpoints excluded."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"root must be an existing folder, got {str(root)!r}")
    return sorted(p for p in root.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def student_version(nb):
    """Return the student copy of an instructor notebook (a new object).

    Applies nbgrader's ``ClearSolutions``, ``ClearHiddenTests``,
    ``ClearOutput`` and ``LockCells`` preprocessors in that order.
    """
    import copy

    import nbformat
    from nbgrader.preprocessors import ClearHiddenTests, ClearOutput, ClearSolutions, LockCells

    if not isinstance(nb, nbformat.NotebookNode):
        raise TypeError(f"nb must be an nbformat.NotebookNode, got {type(nb).__name__}")
    nb = copy.deepcopy(nb)
    resources: dict = {}
    for preprocessor in (ClearSolutions(), ClearHiddenTests(), ClearOutput(), LockCells()):
        nb, resources = preprocessor.preprocess(nb, resources)
    return nb


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_student_copies(source="notebooks", target="student", *, verbose=True) -> dict:
    """Write a student copy of every notebook under ``source`` into ``target``.

    A file already in ``target`` is replaced only if it is exactly what this
    function wrote last time (the learner has not touched it) or already
    equal to the new copy.  Anything else is a learner's work and is left
    alone, with a message saying so.

    Returns
    -------
    dict
        ``{"written": [...], "unchanged": [...], "kept": [...]}`` of relative paths.
    """
    import nbformat

    source, target = Path(source), Path(target)
    if not source.is_dir():
        raise ValueError(f"source must be an existing folder of notebooks, got {str(source)!r}")
    notebooks = find_notebooks(source)
    manifest_path = target / MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    report: dict = {"written": [], "unchanged": [], "kept": []}
    for path in notebooks:
        rel = path.relative_to(source).as_posix()
        new_text = nbformat.writes(student_version(nbformat.read(path, as_version=4))) + "\n"
        out = target / rel
        if out.exists():
            old_text = out.read_text(encoding="utf-8")
            if old_text == new_text:
                report["unchanged"].append(rel)
                manifest[rel] = _digest(new_text)
                continue
            if manifest.get(rel) != _digest(old_text):
                report["kept"].append(rel)
                continue
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(new_text, encoding="utf-8")
        manifest[rel] = _digest(new_text)
        report["written"].append(rel)
    target.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    if verbose:
        print(f"student copies in {target}/: {len(report['written'])} written, "
              f"{len(report['unchanged'])} already up to date, {len(report['kept'])} left alone")
        for rel in report["kept"]:
            print(f"  left alone (you have edited it): {target / rel}  "
                  f"- rename or delete it to get a fresh copy")
    return report


#: Where ``reset_student_copy`` keeps the copies it replaces, inside the target folder.
BACKUP_DIR = ".replaced"


def _find_one_notebook(source: Path, name: str) -> Path:
    """The notebook under ``source`` that ``name`` designates (a path, a file name, a stem or its number)."""
    notebooks = find_notebooks(source)
    wanted = name.strip().removesuffix(".ipynb")
    exact = [p for p in notebooks if p.relative_to(source).as_posix().removesuffix(".ipynb") == wanted]
    if exact:
        return exact[0]
    matches = [p for p in notebooks if p.stem == wanted or p.stem.split("_")[0] in (wanted, wanted.zfill(2))]
    if len(matches) != 1:
        known = ", ".join(p.stem for p in notebooks)
        found = "no notebook" if not matches else f"{len(matches)} notebooks"
        raise ValueError(f"notebook must name one notebook (a path, a name such as 10_optimizers, or its "
                         f"number such as 10); {name!r} matches {found}. Known: {known}")
    return matches[0]


def reset_student_copy(notebook, source="notebooks", target="student", *, verbose=True) -> dict:
    """Replace a learner's copy of one notebook with a fresh student copy.

    The replaced copy is not deleted: it moves to ``<target>/.replaced/`` with
    the time in its name, so that a reset by mistake loses nothing.

    Parameters
    ----------
    notebook : str
        Which notebook: a path relative to ``source`` (``3_training/10_optimizers.ipynb``),
        a file name or stem (``10_optimizers``), or its number (``10``).
    source, target : str or Path
        The instructor notebooks and the folder of student copies.

    Returns
    -------
    dict
        ``{"written": relative path, "replaced": path of the set-aside copy or None}``.
    """
    import time

    import nbformat

    if not isinstance(notebook, str) or not notebook.strip():
        raise ValueError(f"notebook must be a non-empty name or path, got {notebook!r}")
    source, target = Path(source), Path(target)
    if not source.is_dir():
        raise ValueError(f"source must be an existing folder of notebooks, got {str(source)!r}")
    path = _find_one_notebook(source, notebook)
    rel = path.relative_to(source).as_posix()
    out = target / rel
    replaced = None
    if out.exists():
        stamp = time.strftime("%Y%m%d-%H%M%S")
        replaced = target / BACKUP_DIR / f"{path.stem}-{stamp}.ipynb"
        count = 1
        while replaced.exists():  # two resets within one second keep both copies
            count += 1
            replaced = target / BACKUP_DIR / f"{path.stem}-{stamp}-{count}.ipynb"
        replaced.parent.mkdir(parents=True, exist_ok=True)
        out.replace(replaced)
    new_text = nbformat.writes(student_version(nbformat.read(path, as_version=4))) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(new_text, encoding="utf-8")
    manifest_path = target / MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    manifest[rel] = _digest(new_text)
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    if verbose:
        print(f"fresh copy: {out}")
        if replaced is not None:
            print(f"your previous copy is kept as {replaced}")
    return {"written": rel, "replaced": None if replaced is None else str(replaced)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Write student copies of the course notebooks.")
    parser.add_argument("--source", default="notebooks", help="folder of instructor notebooks")
    parser.add_argument("--target", default="student", help="folder for the student copies")
    parser.add_argument("--reset", metavar="NOTEBOOK",
                        help="replace your copy of this notebook (name, path or number) with a fresh one; "
                             "the old copy is kept in <target>/.replaced/")
    args = parser.parse_args(argv)
    if args.reset:
        reset_student_copy(args.reset, args.source, args.target)
    else:
        write_student_copies(args.source, args.target)


if __name__ == "__main__":
    main()
