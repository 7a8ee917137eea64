"""AutoPI's operators checked against the paper's formulas, written out with Python loops."""
from __future__ import annotations

import math

import pytest
import torch

from nasc.runtime.ops import (FieldBatchNorm, FieldConv1d, FMAligned, SelfAttention, SENetLayer,
                              SingleLayerPerceptron, Skip)
from kit.opskit import rand

relu = lambda v: max(v, 0.0)  # noqa: E731


def small_matrix():
    """A 2 x 3 x 2 field matrix (B=2, m=3, k=2) of distinct, non-round values."""
    return torch.tensor([[[0.5, -1.0], [2.0, 0.25], [-1.5, 3.0]],
                         [[1.0, 2.0], [-0.5, 0.75], [0.3, -2.0]]], dtype=torch.float64)


# ---- skip-connection and its noise (§4.4.2)

def test_skip_is_identity_without_noise_and_in_eval():
    x = rand(4, 3, 2)
    skip = Skip(3, 2)
    assert skip(x) is x
    skip.noise = 0.5
    skip.eval()
    assert torch.equal(skip(x), x)


def test_skip_noise_std_is_lambda_times_std_of_x():
    x = 3.0 * rand(400, 10, 10) + 1.0  # large X: the empirical std is close to its expectation
    skip = Skip(10, 10).train()
    skip.noise = 0.2
    noise = skip(x) - x
    assert abs(noise.mean().item()) < 0.02
    assert noise.std().item() == pytest.approx(0.2 * x.std().item(), rel=0.02)


def test_skip_noise_is_reproducible_with_a_seeded_generator():
    x = rand(8, 3, 4)
    skip = Skip(3, 4).train()
    skip.noise = 0.1
    skip.generator = torch.Generator().manual_seed(7)
    first = skip(x)
    skip.generator = torch.Generator().manual_seed(7)
    assert torch.equal(skip(x), first)
    assert not torch.equal(skip(x), first)  # the generator advanced: new noise


# ---- SENET layer

def test_senet_matches_hand_computed_field_weights():
    x = small_matrix()
    op = SENetLayer(3, 2, reduction=2).double()  # squeezed width max(1, 3 // 2) = 1
    w1, b1 = [[0.4, -0.2, 0.7]], [0.1]
    w2, b2 = [[1.5], [-0.5], [0.3]], [0.2, 0.4, -0.1]
    f64 = lambda v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    with torch.no_grad():
        op.excite[0].weight.copy_(f64(w1)), op.excite[0].bias.copy_(f64(b1))
        op.excite[2].weight.copy_(f64(w2)), op.excite[2].bias.copy_(f64(b2))
    out = op(x)
    for b in range(2):
        z = [sum(x[b, i, c].item() for c in range(2)) / 2 for i in range(3)]  # mean over k
        s = relu(sum(w1[0][i] * z[i] for i in range(3)) + b1[0])
        a = [relu(w2[i][0] * s + b2[i]) for i in range(3)]
        for i in range(3):
            for c in range(2):
                assert out[b, i, c].item() == pytest.approx(relu(a[i] * x[b, i, c].item()), abs=1e-12)


# ---- self-attention (AutoInt's interacting layer)

@pytest.mark.parametrize("heads", [1, 2])
def test_self_attention_matches_loops(heads):
    x = rand(2, 3, 4)
    op = SelfAttention(3, 4, heads=heads).double()
    wq, wk, wv, wr = (l.weight.detach() for l in (op.query, op.key, op.value, op.residual))
    dh = 4 // heads
    out = op(x)
    for b in range(2):
        q, k, v, r = (x[b] @ w.T for w in (wq, wk, wv, wr))  # (m, k) each
        for i in range(3):
            row = []
            for h in range(heads):
                cols = slice(h * dh, (h + 1) * dh)
                scores = [float(q[i, cols] @ k[j, cols]) / math.sqrt(dh) for j in range(3)]
                weights = [math.exp(s) / sum(math.exp(t) for t in scores) for s in scores]
                row.append(sum(weights[j] * v[j, cols] for j in range(3)))
            expected = torch.relu(torch.cat(row) + r[i])
            torch.testing.assert_close(out[b, i], expected, rtol=1e-10, atol=1e-12)


def test_self_attention_requires_divisible_heads():
    with pytest.raises(ValueError, match="divisible"):
        SelfAttention(3, 5, heads=2)


# ---- FM

def test_fm_inner_products_and_alignment_match_loops():
    x = small_matrix()
    op = FMAligned(3, 2).double()
    p = op.inner_products(x)
    for b in range(2):
        expected = [sum(x[b, i, c].item() * x[b, j, c].item() for c in range(2))
                    for i in range(3) for j in range(i + 1, 3)]  # pairs (0,1), (0,2), (1,2)
        assert p[b].tolist() == pytest.approx(expected, abs=1e-12)
    out = op(x)
    w, bias = op.align.weight.detach(), op.align.bias.detach()  # (m k, P)
    for b in range(2):
        for i in range(3):
            for c in range(2):
                lin = sum(w[i * 2 + c, q].item() * p[b, q].item() for q in range(3)) + bias[i * 2 + c].item()
                assert out[b, i, c].item() == pytest.approx(relu(lin), abs=1e-12)


def test_fm_with_one_field_is_a_learned_constant():
    op = FMAligned(1, 3).double()
    out = op(rand(4, 1, 3))
    assert out.shape == (4, 1, 3)
    torch.testing.assert_close(out, torch.relu(op.align.bias.detach()).view(1, 1, 3).expand(4, 1, 3))


# ---- single-layer perceptron and 1d convolution

def test_slp_is_a_full_linear_map_of_the_flattened_matrix():
    x = small_matrix()
    op = SingleLayerPerceptron(3, 2).double()
    w, bias = op.linear.weight.detach(), op.linear.bias.detach()
    out = op(x)
    for b in range(2):
        flat = [x[b, i, c].item() for i in range(3) for c in range(2)]
        for o in range(6):
            lin = sum(w[o, q].item() * flat[q] for q in range(6)) + bias[o].item()
            assert out[b, o // 2, o % 2].item() == pytest.approx(relu(lin), abs=1e-12)


def test_conv1d_mixes_fields_with_an_explicit_sum():
    x = small_matrix()
    op = FieldConv1d(3, 2).double()
    c = op.conv.weight.detach()[:, :, 0]  # (m, m): C_ij
    bias = op.conv.bias.detach()
    out = op(x)
    for b in range(2):
        for i in range(3):
            for e in range(2):
                s = sum(c[i, j].item() * x[b, j, e].item() for j in range(3)) + bias[i].item()
                assert out[b, i, e].item() == pytest.approx(relu(s), abs=1e-12)


# ---- batch norm per field (§4.3.3)

def test_field_batchnorm_without_affine_standardises_each_field_over_batch_and_k():
    x = small_matrix()
    op = FieldBatchNorm(3, affine=False).double().train()
    assert list(op.parameters()) == []
    out = op(x)
    for i in range(3):
        values = [x[b, i, c].item() for b in range(2) for c in range(2)]
        mean = sum(values) / 4
        var = sum((v - mean) ** 2 for v in values) / 4  # biased, as BN normalises with
        for b in range(2):
            for c in range(2):
                expected = (x[b, i, c].item() - mean) / math.sqrt(var + 1e-5)
                assert out[b, i, c].item() == pytest.approx(expected, abs=1e-10)


def test_field_batchnorm_affine_has_scale_and_shift_per_field():
    op = FieldBatchNorm(3, affine=True)
    assert op.norm.weight.shape == (3,) and op.norm.bias.shape == (3,)
