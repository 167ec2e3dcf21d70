"""The static site (``make site`` -> build/site/) in a real browser, served from this machine.

``make test-browser`` builds the site first. A small HTTP server (Python's
``http.server`` in a thread) serves build/site/ on a free local port; headless
Chromium opens the home page (the course map) and one notebook page, and
checks that each renders: a title, images that loaded, no console error, no
uncaught script error, and no request to any other host (MathJax and every
other asset come with the site). On the notebook page, the math must be
typeset by MathJax (``mjx-container`` elements, none reporting an error), and
an animation must play without a kernel. The course map has no formula, so
math is checked on the notebook page only.
"""

from __future__ import annotations

import functools
import http.server
import os
from pathlib import Path
import threading

import pytest

#: The built site (``COURSE_SITE_DIR`` points the test at another build).
SITE = Path(os.environ.get("COURSE_SITE_DIR", Path(__file__).resolve().parents[2] / "build" / "site"))
#: A notebook page with formulas, figures and animations.
NOTEBOOK_PAGE = "2_convolution/05_convolution_arithmetic.html"
MATHJAX_TIMEOUT_MS = 60_000

IMAGES_JS = """() => Array.from(document.images).map(i => ({src: i.src.slice(0, 80), ok: i.complete && i.naturalWidth > 0}))"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def site():
    """build/site/ served on 127.0.0.1 (a free port) for the module's tests."""
    if not (SITE / "index.html").exists():
        pytest.fail(f"{SITE}/index.html is missing: build the site with `make site` (make test-browser does)")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def open_page(page, url):
    """Open ``url``, wait for the page and its assets; return the HTTP status."""
    response = page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    return response.status


def check_rendered(page, name):
    """Title, at least one loaded image and every image loaded, no console or page error."""
    title = page.title()
    assert title.strip(), f"{name}: no <title>"
    assert page.locator("main h1, article h1, h1").first.inner_text().strip(), f"{name}: no heading"
    images = page.evaluate(IMAGES_JS)
    assert images, f"{name}: no image"
    broken = [image["src"] for image in images if not image["ok"]]
    assert not broken, f"{name}: {len(broken)} of {len(images)} images did not load: {broken[:3]}"
    assert not page.log.page_errors, f"{name}: uncaught errors: {page.log.page_errors[:3]}"
    # A browser asks every site for /favicon.ico; the site has none (a 404 the
    # page never asked for): that one message is not counted.
    errors = [e for e in page.log.console_errors if "/favicon.ico)" not in e]
    hint = ""
    if any("invalid theme mode" in e for e in errors):
        hint = (" (pydata-sphinx-theme logs this when default_mode is empty: "
                "html_context = {'default_mode': 'light'} in docs/conf.py)")
    assert not errors, f"{name}: console errors: {errors[:3]}{hint}"
    return title, len(images)


def test_home_page(page, site, shots):
    assert open_page(page, f"{site}/index.html") == 200
    title, images = check_rendered(page, "index.html")
    page.screenshot(path=shots / "site_home.png")
    # Navigation to the notebook pages is there.
    assert page.locator("a[href$='01_images_and_gradients.html']").count() >= 1, "no link to the first notebook"
    print(f"site home: {title!r}, {images} images loaded, {len(page.log.requests)} requests, all local")


def test_notebook_page(page, site, shots):
    assert open_page(page, f"{site}/{NOTEBOOK_PAGE}") == 200
    page.wait_for_selector("mjx-container", timeout=MATHJAX_TIMEOUT_MS)
    # MathJax typesets in passes: wait until no math element is left untypeset.
    page.wait_for_function("() => document.querySelectorAll('mjx-container').length >= "
                           "document.querySelectorAll('.math').length", timeout=MATHJAX_TIMEOUT_MS)
    title, images = check_rendered(page, NOTEBOOK_PAGE)
    math = page.locator("mjx-container").count()
    assert page.locator("mjx-merror").count() == 0, "MathJax reports an error in a formula"
    page.screenshot(path=shots / "site_notebook.png")
    page.locator("mjx-container").first.screenshot(path=shots / "site_math.png")
    # An animation plays in the static page (no kernel).
    animation = page.locator(".course-animation").first
    image = animation.locator("img")
    before = image.get_attribute("src")
    animation.locator("button[id$='_play']").click()
    page.wait_for_function("([img, src]) => img.getAttribute('src') !== src",
                           arg=[image.element_handle(), before], timeout=10_000)
    animation.locator("button[id$='_play']").click()
    print(f"site {NOTEBOOK_PAGE}: {title!r}, {images} images loaded, {math} formulas typeset by MathJax, "
          f"animation plays, {len(page.log.requests)} requests, all local")
