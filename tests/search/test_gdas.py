"""GDAS-style hard sampling for SNAS (Dong & Yang 2019): a straight-through one-hot Gumbel sample
(forward the argmax's one-hot, backward the soft sample's gradient), and a hard-sampled one-of
or cell node computes only the option it picked."""
from __future__ import annotations

import torch
from torch import nn

from nasc.runtime.choices import CellNode, OneOf
from nasc.runtime.strategies.snas import GumbelSoftmax, StraightThroughGumbel


def test_a_hard_sample_is_one_hot_in_value_with_the_soft_gradient():
    logits = torch.tensor([0.3, -0.2, 1.0, 0.1, -1.5, 0.4], requires_grad=True)
    upstream = torch.randn(6, generator=torch.Generator().manual_seed(2))
    for seed in range(20):
        hard = StraightThroughGumbel(torch.Generator().manual_seed(seed))(logits, 0.7)
        soft = GumbelSoftmax(torch.Generator().manual_seed(seed))(logits, 0.7)
        k = int(soft.argmax())
        assert hard.tolist() == [1.0 if i == k else 0.0 for i in range(6)]  # exactly one-hot
        (g_hard,) = torch.autograd.grad((hard * upstream).sum(), logits)
        (g_soft,) = torch.autograd.grad((soft * upstream).sum(), logits)
        torch.testing.assert_close(g_hard, g_soft)


class Counted(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(scale))
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.scale * x


def test_a_hard_sampled_one_of_computes_only_the_sampled_option():
    candidates = [Counted(float(s)) for s in range(1, 7)]
    choice = OneOf("c", [f"op{i}" for i in range(6)], candidates, relaxable=True)
    choice.weighting = StraightThroughGumbel(torch.Generator().manual_seed(0))
    x = torch.ones(3)
    picks = set()
    for _ in range(30):
        before = [c.calls for c in candidates]
        out = choice(x)
        called = [n for n, c in enumerate(candidates) if c.calls != before[n]]
        assert len(called) == 1  # one path per step
        k = called[0]
        picks.add(k)
        torch.testing.assert_close(out, candidates[k](x).detach())
        choice.alpha.grad = None
        out.sum().backward()
        assert choice.alpha.grad is not None and float(choice.alpha.grad.abs().sum()) > 0
        assert candidates[k].scale.grad is not None
    assert len(picks) > 1  # the sample varies


def test_a_hard_sampled_cell_node_computes_one_input():
    edges = {i: OneOf(f"e{i}", ["a", "b"], [Counted(1.0), Counted(2.0)], relaxable=True)
             for i in range(3)}
    node = CellNode("c.node3", edges, keep=1, searched=True)
    node.relax()
    weighting = StraightThroughGumbel(torch.Generator().manual_seed(1))
    for m in [node, *edges.values()]:
        m.weighting = weighting
    node(torch.ones(2), torch.ones(2), torch.ones(2))
    calls = [c.calls for e in edges.values() for c in e.candidates]
    assert sum(calls) == 1
