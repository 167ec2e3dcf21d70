"""Interactive explorers built with ipywidgets.

Each explorer is two pieces: a plain function that draws one state as a
matplotlib figure (usable and testable without a browser), and a function
that wraps it in sliders with ``ipywidgets.interactive_output``.  Run
headless (CI, nbval, a script), the widget still builds and draws its
default state once.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from .._checks import check_choice, check_image, check_int, check_number
from ..conv import conv_output_size
from ..detection.nms import greedy_nms
from ..features import canny, gaussian_smooth, gradient_magnitude_direction, image_gradients, to_gray
from .detections import show_detections
from .diagrams import draw_conv_case

__all__ = [
    "EDGE_METHODS",
    "edge_figure",
    "edge_explorer",
    "conv_arithmetic_figure",
    "conv_arithmetic_explorer",
    "nms_figure",
    "nms_explorer",
]


EDGE_METHODS = ("central", "sobel", "prewitt", "canny")


def _explorer(controls, draw, rows):
    """Wire sliders to a drawing function: the pattern every explorer shares.

    Parameters
    ----------
    controls : dict of {str: ipywidgets control}
        Keyword argument of ``draw`` -> the control that sets it.
    draw : callable(**values) -> matplotlib.figure.Figure
    rows : list of int
        How many controls go on each row, in order.

    Returns
    -------
    ipywidgets.VBox
        The controls and an output area, with the default state drawn once
        (so the widget shows something even when no browser runs it).
    """
    from IPython.display import display
    import ipywidgets as widgets

    def redraw(**values):
        fig = draw(**values)
        display(fig)
        plt.close(fig)  # displayed once; keep pyplot from showing it again

    # interactive_output calls redraw with the controls' values now and after
    # every change, each time in a cleared output area.
    output = widgets.interactive_output(redraw, controls)
    items, start = list(controls.values()), 0
    lines = []
    for count in rows:
        lines.append(widgets.HBox(items[start:start + count]))
        start += count
    return widgets.VBox(lines + [output])


def edge_figure(image, method="sobel", sigma=1.0, low=0.1, high=0.2):
    """Draw the image, its gradient magnitude and its edges for one setting.

    Parameters
    ----------
    image : (H, W) array_like
        Gray image; integer images are scaled to [0, 1].
    method : {"central", "sobel", "prewitt", "canny"}
        A gradient operator (edges = magnitude above ``high``) or Canny
        (non-maximum suppression and hysteresis between ``low`` and ``high``).
    sigma : float
        Gaussian blur before differentiating, in pixels (0 = none).
    low, high : float
        Thresholds on the gradient magnitude of the [0, 1] image; ``low``
        is used by Canny only.

    Returns
    -------
    matplotlib.figure.Figure
    """
    image = check_image(image, "image", min_size=3)
    method = check_choice(method, "method", EDGE_METHODS)
    sigma = check_number(sigma, "sigma", minimum=0)
    low = check_number(low, "low", minimum=0)
    high = check_number(high, "high", minimum=0)
    if low > high:
        raise ValueError(f"low must be <= high, got low={low} and high={high}")
    image = to_gray(image)  # float in [0, 1]; integer images rescaled
    smoothed = gaussian_smooth(image, sigma) if sigma > 0 else image
    operator = "sobel" if method == "canny" else method
    magnitude, _ = gradient_magnitude_direction(*image_gradients(smoothed, operator))
    if method == "canny":
        edges = canny(image, sigma=max(sigma, 1e-3), low=low, high=high)
    else:
        edges = magnitude > high
    fig, axes = plt.subplots(1, 3, figsize=(9, 3.4), layout="constrained")
    panels = [(image, "input"), (magnitude, f"|gradient| ({operator})"),
              (edges, f"edges: {method}, {edges.mean():.1%} of pixels")]
    for ax, (picture, title) in zip(axes, panels):
        ax.imshow(picture, cmap="gray")
        ax.set_title(title)
        ax.axis("off")
    fig.suptitle(f"sigma = {sigma:g}, low = {low:g}, high = {high:g}", fontsize=9)
    return fig


def edge_explorer(image, method="sobel", sigma=1.0, low=0.1, high=0.2):
    """Sliders for :func:`edge_figure`: operator, blur and thresholds.

    Returns the widget (display it, or let it be a cell's last value); its
    default state is drawn at once, so it also works without a browser.
    """
    import ipywidgets as widgets

    image = check_image(image, "image", min_size=3)
    controls = {
        "method": widgets.Dropdown(options=EDGE_METHODS, value=method, description="method"),
        "sigma": widgets.FloatSlider(value=sigma, min=0.0, max=4.0, step=0.25, description="sigma"),
        "low": widgets.FloatSlider(value=low, min=0.0, max=1.0, step=0.01, description="low"),
        "high": widgets.FloatSlider(value=high, min=0.0, max=2.0, step=0.01, description="high"),
    }

    def draw(low, high, **values):
        return edge_figure(image, low=min(low, high), high=high, **values)  # low never above high

    return _explorer(controls, draw, rows=[2, 2])


def conv_arithmetic_figure(n=5, kernel_size=3, padding=1, stride=2, dilation=1, step=0):
    """Draw one convolution case: input with padding, the kernel's taps, the output.

    Parameters
    ----------
    n : int
        Side of the square input (>= 1).
    kernel_size, padding, stride, dilation : int
        F, P, S, D of :func:`course_utils.conv.conv_output_size`.
    step : int
        Which output pixel's window to draw, in reading order; clipped to
        the last one.

    Returns
    -------
    matplotlib.figure.Figure
        :func:`course_utils.conv.draw_conv_case` for a valid case; for a
        kernel larger than the padded input, a figure that says so.
    """

    n = check_int(n, "n", minimum=1)
    kernel_size = check_int(kernel_size, "kernel_size", minimum=1)
    padding = check_int(padding, "padding", minimum=0)
    stride = check_int(stride, "stride", minimum=1)
    dilation = check_int(dilation, "dilation", minimum=1)
    step = check_int(step, "step", minimum=0)
    try:
        out = conv_output_size(n, kernel_size, stride, padding, dilation)
    except ValueError as error:
        fig, ax = plt.subplots(figsize=(5.6, 1.2))
        ax.axis("off")
        ax.text(0.5, 0.5, f"no output: {error}", ha="center", va="center", wrap=True, fontsize=9)
        return fig
    step = min(step, out * out - 1)
    fig = draw_conv_case(n, kernel_size, stride, padding, dilation, position=divmod(step, out))
    kind = {0: "valid", dilation * (kernel_size - 1): "full"}.get(padding, "")
    if stride == 1 and 2 * padding == dilation * (kernel_size - 1):
        kind = "same"
    if kind:
        fig.axes[0].set_xlabel(f"{kind} padding", fontsize=8)
    return fig


def conv_arithmetic_explorer(n=5, kernel_size=3, padding=1, stride=2, dilation=1):
    """Sliders for :func:`conv_arithmetic_figure`: n, F, P, S, D and the window shown.

    Returns the widget; its default state is drawn at once, so it also
    works without a browser.
    """
    import ipywidgets as widgets

    def slider(value, low, high, name):
        return widgets.IntSlider(value=value, min=low, max=high, description=name,
                                 continuous_update=False, layout=widgets.Layout(width="230px"))

    controls = {
        "n": slider(n, 1, 10, "n (input)"),
        "kernel_size": slider(kernel_size, 1, 7, "F (kernel)"),
        "padding": slider(padding, 0, 4, "P (padding)"),
        "stride": slider(stride, 1, 4, "S (stride)"),
        "dilation": slider(dilation, 1, 3, "D (dilation)"),
        "step": slider(0, 0, 63, "window"),
    }
    return _explorer(controls, conv_arithmetic_figure, rows=[3, 3])


def nms_figure(image, boxes, scores, labels=None, iou_threshold=0.5, score_threshold=0.3):
    """Draw detections before and after greedy NMS for one pair of thresholds.

    Parameters
    ----------
    image : (H, W) array_like
        The scene.
    boxes : (N, 4) array_like
        Corner boxes of the detections.
    scores : (N,) array_like
    labels : (N,) array_like of int, optional
        Classes, shown in the captions (NMS here ignores them).
    iou_threshold : float
        Boxes overlapping a kept box by more than this are removed.
    score_threshold : float
        Boxes scoring below this are dropped first.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import numpy as np

    image = check_image(image, "image", min_size=2)
    iou_threshold = check_number(iou_threshold, "iou_threshold", minimum=0, maximum=1)
    score_threshold = check_number(score_threshold, "score_threshold", minimum=0, maximum=1)
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    scores = np.asarray(scores, dtype=float)
    labels = None if labels is None else np.asarray(labels)
    above = np.flatnonzero(scores >= score_threshold)
    keep = greedy_nms(boxes, scores, iou_threshold, score_threshold=score_threshold)
    fig, axes = plt.subplots(1, 2, figsize=(8, 4.2), layout="constrained")
    for ax, chosen, title in ((axes[0], above, f"{above.size} boxes with score >= {score_threshold:g}"),
                              (axes[1], keep, f"{keep.size} kept by NMS at IoU > {iou_threshold:g}")):
        show_detections(image, boxes[chosen], None if labels is None else labels[chosen], scores[chosen], ax=ax,
                        title=title)
        ax.axis("off")
    return fig


def nms_explorer(image, boxes, scores, labels=None, iou_threshold=0.5, score_threshold=0.3):
    """Sliders for :func:`nms_figure`: the IoU threshold and the score threshold.

    Returns the widget; its default state is drawn at once, so it also works
    without a browser.
    """
    import ipywidgets as widgets

    image = check_image(image, "image", min_size=2)
    controls = {
        "iou_threshold": widgets.FloatSlider(value=iou_threshold, min=0.0, max=1.0, step=0.05,
                                             description="IoU thr."),
        "score_threshold": widgets.FloatSlider(value=score_threshold, min=0.0, max=1.0, step=0.05,
                                               description="score thr."),
    }

    def draw(**thresholds):
        return nms_figure(image, boxes, scores, labels, **thresholds)

    return _explorer(controls, draw, rows=[2])
