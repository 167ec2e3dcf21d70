"""Build the lecture decks (``make slides``): one reveal.js deck per notebook, offline.

Each notebook becomes ``<out>/NN_name.slides.html``: its learner's copy (solutions and hidden tests
removed) with its committed outputs and widgets made static (:func:`slideshow.deck_version`),
nothing executed, rendered by ``jupyter nbconvert --to slides`` with the course's template
(``slides/templates/course_slides``).  reveal.js and MathJax are copied next to the decks from
``node_modules/`` (the root package.json, ``npm ci``), and the decks load them by relative paths
(``SlidesExporter.reveal_url_prefix``): no CDN, so a deck opens from the file system, offline.

Usage: ``python slides/build.py [--out build/slides] [NOTEBOOK...]`` (default: every notebook).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import slideshow  # noqa: E402

ROOT = slideshow.ROOT
NODE_MODULES = ROOT / "node_modules"
#: Where the decks find reveal.js, relative to the deck.
REVEAL_DIR = "reveal.js"
#: The reveal.js theme; its fonts ship with reveal.js (themes such as "simple" import Google Fonts).
THEME = "white"

NBCONVERT_ARGS = [
    "--to", "slides", "--no-prompt", "--log-level=ERROR",
    f"--TemplateExporter.extra_template_basedirs={ROOT / 'slides' / 'templates'}",
    "--template", "course_slides",
    f"--SlidesExporter.reveal_url_prefix={REVEAL_DIR}",
    f"--SlidesExporter.reveal_theme={THEME}",
    "--TagRemovePreprocessor.enabled=True",
    f"--TagRemovePreprocessor.remove_input_tags={slideshow.HIDE_CODE_TAG}",
]


def copy_assets(out: Path) -> None:
    """reveal.js (dist, plugins) and MathJax (the full TeX bundle and its fonts) beside the decks."""
    reveal, mathjax = NODE_MODULES / "reveal.js", NODE_MODULES / "mathjax" / "es5"
    for needed in (reveal / "dist" / "reveal.js", mathjax / "tex-chtml-full.js"):
        if not needed.exists():
            raise SystemExit(f"{needed} is missing: run `npm ci` in {ROOT} (make slides does)")
    for part in ("dist", "plugin"):
        shutil.copytree(reveal / part, out / REVEAL_DIR / part)
    (out / "mathjax").mkdir()
    shutil.copy(mathjax / "tex-chtml-full.js", out / "mathjax")
    shutil.copytree(mathjax / "output" / "chtml" / "fonts" / "woff-v2", out / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2")


def build(out: Path, notebooks: list) -> list:
    """Write one deck per notebook into ``out`` (emptied first); return the decks' paths."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    copy_assets(out)
    with tempfile.TemporaryDirectory() as tmp:
        sources = []
        for path in notebooks:
            path = Path(path)
            nb = slideshow.deck_version(nbformat.read(path, as_version=4))
            target = Path(tmp) / path.name
            if target.exists():
                raise SystemExit(f"two notebooks are named {path.name}")
            nbformat.write(nb, target)
            sources.append(str(target))
        subprocess.run([sys.executable, "-m", "nbconvert", *NBCONVERT_ARGS, "--output-dir", str(out), *sources],
                       check=True)
    decks = [out / (Path(s).stem + ".slides.html") for s in sources]
    missing = [d for d in decks if not d.exists()]
    if missing:
        raise SystemExit(f"nbconvert wrote no deck for {missing}")
    return decks


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "build" / "slides"))
    parser.add_argument("notebooks", nargs="*")
    args = parser.parse_args(argv)
    from course_utils.exercises import find_notebooks

    notebooks = args.notebooks or find_notebooks(ROOT / "notebooks")
    start = time.perf_counter()
    decks = build(Path(args.out), notebooks)
    print(f"slides: {len(decks)} decks in {args.out} ({time.perf_counter() - start:.1f} s); "
          f"open {decks[0]} in a browser (offline), F for full screen, S for the speaker notes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
