"""Matplotlib animations embedded in a notebook as deterministic HTML.

An animation is a figure plus a function that updates it for each frame.
:func:`animate` draws every frame once, stores them as PNG images and returns
an :class:`Animation`, which a notebook displays as a small self-contained
player (slider, play/pause, previous/next) written in plain HTML and
JavaScript:

* nothing is loaded from the network (no icon fonts, no CDN);
* the HTML is byte-identical from one run to the next (element ids come from
  a hash of the frames, PNG files carry no software metadata), so nbval can
  compare the committed output in strict mode;
* the figure is closed after the frames are drawn, so it is not shown a
  second time as a static image;
* the starting frame is also in the ``<img>`` tag itself, so a viewer that
  runs no JavaScript (an untrusted notebook, GitHub, nbviewer) still shows
  one picture.

Example (a point moving along a parabola)::

    import matplotlib.pyplot as plt
    from course_utils.viz.animation import animate

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.set(xlim=(-1, 1), ylim=(0, 1))
    point, = ax.plot([], [], "o")

    def update(t):
        point.set_data([t], [t * t])

    animate(fig, update, frames=[-1, -0.5, 0, 0.5, 1], fps=2)  # last value of a cell

Keep animations small (a few dozen frames, small figures, the notebooks'
72 dpi): every frame is embedded in the notebook file.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
import hashlib
import io
import itertools

from .._checks import check_choice, check_int, check_number

__all__ = [
    "MAX_FRAMES",
    "Animation",
    "animate",
]


#: Most frames one animation may hold; more usually means a frame list that
#: was meant to be subsampled, and would bloat the notebook file.
MAX_FRAMES = 200

_MODES = ("loop", "once", "reflect")

# Counts players created in this process, so that two identical animations
# shown in one notebook still get different element ids (deterministic: a
# notebook run top to bottom creates them in the same order every time).
_COUNTER = itertools.count()


class Animation:
    """Frames of an animation, displayed in a notebook as an HTML player.

    Create one with :func:`animate`. ``frames`` holds the PNG bytes of each
    frame; :meth:`to_html` gives the player's HTML (what the notebook shows).

    Parameters
    ----------
    frames : list of bytes
        PNG images, all of the same size.
    fps : float
        Frames per second when playing.
    mode : {"loop", "once", "reflect"}
        What the player does after the last frame: start again, stop, or play
        backwards.
    start : int
        Index of the frame shown before the learner presses play (and the
        frame a static export shows).
    """

    def __init__(self, frames, fps=2.0, mode="loop", start=0):
        if not isinstance(frames, (list, tuple)) or not frames:
            raise ValueError("frames must be a non-empty list of PNG images (bytes)")
        for i, frame in enumerate(frames):
            if not isinstance(frame, (bytes, bytearray)) or not bytes(frame[:8]) == b"\x89PNG\r\n\x1a\n":
                raise TypeError(f"frames[{i}] must be the bytes of a PNG image")
        self.frames = [bytes(f) for f in frames]
        self.fps = check_number(fps, "fps", minimum=0, strict_minimum=True)
        self.mode = check_choice(mode, "mode", _MODES)
        self.start = check_int(start, "start", minimum=0, maximum=len(self.frames) - 1)
        digest = hashlib.sha256()
        for frame in self.frames:
            digest.update(frame)
        self._id = f"cuanim{digest.hexdigest()[:12]}_{next(_COUNTER)}"

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return len(self.frames)

    def __len__(self) -> int:
        return len(self.frames)

    def __repr__(self) -> str:
        return f"<Animation: {self.n_frames} frames at {self.fps:g} fps>"

    def to_html(self) -> str:
        """Self-contained HTML and JavaScript of the player."""
        uid = self._id
        sources = ",\n".join(
            f'"data:image/png;base64,{base64.b64encode(f).decode("ascii")}"' for f in self.frames
        )
        # The starting frame is also written into the <img> itself, so that it
        # shows where scripts do not run (untrusted notebooks, static viewers).
        first = base64.b64encode(self.frames[self.start]).decode("ascii")
        interval = max(1, round(1000 / self.fps))
        last = self.n_frames - 1
        button = 'style="min-width:2.2em;margin:0 1px;padding:1px 4px"'
        return f"""<div class="course-animation" id="{uid}" style="display:inline-block;text-align:center">
<img id="{uid}_img" alt="frame {self.start + 1} of {self.n_frames}" src="data:image/png;base64,{first}"
 style="display:block;margin:auto">
<div style="margin-top:4px;font-family:sans-serif;font-size:12px">
<button {button} title="first frame" onclick="{uid}.set(0)">|&lt;</button>
<button {button} title="previous frame" onclick="{uid}.step(-1)">&lt;</button>
<button {button} title="play / pause" id="{uid}_play" onclick="{uid}.toggle()">play</button>
<button {button} title="next frame" onclick="{uid}.step(1)">&gt;</button>
<button {button} title="last frame" onclick="{uid}.set({last})">&gt;|</button>
<input id="{uid}_slider" type="range" min="0" max="{last}" step="1" value="{self.start}"
 style="vertical-align:middle;width:160px" oninput="{uid}.set(parseInt(this.value))">
<span id="{uid}_label">frame {self.start + 1} / {self.n_frames}</span>
</div>
</div>
<script>
var {uid} = (function() {{
  var frames = [
{sources}];
  var mode = "{self.mode}", interval = {interval}, index = {self.start}, direction = 1, timer = null;
  function el(suffix) {{ return document.getElementById("{uid}" + suffix); }}
  function set(i) {{
    index = Math.max(0, Math.min(frames.length - 1, i));
    el("_img").src = frames[index];
    el("_slider").value = index;
    el("_label").textContent = "frame " + (index + 1) + " / " + frames.length;
  }}
  function tick() {{
    var next = index + direction;
    if (next < 0 || next >= frames.length) {{
      if (mode === "loop") {{ next = 0; }}
      else if (mode === "reflect") {{ direction = -direction; next = index + direction; }}
      else {{ pause(); return; }}
    }}
    set(next);
  }}
  function pause() {{ if (timer) {{ clearInterval(timer); timer = null; }} el("_play").textContent = "play"; }}
  function play() {{
    if (timer) return;
    if (mode === "once" && index === frames.length - 1) set(0);
    timer = setInterval(tick, interval);
    el("_play").textContent = "pause";
  }}
  function toggle() {{ if (timer) pause(); else play(); }}
  function step(d) {{ pause(); set(index + d); }}
  setTimeout(function() {{ set(index); }}, 0);
  return {{set: function(i) {{ pause(); set(i); }}, step: step, toggle: toggle, play: play, pause: pause}};
}})();
</script>"""

    def _repr_html_(self) -> str:
        return self.to_html()

    def save_html(self, path) -> None:
        """Write the player to an HTML file (UTF-8)."""
        from pathlib import Path

        Path(path).write_text(f"<!DOCTYPE html>\n<meta charset=\"utf-8\">\n{self.to_html()}\n",
                              encoding="utf-8")


def _png_bytes(fig, dpi) -> bytes:
    buffer = io.BytesIO()
    # No "Software" metadata: the bytes do not depend on matplotlib's version.
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def _palette_png(png, colors) -> bytes:
    """The PNG ``png`` re-encoded with a palette of at most ``colors`` colours (octree: keeps small coloured lines)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=colors, method=Image.Quantize.FASTOCTREE)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def animate(fig, update: Callable, frames, *, fps=2.0, mode="loop", start=0, dpi=None,
            close=True, colors=None) -> Animation:
    """Draw ``update(frame)`` for each frame on ``fig`` and return an :class:`Animation`.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to draw on. Create its axes and artists first; ``update``
        changes them (``set_data``, ``set_text``, ``ax.clear()`` and redraw ...).
    update : callable
        Called as ``update(frame)`` with each element of ``frames``, in order,
        before that frame is captured. Its return value is ignored.
    frames : int or iterable
        An integer n means ``range(n)``; otherwise the values passed to
        ``update`` (for example a list of optimizer steps or of positions).
        At most :data:`MAX_FRAMES` frames.
    fps : float
        Frames per second when playing (> 0).
    mode : {"loop", "once", "reflect"}
        What to do after the last frame.
    start : int
        Frame shown before pressing play.
    dpi : int, optional
        Resolution of the frames; the figure's own dpi by default (72 in the
        course's notebooks). Frame size = figure size in inches x dpi.
    close : bool
        Close the figure afterwards (default), so that the notebook does not
        show it again as a static picture.
    colors : int, optional
        Store each frame with a palette of at most this many colours (2 to
        256) instead of full colour: line plots on a white background lose
        nothing visible and the file is several times smaller, which leaves
        room for a larger figure or more frames. Default: full colour.

    Returns
    -------
    Animation
        Displays as an HTML player when it is the value of a cell; its
        ``frames`` attribute holds the PNG bytes of every frame.
    """
    from matplotlib.figure import Figure
    import matplotlib.pyplot as plt

    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    if not callable(update):
        raise TypeError(f"update must be a callable taking one frame, got {type(update).__name__}")
    if isinstance(frames, bool):
        raise TypeError("frames must be an integer or an iterable of frame values, got a bool")
    if isinstance(frames, int):
        frames = range(check_int(frames, "frames", minimum=1, maximum=MAX_FRAMES))
    elif isinstance(frames, (str, bytes)) or not isinstance(frames, Iterable):
        raise TypeError(f"frames must be an integer or an iterable of frame values, got {frames!r}")
    if dpi is not None:
        dpi = check_int(dpi, "dpi", minimum=10)
    if colors is not None:
        colors = check_int(colors, "colors", minimum=2, maximum=256)
    images = []
    try:
        for value in frames:
            if len(images) == MAX_FRAMES:
                raise ValueError(f"frames must hold at most {MAX_FRAMES} frames")
            update(value)
            png = _png_bytes(fig, dpi if dpi is not None else fig.dpi)
            images.append(png if colors is None else _palette_png(png, colors))
    finally:
        if close:
            plt.close(fig)
    if not images:
        raise ValueError("frames must hold at least one frame, got an empty iterable")
    return Animation(images, fps=fps, mode=mode, start=start)
