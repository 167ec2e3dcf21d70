"""One training loop for the whole course, and the helpers around it.

Every notebook that trains a torch model calls :func:`fit`; there is no
second loop to keep in step. The loop is the one every framework hides:

    for each epoch:
        for each mini-batch (x, y):
            outputs = model(x); loss = loss_fn(outputs, y)
            optimizer.zero_grad(); loss.backward(); optimizer.step()
        measure on the validation data

:func:`fit` adds what a course needs around it: a fixed number of epochs or a
time budget, a learning-rate schedule, a progress bar, a :class:`History` of
losses and metrics, and a clear error the moment the loss stops being a
number. :func:`freeze` and :func:`unfreeze` choose which layers train (the
transfer-learning regimes of notebook 16); :func:`course_utils.viz.plot_history`
draws the curves.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import contextmanager
import math
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from ._checks import check_choice, check_int, check_module, check_number

__all__ = [
    "TrainingDiverged",
    "History",
    "accuracy",
    "make_loader",
    "fit",
    "evaluate",
    "predict",
    "freeze",
    "unfreeze",
    "eval_mode",
]


class TrainingDiverged(FloatingPointError):
    """The training loss became NaN or infinite.

    Attributes
    ----------
    history : History
        Everything recorded up to the step that diverged.
    """

    def __init__(self, message, history):
        super().__init__(message)
        self.history = history


class History(dict):
    """Per-epoch records of one training run, as a dict of lists.

    Keys: ``"train_loss"``, ``"val_loss"``, ``"train_<metric>"``,
    ``"val_<metric>"`` (one value per epoch; training values are averages
    over the epoch's batches, measured while the weights were moving),
    ``"step_loss"`` (one value per optimizer step), ``"lr"`` (learning rate
    during each epoch) and ``"seconds"`` (cumulative wall time at the end of
    each epoch). Validation keys exist only when validation data were given.
    """

    @property
    def epochs(self) -> int:
        """Number of completed epochs."""
        return len(self.get("train_loss", []))

    def last(self, key):
        """The latest value recorded under ``key``."""
        if key not in self:
            raise KeyError(f"history has no {key!r}; it has {sorted(self)}")
        if not self[key]:
            raise ValueError(f"history[{key!r}] is empty: no epoch finished")
        return self[key][-1]

    def __repr__(self):
        parts = [f"epochs={self.epochs}"]
        for key in sorted(self):
            if key != "step_loss" and self[key]:
                parts.append(f"{key}={self[key][-1]:.4g}")
        return f"History({', '.join(parts)})"


def accuracy(outputs, targets) -> float:
    """Fraction of rows whose arg-max output equals the integer target."""
    return (outputs.argmax(dim=1) == targets).float().mean().item()


_METRICS = {"accuracy": accuracy}


def _check_metric(metric):
    if metric is None or callable(metric):
        return metric
    if isinstance(metric, str) and metric in _METRICS:
        return _METRICS[metric]
    raise ValueError(f"metric must be None, a callable(outputs, targets) or one of {sorted(_METRICS)}; "
                     f"got {metric!r}")


def _metric_name(metric):
    if metric is None:
        return None
    if isinstance(metric, str):
        return metric
    return getattr(metric, "__name__", "metric")


def _map_tensors(outputs, fn):
    """Apply ``fn`` to a tensor, or to every tensor of a tuple, list or dict of them."""
    if isinstance(outputs, torch.Tensor):
        return fn(outputs)
    if isinstance(outputs, (tuple, list)):
        return type(outputs)(_map_tensors(o, fn) for o in outputs)
    if isinstance(outputs, Mapping):
        return {k: _map_tensors(v, fn) for k, v in outputs.items()}
    return outputs


def _concatenate(batches):
    """Join per-batch outputs: tensors, or tuples / dicts of tensors."""
    first = batches[0]
    if isinstance(first, torch.Tensor):
        return torch.cat(batches)
    if isinstance(first, (tuple, list)):
        return type(first)(_concatenate([b[i] for b in batches]) for i in range(len(first)))
    if isinstance(first, Mapping):
        return {k: _concatenate([b[k] for b in batches]) for k in first}
    raise TypeError(f"model outputs must be tensors, or tuples or dicts of tensors; got {type(first).__name__}")


@contextmanager
def eval_mode(model):
    """Run a block with ``model`` in eval mode and without gradients, then restore its mode.

    Dropout off, batch norm on its running statistics, no autograd graph:
    what every measurement of a model needs.  The model's training flag is
    put back even if the block raises.
    """
    check_module(model)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(was_training)


def make_loader(x, y, batch_size=64, shuffle=True, seed=0) -> DataLoader:
    """A DataLoader over tensors ``x`` and ``y`` whose shuffling is seeded.

    Parameters
    ----------
    x, y : torch.Tensor
        Inputs and targets with the same first dimension.
    batch_size : int, default 64
    shuffle : bool, default True
        Reshuffle every epoch, in an order fixed by ``seed``.
    seed : int, default 0

    Returns
    -------
    torch.utils.data.DataLoader
    """
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError(f"x and y must be torch tensors; got {type(x).__name__} and {type(y).__name__}")
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length; got {len(x)} and {len(y)}")
    if len(x) == 0:
        raise ValueError("x must hold at least one example; got an empty tensor")
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=bool(shuffle), generator=generator)


def _as_loader(data, name, shuffle):
    if isinstance(data, DataLoader):
        return data
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return make_loader(data[0], data[1], shuffle=shuffle)
    raise TypeError(f"{name} must be a DataLoader or a tuple (x, y) of tensors; got {type(data).__name__}")


def _set_train_mode(model):
    """Train mode, except for BatchNorm layers inside frozen parts."""
    model.train()
    for module in model.modules():
        if getattr(module, "_course_frozen", False) and isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.eval()


def fit(model, train, optimizer, *, epochs=None, time_budget_s=None, loss_fn=None, val=None,
        scheduler=None, scheduler_step="epoch", metric="accuracy", progress=True,
        clip_grad_norm=None, on_step=None) -> History:
    """Train ``model`` with mini-batch gradient descent and return its history.

    Parameters
    ----------
    model : torch.nn.Module
    train : DataLoader or tuple (x, y)
        Training data; a tuple becomes a shuffled loader with batches of 64
        (see :func:`make_loader`).
    optimizer : torch.optim.Optimizer
        Built by the caller over the parameters to train.
    epochs : int, optional
        Number of passes over ``train``.
    time_budget_s : float, optional
        Stop at the end of the first epoch that ends after this many
        seconds. At least one of ``epochs`` and ``time_budget_s`` is
        required; with both, training stops at whichever comes first. A time
        budget is not reproducible from machine to machine, so notebooks
        whose outputs are checked use ``epochs``.
    loss_fn : callable, default ``nn.CrossEntropyLoss()``
    val : DataLoader or tuple (x, y), optional
        Validation data, measured after every epoch in eval mode.
    scheduler : torch.optim.lr_scheduler.LRScheduler, optional
    scheduler_step : {"epoch", "step"}, default "epoch"
        Step the scheduler after every epoch or after every batch.
    metric : "accuracy", callable or None, default "accuracy"
        Measured on each batch (training) and on ``val``. A model may return
        a tuple or dict of tensors (e.g. class scores and boxes); ``loss_fn``
        and ``metric`` then receive that structure.
    progress : bool, default True
        Show a tqdm progress bar over all steps.
    clip_grad_norm : float, optional
        Clip the global gradient norm to this value before each step.
    on_step : callable(model, step, loss), optional
        Called after each optimizer step, while the gradients are still set.

    Returns
    -------
    History

    Raises
    ------
    TrainingDiverged
        As soon as a batch loss is NaN or infinite (usually: the learning
        rate is too large). The partial history is attached.
    """
    check_module(model)
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer; got {type(optimizer).__name__}")
    if epochs is None and time_budget_s is None:
        raise ValueError("give epochs or time_budget_s (or both): fit needs to know when to stop")
    if epochs is not None:
        epochs = check_int(epochs, "epochs", minimum=1)
    if time_budget_s is not None:
        time_budget_s = check_number(time_budget_s, "time_budget_s", minimum=0, strict_minimum=True)
    scheduler_step = check_choice(scheduler_step, "scheduler_step", ("epoch", "step"))
    if loss_fn is None:
        loss_fn = nn.CrossEntropyLoss()
    elif not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable(outputs, targets); got {type(loss_fn).__name__}")
    if on_step is not None and not callable(on_step):
        raise TypeError(f"on_step must be callable(model, step, loss); got {type(on_step).__name__}")
    if clip_grad_norm is not None:
        clip_grad_norm = check_number(clip_grad_norm, "clip_grad_norm", minimum=0, strict_minimum=True)
    metric_fn = _check_metric(metric)
    name = _metric_name(metric)
    train_loader = _as_loader(train, "train", shuffle=True)
    val_loader = None if val is None else _as_loader(val, "val", shuffle=False)
    if len(train_loader) == 0:
        raise ValueError("train must yield at least one batch")

    history = History(train_loss=[], step_loss=[], lr=[], seconds=[])
    if name:
        history[f"train_{name}"] = []
    if val_loader is not None:
        history["val_loss"] = []
        if name:
            history[f"val_{name}"] = []

    total_steps = None if epochs is None else epochs * len(train_loader)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=total_steps, desc="training", unit="step")
    start = time.perf_counter()
    step = 0
    epoch = 0
    try:
        while epochs is None or epoch < epochs:
            _set_train_mode(model)
            lr = optimizer.param_groups[0]["lr"]
            loss_sum, metric_sum, seen = 0.0, 0.0, 0
            for x, y in train_loader:
                outputs = model(x)
                loss = loss_fn(outputs, y)
                value = loss.item()
                if not math.isfinite(value):
                    raise TrainingDiverged(
                        f"the training loss became {value} at epoch {epoch + 1}, step {step + 1} "
                        f"(learning rate {optimizer.param_groups[0]['lr']:g}); lower the learning rate "
                        f"or clip the gradients", history)
                optimizer.zero_grad()
                loss.backward()
                if clip_grad_norm is not None:
                    nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
                optimizer.step()
                step += 1
                if on_step is not None:
                    on_step(model, step, value)
                if scheduler is not None and scheduler_step == "step":
                    scheduler.step()
                n = len(y)
                seen += n
                loss_sum += value * n
                if metric_fn is not None:
                    with torch.no_grad():
                        metric_sum += metric_fn(_map_tensors(outputs, torch.Tensor.detach), y) * n
                history["step_loss"].append(value)
                if bar is not None:
                    bar.update(1)
                    if step % 10 == 0:
                        bar.set_postfix(loss=f"{value:.3f}")
            if scheduler is not None and scheduler_step == "epoch":
                scheduler.step()
            epoch += 1
            history["train_loss"].append(loss_sum / seen)
            if name:
                history[f"train_{name}"].append(metric_sum / seen)
            history["lr"].append(lr)
            if val_loader is not None:
                scores = evaluate(model, val_loader, loss_fn=loss_fn, metric=metric)
                history["val_loss"].append(scores["loss"])
                if name:
                    history[f"val_{name}"].append(scores[name])
            elapsed = time.perf_counter() - start
            history["seconds"].append(elapsed)
            if time_budget_s is not None and elapsed >= time_budget_s:
                break
    finally:
        if bar is not None:
            bar.close()
    return history


def evaluate(model, data, loss_fn=None, metric="accuracy", batch_size=256) -> dict:
    """Loss and metric of ``model`` on ``data``, in eval mode, without gradients.

    Parameters
    ----------
    model : torch.nn.Module
    data : DataLoader or tuple (x, y)
    loss_fn : callable, default ``nn.CrossEntropyLoss()``
    metric : "accuracy", callable or None, default "accuracy"
    batch_size : int, default 256
        Used when ``data`` is a tuple.

    Returns
    -------
    dict
        ``{"loss": float, <metric name>: float}``, averages over examples.
    """
    check_module(model)
    metric_fn = _check_metric(metric)
    name = _metric_name(metric)
    loss_fn = nn.CrossEntropyLoss() if loss_fn is None else loss_fn
    if isinstance(data, (tuple, list)) and len(data) == 2:
        batch_size = check_int(batch_size, "batch_size", minimum=1)
        data = make_loader(data[0], data[1], batch_size=batch_size, shuffle=False)
    loader = _as_loader(data, "data", shuffle=False)
    loss_sum, metric_sum, seen = 0.0, 0.0, 0
    with eval_mode(model):
        for x, y in loader:
            outputs = model(x)
            n = len(y)
            seen += n
            loss_sum += loss_fn(outputs, y).item() * n
            if metric_fn is not None:
                metric_sum += metric_fn(outputs, y) * n
    if seen == 0:
        raise ValueError("data must hold at least one example")
    scores = {"loss": loss_sum / seen}
    if name:
        scores[name] = metric_sum / seen
    return scores


def predict(model, x, batch_size=256):
    """Outputs of ``model`` on the tensor ``x``, in eval mode, without gradients.

    A model that returns several tensors (a tuple or dict, e.g. class scores
    and boxes) gets them back in the same structure, each joined over batches.
    """
    check_module(model)
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch tensor; got {type(x).__name__}")
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    with eval_mode(model):
        return _concatenate([model(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


def freeze(model, up_to=None) -> list:
    """Stop training the first top-level children of ``model``.

    Parameters
    ----------
    model : torch.nn.Module
    up_to : str, optional
        Name of a top-level child (as in ``model.named_children()``). That
        child and every child before it are frozen; the ones after it train.
        ``None`` freezes the whole model.

    Returns
    -------
    list of str
        Names of the parameters that were frozen.

    Notes
    -----
    Frozen parameters get ``requires_grad = False``, so build the optimizer
    after freezing (or over ``filter(lambda p: p.requires_grad, ...)``).
    BatchNorm layers in the frozen part are kept in eval mode by :func:`fit`,
    so their running statistics stay those of the source task.
    """
    check_module(model)
    names = [child_name for child_name, _ in model.named_children()]
    if up_to is None:
        chosen = names
    elif up_to in names:
        chosen = names[:names.index(up_to) + 1]
    else:
        raise ValueError(f"up_to must be None or the name of a top-level child of model, one of {names}; "
                         f"got {up_to!r}")
    frozen = []
    children = dict(model.named_children())
    targets = [(n, children[n]) for n in chosen] if names else [("", model)]
    for child_name, child in targets:
        for module in child.modules():
            module._course_frozen = True
        for param_name, param in child.named_parameters():
            param.requires_grad_(False)
            frozen.append(f"{child_name}.{param_name}" if child_name else param_name)
    return frozen


def unfreeze(model) -> None:
    """Make every parameter of ``model`` trainable again."""
    check_module(model)
    for module in model.modules():
        if hasattr(module, "_course_frozen"):
            del module._course_frozen
    for param in model.parameters():
        param.requires_grad_(True)
