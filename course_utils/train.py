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

The same loop trains detectors (Part 5) with torchvision's conventions:
``loss_fn="model"`` lets the model compute its own losses from
``model(images, targets)``; targets may be a list with one dict per image
(:func:`course_utils.data.detection_collate`); outputs that are a list of
dicts (a detector's boxes, scores and labels) stay one dict per image; and a
metric wrapped by :func:`split_metric` (average precision, mIoU) is measured
once on the whole split instead of averaged over batches. ``device=`` runs
any of it on a GPU.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import contextmanager
import itertools
import math
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

from ._checks import check_choice, check_int, check_module, check_number

#: Seconds between two redraws of :func:`fit`'s progress bar.
PROGRESS_INTERVAL_S = 1.0

__all__ = [
    "TrainingDiverged",
    "History",
    "accuracy",
    "SplitMetric",
    "split_metric",
    "make_loader",
    "fit",
    "fit_one_cycle",
    "EarlyStopping",
    "evaluate",
    "predict",
    "ms_per_image",
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
    if not isinstance(outputs, torch.Tensor) or not isinstance(targets, torch.Tensor):
        # the default metric meeting a detector's list of dicts would otherwise fail deep inside torch
        raise TypeError(f"accuracy needs class scores (an (N, C) tensor) and integer targets (an (N,) tensor); "
                        f"got {type(outputs).__name__} and {type(targets).__name__}. For a detector pass "
                        f"metric=None or a whole-split metric (train.split_metric)")
    return (outputs.argmax(dim=1) == targets).float().mean().item()


class SplitMetric:
    """A metric measured once on a whole split, not averaged over batches.

    Average precision, mean IoU or a median are not means of per-batch
    values: AP ranks the detections of *all* images by score before it
    counts anything. Wrapped in a ``SplitMetric`` (or :func:`split_metric`),
    ``fn`` is called once per split by :func:`evaluate` (and so by
    :func:`fit`'s validation) with every output and every target of the
    split, on the CPU: tensors joined along their first dimension, lists of
    per-image dicts (a detector's outputs, detection targets) joined into one
    list.

    Parameters
    ----------
    fn : callable(outputs, targets) -> float
    name : str, optional
        Key of the metric in results and histories; default ``fn.__name__``.

    Notes
    -----
    The outputs of the whole split are kept in memory until ``fn`` runs.
    :func:`fit` does not measure a split metric on the training batches (it
    would have to keep a whole epoch of outputs, made while the weights were
    moving): a history has ``"val_<name>"`` only.
    """

    def __init__(self, fn, name=None):
        if isinstance(fn, SplitMetric):
            fn, name = fn.fn, fn.__name__ if name is None else name
        if not callable(fn):
            raise TypeError(f"fn must be callable(outputs, targets) -> float; got {type(fn).__name__}")
        if name is None:
            name = getattr(fn, "__name__", "metric")
        if not isinstance(name, str) or not name:
            raise TypeError(f"name must be a non-empty string; got {name!r}")
        self.fn = fn
        self.__name__ = name

    def __call__(self, outputs, targets) -> float:
        value = self.fn(outputs, targets)
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            value = value.item()
        try:
            return float(value)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"the split metric {self.__name__!r} must return a number; "
                            f"got {type(value).__name__}") from exc

    def __repr__(self):
        return f"SplitMetric({self.__name__!r})"


def split_metric(fn=None, *, name=None):
    """Mark ``fn(outputs, targets)`` as measured once on the whole split (see :class:`SplitMetric`).

    Use it as a function or as a decorator::

        mean_ap = split_metric(lambda out, tgt: evaluate_detections(out, tgt)["AP"], name="AP")

        @split_metric
        def median_error(outputs, targets):
            return (outputs - targets).abs().median().item()

    Parameters
    ----------
    fn : callable(outputs, targets) -> float, optional
        Without it, returns a decorator (``@split_metric(name="AP")``).
    name : str, optional
        Default ``fn.__name__``.

    Returns
    -------
    SplitMetric
    """
    if fn is None:
        return lambda f: SplitMetric(f, name=name)
    return SplitMetric(fn, name=name)


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


def _check_loss_fn(loss_fn):
    """``nn.CrossEntropyLoss()`` for None, the string ``"model"``, or a callable."""
    if loss_fn is None:
        return nn.CrossEntropyLoss()
    if isinstance(loss_fn, str):
        return check_choice(loss_fn, "loss_fn", ("model",))
    if not callable(loss_fn):
        raise TypeError(f'loss_fn must be callable(outputs, targets), "model" or None; got {type(loss_fn).__name__}')
    return loss_fn


def _model_losses(model, x, y):
    """``loss_fn="model"``: the model's own losses, torchvision's ``model(images, targets)`` convention."""
    losses = model(x, y)
    if not isinstance(losses, Mapping) or not losses or not all(
            isinstance(v, torch.Tensor) and v.numel() == 1 for v in losses.values()):
        raise TypeError('loss_fn="model" expects model(inputs, targets) in train mode to return a non-empty dict '
                        'of scalar loss tensors (torchvision\'s detectors do); got '
                        f'{type(losses).__name__}')
    return sum(v.reshape(()) for v in losses.values()), losses


def _map_tensors(outputs, fn):
    """Apply ``fn`` to a tensor, or to every tensor of a tuple, list or dict of them."""
    if isinstance(outputs, torch.Tensor):
        return fn(outputs)
    if isinstance(outputs, (tuple, list)):
        return type(outputs)(_map_tensors(o, fn) for o in outputs)
    if isinstance(outputs, Mapping):
        return {k: _map_tensors(v, fn) for k, v in outputs.items()}
    return outputs


def _to_cpu(value):
    return _map_tensors(value, lambda t: t.detach().cpu())


def _per_image(batch):
    """Whether a batch is one dict per image (a detector's outputs, detection targets)."""
    return isinstance(batch, (tuple, list)) and all(isinstance(item, Mapping) for item in batch)


def _concatenate(batches):
    """Join per-batch outputs: tensors, lists of per-image dicts, or tuples / dicts of tensors."""
    first = batches[0]
    if isinstance(first, torch.Tensor):
        return torch.cat(batches)
    # one dict per image: the images of all batches in one list (their boxes differ in number, no stacking)
    if all(_per_image(b) for b in batches) and any(len(b) for b in batches):
        return [item for b in batches for item in b]
    if isinstance(first, (tuple, list)):
        return type(first)(_concatenate([b[i] for b in batches]) for i in range(len(first)))
    if isinstance(first, Mapping):
        return {k: _concatenate([b[k] for b in batches]) for k in first}
    raise TypeError(f"model outputs must be tensors, lists of dicts (one per image), or tuples or dicts of "
                    f"tensors; got {type(first).__name__}")


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


def _check_device(device, model):
    """The device to run on: ``device`` checked, or the device of the model's first parameter (else CPU)."""
    if device is None:
        # not moving a model the caller placed: None means "wherever the model is", the CPU unless moved
        for tensor in itertools.chain(model.parameters(), model.buffers()):
            return tensor.device
        return torch.device("cpu")
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"device must be None, a string such as 'cpu', 'cuda' or 'cuda:1', or a torch.device; "
                        f"got {type(device).__name__} {device!r}")
    try:
        device = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"device must be None, a string such as 'cpu', 'cuda' or 'cuda:1', or a torch.device; "
                         f"got {device!r}") from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {str(device)!r} was asked for, but torch sees no CUDA GPU here "
                             f"(torch.cuda.is_available() is False); use device='cpu' or None")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f"device {str(device)!r} was asked for, but there are only "
                             f"{torch.cuda.device_count()} CUDA GPUs")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device 'mps' was asked for, but torch.backends.mps.is_available() is False; "
                         "use device='cpu' or None")
    return device


def _place(model, device):
    """Resolve ``device`` for ``model`` and move the model there when a device was asked for."""
    resolved = _check_device(device, model)
    if device is not None:
        model.to(resolved)  # in place: the optimizer keeps the same parameter objects
    return resolved


def _to_device(batch, device):
    """Move every tensor of a batch (tensors, lists / tuples / dicts of them, nested) to ``device``."""
    return _map_tensors(batch, lambda t: t.to(device))


def _pair(batch, name):
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise TypeError(f"{name} must yield (inputs, targets) pairs; got a batch of type {type(batch).__name__}"
                        + (f" with {len(batch)} elements" if isinstance(batch, (tuple, list)) else ""))
    return batch[0], batch[1]


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


def _is_dataset(data):
    """A map-style data set: a torch Dataset, or anything a DataLoader can index (SceneDataset, a list).

    Not a tuple: the course passes ``(x, y)`` as a tuple, and a tuple read as a
    data set of two items would fail far from the mistake.
    """
    if isinstance(data, (torch.Tensor, tuple, str, bytes, Mapping)):
        return False
    return isinstance(data, Dataset) or (hasattr(data, "__getitem__") and hasattr(data, "__len__"))


def _measure_loader(data, name, batch_size, collate_fn, tensors_allowed):
    """A loader in data order for evaluate / predict: a DataLoader as it is, a Dataset batched here."""
    if collate_fn is not None and not callable(collate_fn):
        raise TypeError(f"collate_fn must be None or callable(list of items); got {type(collate_fn).__name__}")
    if isinstance(data, DataLoader):
        if collate_fn is not None:
            raise ValueError(f"collate_fn is for a Dataset; the DataLoader given as {name} has its own "
                             f"(build it with collate_fn=...)")
        return data
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    # a tuple of two is (x, y), as fit reads it (make_loader says what is wrong with it); a list may be a Dataset
    if tensors_allowed and ((isinstance(data, tuple) and len(data) == 2) or (
            isinstance(data, list) and len(data) == 2 and all(isinstance(d, torch.Tensor) for d in data))):
        if collate_fn is not None:
            raise ValueError(f"collate_fn is for a Dataset; {name} is a tuple (x, y) of tensors")
        return make_loader(data[0], data[1], batch_size=batch_size, shuffle=False)
    if _is_dataset(data):
        return DataLoader(data, batch_size=batch_size, shuffle=False, collate_fn=collate_fn)
    wanted = "a DataLoader, a tuple (x, y) of tensors or a Dataset" if tensors_allowed else \
        "a tensor, a DataLoader or a Dataset"
    raise TypeError(f"{name} must be {wanted}; got {type(data).__name__}")


def _item_kind(loader):
    """What the loader's data set holds: "pair" (x, y), "single" ((x,), as TensorDataset(x)), "input", or None.

    Read from the first item of a map-style data set, because the batches
    alone are ambiguous: a list of two images and an (images, targets) pair
    look the same.
    """
    dataset = loader.dataset
    try:
        if len(dataset) == 0:
            return None
        item = dataset[0]
    except (TypeError, KeyError, IndexError, NotImplementedError):  # iterable-style data sets
        return None
    if isinstance(item, (tuple, list)) and len(item) == 2:
        return "pair"
    if isinstance(item, (tuple, list)) and len(item) == 1:
        return "single"
    return "input"


def _split_batch(batch, kind):
    """``(inputs, targets or None)`` of one batch, given the loader's :func:`_item_kind`."""
    if kind == "pair" or (kind is None and isinstance(batch, (tuple, list)) and len(batch) == 2):
        return batch[0], batch[1]
    if kind == "single":
        return batch[0], None
    return batch, None


def _set_train_mode(model):
    """Train mode, except for BatchNorm layers inside frozen parts."""
    model.train()
    for module in model.modules():
        if getattr(module, "_course_frozen", False) and isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.eval()


def fit(model, train, optimizer, *, epochs=None, time_budget_s=None, loss_fn=None, val=None,
        scheduler=None, scheduler_step="epoch", metric="accuracy", progress=True,
        clip_grad_norm=None, on_step=None, device=None, on_epoch=None) -> History:
    """Train ``model`` with mini-batch gradient descent and return its history.

    Parameters
    ----------
    model : torch.nn.Module
    train : DataLoader or tuple (x, y)
        Training data; a tuple becomes a shuffled loader with batches of 64
        (see :func:`make_loader`). Targets may be a tensor or, for detection,
        a list with one dict of tensors per image
        (:func:`course_utils.data.detection_collate`).
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
    loss_fn : callable, "model" or None, default ``nn.CrossEntropyLoss()``
        ``loss_fn(outputs, targets)``; or ``"model"``: the model computes its
        own losses, as torchvision's detectors do: in train mode
        ``model(inputs, targets)`` returns a dict of scalar losses, whose sum
        is minimised. Each loss is recorded in the history too
        (``"train_loss_classifier"``, ...). ``metric`` is then not measured
        on training batches (the model returns losses, not predictions), and
        validation reports the metric only (see :func:`evaluate`).
    val : DataLoader or tuple (x, y), optional
        Validation data, measured after every epoch in eval mode by
        :func:`evaluate`.
    scheduler : torch.optim.lr_scheduler.LRScheduler, optional
    scheduler_step : {"epoch", "step"}, default "epoch"
        Step the scheduler after every epoch or after every batch.
    metric : "accuracy", callable or None, default "accuracy"
        Measured on each batch (training) and on ``val``. A model may return
        a tuple or dict of tensors (e.g. class scores and boxes); ``loss_fn``
        and ``metric`` then receive that structure. A metric made by
        :func:`split_metric` (AP, mIoU) is measured once on the whole of
        ``val`` and not on training batches.
    progress : bool, default True
        Show a tqdm progress bar over all steps.
    clip_grad_norm : float, optional
        Clip the global gradient norm to this value before each step.
    on_step : callable(model, step, loss), optional
        Called after each optimizer step, while the gradients are still set.
    device : str or torch.device, optional
        Where to train, e.g. ``"cuda"``: the model is moved there (and stays
        there) and every batch (tensors, and tensors inside lists, tuples and
        dicts) is moved there before the model sees it. Default: where the
        model already is (the CPU unless it was moved).
    on_epoch : callable(model, history) -> bool, optional
        Called at the end of every epoch, after validation, with the
        history so far. If it returns True, training stops there (early
        stopping: see :class:`EarlyStopping`).

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
    loss_fn = _check_loss_fn(loss_fn)
    model_loss = isinstance(loss_fn, str)  # "model", the only string accepted
    if on_step is not None and not callable(on_step):
        raise TypeError(f"on_step must be callable(model, step, loss); got {type(on_step).__name__}")
    if on_epoch is not None and not callable(on_epoch):
        raise TypeError(f"on_epoch must be callable(model, history); got {type(on_epoch).__name__}")
    if clip_grad_norm is not None:
        clip_grad_norm = check_number(clip_grad_norm, "clip_grad_norm", minimum=0, strict_minimum=True)
    metric_fn = _check_metric(metric)
    name = _metric_name(metric)
    if model_loss and val is not None and metric_fn is None:
        raise ValueError('with loss_fn="model" validation measures the metric only (a detector returns '
                         'detections, not losses, in eval mode): give a metric, or no val')
    # a per-batch training metric needs predictions: not there with "model" losses, not meant for split metrics
    batch_metric = None if model_loss or isinstance(metric_fn, SplitMetric) else metric_fn
    train_loader = _as_loader(train, "train", shuffle=True)
    val_loader = None if val is None else _as_loader(val, "val", shuffle=False)
    if len(train_loader) == 0:
        raise ValueError("train must yield at least one batch")
    device = _place(model, device)

    history = History(train_loss=[], step_loss=[], lr=[], seconds=[])
    if batch_metric is not None:
        history[f"train_{name}"] = []
    if val_loader is not None:
        if not model_loss:
            history["val_loss"] = []
        if name:
            history[f"val_{name}"] = []

    total_steps = None if epochs is None else epochs * len(train_loader)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        # At most one redraw a second, however fast or slow the steps: in a
        # notebook each redraw is a few widget messages, and a kernel client
        # that is not reading them while the cell runs (nbval) keeps only
        # about a thousand before zmq drops the rest, the cell's own end
        # included, so a cell that redraws too often fails on a slow machine.
        bar = tqdm(total=total_steps, desc="training", unit="step", mininterval=PROGRESS_INTERVAL_S)
    start = time.perf_counter()
    step = 0
    epoch = 0
    try:
        while epochs is None or epoch < epochs:
            _set_train_mode(model)
            lr = optimizer.param_groups[0]["lr"]
            loss_sum, metric_sum, seen = 0.0, 0.0, 0
            part_sums = {}  # the model's own losses, by name
            for batch in train_loader:
                x, y = _to_device(_pair(batch, "train"), device)
                if model_loss:
                    loss, parts = _model_losses(model, x, y)
                else:
                    outputs = model(x)
                    loss, parts = loss_fn(outputs, y), {}
                value = loss.item()
                if not math.isfinite(value):
                    detail = "".join(f", {k} {v.item():.4g}" for k, v in parts.items())
                    raise TrainingDiverged(
                        f"the training loss became {value} at epoch {epoch + 1}, step {step + 1} "
                        f"(learning rate {optimizer.param_groups[0]['lr']:g}{detail}); lower the learning rate "
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
                for key, part in parts.items():
                    part_sums[key] = part_sums.get(key, 0.0) + part.item() * n
                if batch_metric is not None:
                    with torch.no_grad():
                        metric_sum += batch_metric(_map_tensors(outputs, torch.Tensor.detach), y) * n
                history["step_loss"].append(value)
                if bar is not None:
                    bar.update(1)
                    if step % 10 == 0:
                        bar.set_postfix(loss=f"{value:.3f}", refresh=False)  # drawn at the next redraw
            if scheduler is not None and scheduler_step == "epoch":
                scheduler.step()
            epoch += 1
            history["train_loss"].append(loss_sum / seen)
            for key, total in part_sums.items():
                if key != "loss":  # a single loss called "loss" is train_loss itself
                    history.setdefault(f"train_{key}", []).append(total / seen)
            if batch_metric is not None:
                history[f"train_{name}"].append(metric_sum / seen)
            history["lr"].append(lr)
            if val_loader is not None:
                scores = evaluate(model, val_loader, loss_fn=loss_fn, metric=metric, device=device)
                if not model_loss:
                    history["val_loss"].append(scores["loss"])
                if name:
                    history[f"val_{name}"].append(scores[name])
            elapsed = time.perf_counter() - start
            history["seconds"].append(elapsed)
            if time_budget_s is not None and elapsed >= time_budget_s:
                break
            if on_epoch is not None and on_epoch(model, history):
                break
    finally:
        if bar is not None:
            bar.close()
    return history


class EarlyStopping:
    """Remember the weights of the best validation epoch; optionally stop when it is long past.

    Pass it to :func:`fit` as ``on_epoch``. After every epoch it reads
    ``history[monitor]`` (a validation key, so ``fit`` needs ``val``); when
    the value is the best so far it copies the model's ``state_dict``. With
    ``patience`` it stops training once that many epochs have passed without
    a better value; without, training runs its full course and the best
    epoch is only remembered. :meth:`restore` loads the remembered weights.
    The validation data chose the epoch, so the validation score of that
    epoch is an optimistic estimate: measure the restored model on test
    data.

    A NaN value (a diverged epoch) is never the best. A history holding one
    value is a new run: what an earlier ``fit`` left is forgotten, so one
    instance can watch several runs in turn.

    Parameters
    ----------
    monitor : str, default "val_loss"
        History key to watch.
    mode : {"min", "max"}, default "min"
        Whether lower (``"val_loss"``) or higher (``"val_accuracy"``) is better.
    patience : int, optional
        Epochs without improvement before training stops.

    Attributes
    ----------
    best_epoch : int or None
        1-based epoch of the best value (None before the first epoch).
    best_value : float or None
    best_state : dict or None
        A copy of the model's ``state_dict`` at ``best_epoch``.
    """

    def __init__(self, monitor="val_loss", mode="min", patience=None):
        if not isinstance(monitor, str) or not monitor:
            raise TypeError(f"monitor must be a history key such as 'val_loss'; got {monitor!r}")
        self.monitor = monitor
        self.mode = check_choice(mode, "mode", ("min", "max"))
        self.patience = None if patience is None else check_int(patience, "patience", minimum=1)
        self.best_epoch = self.best_value = self.best_state = None

    def __call__(self, model, history) -> bool:
        if self.monitor not in history or not history[self.monitor]:
            raise KeyError(f"history has no {self.monitor!r} values; it has {sorted(history)} "
                           f"(give fit validation data to watch a val_ key)")
        value, epoch = float(history[self.monitor][-1]), len(history[self.monitor])
        if epoch == 1:  # a new run
            self.best_epoch = self.best_value = self.best_state = None
        better = not math.isnan(value) and (
            self.best_value is None or (value < self.best_value if self.mode == "min" else value > self.best_value))
        if better:
            self.best_epoch, self.best_value = epoch, value
            self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        return self.patience is not None and epoch - (self.best_epoch or 0) >= self.patience

    def restore(self, model):
        """Load the weights of the best epoch into ``model``; returns ``model``."""
        if self.best_state is None:
            raise RuntimeError("no epoch with a finite value recorded yet: pass this EarlyStopping to "
                               "fit(on_epoch=...) first (a run whose every value was NaN records none)")
        check_module(model)
        model.load_state_dict(self.best_state)
        return model

    def __repr__(self):
        return (f"EarlyStopping(monitor={self.monitor!r}, best_epoch={self.best_epoch}, "
                f"best_value={self.best_value})")


def fit_one_cycle(model, loader, max_lr, loss_fn="model", weight_decay=1e-4, pct_start=0.1, progress=True, *,
                  epochs=1, optimizer="adamw"):
    """``epochs`` passes over ``loader`` with AdamW (or Adam) and a one-cycle learning rate stepped every batch.

    The recipe of the detectors and segmenters of Parts 5 and 6, trained on
    fresh scenes (:func:`course_utils.data.fresh_scene_loader`): the rate
    warms up over the first ``pct_start`` of the steps to ``max_lr``, then
    anneals to almost zero. Only parameters that require gradients are
    optimized, so a frozen part of the model stays as it is.

    Parameters
    ----------
    model : nn.Module
    loader : DataLoader
        One optimizer step per batch.
    max_lr, weight_decay, pct_start : float
    loss_fn : "model", callable or None
        As in :func:`fit` (None: cross-entropy).
    progress : bool
    epochs : int
        Passes over ``loader``; the cycle spans all of them.
    optimizer : {"adamw", "adam"}
        "adam" is ``torch.optim.Adam`` with ``weight_decay`` as its L2 term
        (the classifiers of Parts 3 and 4 use it with 0).

    Returns
    -------
    History
        ``history["seconds"][-1]`` is the training time.
    """
    check_module(model)
    trainable = [p for p in model.parameters() if p.requires_grad]
    if not trainable:
        raise ValueError("model has no parameter that requires gradients")
    epochs = check_int(epochs, "epochs", minimum=1)
    kind = check_choice(optimizer, "optimizer", ("adamw", "adam"))
    steps = epochs * len(loader)
    make = torch.optim.AdamW if kind == "adamw" else torch.optim.Adam
    optimizer = make(trainable, lr=max_lr, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=steps, pct_start=pct_start)
    return fit(model, loader, optimizer, epochs=epochs, loss_fn=loss_fn, metric=None, scheduler=schedule,
               scheduler_step="step", progress=progress)


def evaluate(model, data, loss_fn=None, metric="accuracy", batch_size=256, *, device=None,
             collate_fn=None) -> dict:
    """Loss and metric of ``model`` on ``data``, in eval mode, without gradients.

    Parameters
    ----------
    model : torch.nn.Module
    data : DataLoader, tuple (x, y) of tensors, or Dataset of (x, y) pairs
        Measured in order. Targets may be a list with one dict per image.
    loss_fn : callable, "model" or None, default ``nn.CrossEntropyLoss()``
        With ``"model"`` no loss is reported: a model that computes its own
        losses needs the targets and train mode, and torchvision's detectors
        return detections, not losses, in eval mode. The result then holds
        the metric only, which is therefore required.
    metric : "accuracy", callable or None, default "accuracy"
        A plain metric is averaged over batches (weighted by their sizes); a
        :func:`split_metric` is called once with the outputs and targets of
        the whole of ``data``, on the CPU.
    batch_size : int, default 256
        Used when ``data`` is a tuple or a Dataset.
    device : str or torch.device, optional
        Where to run (the model is moved there); default where the model is.
    collate_fn : callable, optional
        Joins a Dataset's items into a batch, e.g.
        :func:`course_utils.data.detection_collate`; a DataLoader brings its own.

    Returns
    -------
    dict
        ``{"loss": float, <metric name>: float}``, averages over examples
        (``{<metric name>: float}`` with ``loss_fn="model"``).
    """
    check_module(model)
    metric_fn = _check_metric(metric)
    name = _metric_name(metric)
    loss_fn = _check_loss_fn(loss_fn)
    model_loss = isinstance(loss_fn, str)  # "model", the only string accepted
    if model_loss and metric_fn is None:
        raise ValueError('with loss_fn="model" evaluate reports the metric only (no loss in eval mode): '
                         'give a metric')
    loader = _measure_loader(data, "data", batch_size, collate_fn, tensors_allowed=True)
    device = _place(model, device)
    split = isinstance(metric_fn, SplitMetric)
    loss_sum, metric_sum, seen = 0.0, 0.0, 0
    all_outputs, all_targets = [], []
    with eval_mode(model):
        for batch in loader:
            x, y = _pair(batch, "data")
            outputs = model(_to_device(x, device))
            n = len(y)
            seen += n
            if split:  # kept on the CPU for one call at the end: a split's outputs may not fit on the GPU
                all_outputs.append(_to_cpu(outputs))
                all_targets.append(_to_cpu(y))
            y = _to_device(y, device)
            if not model_loss:
                loss_sum += loss_fn(outputs, y).item() * n
            if metric_fn is not None and not split:
                metric_sum += metric_fn(outputs, y) * n
    if seen == 0:
        raise ValueError("data must hold at least one example")
    scores = {} if model_loss else {"loss": loss_sum / seen}
    if name:
        scores[name] = metric_fn(_concatenate(all_outputs), _concatenate(all_targets)) if split \
            else metric_sum / seen
    return scores


def predict(model, x, batch_size=256, *, device=None, collate_fn=None, return_targets=False):
    """Outputs of ``model`` on ``x``, in eval mode, without gradients, on the CPU.

    Parameters
    ----------
    model : torch.nn.Module
    x : torch.Tensor, Dataset or DataLoader
        Inputs: a tensor (cut into batches along its first dimension), or a
        Dataset (a list is one, a tuple is not) / DataLoader whose items are
        ``(inputs, targets)`` pairs (the targets are set aside) or inputs
        alone, as its first item says.
    batch_size : int, default 256
        Used when ``x`` is a tensor or a Dataset.
    device : str or torch.device, optional
        Where to run (the model is moved there); default where the model is.
    collate_fn : callable, optional
        Joins a Dataset's items into a batch, e.g.
        :func:`course_utils.data.detection_collate`; a DataLoader brings its own.
    return_targets : bool, default False
        Also return the targets of a data set of pairs, joined the same way.

    Returns
    -------
    outputs
        In the model's structure, joined over batches: a tensor; a tuple or
        dict of tensors (e.g. class scores and boxes), each joined; or, when
        the model returns a list with one dict per image (a torchvision
        detector in eval mode), one list with one dict per image.
    targets
        Only with ``return_targets``.
    """
    check_module(model)
    if isinstance(x, torch.Tensor):
        batch_size = check_int(batch_size, "batch_size", minimum=1)
        if collate_fn is not None:
            raise ValueError("collate_fn is for a Dataset; x is a tensor")
        if return_targets:
            raise ValueError("return_targets needs data with targets (a Dataset or DataLoader of pairs); "
                             "x is a tensor of inputs")
        batches = ((x[i:i + batch_size], None) for i in range(0, len(x), batch_size))
    else:
        loader = _measure_loader(x, "x", batch_size, collate_fn, tensors_allowed=False)
        kind = _item_kind(loader)
        batches = (_split_batch(batch, kind) for batch in loader)
    device = _place(model, device)
    outputs, targets = [], []
    with eval_mode(model):
        for inputs, y in batches:
            outputs.append(_to_cpu(model(_to_device(inputs, device))))
            if return_targets:
                if y is None:
                    raise ValueError("return_targets needs data with targets: the items of x are inputs alone")
                targets.append(_to_cpu(y))
    if not outputs:
        raise ValueError("x must hold at least one example")
    if return_targets:
        return _concatenate(outputs), _concatenate(targets)
    return _concatenate(outputs)


def ms_per_image(model, images, batch_size=10, repeats=3, **per_image):
    """Milliseconds per image of ``model`` in eval mode: the best of ``repeats`` passes over ``images``.

    The best run, not the mean: other programs on the computer only ever add
    time. The figure is this computer's; compare models measured the same way,
    in the same session.

    Parameters
    ----------
    model : torch.nn.Module
    images : tensor (N, ...)
        Given to the model ``batch_size`` at a time.
    batch_size, repeats : int
    **per_image : lists of length N
        Extra keyword arguments with one entry per image (such as the
        ``proposals`` of R-CNN), sliced with the images.

    Returns
    -------
    float
    """
    check_module(model)
    if not isinstance(images, torch.Tensor) or images.ndim < 1 or len(images) == 0:
        raise TypeError(f"images must be a non-empty tensor with one image per row, got {type(images).__name__}")
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    repeats = check_int(repeats, "repeats", minimum=1)
    for name, values in per_image.items():
        if len(values) != len(images):
            raise ValueError(f"{name} must have one entry per image ({len(images)}), got {len(values)}")
    best = math.inf
    with eval_mode(model):
        for _ in range(repeats):
            start = time.perf_counter()
            for i in range(0, len(images), batch_size):
                model(images[i:i + batch_size], **{k: v[i:i + batch_size] for k, v in per_image.items()})
            best = min(best, time.perf_counter() - start)
    return 1e3 * best / len(images)


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
