"""HR@k and NDCG@k for k = 1, 5, 10 by hand, the evaluation protocols' candidate sets (99 or 100
sampled negatives, full ranking), and the protocol written into a run's summary."""
from __future__ import annotations

import json
import math

import pytest
import torch
from click.testing import CliRunner

from nasc.cli import main
from nasc.compiler.settings import NEXT_ITEM_MONITORS
from nasc.runtime.data.sequences import load_next_item
from nasc.runtime.metrics import next_item_metrics, rank_of_positive
from nasc.runtime.retrieval import MONITOR_NAMES, NextItemObjective
from nasc.runtime.train import TrainConfig
from kit.retrievalkit import SASREC_LIKE, ToyModel, successor_log


def test_hr_and_ndcg_at_1_5_10_by_hand_with_ties_against_the_positive():
    pos = torch.tensor([0.5, 0.5, 0.5, 0.5])
    neg = torch.zeros(4, 12)
    neg[1, :3] = 0.9          # three above: rank 3
    neg[2, :6] = 0.9          # six above: rank 6
    neg[2, 6:9] = 0.5         # ... and three ties, which count above: rank 9
    neg[3, :] = 0.5           # twelve ties: rank 12
    ranks = rank_of_positive(pos, neg)
    assert ranks.tolist() == [0, 3, 9, 12]
    got = next_item_metrics(ranks)
    assert got["HR@1"] == pytest.approx(1 / 4)
    assert got["HR@5"] == pytest.approx(2 / 4)
    assert got["HR@10"] == pytest.approx(3 / 4)
    assert got["NDCG@5"] == pytest.approx((1 + 1 / math.log2(5)) / 4)
    assert got["NDCG@10"] == pytest.approx((1 + 1 / math.log2(5) + 1 / math.log2(11)) / 4)
    assert list(got)[:5] == ["HR@1", "HR@5", "NDCG@5", "HR@10", "NDCG@10"]


def test_every_next_item_monitor_names_a_reported_metric():
    reported = next_item_metrics(torch.tensor([0, 3]))
    assert {MONITOR_NAMES[m] for m in NEXT_ITEM_MONITORS} <= set(reported)
    assert MONITOR_NAMES["ndcg10"] == "NDCG@10" and MONITOR_NAMES["hr10"] == "HR@10"


@pytest.mark.parametrize("negatives", [99, 100])
def test_sampled_protocols_rank_against_that_many_unseen_items(tmp_path, negatives):
    ds = load_next_item(successor_log(tmp_path / "log.txt", users=30, items=200), max_len=6)
    task = NextItemObjective(ds, TrainConfig(eval_negatives=negatives), torch.device("cpu"))
    for split in ("valid", "test"):
        candidates = task.candidates[split]
        assert candidates.shape == (30, negatives)
        for user, row in zip(task.splits[split].columns["user"].tolist(), candidates):
            assert not set(row.tolist()) & set(ds.meta["user_items"][user])
            assert row.min() >= 1 and row.max() <= ds.meta["num_items"]
    model = ToyModel(ds.schema.sequence[0].vocab_size, 3, torch.zeros(30, 3))
    assert task.ranks(model, "test").tolist() == [negatives] * 30  # all tie: the worst rank


def test_full_ranking_excludes_exactly_the_users_items(tmp_path):
    ds = load_next_item(successor_log(tmp_path / "log.txt", users=10, items=40), max_len=6)
    task = NextItemObjective(ds, TrainConfig(eval_negatives="full"), torch.device("cpu"))
    model = ToyModel(ds.schema.sequence[0].vocab_size, 3, torch.zeros(10, 3))
    unseen = [ds.meta["num_items"] - len(set(items)) for items in ds.meta["user_items"]]
    assert task.ranks(model, "valid").tolist() == unseen  # every other item ties above


def _train(*args):
    return CliRunner().invoke(main, ["train", *args, "--device", "cpu", "--quiet",
                                     "--epochs", "1", "--threads", "1"])


def test_the_summary_states_the_protocol_and_the_option_overrides_the_spec(tmp_path):
    spec = tmp_path / "tiny.nas"
    spec.write_text(SASREC_LIKE)
    log = successor_log(tmp_path / "log.txt", users=40, items=60)
    result = _train(str(spec), "--data", str(log), "--out", str(tmp_path / "a"))
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    evaluation = summary["evaluation"]
    assert evaluation["candidates"] == "the held-out item and 99 sampled negatives"  # the spec's
    assert "with replacement" in evaluation["sampled"]
    assert "seeded with 2021" in evaluation["sampled"]
    assert "validation item and the test item" in evaluation["excluded"]
    assert evaluation["ties"].startswith("pessimistic")
    assert summary["monitor"] == "valid NDCG@10" and "HR@10" in result.output
    config = json.loads((tmp_path / "a" / "config.json").read_text())
    assert config["train"]["eval_negatives"] == 99 and config["train"]["objective"] == "seq2seq"

    result = _train(str(spec), "--data", str(log), "--out", str(tmp_path / "b"),
                    "--eval-negatives", "full")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert summary["evaluation"]["sampled"] == "nothing (full ranking)"
    assert "every other item of the catalogue" in summary["evaluation"]["candidates"]
