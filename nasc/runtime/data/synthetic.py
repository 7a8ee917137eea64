"""The embedded default dataset: a click log with planted feature interactions of known order.

Each field takes ``vocab`` values with a mildly skewed distribution. The logit is

    bias + strength * sum_t z_t(x) + first-order terms (std first_order) + noise * N(0, 1)

where, for a planted tuple t of fields, z_t = sum_k prod_{f in t} U_f[x_f, k] with latent
tables U_f (vocab, dim_signal) centred under the value distribution and z_t standardised.
Centring makes every planted effect a pure interaction: its average over any one of the fields
is 0, so an order-3 effect is invisible to models of order <= 2 and LR sees only the small
first-order terms. ``heredity`` h > 0 adds h to every latent table after centring, so each
sub-tuple of a planted tuple carries part of its effect (the hierarchy that progressive
searches such as AMEIR's SMBO rely on: a pure order-3 effect leaves no trace in any pair). The bias is set so the positive rate is ``positive_rate``; labels are
Bernoulli(sigmoid(logit)). Each split carries a column "true_logit" (N,), the noiseless logit,
for oracle baselines; it is not a model input.

With ``with_sequence`` each row also has a behaviour history of (item, category) pairs and a
target item; the planted sequence effect is +/- ``strength`` depending on whether the target's
category occurs in the history, so a model must relate the target to the history (attention).
``items_only`` keeps the item ids alone, as a next-item log holds them (the category still
plants the effect): what a `head next_item` model is sized on.
"""
from __future__ import annotations

import numpy as np
import torch

from .build import Ragged, RawTable, build_dataset
from .splits import random_split
from .table import Dataset


def _calibrate_bias(logit: np.ndarray, rate: float) -> float:
    """Bias b with mean(sigmoid(logit + b)) = rate (bisection; the mean is monotone in b)."""
    lo, hi = -20.0, 20.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if np.mean(1 / (1 + np.exp(-(logit + mid)))) < rate:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _skewed_probs(k: int) -> np.ndarray:
    p = 1.0 / np.sqrt(np.arange(1, k + 1))
    return p / p.sum()


def make_synthetic(seed: int = 2021, n: int = 60000, num_fields: int = 8, vocab: int = 20,
                   dim_signal: int = 4, planted=((0, 1), (2, 3, 4)), noise: float = 0.5,
                   with_sequence: bool = False, max_len: int = 20, strength: float = 1.5,
                   positive_rate: float = 0.3, first_order: float = 0.3, num_items: int = 200,
                   num_categories: int = 10, heredity: float = 0.0,
                   items_only: bool = False) -> Dataset:
    rng = np.random.default_rng(seed)
    planted = [tuple(int(f) for f in t) for t in planted]
    for t in planted:
        if len(set(t)) != len(t) or not all(0 <= f < num_fields for f in t):
            raise ValueError(f"planted tuple {t} must name distinct fields in 0..{num_fields - 1}")
    names = [f"f{i}" for i in range(num_fields)]
    probs = _skewed_probs(vocab)
    x = rng.choice(vocab, size=(n, num_fields), p=probs)  # (N, m) raw values

    logit = np.zeros(n)
    for t in planted:
        z = np.ones((n, dim_signal))
        for f in t:
            table = rng.standard_normal((vocab, dim_signal))
            table -= probs @ table  # centred under the value distribution: no main effect
            table += heredity       # > 0: every sub-tuple of t carries part of its effect
            z *= table[x[:, f]]
        z = z.sum(axis=1)
        logit += strength * z / z.std()
    main = rng.normal(0.0, 1.0, size=(num_fields, vocab)) * first_order
    logit += main[np.arange(num_fields), x].sum(axis=1)

    # Raw rows to score are a CSV with columns f0, f1, ... of integer values.
    raw = RawTable(label=np.zeros(n, np.float32),
                   categorical={nm: x[:, i] for i, nm in enumerate(names)},
                   reader=None if with_sequence else "table",
                   recipes={nm: {"column": nm, "transform": "integer"} for nm in names})
    planted_meta = [{"fields": list(t), "names": [names[f] for f in t], "order": len(t)}
                    for t in planted]
    if with_sequence:
        seq_logit, seq_raw = _behaviours(rng, n, max_len, num_items, num_categories, strength)
        logit += seq_logit
        raw.sequence, raw.target = seq_raw
        raw.groups = {"hist_item": "item_id", "target_item": "item_id",
                      "hist_category": "category", "target_category": "category"}
        if items_only:  # behaviours as a next-item log holds them: item ids, no side field
            raw.sequence = {"hist_item": raw.sequence["hist_item"]}
            raw.target = {"target_item": raw.target["target_item"]}
            raw.groups = {"hist_item": "item_id", "target_item": "item_id"}
        planted_meta.append({"kind": "target_in_history", "names": ["target_category", "hist_category"],
                             "order": 2})

    true_logit = logit - logit.mean()
    noisy = true_logit + noise * rng.standard_normal(n)
    bias = _calibrate_bias(noisy, positive_rate)
    raw.label = (rng.random(n) < 1 / (1 + np.exp(-(noisy + bias)))).astype(np.float32)

    splits = random_split(n, seed)
    meta = {"source": "synthetic", "seed": seed, "planted": planted_meta, "noise": noise,
            "strength": strength, "first_order": first_order, "dim_signal": dim_signal, "vocab": vocab,
            "split": "random811"}
    ds = build_dataset(f"synthetic{'_seq' if with_sequence else ''}", raw, splits,
                       max_len=max_len if with_sequence else 0, meta=meta)
    # The noiseless logit, per split, for oracle baselines (not a model input).
    logit_t = torch.from_numpy((true_logit + bias).astype(np.float32))
    for table, idx in zip((ds.train, ds.valid, ds.test), splits):
        table.columns["true_logit"] = logit_t[torch.from_numpy(idx)]
    return ds


def _behaviours(rng, n, max_len, num_items, num_categories, strength):
    """Histories (item, category), a target item, and the target-in-history effect (N,)."""
    item_cat = rng.integers(0, num_categories, size=num_items)
    lengths = rng.integers(1, max_len + 1, size=n)
    hist_items = rng.choice(num_items, size=int(lengths.sum()), p=_skewed_probs(num_items))
    hist_cats = item_cat[hist_items]
    target = rng.choice(num_items, size=n, p=_skewed_probs(num_items))
    rows = np.repeat(np.arange(n), lengths)
    hit = np.zeros(n, dtype=bool)
    hit[rows[hist_cats == item_cat[target][rows]]] = True  # target's category occurs in the history
    effect = strength * (hit - hit.mean()) / max(hit.std(), 1e-9)
    sequence = {"hist_item": Ragged(hist_items, lengths), "hist_category": Ragged(hist_cats, lengths)}
    targets = {"target_item": target, "target_category": item_cat[target]}
    return effect, (sequence, targets)
