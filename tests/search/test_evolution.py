"""Regularized evolution against Real et al. (2019) and AMEIR App. C.4: a uniform initial
population, a parent chosen by tournament among the population, a child that differs from it in
exactly one choice, aging (the population is the newest children), the stopping rules, exact
resume, and on data with a planted interaction an architecture that beats LR."""
from __future__ import annotations

import json
import random

import pytest

from nasc.compiler.fix import fix_spec
from nasc.runtime.strategies import common as strategy_common
from nasc.runtime.strategies import evolution
from nasc.runtime.strategies.common import assignment_key, from_json, jsonable, sort_key

from kit.searchkit import counting_calls, make_ctx, planted_beats_lr

SPACE = """model m {{
  input fields: categorical
  emb = embed(fields, dim=4)
  opset pair = {{ skip, fm, slp, senet }}
  x = pair(emb)
  y = pair(x)
  interactions cross(emb) {{
    cycles 1
    survivors 6
    keep 2
  }}
  mlp dnn(concat(flatten(y), flatten(cross))) {{
    layers 2
    width {{ 8, 16, 32 }}
    monotone
  }}
  head ctr(dnn)
}}

search evolution {{
  epochs 1
  batch 512
  population {population}
  sample {sample}
  cycles {cycles}
  patience {patience}
}}
"""


def space(population=3, sample=3, cycles=4, patience=100) -> str:
    return SPACE.format(population=population, sample=sample, cycles=cycles, patience=patience)


def test_a_mutation_changes_one_choice_and_stays_in_the_space(tmp_path, tiny_data):
    ctx = make_ctx(tmp_path, space(), tiny_data)
    rng = random.Random(0)
    # widths 32, 8: each layer alone can still change under `monotone`
    parent = {**evolution.distinct_draws(ctx, 1)[0], "dnn.layer1.width": 32,
              "dnn.layer2.width": 8}
    changed = set()
    for _ in range(60):
        child, label = evolution.mutate(ctx, parent, rng, {assignment_key(parent)})
        diff = {k for k in parent if parent[k] != child[k]}
        assert diff == {label}
        fix_spec(ctx.spec, ctx.program, child, drop_search=True)  # valid, monotone included
        if label == "cross.tuples":  # one product of the interaction set replaced
            assert len(set(parent[label]) & set(child[label])) == len(parent[label]) - 1
        changed.add(label)
    assert changed == set(parent)  # every choice gets mutated sometimes


def test_parents_are_tournament_winners_of_the_newest_members(tmp_path, tiny_data):
    """sample = population: the parent is the best of the last `population` children."""
    ctx = make_ctx(tmp_path, space(population=3, sample=3, cycles=4), tiny_data)
    evolution.search(ctx)
    rows = json.loads(ctx.run.file("children.json").read_text())
    assert len(rows) == 3 + 4 and [r["child"] for r in rows] == list(range(7))
    assert all(r["parent"] is None for r in rows[:3])
    key = sort_key("logloss")
    for n, row in enumerate(rows[3:], 3):
        members = rows[n - 3:n]  # aging: the three newest before it
        best = min(members, key=lambda r: (key(r["valid"]), r["child"]))
        assert row["parent"] == best["child"]
        parent = rows[row["parent"]]["choices"]
        assert {k for k in parent if parent[k] != row["choices"][k]} == {row["mutated"]}
    assert ctx.record["stopped"] == "4 cycles"
    best = min(rows, key=lambda r: key(r["valid"]))
    assert ctx.record["best_child"] == best["child"]


def test_it_stops_when_the_population_best_stops_changing(tmp_path, tiny_data):
    ctx = make_ctx(tmp_path, space(population=4, sample=2, cycles=50, patience=2), tiny_data)
    evolution.search(ctx)
    rows = json.loads(ctx.run.file("children.json").read_text())
    key = sort_key("logloss")
    assert ctx.record["stopped"].startswith("the population's best unchanged")
    assert len(rows) < 4 + 50
    assert evolution.unchanged_cycles(rows, 4, key) == 2
    assert evolution.unchanged_cycles(rows[:-1], 4, key) < 2  # it did not run on past the rule


def test_resume_trains_only_the_missing_children_and_ends_the_same(tmp_path, tiny_data,
                                                                   monkeypatch):
    fresh = make_ctx(tmp_path / "fresh", space(cycles=3), tiny_data)
    evolution.search(fresh)
    real = strategy_common.train_model
    ctx = make_ctx(tmp_path / "run", space(cycles=3), tiny_data)
    monkeypatch.setattr(strategy_common, "train_model", counting_calls(real, interrupt_at=5))
    with pytest.raises(KeyboardInterrupt):
        evolution.search(ctx)
    resumed = counting_calls(real)
    monkeypatch.setattr(strategy_common, "train_model", resumed)
    ctx.resume = True
    found = evolution.search(ctx)
    assert resumed.calls == 2  # children 4 and 5; 0-3 come from the checkpoint
    def rows(run):
        return [{k: v for k, v in r.items() if k != "seconds"}
                for r in json.loads(run.file("children.json").read_text())]

    assert len(rows(ctx.run)) == 3 + 3
    assert rows(ctx.run) == rows(fresh.run)
    assert found == from_json(json.loads(json.dumps(jsonable(found))))


PLANTED_SEARCH = """search evolution {
  epochs 3
  batch 512
  population 3
  sample 2
  cycles 3
}
"""


def test_evolution_finds_a_planted_interaction_that_lr_cannot_model(tmp_path, monkeypatch):
    planted_beats_lr(tmp_path, monkeypatch, PLANTED_SEARCH, "evolution")
