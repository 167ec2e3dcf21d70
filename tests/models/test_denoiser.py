"""The diffusion denoiser: the sinusoidal step code against its formula and its properties, the U-Net's shapes."""

import math

import numpy as np
import pytest
import torch

from course_utils.models import denoiser
from course_utils.models.denoiser import Denoiser, TimeConvBlock, TimeEmbedding, timestep_embedding


def _reference(t, dim, max_period=10000.0):
    half = dim // 2
    w = max_period ** (-np.arange(half) / half)
    angles = np.asarray(t, dtype=np.float64)[:, None] * w[None, :]
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)


@pytest.mark.parametrize("dim", [2, 8, 32, 64])
def test_embedding_equals_its_formula(dim):
    rng = np.random.default_rng(dim)
    t = rng.integers(0, 1000, size=20)
    got = timestep_embedding(torch.from_numpy(t), dim)
    assert got.shape == (20, dim) and got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), _reference(t, dim), rtol=0, atol=1e-6)
    got64 = timestep_embedding(torch.from_numpy(t).double() + 0.5, dim, max_period=50.0)
    assert got64.dtype == torch.float64
    np.testing.assert_allclose(got64.numpy(), _reference(t + 0.5, dim, 50.0), rtol=0, atol=1e-12)


def test_embedding_properties():
    t = torch.arange(0, 1001, dtype=torch.float64)
    code = timestep_embedding(t, 32)
    # every code has squared norm dim / 2, step 0 is [0 ... 0, 1 ... 1]
    torch.testing.assert_close((code ** 2).sum(1), torch.full((1001,), 16.0, dtype=torch.float64), rtol=0, atol=1e-12)
    assert torch.equal(code[0], torch.cat([torch.zeros(16), torch.ones(16)]).double())
    # the dot product of two codes depends only on the difference of their steps
    for shift in (1, 7, 100):
        dots = (code[:-shift] * code[shift:]).sum(1)
        torch.testing.assert_close(dots, dots[:1].expand_as(dots), rtol=0, atol=1e-9)
    # no two steps share a code; a neighbour is closer than a distant step
    distance = torch.cdist(code, code)
    assert float(distance[~torch.eye(1001, dtype=torch.bool)].min()) > 1e-3
    assert distance[500, 501] < distance[500, 600] < distance[500, 1000]
    # an int and a 0-d tensor are one step
    assert timestep_embedding(5, 8).shape == (1, 8)
    torch.testing.assert_close(timestep_embedding(torch.tensor(5), 8), timestep_embedding(torch.tensor([5]), 8))


def test_embedding_bad_input():
    with pytest.raises(ValueError, match="dim must be even"):
        timestep_embedding(torch.tensor([1]), 7)
    with pytest.raises(ValueError, match="dim must be >= 2"):
        timestep_embedding(torch.tensor([1]), 0)
    with pytest.raises(ValueError, match="t must be a 1-D tensor"):
        timestep_embedding(torch.zeros(2, 3), 8)
    with pytest.raises(TypeError, match="t must be an int or a 1-D tensor"):
        timestep_embedding([1, 2], 8)
    with pytest.raises(TypeError, match="t must hold integer or real"):
        timestep_embedding(torch.tensor([True]), 8)
    with pytest.raises(ValueError, match="max_period must be > 1"):
        timestep_embedding(torch.tensor([1]), 8, max_period=1)
    with pytest.raises(ValueError, match="dim must be even"):
        TimeEmbedding(5, 16)


def test_time_embedding_and_block():
    torch.manual_seed(0)
    embed = TimeEmbedding(16, 24)
    vector = embed(torch.tensor([0, 3, 199]))
    assert vector.shape == (3, 24)
    block = TimeConvBlock(3, 8, 24, groups=4)
    x = torch.randn(3, 3, 10, 12)
    out = block(x, vector)
    assert out.shape == (3, 8, 10, 12)
    # the step adds one number per channel to the normalized map, the same at every pixel
    manual = torch.nn.functional.silu(block.norm(block.conv(x)) + block.time(vector)[:, :, None, None])
    torch.testing.assert_close(out, manual, rtol=0, atol=0)
    with pytest.raises(ValueError, match="groups must divide out_channels"):
        TimeConvBlock(3, 10, 24, groups=4)


@pytest.mark.parametrize("size", [(28, 28), (14, 14), (16, 20), (9, 5)])
def test_denoiser_shapes(size):
    torch.manual_seed(1)
    net = Denoiser((8, 16, 16), time_dim=8).eval()
    x = torch.randn(2, 1, *size)
    out = net(x, torch.tensor([1, 50]))
    assert out.shape == x.shape
    assert net(x, 7).shape == x.shape  # one step for the whole batch


def test_denoiser_uses_the_step_and_images_do_not_mix():
    torch.manual_seed(2)
    net = Denoiser((8, 16, 16), time_dim=8)
    x = torch.randn(4, 1, 14, 14)
    t = torch.tensor([1, 10, 100, 200])
    out = net(x, t)
    assert not torch.allclose(net(x, t.flip(0)), out)  # the step matters
    # group norm: each image is processed alone, in train mode as in eval mode
    alone = torch.cat([net(x[i:i + 1], t[i:i + 1]) for i in range(4)])
    torch.testing.assert_close(out, alone, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(net.eval()(x, t), out, rtol=0, atol=0)
    # the loss reaches the step's MLP
    net.train()
    net(x, t).square().mean().backward()
    assert net.time.mlp[0].weight.grad is not None and net.time.mlp[0].weight.grad.abs().sum() > 0


def test_denoiser_bad_input():
    net = Denoiser((8, 16, 16), time_dim=8)
    with pytest.raises(ValueError, match=r"images must be \(N, 1, H, W\)"):
        net(torch.zeros(2, 3, 8, 8), torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="t must hold one step per image"):
        net(torch.zeros(2, 1, 8, 8), torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="widths must be 3 positive ints"):
        Denoiser((8, 16))
    with pytest.raises(ValueError, match="groups must divide"):
        Denoiser((8, 12, 16))
    with pytest.raises(ValueError, match="time_dim must be >= 2"):
        Denoiser((8, 16, 16), time_dim=1)
    assert set(denoiser.__all__) == {"timestep_embedding", "TimeEmbedding", "TimeConvBlock", "Denoiser"}
    with torch.no_grad():
        assert math.isfinite(float(net(torch.zeros(1, 1, 8, 8), 3).sum()))
