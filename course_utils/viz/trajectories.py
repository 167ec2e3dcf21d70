"""Optimizer paths drawn on the contours of a 2-D loss, still or animated (notebook 10).
"""

from __future__ import annotations

import numpy as np

from .._checks import check_array, check_int
from .animation import animate

__all__ = [
    "plot_trajectories",
    "animate_trajectories",
]


def _contours(ax, function, xlim, ylim, levels):
    x = np.linspace(*xlim, 200)
    y = np.linspace(*ylim, 200)
    xx, yy = np.meshgrid(x, y)
    zz = np.vectorize(lambda a, b: function(np.array([a, b]))[0])(xx, yy)
    ax.contour(xx, yy, zz, levels=levels, colors="0.75", linewidths=0.8)
    ax.set(xlim=xlim, ylim=ylim, xlabel="x", ylabel="y")


def _check_legend(legend):
    if legend is not None and not isinstance(legend, str):
        raise TypeError(f"legend must be a matplotlib location, 'outside' or None, got {legend!r}")


def _legend(ax, legend):
    if legend is None:
        return
    if legend == "outside":  # to the right of the axes, off the data
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    else:
        ax.legend(loc=legend)


def plot_trajectories(function, paths, xlim, ylim, levels=20, ax=None, title=None, minimum=None,
                      legend="upper right"):
    """Draw optimizer paths over the contour lines of a 2-D function.

    Parameters
    ----------
    function : callable
        ``function(p) -> (value, grad)``.
    paths : dict of str to (T, 2) array
        One path per optimizer name, as returned by :func:`run_optimizer`.
    xlim, ylim : (float, float)
    levels : int or sequence
        Contour levels passed to ``matplotlib``.
    minimum : (float, float), optional
        Marked with a star.
    legend : str or None, default "upper right"
        Where the legend goes: a matplotlib location, ``"outside"`` (to the
        right of the axes, clear of the paths) or None (no legend).

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if not isinstance(paths, dict) or not paths:
        raise TypeError("paths must be a non-empty dict of name -> (T, 2) array")
    _check_legend(legend)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4), layout="constrained")
    _contours(ax, function, xlim, ylim, levels)
    for i, (name, path) in enumerate(paths.items()):
        path = check_array(path, f"paths[{name!r}]", ndim=2)
        style = ".-" if len(path) <= 100 else "-"  # dots only while they can be told apart
        ax.plot(path[:, 0], path[:, 1], style, color=f"C{i}", lw=1, ms=3, label=name)
    if minimum is not None:
        ax.plot(*minimum, "*", color="k", ms=10)
    _legend(ax, legend)
    if title:
        ax.set_title(title)
    return ax


def animate_trajectories(function, paths, xlim, ylim, levels=20, frames=30, title=None, minimum=None,
                         figsize=(5, 3.6), fps=6, dpi=None, legend="upper right", colors=None):
    """The paths of :func:`plot_trajectories` drawn step by step as an animation.

    Uses :func:`course_utils.viz.animation.animate`; ``frames`` evenly spaced
    step counts from 0 to the paths' length are shown. Every frame is stored
    in the notebook: keep ``frames``, ``figsize`` and ``dpi`` small, or store
    the frames with a palette of ``colors`` colours (see ``animate``).
    ``legend`` is placed as in :func:`plot_trajectories`.

    Returns
    -------
    course_utils.viz.animation.Animation
    """
    import matplotlib.pyplot as plt

    if not isinstance(paths, dict) or not paths:
        raise TypeError("paths must be a non-empty dict of name -> (T, 2) array")
    frames = check_int(frames, "frames", minimum=2, maximum=200)
    _check_legend(legend)
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    _contours(ax, function, xlim, ylim, levels)
    if minimum is not None:
        ax.plot(*minimum, "*", color="k", ms=10)
    lines = {name: ax.plot([], [], ".-" if len(path) <= 100 else "-", color=f"C{i}", lw=1, ms=3, label=name)[0]
             for i, (name, path) in enumerate(paths.items())}
    _legend(ax, legend)
    length = max(len(p) for p in paths.values())
    counts = np.linspace(1, length, frames).round().astype(int)

    def update(n):
        for name, line in lines.items():
            line.set_data(paths[name][:n, 0], paths[name][:n, 1])
        ax.set_title(f"{title + ': ' if title else ''}step {n - 1}")

    return animate(fig, update, list(counts), fps=fps, start=len(counts) - 1, dpi=dpi, colors=colors)
