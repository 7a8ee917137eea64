"""Sequence -> vector: (x (B, T, d), mask (B, T) [, target (B, d)]) -> (B, d).

AMEIR §2.1 stage 1 compresses the behavior sequence by sum pooling, the last hidden state and an
attention from the target (DIN's local activation unit). Padded positions never contribute.
"""
from __future__ import annotations

import torch
from torch import nn

from .activations import zero_padded
from .sequence import LocalActivationUnit


class SumPool(nn.Module):
    """Masked sum over time."""

    def __init__(self, dim: int | None = None):
        super().__init__()

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return zero_padded(x, mask).sum(1)  # (B, d)


class MeanPool(nn.Module):
    """Masked mean over time; 0 for a row with no real position."""

    def __init__(self, dim: int | None = None):
        super().__init__()

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        counts = mask.sum(1, keepdim=True).clamp(min=1).to(x.dtype)  # (B, 1)
        return zero_padded(x, mask).sum(1) / counts


class LastPool(nn.Module):
    """The last real position of each row (the latest interest); 0 for a row with no real position.

    Found from the mask rather than from lengths alone, so left and right padding both work.
    """

    def __init__(self, dim: int | None = None):
        super().__init__()

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(x.shape[1], device=x.device).expand_as(mask)  # (B, T)
        last = torch.where(mask, positions, -1).amax(1)  # (B,), -1 for empty rows
        picked = x.gather(1, last.clamp(min=0).view(-1, 1, 1).expand(-1, 1, x.shape[-1])).squeeze(1)
        return picked.masked_fill((last < 0).unsqueeze(-1), 0.0)  # (B, d)


class TargetAttentionPool(nn.Module):
    """sum_i a_i h_i with a_i from DIN's local activation unit (no softmax); padded a_i = 0."""

    def __init__(self, dim: int, hidden: int = 36):
        super().__init__()
        self.unit = LocalActivationUnit(dim, hidden)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        a = self.unit(x, mask, target)  # (B, T), 0 at padding
        return (zero_padded(x, mask) * a.unsqueeze(-1)).sum(1)  # (B, d)
