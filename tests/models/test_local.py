"""Tests of course_utils.models.local: the locally connected layer.

References: an explicit loop over output positions (each position a small
dense product of its own filters with its window, written independently of
``F.unfold``), and ``F.conv2d`` when every position holds the same filters.
Tolerance (float64): 1e-12 absolute.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_utils import models
from course_utils.models import LocallyConnected2d, locally_connected2d

TOL = 1e-12


def loop_reference(x, weight, bias, stride, padding):
    """y[n, k, i, j] = b[k, i, j] + sum_{c,u,v} w[i, j, k, c, u, v] x_pad[n, c, i*sh + u, j*sw + v]."""
    (sh, sw), (ph, pw) = stride, padding
    out_h, out_w, out_channels, _, kh, kw = weight.shape
    xp = F.pad(x, (pw, pw, ph, ph))
    y = torch.zeros(x.shape[0], out_channels, out_h, out_w, dtype=x.dtype)
    for i in range(out_h):
        for j in range(out_w):
            window = xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]  # (N, C_in, kH, kW)
            y[:, :, i, j] = torch.einsum("ncuv,kcuv->nk", window, weight[i, j])
    return y if bias is None else y + bias


def random_case(rng):
    n, cin, cout = (int(v) for v in rng.integers(1, 4, 3))
    kh, kw = (int(v) for v in rng.integers(1, 4, 2))
    stride = tuple(int(v) for v in rng.integers(1, 3, 2))
    padding = tuple(int(v) for v in rng.integers(0, 2, 2))
    h, w = int(rng.integers(kh, 9)), int(rng.integers(kw, 9))
    out = ((h + 2 * padding[0] - kh) // stride[0] + 1, (w + 2 * padding[1] - kw) // stride[1] + 1)
    x = torch.tensor(rng.standard_normal((n, cin, h, w)))
    weight = torch.tensor(rng.standard_normal((*out, cout, cin, kh, kw)))
    bias = torch.tensor(rng.standard_normal((cout, *out))) if rng.random() < 0.7 else None
    return x, weight, bias, stride, padding


def test_equals_the_per_position_loop_on_random_layers():
    rng = np.random.default_rng(0)
    for _ in range(60):
        x, weight, bias, stride, padding = random_case(rng)
        ours = locally_connected2d(x, weight, bias, stride, padding)
        reference = loop_reference(x, weight, bias, stride, padding)
        assert ours.shape == reference.shape
        assert (ours - reference).abs().max() < TOL


def test_tied_weights_give_the_convolution():
    rng = np.random.default_rng(1)
    for _ in range(40):
        x, weight, _, stride, padding = random_case(rng)
        kernel = weight[0, 0]  # (C_out, C_in, kH, kW), the same at every position
        bias = torch.tensor(rng.standard_normal(kernel.shape[0]))
        tied = kernel.expand_as(weight)
        ours = locally_connected2d(x, tied, bias[:, None, None].expand(-1, *weight.shape[:2]), stride, padding)
        reference = F.conv2d(x, kernel, bias, stride=stride, padding=padding)
        assert (ours - reference).abs().max() < TOL


def test_layer_from_conv_computes_the_conv_and_counts_its_parameters():
    torch.manual_seed(0)
    for cin, cout, k, size, stride, padding, bias in [(1, 8, 3, 28, 1, 1, True), (8, 16, 3, 14, 1, 1, True),
                                                      (3, 4, (2, 3), (9, 7), 2, 0, False), (2, 5, 1, 5, 1, 0, True)]:
        conv = nn.Conv2d(cin, cout, k, stride, padding, bias=bias).double()
        local = LocallyConnected2d.from_conv(conv, size)
        assert local.weight.dtype == torch.float64
        x = torch.randn(2, cin, *((size, size) if isinstance(size, int) else size), dtype=torch.float64)
        assert (local(x) - conv(x)).abs().max() < TOL
        positions = local.output_size[0] * local.output_size[1]
        assert local.output_size == tuple(conv(x).shape[2:])
        weights = positions * cout * cin * local.kernel_size[0] * local.kernel_size[1]
        assert sum(p.numel() for p in local.parameters()) == weights + (positions * cout if bias else 0)


def test_init_matches_conv_bounds_and_positions_differ():
    torch.manual_seed(0)
    layer = LocallyConnected2d(4, 6, 3, 10, padding=1)
    bound = 1 / np.sqrt(4 * 9)
    assert layer.weight.abs().max() <= bound and layer.bias.abs().max() <= bound
    assert not torch.equal(layer.weight[0, 0], layer.weight[5, 7])  # unshared
    assert layer.weight.std() > 0.8 * bound / np.sqrt(3)  # uniform(-b, b) has std b / sqrt(3)


def test_gradients_reach_every_position_separately():
    torch.manual_seed(0)
    layer = LocallyConnected2d(2, 3, 3, 6).double()
    x = torch.randn(1, 2, 6, 6, dtype=torch.float64)
    layer(x)[0, 1, 2, 3].backward()
    nonzero = layer.weight.grad.abs().sum(dim=(2, 3, 4, 5)) > 0
    assert nonzero.sum() == 1 and nonzero[2, 3]  # only the filters of position (2, 3) are used
    assert torch.autograd.gradcheck(lambda w: locally_connected2d(x, w), (layer.weight.detach().clone().requires_grad_(),))


def test_exported_from_models():
    assert models.LocallyConnected2d is LocallyConnected2d and "locally_connected2d" in models.__all__


def test_errors_name_the_argument():
    x = torch.zeros(1, 2, 6, 6)
    with pytest.raises(TypeError, match="x must"):
        locally_connected2d(x.numpy(), torch.zeros(4, 4, 1, 2, 3, 3))
    with pytest.raises(TypeError, match="weight must"):
        locally_connected2d(x, torch.zeros(1, 2, 3, 3))
    with pytest.raises(ValueError, match="input channels"):
        locally_connected2d(x, torch.zeros(4, 4, 1, 3, 3, 3))
    with pytest.raises(ValueError, match="output positions"):
        locally_connected2d(x, torch.zeros(5, 4, 1, 2, 3, 3))
    with pytest.raises(ValueError, match="bias must"):
        locally_connected2d(x, torch.zeros(4, 4, 1, 2, 3, 3), torch.zeros(1, 4))
    with pytest.raises(ValueError, match="stride"):
        locally_connected2d(x, torch.zeros(4, 4, 1, 2, 3, 3), stride=0)
    with pytest.raises(ValueError, match="smaller than the kernel"):
        LocallyConnected2d(1, 1, 5, 3)
    with pytest.raises(TypeError, match="in_channels"):
        LocallyConnected2d(1.5, 1, 3, 8)
    with pytest.raises(TypeError, match="conv must"):
        LocallyConnected2d.from_conv(nn.Conv2d(4, 4, 3, groups=2), 8)
