"""Baseline building blocks against their papers' formulas, written out with loops."""
from __future__ import annotations

import math

import pytest
import torch

from nasc.runtime.ops import (CIN, MLP, BiInteraction, BilinearInteraction, Concat, CrossNet,
                              DenseLogit, Dice, FieldEmbedding, FMLogit, InnerProduct, LinearLogit,
                              LogTransformLayer, OuterProduct)
from kit.opskit import rand


def small_matrix():
    """A 2 x 3 x 2 field matrix (B=2, m=3, k=2)."""
    return torch.tensor([[[0.5, -1.0], [2.0, 0.25], [-1.5, 3.0]],
                         [[1.0, 2.0], [-0.5, 0.75], [0.3, -2.0]]], dtype=torch.float64)


PAIRS = [(0, 1), (0, 2), (1, 2)]


def test_fm_logit_is_the_sum_of_pairwise_inner_products():
    x = small_matrix()
    out = FMLogit()(x)
    for b in range(2):
        expected = sum(x[b, i, c].item() * x[b, j, c].item()
                       for i in range(3) for j in range(i + 1, 3) for c in range(2))
        assert out[b].item() == pytest.approx(expected, abs=1e-12)


def test_bi_interaction_is_the_sum_of_pairwise_hadamard_products():
    x = small_matrix()
    out = BiInteraction()(x)
    for b in range(2):
        for c in range(2):
            expected = sum(x[b, i, c].item() * x[b, j, c].item() for i in range(3) for j in range(i + 1, 3))
            assert out[b, c].item() == pytest.approx(expected, abs=1e-12)


def test_inner_and_outer_products_match_loops():
    x = small_matrix()
    inner = InnerProduct(3)(x)
    op = OuterProduct(3, 2).double()
    kernel = op.kernel.detach()  # (k, P, k)
    outer = op(x)
    for b in range(2):
        for p, (i, j) in enumerate(PAIRS):
            assert inner[b, p].item() == pytest.approx(
                sum(x[b, i, c].item() * x[b, j, c].item() for c in range(2)), abs=1e-12)
            expected = sum(x[b, i, a].item() * kernel[a, p, c].item() * x[b, j, c].item()
                           for a in range(2) for c in range(2))
            assert outer[b, p].item() == pytest.approx(expected, abs=1e-12)


def test_crossnet_one_layer_by_hand():
    op = CrossNet(3, layers=1).double()
    w, bias = [0.5, -1.0, 0.25], [0.1, 0.2, -0.3]
    with torch.no_grad():
        op.weight.copy_(torch.tensor([w], dtype=torch.float64))
        op.bias.copy_(torch.tensor([bias], dtype=torch.float64))
    x = torch.tensor([[1.0, 2.0, -1.0], [0.5, -0.5, 3.0]], dtype=torch.float64)
    out = op(x)
    for b in range(2):
        dot = sum(x[b, c].item() * w[c] for c in range(3))
        for c in range(3):
            assert out[b, c].item() == pytest.approx(x[b, c].item() * dot + bias[c] + x[b, c].item(), abs=1e-12)


def test_crossnet_second_layer_uses_x0_and_the_previous_layer():
    op = CrossNet(2, layers=2).double()
    x = rand(3, 2)
    w, b = op.weight.detach(), op.bias.detach()
    x1 = x * (x @ w[0]).unsqueeze(-1) + b[0] + x
    x2 = x * (x1 @ w[1]).unsqueeze(-1) + b[1] + x1
    torch.testing.assert_close(op(x), x2)


def test_cin_first_layer_by_hand_and_output_width():
    x = small_matrix()
    op = CIN(3, 2, layer_sizes=(2,), split_half=True).double()
    w = op.convs[0].weight.detach()[:, :, 0]  # (H_1, H_0 m): index i * m + j
    out = op(x)
    for b in range(2):
        for h in range(2):
            expected = sum(w[h, i * 3 + j].item() * x[b, i, d].item() * x[b, j, d].item()
                           for i in range(3) for j in range(3) for d in range(2))
            assert out[b, h].item() == pytest.approx(expected, abs=1e-12)
    assert CIN(3, 2, layer_sizes=(4, 6, 3), split_half=True).out_dim == 2 + 3 + 3
    assert CIN(3, 2, layer_sizes=(4, 6, 3), split_half=False).out_dim == 13
    with pytest.raises(ValueError, match="even"):
        CIN(3, 2, layer_sizes=(3, 4), split_half=True)


def test_cin_second_layer_reads_the_kept_half():
    x = rand(2, 3, 2)
    op = CIN(3, 2, layer_sizes=(4, 1), split_half=True).double()
    w1, w2 = (c.weight.detach()[:, :, 0] for c in op.convs)
    z1 = torch.einsum("hq,bqd->bhd", w1, torch.einsum("bid,bjd->bijd", x, x).reshape(2, 9, 2))
    kept, direct = z1[:, :2], z1[:, 2:]
    z2 = torch.einsum("hq,bqd->bhd", w2, torch.einsum("bid,bjd->bijd", kept, x).reshape(2, 6, 2))
    torch.testing.assert_close(op(x), torch.cat([direct.sum(-1), z2.sum(-1)], 1))


def test_log_transform_by_hand_in_eval():
    x = small_matrix()
    x[0, 1, 0] = 0.0  # clamped to 1e-5 before the log
    op = LogTransformLayer(3, 2, neurons=2).double().eval()
    with torch.no_grad():  # running stats that make both batch norms do visible work
        op.log_norm.running_mean.copy_(torch.tensor([0.5, -1.0, 0.25]))
        op.log_norm.running_var.copy_(torch.tensor([4.0, 1.0, 0.25]))
        op.exp_norm.running_mean.copy_(torch.tensor([1.0, 2.0]))
        op.exp_norm.running_var.copy_(torch.tensor([9.0, 0.5]))
    w = op.weight.detach()
    out = op(x)
    assert out.shape == (2, 4) and op.out_dim == 4
    log_mean, log_var = [0.5, -1.0, 0.25], [4.0, 1.0, 0.25]
    exp_mean, exp_var = [1.0, 2.0], [9.0, 0.5]
    eps = 1e-5
    for b in range(2):
        for n in range(2):
            for d in range(2):
                logs = [(math.log(max(abs(x[b, i, d].item()), 1e-5)) - log_mean[i])
                        / math.sqrt(log_var[i] + eps) for i in range(3)]
                y = math.exp(sum(w[i, n].item() * logs[i] for i in range(3)))
                expected = (y - exp_mean[n]) / math.sqrt(exp_var[n] + eps)
                assert out[b, n * 2 + d].item() == pytest.approx(expected, rel=1e-10)


def test_log_transform_normalizes_logs_in_training():
    # Tiny embeddings (ln ~ -9) must not reach exp unnormalized: in training mode each field's
    # logs are standardized over the batch, so the outputs stay finite and O(1).
    torch.manual_seed(0)
    op = LogTransformLayer(10, 4, neurons=50).train()
    x = torch.randn(64, 10, 4) * 1e-4
    out = op(x)
    assert torch.isfinite(out).all()
    assert out.abs().max() < 50
    per_neuron = out.reshape(64, 50, 4).transpose(0, 1).reshape(50, -1)
    torch.testing.assert_close(per_neuron.mean(1), torch.zeros(50), atol=1e-4, rtol=0)


@pytest.mark.parametrize("kind", ["field_all", "field_each", "field_interaction"])
def test_bilinear_by_hand(kind):
    x = small_matrix()
    op = BilinearInteraction(3, 2, kind).double()
    weights = op.weight.detach()
    assert weights.shape[0] == {"field_all": 1, "field_each": 3, "field_interaction": 3}[kind]
    out = op(x)
    for b in range(2):
        for p, (i, j) in enumerate(PAIRS):
            w = weights[{"field_all": 0, "field_each": i, "field_interaction": p}[kind]]
            for o in range(2):
                expected = sum(x[b, i, c].item() * w[c, o].item() for c in range(2)) * x[b, j, o].item()
                assert out[b, p, o].item() == pytest.approx(expected, abs=1e-12)


def test_bilinear_rejects_unknown_kinds():
    with pytest.raises(ValueError, match="field_all"):
        BilinearInteraction(3, 2, "field_pair")


def test_mlp_layers_and_out_dim():
    mlp = MLP(6, [5, 3], act="dice", dropout=0.2, batch_norm=True)
    kinds = [type(m).__name__ for m in mlp.layers]
    assert kinds == ["Linear", "BatchNorm1d", "Dice", "Dropout"] * 2
    assert mlp.out_dim == 3
    empty = MLP(6, [])
    assert empty.out_dim == 6 and torch.equal(empty(rand(2, 6)), rand(2, 6))
    assert isinstance(MLP(4, [2], act="dice").layers[1], Dice)


def test_field_embedding_uses_per_field_offsets_and_zero_padding_rows():
    emb = FieldEmbedding([3, 4, 2], dim=2, init_std=0.1).double()
    table = emb.table.weight.detach()
    assert table.shape == (9, 2)
    for row in (0, 3, 7):  # index 0 of each field
        assert (table[row] == 0).all()
    ids = torch.tensor([[1, 2, 1], [0, 3, 0]])
    out = emb(ids)
    for b in range(2):
        for f, offset in enumerate([0, 3, 7]):
            assert torch.equal(out[b, f], table[offset + ids[b, f]])
    seq_ids = ids.unsqueeze(0).expand(4, 2, 3)  # (B, T, m) works too
    assert emb(seq_ids).shape == (4, 2, 3, 2)


def test_linear_logit_sums_one_weight_per_id_plus_bias():
    lr = LinearLogit([3, 4]).double()
    with torch.no_grad():
        lr.weights.table.weight.copy_(torch.arange(7, dtype=torch.float64).view(7, 1))
        lr.bias.fill_(0.5)
    ids = torch.tensor([[2, 1], [0, 3]])
    assert lr(ids).tolist() == [2 + (3 + 1) + 0.5, 0 + (3 + 3) + 0.5]


def test_logit_over_concatenated_logits_weights_them_plus_bias():
    """FuxiCTR's AFN+ head: fc(2 -> 1) over the two branches' logits is w1 l1 + w2 l2 + b."""
    fc = DenseLogit(2).double()
    with torch.no_grad():
        fc.linear.weight.copy_(torch.tensor([[0.5, -2.0]]))
        fc.linear.bias.fill_(0.25)
    l1 = torch.tensor([1.0, -3.0], dtype=torch.float64)
    l2 = torch.tensor([2.0, 0.5], dtype=torch.float64)
    out = fc(Concat()(l1, l2))
    assert out.shape == (2,)
    assert out.tolist() == [0.5 * 1.0 - 2.0 * 2.0 + 0.25, 0.5 * -3.0 - 2.0 * 0.5 + 0.25]


def test_concat_flattens_each_input():
    a, b, c = rand(2, 3, 4), rand(2, 5), rand(2)
    out = Concat()(a, b, c)
    assert out.shape == (2, 12 + 5 + 1)
    assert torch.equal(out[:, :12], a.reshape(2, 12)) and torch.equal(out[:, 17], c)
