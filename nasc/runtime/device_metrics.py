"""AUC and logloss of many score rows at once, on the scores' device, equal to nasc.runtime.metrics
(scikit-learn) to float64 rounding.

One-shot ranking scores hundreds of children on the same validation rows; one sklearn call and
one host copy per child cost more than the children's forward passes. Here every row of a
(C, N) matrix is scored in a few batched kernels and the results stay on the device, so a ranking
syncs once. Tested against sklearn on data with many ties (tests/test_device_metrics.py).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

EPS = torch.finfo(torch.float64).eps  # sklearn's clip for float64 probabilities


def average_ranks(scores: Tensor) -> tuple[Tensor, Tensor]:
    """scores (C, N) -> (order (C, N), ranks (C, N) float64): ``order`` sorts each row ascending and
    ``ranks[c, i]`` is the 1-based rank of ``scores[c, order[c, i]]``, ties sharing their average
    rank (as scipy.stats.rankdata and so sklearn's AUC)."""
    values, order = scores.sort(dim=1, stable=True)
    n = values.shape[1]
    index = torch.arange(n, device=scores.device).expand_as(values)
    new = torch.ones_like(values, dtype=torch.bool)
    new[:, 1:] = values[:, 1:] != values[:, :-1]  # a tie group starts here
    end = torch.ones_like(new)
    end[:, :-1] = new[:, 1:]  # a tie group ends here
    first = torch.where(new, index, 0).cummax(dim=1).values
    last = torch.where(end, index, n - 1).flip(1).cummin(dim=1).values.flip(1)
    return order, (first + last).double() / 2 + 1


def auc_rows(labels: Tensor, scores: Tensor) -> Tensor:
    """ROC AUC of each row of ``scores`` (C, N) against 0/1 ``labels`` (N,) -> float64 (C,).

    Mann-Whitney: (sum of the positives' average ranks - P (P + 1) / 2) / (P Q), which is the
    area under the tie-collapsed ROC curve sklearn integrates. NaN when a class is missing (sklearn
    raises instead)."""
    order, ranks = average_ranks(scores)
    positive = labels.to(scores.device).double()[order]  # (C, N) labels in each row's order
    pos = positive[0].sum()
    neg = positive.shape[1] - pos
    return ((positive * ranks).sum(1) - pos * (pos + 1) / 2) / (pos * neg)


def logloss_rows(labels: Tensor, probs: Tensor) -> Tensor:
    """Mean binary cross-entropy of each row of ``probs`` (C, N) -> float64 (C,), as sklearn's
    log_loss on float64: P(0) = 1 - p is taken before both are clipped to [eps, 1 - eps]."""
    p = probs.double()
    one = labels.to(p.device).bool()
    chosen = torch.where(one, p, 1 - p).clamp(EPS, 1 - EPS)
    return -chosen.log().mean(1)


def ctr_scores(labels: Tensor, probs: Tensor) -> Tensor:
    """(C, 2) float64 on the device: each row's AUC and logloss."""
    return torch.stack([auc_rows(labels, probs), logloss_rows(labels, probs)], dim=1)


def ctr_score_list(labels: Tensor, probs: list[Tensor], chunk: int = 64) -> list[dict[str, float]]:
    """{'auc', 'logloss'} of each probability vector (N,) in ``probs``, as nasc.runtime.metrics
    gives them, read to the host once. ``chunk`` rows are sorted at a time to bound the working
    memory. Raises where sklearn did: NaN probabilities, or a single class in ``labels``."""
    if not probs:
        return []
    rows = []
    for i in range(0, len(probs), chunk):
        block = torch.stack(probs[i:i + chunk])
        rows.append(torch.cat([ctr_scores(labels, block),
                               block.isnan().any(1, keepdim=True).double()], dim=1))
    values = torch.cat(rows).tolist()  # the one host sync
    if any(nan for _, _, nan in values):
        raise ValueError("Input contains NaN.")  # sklearn's refusal of a diverged child
    if math.isnan(values[0][0]):  # P Q = 0
        raise ValueError("Only one class present in y_true. ROC AUC score is not defined in that "
                         "case.")
    return [{"auc": auc, "logloss": logloss} for auc, logloss, _ in values]
