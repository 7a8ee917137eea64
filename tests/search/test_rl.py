"""The `rl` strategy (Zoph & Le 2017; AMEIR App. C.4): children sampled by the LSTM controller,
each trained from scratch and rewarded with its validation AUC, controller updates every
`controller_batch` children, the patience rule, exact resume, and on data with a planted
interaction an architecture that beats LR."""
from __future__ import annotations

import json

import pytest

from nasc.compiler.fix import fix_spec
from nasc.runtime.strategies import common as strategy_common
from nasc.runtime.strategies import rl

from kit.searchkit import counting_calls, make_ctx, planted_beats_lr

# Every kind of choice but a cell: a node's operator, an interaction set, monotone widths.
MODEL = """model m {
  input fields: categorical
  emb = embed(fields, dim=4)
  opset pair = { skip, fm, slp, senet }
  x = pair(emb)
  interactions cross(emb) {
    cycles 1
    survivors 6
    keep 2
  }
  mlp dnn(concat(flatten(x), flatten(cross))) {
    layers 2
    width { 8, 16, 32 }
    monotone
  }
  head ctr(dnn)
}
"""

SEARCH = """
search rl {{
  epochs 1
  batch 512
  children {children}
  controller_batch 2
  patience {patience}
}}
"""


def space(children=6, patience=100) -> str:
    return MODEL + SEARCH.format(children=children, patience=patience)


def rows_of(run) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "seconds"}
            for r in json.loads(run.file("children.json").read_text())]


def test_children_are_valid_rewarded_and_the_controller_updates_every_batch(tmp_path, tiny_data):
    ctx = make_ctx(tmp_path, space(children=6), tiny_data)
    found = rl.search(ctx)
    rows = rows_of(ctx.run)
    assert [r["child"] for r in rows] == list(range(6))
    for r in rows:
        fix_spec(ctx.spec, ctx.program, rl.from_json(r["choices"]), drop_search=True)
        assert r["log_prob"] < 0 and len(r["decisions"]) == 1 + 2 + 2
        if r["repeat_of"] is not None:  # a repeat is scored as the child it repeats
            assert r["valid"] == rows[r["repeat_of"]]["valid"] and r["epochs"] == 0
    # the baseline is recorded at each update: after children 1, 3, 5
    assert [r["child"] for r in rows if "baseline" in r] == [1, 3, 5]
    best = max(rows, key=lambda r: (r["valid"]["auc"], -r["child"]))
    assert ctx.record["best_child"] == best["child"] and found == rl.from_json(best["choices"])
    assert ctx.record["stopped"] == "6 children"


def test_it_stops_when_the_best_auc_stops_growing(tmp_path, tiny_data):
    ctx = make_ctx(tmp_path, space(children=40, patience=2), tiny_data)
    rl.search(ctx)
    rows = rows_of(ctx.run)
    assert ctx.record["stopped"].startswith("the best validation AUC unchanged for 2")
    assert len(rows) < 40 and rl.since_best(rows) == 2 and rl.since_best(rows[:-1]) < 2


def test_resume_trains_only_the_missing_children_and_ends_the_same(tmp_path, tiny_data,
                                                                   monkeypatch):
    fresh = make_ctx(tmp_path / "fresh", space(children=7), tiny_data)
    expected = rl.search(fresh)
    trained = sum(r["repeat_of"] is None for r in rows_of(fresh.run))
    real = strategy_common.train_model
    ctx = make_ctx(tmp_path / "run", space(children=7), tiny_data)
    monkeypatch.setattr(strategy_common, "train_model", counting_calls(real, interrupt_at=4))
    with pytest.raises(KeyboardInterrupt):
        rl.search(ctx)
    resumed = counting_calls(real)
    monkeypatch.setattr(strategy_common, "train_model", resumed)
    ctx.resume = True
    found = rl.search(ctx)
    assert resumed.calls == trained - 3  # the first three trained come from the checkpoint
    assert rows_of(ctx.run) == rows_of(fresh.run)
    assert found == expected


PLANTED_SEARCH = """search rl {
  epochs 3
  batch 512
  children 6
  controller_batch 3
}
"""


def test_rl_finds_a_planted_interaction_that_lr_cannot_model(tmp_path, monkeypatch):
    run = planted_beats_lr(tmp_path, monkeypatch, PLANTED_SEARCH, "rl")
    rows = json.loads(run.file("children.json").read_text())
    print(f"children {[(r['choices'], round(r['valid']['auc'], 4)) for r in rows]}")
