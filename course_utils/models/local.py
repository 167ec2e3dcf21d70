"""Locally connected layers: the windows of a convolution, without the weight sharing.

A convolution layer makes two assumptions: every output looks at a small
window (local connectivity) and every window uses the same filters (weight
sharing). A *locally connected* layer keeps the first and drops the second:
each output position has its own filters. It is the control that isolates
what weight sharing buys (notebook 04); DeepFace (Taigman et al. 2014) used
such layers on aligned faces, where position does carry meaning.

:func:`locally_connected2d` is the operation, :class:`LocallyConnected2d`
the ``torch.nn`` layer.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_int, check_pair

__all__ = ["locally_connected2d", "LocallyConnected2d"]


def _output_size(size, kernel, stride, padding, name):
    out = (size + 2 * padding - kernel) // stride + 1
    if out < 1:
        raise ValueError(f"{name} {size} with padding {padding} is smaller than the kernel ({kernel})")
    return out


def locally_connected2d(x, weight, bias=None, stride=1, padding=0):
    """A 2-D locally connected layer: a convolution with one set of filters per output position.

    ``y[n, k, i, j] = b[k, i, j] + sum_{c, u, v} w[i, j, k, c, u, v] * x_pad[n, c, i*S + u, j*S + v]``,
    the convolution's formula with weights indexed by the position ``(i, j)``
    as well. Computed with ``F.unfold`` (the windows as columns, see
    :func:`course_utils.conv.im2col`) and one batched product per position.

    Parameters
    ----------
    x : tensor (N, C_in, H, W)
    weight : tensor (oH, oW, C_out, C_in, kH, kW)
        The filters of every output position.
    bias : tensor (C_out, oH, oW), optional
        One bias per output value (position and channel).
    stride, padding : int or (int, int)

    Returns
    -------
    tensor (N, C_out, oH, oW)

    Raises
    ------
    TypeError
        If ``x`` or ``weight`` is not a tensor.
    ValueError
        If a shape does not match: ``weight``'s ``C_in`` against ``x``, its
        ``(oH, oW)`` against the output size of ``x``, ``bias`` against
        ``(C_out, oH, oW)``.
    """
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        raise TypeError(f"x must be a 4-D tensor (N, C_in, H, W), got {type(x).__name__} "
                        f"{tuple(getattr(x, 'shape', ()))}")
    if not isinstance(weight, torch.Tensor) or weight.ndim != 6:
        raise TypeError(f"weight must be a 6-D tensor (oH, oW, C_out, C_in, kH, kW), got {type(weight).__name__} "
                        f"{tuple(getattr(weight, 'shape', ()))}")
    stride, padding = check_pair(stride, "stride"), check_pair(padding, "padding", minimum=0)
    out_h, out_w, out_channels, in_channels, kh, kw = weight.shape
    if in_channels != x.shape[1]:
        raise ValueError(f"weight has {in_channels} input channels but x has {x.shape[1]}")
    expected = (_output_size(x.shape[2], kh, stride[0], padding[0], "x height"),
                _output_size(x.shape[3], kw, stride[1], padding[1], "x width"))
    if (out_h, out_w) != expected:
        raise ValueError(f"weight has filters for {out_h} x {out_w} output positions, but x of size "
                         f"{tuple(x.shape[2:])} gives {expected[0]} x {expected[1]}")
    if bias is not None and tuple(bias.shape) != (out_channels, out_h, out_w):
        raise ValueError(f"bias must have shape (C_out, oH, oW) = {(out_channels, out_h, out_w)}, "
                         f"got {tuple(bias.shape)}")
    columns = F.unfold(x, (kh, kw), padding=padding, stride=stride)  # (N, C_in*kH*kW, oH*oW)
    filters = weight.reshape(out_h * out_w, out_channels, -1)  # (oH*oW, C_out, C_in*kH*kW)
    y = torch.einsum("ncp,pkc->nkp", columns, filters).reshape(x.shape[0], out_channels, out_h, out_w)
    return y if bias is None else y + bias


class LocallyConnected2d(nn.Module):
    """A locally connected layer: :func:`locally_connected2d` with its own weights.

    Same windows as ``nn.Conv2d(in_channels, out_channels, kernel_size,
    stride, padding)`` on ``input_size`` images, but ``oH * oW`` times the
    weights: one filter bank per output position, and one bias per output
    value. Initialized as ``nn.Conv2d`` initializes its single bank
    (uniform in ``+-1/sqrt(C_in kH kW)``), independently at every position.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (int, int)
    input_size : int or (int, int)
        (H, W) of the images the layer will see: the number of positions,
        hence of weights, depends on it.
    stride, padding : int or (int, int)
    bias : bool
    """

    def __init__(self, in_channels, out_channels, kernel_size, input_size, stride=1, padding=0, bias=True):
        super().__init__()
        self.in_channels = check_int(in_channels, "in_channels", minimum=1)
        self.out_channels = check_int(out_channels, "out_channels", minimum=1)
        self.kernel_size = check_pair(kernel_size, "kernel_size")
        self.input_size = check_pair(input_size, "input_size")
        self.stride, self.padding = check_pair(stride, "stride"), check_pair(padding, "padding", minimum=0)
        self.output_size = tuple(
            _output_size(self.input_size[i], self.kernel_size[i], self.stride[i], self.padding[i],
                         ("input height", "input width")[i]) for i in range(2))
        self.weight = nn.Parameter(torch.empty(*self.output_size, self.out_channels, self.in_channels,
                                               *self.kernel_size))
        self.bias = nn.Parameter(torch.empty(self.out_channels, *self.output_size)) if bias else None
        bound = 1 / math.sqrt(self.in_channels * self.kernel_size[0] * self.kernel_size[1])
        with torch.no_grad():
            self.weight.uniform_(-bound, bound)
            if self.bias is not None:
                self.bias.uniform_(-bound, bound)

    @classmethod
    def from_conv(cls, conv, input_size):
        """The locally connected layer whose every position holds ``conv``'s filters (and bias).

        It computes exactly what ``conv`` computes: a convolution is the
        locally connected layer with all positions' weights tied. The new
        layer has ``conv``'s dtype and device.
        """
        if not isinstance(conv, nn.Conv2d) or conv.groups != 1 or conv.dilation != (1, 1) \
                or not isinstance(conv.padding, tuple) or conv.padding_mode != "zeros":
            raise TypeError("conv must be an nn.Conv2d with groups=1, dilation=1, numeric zero padding")
        layer = cls(conv.in_channels, conv.out_channels, conv.kernel_size, input_size, conv.stride, conv.padding,
                    bias=conv.bias is not None).to(device=conv.weight.device, dtype=conv.weight.dtype)
        with torch.no_grad():
            layer.weight.copy_(conv.weight.expand_as(layer.weight))
            if conv.bias is not None:
                layer.bias.copy_(conv.bias[:, None, None].expand_as(layer.bias))
        return layer

    def forward(self, x):
        return locally_connected2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"input_size={self.input_size}, stride={self.stride}, padding={self.padding}, "
                f"bias={self.bias is not None}")
