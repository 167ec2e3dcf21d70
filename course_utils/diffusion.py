"""Denoising diffusion, written small enough to read (groundwork for notebook 30).

The forward process adds Gaussian noise in ``T`` small steps,
``x_t = sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) eps_t``. Because a sum of
independent Gaussians is Gaussian, any step can be reached from ``x_0`` in one
jump (Ho et al. 2020, eq. 4)::

    x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps,    abar_t = prod_{s <= t} (1 - beta_s).

A network trained to predict ``eps`` from ``(x_t, t)`` lets us walk back:

* :func:`ddpm_step`: one step of the reverse chain, ``x_t -> x_{t-1}``, with
  fresh noise of variance ``beta_t`` (DDPM, Ho et al. 2020, Algorithm 2);
* :func:`ddim_step`: a deterministic jump ``x_t -> x_s`` to any earlier step
  ``s`` (DDIM with ``eta = 0``, Song et al. 2021), so sampling can skip steps.

Steps are numbered ``1 .. T`` as in the papers; index ``t`` of the schedule
arrays refers to step ``t`` (index 0 is step 0, ``abar_0 = 1``, no noise).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ._checks import check_choice, check_int, check_number

__all__ = ["NoiseSchedule", "make_schedule", "q_sample", "q_sample_iterative", "posterior_mean", "posterior_variance", "predicted_x0", "ddpm_step",
           "ddim_step", "sample", "noise_prediction_loss"]


@dataclass(frozen=True)
class NoiseSchedule:
    """The per-step noise of a diffusion: ``betas[t]``, ``alphas[t] = 1 - betas[t]``, ``alpha_bars[t]``.

    Index 0 stands for "no noise yet" (``beta = 0``, ``alpha_bar = 1``), so
    that ``alpha_bars[t]`` is the product over steps ``1 .. t``. Float64.
    """

    betas: torch.Tensor
    alphas: torch.Tensor
    alpha_bars: torch.Tensor

    @property
    def steps(self) -> int:
        """T, the number of noising steps."""
        return len(self.betas) - 1


def make_schedule(steps=200, kind="linear", beta_start=1e-4, beta_end=0.02, cosine_offset=0.008):
    """A noise schedule of ``steps`` steps.

    Parameters
    ----------
    steps : int
        T.
    kind : {"linear", "cosine"}
        "linear": betas evenly spaced from ``beta_start`` to ``beta_end``
        (Ho et al. 2020 used 1e-4 to 0.02 over 1,000 steps; fewer steps want
        larger betas). "cosine": ``abar_t = cos^2(((t / T + s) / (1 + s)) pi / 2)``
        normalized to ``abar_0 = 1``, betas clipped at 0.999 (Nichol & Dhariwal
        2021), which destroys the image more evenly over the steps.
    beta_start, beta_end : float
        Linear schedule only; ``0 < beta_start <= beta_end < 1``.
    cosine_offset : float
        The ``s`` of the cosine schedule.

    Returns
    -------
    NoiseSchedule
    """
    steps = check_int(steps, "steps", minimum=1)
    check_choice(kind, "kind", ("linear", "cosine"))
    if kind == "linear":
        beta_start = check_number(beta_start, "beta_start", minimum=0, strict_minimum=True, maximum=1)
        beta_end = check_number(beta_end, "beta_end", minimum=beta_start, maximum=1)
        if beta_end >= 1:
            raise ValueError(f"beta_end must be < 1, got {beta_end}")
        betas = torch.linspace(beta_start, beta_end, steps, dtype=torch.float64)
    else:
        s = check_number(cosine_offset, "cosine_offset", minimum=0)
        t = torch.arange(steps + 1, dtype=torch.float64) / steps
        f = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
        abar = f / f[0]
        betas = (1 - abar[1:] / abar[:-1]).clamp(max=0.999)
    betas = torch.cat([torch.zeros(1, dtype=torch.float64), betas])
    alphas = 1 - betas
    return NoiseSchedule(betas, alphas, torch.cumprod(alphas, 0))


def _check_steps(t, schedule, name="t"):
    t = torch.as_tensor(t)
    if t.dtype not in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
        raise TypeError(f"{name} must hold integer steps, got {t.dtype}")
    if t.numel() and (t.min() < 0 or t.max() > schedule.steps):
        raise ValueError(f"{name} must lie in 0..{schedule.steps}, got values from {int(t.min())} to {int(t.max())}")
    return t.long()


def _per_image(values, t, like):
    """values[t] shaped to broadcast over images of shape ``like`` (one step per image, or one for all)."""
    picked = values[t].to(like.dtype)
    return picked.reshape(picked.shape + (1,) * (like.ndim - picked.ndim))


def q_sample(x0, t, noise, schedule):
    """The forward process in one jump: ``sqrt(abar_t) x0 + sqrt(1 - abar_t) noise``.

    Parameters
    ----------
    x0 : Tensor (B, ...)
        Clean images.
    t : int or LongTensor (B,)
        The step of each image (0 returns ``x0``).
    noise : Tensor like ``x0``
        Standard normal noise; passed in, so the caller controls the random stream.
    schedule : NoiseSchedule
    """
    if noise.shape != x0.shape:
        raise ValueError(f"noise must have the shape of x0 {tuple(x0.shape)}, got {tuple(noise.shape)}")
    t = _check_steps(t, schedule)
    abar = _per_image(schedule.alpha_bars, t, x0)
    return abar.sqrt() * x0 + (1 - abar).sqrt() * noise


def q_sample_iterative(x0, t, noises, schedule):
    """The forward process step by step: ``x_s = sqrt(1 - beta_s) x_{s-1} + sqrt(beta_s) noises[s - 1]`` up to ``t``.

    ``noises`` is a sequence of at least ``t`` tensors shaped like ``x0``. Its
    result equals :func:`q_sample` with the one noise
    ``sum_s sqrt(beta_s) prod_{r > s} sqrt(alpha_r) noises[s - 1] / sqrt(1 - abar_t)``
    (a standard normal too): the two agree in distribution for every ``t``.
    """
    t = int(_check_steps(t, schedule))
    if len(noises) < t:
        raise ValueError(f"noises must hold at least t = {t} tensors, got {len(noises)}")
    x = x0
    for s in range(1, t + 1):
        x = schedule.alphas[s].sqrt().to(x0.dtype) * x + schedule.betas[s].sqrt().to(x0.dtype) * noises[s - 1]
    return x


def noise_prediction_loss(model, x0, schedule, generator=None):
    """The epsilon-prediction objective (Ho et al. 2020, eq. 14): a fresh step and noise for every image.

    Draws ``t`` uniformly from ``1 .. T`` and ``eps`` standard normal for each
    image of the batch, makes ``x_t = q_sample(x0, t, eps)`` and returns the
    mean squared error between ``model(x_t, t)`` and ``eps``.

    Parameters
    ----------
    model : callable
        ``model(x_t, t)`` returns the predicted noise, shaped like ``x_t``.
    x0 : Tensor (B, ...)
        Clean images (the course scales digits to [-1, 1]).
    schedule : NoiseSchedule
    generator : torch.Generator, optional
        The random stream of the steps and the noise.

    Returns
    -------
    Tensor
        A scalar, differentiable with respect to the model's parameters.
    """
    if not isinstance(x0, torch.Tensor) or x0.ndim < 2 or len(x0) == 0:
        raise ValueError(f"x0 must be a non-empty batch tensor (B, ...), got "
                         f"{tuple(x0.shape) if isinstance(x0, torch.Tensor) else type(x0).__name__}")
    if not isinstance(schedule, NoiseSchedule):
        raise TypeError(f"schedule must be a NoiseSchedule (make_schedule), got {type(schedule).__name__}")
    t = torch.randint(1, schedule.steps + 1, (len(x0),), generator=generator)
    noise = torch.randn(x0.shape, generator=generator, dtype=x0.dtype)
    predicted = model(q_sample(x0, t, noise, schedule), t)
    if predicted.shape != noise.shape:
        raise ValueError(f"model must return the noise's shape {tuple(noise.shape)}, got {tuple(predicted.shape)}")
    return torch.mean((predicted - noise) ** 2)


def posterior_mean(x_t, x0, t, schedule):
    """Mean of ``q(x_{t-1} | x_t, x_0)``, the target the reverse step aims at (Ho et al. 2020, eq. 7)."""
    t = _check_steps(t, schedule)
    if torch.any(t < 1):
        raise ValueError("t must be >= 1: step 0 has no predecessor")
    beta, alpha = _per_image(schedule.betas, t, x_t), _per_image(schedule.alphas, t, x_t)
    abar, abar_prev = _per_image(schedule.alpha_bars, t, x_t), _per_image(schedule.alpha_bars, t - 1, x_t)
    return (abar_prev.sqrt() * beta / (1 - abar)) * x0 + (alpha.sqrt() * (1 - abar_prev) / (1 - abar)) * x_t


def posterior_variance(t, schedule):
    """Variance of ``q(x_{t-1} | x_t, x_0)``: ``beta~_t = (1 - abar_{t-1}) / (1 - abar_t) beta_t`` (Ho et al. 2020, eq. 7).

    Zero at ``t = 1`` (given ``x_1`` and ``x_0`` nothing is left to guess),
    below ``beta_t`` after.

    Parameters
    ----------
    t : int or LongTensor
        Steps, each in ``1 .. T``.
    schedule : NoiseSchedule

    Returns
    -------
    Tensor
        float64, shaped like ``t``.
    """
    t = _check_steps(t, schedule)
    if torch.any(t < 1):
        raise ValueError("t must be >= 1: step 0 has no predecessor")
    return (1 - schedule.alpha_bars[t - 1]) / (1 - schedule.alpha_bars[t]) * schedule.betas[t]


def _check_clip(clip):
    if clip is None:
        return None
    if not isinstance(clip, (tuple, list)) or len(clip) != 2 or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in clip) or not clip[0] < clip[1]:
        raise ValueError(f"clip must be None or a pair (low, high) with low < high, got {clip!r}")
    return float(clip[0]), float(clip[1])


def predicted_x0(x_t, predicted_noise, t, schedule):
    """The clean image implied by a noise prediction: ``(x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t)``.

    The inverse of :func:`q_sample` for a known noise.

    Parameters
    ----------
    x_t : Tensor (B, ...)
        Noisy images.
    predicted_noise : Tensor like ``x_t``
    t : int or LongTensor (B,)
        The step of each image (one for all if an int).
    schedule : NoiseSchedule

    Returns
    -------
    Tensor like ``x_t``
    """
    if predicted_noise.shape != x_t.shape:
        raise ValueError(f"predicted_noise must have the shape of x_t {tuple(x_t.shape)}, "
                         f"got {tuple(predicted_noise.shape)}")
    t = _check_steps(t, schedule)
    abar = _per_image(schedule.alpha_bars, t, x_t)
    return (x_t - (1 - abar).sqrt() * predicted_noise) / abar.sqrt()


def ddpm_step(x_t, predicted_noise, t, schedule, noise=None, clip=None):
    """One reverse step ``x_t -> x_{t-1}`` from the predicted noise (DDPM, variance ``beta_t``).

    ``x_{t-1} = (x_t - beta_t / sqrt(1 - abar_t) eps) / sqrt(alpha_t) + sqrt(beta_t) z``,
    with ``z = noise`` (standard normal) for ``t > 1`` and no noise at the last step.
    With the true noise as ``predicted_noise``, the mean is :func:`posterior_mean`.

    ``clip=(low, high)``: the mean is instead :func:`posterior_mean` of the
    implied clean image (:func:`predicted_x0`) clipped to the data's range,
    as Ho et al.'s code does; with no clipping the two means are equal.
    """
    t = _check_steps(t, schedule)
    if torch.any(t < 1):
        raise ValueError("t must be >= 1: step 0 has no predecessor")
    if predicted_noise.shape != x_t.shape:
        raise ValueError(f"predicted_noise must have the shape of x_t {tuple(x_t.shape)}, "
                         f"got {tuple(predicted_noise.shape)}")
    clip = _check_clip(clip)
    beta, alpha = _per_image(schedule.betas, t, x_t), _per_image(schedule.alphas, t, x_t)
    abar = _per_image(schedule.alpha_bars, t, x_t)
    if clip is None:
        mean = (x_t - beta / (1 - abar).sqrt() * predicted_noise) / alpha.sqrt()
    else:
        x0 = predicted_x0(x_t, predicted_noise, t, schedule).clamp(*clip)
        mean = posterior_mean(x_t, x0, t, schedule)
    if noise is None:
        return mean
    last = _per_image((torch.arange(schedule.steps + 1) == 1).to(torch.float64), t, x_t)
    return mean + (1 - last) * beta.sqrt() * noise


def ddim_step(x_t, predicted_noise, t, s, schedule, clip=None):
    """A deterministic jump ``x_t -> x_s``, ``s < t`` (DDIM with eta = 0).

    The clean image implied by the prediction,
    ``x0_hat = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t)``, is noised again to
    step ``s`` with the same noise: ``sqrt(abar_s) x0_hat + sqrt(1 - abar_s) eps``.
    ``clip=(low, high)`` clips ``x0_hat`` to the data's range first.
    """
    t, s = _check_steps(t, schedule), _check_steps(s, schedule, "s")
    if torch.any(s >= t):
        raise ValueError("s must be smaller than t: DDIM jumps back in time")
    if predicted_noise.shape != x_t.shape:
        raise ValueError(f"predicted_noise must have the shape of x_t {tuple(x_t.shape)}, "
                         f"got {tuple(predicted_noise.shape)}")
    clip = _check_clip(clip)
    abar_s = _per_image(schedule.alpha_bars, s, x_t)
    x0_hat = predicted_x0(x_t, predicted_noise, t, schedule)
    if clip is not None:
        x0_hat = x0_hat.clamp(*clip)
    return abar_s.sqrt() * x0_hat + (1 - abar_s).sqrt() * predicted_noise


@torch.no_grad()
def sample(model, shape, schedule, method="ddpm", steps=None, generator=None, clip=None, keep=()):
    """Images drawn from pure noise by walking the reverse chain.

    Parameters
    ----------
    model : callable
        ``model(x_t, t)`` returns the predicted noise; ``t`` is a LongTensor (B,).
    shape : tuple
        (B, C, H, W) of the images to draw.
    schedule : NoiseSchedule
    method : {"ddpm", "ddim"}
    steps : int, optional
        DDIM only: how many evenly spaced steps to take (default: all T).
    generator : torch.Generator, optional
        The random stream of the starting noise and of DDPM's step noise.
    clip : (low, high), optional
        Clip each step's implied clean image to the data's range
        (:func:`ddpm_step`, :func:`ddim_step`).
    keep : iterable of int, optional
        Steps whose images to return as well (to draw the reverse chain);
        ``T`` is the starting noise. A step the chain does not visit (DDIM
        skips steps) is not returned.

    Returns
    -------
    Tensor of ``shape``, or ``(Tensor, {step: Tensor})`` when ``keep`` is given
    """
    check_choice(method, "method", ("ddpm", "ddim"))
    clip = _check_clip(clip)
    keep = {check_int(k, "keep[i]", minimum=0, maximum=schedule.steps) for k in keep}
    x = torch.randn(shape, generator=generator)
    batch = shape[0]
    kept = {schedule.steps: x} if schedule.steps in keep else {}
    if method == "ddpm":
        for t in range(schedule.steps, 0, -1):
            step = torch.full((batch,), t, dtype=torch.long)
            noise = torch.randn(shape, generator=generator) if t > 1 else None
            x = ddpm_step(x, model(x, step), step, schedule, noise, clip)
            if t - 1 in keep:
                kept[t - 1] = x
    else:
        steps = schedule.steps if steps is None else check_int(steps, "steps", minimum=1, maximum=schedule.steps)
        times = torch.linspace(schedule.steps, 0, steps + 1).round().long().unique_consecutive()
        for t, s in zip(times[:-1], times[1:]):
            x = ddim_step(x, model(x, torch.full((batch,), int(t), dtype=torch.long)), t, s, schedule, clip)
            if int(s) in keep:
                kept[int(s)] = x
    return (x, kept) if keep else x
