"""Training curves of one or several :class:`~course_utils.train.History` records.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np

from ..train import History

__all__ = [
    "plot_history",
]


def _as_histories(history):
    if isinstance(history, History):
        return {"": history}
    if isinstance(history, Mapping) and history and all(isinstance(h, History) for h in history.values()):
        return dict(history)
    raise TypeError("history must be a History or a non-empty dict {name: History}; "
                    f"got {type(history).__name__}")


def plot_history(history, metric="accuracy", figsize=(9, 3)):
    """Loss and metric per epoch: training dashed, validation solid.

    Parameters
    ----------
    history : History or dict of {str: History}
        One run, or several runs to compare (one colour each).
    metric : str or None, default "accuracy"
        Metric name to draw beside the loss; None draws the loss only.
    figsize : tuple, default (9, 3)

    Returns
    -------
    matplotlib.figure.Figure
    """
    runs = _as_histories(history)
    keys = ["loss"] + ([metric] if metric else [])
    fig, axes = plt.subplots(1, len(keys), figsize=figsize, layout="constrained", squeeze=False)
    for ax, key in zip(axes[0], keys):
        for index, (label, run) in enumerate(runs.items()):
            colour = f"C{index % 10}"
            for split, style in (("train", "--"), ("val", "-")):
                values = run.get(f"{split}_{key}")
                if values:
                    epochs = np.arange(1, len(values) + 1)
                    name = f"{label} {split}".strip()
                    ax.plot(epochs, values, style, color=colour, label=name, marker="." if len(values) < 30 else None)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    return fig
