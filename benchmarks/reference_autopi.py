"""A plain eager PyTorch AutoPI supernet: the reference benchmarks/search_speed.py times nasc's
DARTS step against (issue 17).

Written as DARTS' reference code writes a search model (Liu et al., model_search.py): a MixedOp
sums softmax(alpha)-weighted candidate operators, a cell's intermediate node sums its inputs'
mixed ops, and AutoPI adds softmax(beta) over a node's inputs (§4.2-4.3). The cells are AutoPI's:
an interaction cell over the high-order embedding (4 nodes, 1x1-convolution merge) and an
ensemble cell over its output and the low-order embedding (4 nodes, concatenation), a linear
logit. The operators are nasc's definitions as they were at commit 8dc4490, before the Gram-matrix
FM and the fused self-attention; each edge operator is followed by batch norm without affine
(§4.3.3) and every operator but skip ends in ReLU. Nothing from nasc is imported: parameter
names match nasc's operators so ``load_from_nasc`` can copy a supernet's weights in.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class Skip(nn.Module):
    def __init__(self, m: int, k: int):
        super().__init__()
        self.noise, self.generator = 0.0, None

    def forward(self, x):
        if not (self.training and self.noise > 0):
            return x
        sigma = self.noise * x.detach().std()
        # drawn where the generator lives (a CUDA one on a GPU, as torch.randn_like would)
        eps = torch.randn(x.shape, generator=self.generator, dtype=x.dtype,
                          device=x.device if self.generator is None else self.generator.device)
        return x + eps * sigma


class SENet(nn.Module):
    def __init__(self, m: int, k: int, reduction: int = 3):
        super().__init__()
        s = max(1, m // reduction)
        self.excite = nn.Sequential(nn.Linear(m, s), nn.ReLU(), nn.Linear(s, m), nn.ReLU())

    def forward(self, x):
        return F.relu(x * self.excite(x.mean(-1)).unsqueeze(-1))


class SelfAttention(nn.Module):
    """8dc4490's definition: four projections, explicit softmax(q k^T / sqrt(d)) v."""

    def __init__(self, m: int, k: int, heads: int = 1):
        super().__init__()
        self.heads, self.head_dim = heads, k // heads
        self.query = nn.Linear(k, k, bias=False)
        self.key = nn.Linear(k, k, bias=False)
        self.value = nn.Linear(k, k, bias=False)
        self.residual = nn.Linear(k, k, bias=False)

    def _split(self, t):
        b, m, _ = t.shape
        return t.view(b, m, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x):
        q, k, v = self._split(self.query(x)), self._split(self.key(x)), self._split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim)
        out = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(x.shape)
        return F.relu(out + self.residual(x))


class FM(nn.Module):
    """8dc4490's definition: the pair products gathered as x[:, rows] * x[:, cols]."""

    def __init__(self, m: int, k: int):
        super().__init__()
        rows, cols = torch.triu_indices(m, m, offset=1)
        self.register_buffer("rows", rows, persistent=False)
        self.register_buffer("cols", cols, persistent=False)
        self.align = nn.Linear(max(rows.numel(), 1), m * k)

    def forward(self, x):
        if self.rows.numel() == 0:
            p = x.new_zeros(x.shape[0], 1)
        else:
            p = (x[:, self.rows] * x[:, self.cols]).sum(-1)
        return F.relu(self.align(p).view(x.shape))


class SLP(nn.Module):
    def __init__(self, m: int, k: int):
        super().__init__()
        self.linear = nn.Linear(m * k, m * k)

    def forward(self, x):
        return F.relu(self.linear(x.flatten(1)).view(x.shape))


class Conv1d(nn.Module):
    def __init__(self, m: int, k: int):
        super().__init__()
        self.conv = nn.Conv1d(m, m, kernel_size=1)

    def forward(self, x):
        return F.relu(self.conv(x))


PRIMITIVES = {"skip": Skip, "senet": SENet, "self_attention": SelfAttention, "fm": FM,
              "slp": SLP, "conv1d": Conv1d}  # specs/autopi.nas' opset, in its order


class MixedOp(nn.Module):
    def __init__(self, m: int, k: int):
        super().__init__()
        self._ops = nn.ModuleList(
            nn.Sequential(op(m, k), nn.BatchNorm1d(m, affine=False)) for op in PRIMITIVES.values())

    def forward(self, x, weights):
        return sum(w * op(x) for w, op in zip(weights, self._ops))


class Cell(nn.Module):
    """``inputs`` given nodes, then ``nodes`` intermediate ones, each fed by every earlier node."""

    def __init__(self, inputs: int, nodes: int, m: int, k: int):
        super().__init__()
        self.inputs, self.nodes = inputs, nodes
        self._ops = nn.ModuleList(MixedOp(m, k) for j in range(nodes) for _ in range(inputs + j))

    def forward(self, states, alphas, betas, tau):
        states, offset = list(states), 0
        for j in range(self.nodes):
            beta = torch.softmax(betas[j] / tau, 0)
            s = sum(b * self._ops[offset + i](h, torch.softmax(alphas[offset + i] / tau, 0))
                    for i, (b, h) in enumerate(zip(beta, states)))
            offset += len(states)
            states.append(s)
        return states[self.inputs:]


class AutoPI(nn.Module):
    def __init__(self, vocab_sizes: list[int], k: int = 10, nodes: int = 4):
        super().__init__()
        m = len(vocab_sizes)
        self.register_buffer("offsets", torch.tensor([0, *vocab_sizes[:-1]]).cumsum(0))
        self.high = nn.Embedding(sum(vocab_sizes), k)
        self.low = nn.Embedding(sum(vocab_sizes), k)
        self.interaction = Cell(1, nodes, m, k)
        self.merge = nn.Conv2d(nodes, 1, kernel_size=1)
        self.ensemble = Cell(2, nodes, m, k)
        self.head = nn.Linear(nodes * m * k, 1)
        ops = len(PRIMITIVES)
        edges = [sum(c.inputs + j for j in range(nodes)) for c in (self.interaction, self.ensemble)]
        self.alphas = nn.ParameterList(nn.Parameter(torch.zeros(e, ops)) for e in edges)
        self.betas = nn.ParameterList(
            nn.Parameter(torch.zeros(nodes, c.inputs + nodes - 1)) for c in (self.interaction,
                                                                              self.ensemble))
        self.tau = 1.0

    def arch_parameters(self):
        return [*self.alphas, *self.betas]

    def weight_parameters(self):
        arch = {id(p) for p in self.arch_parameters()}
        return [p for p in self.parameters() if id(p) not in arch]

    def forward(self, ids):
        ids = ids + self.offsets
        high, low = self.high(ids), self.low(ids)
        # betas are padded to the widest node; node j reads its first inputs + j entries
        nodes = self.interaction(
            [high], self.alphas[0], [b[:1 + j] for j, b in enumerate(self.betas[0])], self.tau)
        merged = self.merge(torch.stack(nodes, dim=1)).squeeze(1)
        towers = self.ensemble(
            [merged, low], self.alphas[1], [b[:2 + j] for j, b in enumerate(self.betas[1])],
            self.tau)
        return self.head(torch.cat([t.flatten(1) for t in towers], dim=1)).squeeze(-1)


@torch.no_grad()
def load_from_nasc(ref: AutoPI, net: nn.Module) -> None:
    """Copy a nasc AutoPI supernet's weights and alpha/beta into ``ref`` (same function)."""
    ref.high.weight.copy_(net.high.table.weight)
    ref.low.weight.copy_(net.low.table.weight)
    ref.merge.load_state_dict(net.interaction.conv.state_dict())
    ref.head.weight.copy_(net.head.projections[0].weight)
    ref.head.bias.copy_(net.head.bias)
    cells = [("interaction", ref.interaction, 1), ("ensemble", ref.ensemble, 2)]
    for c, (prefix, cell, inputs) in enumerate(cells):
        offset = 0
        for j in range(cell.nodes):
            node = getattr(net, f"{prefix}_node{inputs + j}")
            ref.betas[c][j, : inputs + j].copy_(node.beta)
            for i in range(inputs + j):
                edge = node.edges[str(i)]
                ref.alphas[c][offset + i].copy_(edge.alpha)
                for mine, theirs in zip(cell._ops[offset + i]._ops, edge.candidates):
                    mine[0].load_state_dict(theirs.op.state_dict())
            offset += inputs + j


def set_skip_noise(ref: AutoPI, lam: float, generator: torch.Generator | None) -> None:
    for m in ref.modules():
        if isinstance(m, Skip):
            m.noise, m.generator = lam, generator
