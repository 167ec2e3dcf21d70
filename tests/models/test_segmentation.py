"""FCN, U-Net and SegNet: shapes, the bilinear start of FCN's upsampling, unpooling, memory layouts, errors."""

import pytest
import torch
from torch.nn import functional as F

from course_utils import models
from course_utils.models.segmentation import _bilinear_transposed

ARCHITECTURES = [models.UNet, models.SegNet, models.FCN, lambda **kw: models.FCN(skips=False, **kw)]


@pytest.mark.parametrize("make", ARCHITECTURES)
@pytest.mark.parametrize("head", ["where_what", "plain"])
def test_outputs_have_one_plus_c_channels_at_full_size(make, head):
    torch.manual_seed(0)
    model = make(head=head, n_classes=4, widths=(4, 8, 8, 16)).eval()
    for size in [(64, 64), (32, 48)]:
        assert model(torch.rand(2, 1, *size)).shape == (2, 5, *size)


@pytest.mark.parametrize("factor", [2, 8])
def test_fcn_upsampling_starts_as_bilinear_interpolation(factor):
    layer = _bilinear_transposed(3, factor)
    x = torch.rand(2, 3, 6, 6, dtype=torch.float64)
    ours = layer.double()(x)
    theirs = F.interpolate(x, scale_factor=factor, mode="bilinear", align_corners=False)
    assert ours.shape == theirs.shape
    inner = slice(factor, -factor)  # the borders differ: the transposed convolution sees zeros beyond the edge
    torch.testing.assert_close(ours[..., inner, inner], theirs[..., inner, inner], rtol=0, atol=1e-12)


def test_segnet_decoder_unpools_where_the_encoder_pooled():
    torch.manual_seed(1)
    model = models.SegNet(n_classes=2, widths=(4, 8, 8, 16)).eval()
    images = torch.rand(1, 1, 32, 32)
    (x1, _, _, _), (i1, _, _) = model.encoder(images, return_indices=True)
    pooled = F.max_pool2d(x1, 2)
    unpooled = models.max_unpool(pooled, i1, x1.shape[2:])
    with _deterministic(False):  # the reference refuses to run under deterministic algorithms
        assert torch.equal(unpooled, F.max_unpool2d(pooled, i1, 2, output_size=x1.shape[2:]))
    # every 2x2 window keeps exactly its maximum, in place, and zeros elsewhere
    assert torch.equal(F.max_pool2d(unpooled, 2), pooled)
    assert int((unpooled != 0).sum()) <= pooled.numel()


@pytest.mark.parametrize("make", ARCHITECTURES)
def test_channels_last_gives_the_same_outputs(make):
    torch.manual_seed(2)
    model = make(widths=(4, 8, 8, 16)).eval()
    images = torch.rand(3, 1, 32, 32)
    expected = model(images)
    fast, fast_images = models.channels_last(model, images)
    torch.testing.assert_close(fast(fast_images), expected, rtol=1e-4, atol=1e-5)


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="multiples of 8"):
        models.UNet()(torch.rand(1, 1, 20, 24))
    with pytest.raises(ValueError, match=r"images must be \(N, 1, H, W\)"):
        models.SegNet()(torch.rand(1, 3, 32, 32))
    with pytest.raises(ValueError, match="widths must be 4"):
        models.FCN(widths=(8, 16))
    with pytest.raises(ValueError, match="head must be"):
        models.UNet(head="softmax")


def test_max_unpool_equals_torch_and_the_course_numpy_version():
    from course_utils import conv

    generator = torch.Generator().manual_seed(3)
    for shape in [(2, 3, 8, 8), (1, 5, 6, 10), (3, 1, 16, 4)]:
        x = torch.randn(*shape, generator=generator, dtype=torch.float64, requires_grad=True)
        pooled, indices = F.max_pool2d(x, 2, return_indices=True)
        ours = models.max_unpool(pooled, indices, shape[2:])
        with _deterministic(False):  # the reference refuses to run under deterministic algorithms
            assert torch.equal(ours, F.max_unpool2d(pooled, indices, 2, output_size=shape[2:]))
        assert torch.equal(ours, torch.from_numpy(conv.max_unpool2d(pooled.detach().numpy(), indices.numpy(), 2)))
        ours.sum().backward()  # the gradient reaches exactly the maxima
        assert torch.equal(x.grad, (ours != 0).double())
    with _deterministic():  # notebooks run with deterministic algorithms, which refuse F.max_unpool2d
        models.max_unpool(pooled, indices, shape[2:])


class _deterministic:
    """Deterministic algorithms on (or off) inside the block, as they were after it."""

    def __init__(self, enabled=True):
        self.enabled = enabled

    def __enter__(self):
        self.before = torch.are_deterministic_algorithms_enabled()
        torch.use_deterministic_algorithms(self.enabled)

    def __exit__(self, *exc):
        torch.use_deterministic_algorithms(self.before)
