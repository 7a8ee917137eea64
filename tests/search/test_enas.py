"""The `enas` strategy (Pham et al. 2018): the controller samples paths of one shared supernet,
rewarded by their validation-subset AUC under the shared weights; exact resume from the
checkpoint of the last finished epoch; the inherited weights; and on data with a planted
interaction an architecture that beats LR."""
from __future__ import annotations

import json

import pytest
import torch

from nasc.compiler.fix import fix_spec
from nasc.runtime.strategies import enas

from kit.searchkit import counting_calls, make_ctx, planted_beats_lr
from test_rl import MODEL

SEARCH = """
search enas {
  epochs 2
  batch 512
  controller_steps 2
  controller_batch 2
  valid_subset 200
  children 8
  top 3
  finetune %s
}
"""


def space(finetune: str) -> str:
    return MODEL + SEARCH % finetune


def test_a_search_records_its_epochs_ranks_children_and_writes_inherited_weights(tmp_path,
                                                                                  tiny_data):
    ctx = make_ctx(tmp_path, space("inherit"), tiny_data)
    found = enas.search(ctx)
    fix_spec(ctx.spec, ctx.program, found, drop_search=True)
    rows = json.loads(ctx.run.file("history.json").read_text())
    assert [r["epoch"] for r in rows] == [1, 2]
    assert all(0 <= r["reward_mean"] <= 1 and r["baseline"] is not None for r in rows)
    top = ctx.record["top"]
    assert len(top) == 3 and ctx.record["distinct"] <= 8
    assert [r["subset_auc"] for r in top] == sorted((r["subset_auc"] for r in top), reverse=True)
    best = max(top, key=lambda r: (r["valid_auc"], -r["child"]))
    assert ctx.record["best_child"] == best["child"]
    state = torch.load(ctx.run.file("inherited.pt"))
    assert state and ctx.record["inherited"] == "inherited.pt"


def test_resume_after_a_kill_mid_epoch_ends_the_same(tmp_path, tiny_data, monkeypatch):
    fresh = make_ctx(tmp_path / "fresh", space("scratch"), tiny_data)
    expected = enas.search(fresh)
    ctx = make_ctx(tmp_path / "run", space("scratch"), tiny_data)
    # 4 rewards per epoch: the 6th is in epoch 2's controller steps
    monkeypatch.setattr(enas, "evaluate", counting_calls(enas.evaluate, interrupt_at=6))
    with pytest.raises(KeyboardInterrupt):
        enas.search(ctx)
    monkeypatch.undo()
    saved = json.loads(ctx.run.file("history.json").read_text())
    assert [r["epoch"] for r in saved] == [1]
    ctx.resume = True
    found = enas.search(ctx)
    assert found == expected
    assert ctx.run.file("history.json").read_text() == fresh.run.file("history.json").read_text()
    assert ctx.record["top"] == fresh.record["top"]
    assert not ctx.run.file("inherited.pt").exists()


PLANTED_SEARCH = """search enas {
  epochs 4
  batch 512
  controller_steps 5
  valid_subset 2000
  children 20
  top 3
  finetune scratch
}
"""


def test_enas_finds_a_planted_interaction_that_lr_cannot_model(tmp_path, monkeypatch):
    run = planted_beats_lr(tmp_path, monkeypatch, PLANTED_SEARCH, "enas")
    epochs = json.loads(run.file("history.json").read_text())
    print(f"mean rewards {[r['reward_mean'] for r in epochs]}")
