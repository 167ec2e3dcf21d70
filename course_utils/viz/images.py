"""Matplotlib helpers for showing images, histograms, bar charts, overlays and vector fields.

Every function returns the :class:`matplotlib.figure.Figure` it drew on and
never calls ``plt.show()`` itself. In the course's notebooks a plotting cell
ends with ``plt.show()``, so the returned figure is never the cell's value and
is shown exactly once (a trailing ``;`` is not enough: nbval runs cells
without history, where IPython does not honour it).

Gray images are drawn with a fixed intensity scale unless ``vmin``/``vmax``
say otherwise: 0-255 for uint8, 0-1 for bool. Other dtypes are scaled from
their own minimum to maximum (matplotlib's default), which stretches the
contrast: pass ``vmin``/``vmax`` when comparing the brightness of images.
"""

from __future__ import annotations

from collections.abc import Sequence
import math

from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import Colormap, to_rgb
import matplotlib.pyplot as plt
import numpy as np

from .._checks import check_array, check_image, check_int, check_number

__all__ = [
    "MAX_IMAGES",
    "show_images",
    "show_pair",
    "plot_histogram",
    "plot_bars",
    "show_overlay",
    "show_vector_field",
]


#: Most panels :func:`show_images` draws in one figure. Larger grids are slow
#: and unreadable, and hitting the limit usually means one colour image was
#: passed where a list of images was expected.
MAX_IMAGES = 100

_DEFAULT_NCOLS = 8

_IMAGE_CHANNELS = (None, 3, 4)  # gray, RGB, RGBA


def _check_optional_text(value, name):
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{name} must be a string or None, got {type(value).__name__} {value!r}")
    return value


def _check_cmap(cmap):
    if isinstance(cmap, Colormap):
        return cmap
    if not isinstance(cmap, str):
        raise TypeError(f"cmap must be a colormap name such as 'gray' or a Colormap, got {cmap!r}")
    if cmap not in colormaps:
        raise ValueError(f"cmap must be a matplotlib colormap name such as 'gray' or 'viridis'; got {cmap!r}")
    return cmap


def _check_limits(vmin, vmax):
    if vmin is not None:
        vmin = check_number(vmin, "vmin")
    if vmax is not None:
        vmax = check_number(vmax, "vmax")
    if vmin is not None and vmax is not None and not vmin < vmax:
        raise ValueError(f"vmin must be smaller than vmax, got vmin={vmin} and vmax={vmax}")
    return vmin, vmax


def _check_ax(ax):
    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def _check_titles(titles, count, name="titles"):
    """Return ``titles`` as a list of ``count`` strings (or Nones if not given)."""
    if titles is None:
        return [None] * count
    # A lone string would otherwise be spread one character per panel.
    if isinstance(titles, str) or not isinstance(titles, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a list of strings (one per image) or None, got {titles!r}")
    if len(titles) != count:
        raise ValueError(f"{name} must have one entry per image: {count} expected, got {len(titles)}")
    return [None if t is None else str(t) for t in titles]


def _as_image_list(images):
    """Turn what the caller passed into a list of checked 2-D or 3-D images.

    A list or tuple holds one image per entry; an array is one gray image
    (2-D), a stack of gray images (3-D, ``(N, H, W)``) or a stack of colour
    images (4-D, ``(N, H, W, C)``). A single colour image therefore has to be
    passed in a list, since ``(H, W, 3)`` and a stack of three-pixel-wide
    gray images cannot be told apart.
    """
    if isinstance(images, (list, tuple)):
        if not images:
            raise ValueError("images must contain at least one image, got an empty sequence")
        items = list(images)
    else:
        stack = check_array(images, "images", ndim=(2, 3, 4))
        items = [stack] if stack.ndim == 2 else list(stack)
    if len(items) > MAX_IMAGES:
        raise ValueError(
            f"images holds {len(items)} images; show_images draws at most {MAX_IMAGES}. "
            "Pass a slice such as images[:20]; to show one colour image, wrap it in a list: [image]"
        )
    return [check_image(item, f"images[{i}]", channels=_IMAGE_CHANNELS) for i, item in enumerate(items)]


def _default_limits(image, vmin, vmax):
    """Fixed 0-255 / 0-1 scale for uint8 / bool gray images unless given."""
    if image.dtype == np.uint8:
        return (0 if vmin is None else vmin), (255 if vmax is None else vmax)
    if image.dtype == np.bool_:
        return (0 if vmin is None else vmin), (1 if vmax is None else vmax)
    return vmin, vmax


def _draw_image(ax, image, *, cmap, vmin, vmax, title):
    if image.ndim == 2:
        low, high = _default_limits(image, vmin, vmax)
        ax.imshow(image, cmap=cmap, vmin=low, vmax=high, interpolation="nearest")
    else:
        # Colour images carry their own colours: cmap and limits do not apply.
        ax.imshow(image, interpolation="nearest")
    ax.set_axis_off()
    if title is not None:
        ax.set_title(title)


def _image_grid(count, ncols, size):
    """Return a figure with exactly ``count`` axes laid out ``ncols`` wide."""
    nrows = math.ceil(count / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False, layout="constrained"
    )
    flat = axes.ravel()
    for ax in flat[count:]:
        fig.delaxes(ax)
    return fig, list(flat[:count])


def _new_axes(ax, figsize):
    if ax is not None:
        return ax.get_figure(), ax
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax


def show_images(images, titles=None, ncols=None, cmap="gray", size=2.5, vmin=None, vmax=None, suptitle=None):
    """Show several images in a grid, axes hidden.

    Parameters
    ----------
    images : list of array_like or numpy.ndarray
        A list (or tuple) of gray ``(H, W)`` / colour ``(H, W, 3 or 4)``
        images, which may differ in size; or an array: one gray image
        ``(H, W)``, a stack of gray images ``(N, H, W)`` or a stack of colour
        images ``(N, H, W, C)``. Pass a single colour image as ``[image]``.
        At most :data:`MAX_IMAGES` images.
    titles : sequence of str, optional
        One title per image (numbers, e.g. labels, are converted to text).
    ncols : int, optional
        Number of columns; default ``min(len(images), 8)``. Values above the
        number of images are reduced to it.
    cmap : str or matplotlib.colors.Colormap
        Colormap for gray images (colour images ignore it).
    size : float
        Width and height of each panel in inches.
    vmin, vmax : float, optional
        Intensity range of gray images; see the module notes for defaults.
    suptitle : str, optional
        Title above the whole grid.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, with one axes per image.

    Raises
    ------
    TypeError, ValueError
        Naming the argument that is wrong, e.g. ``titles`` of the wrong length
        or a 1-D ``images`` array.
    """
    image_list = _as_image_list(images)
    count = len(image_list)
    titles = _check_titles(titles, count)
    ncols = _DEFAULT_NCOLS if ncols is None else check_int(ncols, "ncols", minimum=1)
    ncols = min(ncols, count)
    cmap = _check_cmap(cmap)
    size = check_number(size, "size", minimum=0, strict_minimum=True)
    vmin, vmax = _check_limits(vmin, vmax)
    _check_optional_text(suptitle, "suptitle")

    fig, axes = _image_grid(count, ncols, size)
    for ax, image, title in zip(axes, image_list, titles):
        _draw_image(ax, image, cmap=cmap, vmin=vmin, vmax=vmax, title=title)
    if suptitle is not None:
        fig.suptitle(suptitle)
    return fig


def show_pair(before, after, titles=("before", "after"), cmap="gray", size=3.5, vmin=None, vmax=None):
    """Show two images side by side, typically an input and its processed version.

    Parameters
    ----------
    before, after : array_like
        Gray ``(H, W)`` or colour ``(H, W, 3 or 4)`` images; sizes may differ.
    titles : pair of str
        Titles of the left and right panel.
    cmap : str or matplotlib.colors.Colormap
        Colormap for gray images.
    size : float
        Width and height of each panel in inches.
    vmin, vmax : float, optional
        Intensity range of gray images, the same for both panels.

    Returns
    -------
    matplotlib.figure.Figure
        The figure, with two axes.
    """
    before = check_image(before, "before", channels=_IMAGE_CHANNELS)
    after = check_image(after, "after", channels=_IMAGE_CHANNELS)
    if titles is not None:
        _check_titles(titles, 2)
    return show_images([before, after], titles=titles, ncols=2, cmap=cmap, size=size, vmin=vmin, vmax=vmax)


def _default_bins(values):
    """One bin per integer value for bool/integer data with few levels, else 64."""
    if values.dtype.kind in "biu":
        low, high = int(values.min()), int(values.max())
        if high - low < 256:
            # Edges halfway between integers so each level gets its own bar.
            return np.arange(low, high + 2) - 0.5
    return 64


def _check_bins(bins, values):
    if bins is None:
        return _default_bins(values)
    if isinstance(bins, str) or np.ndim(bins) == 0:
        return check_int(bins, "bins", minimum=1)
    edges = check_array(bins, "bins", ndim=1, dtype_kinds="iuf")
    if edges.size < 2 or not np.all(np.diff(edges) > 0):
        raise ValueError("bins must be a number of bins or at least two increasing bin edges")
    return edges


def plot_histogram(values, bins=None, ax=None, title=None, xlabel=None, density=False):
    """Draw the histogram of raw values, such as the pixels of an image.

    Parameters
    ----------
    values : array_like
        Numbers of any shape (an image is flattened).
    bins : int or sequence of float, optional
        Number of bins or bin edges. Default: one bin per level for integer
        or bool data spanning fewer than 256 levels (uint8 images), else 64.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made when omitted.
    title, xlabel : str, optional
        Axes title and x-axis label.
    density : bool
        Normalise the bars to a probability density instead of counts.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the histogram.
    """
    values = check_array(values, "values").ravel()
    bins = _check_bins(bins, values)
    ax = _check_ax(ax)
    _check_optional_text(title, "title")
    _check_optional_text(xlabel, "xlabel")
    if not isinstance(density, (bool, np.bool_)):
        raise TypeError(f"density must be True or False, got {density!r}")

    fig, ax = _new_axes(ax, figsize=(5, 3.5))
    # Cast bools so numpy's histogram can subtract them.
    ax.hist(values.astype(np.float64, copy=False), bins=bins, density=bool(density), color="0.35")
    ax.set_ylabel("density" if density else "count")
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if title is not None:
        ax.set_title(title)
    return fig


def plot_bars(heights, labels=None, ax=None, title=None, xlabel=None, ylabel=None):
    """Draw an already computed histogram: one bar per entry of ``heights``.

    Use it for feature histograms such as LBP codes or HoG cell orientations.

    Parameters
    ----------
    heights : array_like
        1-D array of bar heights.
    labels : sequence, optional
        One tick label per bar; the bars are numbered 0, 1, ... when omitted.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made when omitted.
    title, xlabel, ylabel : str, optional
        Axes title and axis labels.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the bar chart.
    """
    heights = check_array(heights, "heights", ndim=1)
    if labels is not None:
        labels = _check_titles(labels, heights.size, name="labels")
    ax = _check_ax(ax)
    for text, name in ((title, "title"), (xlabel, "xlabel"), (ylabel, "ylabel")):
        _check_optional_text(text, name)

    fig, ax = _new_axes(ax, figsize=(max(4.0, 0.25 * heights.size), 3.5))
    positions = np.arange(heights.size)
    ax.bar(positions, heights, width=0.8, color="0.35")
    if labels is not None:
        ax.set_xticks(positions, labels)
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    return fig


def _check_mask(mask, shape):
    mask = check_array(mask, "mask", ndim=2)
    if mask.dtype != np.bool_:
        # 0/1 arrays are accepted; label images are not, they are ambiguous.
        if not np.all((mask == 0) | (mask == 1)):
            raise ValueError(
                "mask must be boolean (True where to colour) or hold only 0 and 1; "
                "for a label image pass e.g. labels > 0"
            )
        mask = mask.astype(bool)
    if mask.shape != shape:
        raise ValueError(f"mask must have the image's height and width {shape}, got shape {mask.shape}")
    return mask


def _check_color(color):
    try:
        return to_rgb(color)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"color must be a matplotlib colour such as (1, 0, 0) or 'red', got {color!r}"
        ) from exc


def show_overlay(image, mask, color=(1, 0, 0), alpha=0.5, ax=None, title=None):
    """Colour the pixels of a boolean mask (edges, a segment) over an image.

    Parameters
    ----------
    image : array_like
        Gray ``(H, W)`` or colour ``(H, W, 3 or 4)`` image.
    mask : array_like
        ``(H, W)`` bool array (0/1 also accepted), True where to colour.
    color : colour
        Overlay colour: an RGB triple in [0, 1] or a matplotlib colour name.
    alpha : float
        Opacity of the overlay, from 0 (invisible) to 1 (opaque).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made when omitted.
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; its axes hold two images, the picture and the overlay.
    """
    image = check_image(image, "image", channels=_IMAGE_CHANNELS)
    mask = _check_mask(mask, image.shape[:2])
    rgb = _check_color(color)
    alpha = check_number(alpha, "alpha", minimum=0, maximum=1)
    ax = _check_ax(ax)
    _check_optional_text(title, "title")

    fig, ax = _new_axes(ax, figsize=(5, 5))
    _draw_image(ax, image, cmap="gray", vmin=None, vmax=None, title=title)
    # A separate RGBA layer leaves the image's own pixels untouched.
    layer = np.zeros(mask.shape + (4,))
    layer[mask] = (*rgb, alpha)
    ax.imshow(layer, interpolation="nearest")
    return fig


def show_vector_field(u, v, image=None, step=8, color="red", ax=None, title=None):
    """Draw a vector field (gradients, optical flow) as arrows, optionally over an image.

    Parameters
    ----------
    u, v : array_like
        ``(H, W)`` arrays: horizontal (column) and vertical (row) component of
        the vector at each pixel; positive ``v`` points down the image.
    image : array_like, optional
        Gray or colour ``(H, W[, C])`` image drawn underneath.
    step : int
        Draw one arrow every ``step`` pixels in each direction.
    color : colour
        Arrow colour (matplotlib colour).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made when omitted.
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the arrows.
    """
    u = check_array(u, "u", ndim=2)
    v = check_array(v, "v", ndim=2)
    if u.shape != v.shape:
        raise ValueError(f"v must have the same shape as u {u.shape}, got {v.shape}")
    if image is not None:
        image = check_image(image, "image", channels=_IMAGE_CHANNELS)
        if image.shape[:2] != u.shape:
            raise ValueError(f"image must have the height and width of u {u.shape}, got {image.shape}")
    step = check_int(step, "step", minimum=1)
    _check_color(color)
    ax = _check_ax(ax)
    _check_optional_text(title, "title")

    fig, ax = _new_axes(ax, figsize=(5, 5))
    if image is not None:
        _draw_image(ax, image, cmap="gray", vmin=None, vmax=None, title=None)
    rows, cols = np.mgrid[0 : u.shape[0] : step, 0 : u.shape[1] : step]
    if image is None:
        # Same frame as an image: row 0 at the top, square pixels.
        ax.set_xlim(-0.5, u.shape[1] - 0.5)
        ax.set_ylim(u.shape[0] - 0.5, -0.5)
        ax.set_aspect("equal")
    # angles="xy" draws each arrow in data coordinates; with the y axis
    # pointing down like image rows, a positive v points down the image.
    ax.quiver(cols, rows, u[::step, ::step], v[::step, ::step], color=color, angles="xy")
    ax.set_axis_off()
    if title is not None:
        ax.set_title(title)
    return fig
