"""Ranking metrics and the leave-one-out evaluation of next-item models (hand-computed cases)."""
from __future__ import annotations

import math

import pytest
import torch

from nasc.runtime.data.sequences import load_next_item
from nasc.runtime.metrics import next_item_metrics, rank_of_positive
from nasc.runtime.retrieval import NextItemObjective, item_table
from nasc.runtime.train import TrainConfig
from kit.retrievalkit import ToyModel


def test_hr_and_ndcg_by_hand_with_ties():
    pos = torch.tensor([0.9, 0.5, 0.2, 0.7])
    neg = torch.tensor([[0.1, 0.9, 0.3, 0.95, 0.0, 0.0],   # one tie + one higher: rank 2
                        [0.1, 0.2, 0.3, 0.4, 0.0, 0.0],     # best: rank 0
                        [0.2, 0.2, 0.2, 0.2, 0.2, 0.2],     # all tied: rank 6 (pessimistic)
                        [0.7, 0.0, 0.0, 0.0, 0.0, 0.0]])    # a single tie: rank 1, not 0
    ranks = rank_of_positive(pos, neg)
    assert ranks.tolist() == [2, 0, 6, 1]
    got = next_item_metrics(ranks)
    assert list(got)[:3] == ["HR@1", "HR@5", "NDCG@5"]
    assert got["HR@1"] == pytest.approx(1 / 4)
    assert got["HR@5"] == pytest.approx(3 / 4)
    assert got["NDCG@5"] == pytest.approx((1 / math.log2(4) + 1 + 0 + 1 / math.log2(3)) / 4)


def _dataset(tmp_path, text="1 1 2 3 4 5\n2 6 7 8 9\n3 2 4 6 8 10\n"):
    path = tmp_path / "log.txt"
    path.write_text(text)
    return load_next_item(path, max_len=4)


def test_a_constant_model_gets_the_worst_rank(tmp_path):
    ds = _dataset(tmp_path)
    model = ToyModel(ds.schema.sequence[0].vocab_size, 3, torch.zeros(3, 3))
    task = NextItemObjective(ds, TrainConfig(eval_negatives=4), torch.device("cpu"))
    assert task.ranks(model, "test").tolist() == [4, 4, 4]
    assert next_item_metrics(task.ranks(model, "test"))["HR@1"] == 0.0
    full = NextItemObjective(ds, TrainConfig(eval_negatives="full"), torch.device("cpu"))
    unseen = [ds.meta["num_items"] - len(set(s)) for s in ds.meta["user_items"]]
    assert full.ranks(model, "test").tolist() == unseen  # every unseen item ties above


@pytest.mark.parametrize("rows_per_forward", [None, 1, 2])
@pytest.mark.parametrize("negatives", [5, "full"])
def test_ranks_match_brute_force(tmp_path, negatives, rows_per_forward):
    """Ranks by hand, whatever the users per forward (the split scored in chunks: each chunk's
    candidates must be its own rows')."""
    ds = _dataset(tmp_path)
    vocab = ds.schema.sequence[0].vocab_size
    torch.manual_seed(0)
    model = ToyModel(vocab, 4, torch.randn(3, 4))
    task = NextItemObjective(ds, TrainConfig(eval_negatives=negatives, seed=7),
                             torch.device("cpu"))
    assert task.forward_rows() >= 3  # by default the three users are one forward
    if rows_per_forward is not None:
        task.forward_rows = lambda: rows_per_forward
    table = item_table(model).detach()
    for split in ("valid", "test"):
        cols = ds.splits()[split].columns
        want = []
        for row in range(len(cols["user"])):
            user = int(cols["user"][row])
            s = table @ model.users[user].detach()
            target = int(cols["target"][row, 0])
            if negatives == "full":
                history = set(ds.meta["user_items"][user])
                others = [i for i in range(1, ds.meta["num_items"] + 1) if i not in history]
            else:
                others = task.candidates[split][row].tolist()
            want.append(sum(bool(s[i] >= s[target]) for i in others))
        assert task.ranks(model, split).tolist() == want


def test_evaluation_negatives_are_unseen_and_fixed_by_the_seed(tmp_path):
    ds = _dataset(tmp_path)
    cpu = torch.device("cpu")
    a = NextItemObjective(ds, TrainConfig(seed=3), cpu)
    b = NextItemObjective(ds, TrainConfig(seed=3), cpu)
    c = NextItemObjective(ds, TrainConfig(seed=4), cpu)
    for split in ("valid", "test"):
        negs = a.candidates[split]
        assert negs.shape == (3, 100)  # default: 100 negatives per positive
        assert torch.equal(negs, b.candidates[split])
        assert not torch.equal(negs, c.candidates[split])
        cols = ds.splits()[split].columns
        for row, user in enumerate(cols["user"].tolist()):
            drawn = set(negs[row].tolist())
            assert not drawn & set(ds.meta["user_items"][user])  # never the history or a target
            assert int(cols["target"][row, 0]) not in drawn
            assert drawn <= set(range(1, ds.meta["num_items"] + 1))
    # the same negatives every epoch: evaluation draws nothing new
    model = ToyModel(ds.schema.sequence[0].vocab_size, 3, torch.randn(3, 3))
    assert a.evaluate(model, "test") == a.evaluate(model, "test") == b.evaluate(model, "test")


def test_training_negatives_avoid_the_users_training_items(tmp_path):
    ds = _dataset(tmp_path)
    task = NextItemObjective(ds, TrainConfig(seed=1, negatives=3, batch=2), torch.device("cpu"))
    shuffle = torch.Generator().manual_seed(0)
    epochs = [[b for b in task.batches(shuffle)] for _ in range(2)]
    for batches in epochs:
        for batch in batches:
            assert batch["negatives"].shape[1] == 3
            for user, target, negs in zip(batch["user"].tolist(), batch["target"][:, 0].tolist(),
                                          batch["negatives"].tolist()):
                assert target not in negs
                assert not set(negs) & set(ds.meta["user_items"][user][:-2])
    first = torch.cat([b["negatives"] for b in epochs[0]])
    second = torch.cat([b["negatives"] for b in epochs[1]])
    assert not torch.equal(first, second)  # redrawn every epoch
