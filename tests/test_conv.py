"""course_utils.conv against torch: sizes over a full grid, layers on random cases, costs, errors.

Tolerances: float64 inputs are compared with torch in float64 to 1e-10 (absolute);
float32 inputs with torch in float32 to 1e-5 relative to the largest output value.
"""

import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from scipy import signal  # noqa: E402

from course_utils import conv, viz  # noqa: E402

T = torch.from_numpy


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny torch calls are much slower with a thread pool when the cores are busy."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _close(ours, reference, atol=1e-10):
    reference = reference.detach().numpy() if isinstance(reference, torch.Tensor) else reference
    assert ours.shape == reference.shape, (ours.shape, reference.shape)
    err = np.abs(ours - reference).max() if ours.size else 0.0
    assert err <= atol, f"max abs error {err:.3g} > {atol}"
    return err


def _torch_size(fn):
    try:
        return fn()
    except RuntimeError:
        return None


# --- output sizes over the full grid -------------------------------------------------

GRID = [(n, f, s, p, d) for n in range(1, 33) for f in range(1, 8) for s in range(1, 5)
        for p in range(4) for d in range(1, 4)]


def test_conv_output_size_equals_torch_on_the_full_grid():
    w = {f: torch.zeros(1, 1, 1, f) for f in range(1, 8)}
    x = {n: torch.zeros(1, 1, 1, n) for n in range(1, 33)}
    refused = 0
    for n, f, s, p, d in GRID:
        expected = _torch_size(lambda: F.conv2d(x[n], w[f], stride=(1, s), padding=(0, p),
                                                dilation=(1, d)).shape[-1])
        if expected is None:
            refused += 1
            with pytest.raises(ValueError, match="kernel_size"):
                conv.conv_output_size(n, f, s, p, d)
        else:
            assert conv.conv_output_size(n, f, s, p, d) == expected, (n, f, s, p, d)
    assert 0 < refused < len(GRID) / 2


def test_pool_output_size_equals_torch_on_the_full_grid():
    x = {n: torch.zeros(1, 1, 1, n) for n in range(1, 33)}
    refused = 0
    for n, f, s, p, d in GRID:
        for ceil_mode in (False, True):
            expected = _torch_size(lambda: F.max_pool2d(x[n], (1, f), (1, s), (0, p), (1, d),
                                                        ceil_mode=ceil_mode).shape[-1])
            if expected is None:
                refused += 1
                with pytest.raises(ValueError, match="padding|kernel_size"):
                    conv.pool_output_size(n, f, s, p, d, ceil_mode=ceil_mode)
            else:
                assert conv.pool_output_size(n, f, s, p, d, ceil_mode) == expected, (n, f, s, p, d, ceil_mode)
                if d == 1:
                    avg = F.avg_pool2d(x[n], (1, f), (1, s), (0, p), ceil_mode=ceil_mode).shape[-1]
                    assert avg == expected
    assert refused > 0
    assert conv.pool_output_size(8, 2) == 4  # stride defaults to the kernel size


def test_conv_transpose_output_size_equals_torch_on_the_full_grid():
    w = {f: torch.zeros(1, 1, 1, f) for f in range(1, 8)}
    x = {n: torch.zeros(1, 1, 1, n) for n in range(1, 33)}
    refused = 0
    for n, f, s, p, d in GRID:
        for op in range(3):
            expected = _torch_size(lambda: F.conv_transpose2d(x[n], w[f], stride=(1, s), padding=(0, p),
                                                              output_padding=(0, op),
                                                              dilation=(1, d)).shape[-1])
            if expected is None or expected < 1:
                refused += 1
                with pytest.raises(ValueError, match="output_padding|padding"):
                    conv.conv_transpose_output_size(n, f, s, p, op, d)
            else:
                assert conv.conv_transpose_output_size(n, f, s, p, op, d) == expected, (n, f, s, p, op, d)
    assert refused > 0


def test_course_figures():
    assert conv.conv_output_size(227, 11, stride=4, padding=2) == 56
    assert conv.conv_output_size(5, 3, stride=2, padding=0) == 2
    assert conv.conv_output_size(5, 3, stride=2, padding=1) == 3
    assert conv.conv_output_size(7, 3, padding=1) == 7  # same padding
    assert conv.conv_output_size(5, 3, padding=2) == 7  # full padding
    cost = conv.conv_cost(3, 64, 11, 56)
    assert cost == conv.ConvCost(parameters=23_296, multiply_adds=72_855_552, outputs=200_704,
                                 output_bytes=802_816)
    assert cost.output_bytes / 1024 == 784


# --- convolution ----------------------------------------------------------------------


def _random_conv_case(rng, small=False):
    groups = int(rng.choice([1, 1, 2, 3]))
    cin = groups * int(rng.integers(1, 3 if small else 4))
    cout = groups * int(rng.integers(1, 3 if small else 4))
    kh, kw = (int(k) for k in rng.integers(1, 5, size=2))
    stride = tuple(int(s) for s in rng.integers(1, 4, size=2))
    dilation = tuple(int(d) for d in rng.integers(1, 3, size=2))
    padding = tuple(int(p) for p in rng.integers(0, 3, size=2))
    h = int(rng.integers(dilation[0] * (kh - 1) + 1, 12 if small else 20))
    w = int(rng.integers(dilation[1] * (kw - 1) + 1, 12 if small else 20))
    n = int(rng.integers(1, 3))
    x = rng.standard_normal((n, cin, h, w))
    weight = rng.standard_normal((cout, cin // groups, kh, kw))
    bias = rng.standard_normal(cout) if rng.random() < 0.7 else None
    return x, weight, bias, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


def test_conv2d_both_forms_equal_torch_on_random_cases():
    rng = np.random.default_rng(0)
    worst = {"loop": 0.0, "im2col": 0.0, "float32": 0.0}
    for case in range(150):
        x, weight, bias, kw = _random_conv_case(rng, small=case % 3 == 0)
        ref = F.conv2d(T(x), T(weight), None if bias is None else T(bias), **kw)
        worst["im2col"] = max(worst["im2col"], _close(conv.conv2d(x, weight, bias, **kw), ref))
        if case % 3 == 0:
            worst["loop"] = max(worst["loop"], _close(conv.conv2d(x, weight, bias, method="loop", **kw), ref))
        x32, w32 = x.astype(np.float32), weight.astype(np.float32)
        ref32 = F.conv2d(T(x32), T(w32), **kw).numpy()
        ours32 = conv.conv2d_im2col(x32, w32, **kw)
        assert ours32.dtype == np.float32
        scale = max(1.0, np.abs(ref32).max())
        worst["float32"] = max(worst["float32"], _close(ours32, ref32, atol=1e-5 * scale) / scale)
    print("conv2d worst errors:", worst)


def test_conv2d_tuple_arguments_and_integer_input():
    x = np.arange(2 * 3 * 6 * 7).reshape(2, 3, 6, 7)
    w = np.ones((4, 3, 2, 3))
    ref = F.conv2d(T(x.astype(np.float64)), T(w), stride=(2, 1), padding=(1, 0))
    _close(conv.conv2d(x, w, stride=[2, 1], padding=(1, 0)), ref)


def test_flip_kernel_turns_correlation_into_convolution():
    rng = np.random.default_rng(1)
    for _ in range(10):
        image, kernel = rng.standard_normal((9, 11)), rng.standard_normal((3, 4))
        ours = conv.conv2d(image[None, None], conv.flip_kernel(kernel)[None, None])[0, 0]
        _close(ours, signal.convolve2d(image, kernel, mode="valid"))
        _close(conv.conv2d(image[None, None], kernel[None, None])[0, 0],
               signal.correlate2d(image, kernel, mode="valid"))


def test_im2col_and_col2im_equal_unfold_and_fold():
    rng = np.random.default_rng(2)
    for _ in range(40):
        x, weight, _, kw = _random_conv_case(rng)
        args = dict(kernel_size=weight.shape[2:], stride=kw["stride"], padding=kw["padding"],
                    dilation=kw["dilation"])
        cols = conv.im2col(x, **args)
        _close(cols, F.unfold(T(x), **args))
        back = conv.col2im(cols, x.shape[2:], **args)
        _close(back, F.fold(T(cols), output_size=x.shape[2:], **args))


def test_conv_matrix_and_its_transpose():
    rng = np.random.default_rng(3)
    for _ in range(20):
        cin, cout = (int(c) for c in rng.integers(1, 3, size=2))
        size = tuple(int(s) for s in rng.integers(3, 7, size=2))
        k = int(rng.integers(1, 4))
        kw = dict(stride=int(rng.integers(1, 3)), padding=int(rng.integers(0, 2)), dilation=1)
        weight, x = rng.standard_normal((cout, cin, k, k)), rng.standard_normal((1, cin) + size)
        matrix = conv.conv_matrix(weight, size, **kw)
        y = F.conv2d(T(x), T(weight), **kw)
        _close(matrix @ x.ravel(), y.numpy().ravel())
        back = F.conv_transpose2d(y, T(weight), stride=kw["stride"], padding=kw["padding"],
                                  output_padding=0)
        if back.shape[2:] == size:  # otherwise output_padding would be needed
            _close(matrix.T @ y.numpy().ravel(), back.numpy().ravel())
    matrix = conv.conv_matrix(np.ones((1, 1, 3, 3)), 4)
    assert matrix.shape == (4, 16) and matrix.sum() == 36


def test_conv_transpose2d_equals_torch_on_random_cases():
    rng = np.random.default_rng(4)
    for _ in range(120):
        groups = int(rng.choice([1, 1, 2]))
        cin, cout = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 4))
        kh, kw_ = (int(k) for k in rng.integers(1, 5, size=2))
        stride = tuple(int(s) for s in rng.integers(1, 4, size=2))
        dilation = tuple(int(d) for d in rng.integers(1, 3, size=2))
        padding = tuple(int(p) for p in rng.integers(0, 3, size=2))
        output_padding = tuple(int(rng.integers(0, max(s, d))) for s, d in zip(stride, dilation))
        x = rng.standard_normal((int(rng.integers(1, 3)), cin) + tuple(int(s) for s in rng.integers(2, 8, size=2)))
        weight = rng.standard_normal((cin, cout // groups, kh, kw_))
        bias = rng.standard_normal(cout) if rng.random() < 0.5 else None
        kw = dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups,
                  dilation=dilation)
        try:
            ref = F.conv_transpose2d(T(x), T(weight), None if bias is None else T(bias), **kw)
        except RuntimeError:
            with pytest.raises(ValueError):
                conv.conv_transpose2d(x, weight, bias, **kw)
            continue
        _close(conv.conv_transpose2d(x, weight, bias, **kw), ref)


def test_conv_transpose2d_by_zero_insertion_equals_torch_on_random_cases():
    """Every option (stride, padding, output_padding, dilation, groups); padding > D(F - 1) crops."""
    rng = np.random.default_rng(12)
    compared = refused = cropped = 0
    for _ in range(300):
        groups = int(rng.choice([1, 1, 2, 3]))
        cin, cout = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 4))
        kernel = tuple(int(k) for k in rng.integers(1, 6, size=2))
        stride = tuple(int(s) for s in rng.integers(1, 5, size=2))
        dilation = tuple(int(d) for d in rng.integers(1, 4, size=2))
        padding = tuple(int(p) for p in rng.integers(0, 5, size=2))
        output_padding = tuple(int(rng.integers(0, max(s, d))) for s, d in zip(stride, dilation))
        x = rng.standard_normal((int(rng.integers(1, 3)), cin) + tuple(int(s) for s in rng.integers(1, 8, size=2)))
        weight = rng.standard_normal((cin, cout // groups) + kernel)
        bias = rng.standard_normal(cout) if rng.random() < 0.5 else None
        kw = dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups, dilation=dilation)
        try:
            ref = F.conv_transpose2d(T(x), T(weight), None if bias is None else T(bias), **kw)
        except RuntimeError:
            refused += 1
            with pytest.raises(ValueError):
                conv.conv_transpose2d_by_zero_insertion(x, weight, bias, **kw)
            continue
        compared += 1
        cropped += any(p > d * (k - 1) for p, d, k in zip(padding, dilation, kernel))
        _close(conv.conv_transpose2d_by_zero_insertion(x, weight, bias, **kw), ref)
        # float32 in, float32 out, like torch in float32
        ours32 = conv.conv_transpose2d_by_zero_insertion(x.astype(np.float32), weight.astype(np.float32), None, **kw)
        ref32 = F.conv_transpose2d(T(x.astype(np.float32)), T(weight.astype(np.float32)), None, **kw).numpy()
        assert ours32.dtype == np.float32
        _close(ours32, ref32, atol=1e-5 * max(1.0, np.abs(ref32).max()))
    assert compared >= 200 and refused >= 20 and cropped >= 20, (compared, refused, cropped)


def test_insert_zeros_and_the_transposed_weight():
    rng = np.random.default_rng(13)
    for _ in range(20):
        x = rng.standard_normal((2, 3) + tuple(int(v) for v in rng.integers(1, 7, size=2)))
        sh, sw = (int(v) for v in rng.integers(1, 4, size=2))
        spread = conv.insert_zeros(x, (sh, sw))
        h, w = spread.shape[2:]
        assert (h, w) == ((x.shape[2] - 1) * sh + 1, (x.shape[3] - 1) * sw + 1)
        # bed of nails without the zeros after the last row and column
        assert np.array_equal(spread, conv.bed_of_nails(x, (sh, sw))[..., :h, :w])
    assert np.array_equal(conv.insert_zeros(np.arange(1, 4).reshape(1, 1, 1, 3), 2)[0, 0], [[1, 0, 2, 0, 3]])
    # the swapped, flipped weight turns a transposed convolution's weight into the convolution's,
    # and swapping back (the same layout rule read the other way) gives the original
    weight = rng.standard_normal((6, 2, 3, 4))
    as_conv = conv.transposed_weight_as_conv(weight, groups=3)
    assert as_conv.shape == (6, 2, 3, 4)
    assert np.array_equal(as_conv[0:2, :, ::-1, ::-1], weight[0:2].transpose(1, 0, 2, 3))  # group 0
    assert np.array_equal(as_conv[2, :, ::-1, ::-1], weight[2:4, 0])  # group 1, its first output channel
    assert np.array_equal(conv.transposed_weight_as_conv(as_conv, groups=3), weight)


def test_pixel_shuffle_and_unshuffle_equal_torch_exactly():
    rng = np.random.default_rng(14)
    for _ in range(150):
        lead = tuple(int(v) for v in rng.integers(1, 4, size=int(rng.integers(0, 3))))
        r, c = int(rng.integers(1, 5)), int(rng.integers(1, 4))
        h, w = (int(v) for v in rng.integers(1, 6, size=2))
        dtype = rng.choice([np.float64, np.float32, np.int64])
        x = (rng.standard_normal(lead + (c * r * r, h, w)) * 10).astype(dtype)
        shuffled = conv.pixel_shuffle(x, r)
        reference = F.pixel_shuffle(T(x), r).numpy()
        assert shuffled.shape == reference.shape and shuffled.dtype == reference.dtype
        assert np.array_equal(shuffled, reference)
        assert np.array_equal(conv.pixel_unshuffle(shuffled, r), x)
        y = (rng.standard_normal(lead + (c, h * r, w * r)) * 10).astype(dtype)
        assert np.array_equal(conv.pixel_unshuffle(y, r), F.pixel_unshuffle(T(y), r).numpy())
    # channel c*r*r + i*r + j lands at offset (i, j) of each r x r block
    x = np.arange(8).reshape(1, 8, 1, 1)
    assert np.array_equal(conv.pixel_shuffle(x, 2)[0], [[[0, 1], [2, 3]], [[4, 5], [6, 7]]])


def test_icnr_makes_a_sub_pixel_convolution_start_as_nearest_upsampling():
    rng = np.random.default_rng(15)
    for _ in range(20):
        r, cin, cout, k = (int(v) for v in rng.integers(1, 4, size=4))
        x = rng.standard_normal((2, cin) + tuple(int(v) for v in rng.integers(3, 7, size=2)))
        weight, bias = rng.standard_normal((cout, cin, k, k)), rng.standard_normal(cout)
        sub_pixel = conv.pixel_shuffle(conv.conv2d(x, conv.icnr(weight, r), np.repeat(bias, r * r)), r)
        _close(sub_pixel, conv.upsample_nearest(conv.conv2d(x, weight, bias), r))
        assert conv.icnr(weight, r).shape == (cout * r * r, cin, k, k)


# --- pooling and upsampling -------------------------------------------------------------


def test_max_pool2d_values_and_indices_equal_torch():
    rng = np.random.default_rng(5)
    for case in range(80):
        k = tuple(int(v) for v in rng.integers(1, 4, size=2))
        s = tuple(int(v) for v in rng.integers(1, 4, size=2)) if case % 4 else None
        p = tuple(int(rng.integers(0, kk // 2 + 1)) for kk in k)
        shape = (int(rng.integers(1, 3)), int(rng.integers(1, 3))) + tuple(int(v) for v in rng.integers(4, 12, size=2))
        # integers make ties frequent: the first maximum in reading order wins, as in torch
        x = rng.integers(0, 4, size=shape).astype(np.float64) if case % 2 else rng.standard_normal(shape)
        y, idx = conv.max_pool2d(x, k, s, p, return_indices=True)
        ry, ridx = F.max_pool2d(T(x), k, s, p, return_indices=True)
        _close(y, ry)
        np.testing.assert_array_equal(idx, ridx.numpy())
        _close(conv.max_pool2d(x, k, s, p), ry)


def test_avg_pool2d_equals_torch():
    rng = np.random.default_rng(6)
    for case in range(60):
        k = tuple(int(v) for v in rng.integers(1, 4, size=2))
        s = tuple(int(v) for v in rng.integers(1, 4, size=2))
        p = tuple(int(rng.integers(0, kk // 2 + 1)) for kk in k)
        x = rng.standard_normal((1, 2) + tuple(int(v) for v in rng.integers(4, 10, size=2)))
        for include in (True, False):
            _close(conv.avg_pool2d(x, k, s, p, count_include_pad=include),
                   F.avg_pool2d(T(x), k, s, p, count_include_pad=include))


def test_max_unpool2d_equals_torch():
    rng = np.random.default_rng(7)
    for _ in range(40):
        k = int(rng.integers(1, 4))
        size = tuple(int(v) for v in rng.integers(k, 11, size=2))
        x = rng.standard_normal((2, 3) + size)
        y, idx = F.max_pool2d(T(x), k, return_indices=True)
        ref = F.max_unpool2d(y, idx, k, output_size=size)
        _close(conv.max_unpool2d(y.numpy(), idx.numpy(), k, output_size=size), ref)
        if size[0] % k == 0 and size[1] % k == 0:  # the default output size is the input's
            ours_y, ours_idx = conv.max_pool2d(x, k, return_indices=True)
            _close(conv.max_unpool2d(ours_y, ours_idx, k), F.max_unpool2d(y, idx, k))


def test_upsample_nearest_and_bed_of_nails():
    rng = np.random.default_rng(8)
    for _ in range(20):
        x = rng.standard_normal((2, 3) + tuple(int(v) for v in rng.integers(1, 7, size=2)))
        sh, sw = (int(v) for v in rng.integers(1, 4, size=2))
        _close(conv.upsample_nearest(x, (sh, sw)), F.interpolate(T(x), scale_factor=(sh, sw), mode="nearest"))
        nails = conv.bed_of_nails(x, (sh, sw))
        delta = np.zeros((3, 1, sh, sw))
        delta[:, 0, 0, 0] = 1
        _close(nails, F.conv_transpose2d(T(x), T(delta), stride=(sh, sw), groups=3))
        corners = (np.arange(x.shape[2])[:, None] * sh) * (x.shape[3] * sw) + np.arange(x.shape[3]) * sw
        idx = np.broadcast_to(corners, x.shape).astype(np.int64)
        _close(nails, conv.max_unpool2d(x, idx, (sh, sw)))


def test_bilinear_kernel_interpolates_like_torch_away_from_the_border():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((1, 1, 8, 8))
    for factor in (2, 3, 4):
        kernel = conv.bilinear_kernel(factor)
        assert kernel.shape == (2 * factor - factor % 2,) * 2
        up = conv.conv_transpose2d(x, kernel[None, None], stride=factor, padding=factor // 2)
        assert up.shape[2:] == (8 * factor, 8 * factor)
        ref = F.interpolate(T(x), scale_factor=factor, mode="bilinear", align_corners=False).numpy()
        inner = slice(factor, -factor)
        _close(up[..., inner, inner], ref[..., inner, inner], atol=1e-12)


def test_overlap_count_shows_the_checkerboard():
    assert set(np.unique(conv.overlap_count(4, 3, 2)[1:-1, 1:-1])) == {1, 2, 4}
    assert set(np.unique(conv.overlap_count(4, 4, 2, padding=1)[1:-1, 1:-1])) == {4}
    assert set(np.unique(conv.overlap_count(4, 2, 2))) == {1}


# --- cost and receptive field ----------------------------------------------------------------


def test_conv_cost_equals_torch_parameter_counts_and_flop_counter():
    from torch.utils.flop_counter import FlopCounterMode

    rng = np.random.default_rng(10)
    for _ in range(30):
        groups = int(rng.choice([1, 2, 4]))
        cin, cout = groups * int(rng.integers(1, 5)), groups * int(rng.integers(1, 5))
        k = tuple(int(v) for v in rng.integers(1, 6, size=2))
        bias = bool(rng.integers(0, 2))
        layer = torch.nn.Conv2d(cin, cout, k, groups=groups, bias=bias, padding=2)
        x = torch.zeros(1, cin, 12, 10)
        with FlopCounterMode(display=False) as counter:
            y = layer(x)
        cost = conv.conv_cost(cin, cout, k, y.shape[2:], groups=groups, bias=bias, bytes_per_element=4)
        assert cost.parameters == sum(p.numel() for p in layer.parameters())
        assert 2 * cost.multiply_adds == counter.get_total_flops()
        assert cost.outputs == y.numel() and cost.output_bytes == y.numel() * y.element_size()


def _support_width(layers):
    """Width of the input region whose gradient is non-zero for the centre output pixel."""
    size = 1 + 2 * 200
    x = torch.zeros(1, 1, 1, size, requires_grad=True)
    y = x
    for kernel, stride, dilation in layers:
        y = F.conv2d(y, torch.ones(1, 1, 1, kernel), stride=(1, stride), dilation=(1, dilation))
    y[0, 0, 0, y.shape[-1] // 2].backward()
    nonzero = torch.nonzero(x.grad[0, 0, 0]).flatten()
    return int(nonzero.max() - nonzero.min() + 1)


def test_receptive_field_equals_the_support_of_the_input_gradient():
    rng = np.random.default_rng(11)
    for _ in range(40):
        layers = [tuple(int(v) for v in (rng.integers(1, 6), rng.integers(1, 3), rng.integers(1, 3)))
                  for _ in range(int(rng.integers(1, 5)))]
        assert conv.receptive_field(layers) == _support_width(layers), layers
    assert conv.receptive_field([(3, 1)] * 3) == 7  # three 3x3 = one 7x7
    assert conv.receptive_field([(3, 1), (3, 1)]) == 5  # two 3x3 = one 5x5
    assert conv.receptive_field([]) == 1


# --- speed ----------------------------------------------------------------------------------


def test_im2col_is_at_least_20_times_faster_than_the_loop():
    rng = np.random.default_rng(12)
    x = rng.standard_normal((1, 16, 64, 64)).astype(np.float32)
    w = rng.standard_normal((32, 16, 3, 3)).astype(np.float32)
    start = time.perf_counter()
    conv.conv2d_loop(x, w, padding=1)
    loop = time.perf_counter() - start
    times = []
    for _ in range(5):
        start = time.perf_counter()
        conv.conv2d_im2col(x, w, padding=1)
        times.append(time.perf_counter() - start)
    assert loop / np.median(times) >= 20, f"loop {loop:.3f} s, im2col {np.median(times):.4f} s"


# --- pictures -----------------------------------------------------------------------------------


def test_pictures_and_animations():
    fig = viz.draw_conv_case(5, 3, stride=2, padding=1, position=(1, 2))
    assert "= 3" in fig._suptitle.get_text()
    plt.close(fig)
    with pytest.raises(ValueError, match="position"):
        viz.draw_conv_case(5, 3, stride=2, padding=1, position=(3, 0))
    anim = viz.conv_animation(5, 3, stride=2, padding=1)
    assert anim.n_frames == 9
    anim = viz.conv_transpose_animation(2, 3, stride=2)
    assert anim.n_frames == 4
    assert plt.get_fignums() == []
    with pytest.raises(ValueError, match="64"):
        viz.conv_animation(20, 3)


# --- errors -----------------------------------------------------------------------------------


def test_bad_arguments_raise_clear_errors():
    x, w = np.zeros((1, 4, 5, 5)), np.zeros((6, 2, 3, 3))
    cases = [
        (TypeError, "n", lambda: conv.conv_output_size(5.0, 3)),
        (ValueError, "n", lambda: conv.conv_output_size(-1, 3)),
        (ValueError, "kernel_size", lambda: conv.conv_output_size(5, 0)),
        (ValueError, "stride", lambda: conv.conv_output_size(5, 3, stride=0)),
        (ValueError, "padding", lambda: conv.conv_output_size(5, 3, padding=-1)),
        (ValueError, "kernel_size", lambda: conv.conv_output_size(2, 3)),
        (ValueError, "padding", lambda: conv.pool_output_size(5, 3, padding=2)),
        (TypeError, "ceil_mode", lambda: conv.pool_output_size(5, 3, ceil_mode=1)),
        (ValueError, "output_padding", lambda: conv.conv_transpose_output_size(5, 3, stride=2, output_padding=2)),
        (ValueError, "padding", lambda: conv.conv_transpose_output_size(1, 1, padding=1)),
        (ValueError, "x must be a 4-D", lambda: conv.conv2d(np.zeros((4, 5, 5)), w)),
        (ValueError, "weight must be a 4-D", lambda: conv.conv2d(x, np.zeros((3, 3)))),
        (ValueError, "groups must divide the input", lambda: conv.conv2d(x, w, groups=3)),
        (ValueError, "C_in/groups=4", lambda: conv.conv2d(x, w)),
        (ValueError, "groups must divide the output", lambda: conv.conv2d(x, np.zeros((3, 2, 3, 3)), groups=2)),
        (ValueError, "bias", lambda: conv.conv2d(x, w, np.zeros(5), groups=2)),
        (ValueError, "stride", lambda: conv.conv2d(x, w, stride=0, groups=2)),
        (TypeError, "padding", lambda: conv.conv2d(x, w, padding=(1, 1, 1), groups=2)),
        (ValueError, "method", lambda: conv.conv2d(x, w, groups=2, method="fft")),
        (ValueError, "kernel_size", lambda: conv.conv2d(x, np.zeros((6, 2, 7, 7)), groups=2)),
        (ValueError, "finite", lambda: conv.conv2d(np.full((1, 4, 5, 5), np.nan), w, groups=2)),
        (TypeError, "x", lambda: conv.conv2d("image", w)),
        (ValueError, "C_in=4", lambda: conv.conv_transpose2d(x, np.zeros((3, 2, 3, 3)))),
        (ValueError, "output_padding", lambda: conv.conv_transpose2d(x, np.zeros((4, 2, 3, 3)), output_padding=1)),
        (ValueError, "output_padding", lambda: conv.conv_transpose2d_by_zero_insertion(
            x, np.zeros((4, 2, 3, 3)), stride=2, output_padding=2)),
        (ValueError, "padding", lambda: conv.conv_transpose2d_by_zero_insertion(x, np.zeros((4, 2, 1, 1)), padding=3)),
        (ValueError, "groups must divide the input", lambda: conv.conv_transpose2d_by_zero_insertion(
            x, np.zeros((4, 2, 3, 3)), groups=3)),
        (ValueError, "C_in=4", lambda: conv.conv_transpose2d_by_zero_insertion(x, np.zeros((3, 2, 3, 3)))),
        (ValueError, "stride", lambda: conv.insert_zeros(x, 0)),
        (ValueError, "groups must divide weight.shape", lambda: conv.transposed_weight_as_conv(w, groups=4)),
        (ValueError, "divisible by factor\\*\\*2 = 4", lambda: conv.pixel_shuffle(np.zeros((1, 6, 2, 2)), 2)),
        (ValueError, "x must be a 3-D", lambda: conv.pixel_shuffle(np.zeros((4, 4)), 2)),
        (ValueError, "factor", lambda: conv.pixel_shuffle(x, 0)),
        (TypeError, "factor", lambda: conv.pixel_shuffle(x, 2.0)),
        (ValueError, "height and width divisible by factor = 2", lambda: conv.pixel_unshuffle(x, 2)),
        (ValueError, "factor", lambda: conv.icnr(w, 0)),
        (ValueError, "weight must be a 4-D", lambda: conv.icnr(np.zeros((3, 3)), 2)),
        (ValueError, "padding", lambda: conv.max_pool2d(x, 3, padding=2)),
        (ValueError, "kernel_size", lambda: conv.max_pool2d(x, 6)),
        (TypeError, "count_include_pad", lambda: conv.avg_pool2d(x, 2, count_include_pad="yes")),
        (ValueError, "indices must have the shape", lambda: conv.max_unpool2d(x, np.zeros((1, 4, 2, 2), int), 2)),
        (TypeError, "indices", lambda: conv.max_unpool2d(x, np.zeros(x.shape), 2)),
        (ValueError, "indices must lie", lambda: conv.max_unpool2d(x, np.full(x.shape, 999), 2)),
        (ValueError, "scale", lambda: conv.upsample_nearest(x, 0)),
        (ValueError, "scale", lambda: conv.bed_of_nails(x, (2, 0))),
        (ValueError, "cols", lambda: conv.col2im(np.zeros((1, 9, 5)), (4, 4), 3)),
        (ValueError, "groups", lambda: conv.conv_cost(4, 6, 3, 5, groups=4)),
        (TypeError, "bias", lambda: conv.conv_cost(4, 6, 3, 5, bias=None)),
        (ValueError, "factor", lambda: conv.bilinear_kernel(0)),
        (TypeError, "layers", lambda: conv.receptive_field(3)),
        (TypeError, r"layers\[1\]", lambda: conv.receptive_field([(3, 1), 3])),
        (ValueError, r"layers\[0\] stride", lambda: conv.receptive_field([(3, 0)])),
    ]
    for i, (error, message, call) in enumerate(cases):
        with pytest.raises(error, match=message):
            call()
            pytest.fail(f"case {i} did not raise")


# --- the explorer of notebook 05 (course_utils.widgets) ------------------------------------------


def test_conv_arithmetic_figure_and_explorer_draw_headless():


    fig = viz.conv_arithmetic_figure()  # 5x5, F=3, P=1, S=2 -> 3x3
    assert "= 3" in fig._suptitle.get_text()
    plt.close(fig)
    fig = viz.conv_arithmetic_figure(5, 3, 1, 1, step=100)  # same padding, step clipped
    assert fig.axes[0].get_xlabel() == "same padding"
    plt.close(fig)
    fig = viz.conv_arithmetic_figure(2, 5, 0, 1)  # no output: says so instead of failing
    assert "no output" in fig.axes[0].texts[0].get_text()
    plt.close(fig)
    with pytest.raises(ValueError, match="stride"):
        viz.conv_arithmetic_figure(stride=0)
    with pytest.raises(TypeError, match="n"):
        viz.conv_arithmetic_figure(n=2.5)
    box = viz.conv_arithmetic_explorer()
    sliders = [w for row in box.children[:2] for w in row.children]
    assert [s.value for s in sliders] == [5, 3, 1, 2, 1, 0]
    sliders[3].value = 1  # moving a slider redraws without error
    plt.close("all")
