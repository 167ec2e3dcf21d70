"""Tests of the blocks notebook 14 adds to the classic ones: DenseNet's dense block (against
torchvision's DenseNet-121, same weights), the pre-activation residual block (against a functional
reference written with torch.nn.functional), and the two classifier heads (parameter counts against
their formulas).

Tolerances: parameter counts and channel counts are integers and must be equal. Outputs computed
with the same operations in the same order must agree to 1e-5 (absolute); in practice they agree
exactly.
"""

import pytest
import torch
import torchvision
from torch import nn
from torch.nn import functional as F

from course_utils import models


def _randomize_batch_norms(module, generator):
    """Give every batch norm non-trivial statistics and affine parameters (eval mode then matters)."""
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(m.num_features, generator=generator) * 0.5)
                m.running_var.copy_(torch.rand(m.num_features, generator=generator) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=generator) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=generator) * 0.2)


def _dense_block_parameters(in_channels, n_layers, growth_rate, bn_size):
    """Parameters of a dense block, layer by layer: BN, 1x1 conv, BN, 3x3 conv (no biases)."""
    total, width = 0, bn_size * growth_rate
    for i in range(n_layers):
        c = in_channels + i * growth_rate
        total += 2 * c + c * width + 2 * width + width * growth_rate * 9
    return total


# ---------------------------------------------------------------- dense block

@pytest.fixture(scope="module")
def densenet121_features():
    torch.manual_seed(0)
    return torchvision.models.densenet121(weights=None).features


@pytest.mark.parametrize("index, in_channels, n_layers", [(1, 64, 6), (2, 128, 12), (3, 256, 24), (4, 512, 16)])
def test_dense_block_matches_densenet121(densenet121_features, index, in_channels, n_layers):
    generator = torch.Generator().manual_seed(index)
    torch.manual_seed(index)
    theirs = getattr(densenet121_features, f"denseblock{index}")
    _randomize_batch_norms(theirs, generator)
    ours = models.DenseBlock(in_channels, n_layers, growth_rate=32, bn_size=4)
    ours.load_state_dict(theirs.state_dict())  # same names, same shapes
    assert models.count_parameters(ours).per_layer == models.count_parameters(theirs).per_layer
    assert ours.out_channels == in_channels + n_layers * 32
    x = torch.randn(2, in_channels, 6, 6, generator=generator)
    with torch.no_grad():
        for mode in (False, True):  # eval (running statistics) and train (batch statistics)
            ours.train(mode)
            theirs.train(mode)
            a, b = ours(x), theirs(x)
            assert a.shape == (2, ours.out_channels, 6, 6)
            assert (a - b).abs().max().item() < 1e-5


@pytest.mark.parametrize("trial", range(8))
def test_dense_block_channels_and_parameters(trial):
    generator = torch.Generator().manual_seed(100 + trial)
    in_channels, n_layers, growth, bn_size = (int(v) for v in (
        torch.randint(1, 20, (1,), generator=generator), torch.randint(1, 6, (1,), generator=generator),
        torch.randint(1, 12, (1,), generator=generator), torch.randint(1, 5, (1,), generator=generator)))
    block = models.DenseBlock(in_channels, n_layers, growth, bn_size)
    assert models.count_parameters(block).total == _dense_block_parameters(in_channels, n_layers, growth, bn_size)
    assert sum(p.numel() for p in block.parameters()) == _dense_block_parameters(in_channels, n_layers, growth, bn_size)
    x = torch.randn(2, in_channels, 5, 7, generator=generator)
    out = block.eval()(x)
    assert out.shape == (2, in_channels + n_layers * growth, 5, 7) and block.out_channels == out.shape[1]
    # dense connectivity: the input is passed on unchanged as the first channels
    assert torch.equal(out[:, :in_channels], x)


def test_dense_layer_sees_all_earlier_channels():
    block = models.DenseBlock(3, 4, growth_rate=2, bn_size=1)
    assert [layer.conv1.in_channels for layer in block.values()] == [3, 5, 7, 9]


# ---------------------------------------------------------------- pre-activation block

def _preact_reference(x, block):
    """x + conv2(relu(bn2(conv1(relu(bn1(x)))))), written with torch.nn.functional (eval mode)."""
    def bn(t, m):
        return F.batch_norm(t, m.running_mean, m.running_var, m.weight, m.bias, False, 0.0, m.eps)
    pre = F.relu(bn(x, block.bn1))
    out = F.conv2d(pre, block.conv1.weight, stride=block.conv1.stride, padding=1)
    out = F.conv2d(F.relu(bn(out, block.bn2)), block.conv2.weight, padding=1)
    if block.downsample is None:
        return out + x
    if isinstance(block.downsample, nn.Conv2d):
        return out + F.conv2d(pre, block.downsample.weight, stride=block.downsample.stride)
    shortcut = x[:, :, ::block.conv1.stride[0], ::block.conv1.stride[0]]
    return out + F.pad(shortcut, (0, 0, 0, 0, 0, out.shape[1] - x.shape[1]))


@pytest.mark.parametrize("in_channels, channels, stride, shortcut",
                         [(8, 8, 1, "identity"), (8, 16, 2, "identity"), (8, 16, 2, "projection"),
                          (5, 5, 1, "projection"), (6, 9, 1, "projection"), (4, 8, 3, "identity")])
def test_preact_block_against_functional_reference(in_channels, channels, stride, shortcut):
    generator = torch.Generator().manual_seed(in_channels * 100 + channels * 10 + stride)
    torch.manual_seed(stride)
    block = models.PreActBlock(in_channels, channels, stride, shortcut)
    _randomize_batch_norms(block, generator)
    block.eval()
    for _ in range(5):
        x = torch.randn(3, in_channels, 9, 9, generator=generator)
        with torch.no_grad():
            assert (block(x) - _preact_reference(x, block)).abs().max().item() < 1e-5


def test_preact_block_has_an_untouched_identity_path():
    torch.manual_seed(0)
    pre, post = models.PreActBlock(8, 8), models.BasicBlock(8, 8, shortcut="identity")
    assert models.count_parameters(pre).total == models.count_parameters(post).total
    with torch.no_grad():
        pre.conv2.weight.zero_()
        post.bn2.weight.zero_()
        post.bn2.bias.zero_()
    x = torch.randn(2, 8, 5, 5)
    # with a zero residual, the pre-activation block is the identity; the original block is ReLU(x)
    assert torch.equal(pre.eval()(x), x)
    assert torch.equal(post.eval()(x), torch.relu(x))
    x.requires_grad_(True)
    pre(x).sum().backward()
    assert torch.equal(x.grad, torch.ones_like(x))


def test_preact_block_rejects_bad_arguments():
    with pytest.raises(ValueError, match="shortcut"):
        models.PreActBlock(8, 8, shortcut="none")
    with pytest.raises(ValueError, match="stride"):
        models.PreActBlock(8, 8, stride=0)
    with pytest.raises(TypeError, match="channels"):
        models.PreActBlock(8, 8.0)


# ---------------------------------------------------------------- classifier heads

@pytest.mark.parametrize("channels, size, classes, hidden", [(32, 3, 10, 128), (64, 7, 1000, 4096), (1, 1, 2, 1)])
def test_head_parameter_counts(channels, size, classes, hidden):
    gap = models.gap_head(channels, classes)
    flat = models.flatten_head(channels, size, classes, hidden=hidden)
    assert sum(p.numel() for p in gap.parameters()) == (channels + 1) * classes
    assert sum(p.numel() for p in flat.parameters()) == (channels * size ** 2 + 1) * hidden + (hidden + 1) * classes
    x = torch.randn(2, channels, size, size)
    assert gap(x).shape == flat.eval()(x).shape == (2, classes)


def test_gap_head_takes_any_map_size_and_averages():
    head = models.gap_head(4, 3)
    for size in [(1, 1), (3, 5), (8, 8)]:
        x = torch.randn(2, 4, *size)
        expected = head[2](x.mean(dim=(2, 3)))
        assert (head(x) - expected).abs().max().item() < 1e-6
    with pytest.raises(RuntimeError):
        models.flatten_head(4, 3, 3)(torch.randn(2, 4, 5, 5))  # fixed to its 3 x 3 map


def test_heads_reject_bad_arguments():
    with pytest.raises(ValueError, match="n_classes"):
        models.gap_head(8, 0)
    with pytest.raises(ValueError, match="size"):
        models.flatten_head(8, 0, 10)
    with pytest.raises(ValueError, match="dropout"):
        models.flatten_head(8, 3, 10, dropout=1.0)
