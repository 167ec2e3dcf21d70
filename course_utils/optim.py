"""Optimizers, exponentially weighted averages and learning-rate schedules in NumPy.

Each optimizer keeps its state (velocities, squared-gradient averages) and
updates a list of parameter arrays *in place* with ``step(params, grads)``.
The tests run 100 steps on random problems and compare with torch, in
float64, to 1e-6:

* :class:`SGD` equals ``torch.optim.SGD(lr)``;
* :class:`Momentum` with ``ewma=False`` (``V = beta V + g``) equals
  ``torch.optim.SGD(lr, momentum=beta)``; with ``ewma=True``
  (``V = beta V + (1 - beta) g``, ``V_0 = 0``, the form the notes teach) it
  differs from ``SGD(momentum=beta, dampening=beta)``, which starts its
  buffer at the first gradient instead of ``(1 - beta) g``: the difference
  shrinks like ``beta^t`` (:func:`ewma_momentum_vs_torch_dampening`);
* :class:`RMSProp` equals ``torch.optim.RMSprop(lr, alpha=beta, eps)``
  (eps added *outside* the square root, in both);
* :class:`Adam` equals ``torch.optim.Adam`` (bias correction, eps outside
  the square root of the corrected second moment, in both);
* :class:`Nesterov` equals ``torch.optim.SGD(lr, momentum=beta, nesterov=True)``;
* :class:`AdamW` equals ``torch.optim.AdamW(lr, weight_decay=wd)``; with
  ``decoupled=False`` (Adam + L2) it equals ``torch.optim.Adam(lr, weight_decay=wd)``.

The schedules equal torch's ``StepLR``, ``ExponentialLR``,
``CosineAnnealingLR``, ``OneCycleLR`` (:func:`one_cycle`) and a ``LambdaLR`` with
``1 / (1 + k t)``.
The test functions (an ill-conditioned quadratic and Rosenbrock's) are used
by notebook 10; their trajectory plots live in :mod:`course_utils.viz.trajectories`.
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import check_array, check_int, check_number

__all__ = [
    "Optimizer",
    "SGD",
    "Momentum",
    "RMSProp",
    "Adam",
    "Nesterov",
    "AdamW",
    "ewma",
    "step_decay",
    "exponential_decay",
    "inverse_time_decay",
    "cosine_decay",
    "one_cycle",
    "quadratic",
    "rosenbrock",
    "run_optimizer",
]


class Optimizer:
    """Base class: checks the arguments of :meth:`step` and counts steps."""

    def __init__(self, lr):
        self.lr = check_number(lr, "lr", minimum=0.0, strict_minimum=True)
        self.t = 0          # number of steps taken
        self.state = None   # per-parameter state, created at the first step

    def step(self, params, grads):
        """Update every array of ``params`` in place from its gradient in ``grads``."""
        if not isinstance(params, (list, tuple)) or not isinstance(grads, (list, tuple)):
            raise TypeError("params and grads must be lists of NumPy arrays")
        if len(params) != len(grads):
            raise ValueError(f"grads must have one array per parameter ({len(params)}), got {len(grads)}")
        for i, (p, g) in enumerate(zip(params, grads)):
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
                raise TypeError(f"params[{i}] must be a float NumPy array (it is updated in place)")
            if np.shape(g) != p.shape:
                raise ValueError(f"grads[{i}] must have shape {p.shape}, got {np.shape(g)}")
        if self.state is None:
            self.state = [self._init_state(p) for p in params]
        elif len(self.state) != len(params):
            raise ValueError("params must be the same list at every step")
        self.t += 1
        for p, g, s in zip(params, grads, self.state):
            self._update(p, np.asarray(g, dtype=p.dtype), s)

    def _init_state(self, p):
        return {}

    def _update(self, p, g, state):
        raise NotImplementedError


class SGD(Optimizer):
    """Gradient descent: ``w <- w - lr * g``."""

    def _update(self, p, g, state):
        p -= self.lr * g


class Momentum(Optimizer):
    """Gradient descent with momentum.

    ``ewma=True`` (the notes' form): ``V = beta V + (1 - beta) g``, ``V_0 = 0``,
    ``w <- w - lr V``: V is an exponentially weighted average of the gradients.
    ``ewma=False`` (the classical form, torch's): ``V = beta V + g``. The two
    move the same way; the classical V is ``1 / (1 - beta)`` times larger, so
    it needs an ``lr`` ``1 - beta`` times smaller for the same steps.
    """

    def __init__(self, lr, beta=0.9, ewma=True):
        super().__init__(lr)
        self.beta = check_number(beta, "beta", minimum=0.0, maximum=1.0)
        if self.beta == 1:
            raise ValueError("beta must be < 1, got 1.0")
        if not isinstance(ewma, bool):
            raise TypeError(f"ewma must be True or False, got {ewma!r}")
        self.ewma = ewma

    def _init_state(self, p):
        return {"V": np.zeros_like(p)}

    def _update(self, p, g, state):
        weight = (1 - self.beta) if self.ewma else 1.0
        state["V"] = self.beta * state["V"] + weight * g
        p -= self.lr * state["V"]


class RMSProp(Optimizer):
    """RMSProp: ``S = beta S + (1 - beta) g^2``, ``w <- w - lr g / (sqrt(S) + eps)``.

    Each parameter's step is divided by the running size of its gradients:
    directions with large, oscillating gradients slow down, flat ones speed up.
    """

    def __init__(self, lr, beta=0.9, eps=1e-8):
        super().__init__(lr)
        self.beta = check_number(beta, "beta", minimum=0.0, maximum=1.0)
        self.eps = check_number(eps, "eps", minimum=0.0)

    def _init_state(self, p):
        return {"S": np.zeros_like(p)}

    def _update(self, p, g, state):
        state["S"] = self.beta * state["S"] + (1 - self.beta) * g**2
        p -= self.lr * g / (np.sqrt(state["S"]) + self.eps)


class Adam(Optimizer):
    """Adam: momentum and RMSProp together, with bias correction.

    ``V = b1 V + (1 - b1) g``, ``S = b2 S + (1 - b2) g^2``,
    ``V_hat = V / (1 - b1^t)``, ``S_hat = S / (1 - b2^t)``,
    ``w <- w - lr V_hat / (sqrt(S_hat) + eps)``.
    """

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(lr)
        self.beta1 = check_number(beta1, "beta1", minimum=0.0, maximum=1.0)
        self.beta2 = check_number(beta2, "beta2", minimum=0.0, maximum=1.0)
        if self.beta1 == 1 or self.beta2 == 1:
            raise ValueError(f"beta1 and beta2 must be < 1, got {beta1} and {beta2}")
        self.eps = check_number(eps, "eps", minimum=0.0)

    def _init_state(self, p):
        return {"V": np.zeros_like(p), "S": np.zeros_like(p)}

    def _update(self, p, g, state):
        state["V"] = self.beta1 * state["V"] + (1 - self.beta1) * g
        state["S"] = self.beta2 * state["S"] + (1 - self.beta2) * g**2
        v_hat = state["V"] / (1 - self.beta1**self.t)
        s_hat = state["S"] / (1 - self.beta2**self.t)
        p -= self.lr * v_hat / (np.sqrt(s_hat) + self.eps)


class Nesterov(Optimizer):
    """Nesterov momentum, in the classical (torch) form.

    Plain momentum takes the gradient at ``w`` and then adds the velocity.
    Nesterov's method looks ahead: it takes the gradient where the velocity
    is about to carry the weights, ``w - lr beta V``, which corrects an
    overshoot one step earlier. Written in the shifted variable (Sutskever
    et al., 2013), as torch does, the gradient is taken at the current
    weights and the step uses the velocity *after* this step's update::

        V = beta V + g,    w <- w - lr (g + beta V)

    Parameters
    ----------
    lr : float > 0
    beta : float in [0, 1)
        The momentum coefficient (torch's ``momentum``).
    """

    def __init__(self, lr, beta=0.9):
        super().__init__(lr)
        self.beta = check_number(beta, "beta", minimum=0.0, maximum=1.0)
        if self.beta == 1:
            raise ValueError("beta must be < 1, got 1.0")

    def _init_state(self, p):
        return {"V": np.zeros_like(p)}

    def _update(self, p, g, state):
        state["V"] = self.beta * state["V"] + g
        p -= self.lr * (g + self.beta * state["V"])


class AdamW(Adam):
    """Adam with weight decay: decoupled (AdamW) or as an L2 term in the gradient.

    ``decoupled=True`` (Loshchilov & Hutter, 2019): ``w <- (1 - lr wd) w``,
    then the Adam step of the loss gradient. Every weight shrinks by the same
    factor per step.
    ``decoupled=False`` (Adam + L2): the decay enters the gradient,
    ``g <- g + wd w``, before the averages. The decay term then goes through
    the division by ``sqrt(S_hat) + eps`` like the rest of the gradient:
    weights with large gradients are decayed less, weights with small ones more.

    Parameters
    ----------
    lr, beta1, beta2, eps : see :class:`Adam`
    weight_decay : float >= 0
    decoupled : bool
    """

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2, decoupled=True):
        super().__init__(lr, beta1, beta2, eps)
        self.weight_decay = check_number(weight_decay, "weight_decay", minimum=0.0)
        if not isinstance(decoupled, bool):
            raise TypeError(f"decoupled must be True or False, got {decoupled!r}")
        self.decoupled = decoupled

    def _update(self, p, g, state):
        if self.decoupled:
            p *= 1 - self.lr * self.weight_decay
        else:
            g = g + self.weight_decay * p
        super()._update(p, g, state)


def ewma(values, beta, bias_correction=False):
    """Exponentially weighted moving average ``v_t = beta v_{t-1} + (1 - beta) x_t``, ``v_0 = 0``.

    It averages over roughly the last ``1 / (1 - beta)`` values (beta = 0.9:
    10, 0.98: 50, 0.5: 2). Starting at 0 makes the first averages too small;
    ``bias_correction`` divides ``v_t`` by ``1 - beta^t`` to fix that.

    Parameters
    ----------
    values : (T,) array_like
    beta : float in [0, 1)
    bias_correction : bool

    Returns
    -------
    (T,) ndarray of float64
    """
    values = check_array(values, "values", ndim=1)
    beta = check_number(beta, "beta", minimum=0.0, maximum=1.0)
    if beta == 1:
        raise ValueError("beta must be < 1, got 1.0")
    out = np.empty(values.shape, dtype=np.float64)
    v = 0.0
    for t, x in enumerate(values, start=1):
        v = beta * v + (1 - beta) * x
        out[t - 1] = v / (1 - beta**t) if bias_correction else v
    return out


def _schedule_args(lr0, t):
    return check_number(lr0, "lr0", minimum=0.0, strict_minimum=True), check_int(t, "t", minimum=0)


def step_decay(lr0, t, drop=0.5, every=10):
    """``lr0 * drop ** floor(t / every)``: divide the rate by a constant every few epochs."""
    lr0, t = _schedule_args(lr0, t)
    drop = check_number(drop, "drop", minimum=0.0, maximum=1.0, strict_minimum=True)
    every = check_int(every, "every", minimum=1)
    return lr0 * drop ** (t // every)


def exponential_decay(lr0, t, rate=0.95):
    """``lr0 * rate ** t``."""
    lr0, t = _schedule_args(lr0, t)
    rate = check_number(rate, "rate", minimum=0.0, maximum=1.0, strict_minimum=True)
    return lr0 * rate**t


def inverse_time_decay(lr0, t, k=0.1):
    """``lr0 / (1 + k t)`` (the "1/t" decay)."""
    lr0, t = _schedule_args(lr0, t)
    k = check_number(k, "k", minimum=0.0)
    return lr0 / (1 + k * t)


def cosine_decay(lr0, t, total, lr_min=0.0):
    """``lr_min + (lr0 - lr_min) (1 + cos(pi t / total)) / 2``: half a cosine from lr0 to lr_min."""
    lr0, t = _schedule_args(lr0, t)
    total = check_int(total, "total", minimum=1)
    lr_min = check_number(lr_min, "lr_min", minimum=0.0)
    return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * min(t, total) / total)) / 2


def one_cycle(max_lr, t, total, pct_start=0.3, div_factor=25.0, final_div_factor=1e4, anneal="cos"):
    """The one-cycle schedule (Smith & Topin, 2019) at step ``t`` of ``total``.

    Warm-up: from ``max_lr / div_factor`` up to ``max_lr`` over the first
    ``pct_start`` of the steps; then down to ``max_lr / div_factor /
    final_div_factor`` at the last step (``t = total - 1``). Each phase is
    half a cosine (or a straight line with ``anneal="linear"``). The phase
    boundary sits at step ``pct_start * total - 1``, as in torch's
    ``OneCycleLR`` (which this equals, stepped once per batch, without its
    momentum cycling).

    Parameters
    ----------
    max_lr : float > 0
    t : int in [0, total - 1]
    total : int >= 2
        Number of steps (batches) of the whole run.
    pct_start : float in (0, 1)
        Share of the steps spent warming up; ``pct_start * total`` must be > 1.
    div_factor, final_div_factor : float >= 1
    anneal : {"cos", "linear"}

    Returns
    -------
    float
    """
    max_lr = check_number(max_lr, "max_lr", minimum=0.0, strict_minimum=True)
    total = check_int(total, "total", minimum=2)
    t = check_int(t, "t", minimum=0, maximum=total - 1)
    pct_start = check_number(pct_start, "pct_start", minimum=0.0, maximum=1.0, strict_minimum=True)
    if pct_start == 1 or pct_start * total <= 1:
        raise ValueError(f"pct_start must be < 1 with pct_start * total > 1 (a warm-up of more than one step), "
                         f"got pct_start {pct_start} with total {total}")
    div_factor = check_number(div_factor, "div_factor", minimum=1.0)
    final_div_factor = check_number(final_div_factor, "final_div_factor", minimum=1.0)
    if anneal not in ("cos", "linear"):
        raise ValueError(f"anneal must be 'cos' or 'linear', got {anneal!r}")
    initial = max_lr / div_factor
    lowest = initial / final_div_factor
    peak = pct_start * total - 1.0   # the step where the rate reaches max_lr
    if t <= peak:
        start, end, fraction = initial, max_lr, t / peak
    else:
        start, end, fraction = max_lr, lowest, (t - peak) / (total - 1 - peak)
    if anneal == "linear":
        return start + (end - start) * fraction
    return end + (start - end) * (1 + math.cos(math.pi * fraction)) / 2


def quadratic(p, a=1.0, b=20.0):
    """Ill-conditioned bowl ``f = (a x^2 + b y^2) / 2`` and its gradient.

    Curvature ``b`` across the valley, ``a`` along it: with ``b / a = 20``
    a step size small enough not to bounce across is tiny along the valley.

    Returns
    -------
    value : float
    grad : (2,) ndarray
    """
    x, y = check_array(p, "p", ndim=1)
    return 0.5 * (a * x**2 + b * y**2), np.array([a * x, b * y])


def rosenbrock(p, a=1.0, b=100.0):
    """Rosenbrock's banana ``f = (a - x)^2 + b (y - x^2)^2`` and its gradient (minimum at (a, a^2))."""
    x, y = check_array(p, "p", ndim=1)
    value = (a - x) ** 2 + b * (y - x**2) ** 2
    grad = np.array([-2 * (a - x) - 4 * b * x * (y - x**2), 2 * b * (y - x**2)])
    return float(value), grad


def run_optimizer(optimizer, function, start, steps):
    """Run ``steps`` updates of ``optimizer`` on a 2-D ``function`` from ``start``.

    Parameters
    ----------
    optimizer : Optimizer
        A fresh optimizer (its state is used and changed).
    function : callable
        ``function(p) -> (value, grad)``, e.g. :func:`quadratic`.
    start : (2,) array_like
    steps : int

    Returns
    -------
    path : (steps + 1, 2) ndarray
        The points visited, ``start`` first.
    values : (steps + 1,) ndarray
        The function's value at each of them.
    """
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a course_utils.optim optimizer, got {type(optimizer).__name__}")
    if not callable(function):
        raise TypeError("function must be a callable returning (value, grad)")
    p = check_array(start, "start", ndim=1).astype(np.float64)
    steps = check_int(steps, "steps", minimum=1)
    path, values = [p.copy()], []
    for _ in range(steps):
        value, grad = function(p)
        values.append(value)
        optimizer.step([p], [grad])
        path.append(p.copy())
    values.append(function(p)[0])
    return np.array(path), np.array(values)
