"""The batched torch AUC and logloss against scikit-learn (nasc.runtime.metrics), ties included."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nasc.runtime import metrics
from nasc.runtime.device_metrics import (auc_rows, average_ranks, ctr_score_list, ctr_scores,
                                         logloss_rows)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("levels", [2, 5, 50, None])  # few distinct scores: many ties
def test_rows_equal_sklearn(seed, levels):
    g = torch.Generator().manual_seed(seed)
    labels = (torch.rand(3000, generator=g) < 0.3).float()
    raw = torch.rand(16, 3000, generator=g)
    probs = raw if levels is None else (raw * levels).floor() / levels
    probs[0, :7] = torch.tensor([0.0, 1.0, 1e-30, 1.0 - 1e-8, 0.5, 0.0, 1.0])  # clipping
    got = ctr_scores(labels, probs).tolist()
    for row, (auc, logloss) in zip(probs, got):
        assert auc == pytest.approx(metrics.auc(labels, row), abs=1e-12)
        assert logloss == pytest.approx(metrics.logloss(labels, row), abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(-3, 3)), min_size=2, max_size=40)
       .filter(lambda r: 0 < sum(y for y, _ in r) < len(r)))
def test_auc_property(rows):
    y, s = zip(*rows)
    auc = auc_rows(torch.tensor(y), torch.tensor([s], dtype=torch.float32))
    assert float(auc[0]) == pytest.approx(metrics.auc(np.array(y), np.array(s, dtype=float)),
                                          abs=1e-12)


def test_average_ranks_share_ties():
    order, ranks = average_ranks(torch.tensor([[3.0, 1.0, 3.0, 2.0, 3.0]]))
    assert order.tolist() == [[1, 3, 0, 2, 4]]
    assert ranks.tolist() == [[1.0, 2.0, 4.0, 4.0, 4.0]]


def test_constant_scores_give_one_half_and_logloss_clips():
    labels = torch.tensor([0.0, 1.0, 1.0, 0.0])
    assert float(auc_rows(labels, torch.full((1, 4), 0.7))[0]) == 0.5
    extreme = torch.tensor([[1.0, 0.0, 1.0, 0.0]])  # two sure mistakes
    assert float(logloss_rows(labels, extreme)[0]) == pytest.approx(
        metrics.logloss(labels, extreme[0]), abs=1e-12)


def test_score_list_refuses_what_sklearn_refuses():
    labels = torch.tensor([0.0, 1.0, 1.0, 0.0])
    good = torch.tensor([0.2, 0.7, 0.6, 0.1])
    [scores] = ctr_score_list(labels, [good])
    assert scores == {"auc": metrics.auc(labels, good),
                      "logloss": pytest.approx(metrics.logloss(labels, good))}
    with pytest.raises(ValueError, match="NaN"):
        ctr_score_list(labels, [good, torch.tensor([0.2, float("nan"), 0.6, 0.1])])
    with pytest.raises(ValueError, match="one class"):
        ctr_score_list(torch.ones(4), [good])
    assert ctr_score_list(labels, []) == []
