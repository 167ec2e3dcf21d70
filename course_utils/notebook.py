"""Notebook plumbing: the set-up call of every notebook and source display.

Every notebook starts with::

    from course_utils import setup_notebook, show_source
    setup_notebook()

``setup_notebook`` makes a run reproducible (seeds, deterministic kernels,
a fixed thread count) and gives every figure the same look.  It prints
nothing, so the first cell's output never varies between machines.  Its
seed comes from the environment variable ``COURSE_SEED`` (default 0); the
notebook keeps it (``SEED = setup_notebook()``) and derives every random
draw of its experiments from it, so a run with another seed is another
honest trial of the same claims.

``show_source`` displays a function of ``course_utils`` with syntax
highlighting, so that each algorithm is written once, in the package, and
shown where it is taught instead of being copied into a cell.
"""

from __future__ import annotations

import inspect
import os
import random

import numpy as np

from ._checks import check_int

__all__ = ["setup_notebook", "course_seed", "report_differences", "show_source", "SourceCode", "record_results",
           "recorded_results", "RESULTS_VARIABLE", "DETECTOR_RECORDS", "detector_row", "detector_rows",
           "detector_table", "COURSE_MAP", "recorded_seconds", "course_map_table"]

#: Threads used by torch and the BLAS libraries.  Two keeps results and
#: timings the same on a 2-core laptop, a projector machine and CI.
DEFAULT_THREADS = 2

#: The environment variable that chooses the seed of a whole run.
SEED_VARIABLE = "COURSE_SEED"
#: Environment variable naming the folder where notebooks leave measured results for later notebooks
#: (default: ``results/`` beside the ``course_utils`` package, ignored by git).
RESULTS_VARIABLE = "COURSE_RESULTS"


def setup_notebook(seed: int | None = None, threads: int = DEFAULT_THREADS, dpi: int = 72) -> int:
    """Seed every generator, fix threads and set plotting defaults.

    Parameters
    ----------
    seed : int, optional
        Seed for Python's ``random``, NumPy's global generator and torch.
        By default it is read from the environment variable ``COURSE_SEED``
        (0 when unset), so that ``make test-seeds`` can run every notebook
        with other seeds and check that its claims do not hang on one draw.
        Notebooks derive their explicit generators from the returned value
        (``np.random.default_rng(SEED + 1)``, ``torch.manual_seed(SEED)``).
    threads : int
        Number of threads for torch and the BLAS/OpenMP pools.
    dpi : int
        Resolution of inline figures; 72 keeps committed notebooks small.

    Returns
    -------
    int
        The seed in force: notebooks keep it as ``SEED = setup_notebook()``.
    """
    if seed is None:
        seed = course_seed()
    seed = check_int(seed, "seed", minimum=0)
    threads = check_int(threads, "threads", minimum=1)
    dpi = check_int(dpi, "dpi", minimum=10)

    # cuBLAS needs this to be deterministic; harmless on CPU.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    random.seed(seed)
    np.random.seed(seed)
    np.set_printoptions(precision=4, suppress=True)

    import torch

    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    # Deterministic mode also fills every new uninitialized tensor with NaN, so
    # that code reading memory it never wrote fails loudly. The course never
    # does (its tests would show it), and the fills cost about 5 % of a
    # detector's training step (notebook 21, measured with torch.profiler).
    torch.utils.deterministic.fill_uninitialized_memory = False
    torch.set_num_threads(threads)
    try:
        # Only allowed once per process, before any parallel work.
        torch.set_num_interop_threads(threads)
    except RuntimeError:
        pass

    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)

    import matplotlib as mpl

    mpl.rcParams.update(
        {
            "figure.dpi": dpi,
            "savefig.dpi": dpi,
            "figure.figsize": (6.0, 4.0),
            "image.cmap": "gray",
            "image.interpolation": "nearest",
            "axes.titlesize": 10,
            "axes.labelsize": 9,
            "xtick.labelsize": 8,
            "ytick.labelsize": 8,
            "legend.fontsize": 8,
            "figure.max_open_warning": 50,
            # Same glyphs everywhere: no dependence on the machine's fonts.
            "font.family": "DejaVu Sans",
        }
    )
    return seed


def course_seed() -> int:
    """The seed named by the environment variable ``COURSE_SEED`` (default 0).

    Raises
    ------
    ValueError
        If ``COURSE_SEED`` is set to something that is not a whole number >= 0.
    """
    text = os.environ.get(SEED_VARIABLE, "0").strip() or "0"
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{SEED_VARIABLE} must be a whole number >= 0, got {text!r}") from None
    if value < 0:
        raise ValueError(f"{SEED_VARIABLE} must be a whole number >= 0, got {value}")
    return value


def _results_path(name: str, seed: int):
    import pathlib

    if not isinstance(name, str) or not name.replace("_", "").isalnum():
        raise ValueError(f"name must be letters, digits and underscores, got {name!r}")
    seed = check_int(seed, "seed", minimum=0)
    folder = os.environ.get(RESULTS_VARIABLE) or pathlib.Path(__file__).resolve().parent.parent / "results"
    return pathlib.Path(folder) / f"{name}_seed{seed}.json"


def record_results(name: str, rows: dict, seed: int) -> None:
    """Leave a notebook's measured results for a later notebook (:func:`recorded_results`).

    Notebook 21's comparison table, for instance, shows the R-CNN and Fast
    R-CNN that notebook 20 trained, without training them again. The file
    is ``<name>_seed<seed>.json`` in the folder named by ``COURSE_RESULTS``
    (default ``results/`` at the top of the course, ignored by git).

    Parameters
    ----------
    name : str
        What the results are (letters, digits, underscores).
    rows : dict
        Row name -> dict of numbers (JSON-serializable).
    seed : int
        The notebook's seed: a later notebook reads only results of its own seed.
    """
    import json
    import time

    if not isinstance(rows, dict) or not all(isinstance(r, dict) for r in rows.values()):
        raise TypeError("rows must be a dict of row name -> dict of numbers")
    path = _results_path(name, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"seed": seed, "measured": time.strftime("%Y-%m-%d %H:%M"),
              "rows": {str(k): {str(c): float(v) for c, v in r.items()} for k, r in rows.items()}}
    path.write_text(json.dumps(record, indent=1))


def recorded_results(name: str, seed: int):
    """The rows that :func:`record_results` left under ``name`` for ``seed``, or None if there are none."""
    import json

    path = _results_path(name, seed)
    if not path.is_file():
        return None
    return json.loads(path.read_text())["rows"]


#: The records the detection notebooks leave for the comparison of every
#: detector of the course, in course order (notebooks 20, 21, 22, 23, 24, 29).
DETECTOR_RECORDS = ("rcnn_family", "faster_rcnn", "yolo", "ssd", "anchor_free", "detr")

_SIZE_COLUMNS = ("AP_small", "AP_medium", "AP_large")


def detector_row(stats: dict) -> dict:
    """One row of the detector comparison, from a detector's measured numbers.

    Parameters
    ----------
    stats : dict
        ``AP50``, ``AP`` and ``parameters``; the time per image as
        ``ms_per_image``, or as ``ms_network`` + ``ms_search`` for a detector
        whose proposals come from a separate search (R-CNN, Fast R-CNN);
        optionally ``seconds`` of training and ``AP_small/medium/large``.

    Returns
    -------
    dict
        ``AP50``, ``AP``, ``ms``, ``parameters``, and ``seconds`` and the
        size columns where ``stats`` has them.
    """
    if not isinstance(stats, dict):
        raise TypeError(f"stats must be a dict of measured numbers, got {type(stats).__name__}")
    missing = [key for key in ("AP50", "AP", "parameters") if key not in stats]
    if "ms_per_image" not in stats and not {"ms_network", "ms_search"} <= set(stats):
        missing.append("ms_per_image (or ms_network and ms_search)")
    if missing:
        raise ValueError(f"stats lacks {', '.join(missing)}")
    ms = stats["ms_per_image"] if "ms_per_image" in stats else stats["ms_network"] + stats["ms_search"]
    row = {"AP50": float(stats["AP50"]), "AP": float(stats["AP"]), "ms": float(ms),
           "parameters": int(stats["parameters"])}
    if "seconds" in stats:
        row["seconds"] = float(stats["seconds"])
    row.update({key: float(stats[key]) for key in _SIZE_COLUMNS if key in stats})
    return row


def detector_rows(seed: int, before: str | None = None) -> dict:
    """The comparison rows that the detection notebooks recorded for ``seed``, in course order.

    Parameters
    ----------
    seed : int
        Only results of runs with this seed are read.
    before : str, optional
        A name of :data:`DETECTOR_RECORDS`: read only the records of earlier
        notebooks (the notebook asking adds its own rows). Default: all.

    Returns
    -------
    dict
        Detector name -> :func:`detector_row`; records not yet written are skipped.
    """
    check_int(seed, "seed")
    names = DETECTOR_RECORDS
    if before is not None:
        if before not in DETECTOR_RECORDS:
            raise ValueError(f"before must be one of {DETECTOR_RECORDS}, got {before!r}")
        names = DETECTOR_RECORDS[:DETECTOR_RECORDS.index(before)]
    rows = {}
    for name in names:
        for detector, stats in (recorded_results(name, seed) or {}).items():
            rows[detector] = detector_row(stats)
    return rows


def detector_table(rows: dict) -> str:
    """The comparison as fixed-width text: AP50, AP, AP by size, ms per image, parameters, training seconds.

    A dash stands for a column a detector has no figure for.
    """
    if not isinstance(rows, dict) or not all(isinstance(r, dict) for r in rows.values()):
        raise TypeError("rows must be a dict of detector name -> detector_row(...)")
    lines = [f"{'detector':<24}{'AP50':>7}{'AP':>7}{'AP_S':>7}{'AP_M':>7}{'AP_L':>7}{'ms/img':>8}{'params':>10}"
             f"{'train s':>9}"]
    for name, r in rows.items():
        sizes = "".join(f"{r[k]:7.3f}" if k in r else f"{'-':>7}" for k in _SIZE_COLUMNS)
        seconds = f"{r['seconds']:9.0f}" if "seconds" in r else f"{'-':>9}"
        lines.append(f"{name:<24}{r['AP50']:7.3f}{r['AP']:7.3f}{sizes}{r['ms']:8.1f}{int(r['parameters']):>10,}"
                     f"{seconds}")
    return "\n".join(lines)


def report_differences(differences: dict, bound: float, label: str = "max abs difference") -> None:
    """Print parity checks as a bound that holds on every machine, and enforce it.

    The size of a floating-point error (``3e-15`` here, ``4e-15`` on another
    CPU) depends on the order of accumulation, so a notebook that printed it
    would not reproduce its committed output elsewhere.  What holds
    everywhere is the bound: each line reads ``name  max abs difference < 1e-12``.

    Parameters
    ----------
    differences : dict
        Name of each check -> its measured difference (a number >= 0).
    bound : float
        The tolerance every difference must stay strictly below.
    label : str
        What the numbers are, printed before the bound.

    Raises
    ------
    AssertionError
        If a difference is not below ``bound``; the message names the check
        and gives its measured value.
    """
    if not isinstance(differences, dict) or not differences:
        raise TypeError(f"differences must be a non-empty dict of name -> number, got {differences!r}")
    if not (isinstance(bound, (int, float)) and bound > 0):
        raise ValueError(f"bound must be a positive number, got {bound!r}")
    width = max(len(str(name)) for name in differences)
    for name, value in differences.items():
        value = float(value)
        assert value < bound, f"{name}: {label} {value:.2e} is not below {bound:g}"
        print(f"{str(name):<{width}}  {label} < {bound:g}")


class SourceCode:
    """Source text that renders highlighted in Jupyter and plain elsewhere."""

    def __init__(self, text: str, name: str):
        self.text = text
        self.name = name

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer

        # Inline styles: the HTML needs no stylesheet, so it looks the same
        # in JupyterLab, in nbviewer and in an exported page.
        formatter = HtmlFormatter(noclasses=True, style="default", nobackground=True)
        return (
            f'<div style="font-size: 85%"><b>{self.name}</b>'
            f"{highlight(self.text, PythonLexer(), formatter)}</div>"
        )


def _private_helpers(obj) -> list:
    """Private module-level functions that ``obj`` calls, directly or through each other, in call order."""
    import ast
    import sys
    import textwrap

    found, queue = [], [obj]
    while queue:
        current = queue.pop(0)
        namespace = vars(sys.modules[current.__module__])
        tree = ast.parse(textwrap.dedent(inspect.getsource(current)))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id.startswith("_"):
                helper = namespace.get(node.func.id)
                if inspect.isfunction(helper) and helper is not obj and helper not in found:
                    found.append(helper)
                    queue.append(helper)
    return found


def show_source(obj, helpers: bool = False) -> SourceCode:
    """Return the highlighted source of a function, class or module.

    Parameters
    ----------
    obj : function, class or module
        Typically something from ``course_utils``, e.g.
        ``show_source(course_utils.features.hog)``.
    helpers : bool
        Also show the private helpers (``_name``) that a function calls,
        after it, so that the whole algorithm is on screen even when its
        arithmetic sits in small helpers.

    Returns
    -------
    SourceCode
        Displays as highlighted HTML in a notebook; ``str(...)`` and
        ``repr(...)`` give the plain source.
    """
    if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismodule(obj)
            or inspect.ismethod(obj)):
        raise TypeError(
            f"obj must be a function, class or module, got {type(obj).__name__}"
        )
    if not isinstance(helpers, bool):
        raise TypeError(f"helpers must be True or False, got {helpers!r}")
    text = inspect.getsource(obj)
    if helpers and inspect.isfunction(obj):
        for helper in _private_helpers(obj):
            text += f"\n\n# called above, from {helper.__module__}:\n" + inspect.getsource(helper)
    name = f"{obj.__module__}.{obj.__qualname__}" if hasattr(obj, "__qualname__") else obj.__name__
    return SourceCode(text, name)


# --- the course map: run time, prerequisites, outcome of every notebook ------------------------------

#: Per notebook (file name without ``.ipynb``), in course order: its measured run time on a 2-core CPU
#: in seconds (kernel start to shutdown, from the time table that ``make test`` prints), the notebooks
#: it builds on, and what a learner can do after it.  The course map (``00_start_here``) renders it
#: with :func:`course_map_table`; the repository's conftest.py fails a test run in which a notebook
#: that ran whole took more than 50 % more or less than its time here (update the time from the table
#: the run printed).  Measured by `make test` here on 2026-11-30 (machine factor 1.0 against
#: tests/machine_speed.py's reference).
COURSE_MAP = {
    "00_start_here": (6.6, (), "use the course alone, in a lecture or for grading, and check your set-up"),
    "01_images_and_gradients": (8.9, ("00",), "handle images as arrays, compute gradients with Sobel "
                                "and Prewitt filters, and find edges with Canny's steps"),
    "02_hog": (9.3, ("01",), "compute a HoG descriptor (cells, orientation bins, block normalization) "
               "and classify faces with it"),
    "03_lbp": (25.1, ("01",), "compute LBP codes (uniform, rotation-invariant) and classify textures by "
               "their histograms"),
    "04_convolution_operation": (52.1, ("01",), "compute a convolution layer with loops and with im2col, "
                                 "and count its memory, parameters and multiply-adds"),
    "05_convolution_arithmetic": (19.7, ("04",), "predict output sizes and receptive fields from kernel, "
                                  "padding, stride and dilation"),
    "06_efficient_convolutions": (24.5, ("04", "05"), "cut a layer's cost with 1×1 bottlenecks, grouped "
                                  "and depthwise separable convolutions and factorized kernels"),
    "07_upsampling": (17.5, ("04", "05"), "enlarge feature maps by unpooling, transposed convolution and "
                      "pixel shuffle, and avoid checkerboard artifacts"),
    "08_logistic_regression": (7.3, ("00",), "train logistic regression by gradient descent, with "
                               "gradients derived by hand and checked numerically"),
    "09_backpropagation": (8.7, ("08",), "backpropagate through a small network by hand, and say why "
                           "gradients vanish and which activations help"),
    "10_optimizers": (42.7, ("08", "09"), "choose and tune an optimizer (SGD, momentum, RMSProp, Adam, "
                      "AdamW) and a learning-rate schedule"),
    "11_regularization_and_augmentation": (62.5, ("09", "10"), "diagnose overfitting from learning "
                                           "curves and reduce it with weight decay, dropout, early "
                                           "stopping and augmentation"),
    "12_batchnorm_and_initialization": (18.0, ("09", "10"), "initialize a deep network (Xavier, He) and "
                                        "use batch normalization in training and evaluation"),
    "13_cnn_layers_and_lenet": (20.4, ("05", "10"), "build and train LeNet-5 and read its feature maps"),
    "14_classic_architectures": (31.3, ("06", "12", "13"), "count the parameters and FLOPs of AlexNet, "
                                 "VGG, Inception, ResNet, ResNeXt and DenseNet, and name the idea each "
                                 "brought"),
    "15_residual_learning": (69.2, ("09", "13"), "measure the degradation problem and show how "
                             "shortcuts let a deep network train"),
    "16_transfer_learning": (16.6, ("12", "13"), "adapt a trained network to a new task in the four "
                             "regimes, and choose one for a given data set"),
    "17_localization_and_boxes": (56.8, ("13",), "convert box formats, compute IoU and GIoU, and train "
                                  "a network that localizes one object"),
    "18_detection_metrics": (16.0, ("17",), "evaluate a detector: match detections, draw "
                             "precision-recall, compute VOC AP and COCO's twelve numbers"),
    "19_nms_and_anchors": (11.4, ("17", "18"), "remove duplicate boxes with greedy, batched and soft "
                           "NMS, and build, match and encode anchors"),
    "20_region_proposals_and_rcnn": (45.0, ("18", "19"), "propose regions with selective search, and "
                                     "detect with R-CNN and Fast R-CNN (RoI Pool, RoI Align)"),
    "21_faster_rcnn": (66.2, ("19", "20"), "train a Faster R-CNN (region proposal network and RoI "
                       "head, four losses) end to end"),
    "22_yolo": (64.4, ("19", "21"), "encode targets on YOLO's grid, train a small YOLO and decode its "
                "predictions"),
    "23_ssd": (75.8, ("22",), "place SSD's default boxes on several feature maps, match them, mine hard "
               "negatives, and compare with YOLO by object size"),
    "24_anchor_free": (81.1, ("22", "23"), "train centre-based anchor-free heads with focal and IoU "
                       "losses, and a one-to-one head that needs no NMS"),
    "25_semantic_segmentation": (78.4, ("07", "13", "17"), "label every pixel with FCN, U-Net or "
                                 "SegNet, and measure pixel accuracy, mIoU and Dice"),
    "26_dilated_convolutions_and_deeplab": (73.8, ("05", "25"), "widen a segmenter's view with dilated "
                                            "convolutions, ASPP and pyramid pooling, and fine-tune it "
                                            "from a classifier"),
    "27_instance_segmentation": (65.9, ("21", "25"), "add a mask branch to a detector (Mask R-CNN) and "
                                 "measure mask AP"),
    "28_vision_transformers": (25.9, ("13", "15"), "build a vision transformer from patches and "
                               "attention, and compare it with a CNN on small data"),
    "29_set_prediction_detr": (75.2, ("21", "24", "28"), "match predictions to objects with the "
                               "Hungarian algorithm and train a small DETR that needs no NMS"),
    "30_diffusion": (62.6, ("10", "25"), "train a small diffusion model and draw new digits with DDPM "
                     "and DDIM"),
}


def recorded_seconds() -> dict:
    """The recorded run time of every notebook: ``{file name without .ipynb: seconds}``."""
    return {name: seconds for name, (seconds, _, _) in COURSE_MAP.items()}


def course_map_table(markdown: bool = True):
    """The course map's table: per notebook its run time, the notebooks it builds on, and its outcome.

    Parameters
    ----------
    markdown : bool
        Return an ``IPython.display.Markdown`` object (a notebook displays it
        as a table); False returns the Markdown text.

    Returns
    -------
    IPython.display.Markdown or str
    """
    if not isinstance(markdown, bool):
        raise TypeError(f"markdown must be True or False, got {markdown!r}")
    lines = ["| notebook | run time | builds on | after it you can |", "| --- | ---: | --- | --- |"]
    for name, (seconds, needs, outcome) in COURSE_MAP.items():
        number = name.split("_", 1)[0]
        lines.append(f"| {number} | {seconds:.0f} s | {', '.join(needs) or '–'} | {outcome} |")
    text = "\n".join(lines)
    if not markdown:
        return text
    from IPython.display import Markdown

    return Markdown(text)
