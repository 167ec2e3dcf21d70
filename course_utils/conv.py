"""Convolution, pooling, unpooling, their arithmetic and their cost, in NumPy.

Every array is laid out like PyTorch's: ``x`` has shape (N, C, H, W) (batch,
channels, rows, columns) and a convolution weight has shape
(C_out, C_in / groups, kH, kW). Each function equals its torch counterpart;
the tests check them over many random cases:

* :func:`conv2d` (both :func:`conv2d_loop` and :func:`conv2d_im2col`) equals
  ``torch.nn.functional.conv2d`` to 1e-5;
* :func:`conv_transpose2d` and :func:`conv_transpose2d_by_zero_insertion`
  (the same layer as zero insertion + an ordinary convolution) equal
  ``F.conv_transpose2d``;
* :func:`pixel_shuffle` and :func:`pixel_unshuffle` equal ``F.pixel_shuffle``
  and ``F.pixel_unshuffle`` exactly;
* :func:`max_pool2d`, :func:`avg_pool2d`, :func:`max_unpool2d` and
  :func:`upsample_nearest` equal ``F.max_pool2d`` (indices included),
  ``F.avg_pool2d``, ``F.max_unpool2d`` and ``F.interpolate(mode="nearest")``;
* :func:`conv_output_size`, :func:`pool_output_size` and
  :func:`conv_transpose_output_size` give the sizes torch produces, and raise
  ``ValueError`` exactly where torch refuses the case.

Like torch (and every deep-learning library), "convolution" here means
cross-correlation: the kernel is not flipped (:func:`flip_kernel` turns one
into the other).

The pictures of this arithmetic (:func:`~course_utils.viz.draw_conv_case`,
:func:`~course_utils.viz.conv_animation`) live in :mod:`course_utils.viz.diagrams`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._checks import check_array, check_int, check_pair

__all__ = [
    "conv_output_size",
    "pool_output_size",
    "conv_transpose_output_size",
    "flip_kernel",
    "pad2d",
    "conv2d_loop",
    "im2col",
    "col2im",
    "conv2d_im2col",
    "conv2d",
    "conv_matrix",
    "conv_transpose2d",
    "insert_zeros",
    "transposed_weight_as_conv",
    "conv_transpose2d_by_zero_insertion",
    "pixel_shuffle",
    "pixel_unshuffle",
    "icnr",
    "max_pool2d",
    "avg_pool2d",
    "max_unpool2d",
    "upsample_nearest",
    "bed_of_nails",
    "bilinear_kernel",
    "overlap_count",
    "ConvCost",
    "conv_cost",
    "receptive_field",
]


def conv_output_size(n, kernel_size, stride=1, padding=0, dilation=1):
    """Output length of a convolution along one axis.

    ``o = floor((n + 2P - D(F - 1) - 1) / S) + 1``; with ``D = 1`` this is the
    familiar ``floor((n + 2P - F) / S) + 1``. A dilated kernel covers
    ``D(F - 1) + 1`` input pixels.

    Parameters
    ----------
    n : int
        Input length (>= 1).
    kernel_size, stride, dilation : int
        F >= 1, S >= 1, D >= 1.
    padding : int
        P >= 0 zeros added at each end.

    Returns
    -------
    int
        Output length (>= 1).

    Raises
    ------
    ValueError
        If the (dilated) kernel is larger than the padded input, as torch does.
    """
    n = check_int(n, "n", minimum=1)
    kernel_size = check_int(kernel_size, "kernel_size", minimum=1)
    stride = check_int(stride, "stride", minimum=1)
    padding = check_int(padding, "padding", minimum=0)
    dilation = check_int(dilation, "dilation", minimum=1)
    span = dilation * (kernel_size - 1) + 1
    if span > n + 2 * padding:
        raise ValueError(
            f"kernel_size {kernel_size} with dilation {dilation} spans {span} pixels, more than the "
            f"padded input n + 2*padding = {n + 2 * padding}"
        )
    return (n + 2 * padding - span) // stride + 1


def pool_output_size(n, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Output length of max or average pooling along one axis (torch's rules).

    Same formula as :func:`conv_output_size` (``stride`` defaults to the
    kernel size); torch also requires ``padding <= kernel_size // 2``, since
    a window made only of padding has no value. With ``ceil_mode`` the last,
    partial window counts too, unless it would start in the right padding.

    Parameters
    ----------
    n, kernel_size : int
        Input length and window size (>= 1).
    stride : int, optional
        Step between windows; ``kernel_size`` when None (non-overlapping).
    padding : int
        Padding at each end, at most ``kernel_size // 2``.
    dilation : int
        Spacing of the window's taps (max pooling only in torch).
    ceil_mode : bool
        Round the division up instead of down.

    Returns
    -------
    int
    """
    kernel_size = check_int(kernel_size, "kernel_size", minimum=1)
    stride = kernel_size if stride is None else check_int(stride, "stride", minimum=1)
    n = check_int(n, "n", minimum=1)
    padding = check_int(padding, "padding", minimum=0)
    dilation = check_int(dilation, "dilation", minimum=1)
    if not isinstance(ceil_mode, (bool, np.bool_)):
        raise TypeError(f"ceil_mode must be True or False, got {ceil_mode!r}")
    if padding > kernel_size // 2:
        raise ValueError(
            f"padding must be at most half the kernel (kernel_size // 2 = {kernel_size // 2}), got {padding}"
        )
    span = dilation * (kernel_size - 1) + 1
    extra = stride - 1 if ceil_mode else 0
    out = (n + 2 * padding - span + extra) // stride + 1
    if ceil_mode and (out - 1) * stride >= n + padding:
        out -= 1  # the last window would start inside the right padding
    if out < 1:
        raise ValueError(
            f"kernel_size {kernel_size} with dilation {dilation} spans {span} pixels, more than the "
            f"padded input n + 2*padding = {n + 2 * padding}"
        )
    return out


def conv_transpose_output_size(n, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    """Output length of a transposed convolution along one axis.

    ``o = (n - 1)S - 2P + D(F - 1) + output_padding + 1``: the input length
    of the convolution it transposes. Several input lengths give the same
    convolution output when ``S > 1``; ``output_padding`` (smaller than the
    stride or the dilation) picks one of them.

    Parameters
    ----------
    n, kernel_size, stride, dilation : int
        >= 1.
    padding, output_padding : int
        >= 0; ``output_padding < max(stride, dilation)`` as torch requires.

    Returns
    -------
    int
    """
    n = check_int(n, "n", minimum=1)
    kernel_size = check_int(kernel_size, "kernel_size", minimum=1)
    stride = check_int(stride, "stride", minimum=1)
    padding = check_int(padding, "padding", minimum=0)
    output_padding = check_int(output_padding, "output_padding", minimum=0)
    dilation = check_int(dilation, "dilation", minimum=1)
    if output_padding >= max(stride, dilation):
        raise ValueError(
            f"output_padding must be smaller than stride ({stride}) or dilation ({dilation}), "
            f"got {output_padding}"
        )
    out = (n - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1
    if out < 1:
        raise ValueError(
            f"padding {padding} crops the whole output: (n - 1)*stride - 2*padding + "
            f"dilation*(kernel_size - 1) + output_padding + 1 = {out}"
        )
    return out


def _check_input(x, name="x"):
    x = check_array(x, name, ndim=4)
    if not x.dtype.kind == "f":
        x = x.astype(np.float64)
    return x


def _check_weight(weight, x, groups, transposed=False):
    weight = check_array(weight, "weight", ndim=4)
    groups = check_int(groups, "groups", minimum=1)
    channels = x.shape[1]
    if channels % groups:
        raise ValueError(f"groups must divide the input channels {channels}, got groups={groups}")
    if transposed:
        if weight.shape[0] != channels:
            raise ValueError(
                f"weight must have shape (C_in={channels}, C_out/groups, kH, kW) for a transposed "
                f"convolution, got {weight.shape}"
            )
    else:
        if weight.shape[1] != channels // groups:
            raise ValueError(
                f"weight must have shape (C_out, C_in/groups={channels // groups}, kH, kW), got "
                f"{weight.shape} (x has {channels} channels, groups={groups})"
            )
        if weight.shape[0] % groups:
            raise ValueError(
                f"groups must divide the output channels weight.shape[0]={weight.shape[0]}, got {groups}"
            )
    return weight, groups


def _check_bias(bias, out_channels):
    if bias is None:
        return None
    bias = check_array(bias, "bias", ndim=1)
    if bias.shape[0] != out_channels:
        raise ValueError(f"bias must have shape ({out_channels},), got {bias.shape}")
    return bias


def _dtype(*arrays):
    return np.result_type(*[a.dtype for a in arrays if a is not None], np.float32)


def flip_kernel(weight):
    """Rotate kernels by 180 degrees (flip both spatial axes).

    Convolution in the mathematical sense is cross-correlation with the
    flipped kernel: ``conv(x, w) = correlate(x, flip_kernel(w))``.

    Parameters
    ----------
    weight : array_like
        A 2-D kernel (kH, kW), or any array whose last two axes are spatial.
    """
    weight = check_array(weight, "weight", ndim=(2, 3, 4))
    return weight[..., ::-1, ::-1].copy()


def pad2d(x, padding, value=0.0):
    """Pad the last two axes of ``x`` by ``padding`` = P or (pH, pW) on each side."""
    x = check_array(x, "x", ndim=(2, 3, 4))
    ph, pw = check_pair(padding, "padding", minimum=0)
    width = [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)]
    return np.pad(x, width, constant_values=value)


def _conv_geometry(x, weight, stride, padding, dilation):
    """Output size and the checked pairs of a 2-D convolution."""
    stride = check_pair(stride, "stride", minimum=1)
    padding = check_pair(padding, "padding", minimum=0)
    dilation = check_pair(dilation, "dilation", minimum=1)
    out = tuple(
        conv_output_size(n, f, s, p, d)
        for n, f, s, p, d in zip(x.shape[2:], weight.shape[2:], stride, padding, dilation)
    )
    return out, stride, padding, dilation


def conv2d_loop(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution written as loops over images, filters and output pixels.

    ``y[n, k, i, j] = b[k] + sum_{c, u, v} w[k, c, u, v] * x_pad[n, c, i*S + u*D, j*S + v*D]``
    where c runs over the input channels of filter k's group.
    Readable and slow: see :func:`conv2d_im2col` for the fast form. The
    arguments are those of :func:`conv2d`.
    """
    x = _check_input(x)
    weight, groups = _check_weight(weight, x, groups)
    bias = _check_bias(bias, weight.shape[0])
    (out_h, out_w), (sh, sw), padding, (dh, dw) = _conv_geometry(x, weight, stride, padding, dilation)
    batch, out_channels = x.shape[0], weight.shape[0]
    in_per_group, out_per_group = x.shape[1] // groups, out_channels // groups
    kh, kw = weight.shape[2:]
    xp = pad2d(x, padding)
    y = np.zeros((batch, out_channels, out_h, out_w), dtype=_dtype(x, weight, bias))
    for n in range(batch):
        for k in range(out_channels):
            g = k // out_per_group  # the group of filter k sees only its channels
            channels = slice(g * in_per_group, (g + 1) * in_per_group)
            for i in range(out_h):
                for j in range(out_w):
                    # the window under the kernel: every D-th pixel from (i*S, j*S)
                    window = xp[n, channels, i * sh:i * sh + dh * (kh - 1) + 1:dh,
                                j * sw:j * sw + dw * (kw - 1) + 1:dw]
                    y[n, k, i, j] = np.sum(window * weight[k])
            if bias is not None:
                y[n, k] += bias[k]
    return y


def im2col(x, kernel_size, stride=1, padding=0, dilation=1):
    """Unfold every window of ``x`` into a column (``torch.nn.functional.unfold``).

    Parameters
    ----------
    x : (N, C, H, W) array_like
    kernel_size, stride, padding, dilation : int or (int, int)

    Returns
    -------
    (N, C*kH*kW, oH*oW) ndarray
        Column ``i*oW + j`` holds the window that produces output pixel
        (i, j), ordered channel by channel, then row by row in the kernel:
        the order of ``weight.reshape(C_out, -1)``. One loop over the kH*kW
        kernel taps copies, for each tap, the pixel it sees at every output
        position (a strided slice of the padded image).
    """
    x = _check_input(x)
    kh, kw = check_pair(kernel_size, "kernel_size", minimum=1)
    (out_h, out_w), (sh, sw), padding, (dh, dw) = _conv_geometry(
        x, np.empty((1, 1, kh, kw)), stride, padding, dilation)
    xp = pad2d(x, padding)
    batch, channels = x.shape[:2]
    cols = np.empty((batch, channels, kh, kw, out_h, out_w), dtype=x.dtype)
    for u in range(kh):
        for v in range(kw):
            rows = slice(u * dh, u * dh + sh * (out_h - 1) + 1, sh)
            columns = slice(v * dw, v * dw + sw * (out_w - 1) + 1, sw)
            cols[:, :, u, v] = xp[:, :, rows, columns]
    return cols.reshape(batch, channels * kh * kw, out_h * out_w)


def col2im(cols, output_size, kernel_size, stride=1, padding=0, dilation=1):
    """Fold columns back into an image, adding overlapping taps (``F.fold``).

    The adjoint (transpose) of :func:`im2col`: each column entry is added to
    the pixel it was read from, so pixels that several windows share receive
    several contributions. This scatter-add is the heart of the transposed
    convolution.

    Parameters
    ----------
    cols : (N, C*kH*kW, L) array_like
        L must equal the number of windows, oH*oW.
    output_size : (int, int)
        (H, W) of the image to rebuild (before padding).
    kernel_size, stride, padding, dilation : int or (int, int)

    Returns
    -------
    (N, C, H, W) ndarray
    """
    cols = check_array(cols, "cols", ndim=3)
    height, width = check_pair(output_size, "output_size", minimum=1)
    kh, kw = check_pair(kernel_size, "kernel_size", minimum=1)
    (sh, sw), (ph, pw), (dh, dw) = (check_pair(stride, "stride"), check_pair(padding, "padding", minimum=0),
                                    check_pair(dilation, "dilation"))
    out_h = conv_output_size(height, kh, sh, ph, dh)
    out_w = conv_output_size(width, kw, sw, pw, dw)
    batch, rows_, length = cols.shape
    if rows_ % (kh * kw) or length != out_h * out_w:
        raise ValueError(
            f"cols must have shape (N, C*{kh * kw}, {out_h * out_w}) for output_size {(height, width)} "
            f"and kernel_size {(kh, kw)}, got {cols.shape}"
        )
    channels = rows_ // (kh * kw)
    cols = cols.reshape(batch, channels, kh, kw, out_h, out_w)
    image = np.zeros((batch, channels, height + 2 * ph, width + 2 * pw), dtype=_dtype(cols))
    for u in range(kh):
        for v in range(kw):
            rows = slice(u * dh, u * dh + sh * (out_h - 1) + 1, sh)
            columns = slice(v * dw, v * dw + sw * (out_w - 1) + 1, sw)
            image[:, :, rows, columns] += cols[:, :, u, v]
    return image[:, :, ph:ph + height, pw:pw + width]


def conv2d_im2col(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution as one matrix product per group: ``W (C_out, C*kH*kW) @ im2col(x)``.

    The arguments are those of :func:`conv2d`.
    """
    x = _check_input(x)
    weight, groups = _check_weight(weight, x, groups)
    bias = _check_bias(bias, weight.shape[0])
    (out_h, out_w), stride, padding, dilation = _conv_geometry(x, weight, stride, padding, dilation)
    batch, out_channels = x.shape[0], weight.shape[0]
    cols = im2col(x, weight.shape[2:], stride, padding, dilation)  # (N, C*kH*kW, L)
    rows_per_group = cols.shape[1] // groups
    out_per_group = out_channels // groups
    y = np.empty((batch, out_channels, out_h * out_w), dtype=_dtype(x, weight, bias))
    for g in range(groups):
        w = weight[g * out_per_group:(g + 1) * out_per_group].reshape(out_per_group, -1)
        y[:, g * out_per_group:(g + 1) * out_per_group] = w @ cols[:, g * rows_per_group:(g + 1) * rows_per_group]
    if bias is not None:
        y += bias[:, None]
    return y.reshape(batch, out_channels, out_h, out_w)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, method="im2col"):
    """2-D convolution (cross-correlation), equal to ``torch.nn.functional.conv2d``.

    Parameters
    ----------
    x : (N, C_in, H, W) array_like
        Input images.
    weight : (C_out, C_in / groups, kH, kW) array_like
        One filter per output channel; a filter is as deep as the input
        channels of its group.
    bias : (C_out,) array_like, optional
    stride, padding, dilation : int or (int, int)
        Step between windows (>= 1), zeros added on each side (>= 0),
        spacing between kernel taps (>= 1).
    groups : int
        Split the input and output channels into this many independent
        convolutions; it must divide C_in and C_out.
    method : {"im2col", "loop"}
        :func:`conv2d_im2col` (fast) or :func:`conv2d_loop` (readable).

    Returns
    -------
    (N, C_out, oH, oW) ndarray
        ``oH = conv_output_size(H, kH, S, P, D)``, likewise ``oW``.
    """
    if method == "im2col":
        return conv2d_im2col(x, weight, bias, stride, padding, dilation, groups)
    if method == "loop":
        return conv2d_loop(x, weight, bias, stride, padding, dilation, groups)
    raise ValueError(f"method must be 'im2col' or 'loop', got {method!r}")


def conv_matrix(weight, input_size, stride=1, padding=0, dilation=1):
    """The matrix C of a convolution: ``conv2d(x).ravel() == C @ x.ravel()``.

    Parameters
    ----------
    weight : (C_out, C_in, kH, kW) array_like
    input_size : int or (int, int)
        (H, W) of one input image.
    stride, padding, dilation : int or (int, int)

    Returns
    -------
    (C_out*oH*oW, C_in*H*W) ndarray
        Row (k, i, j) holds filter k laid where it sits for output (i, j);
        taps that fall on padding are dropped. Its transpose maps an
        output-shaped array back to the input's shape: the transposed
        convolution (``F.conv_transpose2d`` with the same weight).
    """
    weight = check_array(weight, "weight", ndim=4)
    height, width = check_pair(input_size, "input_size", minimum=1)
    out_channels, in_channels, kh, kw = weight.shape
    (out_h, out_w), (sh, sw), (ph, pw), (dh, dw) = _conv_geometry(
        np.empty((1, in_channels, height, width)), weight, stride, padding, dilation)
    matrix = np.zeros((out_channels, out_h, out_w, in_channels, height, width), dtype=_dtype(weight))
    for i in range(out_h):
        for j in range(out_w):
            for u in range(kh):
                for v in range(kw):
                    r, c = i * sh - ph + u * dh, j * sw - pw + v * dw  # input pixel under tap (u, v)
                    if 0 <= r < height and 0 <= c < width:
                        matrix[:, i, j, :, r, c] = weight[:, :, u, v]
    return matrix.reshape(out_channels * out_h * out_w, in_channels * height * width)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed convolution, equal to ``torch.nn.functional.conv_transpose2d``.

    Each input pixel scatters a copy of the kernel, scaled by its value,
    into the output at ``stride`` times its position; overlapping copies add
    up. Written as the transpose of :func:`conv2d_im2col`: multiply by
    ``W^T`` to get columns, then :func:`col2im` (scatter-add), and crop
    ``padding`` from each side.

    Parameters
    ----------
    x : (N, C_in, H, W) array_like
    weight : (C_in, C_out / groups, kH, kW) array_like
        Note the order: it is the weight of the convolution C_out -> C_in
        that this layer transposes.
    bias : (C_out,) array_like, optional
    stride, padding, output_padding, dilation : int or (int, int)
    groups : int

    Returns
    -------
    (N, C_out, oH, oW) ndarray
        ``oH = conv_transpose_output_size(H, kH, S, P, output_padding, D)``.
    """
    x = _check_input(x)
    weight, groups = _check_weight(weight, x, groups, transposed=True)
    stride = check_pair(stride, "stride", minimum=1)
    padding = check_pair(padding, "padding", minimum=0)
    output_padding = check_pair(output_padding, "output_padding", minimum=0)
    dilation = check_pair(dilation, "dilation", minimum=1)
    kh, kw = weight.shape[2:]
    out_size = tuple(
        conv_transpose_output_size(n, f, s, p, op, d)
        for n, f, s, p, op, d in zip(x.shape[2:], (kh, kw), stride, padding, output_padding, dilation)
    )
    out_per_group = weight.shape[1]
    out_channels = out_per_group * groups
    bias = _check_bias(bias, out_channels)
    batch, in_channels, height, width = x.shape
    in_per_group = in_channels // groups
    # Where the kernel copies land, before cropping `padding` on each side;
    # output_padding adds rows/columns (of zeros) at the bottom/right.
    full = tuple((n - 1) * s + d * (f - 1) + 1
                 for n, s, d, f in zip(x.shape[2:], stride, dilation, (kh, kw)))
    y = np.empty((batch, out_channels) + out_size, dtype=_dtype(x, weight, bias))
    for g in range(groups):
        w = weight[g * in_per_group:(g + 1) * in_per_group].reshape(in_per_group, -1)  # (C_in/G, C_out/G*kH*kW)
        cols = w.T @ x[:, g * in_per_group:(g + 1) * in_per_group].reshape(batch, in_per_group, -1)
        image = col2im(cols, full, (kh, kw), stride, 0, dilation)
        image = np.pad(image, [(0, 0), (0, 0), (0, output_padding[0]), (0, output_padding[1])])
        y[:, g * out_per_group:(g + 1) * out_per_group] = image[
            :, :, padding[0]:padding[0] + out_size[0], padding[1]:padding[1] + out_size[1]]
    if bias is not None:
        y += bias[:, None, None]
    return y


def insert_zeros(x, stride):
    """Spread the pixels of ``x`` apart: ``stride - 1`` zeros between neighbours.

    The first step of a transposed convolution seen as an ordinary one
    (:func:`conv_transpose2d_by_zero_insertion`). Unlike :func:`bed_of_nails`,
    no zeros follow the last row and column.

    Parameters
    ----------
    x : (N, C, H, W) array_like
    stride : int or (int, int)
        >= 1; 1 returns a copy of ``x``.

    Returns
    -------
    (N, C, (H - 1)*sH + 1, (W - 1)*sW + 1) ndarray
        ``x[..., i, j]`` sits at ``(i*sH, j*sW)``, zeros elsewhere.
    """
    x = check_array(x, "x", ndim=4)
    sh, sw = check_pair(stride, "stride", minimum=1)
    batch, channels, height, width = x.shape
    spread = np.zeros((batch, channels, (height - 1) * sh + 1, (width - 1) * sw + 1), dtype=x.dtype)
    spread[:, :, ::sh, ::sw] = x
    return spread


def _pad_or_crop(x, before, after):
    """Pad (positive) or crop (negative) the last two axes by ``before``/``after`` pairs."""
    x = np.pad(x, [(0, 0), (0, 0)] + [(max(b, 0), max(a, 0)) for b, a in zip(before, after)])
    rows = slice(max(-before[0], 0), x.shape[2] - max(-after[0], 0))
    cols = slice(max(-before[1], 0), x.shape[3] - max(-after[1], 0))
    return x[:, :, rows, cols]


def transposed_weight_as_conv(weight, groups=1):
    """The weight of the ordinary convolution that a transposed convolution equals.

    Flip each kernel spatially and swap its input and output channels
    (within each group): (C_in, C_out/G, kH, kW) -> (C_out, C_in/G, kH, kW).

    Parameters
    ----------
    weight : (C_in, C_out / groups, kH, kW) array_like
        A transposed convolution's weight, laid out as in
        :func:`conv_transpose2d`.
    groups : int
        >= 1, must divide C_in.

    Returns
    -------
    (C_out, C_in / groups, kH, kW) ndarray
    """
    weight = check_array(weight, "weight", ndim=4)
    groups = check_int(groups, "groups", minimum=1)
    in_channels, out_per_group, kh, kw = weight.shape
    if in_channels % groups:
        raise ValueError(f"groups must divide weight.shape[0] (C_in={in_channels}), got groups={groups}")
    per_group = weight.reshape(groups, in_channels // groups, out_per_group, kh, kw)
    swapped = per_group.transpose(0, 2, 1, 3, 4).reshape(groups * out_per_group, in_channels // groups, kh, kw)
    return flip_kernel(swapped)


def conv_transpose2d_by_zero_insertion(x, weight, bias=None, stride=1, padding=0, output_padding=0,
                                       groups=1, dilation=1):
    """Transposed convolution as an ordinary stride-1 convolution (Dumoulin & Visin, 2016).

    Three steps, each an operation met before:

    1. :func:`insert_zeros`: put ``S - 1`` zeros between input pixels;
    2. pad ``D(F - 1) - P`` zeros on each side (crop where negative), plus
       ``output_padding`` more at the bottom and right;
    3. :func:`conv2d` with stride 1 and the flipped, channel-swapped kernel
       (:func:`transposed_weight_as_conv`).

    The kernel now moves one *zero-inserted* pixel at a time, 1/S of an input
    pixel: hence the name "fractionally strided convolution". It computes
    the same numbers as :func:`conv_transpose2d`, wastefully (most products
    are with inserted zeros).

    Parameters
    ----------
    x, weight, bias, stride, padding, output_padding, groups, dilation
        As for :func:`conv_transpose2d`; every option is supported.

    Returns
    -------
    (N, C_out, oH, oW) ndarray
        Equal to :func:`conv_transpose2d` (and ``F.conv_transpose2d``).
    """
    x = _check_input(x)
    weight, groups = _check_weight(weight, x, groups, transposed=True)
    stride = check_pair(stride, "stride", minimum=1)
    padding = check_pair(padding, "padding", minimum=0)
    output_padding = check_pair(output_padding, "output_padding", minimum=0)
    dilation = check_pair(dilation, "dilation", minimum=1)
    for n, f, s, p, op, d in zip(x.shape[2:], weight.shape[2:], stride, padding, output_padding, dilation):
        conv_transpose_output_size(n, f, s, p, op, d)  # raises where torch refuses the case
    border = [d * (f - 1) - p for f, p, d in zip(weight.shape[2:], padding, dilation)]
    spread = _pad_or_crop(insert_zeros(x, stride), border, [b + op for b, op in zip(border, output_padding)])
    return conv2d(spread, transposed_weight_as_conv(weight, groups), bias, stride=1, dilation=dilation,
                  groups=groups)


def pixel_shuffle(x, factor):
    """Sub-pixel rearrangement (Shi et al., 2016): (*, C*r*r, H, W) -> (*, C, H*r, W*r).

    Channel ``c*r*r + i*r + j`` becomes the pixels at offset (i, j) of every
    r x r block of output channel c. A convolution producing ``C*r*r``
    channels followed by this reshuffle is the "sub-pixel convolution"
    upsampler. Equal to ``torch.nn.functional.pixel_shuffle``.

    Parameters
    ----------
    x : (..., C*r*r, H, W) array_like
        At least 3-D; the channel count must be divisible by ``factor**2``.
    factor : int
        The upscale factor r (>= 1).

    Returns
    -------
    (..., C, H*r, W*r) ndarray
    """
    x = check_array(x, "x", ndim=tuple(range(3, 9)), dtype_kinds="biufc")
    r = check_int(factor, "factor", minimum=1)
    *lead, channels, height, width = x.shape
    if channels % (r * r):
        raise ValueError(f"x must have a channel count (axis -3) divisible by factor**2 = {r * r}, got {channels}")
    blocks = x.reshape(*lead, channels // (r * r), r, r, height, width)   # (..., C, i, j, H, W)
    k = len(lead)
    order = list(range(k)) + [k, k + 3, k + 1, k + 4, k + 2]               # (..., C, H, i, W, j)
    return blocks.transpose(order).reshape(*lead, channels // (r * r), height * r, width * r)


def pixel_unshuffle(x, factor):
    """The inverse of :func:`pixel_shuffle`: (*, C, H*r, W*r) -> (*, C*r*r, H, W).

    Each r x r block of a channel becomes r*r channels of one pixel (a
    lossless downsampling). Equal to ``torch.nn.functional.pixel_unshuffle``.

    Parameters
    ----------
    x : (..., C, H*r, W*r) array_like
        At least 3-D; height and width divisible by ``factor``.
    factor : int
        The downscale factor r (>= 1).

    Returns
    -------
    (..., C*r*r, H, W) ndarray
    """
    x = check_array(x, "x", ndim=tuple(range(3, 9)), dtype_kinds="biufc")
    r = check_int(factor, "factor", minimum=1)
    *lead, channels, height, width = x.shape
    if height % r or width % r:
        raise ValueError(f"x must have height and width divisible by factor = {r}, got {height} x {width}")
    blocks = x.reshape(*lead, channels, height // r, r, width // r, r)    # (..., C, H, i, W, j)
    k = len(lead)
    order = list(range(k)) + [k, k + 2, k + 4, k + 1, k + 3]               # (..., C, i, j, H, W)
    return blocks.transpose(order).reshape(*lead, channels * r * r, height // r, width // r)


def icnr(weight, factor):
    """ICNR initialization of a sub-pixel convolution (Aitken et al., 2017).

    Repeat each kernel ``factor**2`` times along the output channels, so that
    the r*r sub-pixels that :func:`pixel_shuffle` gathers into one r x r block
    all start with the same kernel: at initialization the layer equals an
    ordinary convolution followed by nearest-neighbour upsampling, free of
    checkerboard artifacts. Training may then make the copies differ.

    Parameters
    ----------
    weight : (C_out, C_in, kH, kW) array_like
        The kernels of the low-resolution convolution.
    factor : int
        The upscale factor r (>= 1).

    Returns
    -------
    (C_out*r*r, C_in, kH, kW) ndarray
        ``pixel_shuffle(conv2d(x, icnr(w, r)), r) == upsample_nearest(conv2d(x, w), r)``.
    """
    weight = check_array(weight, "weight", ndim=4)
    r = check_int(factor, "factor", minimum=1)
    return np.repeat(weight, r * r, axis=0)


def _pool_geometry(x, kernel_size, stride, padding):
    kernel = check_pair(kernel_size, "kernel_size", minimum=1)
    stride = kernel if stride is None else check_pair(stride, "stride", minimum=1)
    padding = check_pair(padding, "padding", minimum=0)
    out = tuple(pool_output_size(n, f, s, p) for n, f, s, p in zip(x.shape[2:], kernel, stride, padding))
    return out, kernel, stride, padding


def _windows(x, kernel, stride, padding, value):
    """(N, C, kH*kW, oH, oW): every window of ``x`` padded with ``value``."""
    xp = pad2d(x, padding, value)
    (kh, kw), (sh, sw) = kernel, stride
    out_h = (xp.shape[2] - kh) // sh + 1
    out_w = (xp.shape[3] - kw) // sw + 1
    taps = [xp[:, :, u:u + sh * (out_h - 1) + 1:sh, v:v + sw * (out_w - 1) + 1:sw]
            for u in range(kh) for v in range(kw)]
    return np.stack(taps, axis=2)


def max_pool2d(x, kernel_size, stride=None, padding=0, return_indices=False):
    """Max pooling, equal to ``torch.nn.functional.max_pool2d``.

    Parameters
    ----------
    x : (N, C, H, W) array_like
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        ``kernel_size`` when None.
    padding : int or (int, int)
        Implicit -inf padding, at most half the kernel.
    return_indices : bool
        Also return where each maximum was: its flat index ``row * W + col``
        in its (H, W) input channel (the first one in reading order when
        several pixels tie), what :func:`max_unpool2d` needs.

    Returns
    -------
    y : (N, C, oH, oW) ndarray
    indices : (N, C, oH, oW) ndarray of int64, if ``return_indices``
    """
    x = _check_input(x)
    (out_h, out_w), kernel, stride, padding = _pool_geometry(x, kernel_size, stride, padding)
    windows = _windows(x, kernel, stride, padding, -np.inf)
    y = windows.max(axis=2)
    if not return_indices:
        return y
    tap = windows.argmax(axis=2)  # which of the kH*kW taps, first maximum wins
    u, v = np.divmod(tap, kernel[1])
    rows = np.arange(out_h)[:, None] * stride[0] - padding[0] + u
    cols = np.arange(out_w)[None, :] * stride[1] - padding[1] + v
    return y, (rows * x.shape[3] + cols).astype(np.int64)


def avg_pool2d(x, kernel_size, stride=None, padding=0, count_include_pad=True):
    """Average pooling, equal to ``torch.nn.functional.avg_pool2d``.

    Parameters
    ----------
    x : (N, C, H, W) array_like
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        ``kernel_size`` when None.
    padding : int or (int, int)
        Zero padding, at most half the kernel.
    count_include_pad : bool
        Divide by the window's area (True, torch's default) or by the number
        of real pixels in it.

    Returns
    -------
    (N, C, oH, oW) ndarray
    """
    x = _check_input(x)
    _, kernel, stride, padding = _pool_geometry(x, kernel_size, stride, padding)
    if not isinstance(count_include_pad, (bool, np.bool_)):
        raise TypeError(f"count_include_pad must be True or False, got {count_include_pad!r}")
    total = _windows(x, kernel, stride, padding, 0.0).sum(axis=2)
    if count_include_pad:
        return total / (kernel[0] * kernel[1])
    ones = np.ones((1, 1) + x.shape[2:], dtype=x.dtype)
    count = _windows(ones, kernel, stride, padding, 0.0).sum(axis=2)
    return total / count


def max_unpool2d(x, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Put each value back where its maximum came from; zeros elsewhere (``F.max_unpool2d``).

    Parameters
    ----------
    x : (N, C, h, w) array_like
        Pooled values (or anything of their shape, e.g. a decoder's maps).
    indices : (N, C, h, w) array_like of int
        The flat positions returned by ``max_pool2d(..., return_indices=True)``.
    kernel_size, stride, padding : int or (int, int)
        Those of the pooling; they give the default output size
        ``(h - 1) * S - 2P + F``.
    output_size : (int, int), optional
        (H, W) of the pooled input, when the default is ambiguous (odd sizes).

    Returns
    -------
    (N, C, H, W) ndarray
    """
    x = _check_input(x)
    indices = check_array(indices, "indices", ndim=4, dtype_kinds="iu")
    if indices.shape != x.shape:
        raise ValueError(f"indices must have the shape of x {x.shape}, got {indices.shape}")
    kernel = check_pair(kernel_size, "kernel_size", minimum=1)
    stride = kernel if stride is None else check_pair(stride, "stride", minimum=1)
    padding = check_pair(padding, "padding", minimum=0)
    if output_size is None:
        output_size = tuple((n - 1) * s - 2 * p + f for n, s, p, f in zip(x.shape[2:], stride, padding, kernel))
    height, width = check_pair(output_size, "output_size", minimum=1)
    if indices.min() < 0 or indices.max() >= height * width:
        raise ValueError(f"indices must lie in [0, {height * width}) for output_size {(height, width)}, "
                         f"got values from {indices.min()} to {indices.max()}")
    batch, channels = x.shape[:2]
    y = np.zeros((batch, channels, height * width), dtype=x.dtype)
    np.put_along_axis(y, indices.reshape(batch, channels, -1), x.reshape(batch, channels, -1), axis=2)
    return y.reshape(batch, channels, height, width)


def upsample_nearest(x, scale):
    """Nearest-neighbour upsampling by an integer factor: each pixel becomes an S x S block.

    Equal to ``F.interpolate(x, scale_factor=scale, mode="nearest")``.

    Parameters
    ----------
    x : (N, C, H, W) array_like
    scale : int or (int, int)

    Returns
    -------
    (N, C, H*sH, W*sW) ndarray
    """
    x = check_array(x, "x", ndim=4)
    sh, sw = check_pair(scale, "scale", minimum=1)
    return np.repeat(np.repeat(x, sh, axis=2), sw, axis=3)


def bed_of_nails(x, scale):
    """Upsample by putting each pixel at the top-left of an S x S block of zeros.

    Parameters
    ----------
    x : (N, C, H, W) array_like
    scale : int or (int, int)

    Returns
    -------
    (N, C, H*sH, W*sW) ndarray
        Equals :func:`max_unpool2d` with every index at its window's top-left
        corner, and a transposed convolution with stride S of a kernel that
        is 1 at (0, 0) and 0 elsewhere.
    """
    x = check_array(x, "x", ndim=4)
    sh, sw = check_pair(scale, "scale", minimum=1)
    batch, channels, height, width = x.shape
    y = np.zeros((batch, channels, height * sh, width * sw), dtype=x.dtype)
    y[:, :, ::sh, ::sw] = x
    return y


def bilinear_kernel(factor):
    """Kernel of a transposed convolution that upsamples bilinearly by ``factor``.

    Size ``K = 2 * factor - factor % 2``. With ``stride=factor`` and
    ``padding=factor // 2`` the transposed convolution maps n pixels to
    ``factor * n`` and interpolates linearly between input pixels (away from
    the border, it equals ``F.interpolate(mode="bilinear")``): the classic
    initialization of a learnable upsampling layer (Long et al., 2015).

    Parameters
    ----------
    factor : int
        Upsampling factor (>= 1).

    Returns
    -------
    (K, K) ndarray of float64
        The outer product of the 1-D "tent" ``1 - |i - c| / factor``.
    """
    factor = check_int(factor, "factor", minimum=1)
    size = 2 * factor - factor % 2
    center = factor - 1 if size % 2 == 1 else factor - 0.5
    tent = 1 - np.abs(np.arange(size) - center) / factor
    return np.outer(tent, tent)


def overlap_count(input_size, kernel_size, stride, padding=0):
    """How many kernel copies land on each output pixel of a transposed convolution.

    The transposed convolution of an all-ones input with an all-ones kernel.
    Uneven counts (the kernel size not divisible by the stride) cause the
    checkerboard artifacts of learned upsampling (Odena et al., 2016).

    Parameters
    ----------
    input_size, kernel_size, stride : int or (int, int)
    padding : int or (int, int)

    Returns
    -------
    (oH, oW) ndarray of float64
    """
    h, w = check_pair(input_size, "input_size", minimum=1)
    kh, kw = check_pair(kernel_size, "kernel_size", minimum=1)
    return conv_transpose2d(np.ones((1, 1, h, w)), np.ones((1, 1, kh, kw)), stride=stride,
                            padding=padding)[0, 0]


class ConvCost(NamedTuple):
    """Size and work of one convolution layer (see :func:`conv_cost`)."""

    parameters: int
    multiply_adds: int
    outputs: int
    output_bytes: int


def conv_cost(in_channels, out_channels, kernel_size, output_size, groups=1, bias=True,
              bytes_per_element=4):
    """Parameters, multiply-adds and output memory of a convolution layer.

    Parameters
    ----------
    in_channels, out_channels : int
        C_in and C_out, both divisible by ``groups``.
    kernel_size : int or (int, int)
    output_size : int or (int, int)
        (oH, oW) of the output maps (see :func:`conv_output_size`).
    groups : int
    bias : bool
        Whether the layer has one bias per filter.
    bytes_per_element : int
        4 for float32.

    Returns
    -------
    ConvCost
        ``parameters = C_out * (C_in / groups) * kH * kW (+ C_out)``;
        ``outputs = C_out * oH * oW``; ``multiply_adds = outputs * (C_in / groups) * kH * kW``
        (each output is one dot product with a filter; bias additions not counted);
        ``output_bytes = outputs * bytes_per_element``.
    """
    in_channels = check_int(in_channels, "in_channels", minimum=1)
    out_channels = check_int(out_channels, "out_channels", minimum=1)
    kh, kw = check_pair(kernel_size, "kernel_size", minimum=1)
    oh, ow = check_pair(output_size, "output_size", minimum=1)
    groups = check_int(groups, "groups", minimum=1)
    if not isinstance(bias, (bool, np.bool_)):
        raise TypeError(f"bias must be True or False, got {bias!r}")
    bytes_per_element = check_int(bytes_per_element, "bytes_per_element", minimum=1)
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"groups must divide in_channels ({in_channels}) and out_channels "
                         f"({out_channels}), got {groups}")
    per_output = (in_channels // groups) * kh * kw
    outputs = out_channels * oh * ow
    parameters = out_channels * per_output + (out_channels if bias else 0)
    return ConvCost(parameters, outputs * per_output, outputs, outputs * bytes_per_element)


def receptive_field(layers):
    """Receptive field of one output pixel of a stack of convolutions or poolings.

    Parameters
    ----------
    layers : sequence of (kernel, stride) or (kernel, stride, dilation)
        From the input upward.

    Returns
    -------
    int
        Side of the input square that one output pixel depends on:
        ``r = 1 + sum_l D_l (F_l - 1) * prod_{m < l} S_m``. Each layer widens
        the field by its (dilated) kernel minus one, measured in input
        pixels: one step of layer l is the product of the strides below it.
    """
    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__"):
        raise TypeError(f"layers must be a sequence of (kernel, stride[, dilation]) tuples, got {layers!r}")
    field, jump = 1, 1
    for i, layer in enumerate(layers):
        if not isinstance(layer, (tuple, list)) or len(layer) not in (2, 3):
            raise TypeError(f"layers[{i}] must be a (kernel, stride) or (kernel, stride, dilation) "
                            f"tuple, got {layer!r}")
        kernel = check_int(layer[0], f"layers[{i}] kernel", minimum=1)
        stride = check_int(layer[1], f"layers[{i}] stride", minimum=1)
        dilation = check_int(layer[2], f"layers[{i}] dilation", minimum=1) if len(layer) == 3 else 1
        field += dilation * (kernel - 1) * jump
        jump *= stride
    return field
