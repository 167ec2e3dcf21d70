"""Whole classifiers in NumPy built from :mod:`course_utils.layers` (CS231n's ``classifiers/``).

Logistic regression with its gradients and training loop (notebook 08), and
a multi-layer perceptron's loss and gradients by backpropagation through the
layers (notebook 09), checked against torch autograd and central differences.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_array, check_choice, check_int, check_number
from .layers import (
    binary_cross_entropy,
    init_weight,
    linear_backward,
    linear_forward,
    relu_backward,
    relu_forward,
    sigmoid,
    sigmoid_backward,
    sigmoid_forward,
    softmax_cross_entropy,
    tanh_backward,
    tanh_forward,
)

__all__ = [
    "logistic_forward",
    "logistic_gradients",
    "train_logistic_regression",
    "init_mlp",
    "mlp_loss_and_gradients",
]


def logistic_forward(x, w, b):
    """Probabilities ``a = sigmoid(x w + b)`` of a logistic-regression neuron.

    Parameters
    ----------
    x : (N, D) array_like
    w : (D,) array_like
    b : float
    """
    x = check_array(x, "x", ndim=2)
    w = check_array(w, "w", ndim=1)
    if w.shape[0] != x.shape[1]:
        raise ValueError(f"w must have shape ({x.shape[1]},) to match x, got {w.shape}")
    return sigmoid(x @ w + check_number(b, "b"))


def logistic_gradients(x, a, y):
    """Gradients of the mean BCE of a logistic neuron.

    With ``dz = a - y`` (the loss's derivative through the sigmoid):
    ``dw = x^T dz / N`` and ``db = mean(dz)``.
    """
    x = check_array(x, "x", ndim=2)
    dz = check_array(a, "a", ndim=1) - check_array(y, "y", ndim=1)
    return x.T @ dz / x.shape[0], float(dz.mean())


def train_logistic_regression(x, y, lr=0.1, steps=100):
    """Gradient descent for logistic regression, written out.

    Initialize ``w = 0, b = 0``, then repeat: forward pass, loss, gradients,
    update.

    Parameters
    ----------
    x : (N, D) array_like
        Features.
    y : (N,) array_like
        Labels 0 or 1.
    lr : float
        Learning rate (> 0).
    steps : int
        Number of updates.

    Returns
    -------
    w : (D,) ndarray
    b : float
    losses : list of float
        The loss before each update.
    """
    x = check_array(x, "x", ndim=2)
    y = check_array(y, "y", ndim=1)
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"y must have one label per row of x ({x.shape[0]}), got {y.shape[0]}")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("y must contain only 0 and 1")
    lr = check_number(lr, "lr", minimum=0.0, strict_minimum=True)
    steps = check_int(steps, "steps", minimum=1)
    w, b = np.zeros(x.shape[1]), 0.0                  # 1. initialize
    losses = []
    for _ in range(steps):
        a = logistic_forward(x, w, b)                 # 2. forward
        losses.append(binary_cross_entropy(a, y)[0])  # 3. loss
        dw, db = logistic_gradients(x, a, y)          # 4. gradients
        w, b = w - lr * dw, b - lr * db               # 5. update
    return w, b, losses


_ACTIVATIONS = {
    "relu": (relu_forward, relu_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
}


def init_mlp(sizes, method="he", seed=0):
    """Parameters ``{"W1", "b1", "W2", ...}`` of an MLP with layer ``sizes`` (inputs first)."""
    if not isinstance(sizes, (list, tuple)) or len(sizes) < 2:
        raise TypeError(f"sizes must be a list of at least two layer widths, got {sizes!r}")
    sizes = [check_int(s, f"sizes[{i}]", minimum=1) for i, s in enumerate(sizes)]
    rng = np.random.default_rng(seed)
    params = {}
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{i}"] = init_weight(fan_in, fan_out, method, rng)
        params[f"b{i}"] = np.zeros(fan_out)
    return params


def mlp_loss_and_gradients(params, x, labels, activation="relu"):
    """Softmax cross-entropy of an MLP and the gradient of every parameter.

    Forward: ``h = act(linear(h))`` for each hidden layer, a last linear
    layer gives the logits. Backward: the same layers in reverse, each
    backward function fed the gradient of the layer above.

    Returns
    -------
    loss : float
    grads : dict
        Same keys and shapes as ``params``.
    """
    act_forward, act_backward = _ACTIVATIONS[check_choice(activation, "activation", _ACTIVATIONS)]
    n_layers = len(params) // 2
    h, caches = check_array(x, "x", ndim=2), []
    for i in range(1, n_layers + 1):                      # forward
        h, linear_cache = linear_forward(h, params[f"W{i}"], params[f"b{i}"])
        act_cache = None
        if i < n_layers:
            h, act_cache = act_forward(h)
        caches.append((linear_cache, act_cache))
    loss, dh = softmax_cross_entropy(h, labels)
    grads = {}
    for i in range(n_layers, 0, -1):                      # backward
        linear_cache, act_cache = caches[i - 1]
        if act_cache is not None:
            dh = act_backward(dh, act_cache)
        dh, grads[f"W{i}"], grads[f"b{i}"] = linear_backward(dh, linear_cache)
    return loss, grads
