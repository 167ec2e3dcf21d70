"""Sphinx configuration of the course's static site (``make site``).

The source folder is assembled by ``docs/prepare_site.py`` (learner's copies
with their committed outputs); nothing is executed; MathJax is served from the
site itself (``_static/mathjax``, copied from the npm package), never a CDN.
"""
from pathlib import Path

project = "Computer vision, interactively"
author = "the course authors"
copyright = "the course authors"

extensions = ["myst_nb"]
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

# myst-nb: show the committed outputs, never run a kernel
nb_execution_mode = "off"
nb_ipywidgets_js = {}  # no widget manager from a CDN: prepare_site.py made widgets static
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3

# MathJax 3 from node_modules/mathjax (npm ci), copied into _static/mathjax by prepare_site.py;
# a relative mathjax_path is relative to the built site's _static folder.
mathjax_path = "mathjax/tex-chtml.js"
mathjax3_config = {
    "tex": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]]},
    "options": {"processHtmlClass": "tex2jax_process|mathjax_process|math|output_area"},
}

html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static_site"]  # relative to docs/
html_css_files = ["course.css"]
html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "use_issues_button": False,
    "use_edit_page_button": False,
    "use_source_button": False,
    "navigation_with_keys": False,
}
# pydata-sphinx-theme (under sphinx-book-theme) logs "Got invalid theme mode" in the browser's console
# when no default mode is set; the course's figures are drawn on white, so light it is.
html_context = {"default_mode": "light"}
html_last_updated_fmt = None
html_copy_source = False
html_show_sourcelink = False


ROOT = Path(__file__).resolve().parents[1]
MATHJAX = ROOT / "node_modules" / "mathjax"
#: MathJax's combined components the site does not load (saves ~12 MB).
MATHJAX_UNUSED = ("mml-*.js", "tex-svg*.js", "tex-mml-*.js", "tex-chtml-full*.js")


def _check_mathjax(app):
    if not (MATHJAX / "es5" / "tex-chtml.js").exists():
        raise RuntimeError("node_modules/mathjax is missing: run `npm ci` (make site does it)")


def _copy_mathjax(app, exception):
    """Serve MathJax from the site itself: node_modules/mathjax/es5 -> <site>/_static/mathjax."""
    if exception is not None or app.builder.format != "html":
        return
    import shutil

    target = Path(app.outdir) / "_static" / "mathjax"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(MATHJAX / "es5", target, ignore=shutil.ignore_patterns(*MATHJAX_UNUSED))
    shutil.copy(MATHJAX / "LICENSE", target / "LICENSE")


def setup(app):
    app.connect("builder-inited", _check_mathjax)
    app.connect("build-finished", _copy_mathjax)
