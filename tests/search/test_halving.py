"""Successive halving against Jamieson & Talwalkar (2016): the rung schedule, promotion of the
best 1/eta of each rung to eta times the epochs, the answer from the last rung, exact resume, and
on data with a planted interaction an architecture that beats LR."""
from __future__ import annotations

import json

import pytest

from nasc.runtime.strategies import common as strategy_common
from nasc.runtime.strategies import halving
from nasc.runtime.strategies.common import sort_key

from kit.searchkit import counting_calls, make_ctx, planted_beats_lr

SPACE = """model m {{
  input fields: categorical
  emb = embed(fields, dim=4)
  opset pair = {{ skip, fm, slp, senet }}
  x = pair(emb)
  y = pair(x)
  mlp dnn(flatten(y)) {{
    layers 1
    width {{ 4, 8 }}
  }}
  head ctr(dnn)
}}

search halving {{
  children {children}
  eta {eta}
  min_epochs 1
  epochs {epochs}
  batch 512
}}
"""


def space(children=9, eta=3, epochs=9) -> str:
    return SPACE.format(children=children, eta=eta, epochs=epochs)


@pytest.mark.parametrize("args, expected", [
    ((27, 3, 1, 27), [(27, 1), (9, 3), (3, 9), (1, 27)]),
    ((10, 3, 1, 5), [(10, 1), (3, 3)]),          # 9 epochs would pass the bound of 5
    ((5, 2, 2, 100), [(5, 2), (2, 4), (1, 8)]),  # one child left: nothing to choose among
    ((2, 3, 1, 100), [(2, 1), (1, 3)]),          # 2 // 3 is 0: at least one goes on
    ((8, 2, 4, 3), [(8, 3)]),                    # min_epochs above the bound: one rung
])
def test_the_rungs_follow_the_halving_schedule(args, expected):
    assert halving.rungs(*args) == expected


def test_each_rung_trains_the_best_of_the_one_below_longer(tmp_path, tiny_data):
    ctx = make_ctx(tmp_path, space(children=9, eta=3, epochs=9), tiny_data)
    found = halving.search(ctx)
    rows = json.loads(ctx.run.file("children.json").read_text())
    key = sort_key("logloss")
    by_rung = [[r for r in rows if r["rung"] == k] for k in range(3)]
    assert [len(r) for r in by_rung] == [9, 3, 1]
    assert [{r["budget"] for r in rung} for rung in by_rung] == [{1}, {3}, {9}]
    assert all(r["epochs"] <= r["budget"] for r in rows)
    for lower, upper in zip(by_rung, by_rung[1:]):
        best = sorted(lower, key=lambda r: (key(r["valid"]), r["child"]))[:len(upper)]
        assert sorted(r["child"] for r in upper) == sorted(r["child"] for r in best)
        for r in upper:  # the same architecture, trained again from scratch for longer
            assert r["choices"] == next(b["choices"] for b in lower if b["child"] == r["child"])
    assert json.loads(json.dumps(found, default=list)) == by_rung[2][0]["choices"]
    assert ctx.record["rungs"] == [{"children": 9, "epochs": 1}, {"children": 3, "epochs": 3},
                                   {"children": 1, "epochs": 9}]
    assert len({json.dumps(r["choices"], sort_keys=True) for r in by_rung[0]}) == 9  # distinct


def test_resume_trains_only_what_is_missing_and_ends_the_same(tmp_path, tiny_data, monkeypatch):
    fresh = make_ctx(tmp_path / "fresh", space(children=6, eta=2, epochs=4), tiny_data)
    expected = halving.search(fresh)
    real = strategy_common.train_model
    ctx = make_ctx(tmp_path / "run", space(children=6, eta=2, epochs=4), tiny_data)
    monkeypatch.setattr(strategy_common, "train_model", counting_calls(real, interrupt_at=8))
    with pytest.raises(KeyboardInterrupt):
        halving.search(ctx)
    resumed = counting_calls(real)
    monkeypatch.setattr(strategy_common, "train_model", resumed)
    ctx.resume = True
    found = halving.search(ctx)
    assert resumed.calls == 6 + 3 + 1 - 7  # rungs of 6, 3 and 1; seven were trained before

    def rows(run):
        return [{k: v for k, v in r.items() if k != "seconds"}
                for r in json.loads(run.file("children.json").read_text())]

    assert rows(ctx.run) == rows(fresh.run)
    assert found == expected


PLANTED_SEARCH = """search halving {
  children 6
  eta 3
  min_epochs 1
  epochs 3
  batch 512
  monitor auc
}
"""


def test_halving_finds_a_planted_interaction_that_lr_cannot_model(tmp_path, monkeypatch):
    planted_beats_lr(tmp_path, monkeypatch, PLANTED_SEARCH, "halving")
