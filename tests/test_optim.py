"""Tests of course_utils.optim against torch.optim and torch's lr schedulers.

Parity: 100 steps on random problems (float64), every parameter equal to
torch's after every step to 1e-6 (absolute); the measured differences are
far smaller (about 1e-15).
"""

import math

import numpy as np
import pytest
import torch

from course_utils import optim, viz

TOL = 1e-6
STEPS = 100


def race(ours, make_torch, seed, steps=STEPS):
    """Max abs difference between our optimizer and torch's over ``steps`` steps of a random problem.

    The problem: least squares ||A w - y||^2 with random A, y, plus a
    random parameter of another shape (two parameter groups in one list).
    """
    rng = np.random.default_rng(seed)
    a, y = rng.normal(size=(20, 5)), rng.normal(size=20)
    params = [rng.normal(size=5), rng.normal(size=(2, 3))]
    tparams = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    topt = make_torch(tparams)
    worst = 0.0
    for _ in range(steps):
        grads = [2 * a.T @ (a @ params[0] - y) / 20, np.sin(params[1]) + rng.normal(size=(2, 3))]
        for tp, g in zip(tparams, grads):
            tp.grad = torch.tensor(g)
        ours.step(params, grads)
        topt.step()
        worst = max(worst, max(np.abs(p - tp.detach().numpy()).max() for p, tp in zip(params, tparams)))
    return worst


def test_parity_with_torch():
    for seed in range(10):
        rng = np.random.default_rng(100 + seed)
        lr, beta = float(rng.uniform(0.001, 0.05)), float(rng.uniform(0.5, 0.99))
        b2 = float(rng.uniform(0.9, 0.9999))
        cases = {
            "SGD": (optim.SGD(lr), lambda p: torch.optim.SGD(p, lr=lr)),
            "momentum": (optim.Momentum(lr, beta, ewma=False),
                         lambda p: torch.optim.SGD(p, lr=lr, momentum=beta)),
            "RMSProp": (optim.RMSProp(lr, beta, eps=1e-8),
                        lambda p: torch.optim.RMSprop(p, lr=lr, alpha=beta, eps=1e-8)),
            "Adam": (optim.Adam(lr, beta, b2, eps=1e-8),
                     lambda p: torch.optim.Adam(p, lr=lr, betas=(beta, b2), eps=1e-8)),
        }
        for name, (ours, theirs) in cases.items():
            diff = race(ours, theirs, seed)
            assert diff < TOL, f"{name} seed {seed}: max abs difference {diff:.2e}"


def test_nesterov_and_adamw_parity_with_torch_over_many_steps():
    """Nesterov vs SGD(nesterov=True); AdamW vs AdamW; AdamW(decoupled=False) vs Adam(weight_decay)."""
    for seed in range(10):
        rng = np.random.default_rng(200 + seed)
        lr, beta = float(rng.uniform(0.001, 0.05)), float(rng.uniform(0.0, 0.99))
        b1, b2 = float(rng.uniform(0.5, 0.95)), float(rng.uniform(0.9, 0.9999))
        wd = float(rng.choice([0.0, rng.uniform(0.001, 0.1), rng.uniform(1.0, 5.0)]))
        cases = {
            "Nesterov": (optim.Nesterov(lr, beta),
                         lambda p: torch.optim.SGD(p, lr=lr, momentum=max(beta, 1e-12), nesterov=True)),
            "AdamW": (optim.AdamW(lr, b1, b2, eps=1e-8, weight_decay=wd),
                      lambda p: torch.optim.AdamW(p, lr=lr, betas=(b1, b2), eps=1e-8, weight_decay=wd)),
            "Adam + L2": (optim.AdamW(lr, b1, b2, eps=1e-8, weight_decay=wd, decoupled=False),
                          lambda p: torch.optim.Adam(p, lr=lr, betas=(b1, b2), eps=1e-8, weight_decay=wd)),
        }
        if beta == 0.0:  # torch refuses nesterov without momentum
            del cases["Nesterov"]
        for name, (ours, theirs) in cases.items():
            diff = race(ours, theirs, seed, steps=500)
            assert diff < TOL, f"{name} seed {seed}: max abs difference {diff:.2e}"


def test_nesterov_and_weight_decay_edge_cases():
    # beta 0: Nesterov is plain gradient descent; weight decay 0: AdamW and Adam + L2 are Adam
    for make_a, make_b in [(lambda: optim.Nesterov(0.03, 0.0), lambda: optim.SGD(0.03)),
                           (lambda: optim.AdamW(0.01, weight_decay=0.0), lambda: optim.Adam(0.01)),
                           (lambda: optim.AdamW(0.01, weight_decay=0.0, decoupled=False), lambda: optim.Adam(0.01))]:
        a, b = make_a(), make_b()
        pa, pb = [np.ones(3)], [np.ones(3)]
        rng = np.random.default_rng(0)
        for _ in range(50):
            g = rng.normal(size=3)
            a.step(pa, [g])
            b.step(pb, [g])
        np.testing.assert_array_equal(pa[0], pb[0])
    # Nesterov looks ahead: on the valley it differs from classical momentum at the second step
    first = optim.run_optimizer(optim.Nesterov(0.01, 0.9), optim.quadratic, [2.0, 1.0], 2)[0]
    second = optim.run_optimizer(optim.Momentum(0.01, 0.9, ewma=False), optim.quadratic, [2.0, 1.0], 2)[0]
    assert np.abs(first - second).max() > 1e-3
    # with a zero loss gradient, AdamW shrinks every weight by (1 - lr wd) per step
    opt, w = optim.AdamW(0.1, weight_decay=0.5), [np.array([3.0, -0.01, 1e5])]
    for _ in range(10):
        opt.step(w, [np.zeros(3)])
    np.testing.assert_allclose(w[0], np.array([3.0, -0.01, 1e5]) * 0.95**10, rtol=1e-12)


def test_one_cycle_equals_torch():
    for total, pct_start, anneal, div, final_div in [(100, 0.3, "cos", 25.0, 1e4), (37, 0.25, "cos", 10.0, 100.0),
                                                     (500, 0.1, "linear", 25.0, 1e4), (7, 0.5, "cos", 2.0, 1.0),
                                                     (4000, 0.05, "cos", 25.0, 1e4)]:
        max_lr = 0.3
        ours = [optim.one_cycle(max_lr, t, total, pct_start, div, final_div, anneal) for t in range(total)]
        p = [torch.zeros(1, requires_grad=True)]
        opt = torch.optim.SGD(p, lr=0.1)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr, total_steps=total, pct_start=pct_start,
                                                    anneal_strategy=anneal, div_factor=div,
                                                    final_div_factor=final_div, cycle_momentum=False)
        theirs = []
        for _ in range(total):
            theirs.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-15)
        assert ours[0] == pytest.approx(max_lr / div) and 0.9 * max_lr < max(ours) <= max_lr
        assert ours[-1] == pytest.approx(max_lr / div / final_div)


def test_ewma_momentum_differs_from_torch_dampening_then_agrees():
    """torch seeds its buffer with g_1, ours with (1 - beta) g_1: the gap decays like beta^t."""
    beta, lr = 0.9, 0.01
    early = race(optim.Momentum(lr, beta, ewma=True),
                 lambda p: torch.optim.SGD(p, lr=lr, momentum=beta, dampening=beta), 0, steps=1)
    assert early > 1e-4
    # velocity difference after t steps with identical gradients is beta^t * g_1
    g = np.array([1.0])
    p_ours, p_torch = np.zeros(1), torch.zeros(1, dtype=torch.float64, requires_grad=True)
    ours = optim.Momentum(1.0, beta, ewma=True)
    theirs = torch.optim.SGD([p_torch], lr=1.0, momentum=beta, dampening=beta)
    for t in range(1, 60):
        ours.step([p_ours], [g])
        p_torch.grad = torch.tensor(g)
        theirs.step()
        buf = theirs.state[p_torch]["momentum_buffer"].numpy()
        assert abs((buf - ours.state[0]["V"])[0] - beta**t) < 1e-12


def test_ewma_function():
    x = np.random.default_rng(0).normal(size=50)
    v = optim.ewma(x, 0.9)
    ref, acc = [], 0.0
    for value in x:
        acc = 0.9 * acc + 0.1 * value
        ref.append(acc)
    np.testing.assert_allclose(v, ref, atol=1e-14)
    corrected = optim.ewma(x, 0.9, bias_correction=True)
    np.testing.assert_allclose(corrected, np.array(ref) / (1 - 0.9 ** np.arange(1, 51)), atol=1e-14)
    assert optim.ewma(np.ones(3), 0.98, bias_correction=True) == pytest.approx(np.ones(3))
    np.testing.assert_array_equal(optim.ewma(x, 0.0), x)


def test_schedules_match_torch():
    lr0 = 0.1
    p = [torch.zeros(1, requires_grad=True)]

    def torch_rates(make, n=40):
        opt = torch.optim.SGD(p, lr=lr0)
        sched = make(opt)
        rates = []
        for _ in range(n):
            rates.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return np.array(rates)

    t = range(40)
    cases = [
        ([optim.step_decay(lr0, i, 0.5, 7) for i in t], lambda o: torch.optim.lr_scheduler.StepLR(o, 7, 0.5)),
        ([optim.exponential_decay(lr0, i, 0.9) for i in t],
         lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.9)),
        ([optim.inverse_time_decay(lr0, i, 0.3) for i in t],
         lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda e: 1 / (1 + 0.3 * e))),
        ([optim.cosine_decay(lr0, i, 40, 0.001) for i in t],
         lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 40, 0.001)),
    ]
    for ours, make in cases:
        np.testing.assert_allclose(ours, torch_rates(make), rtol=1e-9, atol=1e-12)
    assert optim.cosine_decay(1.0, 50, 40) == 0.0  # stays at the end value


def test_test_functions_gradients():
    rng = np.random.default_rng(0)
    for function in (optim.quadratic, optim.rosenbrock):
        for _ in range(10):
            p = rng.normal(size=2)
            value, grad = function(p)
            h = 1e-6
            numeric = [(function(p + h * e)[0] - function(p - h * e)[0]) / (2 * h) for e in np.eye(2)]
            np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-6)
    assert optim.rosenbrock(np.array([1.0, 1.0]))[0] == 0.0


def test_run_optimizer_converges():
    path, values = optim.run_optimizer(optim.Adam(0.05), optim.quadratic, [2.0, 1.0], 300)
    assert path.shape == (301, 2) and values.shape == (301,)
    assert values[-1] < 1e-3 < values[0]
    path, values = optim.run_optimizer(optim.SGD(0.11), optim.quadratic, [2.0, 1.0], 20)
    assert values[-1] > values[0]  # lr above 2 / 20: diverges across the steep direction


def test_plots_draw():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = {"SGD": optim.run_optimizer(optim.SGD(0.05), optim.quadratic, [2.0, 1.0], 10)[0]}
    ax = viz.plot_trajectories(optim.quadratic, paths, (-2.5, 2.5), (-1.5, 1.5), minimum=(0, 0))
    assert len(ax.lines) == 2
    plt.close("all")
    anim = viz.animate_trajectories(optim.quadratic, paths, (-2.5, 2.5), (-1.5, 1.5), frames=3)
    assert len(anim.frames) == 3


def test_bad_arguments():
    with pytest.raises(ValueError, match="lr must be > 0"):
        optim.SGD(0)
    with pytest.raises(TypeError, match="lr must be a number"):
        optim.Adam("0.1")
    with pytest.raises(ValueError, match="beta must be < 1"):
        optim.Momentum(0.1, beta=1.0)
    with pytest.raises(TypeError, match="ewma must be True or False"):
        optim.Momentum(0.1, ewma=1)
    with pytest.raises(ValueError, match="beta1 and beta2 must be < 1"):
        optim.Adam(beta2=1.0)
    opt = optim.SGD(0.1)
    with pytest.raises(ValueError, match="grads must have one array per parameter"):
        opt.step([np.zeros(2)], [])
    with pytest.raises(ValueError, match=r"grads\[0\] must have shape"):
        opt.step([np.zeros(2)], [np.zeros(3)])
    with pytest.raises(TypeError, match=r"params\[0\] must be a float NumPy array"):
        opt.step([[0.0, 1.0]], [np.zeros(2)])
    with pytest.raises(ValueError, match="beta must be < 1"):
        optim.ewma([1.0, 2.0], 1.0)
    with pytest.raises(ValueError, match="values must be a 1-D"):
        optim.ewma(np.ones((2, 2)), 0.9)
    with pytest.raises(ValueError, match="t must be >= 0"):
        optim.step_decay(0.1, -1)
    with pytest.raises(ValueError, match="total must be >= 1"):
        optim.cosine_decay(0.1, 3, 0)
    with pytest.raises(TypeError, match="optimizer must be"):
        optim.run_optimizer(torch.optim.SGD, optim.quadratic, [1.0, 1.0], 3)
    assert math.isfinite(optim.inverse_time_decay(0.1, 1000))
    with pytest.raises(ValueError, match="beta must be < 1"):
        optim.Nesterov(0.1, beta=1.0)
    with pytest.raises(ValueError, match="weight_decay must be >= 0"):
        optim.AdamW(weight_decay=-1.0)
    with pytest.raises(TypeError, match="decoupled must be True or False"):
        optim.AdamW(decoupled="yes")
    with pytest.raises(ValueError, match="t must be <= 9"):
        optim.one_cycle(0.1, 10, 10)
    with pytest.raises(ValueError, match="pct_start must be < 1"):
        optim.one_cycle(0.1, 0, 10, pct_start=0.1)
    with pytest.raises(ValueError, match="pct_start must be <= 1.0"):
        optim.one_cycle(0.1, 0, 10, pct_start=1.5)
    with pytest.raises(ValueError, match="anneal must be 'cos' or 'linear'"):
        optim.one_cycle(0.1, 0, 10, anneal="step")
    with pytest.raises(ValueError, match="total must be >= 2"):
        optim.one_cycle(0.1, 0, 1)
