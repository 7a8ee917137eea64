"""AutoPI's interactive operators (§4.2.2): each maps a field matrix (B, m, k) to (B, m, k).

"Each operator is followed by a nonlinear activation function, excluding skip-connection", so every
operator here but Skip ends in ReLU. FieldBatchNorm is the per-operator BN of §4.3.3.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def pair_indices(num_fields: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Row and column indices of every field pair i < j, in row-major order: (P,), (P,)."""
    rows, cols = torch.triu_indices(num_fields, num_fields, offset=1)
    return rows, cols


def gram_pair_index(num_fields: int) -> torch.Tensor:
    """(P,) positions of the pairs i < j (row-major, as ``pair_indices``) in a flattened m x m
    Gram matrix."""
    rows, cols = pair_indices(num_fields)
    return rows * num_fields + cols


class _PairInnerProducts(torch.autograd.Function):
    """Entries ``gram_index`` of the Gram matrix X X^T. Autograd's backward of bmm(x, x^T)
    finds x's gradient as two bmms, dG x and dG^T x; here the pairs' gradient is written into
    both mirrored positions of one matrix and x's gradient is one bmm, (dG + dG^T) x (forward +
    backward at batch 4096, m = k = 10, one thread: median 3.9 against 4.9 ms)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, gram_index: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x, gram_index)
        return torch.bmm(x, x.transpose(1, 2)).flatten(1).index_select(1, gram_index)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, gram_index = ctx.saved_tensors
        b, m, _ = x.shape
        mirrored = gram_index % m * m + gram_index // m  # (i, j) -> (j, i)
        both = grad.new_zeros(b, m * m).index_copy_(1, torch.cat([gram_index, mirrored]),
                                                    torch.cat([grad, grad], 1))
        return torch.bmm(both.view(b, m, m), x), None


def pair_inner_products(x: torch.Tensor, gram_index: torch.Tensor) -> torch.Tensor:
    """(B, m, k) -> (B, P): <x_i, x_j> for the pairs i < j of ``gram_pair_index``.

    Read from the Gram matrix X X^T: one bmm forward and one backward, where gathering
    x[:, rows] * x[:, cols] has a serial index_put_ backward (the products alone, forward +
    backward at batch 4096, k = 10: 7.7x slower at m = 10, 18x at m = 39).
    """
    return _PairInnerProducts.apply(x, gram_index)


class _FewInputLinear(torch.autograd.Function):
    """x W^T for many rows of few features, with a backward in the orientation the CPU's GEMM
    is fast at. Autograd's own backward of F.linear computes g W and g^T x, whose output has
    the few features (k = 10) as its width; written (W^T g^T)^T and (x^T g)^T the wide axis is
    the rows. Self-attention's projections of (4096, 10, 10) fields into 40 outputs, forward and
    backward with a dense cotangent: 12.3 ms against 5.9 ms (one thread); same numbers to float
    rounding (tests/ops/test_ops_fast_paths.py). Only where it measured faster: with 45 or 100
    input features it is not."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        return F.linear(x, weight)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, weight = ctx.saved_tensors
        grad = grad.reshape(-1, grad.shape[-1])
        grad_x = grad_w = None
        if ctx.needs_input_grad[0]:
            grad_x = (weight.t() @ grad.t()).t().contiguous().view(x.shape)
        if ctx.needs_input_grad[1]:
            grad_w = (x.reshape(-1, x.shape[-1]).t() @ grad).t()
        return grad_x, grad_w


def few_input_linear(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """F.linear(x, weight) without bias (``_FewInputLinear`` on the CPU, F.linear elsewhere)."""
    if x.device.type != "cpu":
        return F.linear(x, weight)
    return _FewInputLinear.apply(x, weight)


class _Attention(torch.autograd.Function):
    """softmax(q k^T / sqrt(d)) v over (B, h, m, d) on the CPU: two batched matmuls around a
    softmax written out, and softmax's backward written out too, dS = P (dP - rowsum(dP P)).
    For the short rows of field attention (m = 10) the CPU kernel of torch.softmax is 5.6x
    slower than the elementwise passes, and autograd's backward of them (the division's two
    broadcasts) costs more than this one; SelfAttention forward + backward at batch 4096,
    m = k = 10, one thread: 13.4-15.0 ms against 15.6-17.0 ms. The row maximum is a constant
    shift (subtracted before scaling: scale > 0, so the same softmax)."""

    @staticmethod
    def forward(ctx, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        scores = torch.matmul(q, k.transpose(-1, -2))
        scores -= scores.amax(-1, keepdim=True)
        probs = scores.mul_(q.shape[-1] ** -0.5).exp_()
        probs *= probs.sum(-1, keepdim=True).reciprocal_()
        ctx.save_for_backward(q, k, v, probs)
        return torch.matmul(probs, v)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        q, k, v, probs = ctx.saved_tensors
        dprobs = torch.matmul(grad, v.transpose(-1, -2))
        dv = torch.matmul(probs.transpose(-1, -2), grad)
        dprobs -= (dprobs * probs).sum(-1, keepdim=True)
        dscores = dprobs.mul_(probs).mul_(q.shape[-1] ** -0.5)
        return torch.matmul(dscores, k), torch.matmul(dscores.transpose(-1, -2), q), dv


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """softmax(q k^T / sqrt(d)) v over (B, h, m, d). On an accelerator SDPA's fused kernels; on a
    CPU its flash kernel is built for long sequences and over 10 fields takes 1.8x the time of
    two batched matmuls around a softmax (``_Attention``; same numbers to float rounding)."""
    if q.device.type != "cpu":
        return F.scaled_dot_product_attention(q, k, v)  # default scale 1 / sqrt(d)
    return _Attention.apply(q, k, v)


class Skip(nn.Module):
    """Identity; during search adds N(0, lambda * std(X)) noise (AutoPI §4.4.2, noisy skip-connection).

    ``noise`` (lambda) and ``generator`` are plain attributes the search strategy sets. The noise
    scale is detached: the noise is a perturbation, not something to learn through. The noise is
    drawn on the generator's device and moved to the input's, so a CPU generator also makes a
    CUDA search reproducible. In a compiled step (`compile on`) it is drawn from the global
    generator, which the strategies seed every epoch: reproducible too, other draws than eager.
    """

    def __init__(self, num_fields: int | None = None, dim: int | None = None):
        super().__init__()
        self.num_fields, self.dim = num_fields, dim
        self.noise: float = 0.0
        self.generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and self.noise > 0):
            return x
        sigma = self.noise * x.detach().std()
        if torch.compiler.is_compiling():  # a generator argument would break the graph here
            return x + torch.randn_like(x) * sigma
        device = x.device if self.generator is None else self.generator.device
        eps = torch.randn(x.shape, generator=self.generator, dtype=x.dtype, device=device).to(x.device)
        return x + eps * sigma


class SENetLayer(nn.Module):
    """FiBiNET's SENET layer: field weights a in R^m rescale the rows of X, then ReLU."""

    def __init__(self, num_fields: int, dim: int, reduction: int = 3):
        super().__init__()
        squeezed = max(1, num_fields // reduction)
        self.excite = nn.Sequential(
            nn.Linear(num_fields, squeezed), nn.ReLU(),
            nn.Linear(squeezed, num_fields), nn.ReLU(),  # FiBiNET uses ReLU on both layers
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = x.mean(-1)  # (B, m) squeeze: one summary per field
        a = self.excite(z)  # (B, m)
        return F.relu(x * a.unsqueeze(-1))  # (B, m, k)


class SelfAttention(nn.Module):
    """AutoInt's interacting layer across fields: multi-head key-value attention + residual, ReLU."""

    def __init__(self, num_fields: int, dim: int, heads: int = 1):
        super().__init__()
        if heads < 1 or dim % heads != 0:
            raise ValueError(f"self_attention: embedding dim {dim} is not divisible by heads={heads}")
        self.heads, self.head_dim = heads, dim // heads
        self.query = nn.Linear(dim, dim, bias=False)
        self.key = nn.Linear(dim, dim, bias=False)
        self.value = nn.Linear(dim, dim, bias=False)
        self.residual = nn.Linear(dim, dim, bias=False)

    def _split(self, t: torch.Tensor) -> torch.Tensor:
        b, m, _ = t.shape
        return t.view(b, m, self.heads, self.head_dim).transpose(1, 2)  # (B, h, m, d_h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The four projections as one matmul over the concatenated weights (the parameters stay
        # four nn.Linear, so checkpoints and seeded initialisation are unchanged).
        weight = torch.cat([self.query.weight, self.key.weight, self.value.weight,
                            self.residual.weight])  # (4k, k)
        q, k, v, residual = few_input_linear(x, weight).split(x.shape[-1], dim=-1)
        out = attend(self._split(q), self._split(k), self._split(v))
        out = out.transpose(1, 2).reshape(x.shape)  # (B, m, k) heads concatenated
        return F.relu(out + residual)


class FMAligned(nn.Module):
    """FM operator: the inner products of all field pairs, linearly mapped back to (m, k), ReLU.

    With one field there is no pair; a zero vector of width 1 stands in for the (empty) product
    vector so the operator keeps its (B, m, k) contract and a one-field space still compiles (the
    operator then outputs ReLU(bias), a learned constant).
    """

    def __init__(self, num_fields: int, dim: int):
        super().__init__()
        self.num_fields, self.dim = num_fields, dim
        self.register_buffer("gram_index", gram_pair_index(num_fields), persistent=False)
        self.num_pairs = self.gram_index.numel()
        self.align = nn.Linear(max(self.num_pairs, 1), num_fields * dim)

    def inner_products(self, x: torch.Tensor) -> torch.Tensor:
        """(B, m, k) -> (B, P) with P = m(m-1)/2, or (B, 1) zeros when m == 1."""
        if self.num_pairs == 0:
            return x.new_zeros(x.shape[0], 1)
        return pair_inner_products(x, self.gram_index)  # (B, P)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.inner_products(x)
        return F.relu(self.align(p).view(x.shape[0], self.num_fields, self.dim))


class SingleLayerPerceptron(nn.Module):
    """SLP operator: flatten (B, m k) -> Linear(mk, mk) -> (B, m, k), ReLU."""

    def __init__(self, num_fields: int, dim: int):
        super().__init__()
        self.linear = nn.Linear(num_fields * dim, num_fields * dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.linear(x.flatten(1)).view(x.shape))


class FieldConv1d(nn.Module):
    """1d convolution operator: X'_i = sum_j C_ij X_j + b_i (fields as channels, kernel 1), ReLU."""

    def __init__(self, num_fields: int, dim: int):
        super().__init__()
        self.conv = nn.Conv1d(num_fields, num_fields, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The convolution written as the product it is: forward + backward took 4.2-6.4 ms as a
        # Conv1d at B = 4096, m = k = 10 (its weight gradient), 1.5 ms so (one thread), the same
        # numbers to float rounding; the parameter stays a Conv1d's for checkpoints.
        weight = self.conv.weight[:, :, 0]  # (m out, m in)
        return F.relu(torch.einsum("oi,bik->bok", weight, x) + self.conv.bias[:, None])


def per_channel(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(C,) values laid out to broadcast over the channel axis 1 of ``like``, (B, C) or
    (B, C, L): for (B, C, L) a contiguous (C, L) copy, because a (C, 1) view broadcasts with a
    zero inner stride, which the CPU's elementwise kernels do not vectorise (a (4096, 10, 10)
    subtraction 0.60 ms against 0.08 ms, one thread)."""
    return v[:, None].expand(like.shape[1:]).contiguous() if like.dim() == 3 else v


def channel_sums(t: torch.Tensor) -> torch.Tensor:
    """Sums over every axis but the channel axis 1 of a (B, C) or (B, C, L) tensor; reducing the
    contiguous batch axis first is the fast order on the CPU."""
    t = t.sum(0)
    return t.sum(-1) if t.dim() == 2 else t


def batch_statistics(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(x - mean, mean, biased variance) per channel of a (B, C) or (B, C, L) batch, from
    contiguous reductions and ``per_channel`` layouts (ATen's batch-norm kernel walks each
    channel's strided rows instead)."""
    rows = x.numel() // x.shape[1]
    mean = channel_sums(x) / rows
    centred = x - per_channel(mean, x)
    return centred, mean, channel_sums(centred * centred) / rows


def next_average_factor(bn: nn.BatchNorm1d) -> float:
    """Counts one more batch and returns the weight it gets in the running averages, as
    BatchNorm's forward does (momentum, or the cumulative average when momentum is None)."""
    bn.num_batches_tracked.add_(1)
    return bn.momentum if bn.momentum is not None else 1.0 / float(bn.num_batches_tracked)


class _ScoringBatchNorm1d(nn.BatchNorm1d):
    """BatchNorm1d over (B, m, k) whose forward with batch statistics and no graph (a supernet
    scored on a whole split, precise-BN refreshes) finds the statistics with reductions over the
    contiguous batch axis, then normalises with them as given. CPU BatchNorm's own kernel walks
    each field's strided rows separately: on Frappe's 57,722 validation rows (m = k = 10, one
    thread) 34 ms a call against 11 ms, and the AutoPI supernet's whole scoring 1.2x faster.
    The same numbers to float rounding, running averages included; with a graph (training) it
    is BatchNorm1d's own forward."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.numel() // x.shape[1]
        if not self.training or torch.is_grad_enabled() or x.dim() != 3 or rows < 2 \
                or not self.track_running_stats:
            return super().forward(x)  # (one value per field: BatchNorm1d's own error)
        centred, mean, var = batch_statistics(x)  # var biased: what normalises
        factor = next_average_factor(self)
        self.running_mean.mul_(1 - factor).add_(mean, alpha=factor)
        self.running_var.mul_(1 - factor).add_(var * (rows / (rows - 1)), alpha=factor)
        scale = (var + self.eps).rsqrt()
        if self.affine:
            return torch.addcmul(per_channel(self.bias, x), centred,
                                 per_channel(scale * self.weight, x))
        return centred.mul_(per_channel(scale, x))


class FieldBatchNorm(nn.Module):
    """Batch norm per field, over the batch and the k axis (AutoPI §4.3.3, eq. 8).

    affine=False fixes scale 1 and shift 0, as the paper does to compare operators fairly.
    """

    def __init__(self, num_fields: int, affine: bool = True):
        super().__init__()
        self.norm = _ScoringBatchNorm1d(num_fields, affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x)  # (B, m, k)
