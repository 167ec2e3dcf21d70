"""Tests of course_utils.viz.roi.roi_pool_align_figure, drawn off-screen with the Agg backend."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from course_utils import detection, viz  # noqa: E402

FEATURE_MAP = np.random.default_rng(0).random((8, 8))
BOX = (10.0, 13.0, 45.0, 41.0)  # image pixels; x 1/8: (1.25, 1.625, 5.625, 5.125) on the map


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _line(ax, label):
    lines = [line for line in ax.lines if line.get_label() == label]
    assert len(lines) == 1
    return lines[0]


def _rectangles(ax):
    return [(p.get_x(), p.get_y(), p.get_x() + p.get_width(), p.get_y() + p.get_height()) for p in ax.patches]


def test_three_panels_with_the_bins_and_samples():
    fig = viz.roi_pool_align_figure(FEATURE_MAP, BOX, output_size=(2, 3), spatial_scale=1 / 8, sampling_ratio=2)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3
    titles = [ax.get_title() for ax in fig.axes]
    assert "the box" in titles[0] and "RoI Pool" in titles[1] and "RoI Align" in titles[2]
    assert "1/8" in titles[0] and "2x2 bilinear samples" in titles[2]
    # panel 1: the box at 1/8 of its corners
    np.testing.assert_allclose(_rectangles(fig.axes[0]), [np.array(BOX) / 8])
    # panel 2: the dashed box, then 6 bins on whole cells and one maximum per bin
    pool_bins = _rectangles(fig.axes[1])[1:]
    assert len(pool_bins) == 6 and np.array_equal(np.round(pool_bins), pool_bins)
    rows, cols = detection.roi_pool_bins(BOX, (2, 3), (8, 8), 1 / 8)
    assert {(c0, r0, c1, r1) for r0, r1 in rows.tolist() for c0, c1 in cols.tolist()} == set(pool_bins)
    assert len(_line(fig.axes[1], "maxima").get_xdata()) == 6
    # panel 3: the dashed box, 6 exact bins and 2 x 2 samples in each, on the box (aligned)
    assert len(_rectangles(fig.axes[2])) == 1 + 6
    samples = _line(fig.axes[2], "samples")
    assert len(samples.get_xdata()) == len(samples.get_ydata()) == 6 * 2 * 2
    x1, y1, x2, y2 = np.array(BOX) / 8
    assert x1 < min(samples.get_xdata()) and max(samples.get_xdata()) < x2
    assert y1 < min(samples.get_ydata()) and max(samples.get_ydata()) < y2
    # every bin is captioned with its pooled value, the same as the operations give
    features = torch.from_numpy(FEATURE_MAP)[None, None]
    pooled = detection.roi_pool(features, [torch.tensor([BOX], dtype=torch.float64)], (2, 3), 1 / 8)
    assert [t.get_text() for t in fig.axes[1].texts] == [f"{v:.2f}" for v in pooled.flatten().tolist()]
    assert len(fig.axes[2].texts) == 6


def test_sampling_and_alignment_options():
    # adaptive sampling: ceil(bin size) samples per axis; aligned=False puts the bins half a cell late
    fig = viz.roi_pool_align_figure(torch.from_numpy(FEATURE_MAP), BOX, output_size=1, spatial_scale=1 / 8,
                                    sampling_ratio=0, aligned=False)
    ys, xs = detection.roi_align_samples(BOX, 1, 1 / 8, 0, False)
    assert ys.shape == (1, 4) and xs.shape == (1, 5)  # bins 3.5 and 4.375 cells
    assert len(_line(fig.axes[2], "samples").get_xdata()) == 4 * 5
    assert "aligned=False" in fig.axes[2].get_title()
    align_bin = _rectangles(fig.axes[2])[1]
    np.testing.assert_allclose(align_bin, np.array(BOX) / 8 + 0.5)
    # a box partly outside the map: the axes show all of it; bins clipped away are not drawn
    fig = viz.roi_pool_align_figure(FEATURE_MAP, (-40, -8, 20, 30), output_size=(1, 3), spatial_scale=1 / 8)
    left, right = fig.axes[0].get_xlim()
    assert left < -5 and right >= 8
    assert len(_rectangles(fig.axes[1])) == 1 + 2  # the first bin column lies left of the map


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="feature_map must be a 2-D"):
        viz.roi_pool_align_figure(np.zeros((1, 8, 8)), BOX)
    with pytest.raises(ValueError, match="box must be four numbers"):
        viz.roi_pool_align_figure(FEATURE_MAP, (1, 2, 3))
    with pytest.raises(ValueError, match="x2 >= x1"):
        viz.roi_pool_align_figure(FEATURE_MAP, (5, 2, 3, 4))
    with pytest.raises(ValueError, match="box must contain only finite"):
        viz.roi_pool_align_figure(FEATURE_MAP, (1, 2, np.nan, 4))
    with pytest.raises(ValueError, match=r"output_size\[0\] must be >= 1"):
        viz.roi_pool_align_figure(FEATURE_MAP, BOX, output_size=(0, 2))
    with pytest.raises(ValueError, match="spatial_scale must be > 0"):
        viz.roi_pool_align_figure(FEATURE_MAP, BOX, spatial_scale=-1)
    with pytest.raises(TypeError, match="sampling_ratio must be an integer"):
        viz.roi_pool_align_figure(FEATURE_MAP, BOX, sampling_ratio=1.5)
    with pytest.raises(TypeError, match="aligned must be True or False"):
        viz.roi_pool_align_figure(FEATURE_MAP, BOX, aligned="yes")
