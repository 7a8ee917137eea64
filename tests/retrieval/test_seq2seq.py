"""Sequence-to-sequence training (`objective seq2seq`): the rows, the loss by hand, the sampled
negatives, the per-position model, and learning a planted rule."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from nasc.compiler.frontend import load
from nasc.runtime.commands.train import train_spec
from nasc.runtime.data.sequences import load_next_item, shifted_sequences
from nasc.runtime.model import build_fixed
from nasc.runtime.per_position import NoPerPositionOutput, per_position_model
from nasc.runtime.seq2seq import Seq2SeqObjective
from nasc.runtime.train import TrainConfig
from kit.retrievalkit import IDENTITY_MODEL, SASREC_LIKE, ToyModel, successor_log

CPU = torch.device("cpu")

IDENTITY_REC = IDENTITY_MODEL + "\ntrain {\n  objective seq2seq\n}\n"


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def _model(tmp_path, text, ds):
    spec = tmp_path / "spec.nas"
    spec.write_text(text)
    torch.manual_seed(0)
    return build_fixed(load(str(spec))[2], ds.schema)


def test_shifted_sequences_pair_each_item_with_the_next():
    users, inputs, nexts, mask = shifted_sequences(
        [np.array([1, 2, 3, 4]), np.array([7]), np.array([5, 6, 7, 8, 9, 10])], max_len=3)
    assert users.tolist() == [0, 2]  # one training item gives no pair
    assert inputs.tolist() == [[1, 2, 3], [7, 8, 9]]  # the last max_len positions
    assert nexts.tolist() == [[2, 3, 4], [8, 9, 10]]
    assert mask.all()
    _, inputs, nexts, mask = shifted_sequences([np.array([1, 2, 3])], max_len=4)
    assert inputs.tolist() == [[0, 0, 1, 2]] and nexts.tolist() == [[0, 0, 2, 3]]  # left-padded
    assert mask.tolist() == [[False, False, True, True]]


def test_seq2seq_loss_by_hand_ignores_padding(tmp_path):
    log = tmp_path / "log.txt"
    log.write_text("1 1 2 3 4 5\n2 6 7 8 9 10\n")  # user 1 trains on local items 1 2 3
    ds = load_next_item(log, max_len=4)
    model = _model(tmp_path, IDENTITY_REC, ds)
    with torch.no_grad():
        model.head.weight.copy_(torch.eye(2))
        model.seq.fields.table.weight[:6] = torch.tensor(
            [[3.0, 3.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.0], [2.0, 0.0]])
    task = Seq2SeqObjective(ds, TrainConfig(objective="seq2seq", eval_negatives=3), CPU)
    first = task.rows.subset(torch.tensor([0])).columns
    assert first["sequence"][:, :, 0].tolist() == [[0, 0, 1, 2]]
    assert first["next_items"].tolist() == [[0, 0, 2, 3]]
    batch = {**first, "next_items": torch.tensor([[5, 5, 2, 3]]),  # padding: junk
             "negatives": torch.tensor([[5, 5, 4, 4]])}
    loss, positions = task.loss(model, batch)
    # t=2: output e1 = (1,0), positive e2 -> 0, negative e4 -> -1;
    # t=3: output e2 = (0,1), positive e3 -> 1, negative e4 -> 0. -log sigmoid(x) = softplus(-x).
    want = (softplus(-0.0) + softplus(-1.0) + softplus(-1.0) + softplus(0.0)) / 2
    assert positions == 2
    assert float(loss.detach()) == pytest.approx(want, rel=1e-6)


def test_one_negative_per_position_never_an_interacted_item_and_seeded_per_epoch(tmp_path):
    log = successor_log(tmp_path / "log.txt", users=40, items=12)  # small catalogue: many clashes
    ds = load_next_item(log, max_len=6)
    task = Seq2SeqObjective(ds, TrainConfig(objective="seq2seq", batch=1000, seed=5), CPU)
    shuffle = torch.Generator().manual_seed(0)
    epochs = [next(iter(task.batches(shuffle))) for _ in range(2)]
    for batch in epochs:
        assert batch["negatives"].shape == batch["next_items"].shape  # one per position
        for row in range(len(batch["user"])):
            seen = set(task.train_items[int(batch["user"][row])].tolist())
            real = batch["negatives"][row][batch["seq_mask"][row]].tolist()
            assert real and not seen & set(real)
    first, second = (dict(zip(b["user"].tolist(), b["negatives"])) for b in epochs)
    assert any(not torch.equal(first[u], second[u]) for u in first)  # redrawn every epoch
    again = Seq2SeqObjective(ds, TrainConfig(objective="seq2seq", batch=1000, seed=5), CPU)
    replay = next(iter(again.batches(torch.Generator().manual_seed(0))))
    assert torch.equal(replay["negatives"], epochs[0]["negatives"])  # fixed by the seed


def test_the_per_position_model_shares_weights_and_is_causal(tmp_path):
    ds = load_next_item(successor_log(tmp_path / "log.txt", users=20, items=30), max_len=8)
    model = _model(tmp_path, SASREC_LIKE, ds).eval()
    per_position = per_position_model(model)
    batch = ds.valid.columns
    outputs = per_position(batch)
    assert outputs.shape == (len(batch["user"]), 8, 16)
    # left-padded rows end at their last item: the last position is the model's user vector
    assert torch.allclose(outputs[:, -1], model(batch), atol=1e-6)
    changed = {**batch, "sequence": batch["sequence"].clone()}
    changed["sequence"][:, -1] = 1  # a different latest item
    assert torch.allclose(per_position(changed)[:, :-1], outputs[:, :-1], atol=1e-6)
    assert {id(p) for p in per_position.parameters()} <= {id(p) for p in model.parameters()}


def test_a_model_without_a_pooled_sequence_has_no_per_position_output(tmp_path):
    ds = load_next_item(successor_log(tmp_path / "log.txt", users=5, items=10), max_len=4)
    with pytest.raises(NoPerPositionOutput, match="fixed model"):
        per_position_model(ToyModel(12, 2, torch.zeros(5, 2)))
    spec = IDENTITY_REC.replace("last(h)", "mean_pool(h)").replace("  objective seq2seq\n", "")
    with pytest.raises(NoPerPositionOutput, match="last"):
        per_position_model(_model(tmp_path, spec, ds))


def test_seq2seq_learns_a_successor_log_within_seconds(tmp_path):
    spec = tmp_path / "tiny_sasrec.nas"
    spec.write_text(SASREC_LIKE)
    log = successor_log(tmp_path / "log.txt", users=300, items=120)
    message = train_spec(str(spec), data=str(log), out=str(tmp_path / "run"), device="cpu",
                         quiet=True, threads=1)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    history = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert summary["test"]["HR@10"] > 5 * 10 / 100, (message, history)  # chance: 10 of 100
    assert history[-1]["train_seq2seq_bce"] < history[0]["train_seq2seq_bce"]
    assert summary["best_epoch"] == max(history, key=lambda r: r["valid_NDCG@10"])["epoch"]
    assert summary["train_seconds"] < 30
    assert summary["train_protocol"].startswith("seq2seq sampled BCE (SASRec)")
    assert "99 sampled unseen negatives" in summary["protocol"]
