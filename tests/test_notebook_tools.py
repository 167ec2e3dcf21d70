"""The notebook set-up call, source display, widgets and input checks."""

import random

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_utils import _checks, features, setup_notebook, show_source  # noqa: E402
from course_utils.viz import edge_explorer, edge_figure  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_setup_notebook_makes_runs_repeatable(capsys):
    setup_notebook(seed=3)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    setup_notebook(seed=3)
    second = (random.random(), np.random.rand(), torch.rand(1).item())
    assert first == second
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.get_num_threads() == 2
    assert matplotlib.rcParams["figure.dpi"] == 72
    assert capsys.readouterr().out == "", "setup_notebook must print nothing"


def test_setup_notebook_reads_the_course_seed(monkeypatch):
    monkeypatch.delenv("COURSE_SEED", raising=False)
    assert setup_notebook() == 0
    first = torch.rand(1).item()
    monkeypatch.setenv("COURSE_SEED", "2")
    assert setup_notebook() == 2
    assert torch.rand(1).item() != first, "another COURSE_SEED must give other draws"
    assert setup_notebook(seed=5) == 5, "an explicit seed wins over COURSE_SEED"
    for bad in ("-1", "one", "1.5"):
        monkeypatch.setenv("COURSE_SEED", bad)
        with pytest.raises(ValueError, match="COURSE_SEED"):
            setup_notebook()


@pytest.mark.parametrize("kwargs, name", [({"seed": -1}, "seed"), ({"threads": 0}, "threads"),
                                          ({"seed": 1.5}, "seed"), ({"dpi": "high"}, "dpi")])
def test_setup_notebook_bad_input(kwargs, name):
    with pytest.raises((TypeError, ValueError), match=name):
        setup_notebook(**kwargs)


def test_show_source_plain_and_highlighted():
    shown = show_source(features.hog)
    assert repr(shown).startswith("def hog(")
    html = shown._repr_html_()
    assert "course_utils.features.hog" in html and "<span" in html
    with pytest.raises(TypeError, match="obj"):
        show_source(42)


def test_edge_figure_draws_three_panels():
    image = np.zeros((32, 32))
    image[8:24, 8:24] = 1
    for method in ("central", "sobel", "prewitt", "canny"):
        fig = edge_figure(image, method=method)
        assert len(fig.axes) == 3
        assert "edges" in fig.axes[2].get_title()


@pytest.mark.parametrize("kwargs, name", [({"method": "laplace"}, "method"), ({"sigma": -1}, "sigma"),
                                          ({"low": 0.5, "high": 0.1}, "low"), ({"high": "x"}, "high")])
def test_edge_figure_bad_input(kwargs, name):
    with pytest.raises((TypeError, ValueError), match=name):
        edge_figure(np.zeros((16, 16)), **kwargs)


def test_edge_explorer_builds_headless_and_reacts(monkeypatch):
    import course_utils.viz.explorers as widgets_module

    drawn = []

    def spy(image, **values):
        drawn.append(values)
        return edge_figure(image, **values)

    monkeypatch.setattr(widgets_module, "edge_figure", spy)
    widget = edge_explorer(np.random.default_rng(0).random((24, 24)))
    controls = [c for box in widget.children[:2] for c in box.children]
    assert [c.description for c in controls] == ["method", "sigma", "low", "high"]
    assert drawn == [{"method": "sobel", "sigma": 1.0, "low": 0.1, "high": 0.2}], "default drawn at once"
    controls[0].value = "canny"  # moving a control redraws
    assert drawn[-1]["method"] == "canny" and len(drawn) == 2
    controls[2].value = 0.9  # low above high is clipped to high, not an error
    assert drawn[-1]["low"] == drawn[-1]["high"] == 0.2
    with pytest.raises(ValueError, match="image"):
        edge_explorer(np.zeros(5))


def test_checks_messages_name_the_argument():
    with pytest.raises(TypeError, match="count must be an integer"):
        _checks.check_int(True, "count")
    with pytest.raises(ValueError, match="count must be >= 1"):
        _checks.check_int(0, "count", minimum=1)
    with pytest.raises(ValueError, match="rate must be > 0"):
        _checks.check_number(0, "rate", minimum=0, strict_minimum=True)
    with pytest.raises(ValueError, match="mode must be one of 'a', 'b'"):
        _checks.check_choice("c", "mode", ("a", "b"))
    with pytest.raises(ValueError, match="image must be a 2-D"):
        _checks.check_image(np.zeros(3))
    with pytest.raises(ValueError, match="finite"):
        _checks.check_array(np.array([np.nan]), "x")
    with pytest.raises(TypeError, match="numeric dtype"):
        _checks.check_array(np.array(["a"]), "x")
    with pytest.raises(TypeError, match="cells must be an integer or a pair"):
        _checks.check_pair((1, 2, 3), "cells")
    assert _checks.check_pair(4, "cells") == (4, 4)


def test_report_differences_prints_bounds_not_magnitudes(capsys):
    from course_utils.notebook import report_differences

    report_differences({"ours vs torch": 3.1e-15, "loop vs im2col": 0.0}, 1e-12)
    out = capsys.readouterr().out
    assert out == "ours vs torch   max abs difference < 1e-12\nloop vs im2col  max abs difference < 1e-12\n"
    assert "e-15" not in out, "the measured magnitude differs between CPUs: never print it"
    with pytest.raises(AssertionError, match=r"ours vs torch: max abs difference 2.00e-06 is not below 1e-06"):
        report_differences({"ours vs torch": 2e-6}, 1e-6)
    with pytest.raises(TypeError, match="differences"):
        report_differences({}, 1e-6)
    with pytest.raises(ValueError, match="bound"):
        report_differences({"a": 0.0}, -1)


def test_show_source_can_show_the_private_helpers_it_calls():
    plain = str(show_source(features.image_gradients))
    full = str(show_source(features.image_gradients, helpers=True))
    assert full.startswith(plain)
    for helper in ("_gradient_along", "_valid_gradient", "_tap"):
        assert f"def {helper}(" not in plain and f"def {helper}(" in full, helper
    assert full.count("def _tap(") == 1, "each helper is shown once"
    with pytest.raises(TypeError, match="helpers"):
        show_source(features.hog, helpers="yes")


def test_forbid_makes_a_course_function_fail_inside_the_block_only():
    import pytest

    from course_utils import detection
    from course_utils.exercises import forbid

    original = detection.box_iou
    with forbid(detection, "box_iou", "nms"):
        with pytest.raises(AssertionError, match="write it without calling detection.box_iou"):
            detection.box_iou([[0, 0, 1, 1]], [[0, 0, 1, 1]])
    assert detection.box_iou is original
    try:
        with forbid(detection, "nms"):
            raise KeyError("the learner's own error")
    except KeyError:
        pass
    assert detection.nms.__name__ == "nms"
    with pytest.raises(ValueError, match="not found"):
        with forbid(detection, "no_such_function"):
            pass


def test_forbid_also_covers_names_imported_into_the_callers_namespace():
    import pytest

    from course_utils import detection
    from course_utils.exercises import forbid

    namespace = {}
    exec("from course_utils.detection import box_iou as my_iou\n"
         "from course_utils import detection\n"
         "def answer():\n"
         "    return my_iou([[0, 0, 1, 1]], [[0, 0, 1, 1]])\n", namespace)
    original = namespace["my_iou"]
    exec("from course_utils.exercises import forbid\n"
         "with forbid(detection, 'box_iou'):\n"
         "    try:\n"
         "        answer()\n"
         "        outcome = 'passed'\n"
         "    except AssertionError as error:\n"
         "        outcome = str(error)\n", namespace)
    assert "write it without calling detection.box_iou" in namespace["outcome"]
    assert namespace["my_iou"] is original, "the caller's name is put back after the block"
    assert detection.box_iou is original
    with forbid(detection, "box_iou"):  # a caller without such a name: nothing else changes
        pass
    assert float(namespace["answer"]()[0, 0]) == pytest.approx(1.0)


def test_record_results_round_trip_per_seed(tmp_path, monkeypatch):
    from course_utils.notebook import RESULTS_VARIABLE, record_results, recorded_results

    monkeypatch.setenv(RESULTS_VARIABLE, str(tmp_path))
    assert recorded_results("rcnn_family", 0) is None
    record_results("rcnn_family", {"R-CNN": {"AP50": 0.5, "ms": 3}}, seed=0)
    assert recorded_results("rcnn_family", 0) == {"R-CNN": {"AP50": 0.5, "ms": 3.0}}
    assert recorded_results("rcnn_family", 1) is None  # another seed's results are not these
    with pytest.raises(ValueError, match="name must be letters"):
        record_results("../x", {}, seed=0)
    with pytest.raises(TypeError, match="rows must be a dict"):
        record_results("x", {"a": 1}, seed=0)


def test_detector_rows_read_the_records_in_course_order(tmp_path, monkeypatch):
    import pytest

    from course_utils.notebook import (RESULTS_VARIABLE, detector_row, detector_rows, detector_table,
                                       record_results)

    monkeypatch.setenv(RESULTS_VARIABLE, str(tmp_path))
    assert detector_rows(0) == {}
    record_results("detr", {"DETR": {"AP50": 0.1, "AP": 0.05, "ms_per_image": 2, "parameters": 9, "seconds": 40,
                                     "AP_small": 0.0, "AP_medium": 0.1, "AP_large": 0.2}}, seed=0)
    record_results("rcnn_family", {"R-CNN": {"AP50": 0.5, "AP": 0.2, "ms_network": 3, "ms_search": 7,
                                             "parameters": 100}}, seed=0)
    rows = detector_rows(0)
    assert list(rows) == ["R-CNN", "DETR"], "course order, not the order the files were written"
    assert rows["R-CNN"] == {"AP50": 0.5, "AP": 0.2, "ms": 10.0, "parameters": 100}
    assert list(detector_rows(0, before="detr")) == ["R-CNN"]
    assert detector_rows(1) == {}
    table = detector_table(rows).splitlines()
    assert len(table) == 3 and table[1].startswith("R-CNN") and table[1].rstrip().endswith("-")
    assert "0.100" in table[2] and "40" in table[2]
    with pytest.raises(ValueError, match="ms_per_image"):
        detector_row({"AP50": 1, "AP": 1, "parameters": 1})
    with pytest.raises(ValueError, match="before must be one of"):
        detector_rows(0, before="dino")
    with pytest.raises(TypeError, match="rows"):
        detector_table([1, 2])


def test_forbid_autograd_refuses_every_way_to_differentiate_inside_the_block_only():
    import pytest
    import torch

    from course_utils.exercises import forbid_autograd

    x = torch.ones(3, requires_grad=True)
    with forbid_autograd():
        for attempt in (lambda: (x * x).sum().backward(), lambda: torch.autograd.grad((x * x).sum(), x),
                        lambda: torch.func.vjp(torch.sin, x),
                        lambda: torch.autograd.functional.jacobian(torch.sin, x)):
            with pytest.raises(AssertionError, match="write it without calling"):
                attempt()
    (x * x).sum().backward()  # restored after the block
    assert torch.equal(x.grad, 2 * torch.ones(3))
