"""benchmarks/strategies.py: one table per (space, data) in one JSON, the issue's row keys
summarised from the runs, an old single-table file read as one table, and the paper's Table 4
beside each strategy it has."""
from __future__ import annotations

import json

import pytest

from kit.benchscripts import BENCHMARKS, load_script


@pytest.fixture(scope="module")
def bench():
    return load_script("strategies")


def run(strategy: str, seed: int, valid: float, test: float, seconds: float) -> dict:
    return {"strategy": strategy, "seed": seed, "search_seconds": seconds, "valid_auc": valid,
            "valid_logloss": 0.4, "test_auc": test, "test_logloss": 0.5, "choices": {}}


def test_an_old_single_table_file_is_one_table(bench, tmp_path):
    path = tmp_path / "strategies.json"
    path.write_text(json.dumps({"spec": "s.nas", "data": "synthetic", "seeds": [1], "threads": 1,
                                "commit": "abc", "rows": [run("random", 1, 0.7, 0.6, 5.0)]}))
    (table,) = bench.load_tables(path)
    assert (table["spec"], table["data"], len(table["runs"])) == ("s.nas", "synthetic", 1)
    assert bench.load_tables(tmp_path / "missing.json") == []


def test_a_run_of_some_seeds_keeps_the_table_s_other_seeds(bench):
    old = {"spec": "s.nas", "data": "frappe_x1", "budgets": "c4", "seeds": [2021],
           "threads": 1, "commit": "aaa", "runs": [run("random", 2021, 0.70, 0.6, 5.0),
                                                  run("rl", 2021, 0.71, 0.6, 5.0)]}
    other = {**old, "budgets": "matched"}
    new = {**old, "seeds": [2021, 2022], "commit": "bbb",
           "runs": [{**run("random", 2022, 0.72, 0.6, 5.0), "commit": "bbb"},
                    {**run("rl", 2021, 0.73, 0.6, 5.0), "commit": "bbb"}]}
    tables = bench.merge_table([old, other], new)
    assert tables[0] is other and len(tables) == 2
    merged = tables[1]
    assert merged["seeds"] == [2021, 2022]
    runs = {(r["strategy"], r["seed"]): (r["valid_auc"], r["commit"]) for r in merged["runs"]}
    assert runs == {("random", 2021): (0.70, "aaa"), ("random", 2022): (0.72, "bbb"),
                    ("rl", 2021): (0.73, "bbb")}  # the repeated run replaced, the others kept
    assert bench.commits(merged) == "aaa, bbb"
    (random,) = [r for r in bench.summary_rows([merged]) if r["strategy"] == "random"]
    assert random["valid_auc_mean"] == pytest.approx(0.71)  # both seeds


def test_rows_have_the_issues_keys_per_space_and_data(bench):
    tables = [{"spec": "a.nas", "data": "frappe_x1", "seeds": [1, 2], "threads": 1, "commit": "c",
               "runs": [run("random", 1, 0.70, 0.60, 10.0), run("random", 2, 0.72, 0.64, 20.0),
                        run("darts", 1, 0.80, 0.70, 30.0), run("darts", 2, 0.80, 0.70, 30.0)]},
              {"spec": "a.nas", "data": "synthetic", "seeds": [1], "threads": 1, "commit": "c",
               "runs": [run("random", 1, 0.5, 0.5, 1.0)]}]
    rows = bench.summary_rows(tables)
    assert [(r["space"], r["data"], r["strategy"]) for r in rows] == [
        ("a.nas", "frappe_x1", "darts"), ("a.nas", "frappe_x1", "random"),
        ("a.nas", "synthetic", "random")]  # by validation AUC within a table
    random = rows[1]
    for key in ("strategy", "space", "data", "seeds", "test_auc_mean", "test_auc_std",
                "search_seconds", "device"):
        assert key in random, key
    assert random["seeds"] == [1, 2] and random["search_seconds"] == 15.0
    assert random["test_auc_mean"] == pytest.approx(0.62)
    assert random["test_auc_std"] == pytest.approx(0.0282843, abs=1e-6)  # stdev(0.60, 0.64)
    text = bench.markdown({"tables": tables, "rows": rows})
    assert "## `a.nas` on `frappe_x1`" in text and "## `a.nas` on `synthetic`" in text
    assert "| random | 15 | 0.7100 ± 0.0141 | 0.6200 ± 0.0283 |" in text
    assert "Random: 0.6321 ± 0.0011, 2.9" in text  # the paper's row beside ours


def test_every_budget_block_is_a_valid_search_block_of_the_space(bench):
    """The blocks the benchmark writes into the spec (both budget rules) compile, and the C.4
    ones hold the paper's rule: 1-epoch children, a time budget, the top 5 again."""
    from nasc.compiler.frontend import compile_text

    text = (BENCHMARKS.parent / "specs" / "ameir_ctr.nas").read_text()
    blocks = {**bench.BUDGETS, **{f"{n} (c4)": b.replace("SECONDS", "650")
                                  for n, b in bench.C4.items()}}
    for name, block in blocks.items():
        _, program = compile_text(bench.with_search(text, block), f"{name}.nas")
        settings = program.strategy.settings
        if name.endswith("(c4)"):
            assert (settings["epochs"], settings["seconds"], settings["top"]) == (1, 650.0, 5)
    assert set(bench.C4) == {"random", "evolution", "rl"} <= set(bench.BUDGETS)


@pytest.mark.parametrize("spec, own", [("ameir_ctr", True), ("ameir", True), ("autopi", False)])
def test_the_progressive_one_shot_row_is_a_one_shot_search_on_every_space(bench, spec, own):
    """A spec whose own block is AMEIR's keeps it for that row; AutoPI's (DARTS) gets a
    progressive one-shot block, not its own DARTS under the one-shot row's name; every block
    compiles with the space."""
    from nasc.compiler.frontend import compile_text, load

    path = BENCHMARKS.parent / "specs" / f"{spec}.nas"
    budgets = bench.budgets_for(load(path)[2])
    assert (budgets[bench.ONESHOT] is None) == own
    for name, block in budgets.items():
        _, program = compile_text(bench.with_search(path.read_text(), block), f"{name}.nas")
        if name == bench.ONESHOT:
            assert program.strategy.name == "oneshot_random"


def test_retrains_still_improving_at_the_last_epoch_are_counted(bench):
    runs = [{**run("random", s, 0.7, 0.6, 1.0), "retrain_best_epoch": best}
            for s, best in ((1, 30), (2, 12), (3, 30))]
    table = {"spec": "a.nas", "data": "d", "seeds": [1, 2, 3], "threads": 1, "commit": "c",
             "retrain_epoch_cap": 30, "runs": runs}
    (row,) = bench.summary_rows([table])
    assert row["retrains_at_cap"] == "2/3"
    assert "| 2/3 |" in bench.markdown({"tables": [table], "rows": [row]})
    old = {**table, "runs": [run("random", 1, 0.7, 0.6, 1.0)]}  # recorded before the field
    assert bench.summary_rows([old])[0]["retrains_at_cap"] == "-"


def test_under_the_c4_rule_the_one_shot_search_runs_once_per_seed(bench):
    """The one-shot search sets the brute-force strategies' time (ten times its own) and is its
    own row: the plan after it holds the C4 blocks with each seed's seconds and no second
    one-shot run; without the rule every strategy keeps its block."""
    names = ["random", bench.ONESHOT, "darts"]
    budgets = {name: f"search {name} {{}}\n" for name in names}
    c4 = bench.planned(names, budgets, [2021, 2022], {2021: 370.4, 2022: 450.0})
    assert [(name, seed, tag) for name, _, seed, tag in c4] == [
        ("random", 2021, "-c4"), ("darts", 2021, ""), ("random", 2022, "-c4"),
        ("darts", 2022, "")]
    assert "seconds 370\n" in c4[0][1] and "seconds 450\n" in c4[2][1]
    assert c4[1][1] == budgets["darts"]
    matched = bench.planned(names, budgets, [2021], None)
    assert [(name, block) for name, block, _, _ in matched] == list(budgets.items())
