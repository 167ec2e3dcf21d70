"""course_utils.animation: frames, determinism, self-contained HTML, argument errors."""

import itertools
import re
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from course_utils.viz import animate, Animation, MAX_FRAMES  # noqa: E402
from course_utils.viz import animation  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _parabola(frames=(-1, -0.5, 0, 0.5, 1), **kwargs):
    fig, ax = plt.subplots(figsize=(2, 1.5), dpi=40)
    ax.set(xlim=(-1, 1), ylim=(0, 1))
    (point,) = ax.plot([], [], "o")
    seen = []

    def update(t):
        seen.append(t)
        point.set_data([t], [t * t])

    return animate(fig, update, frames, **kwargs), fig, seen


def test_one_png_per_frame_and_update_called_in_order():
    anim, fig, seen = _parabola()
    assert seen == [-1, -0.5, 0, 0.5, 1]
    assert anim.n_frames == len(anim) == 5
    assert all(f.startswith(b"\x89PNG\r\n\x1a\n") for f in anim.frames)
    assert len(set(anim.frames)) == 5, "each frame shows a different state"
    assert not plt.fignum_exists(fig.number), "the figure is closed so it is not shown twice"
    assert repr(anim) == "<Animation: 5 frames at 2 fps>"


def test_integer_frames_means_range_and_close_false_keeps_the_figure():
    anim, fig, seen = _parabola(frames=3, close=False)
    assert seen == [0, 1, 2] and anim.n_frames == 3
    assert plt.fignum_exists(fig.number)
    plt.close(fig)


def test_html_is_self_contained_and_lists_every_frame():
    anim, _, _ = _parabola(fps=4, mode="reflect", start=2)
    html = anim._repr_html_()
    assert html == anim.to_html()
    assert html.count("data:image/png;base64,") == 6, "every frame, plus the start frame in <img src=...>"
    start = anim.frames[2]
    import base64
    assert f'src="data:image/png;base64,{base64.b64encode(start).decode()}"' in html
    assert "frame 3 / 5" in html
    assert "http://" not in html and "https://" not in html, "nothing is loaded from the network"
    assert 'mode = "reflect"' in html and "interval = 250" in html and "index = 2" in html


def test_two_players_in_one_process_get_different_ids():
    a, _, _ = _parabola()
    b, _, _ = _parabola()
    ids = {re.search(r'id="(cuanim\w+)"', x.to_html()).group(1) for x in (a, b)}
    assert len(ids) == 2
    assert a.frames == b.frames


def test_html_is_byte_identical_between_processes():
    script = (
        "import matplotlib; matplotlib.use('Agg')\n"
        "import sys; sys.path.insert(0, 'tests/viz')\n"
        "from test_animation import _parabola\n"
        "import hashlib; print(hashlib.sha256(_parabola()[0].to_html().encode()).hexdigest())\n"
    )
    digests = {
        subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                       check=True).stdout.strip()
        for _ in range(2)
    }
    assert len(digests) == 1, digests


def test_counter_restarts_give_the_same_html(monkeypatch):
    monkeypatch.setattr(animation, "_COUNTER", itertools.count())
    first = _parabola()[0].to_html()
    monkeypatch.setattr(animation, "_COUNTER", itertools.count())
    assert _parabola()[0].to_html() == first


def test_save_html(tmp_path):
    anim, _, _ = _parabola()
    path = tmp_path / "a.html"
    anim.save_html(path)
    assert anim.to_html() in path.read_text(encoding="utf-8")


def test_errors_name_the_argument():
    fig = plt.figure()
    with pytest.raises(TypeError, match="fig"):
        animate("figure", lambda t: None, 3)
    with pytest.raises(TypeError, match="update"):
        animate(fig, 3, 3)
    with pytest.raises(TypeError, match="frames"):
        animate(fig, lambda t: None, "abc")
    with pytest.raises(TypeError, match="frames"):
        animate(fig, lambda t: None, True)
    with pytest.raises(ValueError, match="frames"):
        animate(plt.figure(), lambda t: None, 0)
    with pytest.raises(ValueError, match="frames"):
        animate(plt.figure(), lambda t: None, [])
    with pytest.raises(ValueError, match="frames"):
        animate(plt.figure(figsize=(1, 1), dpi=10), lambda t: None, iter(range(MAX_FRAMES + 1)))
    with pytest.raises(ValueError, match="fps"):
        animate(plt.figure(), lambda t: None, 2, fps=0)
    with pytest.raises(ValueError, match="mode"):
        animate(plt.figure(), lambda t: None, 2, mode="bounce")
    with pytest.raises(ValueError, match="start"):
        animate(plt.figure(), lambda t: None, 2, start=2)
    with pytest.raises(ValueError, match="dpi"):
        animate(plt.figure(), lambda t: None, 2, dpi=1)
    with pytest.raises(ValueError, match="frames"):
        Animation([])
    with pytest.raises(TypeError, match=r"frames\[0\]"):
        Animation([b"not a png"])
    plt.close("all")


def test_palette_frames():
    full, _, _ = _parabola()
    small, _, _ = _parabola(colors=16)
    again, _, _ = _parabola(colors=16)
    assert small.frames == again.frames, "palette frames are deterministic"
    assert all(f.startswith(b"\x89PNG\r\n\x1a\n") for f in small.frames)
    assert sum(map(len, small.frames)) < sum(map(len, full.frames))
    with pytest.raises(ValueError, match="colors must be >= 2"):
        _parabola(colors=1)
    with pytest.raises(TypeError, match="colors must be an integer"):
        _parabola(colors=8.0)
