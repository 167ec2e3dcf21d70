"""The layering of course_utils, read from the imports of every module.

    layer 0  _checks, notebook, exercises      (plumbing)
    layer 1  algorithms: features, conv, layers, classifiers, optim, augment, train,
             detection/, segmentation/
    layer 2  data/, metrics/, models/           (built on the algorithms)
    layer 3  viz/                               (everything that draws)

A module imports package modules of its own layer or below, never above: an
algorithm does not draw and does not load data, and nothing but viz imports
viz.  Function-level imports count too, so a lazy import cannot hide a
dependency.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "course_utils"

LAYERS = {
    "_checks": 0, "notebook": 0, "exercises": 0,
    "features": 1, "conv": 1, "layers": 1, "classifiers": 1, "optim": 1, "augment": 1, "train": 1,
    "detection": 1, "segmentation": 1, "diffusion": 1,
    "data": 2, "metrics": 2, "models": 2,
    "viz": 3,
}


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py"))


def _dotted(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _wing(dotted):
    """The top-level entry of course_utils a dotted module belongs to ('' for the package itself)."""
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imports(path, dotted=None):
    """Dotted course_utils modules imported anywhere in ``path`` (function-level imports included)."""
    dotted = dotted or _dotted(path)
    package = dotted if path.name == "__init__.py" else dotted.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "course_utils":
                continue
            if node.module is None or target == "course_utils":  # from . import x, from course_utils import x
                found.update(f"{target}.{a.name}" for a in node.names)
            else:
                found.add(target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "course_utils")
    return found


def test_every_wing_has_a_layer():
    wings = {_wing(_dotted(p)) for p in _modules()} - {""}
    assert wings <= set(LAYERS), f"give these a layer in tests/test_layout.py: {sorted(wings - set(LAYERS))}"


def _violations(path, dotted=None):
    dotted = dotted or _dotted(path)
    wing = _wing(dotted)
    imported = _imports(path, dotted)
    if wing == "":  # the package's own __init__ re-exports the notebook plumbing only
        return [f"course_utils/__init__.py imports {m}" for m in imported if _wing(m) != "notebook"]
    problems = []
    for module in sorted(imported):
        other = _wing(module)
        if other not in LAYERS:
            problems.append(f"{module} has no layer")
        elif LAYERS[other] > LAYERS[wing]:
            problems.append(f"{dotted} (layer {LAYERS[wing]}) imports {module} (layer {LAYERS[other]}): "
                            "a module may only import its own layer or below")
    return problems


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_imports_follow_the_layers(path):
    assert not _violations(path)


def test_the_rule_catches_violations(tmp_path):
    """An algorithm that draws, or loads data in a function, is reported: the test above is not vacuous."""
    module = tmp_path / "fake.py"
    module.write_text("from ..viz import show_images\n\ndef f():\n    from ..data import make_scenes\n")
    problems = _violations(module, "course_utils.detection.fake")
    assert len(problems) == 2 and "imports course_utils.data" in problems[0] and "imports course_utils.viz" in problems[1]
    module.write_text("from .._checks import check_int\nfrom .boxes import box_iou\nfrom ..conv import pad2d\n")
    assert _violations(module, "course_utils.detection.fake") == []
