"""benchmarks/known_answer.py: the exact uniform baseline and binomial p-value, the planted pair's
own random stream, the markdown from a fabricated result, and one real tiny search whose counted
pair must be the one choices.json records."""
from __future__ import annotations

import json
import random
import sys
from fractions import Fraction

import pytest

from kit.benchscripts import load_script


@pytest.fixture(scope="module")
def ka():
    return load_script("known_answer")


def test_uniform_probability_is_derived_from_the_space(ka):
    assert ka.uniform_probability(ka.spec_text("random", 1), 6) == Fraction(1, 15)
    # keep 2 of 15: 14 of the C(15, 2) = 105 sets hold a given pair
    assert ka.uniform_probability(ka.spec_text("random", 2), 6) == Fraction(14, 105)
    # order 3 over 6 fields: 15 pairs + 20 triples; keep 2 -> 34 / C(35, 2) = 2/35
    order3 = ka.spec_text("random", 2).replace("cycles 1", "cycles 2")
    assert ka.uniform_probability(order3, 6) == Fraction(2, 35)
    assert ka.uniform_probability(ka.spec_text("random", 1), 4) == Fraction(1, 6)


def test_a_space_whose_choice_is_not_an_interactions_set_is_refused(ka):
    from kit.searchkit import TINY_RANDOM

    with pytest.raises(ValueError, match="one open choice"):  # two cell nodes
        ka.uniform_probability(TINY_RANDOM, 6)


def test_binomial_tail_is_exact(ka):
    assert ka.binomial_tail(0, 10, Fraction(1, 15)) == 1.0
    assert ka.binomial_tail(1, 2, Fraction(1, 2)) == 0.75
    assert ka.binomial_tail(2, 3, Fraction(1, 3)) == pytest.approx(7 / 27, rel=1e-15)
    assert ka.binomial_tail(10, 10, Fraction(1, 15)) == pytest.approx(15.0 ** -10, rel=1e-15)
    assert ka.binomial_tail(11, 10, Fraction(1, 15)) == 0.0


def test_the_planted_pair_is_not_random_searchs_first_draw(ka):
    """Drawn from random.Random(seed) it was random search's first child in every seed (10 of
    10 found); from its own stream it coincides about once in 15."""
    from nasc.compiler.frontend import compile_text
    from nasc.compiler.sampling import sample_assignment

    _, program = compile_text(ka.spec_text("random", 1), "space.nas")
    names = [f"f{i}" for i in range(6)]
    seeds = range(1, 21)
    same = sum(sample_assignment(program, random.Random(s), names)["cross.tuples"]
               == (tuple(f"f{i}" for i in ka.planted_pair(s)),) for s in seeds)
    assert same <= 5, same
    assert {ka.planted_pair(s) for s in seeds} <= set(ka._pairs(6))
    assert len({ka.planted_pair(s) for s in seeds}) > 5


def test_contains_ignores_order(ka):
    assert ka.contains([("f3", "f1"), ("f0", "f2")], (1, 3))
    assert not ka.contains([("f0", "f1")], (0, 2))


def _fabricated() -> dict:
    runs = [{"seed": 1, "planted": ["f0", "f1"], "found": [["f0", "f1"]], "hit": True,
             "search_seconds": 1.0},
            {"seed": 2, "planted": ["f2", "f4"], "found": [["f1", "f3"]], "hit": False,
             "search_seconds": 3.0}]
    return {"device": "cpu", "threads": 1, "commit": "abc1234", "num_fields": 6, "keep": 1,
            "seeds": [1, 2], "wall_seconds": 12.0,
            "budgets": {"random": "search random {\n  children 8\n}\n", "darts": "x"},
            "rows": [{"strategy": "random", "n": 2, "count": 1, "uniform_p_exact": "1/15",
                      "expected": 2 / 15, "p_value": 0.128889, "mean_search_seconds": 2.0,
                      "runs": runs},
                     {"strategy": "darts", "n": 2, "uniform_p_exact": "1/15",
                      "expected": 2 / 15, "error": "RuntimeError: boom", "runs": []}]}


def test_markdown_from_a_fabricated_result(ka):
    text = ka.markdown(_fabricated())
    assert "| random | 1 | 2 | 1/15 | 0.13 | 0.13 | 2.0 |" in text
    assert "| darts | failed: RuntimeError: boom | 2 | 1/15 | 0.13 | — | — |" in text
    assert "| random | f0*f1 ✓ | f1*f3 |" in text
    assert "| darts | — | — |" in text
    assert "- random: `search random { children 8 }`" in text
    assert "commit abc1234" in text and "keeping 1 of the 15 pairs of 6 fields" in text


def test_render_rewrites_the_markdown_from_the_json(ka, tmp_path, monkeypatch):
    out = tmp_path / "known_answer.json"
    out.write_text(json.dumps(_fabricated()))
    monkeypatch.setattr(sys, "argv", ["known_answer.py", "--render", "--out", str(out)])
    ka.main()
    assert (tmp_path / "known_answer.md").read_text() == ka.markdown(_fabricated())


def test_a_failing_search_is_recorded_not_dropped(ka, tmp_path, monkeypatch):
    def boom(text, seed, out):
        raise RuntimeError("cannot search")

    monkeypatch.setattr(ka, "search_once", boom)
    row = ka.run_strategy("darts", [1, 2], 1, tmp_path)
    assert row["error"] == "RuntimeError: cannot search" and "count" not in row
    assert row["expected"] == pytest.approx(2 / 15)


def test_one_real_search_counts_the_pair_choices_json_records(ka, tmp_path, monkeypatch):
    """One child of one epoch, keep 2: the counted pairs are choices.json's, and the hit and
    p-value follow from them."""
    monkeypatch.setitem(ka.BUDGETS, "tiny",
                        "search random {\n  epochs 1\n  batch 2048\n  children 1\n}\n")
    monkeypatch.setitem(ka.DATA, "n", 4000)
    row = ka.run_strategy("tiny", [5], 2, tmp_path)
    assert "error" not in row, row.get("traceback")
    (run,) = row["runs"]
    choices = json.loads((tmp_path / "tiny-5" / "run" / "choices.json").read_text())
    assert run["found"] == choices["cross.tuples"] and len(run["found"]) == 2
    planted = ka.planted_pair(5)
    assert run["planted"] == [f"f{i}" for i in planted]
    assert run["hit"] == (sorted(run["planted"]) in [sorted(t) for t in choices["cross.tuples"]])
    assert row["count"] == int(run["hit"]) and row["uniform_p_exact"] == "2/15"
    assert row["p_value"] == ka.binomial_tail(row["count"], 1, Fraction(2, 15))
