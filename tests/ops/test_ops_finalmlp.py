"""FinalMLP's feature gating and bilinear fusion against Mao et al. (AAAI 2023) §3.2-3.3, by hand."""
from __future__ import annotations

import pytest
import torch

from nasc.runtime.ops.finalmlp import BilinearFusion, FeatureGating

F64 = torch.float64


def test_fusion_one_head_by_hand():
    """x = [1, 2], y = [3], W = [[0.5], [-1]], w_x = [1, 1], w_y = [2], biases 0.1 and 0.2:
    w_x.x + w_y.y + b = 3 + 6 + 0.3 = 9.3; x^T W y = (0.5 - 2) * 3 = -4.5; logit 4.8."""
    fusion = BilinearFusion(2, 1, heads=1).double()
    with torch.no_grad():
        fusion.weight.copy_(torch.tensor([[0.5], [-1.0]]))
        fusion.linear_x.weight.copy_(torch.tensor([[1.0, 1.0]]))
        fusion.linear_x.bias.fill_(0.1)
        fusion.linear_y.weight.copy_(torch.tensor([[2.0]]))
        fusion.linear_y.bias.fill_(0.2)
    out = fusion(torch.tensor([[1.0, 2.0]], dtype=F64), torch.tensor([[3.0]], dtype=F64))
    torch.testing.assert_close(out, torch.tensor([4.8], dtype=F64))


def test_fusion_heads_are_block_diagonal_bilinear_forms():
    """With h heads, the bilinear term is x^T blockdiag(W_1..W_h) y over the chunks."""
    torch.manual_seed(0)
    fusion = BilinearFusion(6, 4, heads=2).double()
    x, y = torch.randn(3, 6, dtype=F64), torch.randn(3, 4, dtype=F64)
    w = fusion.weight.view(2, 3, 2)
    full = torch.block_diag(w[0], w[1])  # (6, 4)
    expected = (fusion.linear_x(x) + fusion.linear_y(y)).squeeze(-1) + ((x @ full) * y).sum(-1)
    torch.testing.assert_close(fusion(x, y), expected)


def test_fusion_refuses_widths_the_heads_do_not_divide():
    with pytest.raises(ValueError, match="divisible by heads=3"):
        BilinearFusion(400, 100, heads=3)


def test_fusion_initialises_as_the_authors_code():
    """FuxiCTR: W of (h d1/h d2/h) x 1 is xavier-normal, std sqrt(2 / (1 + h d1/h d2/h))."""
    torch.manual_seed(1)
    fusion = BilinearFusion(400, 100, heads=5)
    expected = (2 / (1 + 5 * 80 * 20)) ** 0.5
    assert abs(fusion.weight.std().item() - expected) < 0.05 * expected
    assert fusion.linear_x.bias.abs().sum() == 0


def test_gate_without_context_is_twice_a_sigmoid_of_a_learned_vector():
    """No context: g = 2 sigmoid(MLP(b)) with b a learned vector; the gate is the same for every
    sample and at b = 0 with zero weights it is 2 sigmoid(0) = 1: the features pass unchanged."""
    gating = FeatureGating(3, 2, vocab=(4, 4, 4), hidden=(5,)).double()
    with torch.no_grad():
        for p in gating.gate.parameters():
            p.zero_()
    x = torch.randn(2, 3, 2, dtype=F64)
    ids = torch.zeros(2, 3, dtype=torch.long)
    torch.testing.assert_close(gating(x, ids), x.flatten(1))


def test_gate_reads_the_context_fields_embedding():
    """Context field 1: its own embedding e(ids[:, 1]) feeds the gate MLP, and g = 2 sigmoid(.)."""
    torch.manual_seed(2)
    gating = FeatureGating(3, 2, vocab=(4, 5, 6), context=(1,), hidden=(4,)).double()
    x = torch.randn(2, 3, 2, dtype=F64)
    ids = torch.tensor([[1, 2, 3], [3, 4, 5]])
    table = gating.context_embedding.table.weight
    context = table[gating.context_embedding.offsets[0] + ids[:, 1]]  # (B, k)
    first, _, last, _ = gating.gate
    gate = 2 * torch.sigmoid(last(torch.relu(first(context))))
    torch.testing.assert_close(gating(x, ids), x.flatten(1) * gate)
    # the gate does not read other fields: changing field 0 and 2 leaves it alone
    other = ids.clone()
    other[:, [0, 2]] = 0
    torch.testing.assert_close(gating(x, other), gating(x, ids))


def test_gate_refuses_a_context_field_that_does_not_exist():
    with pytest.raises(ValueError, match="context field 3 does not exist"):
        FeatureGating(3, 2, vocab=(4, 5, 6), context=(3,))
