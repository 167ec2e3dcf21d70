"""Attention, multi-head attention, encoder blocks and patch embeddings equal torch's, on many random shapes."""

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from course_utils.models import transformers as tr

TOL = dict(rtol=0, atol=1e-12)


def _sdpa_cases():
    g = torch.Generator().manual_seed(0)
    for trial in range(25):
        lead = [(), (3,), (2, 4)][trial % 3]
        length, source = int(torch.randint(1, 9, (1,), generator=g)), int(torch.randint(1, 9, (1,), generator=g))
        d, dv = int(torch.randint(1, 17, (1,), generator=g)), int(torch.randint(1, 17, (1,), generator=g))
        yield trial, lead, length, source, d, dv


@pytest.mark.parametrize("trial, lead, length, source, d, dv", list(_sdpa_cases()))
def test_attention_equals_torch(trial, lead, length, source, d, dv):
    g = torch.Generator().manual_seed(100 + trial)
    q = torch.randn(*lead, length, d, generator=g, dtype=torch.float64)
    k = torch.randn(*lead, source, d, generator=g, dtype=torch.float64)
    v = torch.randn(*lead, source, dv, generator=g, dtype=torch.float64)
    torch.testing.assert_close(tr.scaled_dot_product_attention(q, k, v), F.scaled_dot_product_attention(q, k, v), **TOL)
    # a boolean mask (True = may attend) with at least one allowed key per query
    allowed = torch.rand(length, source, generator=g) < 0.6
    allowed[:, 0] = True
    torch.testing.assert_close(tr.scaled_dot_product_attention(q, k, v, allowed),
                               F.scaled_dot_product_attention(q, k, v, attn_mask=allowed), **TOL)
    additive = torch.randn(length, source, generator=g, dtype=torch.float64)
    out, weights = tr.scaled_dot_product_attention(q, k, v, additive, return_weights=True)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=additive), **TOL)
    torch.testing.assert_close(weights.sum(-1), torch.ones(weights.shape[:-1], dtype=torch.float64), **TOL)


def test_fully_masked_query_gets_zeros_like_torch():
    g = torch.Generator().manual_seed(2)
    q, k, v = (torch.randn(2, 4, 5, generator=g, dtype=torch.float64) for _ in range(3))
    allowed = torch.rand(4, 4, generator=g) < 0.5
    allowed[:, 0] = True
    allowed[2] = False  # query 2 may look nowhere
    ours, weights = tr.scaled_dot_product_attention(q, k, v, allowed, return_weights=True)
    torch.testing.assert_close(ours, F.scaled_dot_product_attention(q, k, v, attn_mask=allowed), **TOL)
    assert torch.all(ours[:, 2] == 0) and torch.all(weights[:, 2] == 0)
    additive = torch.zeros(4, 4, dtype=torch.float64).masked_fill(~allowed, float("-inf"))
    torch.testing.assert_close(tr.scaled_dot_product_attention(q, k, v, additive), ours, **TOL)


def test_causal_mask_equals_is_causal():
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(2, 3, 6, 8, generator=g, dtype=torch.float64) for _ in range(3))
    causal = torch.ones(6, 6, dtype=torch.bool).tril()
    torch.testing.assert_close(tr.scaled_dot_product_attention(q, k, v, causal),
                               F.scaled_dot_product_attention(q, k, v, is_causal=True), **TOL)


def _mha_pair(embed_dim, heads, bias, seed):
    torch.manual_seed(seed)
    theirs = nn.MultiheadAttention(embed_dim, heads, bias=bias, batch_first=True).double()
    ours = tr.MultiHeadAttention(embed_dim, heads, bias=bias).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict())
    if bias:  # torch starts the biases at zero: make them matter
        with torch.no_grad():
            for module in (ours, theirs):
                module.in_proj_bias.copy_(torch.linspace(-1, 1, 3 * embed_dim, dtype=torch.float64))
                module.out_proj.bias.copy_(torch.linspace(1, -1, embed_dim, dtype=torch.float64))
    return ours, theirs.eval()


@pytest.mark.parametrize("embed_dim, heads, bias, length, source",
                         [(8, 1, True, 5, 5), (8, 2, True, 4, 7), (12, 3, False, 6, 6), (16, 4, True, 1, 9),
                          (6, 6, True, 3, 2), (32, 8, True, 10, 10)])
def test_multi_head_attention_equals_torch(embed_dim, heads, bias, length, source):
    ours, theirs = _mha_pair(embed_dim, heads, bias, seed=embed_dim + heads)
    g = torch.Generator().manual_seed(7)
    q = torch.randn(3, length, embed_dim, generator=g, dtype=torch.float64)
    kv = torch.randn(3, source, embed_dim, generator=g, dtype=torch.float64)
    padding = torch.rand(3, source, generator=g) < 0.3
    padding[:, 0] = False  # every query keeps a key
    forbidden = torch.rand(length, source, generator=g) < 0.3
    forbidden[:, 0] = False
    for kwargs in ({}, {"key_padding_mask": padding}, {"attn_mask": forbidden},
                   {"key_padding_mask": padding, "attn_mask": forbidden},
                   {"attn_mask": torch.randn(length, source, generator=g, dtype=torch.float64)}):
        out, weights = ours(q, kv, kv, need_weights=True, **kwargs)
        ref, ref_weights = theirs(q, kv, kv, need_weights=True, **kwargs)
        torch.testing.assert_close(out, ref, **TOL)
        torch.testing.assert_close(weights, ref_weights, **TOL)
    per_head, ref_per_head = (m(q, kv, kv, need_weights=True, average_attn_weights=False)[1] for m in (ours, theirs))
    torch.testing.assert_close(per_head, ref_per_head, **TOL)
    # self-attention when key and value are omitted; no weights unless asked
    out, none = ours(q)
    assert none is None
    torch.testing.assert_close(out, theirs(q, q, q, need_weights=False)[0], **TOL)


def test_multi_head_attention_per_head_mask():
    ours, theirs = _mha_pair(8, 2, True, seed=3)
    g = torch.Generator().manual_seed(4)
    x = torch.randn(2, 5, 8, generator=g, dtype=torch.float64)
    mask = torch.rand(2 * 2, 5, 5, generator=g) < 0.3
    mask[..., 0] = False
    torch.testing.assert_close(ours(x, attn_mask=mask)[0], theirs(x, x, x, attn_mask=mask)[0], **TOL)


@pytest.mark.parametrize("norm_first", [True, False])
@pytest.mark.parametrize("activation", ["gelu", "relu"])
def test_encoder_block_equals_torch(norm_first, activation):
    torch.manual_seed(5)
    theirs = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, activation=activation, batch_first=True,
                                        norm_first=norm_first).double().eval()
    ours = tr.TransformerEncoderBlock(16, 4, 32, activation=activation, norm_first=norm_first).double().eval()
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    with torch.no_grad():
        for p in theirs.parameters():  # layer norms away from (1, 0), biases non-zero
            p.add_(0.1 * torch.randn_like(p))
    ours.load_state_dict(theirs.state_dict())
    g = torch.Generator().manual_seed(6)
    x = torch.randn(3, 7, 16, generator=g, dtype=torch.float64)
    padding = torch.zeros(3, 7, dtype=torch.bool)
    padding[1, 5:] = True
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x), **TOL)
        torch.testing.assert_close(ours(x, key_padding_mask=padding), theirs(x, src_key_padding_mask=padding), **TOL)
        out, weights = ours(x, return_attention=True)
    assert weights.shape == (3, 4, 7, 7)
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 4, 7, dtype=torch.float64), **TOL)



@pytest.mark.parametrize("norm_first", [True, False])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("dim, heads, queries, tokens", [(16, 4, 5, 9), (8, 1, 1, 3), (24, 3, 12, 20)])
def test_decoder_block_equals_torch(norm_first, activation, dim, heads, queries, tokens):
    torch.manual_seed(7 + dim)
    theirs = nn.TransformerDecoderLayer(dim, heads, 2 * dim, dropout=0.0, activation=activation, batch_first=True,
                                        norm_first=norm_first).double().eval()
    ours = tr.TransformerDecoderBlock(dim, heads, 2 * dim, activation=activation, norm_first=norm_first).double().eval()
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    with torch.no_grad():
        for p in theirs.parameters():  # layer norms away from (1, 0), biases non-zero
            p.add_(0.1 * torch.randn_like(p))
    ours.load_state_dict(theirs.state_dict())
    g = torch.Generator().manual_seed(8)
    x = torch.randn(3, queries, dim, generator=g, dtype=torch.float64)
    memory = torch.randn(3, tokens, dim, generator=g, dtype=torch.float64)
    padding = torch.zeros(3, tokens, dtype=torch.bool)
    padding[1, tokens // 2:] = True  # the second image has fewer tokens
    causal = torch.ones(queries, queries, dtype=torch.bool).triu(1)
    with torch.no_grad():
        torch.testing.assert_close(ours(x, memory), theirs(x, memory), **TOL)
        torch.testing.assert_close(ours(x, memory, memory_key_padding_mask=padding),
                                   theirs(x, memory, memory_key_padding_mask=padding), **TOL)
        torch.testing.assert_close(ours(x, memory, tgt_mask=causal), theirs(x, memory, tgt_mask=causal), **TOL)
        out, weights = ours(x, memory, return_attention=True)
    assert weights.shape == (3, heads, queries, tokens)
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, heads, queries, dtype=torch.float64), **TOL)


def test_decoder_block_positions_go_to_queries_and_keys_only():
    """DETR's position terms: equal to attention modules called with the positions added to q and k by hand."""
    torch.manual_seed(9)
    block = tr.TransformerDecoderBlock(16, 2, 32, norm_first=True).double().eval()
    g = torch.Generator().manual_seed(10)
    x, query_pos = (torch.randn(2, 4, 16, generator=g, dtype=torch.float64) for _ in range(2))
    memory, memory_pos = (torch.randn(2, 6, 16, generator=g, dtype=torch.float64) for _ in range(2))
    with torch.no_grad():
        h = block.norm1(x)
        y = x + block.self_attn(h + query_pos, h + query_pos, h)[0]
        h = block.norm2(y)
        y = y + block.multihead_attn(h + query_pos, memory + memory_pos, memory)[0]
        y = y + block.linear2(F.relu(block.linear1(block.norm3(y))))
        torch.testing.assert_close(block(x, memory, query_pos=query_pos, memory_pos=memory_pos), y, **TOL)
        assert not torch.allclose(block(x, memory, memory_pos=memory_pos), block(x, memory))
    with pytest.raises(ValueError, match="memory_pos must broadcast"):
        block(x, memory, memory_pos=torch.zeros(2, 5, 16, dtype=torch.float64))
    with pytest.raises(TypeError, match="memory must be a torch.Tensor"):
        block(x, None)


@pytest.mark.parametrize("channels, size, patch, dim", [(1, 28, 7, 16), (3, 32, 8, 24), (2, 12, 4, 5), (1, 6, 1, 3)])
def test_patch_embedding_two_ways(channels, size, patch, dim):
    torch.manual_seed(channels + size)
    embed = tr.PatchEmbedding(patch, channels, dim).double()
    x = torch.randn(2, channels, size, size, dtype=torch.float64)
    tokens = embed(x)
    assert tokens.shape == (2, (size // patch) ** 2, dim)
    torch.testing.assert_close(embed.as_linear(x), tokens, rtol=0, atol=1e-12)
    # patch n is the n-th block of the image, row by row
    patches = tr.patchify(x, patch)
    row, col = divmod(patches.shape[1] - 1, size // patch)
    block = x[:, :, row * patch:(row + 1) * patch, col * patch:(col + 1) * patch]
    torch.testing.assert_close(patches[:, -1], block.flatten(1), rtol=0, atol=0)


def test_vision_transformer_shapes_and_attention():
    torch.manual_seed(0)
    vit = tr.VisionTransformer(image_size=28, patch_size=7, dim=32, depth=2, heads=4, mlp_dim=64).eval()
    x = torch.randn(5, 1, 28, 28)
    logits, maps = vit(x, return_attention=True)
    assert logits.shape == (5, 10) and len(maps) == 2 and maps[0].shape == (5, 4, 17, 17)
    torch.testing.assert_close(vit(x), logits)
    # the class token carries the answer: changing its embedding changes the logits
    with torch.no_grad():
        vit.cls_token.add_(1.0)
    assert not torch.allclose(vit(x), logits)
    # every parameter gets a gradient
    vit(x).sum().backward()
    assert all(p.grad is not None for p in vit.parameters())


def test_bad_input_is_named():
    q = torch.randn(2, 4, 8)
    with pytest.raises(ValueError, match="query and key"):
        tr.scaled_dot_product_attention(q, torch.randn(2, 4, 6), torch.randn(2, 4, 8))
    with pytest.raises(ValueError, match="key and value"):
        tr.scaled_dot_product_attention(q, q, torch.randn(2, 5, 8))
    with pytest.raises(TypeError, match="mask must be"):
        tr.scaled_dot_product_attention(q, q, q, mask=torch.ones(4, 4, dtype=torch.int64))
    with pytest.raises(TypeError, match="query must be"):
        tr.scaled_dot_product_attention([[1.0]], q, q)
    with pytest.raises(ValueError, match="num_heads must divide"):
        tr.MultiHeadAttention(10, 3)
    mha = tr.MultiHeadAttention(8, 2)
    with pytest.raises(ValueError, match=r"query must have shape \(B, length, 8\)"):
        mha(torch.randn(1, 3, 6))
    x = torch.randn(2, 3, 8)
    with pytest.raises(ValueError, match="share the batch size"):
        mha(x, torch.randn(1, 3, 8), torch.randn(1, 3, 8))
    with pytest.raises(ValueError, match="key_padding_mask must have shape"):
        mha(x, key_padding_mask=torch.zeros(3, 2, dtype=torch.bool))  # torch's old batch-second layout
    with pytest.raises(ValueError, match="attn_mask must have shape"):
        mha(x, attn_mask=torch.zeros(2, 3, 3, dtype=torch.bool))
    with pytest.raises(TypeError, match="images must be a torch.Tensor"):
        tr.patchify([[1.0]], 1)
    with pytest.raises(ValueError, match="activation must be"):
        tr.TransformerEncoderBlock(8, 2, 16, activation="tanh")
    with pytest.raises(ValueError, match="patch_size must divide"):
        tr.patchify(torch.randn(1, 1, 10, 10), 3)
    with pytest.raises(ValueError, match="patch_size must divide image_size"):
        tr.VisionTransformer(image_size=28, patch_size=5)
    with pytest.raises(ValueError, match="images must be a"):
        tr.VisionTransformer()(torch.randn(1, 1, 32, 32))
    with pytest.raises(TypeError, match="images must be a torch.Tensor"):
        tr.VisionTransformer()(None)
