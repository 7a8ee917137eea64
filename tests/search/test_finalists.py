"""AMEIR App. C.4's form of the brute-force strategies (random, evolution, rl): ``seconds`` stops
the children at a time budget, ``top`` trains the best few again with the train block's own
recipe and keeps the best of them on validation; both resume exactly."""
from __future__ import annotations

import dataclasses
import json

import pytest

from nasc.runtime.strategies import common as strategy_common
from nasc.runtime.strategies import evolution, random_search, rl
from nasc.runtime.strategies.common import sort_key
from nasc.runtime.strategies.finalists import out_of_time, ranked

from kit.searchkit import counting_calls, make_ctx

SPACE = """model m {
  input fields: categorical
  emb = embed(fields, dim=4)
  opset pair = { skip, fm, slp }
  x = pair(emb)
  mlp dnn(flatten(x)) {
    layers 1
    width { 4, 8, 16 }
  }
  head ctr(dnn)
}

search %s {
  epochs 1
  batch 512
  %s
}

# the finalists' recipe: 3 epochs (no early stop within them), not the search's 1
train {
  epochs 3
  batch 512
  patience 10
}
"""

STRATEGIES = {
    "random": (random_search, "children 6\n  monitor auc", "auc"),
    "evolution": (evolution, "population 3\n  sample 2\n  cycles 3\n  monitor auc", "auc"),
    "rl": (rl, "children 6\n  controller_batch 3\n  patience 100", "auc"),
}


def search(tmp_path, data, name: str, extra: str = ""):
    module, settings, _ = STRATEGIES[name]
    ctx = make_ctx(tmp_path, SPACE % (name, settings + ("\n  " + extra if extra else "")), data)
    return ctx, module.search(ctx)


def rows(ctx, name: str) -> list[dict]:
    return json.loads(ctx.run.file(name).read_text())


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_top_trains_the_best_children_in_full_and_keeps_the_best_of_them(tmp_path, tiny_data,
                                                                          name):
    ctx, found = search(tmp_path, tiny_data, name, "top 3")
    monitor = STRATEGIES[name][2]
    key = sort_key(monitor)
    children = rows(ctx, "children.json")
    finalists = rows(ctx, "finalists.json")
    best_three = ranked(children, key)[:3]
    assert [f["child"] for f in finalists] == [c["child"] for c in best_three]
    assert [f["rank"] for f in finalists] == [0, 1, 2]
    for final, child in zip(finalists, best_three):
        assert child["epochs"] == 1 and final["epochs"] == 3  # the train block's recipe
        assert final["choices"] == child["choices"] and final["short_valid"] == child["valid"]
    winner = min(finalists, key=lambda r: (key(r["valid"]), r["rank"]))
    assert ctx.record["best_child"] == winner["child"] and ctx.record["finalists"] == 3
    assert found == strategy_common.from_json(winner["choices"])
    assert ctx.record[f"best_valid_{monitor}"] == round(winner["valid"][monitor], 6)


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_top_1_keeps_the_best_child_as_trained(tmp_path, tiny_data, name):
    ctx, _ = search(tmp_path, tiny_data, name)
    assert not ctx.run.file("finalists.json").exists() and "finalists" not in ctx.record
    best = ranked(rows(ctx, "children.json"), sort_key(STRATEGIES[name][2]))[0]
    assert ctx.record["best_child"] == best["child"]


def one_second_each(real):
    """train_model whose every child reports one second of training."""
    def wrapper(*args, **kwargs):
        return dataclasses.replace(real(*args, **kwargs), train_seconds=1.0)
    return wrapper


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_seconds_starts_no_child_once_the_budget_is_spent(tmp_path, tiny_data, name,
                                                          monkeypatch):
    monkeypatch.setattr(strategy_common, "train_model",
                        one_second_each(strategy_common.train_model))
    ctx, _ = search(tmp_path, tiny_data, name, "seconds 2.5")
    trained = [r for r in rows(ctx, "children.json") if r.get("repeat_of") is None]
    assert len(trained) == 3  # 2 s < 2.5 s: a third; 3 s: no fourth (rl's repeats cost nothing)
    if name != "random":
        assert ctx.record["stopped"] == "2.5 s of child training spent"


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_an_interrupted_further_evaluation_resumes_where_it_stopped(tmp_path, tiny_data, name,
                                                                    monkeypatch):
    fresh, found_fresh = search(tmp_path / "fresh", tiny_data, name, "top 3")
    real = strategy_common.train_model
    n_children = len(rows(fresh, "children.json"))
    trained = sum(1 for r in rows(fresh, "children.json") if r.get("repeat_of") is None)
    # interrupted while training the second finalist
    monkeypatch.setattr(strategy_common, "train_model",
                        counting_calls(real, interrupt_at=trained + 2))
    module, settings, _ = STRATEGIES[name]
    ctx = make_ctx(tmp_path / "run", SPACE % (name, settings + "\n  top 3"), tiny_data)
    with pytest.raises(KeyboardInterrupt):
        module.search(ctx)
    assert len(rows(ctx, "finalists.json")) == 1
    resumed = counting_calls(real)
    monkeypatch.setattr(strategy_common, "train_model", resumed)
    ctx.resume = True
    found = module.search(ctx)
    assert resumed.calls == 2  # the second and third finalists; nothing else again

    def without_seconds(run, name):
        return [{k: v for k, v in r.items() if k != "seconds"} for r in rows(run, name)]

    assert len(rows(ctx, "children.json")) == n_children
    assert without_seconds(ctx, "finalists.json") == without_seconds(fresh, "finalists.json")
    assert found == found_fresh


def test_ranked_leaves_out_repeats_and_breaks_ties_to_the_earlier_child():
    def row(child, auc, repeat_of=None):
        return {"child": child, "valid": {"auc": auc}, "repeat_of": repeat_of}

    order = ranked([row(0, 0.7), row(1, 0.9), row(2, 0.9, repeat_of=1), row(3, 0.9),
                    row(4, 0.8)], sort_key("auc"))
    assert [r["child"] for r in order] == [1, 3, 4, 0]
    assert not out_of_time([{"seconds": 1.0}], None)
    assert out_of_time([{"seconds": 1.0}, {"seconds": 1.5}], 2.5)
    assert not out_of_time([{"seconds": 1.0}, {"seconds": 1.4}], 2.5)
    assert not out_of_time([], 0.0)  # a budget of 0 still trains one child


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_a_zero_budget_still_trains_one_child_and_answers(tmp_path, tiny_data, name):
    ctx, found = search(tmp_path, tiny_data, name, "seconds 0")
    trained = [r for r in rows(ctx, "children.json") if r.get("repeat_of") is None]
    assert len(trained) == 1 and found == strategy_common.from_json(trained[0]["choices"])
