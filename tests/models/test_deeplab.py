"""ASPP equal to torchvision's, pyramid pooling against its definition, the small DeepLab's shapes and source weights."""

import pytest
import torch
from torch.nn import functional as F
from torchvision.models.segmentation.deeplabv3 import ASPP as TorchvisionASPP

from course_utils import models


@pytest.mark.parametrize("in_channels, rates, out_channels", [(64, (2, 4, 6), 64), (16, (6, 12, 18), 32),
                                                              (8, (1,), 8), (32, (1, 3, 5, 7), 16)])
def test_aspp_equals_torchvision(in_channels, rates, out_channels):
    torch.manual_seed(0)
    theirs = TorchvisionASPP(in_channels, rates, out_channels)
    ours = models.ASPP(in_channels, rates, out_channels)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict())
    for module in (ours, theirs):  # non-trivial batch-norm statistics
        for m in module.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
    theirs.load_state_dict(ours.state_dict())
    ours, theirs = ours.double().eval(), theirs.double().eval()
    for shape in [(2, in_channels, 9, 11), (1, in_channels, 1, 1), (3, in_channels, 16, 16)]:
        x = torch.randn(*shape, dtype=torch.float64)
        with torch.no_grad():
            torch.testing.assert_close(ours(x), theirs(x), rtol=0, atol=1e-12)


def test_pyramid_pooling_is_its_definition():
    torch.manual_seed(1)
    module = models.PyramidPooling(8, grids=(1, 2, 4), branch_channels=3).double().eval()
    x = torch.randn(2, 8, 8, 8, dtype=torch.float64)
    out = module(x)
    assert out.shape == (2, 8 + 3 * 3, 8, 8) and module.out_channels == 17
    torch.testing.assert_close(out[:, :8], x)
    for i, (grid, branch) in enumerate(zip((1, 2, 4), module.branches)):
        pooled = F.adaptive_avg_pool2d(x, grid)
        projected = branch[3](branch[2](branch[1](pooled)))  # conv, BN, ReLU
        expected = F.interpolate(projected, size=(8, 8), mode="bilinear", align_corners=False)
        torch.testing.assert_close(out[:, 8 + 3 * i: 11 + 3 * i], expected, rtol=0, atol=1e-12)
    # the 1x1 grid is the image average: constant over the map
    assert torch.allclose(out[:, 8:11], out[:, 8:11, :1, :1].expand(-1, -1, 8, 8))


@pytest.mark.parametrize("context", models.CONTEXT_MODULES)
def test_deeplab_shapes(context):
    torch.manual_seed(2)
    model = models.DeepLab(n_classes=4, context=context).eval()
    for size in [(64, 64), (32, 48)]:
        assert model(torch.rand(2, 1, *size)).shape == (2, 5, *size)


def test_from_source_copies_the_encoder():
    model = models.DeepLab.from_source(context="none")
    source = models.load_source_model()
    for name in ("block1", "block2", "block3"):
        for (key, ours), (_, theirs) in zip(getattr(model, name).state_dict().items(),
                                            getattr(source, name).state_dict().items()):
            assert torch.equal(ours, theirs), (name, key)


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="rates must be"):
        models.ASPP(8, rates=(0, 2))
    with pytest.raises(ValueError, match="grids must be"):
        models.PyramidPooling(8, grids=())
    with pytest.raises(ValueError, match="context must be"):
        models.DeepLab(context="psp")
    with pytest.raises(ValueError, match="multiples of 8"):
        models.DeepLab()(torch.rand(1, 1, 30, 32))
