"""The static site (`make site`): built here, once, from the current notebooks.

The fixture runs what `make site` runs (docs/prepare_site.py, then sphinx-build
with -W, so a Sphinx warning — a broken reference, a page missing from the
toc — fails the build) into a temporary folder, offline, nothing executed.
Then: every notebook has a page, in course order; no internal link is broken;
every figure of every notebook is on its page; no solution or hidden test is;
no script, style or image comes from another host; MathJax loads from the
site's own copy.
"""
from __future__ import annotations

import functools
import html
import importlib.util
import os
import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import node_assets
import pytest

from course_utils.exercises import find_notebooks

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
HOME = "00_start_here.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
MATHJAX_SRC = "_static/mathjax/tex-chtml.js"


def page_of(rel: str) -> str:
    """The site page (relative path) of the notebook ``notebooks/<rel>``."""
    return "index.html" if rel == HOME else rel.removesuffix(".ipynb") + ".html"


ALL = [p.relative_to(NOTEBOOKS).as_posix() for p in find_notebooks(NOTEBOOKS)]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    node_assets.require("mathjax/es5/tex-chtml.js")
    tmp = tmp_path_factory.mktemp("site")
    src, out = tmp / "src", tmp / "site"
    start = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "docs" / "prepare_site.py"), "--out", str(src)],
                   check=True, cwd=ROOT, capture_output=True, text=True)
    built = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W", "--keep-going",
         "-c", str(ROOT / "docs"), str(src), str(out)],
        cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    assert built.returncode == 0, f"sphinx-build failed (warnings are errors):\n{built.stderr[-4000:]}"
    pages = [p for p in out.rglob("*.html") if "_static" not in p.relative_to(out).parts]
    print(f"\nsite built in {seconds:.1f} s: {len(pages)} HTML pages, {len(ALL)} notebooks")
    return out


# --- reading HTML ---------------------------------------------------------------------------

class _Page(HTMLParser):
    """Links, ids, images (inside the article), scripts and the text of the article."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str, str]] = []  # (tag, attribute, url)
        self.ids: set[str] = set()
        self.article_imgs = 0
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._article = 0
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and "name" in attrs:
            self.ids.add(attrs["name"])
        for name in ("href", "src"):
            if attrs.get(name):
                self.links.append((tag, name, attrs[name]))
        if tag == "script" and attrs.get("src"):
            self.scripts.append(attrs["src"])
        if tag == "article":
            self._article += 1
        if self._article and tag == "img":
            self.article_imgs += 1
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag == "article":
            self._article -= 1
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data):
        if self._article and not self._skip:
            self.text.append(data)


_cache: dict[Path, _Page] = {}


def parse(path: Path) -> _Page:
    if path not in _cache:
        page = _Page()
        page.feed(path.read_text(encoding="utf-8"))
        _cache[path] = page
    return _cache[path]


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def page_text(path: Path) -> str:
    return squash("".join(parse(path).text))


# --- what a notebook holds ------------------------------------------------------------------

def _html(data) -> str:
    value = data.get("text/html", "")
    return "".join(value) if isinstance(value, list) else value


def _widget_images(state: dict, model_id: str) -> int:
    model = state.get(model_id)
    if model is None:
        return 0
    count = sum(_output_images(o, state) for o in model["state"].get("outputs", []))
    for child in model["state"].get("children", []):
        count += _widget_images(state, child.removeprefix("IPY_MODEL_"))
    return count


def _output_images(output: dict, state: dict) -> int:
    data = output.get("data", {})
    if WIDGET_VIEW in data:
        return _widget_images(state, data[WIDGET_VIEW]["model_id"])
    if any(k.startswith("image/") for k in data):
        return 1
    return len(re.findall(r"<img\b", _html(data)))


def figure_count(nb) -> int:
    """Figures a notebook shows: image outputs, <img> in HTML outputs (animations), images of its widgets."""
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    return sum(_output_images(o, state) for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def marked_lines(source: str, begin: str, end: str) -> list[str]:
    lines, inside = [], False
    for line in source.splitlines():
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside:
            lines.append(squash(line))
    return lines


def plain(text: str) -> str:
    """Text without Markdown's emphasis and code marks (the page shows ``x`` as x), squashed."""
    return squash(text.replace("`", "").replace("*", ""))


def distinctive(lines, public: str) -> list[str]:
    """Lines long enough to be specific, that nothing the learner sees contains (compared as plain())."""
    return [plain(l) for l in lines if len(l) >= 16 and not l.startswith("#") and plain(l) not in public]


def _prepare_site():
    """docs/prepare_site.py as a module (loaded by path: docs/ is not a package)."""
    if "prepare_site" not in _modules:
        spec = importlib.util.spec_from_file_location("prepare_site", ROOT / "docs" / "prepare_site.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _modules["prepare_site"] = module
    return _modules["prepare_site"]


_modules: dict = {}


@functools.lru_cache(maxsize=None)
def learner_text(rel: str) -> str:
    """Every source and text output of the learner's copy of ``rel`` (with outputs), as plain()."""
    nb = nbformat.read(NOTEBOOKS / rel, as_version=4)
    parts = []
    for cell in _prepare_site().site_version(nb).cells:
        parts.append(cell.source)
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            for key in ("text/plain", "text/html"):
                value = out.get("data", {}).get(key, "")
                parts.append("".join(value) if isinstance(value, list) else value)
    return "\n".join(plain(html.unescape(re.sub(r"<[^>]+>", " ", p))) for p in parts)


# --- the tests ------------------------------------------------------------------------------

def test_every_notebook_has_a_page_in_course_order(site):
    assert (site / "index.html").exists(), "no home page build/site/index.html"
    for rel in ALL:
        page = site / page_of(rel)
        assert page.exists(), f"{rel}: no page {page_of(rel)}"
        title = next(c.source for c in nbformat.read(NOTEBOOKS / rel, as_version=4).cells
                     if c.cell_type == "markdown").splitlines()[0].lstrip("# ").strip()
        assert squash(title) in page_text(page), f"{page_of(rel)} does not show the title {title!r}"
    # the navigation lists the notebooks in course order (their paths sort in course order)
    order = []
    for tag, attr, url in parse(site / "index.html").links:
        path = urlsplit(url).path
        if tag == "a" and re.match(r"\d_[a-z_]+/\d\d_[a-z0-9_]+\.html$", path) and path not in order:
            order.append(path)
    expected = [page_of(rel) for rel in ALL if rel != HOME]
    assert order == expected, f"navigation order {order} is not the course order {expected}"


def test_install_page_has_the_set_up_commands(site):
    text = page_text(site / "install.html")
    for command in ("make lab", "make test", "conda env create -f environment.yml", "make student"):
        assert command in text, f"install.html lacks {command!r}"


def test_open_in_jupyterlab_hint_names_the_file(site):
    for rel in ALL:
        text = page_text(site / page_of(rel))
        assert "Open in JupyterLab" in text, f"{page_of(rel)}: no 'Open in JupyterLab' hint"
        assert f"notebooks/{rel}" in text and f"student/{rel}" in text, f"{page_of(rel)}: the hint does not name {rel}"


def site_pages(site: Path) -> list[Path]:
    """The built pages (not the theme's Jinja macro files that Sphinx copies into _static/)."""
    return sorted(p for p in site.rglob("*.html") if "_static" not in p.relative_to(site).parts)


def test_no_broken_internal_link(site):
    pages = site_pages(site)
    assert len(pages) > len(ALL)
    broken, checked = [], 0
    for page in pages:
        for tag, attr, url in parse(page).links:
            parts = urlsplit(url)
            if parts.scheme or url.startswith("//"):
                continue  # external (checked below: never a script, style or image)
            if not parts.path:
                if parts.fragment and parts.fragment not in parse(page).ids:
                    broken.append(f"{page.relative_to(site)}: #{parts.fragment}")
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            checked += 1
            if not target.exists():
                broken.append(f"{page.relative_to(site)}: {url}")
            elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in parse(target).ids:
                broken.append(f"{page.relative_to(site)}: {url} (no such anchor)")
    assert checked > 1000
    assert not broken, f"{len(broken)} broken internal links, e.g. {broken[:10]}"


@pytest.mark.parametrize("rel", ALL)
def test_every_figure_is_on_its_page(site, rel):
    nb = nbformat.read(NOTEBOOKS / rel, as_version=4)
    expected = figure_count(nb)
    found = parse(site / page_of(rel)).article_imgs
    assert found == expected, f"{rel}: {expected} figures in the notebook, {found} images on {page_of(rel)}"
    animations = sum(_html(o.get("data", {})).count('class="course-animation"')
                     for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    source = (site / page_of(rel)).read_text(encoding="utf-8")
    assert source.count('class="course-animation"') == animations, f"{rel}: animations missing"


def test_figures_and_animations_exist_at_all(site):
    """The per-page counts are not vacuous: the course has many figures and some animations."""
    total = sum(parse(site / page_of(rel)).article_imgs for rel in ALL)
    assert total >= 100
    assert sum((site / page_of(r)).read_text(encoding="utf-8").count('class="course-animation"') for r in ALL) >= 3


@pytest.mark.parametrize("rel", ALL)
def test_no_solution_or_hidden_test_on_the_site(site, rel):
    nb = nbformat.read(NOTEBOOKS / rel, as_version=4)
    public = learner_text(rel)
    text = plain(page_text(site / page_of(rel)))
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code":
            continue
        secret = []
        if meta.get("solution"):
            secret += marked_lines(cell.source, "### BEGIN SOLUTION", "### END SOLUTION")
        if meta.get("grade"):
            secret += marked_lines(cell.source, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
        for line in distinctive(secret, public):
            assert line not in text, f"{rel}: cell {cell.get('id')} leaks {line!r} onto {page_of(rel)}"
        if not meta.get("solution"):
            # the check can see code at all: the shown code of a non-solution cell is on the page
            shown = [plain(l) for l in cell.source.splitlines()
                     if len(squash(l)) >= 16 and "HIDDEN TESTS" not in l]
            hidden = set(marked_lines(cell.source, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"))
            shown = [l for l in shown if l not in {plain(h) for h in hidden}]
            if shown:
                assert shown[0] in text, f"{rel}: code {shown[0]!r} is not found on its page"


def test_solutions_are_checked_at_all():
    """The leak check has lines to look for: most answer cells have a distinctive solution line."""
    cells = checked = 0
    for rel in ALL:
        nb = nbformat.read(NOTEBOOKS / rel, as_version=4)
        public = learner_text(rel)
        for cell in nb.cells:
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
                cells += 1
                checked += bool(distinctive(marked_lines(cell.source, "### BEGIN SOLUTION", "### END SOLUTION"), public))
    assert cells >= 50 and checked >= 0.8 * cells, f"{checked} of {cells} answer cells have a line to check"


def test_no_script_style_or_image_from_another_host(site):
    offenders = []
    for page in site_pages(site):
        source = page.read_text(encoding="utf-8")
        for tag, attr, url in parse(page).links:
            external = urlsplit(url).scheme in ("http", "https") or url.startswith("//")
            if external and (tag != "a"):
                offenders.append(f"{page.relative_to(site)}: <{tag} {attr}={url}>")
        for cdn in ("cdn.jsdelivr.net", "unpkg.com", "cdnjs.cloudflare.com", "googleapis.com"):
            if cdn in source:
                offenders.append(f"{page.relative_to(site)}: mentions {cdn}")
    assert not offenders, f"{len(offenders)} external resources, e.g. {offenders[:10]}"


def test_mathjax_loads_from_the_site(site):
    pages_with_math = 0
    for rel in ALL:
        page = site / page_of(rel)
        if 'class="math' not in page.read_text(encoding="utf-8"):
            continue
        pages_with_math += 1
        scripts = [s for s in parse(page).scripts if "mathjax" in s.lower()]
        assert len(scripts) == 1 and scripts[0].endswith(MATHJAX_SRC), f"{page_of(rel)}: MathJax from {scripts}"
        assert (page.parent / scripts[0]).resolve() == (site / MATHJAX_SRC).resolve()
    assert pages_with_math >= 20
    assert (site / MATHJAX_SRC).stat().st_size > 100_000
    fonts = list((site / "_static/mathjax/output/chtml/fonts/woff-v2").glob("*.woff"))
    assert len(fonts) > 10, "MathJax's fonts are not served with the site"
