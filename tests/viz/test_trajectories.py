"""course_utils.viz.trajectories: legend placement and palette frames."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_utils import optim, viz  # noqa: E402


def _paths():
    return {"SGD": optim.run_optimizer(optim.SGD(0.05), optim.quadratic, [2.0, 1.0], 10)[0],
            "Adam": optim.run_optimizer(optim.Adam(0.1), optim.quadratic, [2.0, 1.0], 10)[0]}


def test_legend_inside_outside_or_none():
    ax = viz.plot_trajectories(optim.quadratic, _paths(), (-2.5, 2.5), (-1.5, 1.5))
    assert ax.get_legend()._loc == 1  # "upper right", the default, unchanged
    ax = viz.plot_trajectories(optim.quadratic, _paths(), (-2.5, 2.5), (-1.5, 1.5), legend="outside")
    fig = ax.figure
    fig.canvas.draw()
    box, axes_box = ax.get_legend().get_window_extent(), ax.get_window_extent()
    assert box.x0 >= axes_box.x1, "an outside legend lies right of the axes, off the data"
    ax = viz.plot_trajectories(optim.quadratic, _paths(), (-2.5, 2.5), (-1.5, 1.5), legend=None)
    assert ax.get_legend() is None
    plt.close("all")


def test_animation_palette_frames_are_smaller_and_deterministic():
    kwargs = dict(frames=3, figsize=(4, 2.5), dpi=60, legend="outside")
    full = viz.animate_trajectories(optim.quadratic, _paths(), (-2.5, 2.5), (-1.5, 1.5), **kwargs)
    small = viz.animate_trajectories(optim.quadratic, _paths(), (-2.5, 2.5), (-1.5, 1.5), colors=32, **kwargs)
    again = viz.animate_trajectories(optim.quadratic, _paths(), (-2.5, 2.5), (-1.5, 1.5), colors=32, **kwargs)
    assert small.frames == again.frames
    assert sum(map(len, small.frames)) < 0.6 * sum(map(len, full.frames))
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(small.frames[-1]))
    assert image.mode == "P" and image.size == Image.open(BytesIO(full.frames[-1])).size
    # the palette version shows the same picture: few pixels change by more than a little
    a = np.asarray(image.convert("RGB"), dtype=float)
    b = np.asarray(Image.open(BytesIO(full.frames[-1])).convert("RGB"), dtype=float)
    assert np.mean(np.abs(a - b).max(axis=2) > 40) < 0.01


def test_bad_arguments():
    with pytest.raises(TypeError, match="legend must be a matplotlib location"):
        viz.plot_trajectories(optim.quadratic, _paths(), (-2.5, 2.5), (-1.5, 1.5), legend=3)
    with pytest.raises(TypeError, match="legend must be a matplotlib location"):
        viz.animate_trajectories(optim.quadratic, _paths(), (-2.5, 2.5), (-1.5, 1.5), frames=2, legend=True)
    with pytest.raises(ValueError, match="colors must be <= 256"):
        viz.animate_trajectories(optim.quadratic, _paths(), (-2.5, 2.5), (-1.5, 1.5), frames=2, colors=1000)
    plt.close("all")
