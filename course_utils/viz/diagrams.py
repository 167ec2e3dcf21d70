"""Diagrams and animations of convolution arithmetic: which input cells each output cell reads.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_int, check_pair
from ..conv import conv_output_size, conv_transpose_output_size
from .animation import animate

__all__ = [
    "draw_conv_case",
    "conv_animation",
    "conv_transpose_animation",
]


_INPUT_COLOR, _PAD_COLOR, _TAP_COLOR = "#9ecae1", "#f0f0f0", "#08519c"

_OUTPUT_COLOR, _DONE_COLOR, _CURRENT_COLOR = "#c7e9c0", "#74c476", "#006d2c"


def _grid(ax, colors, texts=None, title="", dashed=None):
    """Draw a grid of coloured squares (row 0 at the top) with optional text."""
    from matplotlib.patches import Rectangle

    rows, cols = len(colors), len(colors[0])
    for r in range(rows):
        for c in range(cols):
            style = "--" if dashed is not None and dashed[r][c] else "-"
            ax.add_patch(Rectangle((c, rows - 1 - r), 1, 1, facecolor=colors[r][c], edgecolor="0.3",
                                   linewidth=0.8, linestyle=style))
            if texts is not None and texts[r][c]:
                dark = colors[r][c] in (_TAP_COLOR, _CURRENT_COLOR)
                ax.text(c + 0.5, rows - 0.5 - r, texts[r][c], ha="center", va="center", fontsize=7,
                        color="white" if dark else "black")
    ax.set_xlim(-0.2, cols + 0.2)
    ax.set_ylim(-0.2, rows + 0.2)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=9)


def draw_conv_case(n, kernel_size, stride=1, padding=0, dilation=1, position=None, axes=None):
    """Draw a 2-D convolution's input (with padding), kernel taps and output.

    Parameters
    ----------
    n : int
        Side of the square input.
    kernel_size, stride, padding, dilation : int
        F, S, P, D as in :func:`conv_output_size`.
    position : (int, int), optional
        Output pixel (i, j) whose window is drawn; (0, 0) by default. Output
        pixels computed before it (in reading order) are shaded.
    axes : pair of matplotlib Axes, optional
        Where to draw the input and the output; a new figure by default.

    Returns
    -------
    matplotlib.figure.Figure
        Left: the input, blue, with its padding in light gray (dashed) and the
        kernel's taps dark; right: the output, green, the current pixel dark.
        The title states the formula with the numbers filled in.
    """
    import matplotlib.pyplot as plt

    out = conv_output_size(n, kernel_size, stride, padding, dilation)
    i, j = (0, 0) if position is None else check_pair(position, "position", minimum=0)
    if i >= out or j >= out:
        raise ValueError(f"position must be an output pixel, inside ({out}, {out}); got {(i, j)}")
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(5.6, 2.9), width_ratios=[n + 2 * padding, max(out, 2)],
                                 layout="constrained")
    fig = axes[0].figure
    side = n + 2 * padding
    colors = [[_INPUT_COLOR if padding <= r < padding + n and padding <= c < padding + n else _PAD_COLOR
               for c in range(side)] for r in range(side)]
    dashed = [[colors[r][c] == _PAD_COLOR for c in range(side)] for r in range(side)]
    for u in range(kernel_size):
        for v in range(kernel_size):
            colors[i * stride + u * dilation][j * stride + v * dilation] = _TAP_COLOR
    _grid(axes[0], colors, dashed=dashed,
          title=f"input {n}x{n}" + (f", padding {padding} -> {side}x{side}" if padding else ""))
    done = i * out + j
    out_colors = [[_CURRENT_COLOR if (r, c) == (i, j) else _DONE_COLOR if r * out + c < done else _OUTPUT_COLOR
                   for c in range(out)] for r in range(out)]
    _grid(axes[1], out_colors, title=f"output {out}x{out}")
    span = dilation * (kernel_size - 1) + 1
    fig.suptitle(
        f"F={kernel_size}, S={stride}, P={padding}, D={dilation}:  o = floor((n + 2P - D(F-1) - 1) / S) + 1"
        f" = floor(({n} + {2 * padding} - {span}) / {stride}) + 1 = {out}", fontsize=8)
    return fig


def conv_animation(n, kernel_size, stride=1, padding=0, dilation=1, fps=2.0, figsize=(5.6, 2.9)):
    """Animate the kernel sliding over the input, one frame per output pixel.

    Parameters are those of :func:`draw_conv_case`; keep ``n`` small (the
    output has one frame per pixel, at most 64).

    Returns
    -------
    course_utils.viz.animation.Animation
    """
    import matplotlib.pyplot as plt

    out = conv_output_size(n, kernel_size, stride, padding, dilation)
    if out * out > 64:
        raise ValueError(f"the output has {out * out} pixels; keep it at most 64 (8x8) for an animation")
    fig, axes = plt.subplots(1, 2, figsize=figsize, width_ratios=[n + 2 * padding, max(out, 2)],
                             layout="constrained")

    def update(index):
        for ax in axes:
            ax.clear()
        draw_conv_case(n, kernel_size, stride, padding, dilation, position=divmod(index, out), axes=axes)

    return animate(fig, update, out * out, fps=fps)


def conv_transpose_animation(n, kernel_size, stride=1, padding=0, fps=1.0, figsize=(5.6, 2.9)):
    """Animate a transposed convolution as scatter-add: each input pixel stamps the kernel.

    Frame t shows input pixel t (reading order) dark and the output after
    the first t + 1 stamps; each output cell shows how many kernel copies
    have landed on it so far (the overlap count). Cells cropped by
    ``padding`` are drawn dashed.

    Parameters
    ----------
    n : int
        Side of the square input (at most 6).
    kernel_size, stride, padding : int

    Returns
    -------
    course_utils.viz.animation.Animation
    """
    import matplotlib.pyplot as plt

    n = check_int(n, "n", minimum=1, maximum=6)
    out = conv_transpose_output_size(n, kernel_size, stride, padding)
    full = out + 2 * padding
    fig, axes = plt.subplots(1, 2, figsize=figsize, width_ratios=[max(n, 2), full], layout="constrained")
    counts = np.zeros((full, full), dtype=int)
    dashed = [[not (padding <= r < padding + out and padding <= c < padding + out) for c in range(full)]
              for r in range(full)]

    def update(index):
        i, j = divmod(index, n)
        counts[i * stride:i * stride + kernel_size, j * stride:j * stride + kernel_size] += 1
        for ax in axes:
            ax.clear()
        colors = [[_TAP_COLOR if (r, c) == (i, j) else _INPUT_COLOR for c in range(n)] for r in range(n)]
        _grid(axes[0], colors, title=f"input {n}x{n}")
        stamp = np.zeros_like(counts, dtype=bool)
        stamp[i * stride:i * stride + kernel_size, j * stride:j * stride + kernel_size] = True
        out_colors = [[_CURRENT_COLOR if stamp[r, c] else _DONE_COLOR if counts[r, c] else _OUTPUT_COLOR
                       for c in range(full)] for r in range(full)]
        texts = [[str(counts[r, c]) if counts[r, c] else "" for c in range(full)] for r in range(full)]
        _grid(axes[1], out_colors, texts, dashed=dashed,
              title=f"output {out}x{out}" + (f" (dashed: cropped by P={padding})" if padding else "")
              + "\nnumber = kernel copies on the pixel")
        fig.suptitle(f"transposed convolution F={kernel_size}, S={stride}, P={padding}:\n"
                     f"o = (n - 1)S - 2P + F = {n - 1}*{stride} - {2 * padding} + {kernel_size} = {out}",
                     fontsize=8)

    return animate(fig, update, n * n, fps=fps)
