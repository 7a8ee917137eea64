"""Metrics against independent references (pairwise AUC, the logloss formula, hand ranks)."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nasc.runtime.metrics import auc, hr_at_k, logloss, ndcg_at_k, rank_of_positive, ranking_metrics


def pairwise_auc(y, s):
    """O(n^2): share of (positive, negative) pairs ordered correctly, ties counting 1/2."""
    pos = [si for yi, si in zip(y, s) if yi == 1]
    neg = [si for yi, si in zip(y, s) if yi == 0]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def formula_logloss(y, p):
    eps = np.finfo(np.float64).eps
    p = np.clip(np.asarray(p, dtype=np.float64), eps, 1 - eps)
    y = np.asarray(y, dtype=np.float64)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


@pytest.mark.parametrize("seed", range(5))
def test_auc_matches_pairwise_reference_with_ties(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 300)
    s = rng.integers(0, 12, 300) / 4.0  # few distinct scores: many ties
    assert auc(y, s) == pytest.approx(pairwise_auc(y, s), abs=1e-9)
    assert auc(torch.tensor(y), torch.tensor(s, dtype=torch.float32)) == pytest.approx(pairwise_auc(y, s), abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(-3, 3)), min_size=2, max_size=40)
       .filter(lambda r: 0 < sum(y for y, _ in r) < len(r)))
def test_auc_property(rows):
    y, s = zip(*rows)
    assert auc(np.array(y), np.array(s, dtype=float)) == pytest.approx(pairwise_auc(y, s), abs=1e-9)


def test_auc_hand_values():
    assert auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    assert auc([0, 1], [0.5, 0.5]) == pytest.approx(0.5)


@pytest.mark.parametrize("seed", range(5))
def test_logloss_matches_formula(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 500)
    p = rng.random(500)
    p[:5] = [0.0, 1.0, 1e-20, 1 - 1e-17, 0.5]  # clipping at the extremes
    assert logloss(y, p) == pytest.approx(formula_logloss(y, p), abs=1e-9)
    t = torch.tensor(p, dtype=torch.float64)
    assert logloss(torch.tensor(y).float(), t) == pytest.approx(formula_logloss(y, p), abs=1e-9)


def test_logloss_one_class_and_hand_value():
    assert logloss([1, 1], [0.5, 0.5]) == pytest.approx(math.log(2))
    assert logloss([0, 1], [0.2, 0.9]) == pytest.approx(-(math.log(0.8) + math.log(0.9)) / 2)


def test_rank_of_positive_counts_ties_pessimistically():
    pos = torch.tensor([0.9, 0.5, 0.1, 0.7])
    neg = torch.tensor([[0.1, 0.2, 0.3],
                        [0.5, 0.1, 0.6],           # one tie, one higher -> rank 2
                        [0.2, 0.3, 0.4],
                        [float("-inf"), 0.7, 0.0]])  # -inf (masked) never counts; tie counts
    assert rank_of_positive(pos, neg).tolist() == [0, 2, 3, 1]


def test_hr_and_ndcg_on_hand_ranks():
    ranks = torch.tensor([0, 1, 4, 10])
    assert hr_at_k(ranks, 1) == pytest.approx(0.25)
    assert hr_at_k(ranks, 5) == pytest.approx(0.75)
    assert hr_at_k(ranks, 11) == pytest.approx(1.0)
    expected5 = (1 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(6)) / 4
    assert ndcg_at_k(ranks, 5) == pytest.approx(expected5)
    assert ndcg_at_k(ranks, 1) == pytest.approx(0.25)
    assert ranking_metrics([0, 1, 4, 10], ks=(5,)) == pytest.approx({"HR@5": 0.75, "NDCG@5": expected5})
