"""Tests of course_utils.plotting, drawn off-screen with the Agg backend."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from course_utils import viz  # noqa: E402

GRAY = np.arange(48, dtype=np.uint8).reshape(6, 8)
RGB = np.zeros((6, 8, 3), dtype=np.uint8)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _titles(fig):
    return [ax.get_title() for ax in fig.axes]


# --------------------------------------------------------------------------
# show_images / show_pair
# --------------------------------------------------------------------------


def test_show_images_one_axes_per_image_with_titles():
    fig = viz.show_images([GRAY, RGB, GRAY.astype(float)], titles=["a", "b", "c"])
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3
    assert _titles(fig) == ["a", "b", "c"]
    assert all(len(ax.images) == 1 for ax in fig.axes)
    assert all(not ax.axison for ax in fig.axes)


def test_show_images_grid_drops_unused_cells():
    fig = viz.show_images(np.zeros((7, 5, 5)), ncols=3)
    assert len(fig.axes) == 7
    rows = {ax.get_subplotspec().rowspan.start for ax in fig.axes}
    assert rows == {0, 1, 2}


def test_show_images_accepts_stacks_and_single_image():
    assert len(viz.show_images(np.zeros((4, 6, 6, 3))).axes) == 4
    assert len(viz.show_images(GRAY).axes) == 1


def test_show_images_number_titles_and_suptitle():
    labels = np.array([3, 1, 4])
    fig = viz.show_images(np.zeros((3, 5, 5)), titles=labels, suptitle="digits")
    assert _titles(fig) == ["3", "1", "4"]
    assert fig.get_suptitle() == "digits"


def test_show_images_uint8_gray_uses_full_range_unless_told():
    fig = viz.show_images([GRAY, GRAY], vmin=None)
    assert fig.axes[0].images[0].get_clim() == (0, 255)
    fig = viz.show_images([GRAY], vmin=10, vmax=20)
    assert fig.axes[0].images[0].get_clim() == (10, 20)


def test_show_pair():
    fig = viz.show_pair(GRAY, RGB)
    assert len(fig.axes) == 2
    assert _titles(fig) == ["before", "after"]
    assert all(len(ax.images) == 1 for ax in fig.axes)


@pytest.mark.parametrize(
    "kwargs, error, argument",
    [
        ({"images": np.zeros(5)}, ValueError, "images"),
        ({"images": []}, ValueError, "images"),
        ({"images": "camera"}, TypeError, "images"),
        ({"images": [GRAY, np.zeros(4)]}, ValueError, r"images\[1\]"),
        ({"images": [np.zeros((4, 4, 2))]}, ValueError, r"images\[0\]"),
        ({"images": np.zeros((512, 512, 3))}, ValueError, r"wrap it in a list"),
        ({"images": [GRAY, GRAY], "titles": ["only one"]}, ValueError, "titles"),
        ({"images": [GRAY], "titles": "a"}, TypeError, "titles"),
        ({"images": [GRAY], "ncols": 0}, ValueError, "ncols"),
        ({"images": [GRAY], "ncols": 1.5}, TypeError, "ncols"),
        ({"images": [GRAY], "size": 0}, ValueError, "size"),
        ({"images": [GRAY], "cmap": "no-such-map"}, ValueError, "cmap"),
        ({"images": [GRAY], "vmin": 5, "vmax": 1}, ValueError, "vmin"),
        ({"images": [GRAY], "suptitle": 3}, TypeError, "suptitle"),
    ],
)
def test_show_images_rejects_bad_input(kwargs, error, argument):
    with pytest.raises(error, match=argument):
        viz.show_images(**kwargs)


def test_show_pair_rejects_bad_input():
    with pytest.raises(ValueError, match="before"):
        viz.show_pair(np.zeros(3), GRAY)
    with pytest.raises(ValueError, match="after"):
        viz.show_pair(GRAY, np.zeros((2, 2, 2, 2)))
    with pytest.raises(ValueError, match="titles"):
        viz.show_pair(GRAY, GRAY, titles=("one", "two", "three"))


# --------------------------------------------------------------------------
# Histograms and bars
# --------------------------------------------------------------------------


def test_plot_histogram_one_bar_per_uint8_level():
    fig = viz.plot_histogram(GRAY, title="pixels", xlabel="grey level")
    (ax,) = fig.axes
    assert len(ax.patches) == 48  # levels 0..47, one bar each
    assert ax.get_title() == "pixels" and ax.get_xlabel() == "grey level"
    assert ax.get_ylabel() == "count"


def test_plot_histogram_float_bins_density_and_given_axes():
    fig, ax = plt.subplots()
    returned = viz.plot_histogram(np.linspace(0, 1, 100), bins=10, ax=ax, density=True)
    assert returned is fig
    assert len(ax.patches) == 10
    assert ax.get_ylabel() == "density"


@pytest.mark.parametrize(
    "kwargs, error, argument",
    [
        ({"values": None}, TypeError, "values"),
        ({"values": []}, ValueError, "values"),
        ({"values": [1.0, np.nan]}, ValueError, "values"),
        ({"values": GRAY, "bins": 0}, ValueError, "bins"),
        ({"values": GRAY, "bins": "auto"}, TypeError, "bins"),
        ({"values": GRAY, "bins": [3, 2, 1]}, ValueError, "bins"),
        ({"values": GRAY, "ax": "left"}, TypeError, "ax"),
        ({"values": GRAY, "density": "yes"}, TypeError, "density"),
        ({"values": GRAY, "title": 1}, TypeError, "title"),
    ],
)
def test_plot_histogram_rejects_bad_input(kwargs, error, argument):
    with pytest.raises(error, match=argument):
        viz.plot_histogram(**kwargs)


def test_plot_bars_draws_given_heights_with_labels():
    heights = np.array([3.0, 1.0, 2.0])
    fig = viz.plot_bars(heights, labels=["a", "b", "c"], title="LBP")
    (ax,) = fig.axes
    assert [p.get_height() for p in ax.patches] == [3.0, 1.0, 2.0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert ax.get_title() == "LBP"


def test_plot_bars_rejects_bad_input():
    with pytest.raises(ValueError, match="heights"):
        viz.plot_bars(np.ones((2, 2)))
    with pytest.raises(ValueError, match="labels"):
        viz.plot_bars([1, 2, 3], labels=["a", "b"])
    with pytest.raises(TypeError, match="ylabel"):
        viz.plot_bars([1, 2], ylabel=5)


# --------------------------------------------------------------------------
# Overlay and vector field
# --------------------------------------------------------------------------


def test_show_overlay_draws_image_and_coloured_mask():
    mask = np.zeros(GRAY.shape, dtype=bool)
    mask[2:4, 3:5] = True
    fig = viz.show_overlay(GRAY, mask, color="blue", alpha=0.25, title="edges")
    (ax,) = fig.axes
    assert len(ax.images) == 2
    assert ax.get_title() == "edges"
    layer = ax.images[1].get_array()
    assert np.allclose(layer[2, 3], (0, 0, 1, 0.25))
    assert layer[0, 0, 3] == 0  # unmasked pixels stay transparent


def test_show_overlay_on_rgb_with_zero_one_mask():
    fig = viz.show_overlay(RGB, np.eye(6, 8, dtype=int))
    assert len(fig.axes[0].images) == 2


@pytest.mark.parametrize(
    "kwargs, error, argument",
    [
        ({"mask": np.zeros((3, 3), bool)}, ValueError, "mask"),
        ({"mask": np.full(GRAY.shape, 2)}, ValueError, "mask"),
        ({"mask": np.zeros(GRAY.shape, bool), "color": "not-a-colour"}, ValueError, "color"),
        ({"mask": np.zeros(GRAY.shape, bool), "alpha": 1.5}, ValueError, "alpha"),
        ({"mask": np.zeros(GRAY.shape, bool), "image": np.zeros(5)}, ValueError, "image"),
    ],
)
def test_show_overlay_rejects_bad_input(kwargs, error, argument):
    kwargs = {"image": GRAY, **kwargs}
    with pytest.raises(error, match=argument):
        viz.show_overlay(**kwargs)


def test_show_vector_field_over_image_and_alone():
    u = np.ones(GRAY.shape)
    v = np.zeros(GRAY.shape)
    fig = viz.show_vector_field(u, v, image=GRAY, step=2, title="flow")
    (ax,) = fig.axes
    assert len(ax.images) == 1 and len(ax.collections) == 1
    assert len(ax.collections[0].U) == 3 * 4  # rows 0,2,4 x cols 0,2,4,6
    assert ax.get_title() == "flow"
    fig = viz.show_vector_field(u, v)
    assert len(fig.axes[0].images) == 0 and len(fig.axes[0].collections) == 1


def test_show_vector_field_rejects_bad_input():
    with pytest.raises(ValueError, match="v must have the same shape"):
        viz.show_vector_field(np.ones((4, 4)), np.ones((4, 5)))
    with pytest.raises(ValueError, match="image"):
        viz.show_vector_field(np.ones((4, 4)), np.ones((4, 4)), image=GRAY)
    with pytest.raises(ValueError, match="step"):
        viz.show_vector_field(np.ones((4, 4)), np.ones((4, 4)), step=0)
