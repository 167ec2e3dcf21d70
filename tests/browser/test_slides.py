"""One lecture deck (``make slides`` -> build/slides/) stepped through in a real browser.

``make test-browser`` builds the decks first. build/slides/ is served on a free
local port (Python's ``http.server`` in a thread); headless Chromium opens
the deck of notebook 05 and presses Page Down (what a presenter's clicker
sends; reveal.js's "next": fragments, sub-slides, then the next slide) until
reveal.js reports the last slide. Every key press must move to a
new slide (no slide visited twice), every slide visited must show something,
and the deck must log no console error, throw no script error, and load
nothing from another host (reveal.js and MathJax are served with the decks).
"""

from __future__ import annotations

import functools
import http.server
import os
from pathlib import Path
import threading

import pytest

#: The built decks (``COURSE_SLIDES_DIR`` points the test at another build).
SLIDES = Path(os.environ.get("COURSE_SLIDES_DIR", Path(__file__).resolve().parents[2] / "build" / "slides"))
DECK = "05_convolution_arithmetic.slides.html"
#: A bound on the steps, far above any deck's length.
MAX_STEPS = 400


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def slides():
    """build/slides/ served on 127.0.0.1 (a free port)."""
    if not (SLIDES / DECK).exists():
        pytest.fail(f"{SLIDES / DECK} is missing: build the decks with `make slides` (make test-browser does)")
    handler = functools.partial(_QuietHandler, directory=str(SLIDES))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


STATE_JS = """() => {
  const i = Reveal.getIndices();
  const slide = Reveal.getCurrentSlide();
  return {h: i.h, v: i.v, f: i.f === undefined ? -1 : i.f, last: Reveal.isLastSlide(),
          fragmentsLeft: Reveal.availableFragments().next, text: slide.innerText.trim().length,
          images: slide.querySelectorAll('img').length};
}"""


def test_deck_steps_through(page, slides, shots):
    page.goto(f"{slides}/{DECK}", wait_until="load")
    page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=30_000)
    total = page.evaluate("() => Reveal.getTotalSlides()")
    assert total >= 2, f"{DECK}: {total} slides"
    page.wait_for_timeout(1000)
    page.screenshot(path=shots / "slides_05_first.png")
    seen, empty = set(), []
    state = page.evaluate(STATE_JS)
    steps = 0
    while True:
        key = (state["h"], state["v"], state["f"])
        assert key not in seen, f"{DECK}: step {steps} came back to slide {key}"
        seen.add(key)
        if not state["text"] and not state["images"]:
            empty.append(key)
        if state["last"] and not state["fragmentsLeft"]:
            break
        assert steps < MAX_STEPS, f"{DECK}: not at the last slide after {MAX_STEPS} key presses"
        page.keyboard.press("PageDown")
        # reveal.js moves at once (transitions only animate); wait for the new indices.
        page.wait_for_function("key => { const i = Reveal.getIndices(); "
                               "return [i.h, i.v, i.f === undefined ? -1 : i.f].join() !== key.join(); }",
                               arg=list(key), timeout=10_000)
        state = page.evaluate(STATE_JS)
        steps += 1
        if steps == 5:
            page.wait_for_timeout(1500)  # the slide transition, for the picture only
            page.screenshot(path=shots / "slides_05_step5.png")
    page.wait_for_timeout(1500)
    page.screenshot(path=shots / "slides_05_last.png")
    slides_seen = len({(h, v) for h, v, _ in seen})
    assert slides_seen == total, f"{DECK}: {slides_seen} of {total} slides reached with Page Down"
    assert not empty, f"{DECK}: empty slides {empty[:5]}"
    assert not page.log.page_errors, f"{DECK}: uncaught errors: {page.log.page_errors[:3]}"
    errors = [e for e in page.log.console_errors if "/favicon.ico)" not in e]
    assert not errors, f"{DECK}: console errors: {errors[:3]}"
    print(f"slides {DECK}: {total} slides, {steps} key presses (fragments included), all reached, "
          f"{len(page.log.requests)} requests, all local")
