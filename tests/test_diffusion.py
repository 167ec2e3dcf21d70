"""The diffusion pieces against their closed forms: one jump equals the chain, the reverse steps hit the posterior."""

import pytest
import torch

from course_utils import diffusion

TOL = dict(rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_schedules(kind):
    schedule = diffusion.make_schedule(100, kind)
    assert schedule.steps == 100 and schedule.betas.shape == (101,) and schedule.betas.dtype == torch.float64
    assert schedule.betas[0] == 0 and schedule.alpha_bars[0] == 1
    torch.testing.assert_close(schedule.alpha_bars, torch.cumprod(1 - schedule.betas, 0), **TOL)
    assert torch.all(schedule.alpha_bars[1:] < schedule.alpha_bars[:-1])
    assert torch.all(schedule.betas <= 0.999)
    if kind == "cosine":
        assert schedule.alpha_bars[-1] < 1e-3  # the image is gone at the last step
    else:
        assert schedule.betas[1] == pytest.approx(1e-4) and schedule.betas[-1] == pytest.approx(0.02)


@pytest.mark.parametrize("t", [0, 1, 2, 7, 50])
def test_one_jump_equals_the_chain(t):
    schedule = diffusion.make_schedule(50, "linear", 1e-3, 0.05)
    g = torch.Generator().manual_seed(t)
    x0 = torch.randn(3, 1, 4, 4, generator=g, dtype=torch.float64)
    noises = [torch.randn(3, 1, 4, 4, generator=g, dtype=torch.float64) for _ in range(max(t, 1))]
    chain = diffusion.q_sample_iterative(x0, t, noises, schedule)
    if t == 0:
        torch.testing.assert_close(chain, x0, **TOL)
        return
    # the chain's noise, gathered into one standard normal
    total = sum(schedule.betas[s].sqrt() * torch.prod(schedule.alphas[s + 1:t + 1]).sqrt() * noises[s - 1]
                for s in range(1, t + 1))
    combined = total / (1 - schedule.alpha_bars[t]).sqrt()
    torch.testing.assert_close(chain, diffusion.q_sample(x0, t, combined, schedule), **TOL)
    # the coefficients of the combination have unit sum of squares: the combined noise is standard normal
    weights = torch.stack([schedule.betas[s] * torch.prod(schedule.alphas[s + 1:t + 1]) for s in range(1, t + 1)])
    assert float(weights.sum() / (1 - schedule.alpha_bars[t])) == pytest.approx(1.0, abs=1e-12)


def test_one_step_per_image():
    schedule = diffusion.make_schedule(30)
    x0, noise = torch.randn(4, 2, 3, 3, dtype=torch.float64), torch.randn(4, 2, 3, 3, dtype=torch.float64)
    t = torch.tensor([0, 5, 17, 30])
    batched = diffusion.q_sample(x0, t, noise, schedule)
    for i in range(4):
        torch.testing.assert_close(batched[i], diffusion.q_sample(x0[i:i + 1], int(t[i]), noise[i:i + 1], schedule)[0],
                                   **TOL)


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_reverse_steps_with_the_true_noise(kind):
    schedule = diffusion.make_schedule(40, kind)
    g = torch.Generator().manual_seed(1)
    x0 = torch.randn(5, 1, 6, 6, generator=g, dtype=torch.float64)
    noise = torch.randn(5, 1, 6, 6, generator=g, dtype=torch.float64)
    t = torch.tensor([1, 2, 10, 25, 40])
    x_t = diffusion.q_sample(x0, t, noise, schedule)
    # DDPM's mean is the posterior mean of q(x_{t-1} | x_t, x_0)
    torch.testing.assert_close(diffusion.ddpm_step(x_t, noise, t, schedule),
                               diffusion.posterior_mean(x_t, x0, t, schedule), rtol=0, atol=1e-10)
    # DDIM with the true noise lands exactly on the forward process at the earlier step
    for s in (torch.zeros_like(t), t // 2):
        torch.testing.assert_close(diffusion.ddim_step(x_t, noise, t, s, schedule),
                                   diffusion.q_sample(x0, s, noise, schedule), rtol=0, atol=1e-9)
    # the step noise is added except at the last step
    z = torch.randn(5, 1, 6, 6, generator=g, dtype=torch.float64)
    moved = diffusion.ddpm_step(x_t, noise, t, schedule, z) - diffusion.ddpm_step(x_t, noise, t, schedule)
    torch.testing.assert_close(moved[0], torch.zeros_like(moved[0]), **TOL)
    torch.testing.assert_close(moved[1:], schedule.betas[t[1:]].sqrt().view(-1, 1, 1, 1) * z[1:], **TOL)


@pytest.mark.parametrize("method, steps", [("ddpm", None), ("ddim", None), ("ddim", 7)])
def test_sampling_a_point_mass_returns_it(method, steps):
    """With an exact noise predictor for data that is always the same image, both samplers end on that image."""
    schedule = diffusion.make_schedule(25, "cosine")
    target = torch.linspace(-1, 1, 16).reshape(1, 1, 4, 4)

    def oracle(x, t):
        abar = schedule.alpha_bars[t].float().view(-1, 1, 1, 1)
        return (x - abar.sqrt() * target) / (1 - abar).sqrt()

    drawn = diffusion.sample(oracle, (3, 1, 4, 4), schedule, method, steps, torch.Generator().manual_seed(0))
    torch.testing.assert_close(drawn, target.expand(3, 1, 4, 4), rtol=0, atol=1e-4)


def test_bad_input_is_named():
    schedule = diffusion.make_schedule(10)
    x = torch.zeros(2, 1, 3, 3)
    with pytest.raises(ValueError, match="kind must be"):
        diffusion.make_schedule(10, "quadratic")
    with pytest.raises(ValueError, match="t must lie in 0..10"):
        diffusion.q_sample(x, 11, x, schedule)
    with pytest.raises(TypeError, match="t must hold integer"):
        diffusion.q_sample(x, torch.tensor([0.5, 1.0]), x, schedule)
    with pytest.raises(ValueError, match="noise must have the shape"):
        diffusion.q_sample(x, 1, torch.zeros(2, 1, 3, 4), schedule)
    with pytest.raises(ValueError, match="t must be >= 1"):
        diffusion.ddpm_step(x, x, 0, schedule)
    with pytest.raises(ValueError, match="s must be smaller"):
        diffusion.ddim_step(x, x, 3, 3, schedule)
    with pytest.raises(ValueError, match="noises must hold"):
        diffusion.q_sample_iterative(x, 4, [x], schedule)


def test_predicted_x0_inverts_the_forward_process():
    schedule = diffusion.make_schedule(60, "cosine")
    g = torch.Generator().manual_seed(3)
    x0 = torch.randn(6, 1, 5, 5, generator=g, dtype=torch.float64)
    noise = torch.randn(6, 1, 5, 5, generator=g, dtype=torch.float64)
    t = torch.tensor([0, 1, 5, 20, 40, 55])
    torch.testing.assert_close(diffusion.predicted_x0(diffusion.q_sample(x0, t, noise, schedule), noise, t, schedule),
                               x0, rtol=0, atol=1e-9)
    with pytest.raises(ValueError, match="predicted_noise must have the shape"):
        diffusion.predicted_x0(x0, noise[:2], 1, schedule)


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_clipping(kind):
    schedule = diffusion.make_schedule(40, kind)
    g = torch.Generator().manual_seed(4)
    x0 = torch.rand(5, 1, 6, 6, generator=g, dtype=torch.float64) * 2 - 1  # in [-1, 1]
    noise = torch.randn(5, 1, 6, 6, generator=g, dtype=torch.float64)
    t = torch.tensor([1, 2, 10, 25, 40])
    x_t = diffusion.q_sample(x0, t, noise, schedule)
    # a clip that cuts nothing changes nothing
    for clip in [(-1e9, 1e9), (-1, 1)]:
        torch.testing.assert_close(diffusion.ddpm_step(x_t, noise, t, schedule, clip=clip),
                                   diffusion.ddpm_step(x_t, noise, t, schedule), rtol=0, atol=1e-9)
        torch.testing.assert_close(diffusion.ddim_step(x_t, noise, t, t - 1, schedule, clip=clip),
                                   diffusion.ddim_step(x_t, noise, t, t - 1, schedule), rtol=0, atol=1e-9)
    # a wrong noise implies a clean image out of range: clipped, the step is the posterior mean of the clipped image
    wrong = noise + 3
    x0_hat = diffusion.predicted_x0(x_t, wrong, t, schedule).clamp(-1, 1)
    torch.testing.assert_close(diffusion.ddpm_step(x_t, wrong, t, schedule, clip=(-1, 1)),
                               diffusion.posterior_mean(x_t, x0_hat, t, schedule), rtol=0, atol=1e-12)
    s = t - 1
    abar_s = schedule.alpha_bars[s].view(-1, 1, 1, 1)
    torch.testing.assert_close(diffusion.ddim_step(x_t, wrong, t, s, schedule, clip=(-1, 1)),
                               abar_s.sqrt() * x0_hat + (1 - abar_s).sqrt() * wrong, rtol=0, atol=1e-12)
    for bad in [(1, -1), (0,), "yes", (0, True)]:
        with pytest.raises(ValueError, match="clip must be None or a pair"):
            diffusion.ddpm_step(x_t, noise, t, schedule, clip=bad)
    with pytest.raises(ValueError, match="clip must be None or a pair"):
        diffusion.sample(lambda x, t: x, (1, 1, 2, 2), schedule, clip=(2, 2))
    with pytest.raises(ValueError, match="predicted_noise must have the shape"):
        diffusion.ddim_step(x_t, noise[:1], t, s, schedule)


def test_noise_prediction_loss():
    schedule = diffusion.make_schedule(30)
    g = torch.Generator().manual_seed(5)
    x0 = torch.randn(8, 1, 4, 4, generator=g)
    seen = {}

    def model(x_t, t):
        seen["x_t"], seen["t"] = x_t, t
        return 0.5 * x_t

    loss = diffusion.noise_prediction_loss(model, x0, schedule, torch.Generator().manual_seed(6))
    # the same draws, by hand: a step per image from 1..T, then the noise
    replay = torch.Generator().manual_seed(6)
    t = torch.randint(1, 31, (8,), generator=replay)
    noise = torch.randn(x0.shape, generator=replay)
    assert torch.equal(seen["t"], t) and t.min() >= 1 and t.max() <= 30
    x_t = diffusion.q_sample(x0, t, noise, schedule)
    torch.testing.assert_close(seen["x_t"], x_t, rtol=0, atol=0)
    torch.testing.assert_close(loss, torch.mean((0.5 * x_t - noise) ** 2), rtol=0, atol=0)
    # fresh draws every call
    assert not torch.equal(diffusion.noise_prediction_loss(model, x0, schedule), diffusion.noise_prediction_loss(
        model, x0, schedule))
    with pytest.raises(ValueError, match="model must return the noise's shape"):
        diffusion.noise_prediction_loss(lambda x, t: x[:, :, :2], x0, schedule)
    with pytest.raises(ValueError, match="x0 must be a non-empty batch"):
        diffusion.noise_prediction_loss(model, torch.zeros(0, 1, 4, 4), schedule)
    with pytest.raises(TypeError, match="schedule must be a NoiseSchedule"):
        diffusion.noise_prediction_loss(model, x0, None)


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_posterior_variance(kind):
    schedule = diffusion.make_schedule(50, kind)
    t = torch.arange(1, 51)
    variance = diffusion.posterior_variance(t, schedule)
    assert variance.dtype == torch.float64 and variance.shape == (50,)
    assert variance[0] == 0 and torch.all(variance[1:] < schedule.betas[2:])
    # the posterior's precision is the sum of the two Gaussians' precisions: alpha_t / beta_t + 1 / (1 - abar_{t-1})
    precision = schedule.alphas[2:] / schedule.betas[2:] + 1 / (1 - schedule.alpha_bars[1:-1])
    torch.testing.assert_close(variance[1:], 1 / precision, rtol=1e-12, atol=0)
    # Monte Carlo: x_{t-1} ~ q(. | x_0) then x_t ~ q(x_t | x_{t-1}); the spread of x_{t-1} given (x_t, x_0)
    # is what linear regression on x_t leaves unexplained
    g = torch.Generator().manual_seed(7)
    step = 20
    prev = schedule.alpha_bars[step - 1].sqrt() + (1 - schedule.alpha_bars[step - 1]).sqrt() * torch.randn(
        200_000, generator=g, dtype=torch.float64)
    now = schedule.alphas[step].sqrt() * prev + schedule.betas[step].sqrt() * torch.randn(
        200_000, generator=g, dtype=torch.float64)
    residual = prev - diffusion.posterior_mean(now, torch.ones_like(now), torch.full_like(now, step,
                                                                                            dtype=torch.long), schedule)
    assert float(residual.var() / variance[step - 1]) == pytest.approx(1.0, abs=0.02)
    with pytest.raises(ValueError, match="t must be >= 1"):
        diffusion.posterior_variance(0, schedule)


@pytest.mark.parametrize("method", ["ddpm", "ddim"])
def test_sample_keeps_the_chain(method):
    schedule = diffusion.make_schedule(20, "cosine")

    def model(x, t):
        return 0.1 * x

    plain = diffusion.sample(model, (2, 1, 3, 3), schedule, method, steps=5, generator=torch.Generator().manual_seed(0))
    final, kept = diffusion.sample(model, (2, 1, 3, 3), schedule, method, steps=5, keep=[20, 12, 0, 1],
                                   generator=torch.Generator().manual_seed(0))
    assert torch.equal(final, plain) and torch.equal(kept[0], final)
    assert kept[20].shape == (2, 1, 3, 3)
    assert set(kept) == ({20, 12, 0, 1} if method == "ddpm" else {20, 12, 0})  # DDIM visits 20, 16, 12, 8, 4, 0
    with pytest.raises(ValueError, match=r"keep\[i\] must be <= 20"):
        diffusion.sample(model, (2, 1, 3, 3), schedule, keep=[21])
