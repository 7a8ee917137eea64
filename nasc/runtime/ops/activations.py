"""Activation functions, built uniformly as ``ACT(dim)`` so the registry can make any of them.

Every activation takes an optional sequence mask: when given, padded positions of the output are
set to 0 (sigmoid maps 0 to 0.5, so a sequence block would otherwise leak a constant into padding),
and Dice computes its batch statistics over real positions only.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def zero_padded(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Set padded positions of a (B, T, d) sequence to 0; no-op without a mask.

    masked_fill rather than multiplication: a NaN or inf at a padded position must not survive.
    """
    if mask is None:
        return x
    return x.masked_fill(~mask.unsqueeze(-1), 0.0)


class _Elementwise(nn.Module):
    """An activation with no state; ``dim`` is accepted only for a uniform constructor."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def fn(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return zero_padded(self.fn(x), mask)


class ReLU(_Elementwise):
    def fn(self, x):
        return F.relu(x)


class GELU(_Elementwise):
    def fn(self, x):
        return F.gelu(x)


class Swish(_Elementwise):
    """x * sigmoid(x) (Ramachandran et al.; SiLU)."""

    def fn(self, x):
        return x * torch.sigmoid(x)


class Identity(_Elementwise):
    def fn(self, x):
        return x


class Sigmoid(_Elementwise):
    def fn(self, x):
        return torch.sigmoid(x)


class Tanh(_Elementwise):
    def fn(self, x):
        return torch.tanh(x)


class Dice(nn.Module):
    """DIN's data-adaptive activation: out = p*x + (1-p)*alpha*x, p = sigmoid((x - E[x]) / sqrt(Var[x] + eps)).

    The last axis holds the ``dim`` features; every other axis is a batch axis for the statistics
    (B for vectors, B and T for sequences, B and m for field matrices). Training uses the batch's
    (biased) mean and variance and updates running averages like BatchNorm; eval uses the running
    averages. Written by hand instead of with BatchNorm1d so that masked sequence positions can be
    left out of the statistics.
    """

    def __init__(self, dim: int, eps: float = 1e-8, momentum: float = 0.1):
        super().__init__()
        self.dim, self.eps, self.momentum = dim, eps, momentum
        self.alpha = nn.Parameter(torch.zeros(dim))  # DIN initialises alpha at 0
        self.register_buffer("running_mean", torch.zeros(dim))
        self.register_buffer("running_var", torch.ones(dim))

    def _batch_stats(self, rows: torch.Tensor, weight: torch.Tensor | None):
        """rows (N, d), weight (N,) of 0/1 or None -> mean (d,), biased var (d,), count."""
        if weight is None:
            n = torch.tensor(float(rows.shape[0]), dtype=rows.dtype, device=rows.device)
            mean = rows.mean(0)
            var = ((rows - mean) ** 2).mean(0)
            return mean, var, n
        w = weight.to(rows.dtype).unsqueeze(-1)  # (N, 1)
        n = w.sum()
        safe_n = n.clamp(min=1.0)  # an all-padding batch must not divide by 0
        mean = (rows * w).sum(0) / safe_n
        var = (((rows - mean) ** 2) * w).sum(0) / safe_n
        return mean, var, n

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        squeeze = x.dim() == 1  # a logit (B,): one feature
        if squeeze:
            x = x.unsqueeze(-1)
        if self.training:
            rows = x.reshape(-1, x.shape[-1])  # (N, d)
            weight = None if mask is None else mask.reshape(-1)
            mean, var, n = self._batch_stats(rows, weight)
            with torch.no_grad():  # running averages use the unbiased variance, as BatchNorm
                unbiased = var * n / (n - 1).clamp(min=1.0)
                self.running_mean.lerp_(mean.detach(), self.momentum)
                self.running_var.lerp_(unbiased.detach(), self.momentum)
        else:
            mean, var = self.running_mean, self.running_var
        p = torch.sigmoid((x - mean) / torch.sqrt(var + self.eps))
        out = p * x + (1 - p) * self.alpha * x
        if squeeze:
            out = out.squeeze(-1)
        return zero_padded(out, mask)


def make_activation(name: str, dim: int) -> nn.Module:
    """Build an activation by its spec name (an `act` operator of nasc.compiler.operators); a
    ValueError names the choices."""
    from nasc.compiler.operators import ops_with_role
    from nasc.runtime.ops import implementation

    names = ops_with_role("act")
    if name not in names:
        raise ValueError(f"unknown activation {name!r}; choose one of {names}")
    return implementation(name)(dim)
