"""A relaxed cell's normalise-and-mix in one autograd node: sum_n c_n * BN(x_n).

Every operator on an AutoPI edge is followed by batch norm without scale or shift (§4.3.3), and the
relaxed node weighs the normalised outputs by softmax(alpha) and softmax(beta) (eq. 6). Written
as modules, each of the 144 operator outputs of a DARTS step's forward runs BatchNorm forward and
backward, a multiply and an add, each a pass over a (B, m, k) tensor: about a third of the step
on the CPU. Here each output is normalised as soon as it exists (on the CPU from contiguous
reductions, elsewhere with ATen's kernel) and added into the node's sum in place, and one backward
finds every input's gradient in two passes from the per-channel sums batch norm's gradient needs
anyway (the weight's gradient is one of them). Every per-channel factor is laid out as a
contiguous (C, L) block (``per_channel``): the (C, 1) views broadcast with a zero inner stride,
which the CPU does not vectorise, and cost the step more than the passes themselves. The numbers
are batch norm's (the tests compare with the modules in float64), running averages included.

Used only where it is the same function: a soft mix (no hard sample) of operators that each end
in a FieldBatchNorm without affine parameters, training on batch statistics with a graph, and
nothing hooked on the norms (a hook expects the module to run).
"""
from __future__ import annotations

import torch
from torch import nn

from nasc.runtime.ops.autopi import (FieldBatchNorm, batch_statistics, channel_sums,
                                     next_average_factor, per_channel)


def _normalise(x: torch.Tensor, bn: nn.BatchNorm1d):
    """(y, invstd, (mean, biased variance)) of batch norm on batch statistics, without a graph.
    On the CPU from contiguous reductions and per-channel layouts (ATen's kernel walks each
    channel's strided rows: 1.12 ms a (4096, 10, 10) forward, this 0.35 ms, one thread);
    elsewhere, and for reduced-precision floats (whose sums the kernel accumulates in float32),
    ATen's kernel, which then also updates the running averages (statistics None)."""
    if x.device.type != "cpu" or x.dtype not in (torch.float32, torch.float64):
        y, _, invstd = torch.native_batch_norm(x, None, None, bn.running_mean, bn.running_var,
                                               True, next_average_factor(bn), bn.eps)
        return y, invstd, None
    centred, mean, var = batch_statistics(x)
    invstd = (var + bn.eps).rsqrt()
    return centred.mul_(per_channel(invstd, x)), invstd, (mean, var)


def _update_running(norms: list, stats: list, rows: int) -> None:
    """BatchNorm1d's running averages after the batch whose statistics ``normed_mix`` computed
    itself: mean and unbiased variance, each a weighted average with the norm's factor; one
    foreach call per buffer kind for the norms that share a factor."""
    factors = [next_average_factor(bn) for bn in norms]
    means = [mean for mean, _ in stats]
    variances = torch._foreach_mul([var for _, var in stats], rows / (rows - 1))
    for f in sorted(set(factors)):
        group = [i for i, g in enumerate(factors) if g == f]
        torch._foreach_lerp_([norms[i].running_mean for i in group], [means[i] for i in group], f)
        torch._foreach_lerp_([norms[i].running_var for i in group],
                             [variances[i] for i in group], f)


class _NormedMix(torch.autograd.Function):
    """The autograd node of sum_n coeffs[n] * (x_n - mean_n) * invstd_n (batch statistics per
    channel). Its value and the normalised y_n come in already computed (``normed_mix`` finds
    each y_n while x_n, just written, is still in the cache: on a whole AutoPI supernet,
    normalising the outputs after all of them exist made batch norm's forward 2x slower)."""

    @staticmethod
    def forward(ctx, coeffs: torch.Tensor, computed: tuple, *xs: torch.Tensor):
        out, normed, invstds = computed
        ctx.save_for_backward(coeffs, invstds, *normed)
        return out

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        coeffs, invstds, *normed = ctx.saved_tensors
        rows = grad_out.numel() // grad_out.shape[1]
        # d(out)/d(coeff_n) = sum(grad * y_n); batch norm's gradient needs the same sums per
        # channel: dx_n = c_n invstd_n (g - mean(g) - y_n mean(g y_n)).
        dots = torch.stack([channel_sums(y * grad_out) for y in normed])  # (n, C)
        centred = grad_out - per_channel(channel_sums(grad_out) / rows, grad_out)
        scale = coeffs[:, None] * invstds  # (n, C)
        shift = scale * dots / rows
        grads = [torch.addcmul(centred * per_channel(scale[n], y), y,
                               per_channel(shift[n], y), value=-1)
                 if ctx.needs_input_grad[n + 2] else None for n, y in enumerate(normed)]
        return (dots.sum(1) if ctx.needs_input_grad[0] else None), None, *grads


def plain_batch_norms(candidates) -> list[nn.BatchNorm1d] | None:
    """The batch norms ending each candidate (an edge's operator + norm) when all of them are
    FieldBatchNorms without affine parameters that train on batch statistics with a graph and
    no hook on them; None otherwise (then the modules run as written)."""
    if not torch.is_grad_enabled():
        return None
    norms = []
    for cand in candidates:
        norm = getattr(cand, "norm", None)
        if not isinstance(norm, FieldBatchNorm) or not hasattr(cand, "op"):
            return None
        bn = norm.norm
        if bn.affine or not bn.training or not bn.track_running_stats or _hooked(bn, norm):
            return None
        norms.append(bn)
    return norms


def _hooked(*modules: nn.Module) -> bool:
    """Whether a hook watches these modules run (nasc.runtime.split_norms finds batch norms'
    levels so): then they must run as modules."""
    return any(m._forward_hooks or m._forward_pre_hooks for m in modules)


def normed_mix(terms, norms: list[nn.BatchNorm1d]) -> torch.Tensor:
    """sum_n c_n * norms[n](x_n) over ``terms``, (c_n, x_n) pairs made lazily (an operator runs
    when its pair is asked for), with the norms' running averages updated as their own forward
    would."""
    coeffs, outputs, normed, invstds, stats, out = [], [], [], [], [], None
    for (coeff, x), bn in zip(terms, norms):
        if x.numel() // x.shape[1] < 2:  # the modules' own error (one value per channel)
            return bn(x)
        with torch.no_grad():
            y, invstd, batch_stats = _normalise(x, bn)
            out = y * coeff if out is None else out.addcmul_(y, coeff)
        coeffs.append(coeff)
        outputs.append(x)
        normed.append(y)
        invstds.append(invstd)
        stats.append(batch_stats)
    if stats[0] is not None:
        with torch.no_grad():
            _update_running(norms, stats, out.numel() // out.shape[1])
    return _NormedMix.apply(torch.stack(coeffs), (out, normed, torch.stack(invstds)), *outputs)
