"""benchmarks/space.py: the names and keys of searches over several spaces, and the tables."""
from __future__ import annotations

import pytest

from kit.benchscripts import load_script

space = load_script("space")


@pytest.mark.parametrize("spec, strategy, start, method, key", [
    ("ctr_space", "random", None, "ctr_space (random)", "frappe_x1/files"),
    ("ctr_space", "halving", "specs/starts/ctr_space_finalmlp.json",
     "ctr_space (halving, start ctr_space_finalmlp)",
     "frappe_x1/files/halving, start ctr_space_finalmlp"),
    ("ctr_towers", "random", None, "ctr_towers (random)", "ctr_towers:frappe_x1/files"),
    ("ctr_towers", "halving", None, "ctr_towers (halving)", "ctr_towers:frappe_x1/files/halving"),
])
def test_names_and_keys_round_trip(spec, strategy, start, method, key):
    assert space.method_name(spec, strategy, start) == method
    assert space.search_key(spec, "frappe_x1", "files", strategy, start) == key
    parsed_space, data, split, variant = space.parse_key(key)
    assert (parsed_space, data, split) == (spec, "frappe_x1", "files")
    assert f"{parsed_space} ({variant})" == method


def _search(seconds):
    return {"seed": 2021, "children": 1, "best_child": 1, "search_seconds": seconds,
            "device": "cpu", "threads": 1,
            "children_rows": [{"child": 1, "valid": {"auc": 0.98, "logloss": 0.15}, "epochs": 3,
                               "seconds": seconds, "choices": {"x": "y"}}]}


def _run(method, seed, auc):
    return {"method": method, "data": "frappe_x1", "split": "files", "seed": seed,
            "test_auc": auc, "test_logloss": 0.14, "valid_auc": 0.98, "epochs": 3,
            "parameters": 10}


def test_markdown_puts_each_space_s_runs_under_its_own_search():
    result = {"searches": {"frappe_x1/files": _search(11),
                           "ctr_towers:frappe_x1/files": _search(22)},
              "runs": [_run("ctr_space (random)", 2021, 0.91111),
                       _run("ctr_towers (random)", 2021, 0.92222)]}
    text = space.markdown(result)
    first, second = text.split("## ctr_space: frappe_x1, files split, random")[1].split(
        "## ctr_towers: frappe_x1, files split, random")
    assert "0.91111" in first and "0.92222" not in first and "11 s" in first
    assert "0.92222" in second and "0.91111" not in second and "22 s" in second
