"""Dense layers as operators: a linear map of a vector, and an MLP that keeps its input's shape.

``mlp`` can stand on a cell edge beside AutoPI's interactive operators: it flattens a field
matrix (B, m, k), runs ``layers`` hidden ReLU layers of ``width`` units and maps back to m k,
ending in ReLU as every interactive operator but skip does (AutoPI §4.2.2); on a vector it maps
(B, d) to (B, d) the same way. SLP is the case layers = 0.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Linear(nn.Module):
    """(B, d) -> (B, width): W x + b."""

    def __init__(self, in_dim: int, width: int = 64, bias: bool = True):
        super().__init__()
        self.linear = nn.Linear(in_dim, width, bias=bias)
        self.out_dim = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


class ShapeKeepingMLP(nn.Module):
    """(B, m, k) or (B, d) -> the same shape: flatten, hidden ReLU layers, back to the input's
    width, ReLU."""

    def __init__(self, flat: int, layers: int = 1, width: int = 64):
        super().__init__()
        widths = [flat] + [width] * layers
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, widths[1:]))
        self.out = nn.Linear(widths[-1], flat)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.flatten(1)
        for layer in self.hidden:
            h = F.relu(layer(h))
        return F.relu(self.out(h)).view(x.shape)
