import numpy as np
import pytest
import torch

from nasc.runtime.data import load_dataset
from nasc.runtime.data.synthetic import make_synthetic
from nasc.runtime.metrics import auc


def _same(a, b):
    return all(torch.equal(a.columns[k], b.columns[k]) for k in a.columns)


def test_deterministic_for_a_seed_and_different_for_another():
    a, b = make_synthetic(seed=5, n=3000), make_synthetic(seed=5, n=3000)
    c = make_synthetic(seed=6, n=3000)
    assert _same(a.train, b.train) and _same(a.test, b.test)
    assert not torch.equal(a.train.columns["fields"], c.train.columns["fields"])


def test_planted_metadata_names_and_positive_rate():
    ds = make_synthetic(n=20000, planted=((0, 1), (2, 3, 4)))
    assert [p["fields"] for p in ds.meta["planted"]] == [[0, 1], [2, 3, 4]]
    assert [p["names"] for p in ds.meta["planted"]] == [["f0", "f1"], ["f2", "f3", "f4"]]
    assert [f.name for f in ds.schema.fields] == [f"f{i}" for i in range(8)]
    for t in (ds.train, ds.valid, ds.test):
        assert 0.2 <= float(t.columns["label"].mean()) <= 0.45
    assert (len(ds.train), len(ds.valid), len(ds.test)) == (16000, 2000, 2000)


def test_planted_interactions_leave_lr_far_behind_the_oracle():
    """LR on one-hot fields sees only the small first-order terms; crossing the planted
    fields recovers most of the oracle's AUC, so the signal is in the interactions."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import OneHotEncoder

    ds = make_synthetic(n=30000)
    tr, te = ds.train.columns, ds.test.columns

    def lr_auc(features):
        enc = OneHotEncoder(handle_unknown="ignore").fit(features(tr))
        model = LogisticRegression(max_iter=1000).fit(enc.transform(features(tr)), tr["label"].numpy())
        return auc(te["label"], model.predict_proba(enc.transform(features(te)))[:, 1])

    def crossed(c):  # one-hot fields + the planted order-2 cross (f0, f1)
        f = c["fields"].numpy()
        return np.concatenate([f, (f[:, 0] * 100 + f[:, 1])[:, None]], axis=1)

    oracle = auc(te["label"], te["true_logit"])
    plain = lr_auc(lambda c: c["fields"].numpy())
    assert oracle > 0.8 and plain < oracle - 0.12
    assert lr_auc(crossed) > plain + 0.05


def test_without_first_order_terms_lr_sees_almost_nothing():
    """Centred latent tables: a planted effect averages to 0 over any one of its fields."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import OneHotEncoder

    ds = make_synthetic(n=30000, first_order=0.0)
    tr, te = ds.train.columns, ds.test.columns
    enc = OneHotEncoder().fit(tr["fields"].numpy())
    model = LogisticRegression(max_iter=1000).fit(enc.transform(tr["fields"].numpy()), tr["label"].numpy())
    assert auc(te["label"], model.predict_proba(enc.transform(te["fields"].numpy()))[:, 1]) < 0.56
    assert auc(te["label"], te["true_logit"]) > 0.8


def test_sequence_variant_columns():
    ds = make_synthetic(n=2000, with_sequence=True, max_len=7)
    c = ds.train.columns
    assert c["sequence"].shape == (1600, 7, 2) and c["seq_mask"].shape == (1600, 7)
    assert c["target"].shape == (1600, 2)
    assert [f.group for f in ds.schema.sequence] == [f.group for f in ds.schema.target] == ["item_id", "category"]
    assert (c["seq_mask"].sum(1) >= 1).all()
    assert ds.meta["planted"][-1]["kind"] == "target_in_history"


def test_load_dataset_synthetic_passes_seed_and_options():
    ds = load_dataset("synthetic", seed=4, n=1000, num_fields=5, planted=((0, 1),))
    assert len(ds.schema.fields) == 5 and ds.meta["seed"] == 4


def test_bad_planted_tuple():
    with pytest.raises(ValueError):
        make_synthetic(n=100, planted=((0, 9),))
