"""A small DETR (Carion et al. 2020) for the 64-pixel scenes: a CNN, a transformer, a set of queries, no NMS.

* A small CNN (the backbone of notebook 24's detector, stride 4: 16 x 16
  feature cells for a 64-pixel scene) and a 1 x 1 convolution to ``dim``
  channels give ``16 * 16`` image **tokens**.
* Each token gets a **position encoding** (:func:`sine_position_encoding`:
  sines and cosines of its row and column, as in DETR), since attention
  itself does not know where a token is.
* An optional transformer encoder (:class:`TransformerEncoderBlock`) lets
  the tokens look at each other.
* ``queries`` learned **object queries** go through a stack of
  :class:`TransformerDecoderBlock`: self-attention among the queries (so
  they can agree who answers which object), cross-attention to the image
  tokens, an MLP.
* After every decoder layer, shared heads read each query: class logits
  over the digits plus "no object", and a box, normalized ``(cx, cy, w, h)``
  in [0, 1]. Each query owns a learned **reference point**: the first layer
  corrects a box a quarter of the image wide around it, and each later
  layer corrects the previous layer's box (iterative refinement, Zhu et al.
  2021, Deformable DETR). Optionally (the default), each query's
  cross-attention is biased towards the tokens near its current box
  (spatially modulated co-attention, Gao et al. 2021).

Training (``model(images, targets)`` in train mode) returns the set loss of
:func:`course_utils.detection.set_prediction_loss`, the last layer's and the
auxiliary losses of the earlier layers. In eval mode ``model(images)`` returns,
per image, every query's box, its best digit and that digit's probability,
sorted by score: one answer per query, and **no NMS**. Notebook 29.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .._checks import check_int, check_number
from ..detection.boxes import box_convert
from ..detection.matching import match_queries, set_prediction_loss
from .blocks import conv_bn_layers
from .transformers import TransformerDecoderBlock, TransformerEncoderBlock

__all__ = ["sine_position_encoding", "DETR"]


def sine_position_encoding(height, width, dim, temperature=10000.0):
    """DETR's 2-D sine position encoding: (height * width, dim), cells row by row.

    The first ``dim / 2`` features encode the row, the last ``dim / 2`` the
    column; each half is ``sin(y / T^(2k / d)), cos(y / T^(2k / d))`` pairs
    over ``k`` (``d = dim / 2``, ``y`` the cell's row in (0, 2 pi], then the
    same for the column), the encoding of Vaswani et al. (2017) applied to
    each axis.

    Parameters
    ----------
    height, width : int
    dim : int
        A multiple of 4.
    temperature : float

    Returns
    -------
    (height * width, dim) float32 tensor
    """
    height = check_int(height, "height", minimum=1)
    width = check_int(width, "width", minimum=1)
    dim = check_int(dim, "dim", minimum=4)
    temperature = check_number(temperature, "temperature", minimum=0, strict_minimum=True)
    if dim % 4:
        raise ValueError(f"dim must be a multiple of 4 (sine and cosine for rows and columns), got {dim}")
    half = dim // 2
    frequencies = temperature ** (2 * torch.arange(half // 2, dtype=torch.float64) / half)  # (half / 2,)
    rows = (torch.arange(1, height + 1, dtype=torch.float64) / height * 2 * math.pi)[:, None] / frequencies
    cols = (torch.arange(1, width + 1, dtype=torch.float64) / width * 2 * math.pi)[:, None] / frequencies
    row_code = torch.stack([rows.sin(), rows.cos()], dim=-1).flatten(1)  # (H, half): sin, cos interleaved
    col_code = torch.stack([cols.sin(), cols.cos()], dim=-1).flatten(1)  # (W, half)
    code = torch.cat([row_code[:, None, :].expand(height, width, half),
                      col_code[None, :, :].expand(height, width, half)], dim=-1)
    return code.reshape(height * width, dim).float()


def _inverse_sigmoid(x, eps=1e-5):
    x = x.clamp(eps, 1 - eps)
    return torch.log(x / (1 - x))


class DETR(nn.Module):
    """A small DETR for square grey scenes: CNN, sine positions, transformer, object queries, set loss.

    Parameters
    ----------
    n_classes : int
        Object classes; the model adds "no object" as class ``n_classes``.
    image_size : int
        Side of the square images (a multiple of 4).
    dim : int
        Width of the tokens and queries (a multiple of 4 and of ``heads``).
    queries : int
        Number of object queries: the most objects one image can get.
    encoder_layers, decoder_layers : int
        Transformer blocks over the image tokens (0: none), and decoder blocks.
    heads, mlp_dim : int
    width : int
        Channels of the CNN.
    no_object_weight : float
        Weight of "no object" in the class loss (DETR: 0.1).
    spatial_prior : bool
        Bias each query's cross-attention towards the tokens near its current
        box (a Gaussian added to the scores, as SMCA, Gao et al. 2021).
    loss_weights : (float, float, float)
        Class, L1 and GIoU weights of the matching cost and the loss (DETR: 1, 5, 2).
    """

    stride = 4

    def __init__(self, n_classes=10, image_size=64, dim=64, queries=16, encoder_layers=0, decoder_layers=3, heads=4,
                 mlp_dim=128, width=64, no_object_weight=0.1, spatial_prior=True,
                 loss_weights=(1.0, 5.0, 2.0)):
        super().__init__()
        self.n_classes = check_int(n_classes, "n_classes", minimum=1)
        self.image_size = check_int(image_size, "image_size", minimum=4)
        if self.image_size % self.stride:
            raise ValueError(f"image_size must be a multiple of {self.stride}, got {self.image_size}")
        self.n_queries = check_int(queries, "queries", minimum=1)
        check_int(encoder_layers, "encoder_layers", minimum=0)
        check_int(decoder_layers, "decoder_layers", minimum=1)
        check_int(width, "width", minimum=1)
        self.no_object_weight = check_number(no_object_weight, "no_object_weight", minimum=0, maximum=1)
        grid = self.image_size // self.stride
        self.backbone = nn.Sequential(*conv_bn_layers(1, 32, 2), *conv_bn_layers(32, width, 2),
                                      *conv_bn_layers(width, width),
                                      *conv_bn_layers(width, width, dilation=2),
                                      *conv_bn_layers(width, width, dilation=2),
                                      *conv_bn_layers(width, width, dilation=4))
        self.input_proj = nn.Conv2d(width, dim, 1)
        self.register_buffer("pos", sine_position_encoding(grid, grid, dim), persistent=False)
        centres = (torch.arange(grid, dtype=torch.float32) + 0.5) / grid
        y, x = torch.meshgrid(centres, centres, indexing="ij")
        self.register_buffer("token_centres", torch.stack([x.reshape(-1), y.reshape(-1)], 1), persistent=False)
        self.spatial_prior = bool(spatial_prior)
        if not isinstance(loss_weights, (tuple, list)) or len(loss_weights) != 3:
            raise ValueError(f"loss_weights must be three numbers (class, L1, GIoU), got {loss_weights!r}")
        self.loss_weights = tuple(check_number(w, "loss_weights", minimum=0) for w in loss_weights)
        self.encoder = nn.ModuleList(TransformerEncoderBlock(dim, heads, mlp_dim, activation="relu")
                                     for _ in range(encoder_layers))
        self.decoder = nn.ModuleList(TransformerDecoderBlock(dim, heads, mlp_dim) for _ in range(decoder_layers))
        self.norm = nn.LayerNorm(dim)
        self.query_pos = nn.Parameter(torch.randn(self.n_queries, dim))
        self.reference = nn.Parameter(torch.rand(self.n_queries, 2))  # each query's home point, (x, y) in [0, 1]
        self.class_head = nn.Linear(dim, self.n_classes + 1)
        self.box_head = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim), nn.ReLU(),
                                      nn.Linear(dim, 4))
        nn.init.zeros_(self.box_head[-1].weight)
        nn.init.zeros_(self.box_head[-1].bias)  # untrained, every layer answers its reference box

    def tokens(self, images):
        """Image tokens (B, H * W / 16, dim), positions not yet added."""
        if not isinstance(images, torch.Tensor):
            raise TypeError(f"images must be a torch.Tensor, got {type(images).__name__}")
        if images.ndim != 4 or images.shape[1] != 1 or images.shape[-2:] != (self.image_size,) * 2:
            raise ValueError(f"images must be a (B, 1, {self.image_size}, {self.image_size}) tensor, "
                             f"got {tuple(images.shape)}")
        return self.input_proj(self.backbone(images)).flatten(2).transpose(1, 2)

    def predict_layers(self, images, return_attention=False):
        """Every decoder layer's (logits (B, Q, C + 1), boxes (B, Q, 4) normalized cxcywh), the last one last.

        Each layer refines the previous layer's boxes (the first layer's
        reference: the learned points, boxes a quarter of the image wide):
        its box head predicts a correction in logit space. With
        ``spatial_prior``, each query's cross-attention scores are lowered by
        ``((x - cx)^2 / w^2 + (y - cy)^2 / h^2) / 2`` for a token at ``(x, y)``,
        (cx, cy, w, h) the query's current box: it looks around its box first.
        With ``return_attention``, also the last layer's cross-attention weights
        (B, heads, Q, tokens).
        """
        memory = self.tokens(images)
        for block in self.encoder:
            memory = block(memory + self.pos)  # DETR adds the positions before every encoder layer
        batch, dim = len(images), memory.shape[-1]
        outputs, weights = [], None
        x = torch.zeros(batch, self.n_queries, dim, dtype=memory.dtype, device=memory.device)
        reference = torch.cat([self.reference, torch.full_like(self.reference, 0.25)], -1).expand(batch, -1, -1)
        for i, block in enumerate(self.decoder):
            last = i == len(self.decoder) - 1
            mask = self._prior(reference.detach()) if self.spatial_prior else None
            x = block(x, memory, memory_mask=mask, query_pos=self.query_pos, memory_pos=self.pos,
                      return_attention=return_attention and last)
            if return_attention and last:
                x, weights = x
            h = self.norm(x)
            boxes = torch.sigmoid(self.box_head(h) + _inverse_sigmoid(reference))
            outputs.append((self.class_head(h), boxes))
            reference = boxes.detach()  # each layer corrects the last one's box; the gradient stops there
        return (outputs, weights) if return_attention else outputs

    def _prior(self, boxes):
        """(B * heads, Q, tokens) additive cross-attention mask: a Gaussian around each query's box."""
        offset = (self.token_centres[None, None] - boxes[:, :, None, :2]) / boxes[:, :, None, 2:].clamp(min=0.02)
        prior = -0.5 * (offset ** 2).sum(-1)  # (B, Q, S)
        heads = self.decoder[0].multihead_attn.num_heads
        return prior.repeat_interleave(heads, dim=0)

    def normalized_targets(self, targets):
        """Targets with corner boxes in pixels as targets with normalized ``(cx, cy, w, h)`` boxes."""
        return [{"labels": t["labels"], "boxes": box_convert(t["boxes"].float() / self.image_size, "xyxy", "cxcywh")}
                for t in targets]

    def forward(self, images, targets=None):
        outputs = self.predict_layers(images)
        if self.training:
            if targets is None:
                raise ValueError("targets are needed in train mode: model(images, targets)")
            return set_prediction_loss(outputs, self.normalized_targets(targets), self.no_object_weight,
                                       *self.loss_weights)
        return self.detections(*outputs[-1])

    def match(self, images, targets):
        """The query matched to each object of each image by the last layer (:func:`detection.match_queries`)."""
        logits, boxes = self.predict_layers(images)[-1]
        return match_queries(logits, boxes, self.normalized_targets(targets))

    def detections(self, logits, boxes):
        """One dict per image: every query's box (pixels, corners), best digit and its probability; no NMS."""
        probabilities = logits.detach().softmax(-1)[..., :-1]  # "no object" is never reported
        scores, labels = probabilities.max(-1)
        corners = (box_convert(boxes.detach().reshape(-1, 4), "cxcywh", "xyxy").reshape(boxes.shape)
                   * self.image_size).clamp(0, self.image_size)
        out = []
        for b, s, c in zip(corners, scores, labels):
            order = torch.argsort(s, descending=True, stable=True)
            out.append({"boxes": b[order], "scores": s[order], "labels": c[order]})
        return out
