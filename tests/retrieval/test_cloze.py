"""`objective cloze` (BERT4Rec): masked items predicted over the whole catalogue from both sides,
the mask appended to each evaluated history."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from nasc.compiler.frontend import load
from nasc.runtime.cloze import ClozeObjective, append_mask, draw_masks
from nasc.runtime.commands.train import train_spec
from nasc.runtime.data.sequences import load_next_item, training_sequences
from nasc.runtime.model import build_fixed
from nasc.runtime.train import TrainConfig
from kit.retrievalkit import IDENTITY_MODEL, REPO, successor_log

CPU = torch.device("cpu")

IDENTITY_CLOZE = IDENTITY_MODEL + "\ntrain {\n  objective cloze\n}\n"

# A small BERT4Rec: bidirectional blocks, which seq2seq refuses and cloze trains.
TINY_BERT4REC = """\
model tiny_bert4rec {
  input history: sequence(max_len=8)
  seq = embed(history, dim=16, positions=true)
  h = transformer(transformer(seq, heads=1, causal=false), heads=1, causal=false)
  user = last(h)
  head next_item(user) {
    items seq
  }
}

train {
  optimizer adam(lr=0.005)
  batch 64
  epochs 25
  patience 25
  lr_decay 1.0
  objective cloze
  mask_prob 0.4
  eval_negatives 99
  monitor ndcg10
}
"""


def test_training_sequences_are_each_users_items_left_padded():
    users, items, mask = training_sequences(
        [np.array([1, 2, 3, 4]), np.array([], dtype=np.int64), np.array([7])], max_len=3)
    assert users.tolist() == [0, 2]  # a user without training items has no row
    assert items.tolist() == [[2, 3, 4], [0, 0, 7]]  # the last max_len, left-padded
    assert mask.tolist() == [[True, True, True], [False, False, True]]


def test_masks_fall_on_items_at_the_rate_asked_and_every_row_gets_one():
    real = torch.zeros(20000, 10, dtype=torch.bool)
    real[:, 4:] = True  # six items a row
    real[:100] = False  # rows without items
    masked = draw_masks(real, 0.3, torch.Generator().manual_seed(0))
    assert not (masked & ~real).any()  # padding is never masked
    assert not masked[:100].any()
    assert masked[100:].any(dim=1).all()  # at least one per row with items
    # P(at least one) forces the last item of the 0.7^6 = 11.8 % rows that drew none
    share = masked[100:].float().mean(dim=0)[4:]
    assert share[:-1] == pytest.approx(torch.full((5,), 0.3), abs=0.015)
    assert float(share[-1]) == pytest.approx(0.3 + 0.7 ** 6, abs=0.015)
    again = draw_masks(real, 0.3, torch.Generator().manual_seed(0))
    assert torch.equal(masked, again)


def test_the_mask_is_appended_as_the_newest_item():
    sequence = torch.tensor([[[0], [5], [6]], [[1], [2], [3]]])
    seq_mask = torch.tensor([[False, True, True], [True, True, True]])
    items, real = append_mask(sequence, seq_mask, 9)
    assert items[..., 0].tolist() == [[5, 6, 9], [2, 3, 9]]  # the oldest slot makes room
    assert real.tolist() == [[True, True, True], [True, True, True]]


def _objective(tmp_path, log_text: str, **config):
    log = tmp_path / "log.txt"
    log.write_text(log_text)
    ds = load_next_item(log, max_len=4)
    spec = tmp_path / "spec.nas"
    spec.write_text(IDENTITY_CLOZE)
    torch.manual_seed(0)
    model = build_fixed(load(str(spec))[2], ds.schema)
    return ds, model, ClozeObjective(ds, TrainConfig(objective="cloze", **config), CPU)


def test_cloze_loss_by_hand_is_cross_entropy_over_the_catalogue_at_masked_positions(tmp_path):
    ds, model, task = _objective(tmp_path, "1 1 2 3 4 5\n2 6 7 8 9 10\n", eval_negatives=3)
    assert task.num_items == 10 and task.mask_id == 11  # the table's last row (V = 12)
    embeddings = torch.tensor([[0.0, 0.0], *[[0.1 * j, 1.0] for j in range(1, 11)], [1.0, 0.0]])
    with torch.no_grad():
        model.head.weight.copy_(torch.eye(2))
        model.seq.fields.table.weight[:12] = embeddings
    first = task.rows.subset(torch.tensor([0])).columns  # user 1 trains on items 1 2 3
    assert first["sequence"][:, :, 0].tolist() == [[0, 1, 2, 3]]
    batch = {**first, "sequence": torch.tensor([[[0], [11], [2], [11]]]),
             "labels": torch.tensor([[0, 1, 0, 3]])}
    loss, positions = task.loss(model, batch)
    # at a mask the output is e_mask = (1, 0): item j scores 0.1 j; the padding and the mask
    # rows are not candidates
    log_sum = math.log(sum(math.exp(0.1 * j) for j in range(1, 11)))
    want = ((log_sum - 0.1 * 1) + (log_sum - 0.1 * 3)) / 2
    assert positions == 2
    assert float(loss.detach()) == pytest.approx(want, rel=1e-6)


def test_each_epoch_masks_anew_from_the_seed_and_labels_hold_the_hidden_items(tmp_path):
    log = successor_log(tmp_path / "log.txt", users=60, items=30)
    ds = load_next_item(log, max_len=8)
    task = ClozeObjective(ds, TrainConfig(objective="cloze", batch=1000, seed=5, mask_prob=0.5),
                          CPU)
    items = dict(zip(task.rows.columns["user"].tolist(), task.rows.columns["sequence"][..., 0]))
    shuffle = torch.Generator().manual_seed(0)
    epochs = [next(iter(task.batches(shuffle))) for _ in range(2)]
    for batch in epochs:
        hidden = batch["labels"] > 0
        assert (batch["sequence"][..., 0][hidden] == task.mask_id).all()
        assert not (batch["sequence"][..., 0][~hidden] == task.mask_id).any()
        original = torch.stack([items[u] for u in batch["user"].tolist()])
        assert torch.equal(batch["labels"][hidden], original[hidden])
        assert torch.equal(batch["sequence"][..., 0][~hidden], original[~hidden])
    assert not torch.equal(*(e["labels"][e["user"].argsort()] for e in epochs))
    again = ClozeObjective(ds, TrainConfig(objective="cloze", batch=1000, seed=5, mask_prob=0.5),
                           CPU)
    replay = next(iter(again.batches(torch.Generator().manual_seed(0))))
    assert torch.equal(replay["labels"], epochs[0]["labels"])


def test_evaluation_histories_end_with_the_mask(tmp_path):
    ds, _, task = _objective(tmp_path, "1 1 2 3 4 5\n2 6 7 8 9 10\n", eval_negatives=3)
    for split in ("valid", "test"):
        plain, cloze = ds.__dict__[split].columns, task.splits[split].columns
        assert (cloze["sequence"][:, -1, 0] == task.mask_id).all()
        assert torch.equal(cloze["sequence"][:, :-1], plain["sequence"][:, 1:])
        assert torch.equal(cloze["target"], plain["target"])


def test_cloze_learns_a_successor_log_with_bidirectional_blocks(tmp_path):
    spec = tmp_path / "tiny_bert4rec.nas"
    spec.write_text(TINY_BERT4REC)
    log = successor_log(tmp_path / "log.txt", users=300, items=120)
    message = train_spec(str(spec), data=str(log), out=str(tmp_path / "run"), device="cpu",
                         quiet=True, threads=1)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    history = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert summary["test"]["HR@10"] > 4 * 10 / 100, (message, history)  # chance: 10 of 100
    assert history[-1]["train_cloze_softmax"] < history[0]["train_cloze_softmax"]
    assert summary["train_protocol"].startswith("cloze (BERT4Rec)")
    assert "mask_prob" not in summary["train_protocol"] and "0.4" in summary["train_protocol"]


def test_the_bert4rec_spec_compiles_with_its_settings():
    _, _, program = load(str(REPO / "specs" / "bert4rec.nas"))
    assert (program.train["objective"], program.train["mask_prob"]) == ("cloze", 0.6)
