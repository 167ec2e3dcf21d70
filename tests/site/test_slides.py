"""The lecture decks (`make slides`): slideshow metadata on every notebook, and decks that work offline.

From the metadata, sources and outputs alone (slides/slideshow.py measures a cell as its deck shows
it): every cell of every notebook has a slide type, each deck opens with its title slide, and no
slide holds more than ``MAX_LINES`` lines (the measure was checked against Chromium: a slide measured
at 28 lines or fewer fits the 700-pixel page).  Then two decks are built as `make slides` builds them
(into a temporary folder) and checked: reveal.js and MathJax come from the copies beside the decks,
no script, style, font or image from another host, no solution code, hidden code really hidden.
"""
from __future__ import annotations

import base64
import copy
import html
import importlib.util
import os
import re
import struct
import sys
import time
from pathlib import Path

import nbformat
import node_assets
import pytest

from course_utils.exercises import find_notebooks

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"


def _load(name, module_name):
    """slides/<name>.py as module ``module_name`` (slides/build.py imports slides/slideshow.py as
    ``slideshow``: loaded under that name, both share one module)."""
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "slides" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


slideshow = _load("slideshow", "slideshow")
ALL = find_notebooks(NOTEBOOKS)
IDS = [p.stem for p in ALL]

#: Cells that open a section (``## ...``) and are longer than a slide by themselves; the rule cannot
#: move them to the notes (the section would lose its title), so their slide scrolls.  To remove an
#: entry, split the cell's markdown in two (or shorten it): then this list must lose it.
LONG_SECTION_OPENINGS = {}  # none: the 16 section openings longer than a slide were split (2026-11-30)


@pytest.fixture(scope="module")
def decks():
    """Every notebook as its deck shows it (learner copy, widgets static), metadata included."""
    return {p.stem: slideshow.deck_version(nbformat.read(p, as_version=4)) for p in ALL}


@pytest.mark.parametrize("path", ALL, ids=IDS)
def test_every_cell_has_a_slide_type(path):
    nb = nbformat.read(path, as_version=4)
    missing = [c.get("id") for c in nb.cells if slideshow.slide_type(c) not in slideshow.SLIDE_TYPES]
    assert not missing, (f"{path.name}: cells {missing} have no slideshow metadata: run "
                         f"`.venv/bin/python slides/slideshow.py {path.relative_to(ROOT)}`")


@pytest.mark.parametrize("path", ALL, ids=IDS)
def test_the_deck_opens_with_its_title_slide(path, decks):
    deck = decks[path.stem]
    first = next(c for c in deck.cells if slideshow.slide_type(c) not in ("skip", "notes"))
    assert first is deck.cells[0], f"{path.name}: the first cell shown is not the notebook's first cell"
    assert first.cell_type == "markdown" and first.source.lstrip().startswith("# "), \
        f"{path.name}: the deck must open with the title cell (# ...)"
    assert slideshow.slide_type(first) == "slide", f"{path.name}: the title cell must be a slide"


@pytest.mark.parametrize("path", ALL, ids=IDS)
def test_no_slide_overflows(path, decks):
    deck = decks[path.stem]
    known = LONG_SECTION_OPENINGS.get(path.stem, set())
    over, seen = [], set()
    for first, cells, lines in slideshow.slides(deck):
        if lines <= slideshow.MAX_LINES:
            continue
        cell = deck.cells[first]
        if cell.get("id") in known and cells == [first]:
            seen.add(cell.get("id"))
            continue
        over.append(f"the slide opened by cell {first} ({cell.get('id')}, {cell.source[:40]!r}) holds "
                    f"{lines:g} lines > {slideshow.MAX_LINES}")
    assert not over, (f"{path.name}: " + "; ".join(over) + ". Re-run `.venv/bin/python slides/slideshow.py "
                      f"{path.relative_to(ROOT)}` (it moves cells to subslides, hides long code, moves "
                      "long prose to the notes); a section's opening cell longer than a slide must be split")
    assert seen == known, (f"{path.name}: cells {sorted(known - seen)} no longer overflow their slide: "
                           "remove them from LONG_SECTION_OPENINGS")


def test_the_long_section_list_names_only_notebooks_that_exist():
    assert set(LONG_SECTION_OPENINGS) <= set(IDS)


def _notebook(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def _code(source, *outputs, **meta):
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    cell.metadata.update(meta)
    return cell


def test_the_rule_on_a_small_notebook():
    listing = "<div><b>f</b><div class=\"highlight\"><pre>" + "line\n" * 60 + "</pre></div></div>"
    figure = base64.b64encode(b"\x89PNG\r\n\x1a\n" + struct.pack(">I4sII", 13, b"IHDR", 800, 300)
                              + b"\x08\x06\x00\x00\x00").decode()  # the header of an 800 x 300 PNG
    nb = _notebook(
        nbformat.v4.new_markdown_cell("# 99 Title\n\nWhat it is about."),
        _code("from course_utils import setup_notebook\n\nSEED = setup_notebook()"),
        nbformat.v4.new_markdown_cell("## 1. A section\n\nThe idea."),
        _code("show_source(f)", {"output_type": "execute_result", "execution_count": 1, "metadata": {},
                                 "data": {"text/html": listing, "text/plain": "f"}}),
        _code("\n".join(f"x{i} = {i}" for i in range(40)),
              {"output_type": "display_data", "metadata": {}, "data": {"image/png": figure}}),
        nbformat.v4.new_markdown_cell("What the figure shows."),
        _code("assert 1 + 1 == 2\nimport math"),
        _code("print(1)", {"output_type": "stream", "name": "stdout", "text": "1\n"},
              nbgrader={"grade": True, "solution": False, "grade_id": "t", "locked": True, "points": 1}),
        _code("\n".join(f"y{i} = {i}" for i in range(40))),
        nbformat.v4.new_markdown_cell("A long comment.\n\n" + "More words here.\n\n" * 40),
        _code("print('short')", {"output_type": "stream", "name": "stdout", "text": "short\n"}),
    )
    before = copy.deepcopy(nb)
    assert slideshow.apply(nb)
    kinds = [slideshow.slide_type(c) for c in nb.cells]
    assert kinds[0] == "slide" and kinds[2] == "slide", "the title and each ## section start a slide"
    assert kinds[1] == "skip", "the setup cell prints nothing and shows only imports: skipped"
    assert kinds[3] == "notes", "a listing longer than a slide goes to the speaker notes"
    assert kinds[4] in ("-", "subslide") and slideshow.HIDE_CODE_TAG in nb.cells[4].metadata["tags"], \
        "a long cell with a figure keeps the figure and hides its code"
    assert kinds[5] == "fragment", "a comment on the result just shown appears on the next click"
    assert kinds[6] == "skip" and kinds[7] == "skip", "assert-only cells and graded tests are skipped"
    assert kinds[8] == "skip", "long code that shows nothing is skipped"
    assert kinds[9] == "notes", "prose longer than a slide goes to the notes"
    assert kinds[10] in ("-", "subslide")
    for old, new in zip(before.cells, nb.cells):
        assert (old.source, old.get("outputs"), old.id) == (new.source, new.get("outputs"), new.id), \
            "the rule writes metadata only"
    assert not slideshow.apply(nb), "a second run changes nothing"


def test_applying_the_rule_to_a_notebook_changes_metadata_only():
    nb = nbformat.read(ALL[1], as_version=4)
    again = copy.deepcopy(nb)
    slideshow.apply(again)
    for old, new in zip(nb.cells, again.cells):
        assert (old.source, old.get("outputs"), old.id, old.cell_type) == \
               (new.source, new.get("outputs"), new.id, new.cell_type)
    assert nb.metadata == again.metadata and len(nb.cells) == len(again.cells)


# --- two decks built as `make slides` builds them --------------------------------------------------

SAMPLE = [p for p in ALL if p.stem.startswith(("02_", "05_"))]  # figures, math, an explorer, animations
REMOTE = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//|"""
                    r"""@import\s+(?:url\()?\s*["']?\s*(?:https?:)?//|import\s[^;]*from\s*["'](?:https?:)?//""",
                    re.IGNORECASE)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    node_assets.require("reveal.js/dist/reveal.js")
    build = _load("build", "_course_slides_build")
    out = tmp_path_factory.mktemp("slides")
    start = time.perf_counter()
    decks = build.build(out, SAMPLE)
    print(f"\n{len(decks)} decks built in {time.perf_counter() - start:.1f} s")
    return out, decks


def test_decks_load_reveal_js_and_mathjax_from_beside_them(built):
    out, decks = built
    assert [d.name for d in decks] == [p.stem + ".slides.html" for p in SAMPLE]
    for deck in decks:
        text = deck.read_text(encoding="utf-8")
        for local in ('src="reveal.js/dist/reveal.js"', 'src="reveal.js/plugin/notes/notes.js"',
                      'href="reveal.js/dist/reveal.css"', 'src="mathjax/tex-chtml-full.js"'):
            assert local in text, f"{deck.name} does not load {local}"
            assert (out / local.split('"')[1]).is_file(), f"{local} is not beside the deck"
        theme = re.search(r'href="(reveal\.js/dist/theme/[\w-]+\.css)"', text)
        assert theme and (out / theme.group(1)).is_file(), f"{deck.name}: no local reveal.js theme"
        theme_css = (out / theme.group(1)).read_text(encoding="utf-8")
        assert not REMOTE.search(theme_css), f"{theme.group(1)} imports from another host (a web font?)"
        assert (out / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()


def test_decks_load_nothing_from_another_host(built):
    _, decks = built
    for deck in decks:
        text = deck.read_text(encoding="utf-8")
        found = REMOTE.findall(text)
        assert not found, f"{deck.name} loads from another host: {found[:3]}"
        for cdn in ("unpkg.com", "cdnjs.cloudflare.com", "cdn.jsdelivr.net", "fonts.googleapis.com"):
            assert cdn not in text, f"{deck.name} names the CDN {cdn}"


def test_decks_show_the_learners_copy_and_hide_what_the_metadata_hides(built):
    _, decks = built
    for path, deck in zip(SAMPLE, decks):
        shown = html.unescape(re.sub(r"<[^>]+>", "", deck.read_text(encoding="utf-8")))  # the text as read
        nb = nbformat.read(path, as_version=4)
        assert "BEGIN SOLUTION" not in shown and "BEGIN HIDDEN TESTS" not in shown
        assert "raise NotImplementedError()" in shown, f"{deck.name}: the exercises' stubs are missing"
        assert deck.read_text(encoding="utf-8").count("<section") >= len(slideshow.slides(nb))
        hidden = visible = 0
        for cell in nb.cells:
            if cell.cell_type != "code" or slideshow.slide_type(cell) in ("skip", "notes") or \
                    cell.metadata.get("nbgrader", {}).get("solution"):
                continue
            line = max(cell.source.splitlines(), key=len)  # its longest line, unlikely to be elsewhere
            if slideshow.HIDE_CODE_TAG in cell.metadata.get("tags", []):
                hidden += 1
                assert line not in shown, f"{deck.name}: cell {cell.id} is tagged {slideshow.HIDE_CODE_TAG} but shown"
            else:
                visible += 1
                assert line in shown, f"{deck.name}: the code of cell {cell.id} is missing"
        assert hidden and visible
