"""Attention and the vision transformer, written small enough to read (notebook 28).

* :func:`scaled_dot_product_attention`: ``softmax(Q K^T / sqrt(d) + mask) V``,
  equal to ``torch.nn.functional.scaled_dot_product_attention`` (tested), and
  able to return the attention weights, which the fused library call cannot.
* :class:`MultiHeadAttention`: ``heads`` attentions side by side on slices of
  one projection, concatenated and projected back. Its parameters have the
  names and shapes of ``torch.nn.MultiheadAttention`` (``batch_first=True``),
  so weights load both ways and the outputs are equal (tested).
* :class:`TransformerEncoderBlock`: attention and a two-layer MLP, each with a
  residual connection and a layer norm, before (``norm_first=True``, ViT) or
  after (the original transformer) the sub-layer; the layout of
  ``torch.nn.TransformerEncoderLayer``, equal to it both ways (tested).
* :class:`TransformerDecoderBlock`: self-attention among queries,
  cross-attention from the queries to a memory (image tokens), and an MLP,
  in the layout of ``torch.nn.TransformerDecoderLayer``, equal to it both
  ways (tested); optional position terms added to queries and keys, as DETR
  does (notebook 29).
* :func:`patchify` and :class:`PatchEmbedding`: an image cut into
  non-overlapping ``p x p`` patches, each flattened and projected linearly;
  the same as a convolution with kernel and stride ``p`` (tested).
* :class:`VisionTransformer` (Dosovitskiy et al. 2021): patch embedding, a
  learned class token, learned position embeddings, pre-norm blocks, and a
  linear head on the class token.

Two mask conventions meet here, as in torch. The functional attention takes a
mask that says where attention is **allowed** (``True`` = take part), like
``F.scaled_dot_product_attention``; the modules take masks that say what is
**forbidden** (``True`` = masked out), like ``nn.MultiheadAttention``.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .._checks import check_choice, check_int, check_number

__all__ = ["scaled_dot_product_attention", "MultiHeadAttention", "TransformerEncoderBlock", "TransformerDecoderBlock",
           "patchify", "PatchEmbedding", "VisionTransformer"]


def _check_tensor(value, name, ndim_min):
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if value.ndim < ndim_min:
        raise ValueError(f"{name} must have at least {ndim_min} dimensions (..., length, features), "
                         f"got shape {tuple(value.shape)}")
    return value


def scaled_dot_product_attention(query, key, value, mask=None, return_weights=False):
    """Attention: each query takes a weighted mean of the values, weighted by its similarity to the keys.

    ``weights = softmax(query @ key^T / sqrt(d) + mask)`` over the keys, and the output is
    ``weights @ value``. Dividing by ``sqrt(d)`` keeps the dot products of
    ``d``-dimensional vectors with unit-variance entries at unit variance, so
    the softmax does not saturate as ``d`` grows (Vaswani et al. 2017).

    Parameters
    ----------
    query : Tensor, shape (..., L, d)
    key : Tensor, shape (..., S, d)
    value : Tensor, shape (..., S, d_v)
        Leading dimensions (batch, heads) must broadcast.
    mask : Tensor, optional
        Broadcastable to (..., L, S). Boolean: ``True`` where a query may
        attend to a key (``F.scaled_dot_product_attention``'s convention).
        Floating: added to the scores (``-inf`` forbids). A query with no
        allowed key gets zero weights and a zero output, as
        ``F.scaled_dot_product_attention`` gives (``nn.MultiheadAttention``
        gives NaN there).
    return_weights : bool
        Also return the (..., L, S) attention weights.

    Returns
    -------
    Tensor, shape (..., L, d_v), and the weights if asked.
    """
    _check_tensor(query, "query", 2)
    _check_tensor(key, "key", 2)
    _check_tensor(value, "value", 2)
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(f"query and key must have the same feature size, got {query.shape[-1]} and {key.shape[-1]}")
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(f"key and value must have the same length, got {key.shape[-2]} and {value.shape[-2]}")
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])
    if mask is not None:
        if not isinstance(mask, torch.Tensor):
            raise TypeError(f"mask must be a torch.Tensor (boolean or floating), got {type(mask).__name__}")
        if mask.dtype == torch.bool:
            scores = scores.masked_fill(~mask, float("-inf"))
        elif mask.is_floating_point():
            scores = scores + mask
        else:
            raise TypeError(f"mask must be boolean or floating, got {mask.dtype}")
    weights = torch.softmax(scores, dim=-1)
    if mask is not None:  # a fully masked row: softmax of all -inf is NaN; no key, no weight
        weights = weights.masked_fill(torch.isneginf(scores).all(dim=-1, keepdim=True), 0.0)
    out = weights @ value
    return (out, weights) if return_weights else out


def _forbidden_to_additive(mask, name, dtype):
    """A module mask (True = forbidden, or additive floats) as floats to add to the scores."""
    if mask is None:
        return None
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor (boolean or floating), got {type(mask).__name__}")
    if mask.dtype == torch.bool:
        return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(mask, float("-inf"))
    if mask.is_floating_point():
        return mask.to(dtype)
    raise TypeError(f"{name} must be boolean or floating, got {mask.dtype}")


class MultiHeadAttention(nn.Module):
    """Multi-head attention with ``torch.nn.MultiheadAttention``'s parameters (``batch_first=True``).

    The inputs are projected to queries, keys and values by one ``(3 E, E)``
    matrix (``in_proj_weight``); each of the ``heads`` heads attends on its own
    ``E / heads`` slice; the heads' outputs are concatenated and projected by
    ``out_proj``.

    Parameters
    ----------
    embed_dim : int
    num_heads : int
        Must divide ``embed_dim``.
    bias : bool
    """

    def __init__(self, embed_dim, num_heads, bias=True):
        super().__init__()
        self.embed_dim = check_int(embed_dim, "embed_dim", minimum=1)
        self.num_heads = check_int(num_heads, "num_heads", minimum=1)
        if embed_dim % num_heads:
            raise ValueError(f"num_heads must divide embed_dim, got embed_dim={embed_dim}, num_heads={num_heads}")
        self.in_proj_weight = nn.Parameter(torch.empty(3 * embed_dim, embed_dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * embed_dim)) if bias else None
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        nn.init.xavier_uniform_(self.in_proj_weight)  # torch's initialization
        if bias:
            nn.init.zeros_(self.out_proj.bias)

    def _split_heads(self, x):
        batch, length, _ = x.shape
        return x.view(batch, length, self.num_heads, -1).transpose(1, 2)  # (B, heads, L, E / heads)

    def forward(self, query, key=None, value=None, key_padding_mask=None, attn_mask=None, need_weights=False,
                average_attn_weights=True):
        """Attend from ``query`` (B, L, E) to ``key`` / ``value`` (B, S, E); self-attention when they are omitted.

        Parameters
        ----------
        key_padding_mask : Tensor (B, S), optional
            ``True`` (or ``-inf``) for keys to ignore, such as padding.
        attn_mask : Tensor (L, S) or (B * heads, L, S), optional
            ``True`` (or ``-inf``) where a query may not attend to a key.
        need_weights : bool
            Also return the attention weights: (B, L, S) averaged over heads,
            or (B, heads, L, S) with ``average_attn_weights=False``.

        Returns
        -------
        (Tensor (B, L, E), weights or None), as ``nn.MultiheadAttention``.
        """
        _check_tensor(query, "query", 3)
        key = query if key is None else _check_tensor(key, "key", 3)
        value = key if value is None else _check_tensor(value, "value", 3)
        for name, tensor in (("query", query), ("key", key), ("value", value)):
            if tensor.ndim != 3 or tensor.shape[-1] != self.embed_dim:
                raise ValueError(f"{name} must have shape (B, length, {self.embed_dim}), got {tuple(tensor.shape)}")
        if key.shape[:2] != value.shape[:2] or key.shape[0] != query.shape[0]:
            raise ValueError(f"query, key and value must share the batch size, and key and value their length; "
                             f"got {tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}")
        w_q, w_k, w_v = self.in_proj_weight.chunk(3)
        b_q, b_k, b_v = self.in_proj_bias.chunk(3) if self.in_proj_bias is not None else (None,) * 3
        q = self._split_heads(F.linear(query, w_q, b_q))
        k = self._split_heads(F.linear(key, w_k, b_k))
        v = self._split_heads(F.linear(value, w_v, b_v))
        batch, length, source = query.shape[0], query.shape[1], key.shape[1]

        if attn_mask is not None and tuple(attn_mask.shape) not in ((length, source),
                                                                   (batch * self.num_heads, length, source)):
            raise ValueError(f"attn_mask must have shape ({length}, {source}) or "
                             f"({batch * self.num_heads}, {length}, {source}), got {tuple(attn_mask.shape)}")
        if key_padding_mask is not None and tuple(key_padding_mask.shape) != (batch, source):
            raise ValueError(f"key_padding_mask must have shape (B, S) = ({batch}, {source}), "
                             f"got {tuple(key_padding_mask.shape)}")
        mask = _forbidden_to_additive(attn_mask, "attn_mask", q.dtype)
        if mask is not None and mask.ndim == 3:  # torch's (B * heads, L, S) layout
            mask = mask.view(batch, self.num_heads, length, source)
        padding = _forbidden_to_additive(key_padding_mask, "key_padding_mask", q.dtype)
        if padding is not None:
            padding = padding.view(batch, 1, 1, source)
            mask = padding if mask is None else mask + padding

        out, weights = scaled_dot_product_attention(q, k, v, mask, return_weights=True)
        out = self.out_proj(out.transpose(1, 2).reshape(batch, length, self.embed_dim))
        if not need_weights:
            return out, None
        return out, weights.mean(dim=1) if average_attn_weights else weights


def _build_sublayers(block, dim, heads, mlp_dim, dropout, activation, norm_first, layer_norm_eps, cross_attention):
    """The sub-layers of an encoder or decoder block, named and created in the order torch's layers use.

    The creation order fixes which random numbers each weight draws, so it is
    kept: self-attention, (cross-attention), the MLP's two linears, the norms.
    """
    check_int(mlp_dim, "mlp_dim", minimum=1)
    check_number(dropout, "dropout", minimum=0, maximum=1)
    block.activation = check_choice(activation, "activation", ("gelu", "relu"))
    block.norm_first = bool(norm_first)
    block.self_attn = MultiHeadAttention(dim, heads)
    if cross_attention:
        block.multihead_attn = MultiHeadAttention(dim, heads)
    block.linear1 = nn.Linear(dim, mlp_dim)
    block.linear2 = nn.Linear(mlp_dim, dim)
    for k in range(1, 4 if cross_attention else 3):
        setattr(block, f"norm{k}", nn.LayerNorm(dim, eps=layer_norm_eps))
    block.dropout = nn.Dropout(dropout)


def _mlp(block, x):
    """The position-wise MLP of a block: linear, activation, dropout, linear, dropout."""
    act = F.gelu if block.activation == "gelu" else F.relu
    return block.dropout(block.linear2(block.dropout(act(block.linear1(x)))))


class TransformerEncoderBlock(nn.Module):
    """Self-attention and an MLP, each added back to its input and layer-normalized.

    The layout (and parameter names) of ``torch.nn.TransformerEncoderLayer``
    with ``batch_first=True``:

    * ``norm_first=True`` (pre-norm, ViT): ``x + attn(norm1(x))``, then ``x + mlp(norm2(x))``;
    * ``norm_first=False`` (post-norm, Vaswani et al.): ``norm1(x + attn(x))``, then ``norm2(x + mlp(x))``.

    Pre-norm keeps an unnormalized path from input to output (the residual
    stream), which trains deep stacks without a learning-rate warm-up.

    Parameters
    ----------
    dim, heads, mlp_dim : int
    dropout : float
        After the attention, inside and after the MLP (0 for the course's small runs).
    activation : {"gelu", "relu"}
    norm_first : bool
    layer_norm_eps : float
    """

    def __init__(self, dim, heads, mlp_dim, dropout=0.0, activation="gelu", norm_first=True, layer_norm_eps=1e-5):
        super().__init__()
        _build_sublayers(self, dim, heads, mlp_dim, dropout, activation, norm_first, layer_norm_eps,
                         cross_attention=False)

    def _attend(self, x, mask, key_padding_mask, need_weights):
        out, weights = self.self_attn(x, attn_mask=mask, key_padding_mask=key_padding_mask,
                                      need_weights=need_weights, average_attn_weights=False)
        return self.dropout(out), weights

    _mlp = _mlp

    def forward(self, x, mask=None, key_padding_mask=None, return_attention=False):
        """``x`` (B, L, dim) to (B, L, dim); with ``return_attention``, also the (B, heads, L, L) weights."""
        if self.norm_first:
            attended, weights = self._attend(self.norm1(x), mask, key_padding_mask, return_attention)
            x = x + attended
            x = x + self._mlp(self.norm2(x))
        else:
            attended, weights = self._attend(x, mask, key_padding_mask, return_attention)
            x = self.norm1(x + attended)
            x = self.norm2(x + self._mlp(x))
        return (x, weights) if return_attention else x


class TransformerDecoderBlock(nn.Module):
    """Self-attention among the queries, cross-attention to a memory, and an MLP; each residual and normalized.

    The layout (and parameter names) of ``torch.nn.TransformerDecoderLayer``
    with ``batch_first=True``. With ``norm_first=True`` (pre-norm):

    * ``x = x + self_attn(norm1(x))``: the queries look at each other (this
      is how DETR's queries learn not to answer the same object twice);
    * ``x = x + multihead_attn(norm2(x), memory)``: each query gathers from
      the memory, the image tokens (cross-attention: queries from ``x``, keys
      and values from ``memory``);
    * ``x = x + mlp(norm3(x))``;

    with ``norm_first=False`` (post-norm) each line is ``x = norm(x + sub-layer(x))``.

    DETR (Carion et al. 2020) adds position terms to the *queries and keys*
    of every attention, never to the values: ``query_pos`` to the queries'
    side, ``memory_pos`` to the memory's keys. Without them the block equals
    ``nn.TransformerDecoderLayer`` (tested).

    Parameters
    ----------
    dim, heads, mlp_dim : int
    dropout : float
    activation : {"relu", "gelu"}
    norm_first : bool
    layer_norm_eps : float
    """

    def __init__(self, dim, heads, mlp_dim, dropout=0.0, activation="relu", norm_first=True, layer_norm_eps=1e-5):
        super().__init__()
        _build_sublayers(self, dim, heads, mlp_dim, dropout, activation, norm_first, layer_norm_eps,
                         cross_attention=True)

    @staticmethod
    def _plus(x, pos, name):
        if pos is None:
            return x
        if not isinstance(pos, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(pos).__name__}")
        try:
            return x + pos
        except RuntimeError as error:
            raise ValueError(f"{name} must broadcast to shape {tuple(x.shape)}, got {tuple(pos.shape)}") from error

    def _self(self, x, query_pos, mask, padding):
        q = self._plus(x, query_pos, "query_pos")
        return self.dropout(self.self_attn(q, q, x, key_padding_mask=padding, attn_mask=mask)[0])

    def _cross(self, x, memory, query_pos, memory_pos, mask, padding, need_weights):
        out, weights = self.multihead_attn(self._plus(x, query_pos, "query_pos"),
                                           self._plus(memory, memory_pos, "memory_pos"), memory,
                                           key_padding_mask=padding, attn_mask=mask, need_weights=need_weights,
                                           average_attn_weights=False)
        return self.dropout(out), weights

    _mlp = _mlp

    def forward(self, x, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, query_pos=None, memory_pos=None, return_attention=False):
        """Queries ``x`` (B, L, dim) and memory (B, S, dim) to (B, L, dim).

        Masks as ``nn.TransformerDecoderLayer`` (``True`` = forbidden);
        ``query_pos`` (broadcast to x) and ``memory_pos`` (to memory) are
        added to queries and keys only. With ``return_attention``, also the
        cross-attention weights (B, heads, L, S).
        """
        _check_tensor(x, "x", 3)
        _check_tensor(memory, "memory", 3)
        if self.norm_first:
            x = x + self._self(self.norm1(x), query_pos, tgt_mask, tgt_key_padding_mask)
            attended, weights = self._cross(self.norm2(x), memory, query_pos, memory_pos, memory_mask,
                                            memory_key_padding_mask, return_attention)
            x = x + attended
            x = x + self._mlp(self.norm3(x))
        else:
            x = self.norm1(x + self._self(x, query_pos, tgt_mask, tgt_key_padding_mask))
            attended, weights = self._cross(x, memory, query_pos, memory_pos, memory_mask, memory_key_padding_mask,
                                            return_attention)
            x = self.norm2(x + attended)
            x = self.norm3(x + self._mlp(x))
        return (x, weights) if return_attention else x


def patchify(images, patch_size):
    """Cut (B, C, H, W) images into non-overlapping patches, each flattened: (B, N, C * p * p).

    Patches are numbered row by row; each is flattened channel first, then
    rows, then columns, the order of a ``Conv2d`` weight ``(dim, C, p, p)``
    flattened, so that ``patchify(x, p) @ w.flatten(1).T`` equals
    ``conv2d(x, w, stride=p)`` read row by row.
    """
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"images must be a torch.Tensor, got {type(images).__name__}")
    if images.ndim != 4:
        raise ValueError(f"images must have shape (B, C, H, W), got {tuple(images.shape)}")
    p = check_int(patch_size, "patch_size", minimum=1)
    batch, channels, height, width = images.shape
    if height % p or width % p:
        raise ValueError(f"patch_size must divide the image size, got {p} for {height} x {width}")
    patches = images.reshape(batch, channels, height // p, p, width // p, p)
    return patches.permute(0, 2, 4, 1, 3, 5).reshape(batch, (height // p) * (width // p), channels * p * p)


class PatchEmbedding(nn.Module):
    """Each ``p x p`` patch of the image projected to a ``dim``-vector: a convolution with kernel and stride ``p``.

    ``forward`` returns (B, N, dim) tokens, patches row by row.
    :meth:`as_linear` computes the same thing the other way, patches cut out
    by :func:`patchify` and multiplied by the flattened kernel.
    """

    def __init__(self, patch_size, in_channels, dim):
        super().__init__()
        self.patch_size = check_int(patch_size, "patch_size", minimum=1)
        check_int(in_channels, "in_channels", minimum=1)
        check_int(dim, "dim", minimum=1)
        self.proj = nn.Conv2d(in_channels, dim, patch_size, stride=patch_size)

    def forward(self, images):
        return self.proj(images).flatten(2).transpose(1, 2)

    def as_linear(self, images):
        """The same tokens as ``forward``, as a linear layer on flattened patches."""
        return F.linear(patchify(images, self.patch_size), self.proj.weight.flatten(1), self.proj.bias)


class VisionTransformer(nn.Module):
    """A small ViT: patches, a class token, position embeddings, pre-norm blocks, a linear head.

    Parameters
    ----------
    image_size : int
        Side of the square input images.
    patch_size : int
        Side of a patch; must divide ``image_size``.
    in_channels, num_classes : int
    dim, depth, heads, mlp_dim : int
        Token width, number of blocks, heads per block, hidden width of the MLPs.
    dropout : float
    """

    def __init__(self, image_size=28, patch_size=7, in_channels=1, num_classes=10, dim=64, depth=4, heads=4,
                 mlp_dim=128, dropout=0.0):
        super().__init__()
        check_int(image_size, "image_size", minimum=1)
        check_int(patch_size, "patch_size", minimum=1)
        check_int(depth, "depth", minimum=1)
        check_int(num_classes, "num_classes", minimum=1)
        if image_size % patch_size:
            raise ValueError(f"patch_size must divide image_size, got {patch_size} and {image_size}")
        self.image_size, self.num_patches = image_size, (image_size // patch_size) ** 2
        self.patch_embed = PatchEmbedding(patch_size, in_channels, dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embedding = nn.Parameter(torch.zeros(1, self.num_patches + 1, dim))
        nn.init.trunc_normal_(self.pos_embedding, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        self.blocks = nn.ModuleList(TransformerEncoderBlock(dim, heads, mlp_dim, dropout, "gelu", norm_first=True)
                                    for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def tokens(self, images):
        """The (B, 1 + N, dim) input of the first block: class token, then patches, plus positions."""
        if not isinstance(images, torch.Tensor):
            raise TypeError(f"images must be a torch.Tensor, got {type(images).__name__}")
        if images.ndim != 4 or images.shape[-2:] != (self.image_size,) * 2:
            raise ValueError(f"images must be a (B, C, {self.image_size}, {self.image_size}) tensor, "
                             f"got {tuple(images.shape)}")
        patches = self.patch_embed(images)
        cls = self.cls_token.expand(len(images), -1, -1)
        return torch.cat([cls, patches], dim=1) + self.pos_embedding

    def forward(self, images, return_attention=False):
        """Class scores (B, num_classes); with ``return_attention``, also each block's (B, heads, 1+N, 1+N) weights."""
        x, maps = self.tokens(images), []
        for block in self.blocks:
            if return_attention:
                x, weights = block(x, return_attention=True)
                maps.append(weights)
            else:
                x = block(x)
        logits = self.head(self.norm(x[:, 0]))
        return (logits, maps) if return_attention else logits
