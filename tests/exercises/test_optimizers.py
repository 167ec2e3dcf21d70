"""Notebook 10: every graded cell accepts the solution and rejects the stub and plausible wrong answers."""

from graded import exercise_tests

PRELUDE = """
import numpy as np
from course_utils import optim
noisy = 2.3 * np.exp(-np.arange(400) / 150) + np.random.default_rng(0).normal(scale=0.3, size=400)
"""
_EWMA = "def ewma_corrected(values, beta):\n    out, v = [], 0.0\n"
_MOM = "def momentum_stable_lr(curvatures, beta=0.9):\n"
_ADAM = "def adam_update(w, g, V, S, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):\n"

test_solution_passes_and_stub_fails, test_wrong_answers_fail = exercise_tests(
    "3_training/10_optimizers.ipynb", PRELUDE, [
        ("optim_ewma", {
            "no bias correction": _EWMA + (
                "    for x in values:\n        v = beta * v + (1 - beta) * x\n        out.append(v)\n"
                "    return np.array(out)\n"),
            "correction with the step counted from 0": _EWMA + (
                "    for t, x in enumerate(values):\n        v = beta * v + (1 - beta) * x\n"
                "        out.append(v / (1 - beta ** (t + 2)))\n    return np.array(out)\n"),
            "beta and 1 - beta swapped": _EWMA + (
                "    for t, x in enumerate(values, start=1):\n        v = (1 - beta) * v + beta * x\n"
                "        out.append(v / (1 - beta ** t))\n    return np.array(out)\n"),
            "the corrected value fed back": _EWMA + (
                "    for t, x in enumerate(values, start=1):\n        v = beta * v + (1 - beta) * x\n"
                "        v = v / (1 - beta ** t)\n        out.append(v)\n    return np.array(out)\n"),
            "the course's EWMA": ("def ewma_corrected(values, beta):\n"
                                  "    return optim.ewma(np.asarray(values), beta, bias_correction=True)\n"),
        }),
        ("optim_adam", {
            "no bias correction": _ADAM + (
                "    V = beta1 * V + (1 - beta1) * g\n    S = beta2 * S + (1 - beta2) * g**2\n"
                "    return w - lr * V / (np.sqrt(S) + eps), V, S\n"),
            "corrected averages returned": _ADAM + (
                "    V = (beta1 * V + (1 - beta1) * g) / (1 - beta1**t)\n"
                "    S = (beta2 * S + (1 - beta2) * g**2) / (1 - beta2**t)\n"
                "    return w - lr * V / (np.sqrt(S) + eps), V, S\n"),
            "gradient instead of its average on top": _ADAM + (
                "    V = beta1 * V + (1 - beta1) * g\n    S = beta2 * S + (1 - beta2) * g**2\n"
                "    return w - lr * g / (np.sqrt(S / (1 - beta2**t)) + eps), V, S\n"),
            "the course's Adam": _ADAM + (
                "    opt = optim.Adam(lr, beta1, beta2, eps)\n    w = w.copy()\n"
                "    opt.step([w], [g])\n    return w, V, S\n"),
        }),
        ("optim_stable_lr", {
            "one over the curvature": "def largest_stable_lr(curvatures):\n    return 1.0 / max(curvatures)\n",
            "the last curvature": "def largest_stable_lr(curvatures):\n    return 2.0 / curvatures[-1]\n",
            "the smallest curvature": "def largest_stable_lr(curvatures):\n    return 2.0 / min(curvatures)\n",
        }),
        ("optim_momentum_stable_lr", {
            "plain gradient descent's limit": _MOM + "    return 2.0 / max(curvatures)\n",
            "the classical form's limit (no 1 - beta)": _MOM + "    return 2 * (1 + beta) / max(curvatures)\n",
            "rate scaled by 1 / (1 - beta) only": _MOM + "    return 2.0 / ((1 - beta) * max(curvatures))\n",
            "eigenvalue +1 instead of -1 (no factor 2)": _MOM + "    return (1 + beta) / ((1 - beta) * max(curvatures))\n",
            "the smallest curvature": _MOM + "    return 2 * (1 + beta) / ((1 - beta) * min(curvatures))\n",
            "the last curvature": _MOM + "    return 2 * (1 + beta) / ((1 - beta) * curvatures[-1])\n",
            "beta fixed at 0.9": _MOM + "    return 2 * 1.9 / (0.1 * max(curvatures))\n",
            "bisection on a spectral radius of the wrong matrix (V from the old y, y from the old V)": _MOM + (
                "    c = max(curvatures)\n    lo, hi = 0.0, 1e6\n    for _ in range(200):\n"
                "        a = (lo + hi) / 2\n"
                "        m = np.array([[1.0, -a], [(1 - beta) * c, beta]])\n"
                "        lo, hi = (a, hi) if np.abs(np.linalg.eigvals(m)).max() < 1 else (lo, a)\n    return lo\n"),
        }),
    ])
