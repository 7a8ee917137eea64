"""FinalMLP's two parts (Mao et al., AAAI 2023, §3): feature gating and multi-head bilinear fusion.

FinalMLP runs two MLP streams over the same embeddings and fuses their outputs. Each stream sees
its own view of the features: a gate g = 2 sigmoid(MLP(context)) in (0, 2)^(m k) rescales the
flattened embeddings, where the context is the embeddings of a few chosen fields (in a table of
the gate's own) or, with none chosen, a learned vector (§3.2). The fusion scores two vectors
o1, o2 with a linear term per stream plus a bilinear term per head (§3.3, eq. 6):

    logit = w1 . o1 + w2 . o2 + b + sum_h o1_h^T W_h o2_h,

o1, o2 split into ``heads`` equal chunks. Initialisation follows the authors' FuxiCTR code:
xavier-normal linear weights with zero biases, and W (heads x d1/h x d2/h) xavier-normal as one
(heads d1/h d2/h) x 1 matrix.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from .baselines import FieldEmbedding


def xavier_linear(in_dim: int, out_dim: int) -> nn.Linear:
    """nn.Linear initialised as FuxiCTR initialises every linear layer."""
    layer = nn.Linear(in_dim, out_dim)
    nn.init.xavier_normal_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


class FeatureGating(nn.Module):
    """(B, m, k) embeddings and the (B, m) ids they came from -> (B, m k) gated features."""

    def __init__(self, num_fields: int, dim: int, vocab: Sequence[int],
                 context: Sequence[int] = (), hidden: Sequence[int] = (400,)):
        super().__init__()
        bad = [f for f in context if not 0 <= f < len(vocab)]
        if bad:
            raise ValueError(f"feature_gating: context field {bad[0]} does not exist: the data has "
                             f"{len(vocab)} fields, numbered 0..{len(vocab) - 1}")
        self.context = list(context)
        if self.context:  # the context fields' own table, as FuxiCTR builds it
            self.context_embedding = FieldEmbedding([vocab[f] for f in self.context], dim)
            self.context_bias = None
        else:
            self.context_embedding = None
            self.context_bias = nn.Parameter(torch.zeros(1, dim))
        layers: list[nn.Module] = []
        width = dim * max(1, len(self.context))
        for h in hidden:
            layers += [xavier_linear(width, h), nn.ReLU()]
            width = h
        layers += [xavier_linear(width, num_fields * dim), nn.Sigmoid()]
        self.gate = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        if self.context_embedding is not None:
            context = self.context_embedding(ids[:, self.context]).flatten(1)  # (B, c k)
        else:
            context = self.context_bias.expand(x.shape[0], -1)  # (B, k)
        return x.flatten(1) * (2 * self.gate(context))  # (B, m k)


class BilinearFusion(nn.Module):
    """Two vectors (B, d1), (B, d2) -> one logit (B,): FinalMLP's multi-head bilinear fusion."""

    def __init__(self, x_dim: int, y_dim: int, heads: int = 1):
        super().__init__()
        if x_dim % heads or y_dim % heads:
            raise ValueError(f"fusion: the widths {x_dim} and {y_dim} must both be divisible by "
                             f"heads={heads}")
        self.heads, self.hx, self.hy = heads, x_dim // heads, y_dim // heads
        self.linear_x = xavier_linear(x_dim, 1)
        self.linear_y = xavier_linear(y_dim, 1)
        self.weight = nn.Parameter(torch.empty(heads * self.hx * self.hy, 1))
        nn.init.xavier_normal_(self.weight)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        xh = x.view(-1, self.heads, self.hx)  # (B, h, d1/h)
        yh = y.view(-1, self.heads, self.hy)  # (B, h, d2/h)
        w = self.weight.view(self.heads, self.hx, self.hy)
        bilinear = torch.einsum("bhi,hij,bhj->b", xh, w, yh)
        return (self.linear_x(x) + self.linear_y(y)).squeeze(-1) + bilinear  # (B,)
