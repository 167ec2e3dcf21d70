"""A small U-Net that predicts the noise in a noisy image, told how noisy it is (notebook 30).

A diffusion model's network sees ``x_t`` and the step ``t`` and returns its
guess of the noise ``eps`` that was mixed in (Ho et al. 2020). It is the
U-Net of notebook 25 (:class:`course_utils.models.UNet`: max-pool down,
transposed convolution up, the encoder's map of the same size concatenated
before each decoder convolution), with two changes a denoiser needs:

* **the step goes in.** :func:`timestep_embedding` writes ``t`` as sines and
  cosines of geometrically spaced frequencies (the position code of Vaswani
  et al. 2017); :class:`TimeEmbedding` passes it through a small MLP, and
  every :class:`TimeConvBlock` adds a learned projection of it, one number
  per channel, to its feature map (broadcast over the pixels).
* **group norm instead of batch norm.** Batch statistics would mix images of
  very different noise levels, and at sampling time every image of a batch
  sits at the same step; group norm (Wu & He 2018) normalizes each image on
  its own, the same way in training and sampling.

The output has the input's shape and no activation: the noise is any real
number.
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_int, check_number
from .segmentation import check_gray_batch

__all__ = ["timestep_embedding", "TimeEmbedding", "TimeConvBlock", "Denoiser"]


def timestep_embedding(t, dim, max_period=10000.0):
    """Sinusoidal code of the steps ``t``: ``[sin(t w_0), .., sin(t w_{k-1}), cos(t w_0), .., cos(t w_{k-1})]``.

    With ``k = dim / 2`` frequencies ``w_i = max_period ** (-i / k)``, from 1
    (a turn every 2 pi steps) down to almost ``1 / max_period`` (slow enough
    that no two steps of a chain get the same code). Every row has squared norm
    ``k`` (``sin^2 + cos^2 = 1`` per frequency), and the dot product of two
    codes depends only on the difference of their steps.

    Parameters
    ----------
    t : Tensor (B,) or int
        Steps (integers or reals).
    dim : int
        Even, >= 2: the length of the code.
    max_period : float
        > 1: the longest period is close to ``2 pi max_period`` steps.

    Returns
    -------
    Tensor (B, dim)
        float32, or float64 if ``t`` is float64.
    """
    if isinstance(t, bool) or not isinstance(t, (int, torch.Tensor)):
        raise TypeError(f"t must be an int or a 1-D tensor of steps, got {type(t).__name__}")
    t = torch.as_tensor(t)
    if t.ndim == 0:
        t = t.reshape(1)
    if t.ndim != 1:
        raise ValueError(f"t must be a 1-D tensor of steps (one per image), got shape {tuple(t.shape)}")
    if t.dtype == torch.bool or t.is_complex():
        raise TypeError(f"t must hold integer or real steps, got {t.dtype}")
    dim = check_int(dim, "dim", minimum=2)
    if dim % 2:
        raise ValueError(f"dim must be even (a sine and a cosine per frequency), got {dim}")
    max_period = check_number(max_period, "max_period", minimum=1, strict_minimum=True)
    dtype = torch.float64 if t.dtype == torch.float64 else torch.float32
    half = dim // 2
    frequencies = max_period ** (-torch.arange(half, dtype=torch.float64) / half)
    angles = t.to(torch.float64)[:, None] * frequencies[None, :].to(t.device)
    return torch.cat([angles.sin(), angles.cos()], dim=1).to(dtype)


class TimeEmbedding(nn.Module):
    """The step as a learned vector: :func:`timestep_embedding`, then Linear -> SiLU -> Linear.

    Parameters
    ----------
    dim : int
        Even: the length of the sinusoidal code.
    out_dim : int
        The length of the returned vector (hidden layer as wide).
    """

    def __init__(self, dim=32, out_dim=64):
        super().__init__()
        self.dim = check_int(dim, "dim", minimum=2)
        if self.dim % 2:
            raise ValueError(f"dim must be even (a sine and a cosine per frequency), got {dim}")
        out_dim = check_int(out_dim, "out_dim", minimum=1)
        self.mlp = nn.Sequential(nn.Linear(self.dim, out_dim), nn.SiLU(), nn.Linear(out_dim, out_dim))

    def forward(self, t):
        return self.mlp(timestep_embedding(t, self.dim).to(self.mlp[0].weight.dtype))


class TimeConvBlock(nn.Module):
    """3x3 convolution -> group norm -> + projected step embedding (per channel) -> SiLU.

    Parameters
    ----------
    in_channels, out_channels : int
    time_dim : int
        Length of the step vector given to ``forward``.
    groups : int
        Group norm groups; must divide ``out_channels``.
    """

    def __init__(self, in_channels, out_channels, time_dim, groups=8):
        super().__init__()
        in_channels = check_int(in_channels, "in_channels", minimum=1)
        out_channels = check_int(out_channels, "out_channels", minimum=1)
        time_dim = check_int(time_dim, "time_dim", minimum=1)
        groups = check_int(groups, "groups", minimum=1)
        if out_channels % groups:
            raise ValueError(f"groups must divide out_channels, got {groups} groups for {out_channels} channels")
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.norm = nn.GroupNorm(groups, out_channels)
        self.time = nn.Linear(time_dim, out_channels)
        self.act = nn.SiLU()

    def forward(self, x, time_vector):
        shift = self.time(time_vector)[:, :, None, None]  # (B, C, 1, 1): one number per channel, every pixel
        return self.act(self.norm(self.conv(x)) + shift)


class Denoiser(nn.Module):
    """U-Net noise predictor for (B, 1, H, W) images: ``model(x_t, t) -> eps``.

    Strides 1, 2, 4 (28 x 28 -> 14 x 14 -> 7 x 7 for the digits), two
    :class:`TimeConvBlock` per level on the way down, max pooling between
    levels, transposed-convolution upsampling and concatenated skips on the
    way up (the layout of :class:`course_utils.models.UNet`), a 1 x 1
    convolution to one channel at the end. Images whose sides are not
    multiples of 4 are padded (edge pixels repeated) on the bottom and right,
    and the output cropped back.

    Parameters
    ----------
    widths : 3 ints
        Channels at strides 1, 2 and 4; each a multiple of ``groups``.
    time_dim : int
        Length of the sinusoidal code (even); the step vector is twice as long.
    groups : int
        Group norm groups.
    """

    def __init__(self, widths=(32, 64, 64), time_dim=32, groups=8):
        super().__init__()
        widths = tuple(widths)
        if len(widths) != 3 or not all(isinstance(w, int) and not isinstance(w, bool) and w >= 1 for w in widths):
            raise ValueError(f"widths must be 3 positive ints (channels at strides 1, 2, 4), got {widths}")
        self.widths = widths
        a, b, c = widths
        vector = 2 * check_int(time_dim, "time_dim", minimum=2)
        self.time = TimeEmbedding(time_dim, vector)
        self.down1 = nn.ModuleList([TimeConvBlock(1, a, vector, groups), TimeConvBlock(a, a, vector, groups)])
        self.down2 = nn.ModuleList([TimeConvBlock(a, b, vector, groups), TimeConvBlock(b, b, vector, groups)])
        self.down4 = nn.ModuleList([TimeConvBlock(b, c, vector, groups), TimeConvBlock(c, c, vector, groups)])
        self.up2, self.decode2 = nn.ConvTranspose2d(c, b, 2, stride=2), TimeConvBlock(2 * b, b, vector, groups)
        self.up1, self.decode1 = nn.ConvTranspose2d(b, a, 2, stride=2), TimeConvBlock(2 * a, a, vector, groups)
        self.out = nn.Conv2d(a, 1, 1)

    @staticmethod
    def _level(blocks, x, vector):
        for block in blocks:
            x = block(x, vector)
        return x

    def forward(self, x, t):
        check_gray_batch(x, multiple=1)
        height, width = x.shape[2:]
        pad_h, pad_w = -height % 4, -width % 4  # e.g. 14 x 14 digits are worked on as 16 x 16
        if pad_h or pad_w:
            x = nn.functional.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        t = torch.as_tensor(t)
        if t.ndim == 0:
            t = t.expand(len(x))
        if t.shape != (len(x),):
            raise ValueError(f"t must hold one step per image, shape ({len(x)},), got {tuple(t.shape)}")
        vector = self.time(t)
        x1 = self._level(self.down1, x, vector)
        x2 = self._level(self.down2, nn.functional.max_pool2d(x1, 2), vector)
        x4 = self._level(self.down4, nn.functional.max_pool2d(x2, 2), vector)
        y2 = self.decode2(torch.cat([self.up2(x4), x2], dim=1), vector)
        y1 = self.decode1(torch.cat([self.up1(y2), x1], dim=1), vector)
        return self.out(y1)[:, :, :height, :width]
