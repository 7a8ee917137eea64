"""Exact chunked scoring (issue 17, item 4): a split scored in chunks with batch-norm on the whole
split's statistics gives the scores of one whole-split batch, whatever the chunk size; the levels
the statistics are found in follow which batch-norm feeds which."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from nasc.runtime import split_norms
from nasc.runtime.data.table import TensorTable
from nasc.runtime.progress import Progress
from nasc.runtime.strategies.darts import Darts
from nasc.runtime.train import ScoringMode, predict, predict_batches

from kit.searchkit import BN_CELL, make_ctx


class Branches(nn.Module):
    """a = bn_a(x); b = bn_b(lin(a)); c = bn_c(x * 2); d = bn_d(b + c): levels 0, 1, 0, 2."""

    def __init__(self):
        super().__init__()
        self.bn_a, self.bn_b = nn.BatchNorm1d(4, affine=False), nn.BatchNorm1d(4)
        self.bn_c, self.bn_d = nn.BatchNorm1d(4, affine=False), nn.BatchNorm1d(4)
        self.lin, self.head = nn.Linear(4, 4), nn.Linear(4, 1)
        with torch.no_grad():
            self.bn_b.weight.uniform_(0.5, 1.5)
            self.bn_d.bias.uniform_(-0.5, 0.5)

    def forward(self, batch):
        x = batch["x"]
        b = self.bn_b(self.lin(torch.relu(self.bn_a(x))))
        c = self.bn_c(x * 2)
        return self.head(self.bn_d(torch.tanh(b + c))).squeeze(-1)


def table(rows: int = 300, seed: int = 0) -> TensorTable:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(rows, 4, generator=g, dtype=torch.float64) * 3 + 1
    return TensorTable({"x": x, "label": (x[:, 0] > 1).double()})


def branches() -> Branches:
    torch.manual_seed(3)
    return Branches().double()


def test_levels_follow_which_batch_norm_feeds_which():
    net = branches()
    with ScoringMode(net, bn_batch_stats=True):
        level = split_norms.levels(net, split_norms.batch_norms(net),
                                   next(iter(table().batches(64))))
    assert level == [0, 1, 0, 2]  # bn_a, bn_b, bn_c, bn_d in module order


@pytest.mark.parametrize("chunk", [7, 64, 298])
def test_chunks_score_as_one_whole_split_batch(chunk):
    net, rows = branches(), table()
    whole = predict(net, rows, len(rows), bn_batch_stats=True)
    chunked = predict(net, rows, chunk, bn_batch_stats=True)
    torch.testing.assert_close(chunked, whole, rtol=0, atol=1e-12)
    with ScoringMode(net, bn_batch_stats=True):  # what chunks gave before: each its own statistics
        own = predict_batches(net, rows.batches(chunk))
    assert (own - whole).abs().max() > 1e-3


def test_a_one_row_last_chunk_is_scored_too():
    """Batch-norm refuses batch statistics of one row; with the split's it has none to take."""
    net, rows = branches(), table()
    torch.testing.assert_close(predict(net, rows, 299, bn_batch_stats=True),
                               predict(net, rows, 300, bn_batch_stats=True), rtol=0, atol=1e-12)


def test_leaves_the_model_as_it_was():
    net, rows = branches(), table()
    net.train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    predict(net, rows, 50, bn_batch_stats=True)
    assert net.training
    assert all(torch.equal(v, before[k]) for k, v in net.state_dict().items())
    assert all("forward" not in m.__dict__ for m in net.modules())  # no patched forward left


def test_each_level_pass_stops_once_its_batch_norms_have_run():
    """The head runs only in the probe and the scoring pass: the passes that measure a level
    stop inside the network."""
    net, rows = branches(), table()
    calls = []
    net.head.register_forward_hook(lambda *_: calls.append(1))
    predict(net, rows, 100, bn_batch_stats=True)
    assert len(calls) == 1 + 3  # the probe, then 3 chunks scored


def test_a_batch_norm_run_twice_falls_back_to_plain_chunks():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.bn = nn.BatchNorm1d(4)

        def forward(self, batch):
            return self.bn(self.bn(batch["x"])).sum(-1)

    net, rows = Twice().double(), table()
    with ScoringMode(net, bn_batch_stats=True):
        assert split_norms.levels(net, [net.bn], next(iter(rows.batches(64)))) is None
        own = predict_batches(net, rows.batches(64))
    torch.testing.assert_close(predict(net, rows, 64, bn_batch_stats=True), own)


def test_a_batch_norm_off_the_path_is_left_out():
    """A supernet's module that the sampled path does not run (AMEIR's interaction norm while an
    aggregation stage is ranked) has no level; the ones that run still get the split's
    statistics (this fell back to per-chunk statistics, 2e-2 off, before)."""
    class Unused(Branches):
        def __init__(self):
            super().__init__()
            self.bn_off = nn.BatchNorm1d(4)

    torch.manual_seed(3)
    net, rows = Unused().double(), table()
    with ScoringMode(net, bn_batch_stats=True):
        level = split_norms.levels(net, split_norms.batch_norms(net), next(iter(rows.batches(64))))
    assert level == [0, 1, 0, 2, None]
    torch.testing.assert_close(predict(net, rows, 64, bn_batch_stats=True),
                               predict(net, rows, len(rows), bn_batch_stats=True),
                               rtol=0, atol=1e-12)


SPACE = BN_CELL + """
search darts {
  epochs 2
  batch 256
}
"""


INTERACTIONS = """model m {
  input fields: categorical
  emb = embed(fields, dim=4)
  interactions cross(emb) {
    cycles 1
    survivors 6
    keep 2
  }
  head ctr(flatten(cross))
}

search darts {
  epochs 2
  batch 64
  weights adam(lr=0.01)
}
"""


@pytest.mark.parametrize("space", [SPACE, INTERACTIONS], ids=["cells", "interactions"])
def test_darts_supernet_validation_is_the_same_in_chunks(tmp_path, tiny_data, space):
    """Cells' batch-norm modules, and a relaxed interaction set's normalised products."""
    search = Darts(make_ctx(tmp_path, space, tiny_data))
    search.run_epoch(1, Progress(2, 1, enabled=False))
    valid = search.valid
    whole = predict(search.net, valid, len(valid), bn_batch_stats=True)
    chunked = predict(search.net, valid, 50, bn_batch_stats=True)
    assert (chunked - whole).abs().max() < 1e-6
    with ScoringMode(search.net, bn_batch_stats=True):
        own = predict_batches(search.net, valid.batches(50))
    assert (own - whole).abs().max() > 1e-4
