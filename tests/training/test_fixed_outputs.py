"""FixedOutputs: during one-shot ranking, the modules the ranked choices do not reach compute their
output once for all children, and the children's probabilities are bit for bit a plain forward's."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from nasc.runtime.data.synthetic import make_synthetic
from nasc.runtime.fixed_outputs import FixedOutputs, fixed_modules
from nasc.runtime.strategies import oneshot
from nasc.runtime.strategies.common import generator
from nasc.runtime.train import ScoringMode, predict, predict_batches

from kit.ameirkit import MINI_AMEIR, make_context


class Counting(nn.Module):
    def __init__(self):
        super().__init__()
        self.runs = 0

    def forward(self, x, scale=1.0):
        self.runs += 1
        return x * scale


@pytest.fixture
def search(tmp_path):
    dataset = make_synthetic(seed=3, n=2000, with_sequence=True, max_len=20)
    return oneshot.OneShot(make_context(MINI_AMEIR, dataset, tmp_path))


def names_of(net, modules):
    names = {id(m): n for n, m in net.named_modules()}
    return [names[id(m)] for m in modules]


def test_fixed_modules_are_those_no_ranked_choice_reaches(search):
    stage = {st.name: st for st in search.stages}
    mlp = names_of(search.net, fixed_modules(search.net, stage["aggregate"].labels))
    assert {"emb", "seq", "target", "behavior_block1", "cross", "aggregate_se", "head"} <= set(mlp)
    # the layers with width and activation choices run for every child; their linear maps are
    # reused only when called again with the same input and width
    assert "aggregate_layer1" not in mlp and "aggregate_layer1.linear" in mlp
    behavior = names_of(search.net, fixed_modules(search.net, stage["behavior"].labels))
    assert "behavior_block1" not in behavior
    assert {"emb", "cross", "aggregate_layer1"} <= set(behavior)
    # a OneOf's candidate list is a container: its candidates are what get called
    assert "behavior_block1.layer.candidates" not in behavior
    assert any(n.startswith("behavior_block1.layer.candidates.") for n in behavior)


@pytest.mark.parametrize("stage_name", ["behavior", "aggregate"])
def test_children_score_as_a_plain_forward_and_the_prefix_runs_once(search, one_thread, stage_name):
    si = next(i for i, st in enumerate(search.stages) if st.name == stage_name)
    stage = search.stages[si]
    gen_a, gen_b = generator(7), generator(7)
    swaps = search.hold(si)
    try:
        plain = []
        for _ in range(6):
            search.net.sample(gen_a, stage.labels)
            plain.append(predict(search.net, search.subset, bn_batch_stats=True))
        batches = list(search.subset.batches(len(search.subset)))
        reused = []
        with torch.no_grad(), ScoringMode(search.net, bn_batch_stats=True) as mode, \
                FixedOutputs(search.net, stage.labels) as fixed:
            for _ in range(6):
                search.net.sample(gen_b, stage.labels)
                reused.append(predict_batches(search.net, batches))
                mode.restore()
            emb = fixed.memos[fixed.modules.index(search.net.emb)]
            assert (emb.calls, emb.runs) == (6, 1)
            assert fixed.runs() < fixed.calls()
    finally:
        swaps.restore()
    for a, b in zip(plain, reused):
        assert torch.equal(a, b)
    assert len({p.sum().item() for p in plain}) > 1  # the children differ


def test_a_memo_reruns_for_new_argument_objects_and_leaving_restores_forward():
    net = nn.Sequential(Counting())
    inner = net[0]
    x = torch.ones(3)
    with FixedOutputs(net, labels=[]) as fixed:
        assert fixed.modules == [inner]
        first = inner(x)
        assert inner(x) is first and inner.runs == 1
        inner(x.clone())  # equal in value, another object: runs
        assert inner.runs == 2
        inner(x.clone(), scale=2.0)
        assert inner.runs == 3
    assert "forward" not in vars(inner)
    inner(x), inner(x)
    assert inner.runs == 5


def test_scoring_mode_restores_running_statistics_and_modes():
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.5))
    net.train()
    mean = net[1].running_mean.clone()
    with torch.no_grad(), ScoringMode(net, bn_batch_stats=True) as mode:
        assert net[1].training and not net[2].training
        net(torch.randn(8, 3))
        assert not torch.equal(net[1].running_mean, mean)
        mode.restore()
        assert torch.equal(net[1].running_mean, mean)
        net(torch.randn(8, 3))
    assert torch.equal(net[1].running_mean, mean) and net.training and net[2].training
