"""Notebook 30: every graded cell accepts the solution and rejects the stub and plausible wrong answers."""

from graded import exercise_tests

PRELUDE = """
import math
import torch
from course_utils import data, diffusion

x_train, y_train, x_test, y_test = data.mnist_tensors(size=14, seed=0)
to_model = lambda images: images * 2 - 1
T = 200
schedule = diffusion.make_schedule(T, "cosine")
"""

_CLEAN = "def clean_from_noise(x_t, noise, t, schedule):\n"
_ABAR = ("    abar = schedule.alpha_bars[torch.as_tensor(t)].to(x_t.dtype)\n"
         "    abar = abar.reshape(abar.shape + (1,) * (x_t.ndim - abar.ndim))\n")
_VAR = "def posterior_variance(t, schedule):\n    t = torch.as_tensor(t)\n"
_A, _B = "schedule.alpha_bars", "schedule.betas"

test_solution_passes_and_stub_fails, test_wrong_answers_fail = exercise_tests(
    "7_beyond/30_diffusion.ipynb", PRELUDE, [
        ("diffusion_clean_from_noise", {
            "no square roots": _CLEAN + _ABAR + "    return (x_t - (1 - abar) * noise) / abar\n",
            "sign of the noise": _CLEAN + _ABAR + "    return (x_t + (1 - abar).sqrt() * noise) / abar.sqrt()\n",
            "no division": _CLEAN + _ABAR + "    return x_t - (1 - abar).sqrt() * noise\n",
            "alpha_t for alpha_bar_t": _CLEAN + (
                "    abar = schedule.alphas[torch.as_tensor(t)].to(x_t.dtype)\n"
                "    abar = abar.reshape(abar.shape + (1,) * (x_t.ndim - abar.ndim))\n"
                "    return (x_t - (1 - abar).sqrt() * noise) / abar.sqrt()\n"),
            "the step before": _CLEAN + (
                "    abar = schedule.alpha_bars[torch.as_tensor(t) - 1].to(x_t.dtype)\n"
                "    abar = abar.reshape(abar.shape + (1,) * (x_t.ndim - abar.ndim))\n"
                "    return (x_t - (1 - abar).sqrt() * noise) / abar.sqrt()\n"),
            "one step for the whole batch only": _CLEAN + (
                "    abar = schedule.alpha_bars[t].to(x_t.dtype)\n"
                "    return (x_t - (1 - abar).sqrt() * noise) / abar.sqrt()\n"),
            "the course's predicted_x0": _CLEAN + "    return diffusion.predicted_x0(x_t, noise, t, schedule)\n",
            "the course's DDIM jump to step 0": _CLEAN + (
                "    return diffusion.ddim_step(x_t, noise, t, torch.zeros_like(torch.as_tensor(t)), schedule)\n"),
        }),
        ("diffusion_posterior_variance", {
            "the step noise beta_t": _VAR + f"    return {_B}[t]\n",
            "ratio upside down": _VAR + f"    return (1 - {_A}[t]) / (1 - {_A}[t - 1]) * {_B}[t]\n",
            "standard deviation": _VAR + f"    return ((1 - {_A}[t - 1]) / (1 - {_A}[t]) * {_B}[t]).sqrt()\n",
            "alpha_{t-1} for alpha_bar_{t-1}": _VAR + (
                f"    return (1 - schedule.alphas[t - 1]) / (1 - {_A}[t]) * {_B}[t]\n"),
            "beta_{t-1}": _VAR + f"    return (1 - {_A}[t - 1]) / (1 - {_A}[t]) * {_B}[t - 1]\n",
            "precisions added without alpha_t": _VAR + f"    return 1 / (1 / {_B}[t] + 1 / (1 - {_A}[t - 1]))\n",
            "the course's function": _VAR + "    return diffusion.posterior_variance(t, schedule)\n",
        }),
    ])
