"""Neural-network layers in NumPy, each with its forward and backward pass (CS231n's ``layers.py``).

Every layer is a pair of functions: ``*_forward`` returns the output and a
``cache`` (what the backward pass needs), ``*_backward`` takes the gradient
of the loss with respect to the output (``dout``) and the cache, and returns
the gradients with respect to the inputs and parameters. Losses return the
loss and its gradient at once.  (The module was called ``nn``, which hid
``torch.nn`` in the notebooks that use both.)

The tests check, in float64:

* each forward equals its torch counterpart (``torch.nn.functional.linear``,
  ``relu``, ``sigmoid``, ``tanh``, ``cross_entropy``, ``binary_cross_entropy``,
  ``dropout`` given the same mask, ``batch_norm`` in train and eval mode,
  running statistics included);
* each backward agrees with a central-difference gradient check
  (:func:`numerical_gradient`) to a relative error below 1e-7.

Conventions: a batch is the first axis; a linear layer stores its weight as
``(out_features, in_features)`` like ``torch.nn.Linear``, so ``y = x W^T + b``.
Weight initializations (zero, small, Xavier, He) live here too.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_array, check_choice, check_int, check_number

__all__ = [
    "linear_forward",
    "linear_backward",
    "relu_forward",
    "relu_backward",
    "sigmoid",
    "sigmoid_forward",
    "sigmoid_backward",
    "tanh_forward",
    "tanh_backward",
    "softmax",
    "softmax_cross_entropy",
    "binary_cross_entropy",
    "dropout_forward",
    "dropout_backward",
    "batchnorm_forward",
    "batchnorm_backward",
    "numerical_gradient",
    "relative_error",
    "INIT_METHODS",
    "init_weight",
]


def linear_forward(x, w, b):
    """Fully connected layer ``y = x W^T + b``.

    Parameters
    ----------
    x : (N, D) array_like
        A batch of N input vectors.
    w : (M, D) array_like
        Weights, one row per output (torch's layout).
    b : (M,) array_like
        Biases.

    Returns
    -------
    out : (N, M) ndarray
    cache : tuple
        ``(x, w)`` for :func:`linear_backward`.
    """
    x = check_array(x, "x", ndim=2)
    w = check_array(w, "w", ndim=2)
    b = check_array(b, "b", ndim=1)
    if w.shape[1] != x.shape[1]:
        raise ValueError(f"w must have shape (M, {x.shape[1]}) to match x, got {w.shape}")
    if b.shape[0] != w.shape[0]:
        raise ValueError(f"b must have shape ({w.shape[0]},) to match w, got {b.shape}")
    return x @ w.T + b, (x, w)


def linear_backward(dout, cache):
    """Gradients of a linear layer.

    ``dx = dout W``, ``dW = dout^T x``, ``db = sum of dout over the batch``.

    Returns
    -------
    dx : (N, D) ndarray
    dw : (M, D) ndarray
    db : (M,) ndarray
    """
    x, w = cache
    dout = check_array(dout, "dout", ndim=2)
    if dout.shape != (x.shape[0], w.shape[0]):
        raise ValueError(f"dout must have shape {(x.shape[0], w.shape[0])}, got {dout.shape}")
    return dout @ w, dout.T @ x, dout.sum(axis=0)


def relu_forward(x):
    """ReLU, ``max(0, x)``; returns ``(out, cache)``."""
    x = check_array(x, "x")
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    """ReLU's gradient: ``dout`` where the input was positive, 0 elsewhere."""
    x = cache
    return np.asarray(dout) * (x > 0)


def sigmoid(z):
    """Logistic function ``1 / (1 + exp(-z))``, computed without overflow.

    For ``z < 0`` it uses the equal form ``exp(z) / (1 + exp(z))`` so that
    ``exp`` never sees a large positive argument.
    """
    z = check_array(z, "z")
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_forward(x):
    """Sigmoid layer; returns ``(out, cache)`` where the cache is the output."""
    out = sigmoid(x)
    return out, out


def sigmoid_backward(dout, cache):
    """Sigmoid's gradient ``dout * s (1 - s)``: at most ``dout / 4``."""
    s = cache
    return np.asarray(dout) * s * (1 - s)


def tanh_forward(x):
    """tanh layer; returns ``(out, cache)`` where the cache is the output."""
    out = np.tanh(check_array(x, "x"))
    return out, out


def tanh_backward(dout, cache):
    """tanh's gradient ``dout * (1 - tanh^2)``: at most ``dout``."""
    t = cache
    return np.asarray(dout) * (1 - t**2)


def softmax(logits):
    """Softmax over the last axis, ``exp(z_k) / sum_j exp(z_j)``.

    The largest logit is subtracted first: the result is the same and
    ``exp`` cannot overflow.
    """
    logits = check_array(logits, "logits", ndim=(1, 2))
    shifted = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def _check_labels(labels, n, n_classes):
    labels = check_array(labels, "labels", ndim=1, dtype_kinds="iu")
    if labels.shape[0] != n:
        raise ValueError(f"labels must have one entry per sample ({n}), got shape {labels.shape}")
    if labels.min() < 0 or labels.max() >= n_classes:
        raise ValueError(f"labels must be class indices in [0, {n_classes - 1}], got {labels.min()}..{labels.max()}")
    return labels


def softmax_cross_entropy(logits, labels):
    """Mean softmax cross-entropy and its gradient with respect to the logits.

    ``L = -(1/N) sum_i log softmax(z_i)[y_i]``; the gradient is the neat
    ``(softmax(z) - onehot(y)) / N``.

    Parameters
    ----------
    logits : (N, K) array_like
        Unnormalized class scores.
    labels : (N,) array_like of int
        True class of each sample, in ``[0, K)``.

    Returns
    -------
    loss : float
        Equal to ``torch.nn.functional.cross_entropy(logits, labels)``.
    dlogits : (N, K) ndarray
    """
    logits = check_array(logits, "logits", ndim=2)
    n, k = logits.shape
    labels = _check_labels(labels, n, k)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(n), labels].mean()
    dlogits = np.exp(log_probs)
    dlogits[np.arange(n), labels] -= 1
    return float(loss), dlogits / n


def binary_cross_entropy(probs, targets):
    """Mean binary cross-entropy ``-(y log a + (1 - y) log(1 - a))`` and its gradient.

    Parameters
    ----------
    probs : array_like
        Predicted probabilities ``a`` in [0, 1] (e.g. a sigmoid's output).
    targets : array_like
        Targets ``y`` in [0, 1], same shape as ``probs``.

    Returns
    -------
    loss : float
        Equal to ``torch.nn.functional.binary_cross_entropy``, including its
        clamp of each log at -100 (so a confident wrong answer costs 100,
        not infinity).
    dprobs : ndarray
        ``(a - y) / (a (1 - a)) / N`` (N = number of elements). Chained with
        the sigmoid's ``a (1 - a)`` it becomes the simple ``(a - y) / N``.
    """
    probs = check_array(probs, "probs")
    targets = check_array(targets, "targets")
    if probs.shape != targets.shape:
        raise ValueError(f"targets must have the shape of probs {probs.shape}, got {targets.shape}")
    if probs.min() < 0 or probs.max() > 1:
        raise ValueError("probs must be probabilities in [0, 1]")
    with np.errstate(divide="ignore"):
        log_a = np.maximum(np.log(probs), -100.0)
        log_1ma = np.maximum(np.log1p(-probs), -100.0)
    loss = -(targets * log_a + (1 - targets) * log_1ma).mean()
    eps = 1e-12  # only matters at a = 0 or 1, where the derivative is infinite
    dprobs = (probs - targets) / np.maximum(probs * (1 - probs), eps) / probs.size
    return float(loss), dprobs


def dropout_forward(x, p=0.5, training=True, rng=None, mask=None):
    """Inverted dropout.

    In training, each value is zeroed with probability ``p`` and the
    survivors are divided by ``1 - p``, so the expected output equals the
    input and nothing needs rescaling at test time. In evaluation
    (``training=False``) the layer is the identity.

    Parameters
    ----------
    x : array_like
    p : float
        Drop probability, in [0, 1).
    training : bool
    rng : numpy.random.Generator or int, optional
        Source of the random mask (an int is used as a seed).
    mask : bool array_like, optional
        The keep-mask to use instead of drawing one (to reproduce a mask).

    Returns
    -------
    out : ndarray
    cache : ndarray
        The scaled mask ``keep / (1 - p)`` (ones in evaluation).
    """
    x = check_array(x, "x")
    p = check_number(p, "p", minimum=0.0)
    if p >= 1:
        raise ValueError(f"p must be < 1 (the probability of dropping a unit), got {p}")
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError(f"training must be True or False, got {training!r}")
    if not training or p == 0:
        scale = np.ones_like(x)
        return x.copy(), scale
    if mask is None:
        rng = np.random.default_rng(rng)
        keep = rng.random(x.shape) >= p
    else:
        keep = check_array(mask, "mask", dtype_kinds="b")
        if keep.shape != x.shape:
            raise ValueError(f"mask must have the shape of x {x.shape}, got {keep.shape}")
    scale = keep / (1 - p)
    return x * scale, scale


def dropout_backward(dout, cache):
    """Dropout's gradient: ``dout`` times the same scaled mask."""
    return np.asarray(dout) * cache


def _bn_axes(x):
    if x.ndim == 2:
        return (0,), (1, -1)
    return (0, 2, 3), (1, -1, 1, 1)


def batchnorm_forward(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5):
    """Batch normalization of (N, D) features or (N, C, H, W) maps, per channel.

    Training: each channel is normalized by the mean and variance of the
    batch over N (and H, W for maps), ``x_hat = (x - mu) / sqrt(var + eps)``,
    then scaled and shifted, ``y = gamma x_hat + beta``. The running
    statistics move toward the batch's, ``r = (1 - momentum) r + momentum s``
    (torch's convention, with the *unbiased* variance for ``running_var``).
    Evaluation: the running statistics replace the batch's.

    Parameters
    ----------
    x : (N, D) or (N, C, H, W) array_like
    gamma, beta : (D,) or (C,) array_like
    running_mean, running_var : (D,) or (C,) array_like
        Not modified; the updated values are returned.
    training : bool
    momentum : float
        In (0, 1]; torch's default 0.1.
    eps : float

    Returns
    -------
    out : ndarray, same shape as ``x``
    cache : tuple
        For :func:`batchnorm_backward`.
    running_mean, running_var : ndarray
        Updated in training, unchanged in evaluation.
    """
    x = check_array(x, "x", ndim=(2, 4))
    axes, shape = _bn_axes(x)
    c = x.shape[1]
    params = {}
    for name, value in [("gamma", gamma), ("beta", beta), ("running_mean", running_mean),
                        ("running_var", running_var)]:
        params[name] = check_array(value, name, ndim=1)
        if params[name].shape != (c,):
            raise ValueError(f"{name} must have shape ({c},), one value per channel of x, got {params[name].shape}")
    momentum = check_number(momentum, "momentum", minimum=0.0, maximum=1.0, strict_minimum=True)
    eps = check_number(eps, "eps", minimum=0.0, strict_minimum=True)
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError(f"training must be True or False, got {training!r}")
    running_mean, running_var = params["running_mean"].copy(), params["running_var"].copy()
    if training:
        count = x.size // c
        if count < 2:
            raise ValueError("x must hold more than one value per channel in training mode")
        mean = x.mean(axis=axes)
        var = x.var(axis=axes)  # biased: the one used to normalize
        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var = (1 - momentum) * running_var + momentum * var * count / (count - 1)
    else:
        mean, var = running_mean, running_var
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = (x - mean.reshape(shape)) * inv_std.reshape(shape)
    out = params["gamma"].reshape(shape) * x_hat + params["beta"].reshape(shape)
    cache = (x_hat, inv_std, params["gamma"], axes, shape, training)
    return out, cache, running_mean, running_var


def batchnorm_backward(dout, cache):
    """Gradients of batch normalization.

    In training the mean and variance depend on every input, which gives
    the compact form
    ``dx = gamma / sigma * (dout - mean(dout) - x_hat * mean(dout * x_hat))``
    (means over the normalized axes). In evaluation they are constants and
    ``dx = gamma / sigma * dout``.

    Returns
    -------
    dx : ndarray
    dgamma, dbeta : (C,) ndarray
    """
    x_hat, inv_std, gamma, axes, shape, training = cache
    dout = check_array(dout, "dout")
    if dout.shape != x_hat.shape:
        raise ValueError(f"dout must have shape {x_hat.shape}, got {dout.shape}")
    dgamma = (dout * x_hat).sum(axis=axes)
    dbeta = dout.sum(axis=axes)
    scale = (gamma * inv_std).reshape(shape)
    if not training:
        return scale * dout, dgamma, dbeta
    mean_dout = dout.mean(axis=axes, keepdims=True)
    mean_dout_xhat = (dout * x_hat).mean(axis=axes, keepdims=True)
    dx = scale * (dout - mean_dout - x_hat * mean_dout_xhat)
    return dx, dgamma, dbeta


def numerical_gradient(f, x, h=1e-5):
    """Central-difference gradient of a scalar function, one entry at a time.

    ``df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2h)``, with an error of
    order ``h^2``. ``x`` is modified in place during the loop and restored.

    Parameters
    ----------
    f : callable
        ``f()`` returns a float and reads ``x`` (a closure over it).
    x : ndarray of float
        The array to differentiate with respect to.
    h : float
        Step size.

    Returns
    -------
    ndarray, same shape as ``x``
    """
    if not callable(f):
        raise TypeError(f"f must be a callable returning a float, got {type(f).__name__}")
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError("x must be a float NumPy array (it is changed in place and restored)")
    h = check_number(h, "h", minimum=0.0, strict_minimum=True)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = f()
        x[i] = old - h
        minus = f()
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def relative_error(a, b):
    """``||a - b|| / (||a|| + ||b||)`` (0 when both are 0).

    Below about 1e-7 in float64 means a backward pass is right; around 1e-2
    or more means a bug.
    """
    a = check_array(a, "a", allow_empty=True)
    b = check_array(b, "b", allow_empty=True)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    denominator = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denominator == 0 else float(np.linalg.norm(a - b) / denominator)


#: Standard deviation of each initialization for a layer with ``fan_in`` inputs
#: and ``fan_out`` outputs ("small" is a fixed 0.01).
INIT_METHODS = {
    "zero": lambda fan_in, fan_out: 0.0,
    "small": lambda fan_in, fan_out: 0.01,
    "xavier": lambda fan_in, fan_out: np.sqrt(2.0 / (fan_in + fan_out)),
    "he": lambda fan_in, fan_out: np.sqrt(2.0 / fan_in),
}


def init_weight(fan_in, fan_out, method="he", rng=None):
    """A ``(fan_out, fan_in)`` weight matrix drawn from N(0, std^2).

    ``std`` is 0 ("zero"), 0.01 ("small"), ``sqrt(2 / (fan_in + fan_out))``
    (Glorot/Xavier normal) or ``sqrt(2 / fan_in)`` (He/Kaiming normal, for ReLU).
    """
    fan_in = check_int(fan_in, "fan_in", minimum=1)
    fan_out = check_int(fan_out, "fan_out", minimum=1)
    std = INIT_METHODS[check_choice(method, "method", INIT_METHODS)](fan_in, fan_out)
    return np.random.default_rng(rng).standard_normal((fan_out, fan_in)) * std
