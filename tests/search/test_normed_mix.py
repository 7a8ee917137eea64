"""The fused normalise-and-mix of a relaxed cell (nasc.runtime.normed_mix): the same function as
the modules it replaces -- outputs, gradients and batch norm's running averages -- in float64,
and the plain modules wherever the fused path would not be the same function."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from nasc.runtime import choices, normed_mix as nm
from nasc.runtime.strategies.darts import Darts

from kit.opskit import rand
from kit.searchkit import BN_CELL, make_ctx


def norms(n: int, channels: int, momentum=0.1) -> list[nn.BatchNorm1d]:
    return [nn.BatchNorm1d(channels, affine=False, momentum=momentum).double() for _ in range(n)]


def plain(coeffs, xs, bns):
    return sum(c * bn(x) for c, bn, x in zip(coeffs, bns, xs))


DEVICES = ["cpu", pytest.param("cuda", marks=[
    pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")])]  # CPU: its own statistics;
# elsewhere ATen's batch-norm kernel


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shape", [(64, 5, 3), (64, 7)])  # (B, m, k) field matrices, (B, C)
@pytest.mark.parametrize("momentum", [0.1, None])  # None: BatchNorm's cumulative average
def test_fused_mix_is_the_sum_of_batch_norms(shape, momentum, device):
    xs = [(rand(*shape, seed=s) * (s + 1) + s).to(device).requires_grad_() for s in range(4)]
    logits = torch.tensor([0.3, -1.2, 0.8, 0.1], dtype=torch.float64, device=device,
                          requires_grad=True)
    cotangent = rand(*shape, seed=9).to(device)
    fused_bns = [bn.to(device) for bn in norms(4, shape[1], momentum)]
    plain_bns = [bn.to(device) for bn in norms(4, shape[1], momentum)]
    for step in range(2):  # the running averages over two batches
        coeffs = torch.softmax(logits, 0)
        out_f = nm.normed_mix(zip(coeffs, xs), fused_bns)
        grads_f = torch.autograd.grad((out_f * cotangent).sum(), [logits, *xs])
        coeffs = torch.softmax(logits, 0)
        out_p = plain(coeffs, xs, plain_bns)
        grads_p = torch.autograd.grad((out_p * cotangent).sum(), [logits, *xs])
        torch.testing.assert_close(out_f, out_p, rtol=1e-12, atol=1e-12)
        for g_f, g_p in zip(grads_f, grads_p, strict=True):
            torch.testing.assert_close(g_f, g_p, rtol=1e-10, atol=1e-12)
    for f, p in zip(fused_bns, plain_bns):
        torch.testing.assert_close(f.running_mean, p.running_mean, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(f.running_var, p.running_var, rtol=1e-10, atol=1e-12)
        assert int(f.num_batches_tracked) == int(p.num_batches_tracked) == 2


def test_fused_mix_in_bfloat16_takes_the_kernel_path():
    """Reduced-precision floats are normalised by ATen's kernel (as on an accelerator), which
    also updates the running averages: the modules' numbers at bfloat16's precision."""
    xs = [(rand(64, 5, 3, seed=s) * (s + 1) + s).bfloat16().requires_grad_() for s in range(3)]
    coeffs = torch.softmax(torch.tensor([0.3, -1.2, 0.8]), 0).bfloat16()
    fused_bns = [bn.float().bfloat16() for bn in norms(3, 5)]
    plain_bns = [bn.float().bfloat16() for bn in norms(3, 5)]
    out_f = nm.normed_mix(zip(coeffs, xs), fused_bns)
    out_p = plain(coeffs, xs, plain_bns)
    torch.testing.assert_close(out_f, out_p, rtol=2e-2, atol=2e-2)
    cotangent = rand(64, 5, 3, seed=9).float()
    g_f = torch.autograd.grad((out_f.float() * cotangent).sum(), xs)
    g_p = torch.autograd.grad((out_p.float() * cotangent).sum(), xs)
    for a, b in zip(g_f, g_p, strict=True):
        torch.testing.assert_close(a, b, rtol=2e-2, atol=2e-2)
    for f, p in zip(fused_bns, plain_bns):
        torch.testing.assert_close(f.running_mean, p.running_mean, rtol=1e-2, atol=1e-2)
        assert int(f.num_batches_tracked) == int(p.num_batches_tracked) == 1


def test_fused_mix_of_one_row_gives_batch_norms_own_error():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nm.normed_mix([(torch.tensor(1.0), rand(1, 4).requires_grad_())], norms(1, 4))


class Op(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 3)

    def forward(self, x):
        return self.linear(x)


class Edge(nn.Module):  # an edge's operator + norm, as constructs.EdgeOp is
    def __init__(self, norm):
        super().__init__()
        self.op, self.norm = Op(), norm


@pytest.mark.parametrize("case,fused", [("plain", True), ("affine", False), ("eval", False),
                                        ("no grad", False), ("not batch norm", False),
                                        ("hooked", False)])
def test_only_soft_mixes_of_plain_training_batch_norms_are_fused(case, fused):
    from nasc.runtime.ops import FieldBatchNorm

    norm = FieldBatchNorm(4, affine=case == "affine")
    if case == "not batch norm":
        norm = nn.Identity()
    edges = [Edge(norm), Edge(FieldBatchNorm(4, affine=False))]
    if case == "eval":
        for e in edges:
            e.eval()
    if case == "hooked":  # as nasc.runtime.split_norms watches batch norms run
        edges[1].norm.norm.register_forward_pre_hook(lambda module, args: None)
    with torch.set_grad_enabled(case != "no grad"):
        found = nm.plain_batch_norms(edges)
    assert (found is not None) == fused
    if fused:
        assert found == [e.norm.norm for e in edges]


def autopi_like(tmp_path, tiny_data):
    """A DARTS supernet of a relaxed batch-norm cell with the noisy skip, in float64."""
    ctx = make_ctx(tmp_path, BN_CELL + "search darts {\n  epochs 1\n  noisy_skip 0.5\n}\n",
                   tiny_data)
    search = Darts(ctx)
    batch = next(iter(ctx.dataset.train.batches(256, False)))
    return search, batch


def step_outputs(search, batch, seed: int):
    """Logits and the gradients of every parameter after one forward from ``seed``'s draws."""
    net = search.net.double().train()
    net.set_skip_noise(0.5, torch.Generator().manual_seed(seed))
    logits = net(batch)
    params = [p for p in net.parameters() if p.requires_grad]
    grads = torch.autograd.grad((logits * torch.linspace(-1, 1, len(logits),
                                                         dtype=logits.dtype)).sum(), params,
                                allow_unused=True, materialize_grads=True)
    return logits.detach(), grads, {k: v.clone() for k, v in net.state_dict().items()}


def test_relaxed_supernet_is_the_same_function_fused(tmp_path, tiny_data, monkeypatch):
    """The whole supernet, noisy skip on: fused against the plain modules (the fused path
    switched off), logits, every gradient (alpha, beta, weights) and the running averages."""
    calls = []
    real = nm.normed_mix
    monkeypatch.setattr(choices, "normed_mix", lambda *a: calls.append(1) or real(*a))
    search, batch = autopi_like(tmp_path / "a", tiny_data)
    state = {k: v.clone() for k, v in search.net.state_dict().items()}
    fused = step_outputs(search, batch, seed=3)
    assert calls, "the relaxed cell did not take the fused path"
    monkeypatch.setattr(choices, "plain_batch_norms", lambda candidates: None)
    search.net.load_state_dict(state)
    unfused = step_outputs(search, batch, seed=3)
    torch.testing.assert_close(fused[0], unfused[0], rtol=1e-10, atol=1e-10)
    for g_f, g_p in zip(fused[1], unfused[1], strict=True):
        torch.testing.assert_close(g_f, g_p, rtol=1e-8, atol=1e-10)
    for name in fused[2]:
        torch.testing.assert_close(fused[2][name], unfused[2][name], rtol=1e-10, atol=1e-12,
                                   msg=name)


def test_a_hard_sample_is_not_fused(tmp_path, tiny_data, monkeypatch):
    """A GDAS-style one-hot weighting computes only the picked operator: nothing to fuse."""
    monkeypatch.setattr(choices, "normed_mix", lambda *a: pytest.fail("fused a hard sample"))
    search, batch = autopi_like(tmp_path, tiny_data)

    def hard(logits, tau):
        return torch.nn.functional.one_hot(logits.argmax(-1), logits.shape[-1]).to(logits)
    hard.one_hot = True
    search.net.set_weighting(hard)
    search.net.train()
    search.net(batch).sum().backward()
