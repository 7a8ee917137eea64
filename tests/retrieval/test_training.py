"""Sampled-BCE training of next-item models: the loss by hand, and learning a planted rule."""
from __future__ import annotations

import json
import math

import pytest
import torch

from nasc.runtime.data.sequences import load_next_item
from nasc.runtime.retrieval import NextItemObjective, sampled_bce
from nasc.runtime.commands.train import train_spec
from nasc.runtime.train import TrainConfig
from kit.retrievalkit import TINY_REC, ToyModel, successor_log

def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def test_sampled_bce_by_hand_on_two_users(tmp_path):
    log = tmp_path / "log.txt"
    log.write_text("1 1 2 3 4\n2 3 4 1 2\n3 5 6 7 8\n")
    ds = load_next_item(log)
    task = NextItemObjective(ds, TrainConfig(), torch.device("cpu"))
    model = ToyModel(ds.schema.sequence[0].vocab_size, 2, torch.tensor([[2.0, 0.0], [0.0, -1.0]]))
    with torch.no_grad():  # local items 1..4 by hand (row 0 is padding)
        model.seq.fields.table.weight.zero_()
        model.seq.fields.table.weight[1:5] = torch.tensor(
            [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.0]])
    batch = {"user": torch.tensor([0, 1]), "target": torch.tensor([[1], [2]]),
             "negatives": torch.tensor([[3, 4], [1, 3]])}
    loss, n = task.loss(model, batch)
    # user 0: positive scores 2, negatives 2 and -2; user 1: positive -1, negatives 0 and -1.
    # -log sigmoid(x) = softplus(-x); -log(1 - sigmoid(x)) = softplus(x).
    user0 = softplus(-2) + softplus(2) + softplus(-2)
    user1 = softplus(1) + softplus(0) + softplus(-1)
    assert n == 2
    assert float(loss.detach()) == pytest.approx((user0 + user1) / 2, rel=1e-6)
    assert float(sampled_bce(torch.tensor([0.0]), torch.tensor([[0.0]]))) == pytest.approx(
        2 * math.log(2))
    loss.backward()
    assert model.seq.fields.table.weight.grad[1:5].abs().sum() > 0  # the item table learns


def test_training_learns_a_planted_successor_rule(tmp_path):
    spec = tmp_path / "tiny_rec.nas"
    spec.write_text(TINY_REC)
    log = successor_log(tmp_path / "log.txt", users=300, items=120)
    message = train_spec(str(spec), data=str(log), out=str(tmp_path / "run"), device="cpu",
                         quiet=True)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    history = json.loads((tmp_path / "run" / "metrics.json").read_text())
    random_hr5 = 5 / 101
    assert summary["test"]["HR@5"] > 6 * random_hr5, (message, history)
    assert summary["test"]["NDCG@5"] > 0.2
    assert history[-1]["train_sampled_bce"] < history[0]["train_sampled_bce"]
    assert summary["best_epoch"] == max(history, key=lambda r: r["valid_NDCG@5"])["epoch"]
    assert "HR@5" in message and "100 sampled unseen negatives" in message


def test_the_train_block_monitor_picks_the_best_epoch(tmp_path):
    spec = tmp_path / "tiny_rec.nas"
    spec.write_text(TINY_REC.replace("  patience 6\n", "  patience 6\n  monitor hr1\n"))
    log = successor_log(tmp_path / "log.txt", users=300, items=120)
    train_spec(str(spec), data=str(log), out=str(tmp_path / "run"), device="cpu", quiet=True)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    history = json.loads((tmp_path / "run" / "metrics.json").read_text())
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["monitor"] == "valid HR@1" and config["train"]["monitor"] == "hr1"
    assert summary["best_epoch"] == max(history, key=lambda r: r["valid_HR@1"])["epoch"]
