"""Behavior-block layers against hand-computed windows, and against running each row's real
positions alone (padding must change nothing)."""
from __future__ import annotations

import itertools
import math

import pytest
import torch

from nasc.runtime.ops import (BiGRU, BiSelfAttention, DilatedSeqConv, NoNorm,
                              PositionFeedForward, SeqAvgPool, SeqConv, SeqLayerNorm, SeqMaxPool,
                              TargetAttentionLayer, TransformerBlock, Zero)
from kit.opskit import mixed_mask, rand

MASK = torch.tensor([[False, False, True, True, True, True],    # left padded
                     [True, True, True, False, False, False],   # right padded
                     [True, False, True, True, False, True]])   # holes


def same_window(t: int, kernel: int, dilation: int = 1, causal: bool = False) -> list[int]:
    """Positions read by a stride-1 window at t: SAME (TensorFlow's split: extra step on the
    right), or causal (the window ends at t)."""
    left = dilation * (kernel - 1) if causal else dilation * (kernel - 1) // 2
    return [t - left + j * dilation for j in range(kernel)]


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("kernel,dilation", [(1, 1), (3, 1), (4, 1), (3, 2), (5, 3)])
def test_conv_matches_a_hand_written_convolution(kernel, dilation, causal):
    x, mask = rand(3, 6, 2), MASK
    op = DilatedSeqConv(2, kernel, dilation, causal=causal).double()
    if dilation == 1:
        assert isinstance(SeqConv(2, kernel, causal=causal), DilatedSeqConv)
    w, bias = op.conv.weight.detach(), op.conv.bias.detach()  # (out, in, kernel)

    def want(b, t, o):
        s = bias[o].item()
        for j, pos in enumerate(same_window(t, kernel, dilation, causal)):
            if 0 <= pos < 6 and mask[b, pos]:  # outside or padding reads 0
                s += sum(w[o, i, j].item() * x[b, pos, i].item() for i in range(2))
        return s

    assert_each_output(op(x, mask), mask, want)


def assert_each_output(out, mask, want) -> None:
    """out[b, t, o] is want(b, t, o) at every real position and 0 at every padded one."""
    for b, t, o in itertools.product(*map(range, out.shape)):
        expected = want(b, t, o) if mask[b, t] else 0.0
        assert out[b, t, o].item() == pytest.approx(expected, abs=1e-12), (b, t, o)


@pytest.mark.parametrize("causal", [False, True])
def test_pools_match_hand_computed_windows(causal):
    """SAME windows (t-1, t, t+1); causal ones end at t (t-2, t-1, t)."""
    x, mask = rand(3, 6, 2), MASK
    avg = SeqAvgPool(2, kernel=3, causal=causal)(x, mask)
    mx = SeqMaxPool(2, kernel=3, causal=causal)(x, mask)
    for b in range(3):
        for t in range(6):
            window = (t - 2, t - 1, t) if causal else (t - 1, t, t + 1)
            real = [p for p in window if 0 <= p < 6 and mask[b, p]]
            for c in range(2):
                if not mask[b, t]:
                    assert avg[b, t, c].item() == 0.0 and mx[b, t, c].item() == 0.0
                    continue
                values = [x[b, p, c].item() for p in real]
                assert avg[b, t, c].item() == pytest.approx(sum(values) / len(values), abs=1e-12)
                assert mx[b, t, c].item() == max(values)


def test_max_pool_ignores_large_padding_values():
    x = -torch.ones(1, 3, 1, dtype=torch.float64)
    x[0, 2, 0] = 100.0
    out = SeqMaxPool(1, kernel=3)(x, torch.tensor([[True, True, False]]))
    assert out[0, :, 0].tolist() == [-1.0, -1.0, 0.0]


def _each_row_alone(op, x, mask):
    """Run op on each row's real positions only (no padding at all): (B, T, d) with 0 elsewhere."""
    out = torch.zeros_like(x)
    for b in range(x.shape[0]):
        keep = mask[b]
        if keep.any():
            out[b, keep] = op(x[b, keep].unsqueeze(0), torch.ones(1, int(keep.sum()), dtype=torch.bool))[0]
    return out


@pytest.mark.parametrize("build", [lambda: BiGRU(4), lambda: BiGRU(3), lambda: BiSelfAttention(4, 2),
                                   lambda: TransformerBlock(4, heads=2, causal=True),
                                   lambda: TransformerBlock(4, heads=1, causal=False),
                                   lambda: TransformerBlock(4, heads=2, style="bert")],
                         ids=["bigru", "bigru_odd", "bi_attention", "transformer", "transformer_bidir",
                              "transformer_bert"])
def test_padded_batch_equals_each_row_run_alone(build):
    torch.manual_seed(0)
    op = build().double().eval()
    mask = mixed_mask(5, 6)
    x = rand(5, 6, op_dim(op))
    torch.testing.assert_close(op(x, mask), _each_row_alone(op, x, mask), rtol=1e-10, atol=1e-12)


def op_dim(op):
    return op.gru.input_size if isinstance(op, BiGRU) else op.attention.embed_dim


def test_bigru_reads_real_positions_in_both_directions():
    """Against nn.GRU run forward on the real positions and forward on them reversed."""
    torch.manual_seed(0)
    op = BiGRU(4).double()
    gru = op.gru
    x, mask = rand(3, 6, 4), MASK
    out = op(x, mask)
    for b in range(3):
        seq = x[b, mask[b]]  # (L, 4)
        fwd = torch.nn.GRU(4, 2, batch_first=True).double()
        bwd = torch.nn.GRU(4, 2, batch_first=True).double()
        with torch.no_grad():
            for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
                getattr(fwd, name).copy_(getattr(gru, name))
                getattr(bwd, name).copy_(getattr(gru, name + "_reverse"))
        f, _ = fwd(seq.unsqueeze(0))
        r, _ = bwd(seq.flip(0).unsqueeze(0))
        expected = torch.cat([f[0], r[0].flip(0)], dim=-1)
        torch.testing.assert_close(out[b, mask[b]], expected, rtol=1e-10, atol=1e-12)


def test_transformer_causal_attention_does_not_see_the_future():
    torch.manual_seed(0)
    op = TransformerBlock(4, heads=2, causal=True).double().eval()
    x, mask = rand(1, 5, 4), torch.ones(1, 5, dtype=torch.bool)
    changed = x.clone()
    changed[0, 3:] += 10.0
    torch.testing.assert_close(op(changed, mask)[0, :3], op(x, mask)[0, :3])
    assert not torch.allclose(op(changed, mask)[0, 3], op(x, mask)[0, 3])


def test_transformer_follows_sasrec_block_equations():
    torch.manual_seed(0)
    op = TransformerBlock(4, heads=1, causal=True).double().eval()
    x, mask = rand(1, 3, 4), torch.ones(1, 3, dtype=torch.bool)
    mha = op.attention
    wq, wk, wv = mha.in_proj_weight.detach().chunk(3)
    bq, bk, bv = mha.in_proj_bias.detach().chunk(3)
    q = op.attention_norm(x[0])
    scores = (q @ wq.T + bq) @ (x[0] @ wk.T + bk).T / 2.0  # sqrt(d_h) = 2
    scores = scores.masked_fill(torch.ones(3, 3, dtype=torch.bool).triu(1), float("-inf"))
    attended = torch.softmax(scores, -1) @ (x[0] @ wv.T + bv)
    h = q + mha.out_proj(attended)
    n = op.forward_norm(h)
    ffn = op.feed_forward.net
    expected = n + ffn[3](torch.relu(ffn[0](n)))
    torch.testing.assert_close(op(x, mask)[0], expected, rtol=1e-10, atol=1e-12)


def test_bert_style_transformer_follows_s3recs_post_norm_layer():
    """S3-Rec's SASRec layer (modules.py): h = LN(x + Dropout(Dense(Attn(x)))), then
    LN(h + Dropout(W2 gelu(W1 h))), W1 of width 4d; every weight matrix N(0, 0.02), biases 0."""
    torch.manual_seed(0)
    op = TransformerBlock(8, heads=2, causal=True, style="bert").double().eval()
    mha = op.attention
    for name, p in op.named_parameters():
        if "norm" not in name and p.dim() == 1:
            assert torch.count_nonzero(p) == 0, name
    assert 0.015 < float(mha.in_proj_weight.detach().std()) < 0.025
    with torch.no_grad():  # non-zero biases, so the test sees where each one enters
        for name, p in op.named_parameters():
            if p.dim() == 1:
                p.add_(torch.randn_like(p) * 0.1)
    x, mask = rand(1, 3, 8), torch.ones(1, 3, dtype=torch.bool)
    wq, wk, wv = mha.in_proj_weight.detach().chunk(3)
    bq, bk, bv = mha.in_proj_bias.detach().chunk(3)
    q, k, v = x[0] @ wq.T + bq, x[0] @ wk.T + bk, x[0] @ wv.T + bv
    future = torch.ones(3, 3, dtype=torch.bool).triu(1)
    heads = []
    for h in range(2):  # head size 4: scores / sqrt(4)
        cols = slice(4 * h, 4 * h + 4)
        scores = (q[:, cols] @ k[:, cols].T / 2.0).masked_fill(future, float("-inf"))
        heads.append(torch.softmax(scores, -1) @ v[:, cols])
    attended = mha.out_proj(torch.cat(heads, -1))
    h = torch.nn.functional.layer_norm(x[0] + attended, (8,), op.attention_norm.weight,
                                       op.attention_norm.bias, eps=1e-12)
    w1, w2 = op.feed_forward.net[0], op.feed_forward.net[2]
    assert w1.out_features == 32
    gelu = w1(h) * 0.5 * (1.0 + torch.erf(w1(h) / 2 ** 0.5))  # S3-Rec's exact gelu
    norm = op.feed_forward.norm
    expected = torch.nn.functional.layer_norm(h + w2(gelu), (8,), norm.weight, norm.bias,
                                              eps=1e-12)
    torch.testing.assert_close(op(x, mask)[0], expected, rtol=1e-10, atol=1e-12)


def test_target_attention_scales_each_position_by_the_local_activation_unit():
    torch.manual_seed(0)
    op = TargetAttentionLayer(2, hidden=3).double().eval()  # eval: Dice with running stats (0, 1)
    x, mask, target = rand(3, 6, 2), MASK, rand(3, 2, seed=1)
    w1, b1 = op.unit.hidden.weight.detach(), op.unit.hidden.bias.detach()
    w2, b2 = op.unit.score.weight.detach(), op.unit.score.bias.detach()
    eps = op.unit.act.eps
    out = op(x, mask, target)
    for b in range(3):
        for t in range(6):
            if not mask[b, t]:
                assert (out[b, t] == 0).all()
                continue
            h, q = x[b, t].tolist(), target[b].tolist()
            features = h + q + [h[0] - q[0], h[1] - q[1]] + [h[0] * q[0], h[1] * q[1]]
            a = b2[0].item()
            for u in range(3):
                z = sum(w1[u, f].item() * features[f] for f in range(8)) + b1[u].item()
                p = 1 / (1 + math.exp(-z / math.sqrt(1 + eps)))
                a += w2[0, u].item() * (p * z + (1 - p) * 0.0 * z)  # alpha starts at 0
            for c in range(2):
                assert out[b, t, c].item() == pytest.approx(h[c] * a, abs=1e-12)


@pytest.mark.parametrize("expand", [1, 4])
def test_feed_forward_is_sasrecs_two_position_wise_layers_without_the_residual(expand):
    """out[b, t] = W2 relu(W1 x[b, t] + b1) + b2, written out unit by unit; 0 at padding; and
    SASRec's block feed-forward (baselines.PointWiseFeedForward) is x + this."""
    torch.manual_seed(1)
    op = PositionFeedForward(2, expand=expand, dropout=0.5).double().eval()
    first, second = op.net[0], op.net[3]
    assert (first.in_features, first.out_features, second.out_features) == (2, 2 * expand, 2)
    x, mask = rand(3, 6, 2), MASK
    out = op(x, mask)
    w1, b1, w2, b2 = (t.detach() for t in (first.weight, first.bias, second.weight, second.bias))

    def want(b, t, o):
        hidden = [max(0.0, sum(w1[u, i].item() * x[b, t, i].item() for i in range(2))
                      + b1[u].item()) for u in range(2 * expand)]
        return sum(w2[o, u].item() * hidden[u] for u in range(2 * expand)) + b2[o].item()

    assert_each_output(out, mask, want)
    if expand == 1:
        from nasc.runtime.ops import PointWiseFeedForward

        sasrec = PointWiseFeedForward(2).double().eval()
        sasrec.net[0].load_state_dict(first.state_dict())
        sasrec.net[3].load_state_dict(second.state_dict())
        torch.testing.assert_close(sasrec(x)[mask], x[mask] + out[mask])


def test_norms_and_zero():
    x, mask = rand(3, 6, 4), MASK
    ln = SeqLayerNorm(4).double()(x, mask)
    expected = torch.nn.functional.layer_norm(x, (4,))
    torch.testing.assert_close(ln[mask], expected[mask])
    assert (ln[~mask] == 0).all()
    none = NoNorm()(x, mask)
    assert torch.equal(none[mask], x[mask]) and (none[~mask] == 0).all()
    assert torch.equal(NoNorm()(x), x)
    assert torch.equal(Zero()(x, mask), torch.zeros_like(x))
    assert torch.equal(Zero()(torch.full((2, 3), float("inf"))), torch.zeros(2, 3))


def test_bi_attention_requires_divisible_heads():
    with pytest.raises(ValueError, match="divisible"):
        BiSelfAttention(5, heads=2)


def test_attention_masks_leave_every_query_a_visible_key():
    """Old torch versions return NaN for a softmax over only masked keys: the guards prevent it."""
    from nasc.runtime.ops.sequence import guard_empty_rows

    mask = mixed_mask(5, 6)
    guarded = guard_empty_rows(~mask)
    assert not guarded.all(1).any()
    assert torch.equal(guarded[mask.any(1)], (~mask)[mask.any(1)])  # rows with real keys unchanged
    for causal in (True, False):
        blocked = TransformerBlock(4, heads=2, causal=causal)._blocked(mask)  # (B heads, T, T)
        assert blocked.shape == (10, 6, 6)
        assert not blocked.all(-1).any()
        real = mask.repeat_interleave(2, 0)
        # real queries see exactly the real keys at or before them (or all of them, bidirectional)
        for r in range(10):
            for t in range(6):
                if real[r, t]:
                    visible = [s for s in range(6) if real[r, s] and (s <= t or not causal)]
                    assert (~blocked[r, t]).nonzero().flatten().tolist() == visible


def test_sasrec_input_layer_scales_adds_positions_then_drops_out():
    """SASRec's reference code: seqs = item_emb(s) * sqrt(d); seqs += pos_emb; emb_dropout.
    The table a next-item head scores with (``fields``) stays unscaled."""
    from nasc.runtime.builders import SequenceEmbedding

    torch.manual_seed(0)
    layer = SequenceEmbedding([7], dim=4, init_std=0.5, max_len=3, scale=True, dropout=0.5)
    ids = torch.tensor([[[2], [0], [5]]])  # (B, T, n_a)
    table, positions = layer.fields.table.weight.detach(), layer.positions.weight.detach()
    expected = table[ids[0, :, 0] + layer.fields.offsets[0]] * 2.0 + positions  # sqrt(4) = 2
    layer.eval()
    torch.testing.assert_close(layer(ids)[0], expected)
    layer.train()
    dropped = layer(ids)[0]
    kept = dropped != 0
    assert 0 < kept.sum() < kept.numel()  # seeded: some of the 12 values dropped, not all
    torch.testing.assert_close(dropped[kept], (expected * 2.0)[kept])  # 1 / (1 - 0.5)
    plain = SequenceEmbedding([7], dim=4, init_std=0.5, max_len=3)
    plain.load_state_dict(layer.state_dict())
    assert torch.equal(plain(ids)[0], table[ids[0, :, 0]] + positions)


def test_bert_input_layer_normalises_the_sum_before_its_dropout():
    """S3-Rec's Embeddings: LayerNorm(item + position), then dropout; no sqrt(d) scale."""
    from nasc.runtime.builders import SequenceEmbedding

    torch.manual_seed(0)
    layer = SequenceEmbedding([7], dim=4, init_std=0.5, max_len=3, norm=True, dropout=0.5)
    with torch.no_grad():
        layer.norm.weight.uniform_(0.5, 1.5)
        layer.norm.bias.uniform_(-0.5, 0.5)
    ids = torch.tensor([[[2], [0], [5]]])
    table, positions = layer.fields.table.weight.detach(), layer.positions.weight.detach()
    total = table[ids[0, :, 0] + layer.fields.offsets[0]] + positions
    centred = total - total.mean(-1, keepdim=True)
    normed = centred / (centred.pow(2).mean(-1, keepdim=True) + 1e-12).sqrt()
    expected = normed * layer.norm.weight + layer.norm.bias
    layer.eval()
    torch.testing.assert_close(layer(ids)[0], expected.detach())
    layer.train()
    dropped = layer(ids)[0]
    kept = dropped != 0
    assert 0 < kept.sum() < kept.numel()
    torch.testing.assert_close(dropped[kept], (expected.detach() * 2.0)[kept])


@pytest.mark.parametrize("param", ["positions=true", "scale=true", "norm=true", "dropout=0.1"])
def test_sequence_only_embedding_settings_are_refused_on_fields(tmp_path, param):
    from nasc.compiler.frontend import load
    from nasc.errors import SpecError

    spec = tmp_path / "m.nas"
    spec.write_text("model m {\n  input fields: categorical\n"
                    f"  emb = embed(fields, dim=4, {param})\n  head ctr(flatten(emb))\n}}\n")
    with pytest.raises(SpecError) as err:
        load(str(spec))
    assert f"{spec}:3:9: error: `{param}` applies to a sequence input only" in str(err.value)
