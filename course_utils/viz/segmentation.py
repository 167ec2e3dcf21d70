"""Class maps drawn over their image: one fixed colour per class, the same in every figure of Part 6."""

from __future__ import annotations

from matplotlib import colormaps
from matplotlib.patches import Patch
import numpy as np

from .._checks import check_array, check_int, check_number
from .images import _check_ax, _check_optional_text, _draw_image, _new_axes

__all__ = ["class_map_colors", "show_class_map"]


def class_map_colors(n_classes=10):
    """RGB colours of labels 0 .. n_classes: background black, class c the c-th of tab10 (tab20 beyond 10).

    tab10's grey (its 8th colour) is replaced by lime: on a gray image a grey
    class would look unlabelled.

    Returns
    -------
    (n_classes + 1, 3) ndarray
    """
    n_classes = check_int(n_classes, "n_classes", minimum=1)
    palette = colormaps["tab10" if n_classes <= 10 else "tab20"]
    colors = [palette(c)[:3] for c in range(n_classes)]
    if n_classes <= 10 and n_classes > 7:
        colors[7] = (0.6, 1.0, 0.2)
    return np.array([(0.0, 0.0, 0.0)] + colors)


def show_class_map(class_map, image=None, ax=None, title=None, n_classes=10, alpha=0.7, ignore_index=255,
                   legend=False, class_names=None):
    """Draw a class map (0 background, c + 1 class c), over its image when given; ignored pixels white.

    Parameters
    ----------
    class_map : (H, W) integer array
    image : (H, W) array, optional
        Drawn in gray underneath; the background then shows the image.
    ax : matplotlib.axes.Axes, optional
    title : str, optional
    n_classes : int
        Object classes C (labels go up to C).
    alpha : float
        Opacity of the class colours over the image.
    ignore_index : int
    legend : bool
        Add a legend of the classes present.
    class_names : sequence of str, optional
        Names of classes 0 .. C - 1 for the legend (default the class numbers).

    Returns
    -------
    matplotlib.figure.Figure
    """
    class_map = check_array(class_map, "class_map", ndim=2, dtype_kinds="iu").astype(np.int64)
    n_classes = check_int(n_classes, "n_classes", minimum=1)
    alpha = check_number(alpha, "alpha", minimum=0, maximum=1)
    ax = _check_ax(ax)
    _check_optional_text(title, "title")
    unknown = ~((class_map >= 0) & (class_map <= n_classes)) & (class_map != ignore_index)
    if unknown.any():
        raise ValueError(f"class_map labels must lie in 0 .. {n_classes} (or ignore_index={ignore_index}), "
                         f"found {sorted(set(class_map[unknown].tolist()))[:5]}")
    colors = class_map_colors(n_classes)
    fig, ax = _new_axes(ax, figsize=(4, 4))
    layer = np.zeros(class_map.shape + (4,))
    ignored = class_map == ignore_index
    labelled = ~ignored
    layer[labelled, :3] = colors[class_map[labelled]]
    layer[labelled, 3] = 1.0
    layer[ignored] = (1.0, 1.0, 1.0, 1.0)
    if image is not None:
        image = check_array(image, "image", ndim=2)
        if image.shape != class_map.shape:
            raise ValueError(f"image must have the class map's shape {class_map.shape}, got {image.shape}")
        _draw_image(ax, image, cmap="gray", vmin=0, vmax=1, title=title)
        layer[class_map == 0, 3] = 0.0  # the image shows through the background
        layer[(class_map > 0) & labelled, 3] = alpha
    else:
        ax.set_title(title or "")
        ax.set_xticks([])
        ax.set_yticks([])
    ax.imshow(layer, interpolation="nearest")
    if legend:
        names = list(class_names) if class_names is not None else [str(c) for c in range(n_classes)]
        present = sorted(set(class_map[labelled & (class_map > 0)].tolist()))
        ax.legend(handles=[Patch(color=colors[c], label=names[c - 1]) for c in present], fontsize=7,
                  loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig
