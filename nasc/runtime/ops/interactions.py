"""AMEIR stages 2 and 3: Hadamard interactions, the SE shortcut (eq. 5) and weight-shared linears."""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


class HadamardInteractions(nn.Module):
    """(B, m, k) -> (B, M, k): row r is e_{i1} * e_{i2} * ... over the fields in tuples[r] (§2.2).

    Tuples of different orders are padded with -1 to one (M, R) index buffer; -1 picks an all-ones
    row appended to the input, so one gather and one product compute every interaction at once.
    """

    def __init__(self, tuples: Sequence[Sequence[int]]):
        super().__init__()
        tuples = [tuple(int(i) for i in t) for t in tuples]
        if any(len(t) == 0 for t in tuples):
            raise ValueError("HadamardInteractions: every interaction needs at least one field")
        if any(i < 0 for t in tuples for i in t):
            raise ValueError("HadamardInteractions: field indices must be non-negative")
        self.orders = [len(t) for t in tuples]
        width = max(self.orders, default=1)
        index = torch.full((len(tuples), width), -1, dtype=torch.long)
        for r, t in enumerate(tuples):
            index[r, : len(t)] = torch.tensor(t, dtype=torch.long)
        self.register_buffer("tuples", index)  # (M, R), -1 = no field

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ones = x.new_ones(x.shape[0], 1, x.shape[-1])
        extended = torch.cat([x, ones], dim=1)  # (B, m + 1, k): index -1 is the ones row
        return extended[:, self.tuples].prod(dim=2)  # (B, M, R, k) -> (B, M, k)


class SEShortcut(nn.Module):
    """AMEIR eq. 5: a = sigmoid(W2 ReLU(W1 (Q v))), h_se = sum_i a_i q_i.

    Q (B, n, k) stacks the n = N + M field embeddings and interactions. Written without biases, as
    the equation is.
    """

    def __init__(self, num_items: int, dim: int, expansion: float = 1.0):
        super().__init__()
        hidden = max(1, round(num_items * expansion))
        self.project = nn.Linear(dim, 1, bias=False)  # v: one score per item
        self.squeeze = nn.Linear(num_items, hidden, bias=False)  # W1
        self.excite = nn.Linear(hidden, num_items, bias=False)  # W2

    def attention(self, q: torch.Tensor) -> torch.Tensor:
        """(B, n, k) -> a (B, n)."""
        s = self.project(q).squeeze(-1)  # (B, n): Q v
        return torch.sigmoid(self.excite(F.relu(self.squeeze(s))))

    def forward(self, q: torch.Tensor) -> torch.Tensor:
        a = self.attention(q)  # (B, n)
        return (a.unsqueeze(-1) * q).sum(1)  # (B, k)


class SlicedLinear(nn.Module):
    """One (max_out, max_in) weight; a call uses its top-left (out_features, in) block (§2.3 step 3).

    Every child MLP of the one-shot model shares these weights, NNI/"single path one-shot" style.
    """

    def __init__(self, max_in: int, max_out: int):
        super().__init__()
        self.max_in, self.max_out = max_in, max_out
        self.weight = nn.Parameter(torch.empty(max_out, max_in))
        self.bias = nn.Parameter(torch.empty(max_out))
        # nn.Linear's initialisation for the full size
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        bound = 1 / math.sqrt(max_in)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor, out_features: int | None = None) -> torch.Tensor:
        out_features = self.max_out if out_features is None else out_features
        in_features = x.shape[-1]
        if not (0 < in_features <= self.max_in and 0 < out_features <= self.max_out):
            raise ValueError(f"SlicedLinear({self.max_in}, {self.max_out}) cannot map "
                             f"{in_features} -> {out_features} features")
        return F.linear(x, self.weight[:out_features, :in_features], self.bias[:out_features])
