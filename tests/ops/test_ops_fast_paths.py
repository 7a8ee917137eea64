"""The Gram-matrix inner products, the fused self-attention and the 1x1 convolutions written as
products against the definitions they replaced, forward and gradients, in float64 on random
inputs."""
from __future__ import annotations

import math

import pytest
import torch

from nasc.runtime.constructs import CellMerge
from nasc.runtime.ops import FieldConv1d, FMAligned, InnerProduct, SelfAttention
from nasc.runtime.shapes import Shape
from kit.opskit import rand


# ---- the old definitions, written out

def old_inner_products(x: torch.Tensor) -> torch.Tensor:
    """x[:, rows] * x[:, cols] summed over k, pairs i < j row-major: (B, m, k) -> (B, P)."""
    rows, cols = torch.triu_indices(x.shape[1], x.shape[1], offset=1)
    return (x[:, rows] * x[:, cols]).sum(-1)


def old_fm(op: FMAligned, x: torch.Tensor) -> torch.Tensor:
    p = x.new_zeros(x.shape[0], 1) if op.num_pairs == 0 else old_inner_products(x)
    return torch.relu(op.align(p).view(x.shape))


def old_attention(op: SelfAttention, x: torch.Tensor) -> torch.Tensor:
    b, m, k = x.shape

    def split(t):
        return t.view(b, m, op.heads, op.head_dim).transpose(1, 2)

    q, key, v = split(op.query(x)), split(op.key(x)), split(op.value(x))
    scores = q @ key.transpose(-1, -2) / math.sqrt(op.head_dim)
    out = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(x.shape)
    return torch.relu(out + op.residual(x))


# ---- forward and gradients, new against old

def outputs_and_grads(module: torch.nn.Module, forward, x: torch.Tensor):
    """forward(x) and the gradients of a random projection of it w.r.t. x and the parameters."""
    x = x.clone().requires_grad_()
    out = forward(x)
    weights = rand(*out.shape, seed=99)  # a generic cotangent, not all-ones
    grads = torch.autograd.grad((out * weights).sum(), [x, *module.parameters()],
                                allow_unused=True, materialize_grads=True)  # m = 1: x unused
    return out.detach(), grads


def assert_same(module, new, old, x):
    out_new, grads_new = outputs_and_grads(module, new, x)
    out_old, grads_old = outputs_and_grads(module, old, x)
    torch.testing.assert_close(out_new, out_old, rtol=1e-12, atol=1e-12)
    for g_new, g_old in zip(grads_new, grads_old, strict=True):
        torch.testing.assert_close(g_new, g_old, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("m", [1, 2, 3, 10])
@pytest.mark.parametrize("seed", [0, 1])
def test_fm_matches_the_gathered_pair_products(m, seed):
    torch.manual_seed(seed)
    op = FMAligned(m, 4).double()
    assert_same(op, op, lambda x: old_fm(op, x), rand(6, m, 4, seed=seed))


@pytest.mark.parametrize("m", [1, 2, 3, 10])
def test_inner_product_matches_the_gathered_pair_products(m):
    op = InnerProduct(m)
    x = rand(6, m, 4, seed=m)
    assert_same(op, op, old_inner_products, x)
    assert op(x).shape == (6, m * (m - 1) // 2)


@pytest.mark.parametrize("heads", [1, 2])
@pytest.mark.parametrize("m", [1, 2, 5])
def test_self_attention_matches_the_unfused_definition(heads, m):
    torch.manual_seed(m)
    op = SelfAttention(m, 4, heads=heads).double()
    assert_same(op, op, lambda x: old_attention(op, x), 3.0 * rand(7, m, 4, seed=heads))


@pytest.mark.parametrize("wanted", ["both", "x", "weight"])
def test_few_input_linear_is_f_linear(wanted):
    """The attention's projections with their own backward: value and both gradients of
    F.linear, also when only one input wants a gradient."""
    from nasc.runtime.ops.autopi import few_input_linear
    x = rand(6, 5, 4, seed=1).requires_grad_(wanted in ("both", "x"))
    weight = rand(16, 4, seed=2).requires_grad_(wanted in ("both", "weight"))
    inputs = [t for t in (x, weight) if t.requires_grad]
    cotangent = rand(6, 5, 16, seed=3)
    new = few_input_linear(x, weight)
    old = torch.nn.functional.linear(x, weight)
    torch.testing.assert_close(new, old, rtol=1e-12, atol=1e-12)
    for g_new, g_old in zip(torch.autograd.grad(new, inputs, cotangent),
                            torch.autograd.grad(old, inputs, cotangent), strict=True):
        assert g_new.shape == g_old.shape
        torch.testing.assert_close(g_new, g_old, rtol=1e-12, atol=1e-12)


def test_self_attention_keeps_its_four_linear_parameters():
    """Same names, shapes and seeded initial values as before: checkpoints and seeds stay valid."""
    torch.manual_seed(5)
    op = SelfAttention(3, 4, heads=2)
    torch.manual_seed(5)
    expected = [torch.nn.Linear(4, 4, bias=False).weight for _ in range(4)]
    names = ["query.weight", "key.weight", "value.weight", "residual.weight"]
    assert list(op.state_dict()) == names
    for name, weight in zip(names, expected):
        torch.testing.assert_close(op.state_dict()[name], weight.detach())


def test_cpu_attention_matches_its_definition_on_extreme_scores():
    """attend() on a CPU against softmax(q k^T / sqrt(d)) v with torch.softmax, on scores far
    from zero in both directions (exp would overflow without the shift) and a tied row:
    the value and the gradients of q, k and v."""
    from nasc.runtime.ops.autopi import attend
    q = torch.tensor([[[[100.0, 0.0], [-60.0, 0.0], [0.0, 0.0]]]], dtype=torch.float64)
    k = torch.tensor([[[[100.0, 1.0], [99.9, -1.0], [-100.0, 0.0]]]], dtype=torch.float64)
    v = rand(1, 1, 3, 2, seed=5)
    weights = rand(1, 1, 3, 2, seed=6)

    def definition(q, k, v):
        return torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), -1) @ v
    results = []
    for fn in (attend, definition):
        leaves = [t.clone().requires_grad_() for t in (q, k, v)]
        out = fn(*leaves)
        results.append((out.detach(), torch.autograd.grad((out * weights).sum(), leaves)))
    (out_new, grads_new), (out_old, grads_old) = results
    assert torch.isfinite(out_new).all()
    torch.testing.assert_close(out_new, out_old, rtol=1e-12, atol=1e-12)
    for g_new, g_old in zip(grads_new, grads_old, strict=True):
        torch.testing.assert_close(g_new, g_old, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("heads", [1, 2])
def test_cpu_attention_matches_sdpa_the_accelerator_path(heads):
    """attend() on a CPU (two matmuls around a written-out softmax) against SDPA, which it runs on
    an accelerator: forward and the gradients of q, k and v."""
    from nasc.runtime.ops.autopi import attend
    q, k, v = (3.0 * rand(5, heads, 6, 4, seed=s) for s in (10, 11, 12))
    weights = rand(5, heads, 6, 4, seed=13)

    def run(fn):
        leaves = [t.clone().requires_grad_() for t in (q, k, v)]
        out = fn(*leaves)
        grads = torch.autograd.grad((out * weights).sum(), leaves)
        return out.detach(), grads

    out_cpu, grads_cpu = run(attend)
    out_sdpa, grads_sdpa = run(torch.nn.functional.scaled_dot_product_attention)
    torch.testing.assert_close(out_cpu, out_sdpa, rtol=1e-12, atol=1e-12)
    for g_cpu, g_sdpa in zip(grads_cpu, grads_sdpa, strict=True):
        torch.testing.assert_close(g_cpu, g_sdpa, rtol=1e-12, atol=1e-12)


# ---- scoring with batch statistics: the field batch-norm's own statistics

@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("affine", [False, True])
def test_field_batch_norm_scoring_path_matches_batchnorm1d(momentum, affine):
    """Without a graph in train mode (scoring with batch statistics, precise-BN refreshes) the
    field batch-norm finds its statistics itself: the output, running averages and batch count
    of nn.BatchNorm1d's, for two batches in a row (the second folds into the first's averages)."""
    from nasc.runtime.ops import FieldBatchNorm
    op = FieldBatchNorm(3, affine=affine).double()
    ref = torch.nn.BatchNorm1d(3, affine=affine, momentum=momentum).double()
    op.norm.momentum = momentum
    if affine:
        with torch.no_grad():
            for m in (op.norm, ref):
                m.weight.copy_(torch.tensor([0.5, -1.0, 2.0]))
                m.bias.copy_(torch.tensor([0.1, 0.2, -0.3]))
    op.train(), ref.train()
    for seed in (5, 6):
        x = 4.0 * rand(9, 3, 7, seed=seed) + torch.tensor([1.0, -2.0, 30.0])[:, None]
        with torch.no_grad():
            torch.testing.assert_close(op(x), ref(x), rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(op.norm.running_mean, ref.running_mean, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(op.norm.running_var, ref.running_var, rtol=1e-12, atol=1e-12)
        assert int(op.norm.num_batches_tracked) == int(ref.num_batches_tracked)


def test_field_batch_norm_keeps_batchnorm1d_rules_outside_scoring():
    from nasc.runtime.ops import FieldBatchNorm
    op = FieldBatchNorm(3, affine=False).double().train()
    with torch.no_grad(), pytest.raises(ValueError, match="more than 1 value per channel"):
        op(rand(1, 3, 1))  # one value per field: BatchNorm1d's own error, not a zero variance
    x = rand(5, 3, 4, seed=8)
    ref = torch.nn.BatchNorm1d(3, affine=False).double().train()
    assert torch.equal(op(x), ref(x))  # with a graph: BatchNorm1d's forward itself


# ---- the 1x1 convolutions written as products (a CPU convolution's weight gradient is slow)

def test_field_conv1d_is_the_convolution():
    op = FieldConv1d(5, 3).double()
    x = rand(16, 5, 3)
    assert_same(op, op, lambda t: torch.relu(op.conv(t)), x)


def test_cell_merge_conv1x1_is_the_convolution():
    merge = CellMerge("conv1x1", 3, Shape("matrix", 5, 4)).double()
    nodes = [rand(16, 5, 4, seed=s) for s in range(3)]

    def new(x):
        return merge(*x.unbind(1))

    def old(x):
        return merge.conv(x).squeeze(1)

    assert_same(merge, new, old, torch.stack(nodes, 1))
