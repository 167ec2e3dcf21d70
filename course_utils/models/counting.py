"""Counting a model: parameters from each layer's shape, FLOPs of a forward pass, a per-layer summary.

:func:`count_parameters` computes each layer's count from its shape
(``k*k*C_in/groups*C_out + C_out`` for a convolution, ...) rather than by
asking torch, and :func:`count_flops` counts with the convention of
``torch.utils.flop_counter.FlopCounterMode`` (a multiply-add is 2 FLOPs; only
convolutions and matrix products count).
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple
import math

import torch
from torch import nn

from .._checks import check_int, check_module
from ..train import eval_mode

__all__ = [
    "ParameterCount",
    "layer_parameters",
    "count_parameters",
    "count_flops",
    "LayerSummary",
    "summary",
]


ParameterCount = namedtuple("ParameterCount", ["total", "per_layer"])

ParameterCount.__doc__ = """Result of :func:`count_parameters`: ``total`` (int) and
``per_layer`` (ordered dict of layer name to its parameter count)."""

_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.GroupNorm, nn.InstanceNorm2d)


def layer_parameters(layer):
    """Number of trainable numbers in one layer, from its shape alone.

    Parameters
    ----------
    layer : torch.nn.Module
        A convolution, linear, normalization or embedding layer. Any other
        module counts its *own* parameters (not its children's) by size.

    Returns
    -------
    int

    Notes
    -----
    - Convolution with ``C_in`` inputs, ``C_out`` filters of ``k_h x k_w``
      and ``g`` groups: each filter sees ``C_in / g`` channels, so
      ``C_out * (C_in / g) * k_h * k_w`` weights, plus ``C_out`` biases.
    - Linear: ``in * out`` weights plus ``out`` biases.
    - Batch / group / layer normalization: a scale and a shift per channel
      (``2 * C``) when affine; running statistics are not parameters.
    """
    check_module(layer, "layer")
    if isinstance(layer, nn.modules.conv._ConvNd):
        weights = layer.out_channels * (layer.in_channels // layer.groups) * math.prod(layer.kernel_size)
        return weights + (layer.out_channels if layer.bias is not None else 0)
    if isinstance(layer, nn.Linear):
        return layer.in_features * layer.out_features + (layer.out_features if layer.bias is not None else 0)
    if isinstance(layer, _NORMS):
        channels = layer.num_channels if isinstance(layer, nn.GroupNorm) else layer.num_features
        return 2 * channels if layer.affine else 0
    if isinstance(layer, nn.LayerNorm):
        size = math.prod(layer.normalized_shape)
        return (size if layer.weight is not None else 0) + (size if layer.bias is not None else 0)
    if isinstance(layer, nn.Embedding):
        return layer.num_embeddings * layer.embedding_dim
    return sum(p.numel() for p in layer.parameters(recurse=False))


def count_parameters(model, trainable_only=False):
    """Count the parameters of a model, in total and layer by layer.

    Parameters
    ----------
    model : torch.nn.Module
    trainable_only : bool
        Count only layers whose parameters have ``requires_grad`` (after
        :func:`course_utils.train.freeze`).

    Returns
    -------
    ParameterCount
        ``total`` and ``per_layer``: an ordered dict from each layer's name
        (as in ``model.named_modules()``) to :func:`layer_parameters`, for
        the layers that hold parameters. Shared layers count once.

    Examples
    --------
    >>> count_parameters(nn.Conv2d(3, 64, 11, stride=4, padding=2)).total
    23296
    """
    check_module(model)
    if not isinstance(trainable_only, bool):
        raise TypeError(f"trainable_only must be True or False, got {trainable_only!r}")
    per_layer = OrderedDict()
    for name, layer in model.named_modules():  # named_modules skips repeats
        own = list(layer.parameters(recurse=False))
        if not own or (trainable_only and not any(p.requires_grad for p in own)):
            continue
        per_layer[name or type(layer).__name__] = layer_parameters(layer)
    return ParameterCount(sum(per_layer.values()), per_layer)


def _layer_flops(layer, inputs, output):
    """FLOPs of one forward call, FlopCounterMode's convention (2 per multiply-add)."""
    if isinstance(layer, nn.modules.conv._ConvNd):
        if isinstance(layer, nn.modules.conv._ConvTransposeNd):
            # each input value is multiplied by every weight it meets
            per_input = (layer.out_channels // layer.groups) * math.prod(layer.kernel_size)
            return 2 * inputs[0].numel() * per_input
        per_output = (layer.in_channels // layer.groups) * math.prod(layer.kernel_size)
        return 2 * output.numel() * per_output
    if isinstance(layer, nn.Linear):
        return 2 * output.numel() * layer.in_features
    return 0


def count_flops(model, input_shape, per_layer=False):
    """Floating-point operations of one forward pass.

    A hook on every convolution and linear layer multiplies the size of its
    output by the multiply-adds each output value needs
    (``C_in / groups * k_h * k_w`` for a convolution, ``in_features`` for a
    linear layer), times 2. This is the convention of
    ``torch.utils.flop_counter.FlopCounterMode``: additions of biases,
    pooling, normalization and activations are not counted.

    Parameters
    ----------
    model : torch.nn.Module
        Run in eval mode (and put back in the mode it was in). It may live on
        the ``"meta"`` device: only shapes are needed, so even VGG-16 costs
        nothing to count.
    input_shape : tuple of int
        Shape of the input batch, e.g. ``(1, 3, 224, 224)``.
    per_layer : bool
        Also return the FLOPs of each layer.

    Returns
    -------
    int, or (int, OrderedDict) when ``per_layer`` is True
    """
    check_module(model)
    if not isinstance(input_shape, (tuple, list, torch.Size)) or len(input_shape) < 1:
        raise TypeError(f"input_shape must be a tuple of positive integers, got {input_shape!r}")
    input_shape = tuple(check_int(s, f"input_shape[{i}]", minimum=1) for i, s in enumerate(input_shape))
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    flops = OrderedDict()
    handles = []
    for name, layer in model.named_modules():
        if isinstance(layer, (nn.modules.conv._ConvNd, nn.Linear)):
            def hook(layer, inputs, output, name=name):
                flops[name] = flops.get(name, 0) + _layer_flops(layer, inputs, output)
            handles.append(layer.register_forward_hook(hook))
    try:
        with eval_mode(model):
            model(torch.zeros(input_shape, device=device))
    finally:
        for handle in handles:
            handle.remove()
    total = sum(flops.values())
    return (total, flops) if per_layer else total


class LayerSummary(list):
    """Rows of :func:`summary`; prints as a table (one line per layer, then the totals)."""

    def __repr__(self):
        lines = [f"{'layer':<24}{'type':<18}{'output shape':<20}{'parameters':>12}{'MFLOPs':>10}"]
        for row in self:
            shape = " x ".join(str(s) for s in row["output_shape"][1:])
            lines.append(f"{row['name']:<24}{row['type']:<18}{shape:<20}{row['parameters']:>12,}"
                         f"{row['flops'] / 1e6:>10.2f}")
        lines.append(f"{'total':<62}{sum(r['parameters'] for r in self):>12,}"
                     f"{sum(r['flops'] for r in self) / 1e6:>10.2f}")
        return "\n".join(lines)


def summary(model, input_shape):
    """Layer-by-layer table: output shape, parameters and FLOPs of each layer.

    Parameters
    ----------
    model : torch.nn.Module
    input_shape : tuple of int
        Shape of the input batch, e.g. ``(1, 1, 28, 28)``.

    Returns
    -------
    LayerSummary
        A list of dicts with keys ``name``, ``type``, ``output_shape``,
        ``parameters`` (:func:`layer_parameters`) and ``flops``, one per
        leaf layer in the order the forward pass runs them; it prints as a
        table.
    """
    check_module(model)
    _, flops = count_flops(model, input_shape, per_layer=True)  # also validates input_shape
    rows, handles = LayerSummary(), []
    for name, layer in model.named_modules():
        if next(layer.children(), None) is not None:
            continue  # containers: their leaves report

        def hook(layer, inputs, output, name=name):
            rows.append({"name": name or type(layer).__name__, "type": type(layer).__name__,
                         "output_shape": tuple(output.shape), "parameters": layer_parameters(layer),
                         "flops": flops.get(name, 0)})
        handles.append(layer.register_forward_hook(hook))
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    try:
        with eval_mode(model):
            model(torch.zeros(tuple(input_shape), device=device))
    finally:
        for handle in handles:
            handle.remove()
    return rows
