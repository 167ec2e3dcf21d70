"""Tests of course_utils.nn: forwards against torch, backwards against central differences.

Tolerances (float64): forwards equal torch to 1e-10 absolute; every backward
passes a central-difference gradient check (h = 1e-5) with a relative error
``||a - b|| / (||a|| + ||b||)`` below 1e-7.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_utils import classifiers, layers

GRAD_TOL = 1e-7
FWD_TOL = 1e-10


def t(a):
    return torch.tensor(a, dtype=torch.float64)


def check_backward(forward, inputs, dout, analytic):
    """Compare analytic gradients with numerical ones of sum(forward(*inputs) * dout)."""
    worst = 0.0
    for name, x in inputs.items():
        numeric = layers.numerical_gradient(lambda: float(np.sum(forward() * dout)), x)
        err = layers.relative_error(analytic[name], numeric)
        assert err < GRAD_TOL, f"{name}: relative error {err:.2e}"
        worst = max(worst, err)
    return worst


def test_linear_forward_backward():
    for seed in range(10):
        rng = np.random.default_rng(seed)
        n, d, m = rng.integers(1, 7, 3)
        x, w, b = rng.normal(size=(n, d)), rng.normal(size=(m, d)), rng.normal(size=m)
        out, cache = layers.linear_forward(x, w, b)
        np.testing.assert_allclose(out, F.linear(t(x), t(w), t(b)).numpy(), atol=FWD_TOL)
        dout = rng.normal(size=out.shape)
        dx, dw, db = layers.linear_backward(dout, cache)
        check_backward(lambda: layers.linear_forward(x, w, b)[0], {"x": x, "w": w, "b": b}, dout,
                       {"x": dx, "w": dw, "b": db})


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
def test_activations(name):
    forward = getattr(layers, f"{name}_forward")
    backward = getattr(layers, f"{name}_backward")
    reference = getattr(torch, name)
    for seed in range(10):
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(4, 5)) * 3
        if name == "relu":  # keep away from the kink at 0, where the derivative jumps
            x[np.abs(x) < 1e-3] = 0.5
        out, cache = forward(x)
        np.testing.assert_allclose(out, reference(t(x)).numpy(), atol=FWD_TOL)
        dout = rng.normal(size=x.shape)
        check_backward(lambda: forward(x)[0], {"x": x}, dout, {"x": backward(dout, cache)})


def test_sigmoid_extremes_do_not_overflow():
    z = np.array([-1000.0, -50, 0, 50, 1000])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = layers.sigmoid(z)
    np.testing.assert_allclose(s, torch.sigmoid(t(z)).numpy(), atol=1e-15)


def test_softmax_and_cross_entropy():
    for seed in range(10):
        rng = np.random.default_rng(seed)
        n, k = rng.integers(1, 8), rng.integers(2, 8)
        logits = rng.normal(size=(n, k)) * 4
        labels = rng.integers(0, k, n)
        np.testing.assert_allclose(layers.softmax(logits), torch.softmax(t(logits), 1).numpy(), atol=FWD_TOL)
        loss, dlogits = layers.softmax_cross_entropy(logits, labels)
        assert abs(loss - F.cross_entropy(t(logits), torch.tensor(labels)).item()) < FWD_TOL
        numeric = layers.numerical_gradient(lambda: layers.softmax_cross_entropy(logits, labels)[0], logits)
        assert layers.relative_error(dlogits, numeric) < GRAD_TOL
    # huge logits: no overflow, still the right answer
    loss, _ = layers.softmax_cross_entropy(np.array([[1000.0, 0.0], [0.0, 1000.0]]), np.array([0, 0]))
    assert abs(loss - 500.0) < 1e-9


def test_binary_cross_entropy():
    for seed in range(10):
        rng = np.random.default_rng(seed)
        a = rng.uniform(0.05, 0.95, size=(6, 3))
        y = rng.integers(0, 2, size=(6, 3)).astype(float)
        loss, da = layers.binary_cross_entropy(a, y)
        assert abs(loss - F.binary_cross_entropy(t(a), t(y)).item()) < FWD_TOL
        numeric = layers.numerical_gradient(lambda: layers.binary_cross_entropy(a, y)[0], a)
        assert layers.relative_error(da, numeric) < GRAD_TOL
    # extremes: torch clamps each log at -100
    a, y = np.array([0.0, 1.0, 1.0, 0.0]), np.array([1.0, 0.0, 1.0, 0.0])
    assert abs(layers.binary_cross_entropy(a, y)[0] - F.binary_cross_entropy(t(a), t(y)).item()) < 1e-12


def test_dropout():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 40)) + 3  # no exact zeros, so torch's zeros reveal its mask
    for p in [0.1, 0.5, 0.8]:
        torch.manual_seed(0)
        ref = F.dropout(t(x), p=p, training=True).numpy()
        ours, cache = layers.dropout_forward(x, p, mask=ref != 0)
        np.testing.assert_allclose(ours, ref, atol=FWD_TOL)
        drawn, _ = layers.dropout_forward(x, p, rng=1)
        assert abs((drawn == 0).mean() - p) < 0.03
        assert abs(drawn.mean() / x.mean() - 1) < 0.05  # inverted: expectation kept
        dout = rng.normal(size=x.shape)
        small = x[:4, :5].copy()
        mask = rng.random(small.shape) > p
        _, small_cache = layers.dropout_forward(small, p, mask=mask)
        check_backward(lambda: layers.dropout_forward(small, p, mask=mask)[0], {"x": small}, dout[:4, :5],
                       {"x": layers.dropout_backward(dout[:4, :5], small_cache)})
    out, _ = layers.dropout_forward(x, 0.5, training=False)
    np.testing.assert_array_equal(out, F.dropout(t(x), 0.5, training=False).numpy())


@pytest.mark.parametrize("shape", [(8, 5), (4, 3, 5, 6), (2, 2, 1, 1)])
def test_batchnorm_matches_torch(shape):
    rng = np.random.default_rng(sum(shape))
    c = shape[1]
    gamma, beta = rng.normal(size=c), rng.normal(size=c)
    rm, rv = rng.normal(size=c), rng.uniform(0.5, 2, size=c)
    trm, trv = t(rm), t(rv)
    for step in range(3):
        x = rng.normal(size=shape) * 2 + 1
        out, _, rm, rv = layers.batchnorm_forward(x, gamma, beta, rm, rv, training=True, momentum=0.1)
        ref = F.batch_norm(t(x), trm, trv, t(gamma), t(beta), training=True, momentum=0.1, eps=1e-5)
        np.testing.assert_allclose(out, ref.numpy(), atol=1e-9)
        np.testing.assert_allclose(rm, trm.numpy(), atol=FWD_TOL)
        np.testing.assert_allclose(rv, trv.numpy(), atol=FWD_TOL)
    out, *_ = layers.batchnorm_forward(x, gamma, beta, rm, rv, training=False)
    ref = F.batch_norm(t(x), trm, trv, t(gamma), t(beta), training=False, eps=1e-5)
    np.testing.assert_allclose(out, ref.numpy(), atol=1e-9)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(6, 4), (3, 2, 3, 4)])
def test_batchnorm_backward(training, shape):
    for seed in range(3):
        rng = np.random.default_rng(seed)
        c = shape[1]
        x = rng.normal(size=shape)
        gamma, beta = rng.normal(size=c), rng.normal(size=c)
        rm, rv = rng.normal(size=c), rng.uniform(0.5, 2, size=c)
        out, cache, _, _ = layers.batchnorm_forward(x, gamma, beta, rm, rv, training=training)
        dout = rng.normal(size=shape)
        dx, dgamma, dbeta = layers.batchnorm_backward(dout, cache)
        forward = lambda: layers.batchnorm_forward(x, gamma, beta, rm, rv, training=training)[0]  # noqa: E731
        check_backward(forward, {"x": x, "gamma": gamma, "beta": beta}, dout,
                       {"x": dx, "gamma": dgamma, "beta": dbeta})


def test_batchnorm_normalizes_per_channel():
    x = np.random.default_rng(0).normal(3, 5, size=(64, 16, 32, 32))
    out, *_ = layers.batchnorm_forward(x, np.ones(16), np.zeros(16), np.zeros(16), np.ones(16))
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-10)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, atol=1e-3)


def test_mlp_gradients_match_autograd():
    for activation in ["relu", "sigmoid", "tanh"]:
        params = classifiers.init_mlp([6, 5, 4, 3], seed=1)
        rng = np.random.default_rng(2)
        x, labels = rng.normal(size=(7, 6)), rng.integers(0, 3, 7)
        loss, grads = classifiers.mlp_loss_and_gradients(params, x, labels, activation)
        tp = {k: t(v).requires_grad_() for k, v in params.items()}
        h = t(x)
        act = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}[activation]
        for i in (1, 2):
            h = act(F.linear(h, tp[f"W{i}"], tp[f"b{i}"]))
        ref = F.cross_entropy(F.linear(h, tp["W3"], tp["b3"]), torch.tensor(labels))
        ref.backward()
        assert abs(loss - ref.item()) < FWD_TOL
        for k in params:
            np.testing.assert_allclose(grads[k], tp[k].grad.numpy(), atol=1e-12)


def test_logistic_regression_learns_and_checks():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    y = (x[:, 0] + 2 * x[:, 1] > 0).astype(float)
    w, b, losses = classifiers.train_logistic_regression(x, y, lr=0.5, steps=200)
    assert losses[0] == pytest.approx(np.log(2)) and losses[-1] < 0.2
    assert np.mean((classifiers.logistic_forward(x, w, b) > 0.5) == y) > 0.97
    a = classifiers.logistic_forward(x, w, b)
    dw, db = classifiers.logistic_gradients(x, a, y)
    numeric = layers.numerical_gradient(lambda: layers.binary_cross_entropy(classifiers.logistic_forward(x, w, b), y)[0], w)
    assert layers.relative_error(dw, numeric) < GRAD_TOL


def test_init_weight_std():
    for method, std in [("zero", 0), ("small", 0.01), ("xavier", np.sqrt(2 / 600)), ("he", np.sqrt(2 / 400))]:
        w = layers.init_weight(400, 200, method, rng=0)
        assert w.shape == (200, 400)
        assert abs(w.std() - std) <= 0.02 * std + 1e-12


def test_numerical_gradient_and_relative_error():
    x = np.array([1.0, 2.0, -3.0])
    g = layers.numerical_gradient(lambda: float(np.sum(x**3)), x)
    np.testing.assert_allclose(g, 3 * x**2, rtol=1e-8)
    np.testing.assert_array_equal(x, [1.0, 2.0, -3.0])  # restored
    assert layers.relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert layers.relative_error(np.ones(2), -np.ones(2)) == 1.0


def test_bad_arguments():
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="w must have shape"):
        layers.linear_forward(x, np.ones((4, 2)), np.ones(4))
    with pytest.raises(ValueError, match="b must have shape"):
        layers.linear_forward(x, np.ones((4, 3)), np.ones(3))
    with pytest.raises(ValueError, match="labels must be class indices"):
        layers.softmax_cross_entropy(x, np.array([0, 3]))
    with pytest.raises(TypeError, match="labels"):
        layers.softmax_cross_entropy(x, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="probs must be probabilities"):
        layers.binary_cross_entropy(np.array([1.5]), np.array([1.0]))
    with pytest.raises(ValueError, match="targets must have the shape"):
        layers.binary_cross_entropy(np.array([0.5]), np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="p must be < 1"):
        layers.dropout_forward(x, 1.0)
    with pytest.raises(TypeError, match="training"):
        layers.dropout_forward(x, 0.5, training="yes")
    with pytest.raises(ValueError, match="gamma must have shape"):
        layers.batchnorm_forward(x, np.ones(2), np.ones(3), np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="x must be a 2-D or 4-D"):
        layers.batchnorm_forward(np.ones(3), np.ones(3), np.ones(3), np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="more than one value"):
        layers.batchnorm_forward(np.ones((1, 3)), np.ones(3), np.ones(3), np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="method must be one of"):
        layers.init_weight(3, 3, "glorot")
    with pytest.raises(ValueError, match="y must contain only 0 and 1"):
        classifiers.train_logistic_regression(x, np.array([0, 2]))
    with pytest.raises(ValueError, match="lr must be > 0"):
        classifiers.train_logistic_regression(x, np.array([0, 1]), lr=0)
    with pytest.raises(TypeError, match="x must be a float NumPy array"):
        layers.numerical_gradient(lambda: 0.0, [1.0])
    with pytest.raises(ValueError, match="activation must be one of"):
        classifiers.mlp_loss_and_gradients(classifiers.init_mlp([3, 2]), x, np.array([0, 1]), "gelu")
