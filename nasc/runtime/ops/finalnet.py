"""FinalNet's two parts (Zhu et al., "FINAL: Factorized Interaction Layer for CTR Prediction",
SIGIR 2023): the field gate and the factorized interaction block that replaces an MLP.

Field gate: a linear map across the m fields, applied to each embedding dimension alone,
g[:, d] = W e[:, d] + b with W (m x m) initialised to 0 and b to 1, so every gate starts at 1;
the operator returns e * g. FinalNet's `concat` residual is ``concat(emb, field_gate(emb))``, its
`sum` residual ``add(emb, field_gate(emb))``.

Factorized interaction layer: one linear map h = W x + c split into two halves h2, h1 and
multiplied, so that every layer raises the interaction order (a quadratic unit instead of a
ReLU's piecewise-linear one):

    residual concat: W maps to `width` units, out = [h2, h1 * h2]  (width even)
    residual sum:    W maps to 2 `width` units, out = h2 + h1 * h2

A block stacks such layers, each followed by batch norm, the activation and dropout, as the
authors' FuxiCTR code orders them; its output is the last layer's width. Its linear maps start
xavier-normal with zero biases, as FuxiCTR initialises every linear layer.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from .finalmlp import xavier_linear


class FieldGate(nn.Module):
    """(B, m, k) -> (B, m, k): e * (W e + b) across fields, W = 0 and b = 1 at the start."""

    def __init__(self, num_fields: int):
        super().__init__()
        self.linear = nn.Linear(num_fields, num_fields)
        nn.init.zeros_(self.linear.weight)
        nn.init.ones_(self.linear.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gates = self.linear(x.transpose(1, 2)).transpose(1, 2)  # (B, m, k)
        return x * gates


class FactorizedInteraction(nn.Module):
    """(B, d) -> (B, width): the product of the two halves of one linear map (see above)."""

    def __init__(self, in_dim: int, width: int, residual: str = "concat"):
        super().__init__()
        if residual == "concat" and width % 2:
            raise ValueError(f"final_block: with residual=concat every width must be even, "
                             f"got {width}")
        self.residual = residual
        self.linear = xavier_linear(in_dim, width if residual == "concat" else 2 * width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h2, h1 = self.linear(x).chunk(2, dim=-1)
        if self.residual == "concat":
            return torch.cat([h2, h1 * h2], dim=-1)
        return h2 + h1 * h2


class FinalBlock(nn.Module):
    """(B, d) -> (B, widths[-1]): factorized interaction layers, each + BN, act, dropout."""

    def __init__(self, in_dim: int, widths: Sequence[int] = (400, 400), act: str = "relu",
                 dropout: float = 0.0, batch_norm: bool = True, residual: str = "concat"):
        super().__init__()
        layers: list[nn.Module] = []
        width = in_dim
        for out in widths:
            layers.append(FactorizedInteraction(width, out, residual))
            if batch_norm:
                layers.append(nn.BatchNorm1d(out))
            if act == "relu":
                layers.append(nn.ReLU())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = out
        self.layers = nn.Sequential(*layers)
        self.out_dim = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)
