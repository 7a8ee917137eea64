"""DCN-V2's cross network (Wang et al., WWW 2021, eq. 1 and §3.2's low-rank variant).

Layer l maps x_l to x_{l+1} = x_0 ⊙ (W_l x_l + b_l) + x_l, with a full d x d matrix W_l (DCN's
cross layer uses a rank-one x_0 x_l^T w_l instead). With ``rank`` r > 0, W_l = U_l V_l^T
(d x r each): the paper's cost-effective form, 2 d r weights per layer instead of d^2.
"""
from __future__ import annotations

import torch
from torch import nn


class CrossNetV2(nn.Module):
    def __init__(self, in_dim: int, layers: int = 3, rank: int = 0):
        super().__init__()
        if rank:
            self.down = nn.ModuleList(nn.Linear(in_dim, rank, bias=False) for _ in range(layers))
            self.up = nn.ModuleList(nn.Linear(rank, in_dim) for _ in range(layers))
        else:
            self.down = None
            self.up = nn.ModuleList(nn.Linear(in_dim, in_dim) for _ in range(layers))

    def forward(self, x0: torch.Tensor) -> torch.Tensor:  # (B, d) -> (B, d)
        x = x0
        for n, up in enumerate(self.up):
            wx = up(self.down[n](x)) if self.down is not None else up(x)
            x = x0 * wx + x
        return x
