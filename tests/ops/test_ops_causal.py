"""The causal forms of AMEIR's behaviour layers (AMEIR-A trained sequence-to-sequence, issue 18):
windows that end at t are hand-computed in test_ops_sequence.py beside the SAME ones; here the
forward GRU against nn.GRU on the real positions, causal attention against a hand-written softmax,
and for every layer the compiler calls causal (nasc.compiler.seq2seq_fit) the property that makes
seq2seq training honest: changing later positions never changes an earlier output."""
from __future__ import annotations

import pytest
import torch

from nasc.compiler.operators import OPERATORS
from nasc.compiler.program import OpUse
from nasc.compiler.seq2seq_fit import sees_later_positions
from nasc.runtime.ops import GRU, OPS, CausalSelfAttention
from kit.opskit import mixed_mask, rand

MASK = torch.tensor([[False, False, True, True, True, True],    # left padded
                     [True, True, True, False, False, False],   # right padded
                     [True, False, True, True, False, True]])   # holes


def test_gru_is_nn_gru_run_forward_over_the_real_positions():
    torch.manual_seed(0)
    op = GRU(4).double()
    x, mask = rand(3, 6, 4), MASK
    out = op(x, mask)
    assert op.gru.hidden_size == 4 and not op.gru.bidirectional
    for b in range(3):
        expected, _ = op.gru(x[b, mask[b]].unsqueeze(0))
        torch.testing.assert_close(out[b, mask[b]], expected[0], rtol=1e-10, atol=1e-12)
        assert (out[b, ~mask[b]] == 0).all()


def test_causal_attention_is_softmax_attention_over_earlier_real_positions():
    torch.manual_seed(0)
    op = CausalSelfAttention(4, heads=1).double().eval()
    mha = op.attention
    x, mask = rand(3, 6, 4), MASK
    wq, wk, wv = mha.in_proj_weight.detach().chunk(3)
    bq, bk, bv = mha.in_proj_bias.detach().chunk(3)
    out = op(x, mask)
    for b in range(3):
        h = x[b].masked_fill(~mask[b].unsqueeze(-1), 0.0)
        q, k, v = h @ wq.T + bq, h @ wk.T + bk, h @ wv.T + bv
        for t in range(6):
            if not mask[b, t]:
                assert (out[b, t] == 0).all()
                continue
            keys = [s for s in range(t + 1) if mask[b, s]]
            weights = torch.softmax(torch.stack([q[t] @ k[s] / 2.0 for s in keys]), 0)
            expected = mha.out_proj(sum(w * v[s] for w, s in zip(weights, keys)))
            torch.testing.assert_close(out[b, t], expected, rtol=1e-10, atol=1e-12)


def use(name: str, **params) -> OpUse:
    return OpUse(name, tuple(params.items()))


def _causal_uses() -> list[OpUse]:
    """Every sequence layer in a form the compiler calls causal (or not), with its params."""
    uses = [use("conv", kernel=3, causal=True), use("conv", kernel=1),
            use("dilated_conv", kernel=3, dilation=2, causal=True),
            use("avg_pool", kernel=3, causal=True), use("max_pool", kernel=3, causal=True),
            use("gru"), use("causal_attention", heads=2), use("transformer", heads=2)]
    assert all(not sees_later_positions(use) for use in uses)
    return uses


@pytest.mark.parametrize("layer", _causal_uses(), ids=lambda u: u.text())
def test_layers_called_causal_never_read_a_later_position(layer):
    torch.manual_seed(0)
    op = OPS[layer.name](4, **dict(layer.params)).double().eval()
    mask = mixed_mask(5, 6)
    x = rand(5, 6, 4)
    base = op(x, mask)
    for t in range(5):
        changed = x.clone()
        changed[:, t + 1:] += 10.0 * rand(5, 5 - t, 4, seed=t + 1)
        torch.testing.assert_close(op(changed, mask)[:, :t + 1], base[:, :t + 1],
                                   rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["conv", "dilated_conv", "avg_pool", "max_pool"])
def test_same_windows_do_read_later_positions_so_the_compiler_refuses_them(name):
    """The property test above can fail: the SAME forms it does not list break it."""
    assert sees_later_positions(use(name, kernel=3))
    torch.manual_seed(0)
    op = OPS[name](4, kernel=3).double().eval()
    mask = torch.ones(2, 6, dtype=torch.bool)
    x = rand(2, 6, 4)
    changed = x.clone()
    changed[:, 2:] += 10.0
    assert not torch.allclose(op(changed, mask)[:, :2], op(x, mask)[:, :2])


def test_the_causal_layers_are_declared():
    for name in ("conv", "dilated_conv", "avg_pool", "max_pool"):
        assert "causal" in {p.name for p in OPERATORS[name].params}
    assert {"gru", "causal_attention"} <= set(OPERATORS)
