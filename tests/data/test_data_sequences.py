import pytest
import torch

from nasc.errors import DataError
from nasc.runtime.data import load_dataset
from nasc.runtime.data.sequences import load_din_ctr, load_next_item, parse_log, sample_negatives

LOG = "1 10 11 12 13 14\n2 11 12 15\n3 10 16 17 18\n"


def _log(tmp_path, text=LOG):
    p = tmp_path / "log.txt"
    p.write_text(text)
    return p


def _raw(ds, ids):
    """Local item indices -> raw item ids (inverse of the item vocabulary)."""
    return [ds.meta["item_ids"][int(i) - 1] if int(i) else 0 for i in ids]


def test_leave_one_out_targets_and_left_padding(tmp_path):
    ds = load_next_item(_log(tmp_path), max_len=3)
    assert ds.schema.task == "next_item" and ds.schema.max_len == 3
    test = ds.test.columns
    assert _raw(ds, test["target"][:, 0]) == [14, 15, 18]
    assert _raw(ds, test["sequence"][0, :, 0]) == [11, 12, 13]  # last max_len items, most recent last
    assert _raw(ds, test["sequence"][1, :, 0]) == [0, 11, 12] and test["seq_mask"][1].tolist() == [False, True, True]
    assert _raw(ds, ds.valid.columns["target"][:, 0]) == [13, 12, 17]
    # train targets: positions 1..L-3 -> user 1: 11, 12; user 2: none; user 3: 16
    assert sorted(_raw(ds, ds.train.columns["target"][:, 0])) == [11, 12, 16]
    assert ds.meta["num_items"] == 9 and ds.schema.target[0].vocab_size == 11


def test_train_positions_keeps_the_last_k(tmp_path):
    ds = load_next_item(_log(tmp_path), train_positions=1)
    assert sorted(_raw(ds, ds.train.columns["target"][:, 0])) == [12, 16]


def test_user_item_pairs_are_grouped(tmp_path):
    users, seqs = parse_log(_log(tmp_path, "5 1\n5 2\n6 3\n5 4\n6 1\n"))
    assert users.tolist() == [5, 6] and [s.tolist() for s in seqs] == [[1, 2, 4], [3, 1]]


def test_bad_token_names_line(tmp_path):
    p = _log(tmp_path, "1 2 3\n2 4 x5\n")
    with pytest.raises(DataError) as exc:
        parse_log(p)
    assert f"{p}:2: error: 'x5' is not an integer id" in exc.value.render()


def test_sample_negatives_are_unseen_and_deterministic():
    user_items = [[1, 2, 3], [4], list(range(1, 9))]  # user 2 saw all but 9 and 10
    gen = lambda: torch.Generator().manual_seed(3)  # noqa: E731
    neg = sample_negatives(user_items, 50, 10, gen())
    assert neg.shape == (3, 50)
    for u, items in enumerate(user_items):
        assert not set(neg[u].tolist()) & set(items)
        assert set(neg[u].tolist()) <= set(range(1, 11))
    assert set(neg[2].tolist()) == {9, 10}
    assert torch.equal(neg, sample_negatives(user_items, 50, 10, gen()))
    rows = sample_negatives(user_items, 4, 10, gen(), users=torch.tensor([1, 1, 0]))
    assert rows.shape == (3, 4) and not (rows[2].unsqueeze(1) == torch.tensor([1, 2, 3])).any()


def test_full_ranking_masks_seen_items():
    full = sample_negatives([[2, 3], [1]], None, 4)
    assert full.tolist() == [[1, 0, 0, 4], [0, 2, 3, 4]]


def test_no_negative_left_is_an_error():
    with pytest.raises(ValueError):
        sample_negatives([[1, 2, 3]], 5, 3)


def test_din_ctr_rows(tmp_path):
    ds = load_din_ctr(_log(tmp_path), train_positions=5, max_len=4, seed=1)
    assert ds.schema.task == "ctr" and [f.name for f in ds.schema.fields] == ["user"]
    t = ds.test.columns
    assert len(ds.test) == 6 and t["label"].tolist() == [1, 1, 1, 0, 0, 0]
    assert torch.equal(t["sequence"][:3], t["sequence"][3:])  # same history for pos and neg
    for row in range(3, 6):  # negatives: never interacted with by that user
        assert int(t["target"][row, 0]) not in ds.meta["user_items"][int(t["user"][row])]


def test_load_dataset_sniffs_a_sequence_log(tmp_path):
    ds = load_dataset(str(_log(tmp_path)))
    assert ds.schema.task == "next_item"
    ds = load_dataset(str(_log(tmp_path)), task="ctr")
    assert ds.schema.task == "ctr"
