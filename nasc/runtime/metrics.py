"""Evaluation metrics. A 0.001 AUC difference matters in CTR work, so AUC and logloss come
from scikit-learn (exact, ties handled) rather than hand-written code.

Ranking metrics (next-item): the positive is ranked among itself + its negatives; ``ranks`` are
0-based. Ties are counted pessimistically: a negative scoring *equal* to the positive ranks
above it, so a constant model gets the worst rank rather than a lucky one.
"""
from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import log_loss, roc_auc_score
from torch import Tensor

from nasc.compiler.settings import NEXT_ITEM_CUTOFFS


def _np(x) -> np.ndarray:
    if isinstance(x, Tensor):
        x = x.detach().cpu()
        x = x.double() if x.is_floating_point() else x
        return x.numpy().reshape(-1)
    return np.asarray(x).reshape(-1)


def auc(y_true, y_score) -> float:
    """ROC AUC (sklearn.roc_auc_score); tied scores count 1/2. Tensors or arrays of shape (N,)."""
    return float(roc_auc_score(_np(y_true), _np(y_score).astype(np.float64)))


def logloss(y_true, y_prob) -> float:
    """Mean binary cross-entropy (sklearn.log_loss) of P(label = 1).

    Probabilities are cast to float64 and sklearn clips them to [eps, 1 - eps], eps = float64
    machine epsilon (~2.2e-16). Both classes are assumed, so one-class inputs also work.
    """
    return float(log_loss(_np(y_true), _np(y_prob).astype(np.float64), labels=[0, 1]))


def rank_of_positive(pos_scores: Tensor, neg_scores: Tensor) -> Tensor:
    """pos_scores (N,), neg_scores (N, n) -> Long (N,) 0-based rank of the positive.

    rank = number of negatives scoring >= the positive (ties pessimistic). Negatives set to
    -inf (e.g. masked padding candidates) never count.
    """
    return (neg_scores >= pos_scores.unsqueeze(1)).sum(dim=1)


def hr_at_k(ranks, k: int) -> float:
    """Hit ratio @k: share of rows whose positive ranks in the top k (rank < k)."""
    r = torch.as_tensor(ranks)
    return float((r < k).double().mean())


def ndcg_at_k(ranks, k: int) -> float:
    """NDCG@k with one relevant item: 1 / log2(rank + 2) if rank < k, else 0; mean over rows."""
    r = torch.as_tensor(ranks).double()
    return float(torch.where(r < k, 1.0 / torch.log2(r + 2.0), torch.zeros_like(r)).mean())


def ranking_metrics(ranks, ks=(1, 5, 10)) -> dict[str, float]:
    """{'HR@k': …, 'NDCG@k': …} for each k."""
    out: dict[str, float] = {}
    for k in ks:
        out[f"HR@{k}"] = hr_at_k(ranks, k)
        out[f"NDCG@{k}"] = ndcg_at_k(ranks, k)
    return out


def next_item_metric_names(cutoffs=NEXT_ITEM_CUTOFFS) -> tuple[str, ...]:
    """HR@k for every cut-off and NDCG@k for those above 1 (NDCG@1 = HR@1), in cut-off order:
    HR@1, HR@5, NDCG@5, HR@10, NDCG@10, ..."""
    return tuple(name for k in cutoffs for name in (f"HR@{k}", f"NDCG@{k}")
                 if name != "NDCG@1")


# The next-item metrics nasc reports (AMEIR Table 2 reports HR@5 and NDCG@5; SASRec and S3-Rec
# HR@1/5/10 and NDCG@5/10).
NEXT_ITEM_METRICS = next_item_metric_names()


def next_item_metrics(ranks) -> dict[str, float]:
    """NEXT_ITEM_METRICS of 0-based ranks (see ``rank_of_positive``)."""
    scores = ranking_metrics(ranks, ks=NEXT_ITEM_CUTOFFS)
    return {name: scores[name] for name in NEXT_ITEM_METRICS}
