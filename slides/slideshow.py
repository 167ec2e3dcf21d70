"""Slideshow metadata of the course notebooks: the rule that writes it and the measure that checks it.

A lecturer projects a notebook as a reveal.js deck (``make slides``, or live
from JupyterLab with jupyterlab-rise).  Each cell's
``metadata["slideshow"]["slide_type"]`` says where it goes:

* the title cell (the first markdown cell, ``# ...``) and every markdown cell
  that opens with a ``## `` heading start a **slide**; ``### `` opens a
  **subslide** (reveal.js stacks subslides under their slide);
* the picture, the idea, the code and the result follow on the same slide
  (``-``) until the next cell would overflow it; that cell then opens a
  **subslide**; a markdown cell that comments the result just shown on the same
  slide is a **fragment** (it appears on the next click);
* the set-up cell (``setup_notebook()`` and the imports) shows only its
  output (the opening picture, if it draws one), or is **skip**;
* graded test cells and cells that only check (asserts, imports, nothing
  printed) are **skip**: the deck keeps the exercise text and the answer cell;
* a code cell too long for a slide whose output is worth showing (a figure, a
  table, several printed lines) keeps its output and hides its code in the
  deck (the tag ``slides-hide-code``, which ``make slides`` passes to
  nbconvert's TagRemovePreprocessor); one whose output is a ``show_source``
  listing longer than a slide goes to the speaker **notes** (reveal.js's
  speaker view, key ``S``); any other one is **skip**;
* a markdown cell longer than a slide that opens no section (prose that
  comments a figure at length) goes to the speaker **notes**: the lecturer
  says it while the figure is on the screen.  A section's opening cell longer
  than a slide stays a slide and overflows: split it (the slides test lists
  those cells).

The measure: a slide holds at most :data:`MAX_LINES` lines on the 960 x 700
reveal.js page of nbconvert's template (20 px text, 19 px code, about
:data:`LINE_PX` pixels a line).  A code line or an output text line is one
line (``pre`` does not wrap); a markdown line counts once per
:data:`MARKDOWN_WIDTH` characters, a blank line half, a heading two, a
collapsed ``<details>`` hint one; each cell adds :data:`CELL_GAP` for the
space between cells, a code box one for its padding; an image counts its displayed height
(scaled to the slide's width) in lines, and two for its margins; a matplotlib animation its frame plus
two lines of controls.

Cells are measured as the deck shows them (:func:`deck_version`): the
learner's copy with the committed outputs and every widget made static, as on
the static site.

Run ``python slides/slideshow.py NOTEBOOK...`` to (re)write the metadata: it
only sets ``slideshow`` and the ``slides-hide-code`` tag, never sources,
outputs or cell ids, and running it twice changes nothing.
"""

from __future__ import annotations

import ast
import base64
import importlib.util
import math
import re
import struct
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]

#: Lines a slide may hold (text, code and outputs).
MAX_LINES = 28
#: Pixels of one line of the deck (so that an image can be measured in lines).
LINE_PX = 25
#: Width in pixels left to an output on a slide (960 minus margins; the decks show no prompts).
SLIDE_WIDTH_PX = 900
#: Lines of space between two cells on a slide.
CELL_GAP = 1
#: Characters of a markdown line before it wraps on a slide.
MARKDOWN_WIDTH = 90
#: The tag that hides a cell's code (not its outputs) in the deck.
HIDE_CODE_TAG = "slides-hide-code"
#: The slide types nbconvert and RISE know.
SLIDE_TYPES = ("slide", "subslide", "fragment", "-", "skip", "notes")


def deck_version(nb):
    """What a deck shows of ``nb``: the learner's copy (solutions and hidden tests removed) with its
    committed outputs, every widget replaced by static outputs (the explorer's first view, a progress
    bar's final text).  The same cells in the same order: the static site's ``site_version`` and
    ``staticize_widgets`` (docs/prepare_site.py), reused here so that the site and the decks agree."""
    spec = importlib.util.spec_from_file_location("prepare_site", ROOT / "docs" / "prepare_site.py")
    site = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(site)
    deck = site.site_version(nb)
    site.staticize_widgets(deck)
    assert len(deck.cells) == len(nb.cells)
    return deck


# --- the measure -----------------------------------------------------------------------------------

def _png_size(data: str) -> tuple:
    raw = base64.b64decode(data[:64])
    width, height = struct.unpack(">II", raw[16:24])
    return width, height


def image_lines(width: int, height: int) -> int:
    """Lines an image of ``width`` x ``height`` pixels takes on a slide."""
    scale = min(1.0, SLIDE_WIDTH_PX / width) if width else 1.0
    return max(1, math.ceil(height * scale / LINE_PX)) + 2  # and the output area's margins


def markdown_lines(source: str) -> float:
    """Lines a markdown cell takes on a slide (see the module's docstring)."""
    lines = 0.0
    in_details = False
    for line in source.splitlines():
        stripped = line.strip()
        if in_details:
            if "</details>" in stripped:
                in_details = False
            continue
        if stripped.startswith("<details>"):
            lines += 1  # the collapsed "Hint" line
            in_details = "</details>" not in stripped
            continue
        if not stripped:
            lines += 0.5
        elif stripped.startswith("#"):
            lines += 2
        elif re.fullmatch(r"\|?[\s:|-]+\|?", stripped):
            continue  # a table's header rule
        elif stripped.startswith("|"):
            lines += math.ceil(len(stripped) / MARKDOWN_WIDTH) + 0.5  # a table row and its padding
        else:
            lines += max(1, math.ceil(len(stripped) / MARKDOWN_WIDTH))
    return lines


def _text_lines(text: str) -> int:
    return len(text.rstrip("\n").splitlines()) if text.strip() else 0


def output_lines(output) -> float:
    """Lines one output takes on a slide."""
    kind = output.get("output_type")
    if kind == "stream":
        return _text_lines(output.get("text", ""))
    if kind == "error":
        return _text_lines("\n".join(output.get("traceback", [])))
    data = output.get("data", {})
    if "application/vnd.jupyter.widget-view+json" in data:
        return 2  # a progress bar or a widget's controls (its figure is drawn live)
    if "image/png" in data:
        return image_lines(*_png_size(data["image/png"]))
    html = data.get("text/html")
    if html is not None:
        if "<script" in html and "anim" in html.lower():  # matplotlib's JavaScript animation
            match = re.search(r'<img id="_anim_img[^>]*>', html)
            frames = re.findall(r'data:image/png;base64,([A-Za-z0-9+/=]{64})', html)
            if frames:
                return image_lines(*_png_size(frames[0])) + 2
            return 12 if match is None else 12
        plain = data.get("text/plain")
        if "highlight" in html:  # a show_source listing: its name, then the code
            return 1 + _text_lines(re.sub(r"<[^>]+>", "", html.split("<pre", 1)[-1]))
        rows = html.count("<tr")
        if rows:
            return rows
        text = re.sub(r"<[^>]+>", "", html).strip()
        return sum(max(1, math.ceil(len(line) / MARKDOWN_WIDTH)) for line in text.splitlines()) + 1
    for mime in ("text/markdown", "text/latex", "text/plain"):
        if mime in data:
            return _text_lines(data[mime])
    return 0


def cell_lines(cell, hide_code: bool | None = None) -> float:
    """Lines a cell takes on a slide: its source (unless its code is hidden), its outputs and the gap
    between cells."""
    if cell.cell_type == "markdown":
        return markdown_lines(cell.source) + CELL_GAP
    if hide_code is None:
        hide_code = HIDE_CODE_TAG in cell.metadata.get("tags", [])
    code = 0 if hide_code else max(1, _text_lines(cell.source)) + 1  # the code box's padding
    if cell.cell_type != "code":
        return code + CELL_GAP
    return code + sum(output_lines(o) for o in cell.get("outputs", [])) + CELL_GAP


def slide_type(cell) -> str | None:
    return cell.metadata.get("slideshow", {}).get("slide_type")


def slides(nb) -> list:
    """The deck as reveal.js shows it: a list of (first cell index, [cell indices shown], lines)."""
    deck = []
    for index, cell in enumerate(nb.cells):
        kind = slide_type(cell)
        if kind in ("skip", "notes"):
            continue
        if kind in ("slide", "subslide") or not deck:
            deck.append([index, [], 0.0])
        deck[-1][1].append(index)
        deck[-1][2] += cell_lines(cell)
    return [tuple(s) for s in deck]


# --- the rule --------------------------------------------------------------------------------------

def _is_listing(output) -> bool:
    data = output.get("data", {})
    return "text/html" in data and "highlight" in data["text/html"] and "text/plain" in data


def _only_checks(cell) -> bool:
    """A code cell of asserts and imports only (and whose outputs print nothing)."""
    try:
        body = ast.parse(cell.source).body
    except SyntaxError:
        return False
    if not body or any(not isinstance(s, (ast.Assert, ast.Import, ast.ImportFrom)) for s in body):
        return False
    return all(output_lines(o) == 0 for o in cell.get("outputs", []))


def _graded_test(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def _worth_showing(cell) -> bool:
    """Outputs a lecturer shows without their code: a figure, an animation, a table, a few lines."""
    outputs = cell.get("outputs", [])
    if any("image/png" in o.get("data", {}) or "text/html" in o.get("data", {}) for o in outputs):
        return True
    return sum(output_lines(o) for o in outputs) >= 2


def plan(nb) -> list:
    """The slideshow of ``nb`` (an instructor notebook): a list of (slide_type, hide_code) per cell.

    Its cells are measured as its deck shows them (:func:`deck_version`)."""
    return _plan(deck_version(nb))


def _plan(nb) -> list:
    result = []
    used = 0.0
    previous_code_on_slide = False
    title_done = False
    for cell in nb.cells:
        hide = False
        if cell.cell_type == "markdown":
            text = cell.source.lstrip()
            lines = cell_lines(cell)
            if not title_done and text.startswith("# "):
                kind, title_done = "slide", True
            elif text.startswith("## ") or not result:
                kind = "slide"
            elif text.startswith("### "):
                kind = "subslide"
            elif lines > MAX_LINES:
                result.append(("notes", hide))  # prose longer than a slide: the lecturer's notes
                continue
            elif used + lines > MAX_LINES:
                kind = "subslide"
            elif previous_code_on_slide:
                kind = "fragment"
            else:
                kind = "-"
            used = lines if kind in ("slide", "subslide") else used + lines
            previous_code_on_slide = False if kind in ("slide", "subslide") else previous_code_on_slide
            result.append((kind, hide))
            continue
        if cell.cell_type != "code":
            result.append(("skip", False))
            continue
        outputs = cell.get("outputs", [])
        if _graded_test(cell) or _only_checks(cell):
            result.append(("skip", False))
            continue
        lines = cell_lines(cell, hide_code=False)
        if "setup_notebook(" in cell.source:  # the set-up cell: imports; its picture, if any, is shown
            hide, lines = True, cell_lines(cell, hide_code=True)
            if not _worth_showing(cell) or lines > MAX_LINES:
                result.append(("skip", False))
                continue
        if lines > MAX_LINES and not hide:
            output_only = cell_lines(cell, hide_code=True)
            if any(_is_listing(o) for o in outputs) and output_only > MAX_LINES:
                result.append(("notes", False))
                continue
            if output_only > MAX_LINES or output_only == CELL_GAP or not _worth_showing(cell):
                result.append(("skip", False))
                continue
            hide, lines = True, output_only
        if not result:
            kind = "slide"
        elif used + lines > MAX_LINES:
            kind = "subslide"
        else:
            kind = "-"
        used = lines if kind in ("slide", "subslide") else used + lines
        previous_code_on_slide = True
        result.append((kind, hide))
    return result


def apply(nb) -> bool:
    """Write the plan into ``nb``'s cell metadata; return whether anything changed."""
    changed = False
    for cell, (kind, hide) in zip(nb.cells, plan(nb)):
        if cell.metadata.get("slideshow") != {"slide_type": kind}:
            cell.metadata["slideshow"] = {"slide_type": kind}
            changed = True
        tags = list(cell.metadata.get("tags", []))
        if hide and HIDE_CODE_TAG not in tags:
            tags.append(HIDE_CODE_TAG)
        elif not hide and HIDE_CODE_TAG in tags:
            tags.remove(HIDE_CODE_TAG)
        if tags != list(cell.metadata.get("tags", [])):
            changed = True
            if tags:
                cell.metadata["tags"] = tags
            else:
                del cell.metadata["tags"]
    return changed


def main(paths) -> int:
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        if apply(nb):
            nbformat.write(nb, path)
            print(f"slideshow metadata written: {path}")
        else:
            print(f"unchanged: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
