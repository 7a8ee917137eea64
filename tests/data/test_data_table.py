import numpy as np
import pytest
import torch

from nasc.runtime.data.build import pad_ragged
from nasc.runtime.data.table import FieldInfo, Schema, TensorTable


def _table(n=10):
    return TensorTable({"fields": torch.arange(n * 2).reshape(n, 2), "label": torch.arange(n).float()})


def test_schema_json_round_trip():
    s = Schema(fields=[FieldInfo("a", "categorical", 5, "a"), FieldInfo("t", "multi_hot", 4, "t")],
               sequence=[FieldInfo("h", "sequence", 9, "item_id")],
               target=[FieldInfo("i", "target", 9, "item_id")], max_len=7, task="ctr")
    assert Schema.from_json(s.to_json()) == s
    assert [f.name for f in s.categorical] == ["a"] and [f.name for f in s.multi_hot] == ["t"]


def test_columns_must_share_first_dim():
    with pytest.raises(ValueError):
        TensorTable({"fields": torch.zeros(3, 2), "label": torch.zeros(4)})


def test_batches_cover_every_row_once_and_keep_rows_aligned():
    t = _table(10)
    gen = torch.Generator().manual_seed(0)
    batches = list(t.batches(4, shuffle=True, generator=gen))
    assert [len(b["label"]) for b in batches] == [4, 4, 2]
    labels = torch.cat([b["label"] for b in batches])
    assert sorted(labels.tolist()) == list(range(10)) and labels.tolist() != list(range(10))
    for b in batches:  # row i of fields is [2i, 2i+1]
        assert torch.equal(b["fields"][:, 0], 2 * b["label"].long())
    plain = list(t.batches(4, shuffle=False, generator=None))
    assert torch.cat([b["label"] for b in plain]).tolist() == list(range(10))


def test_subset_and_len():
    t = _table(10).subset(torch.tensor([1, 3]))
    assert len(t) == 2 and t.columns["label"].tolist() == [1.0, 3.0]


def test_pad_ragged_left_keeps_most_recent():
    ids = np.array([1, 2, 3, 4, 5, 6])
    lengths = np.array([4, 0, 2])
    out, mask = pad_ragged(ids, lengths, 3, left=True)
    assert out.tolist() == [[2, 3, 4], [0, 0, 0], [0, 5, 6]]
    assert mask.tolist() == [[True] * 3, [False] * 3, [False, True, True]]
    out, _ = pad_ragged(ids, lengths, 3, left=False)
    assert out.tolist() == [[1, 2, 3], [0, 0, 0], [5, 6, 0]]
