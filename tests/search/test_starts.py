"""`nasc search --start FILE`: the user's architectures are the first children of random search,
successive halving and evolution; bad start files are located errors; --resume keeps them."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import nasc.runtime.strategies.common as strategy_common
from nasc.cli import main
from nasc.compiler.frontend import compile_text, load
from nasc.compiler.strategies import ROWS as STRATEGY_ROWS
from nasc.runtime.commands.search import search_spec
from nasc.runtime.data.synthetic import make_synthetic
from nasc.runtime.model import build_fixed
from nasc.runtime.strategies import evolution, halving

from kit.searchkit import REPO, TINY_CELL, counting_calls, make_ctx, write_spec

SPACE = """model m {
  input fields: categorical
  emb = embed(fields, dim=4)
  opset pair = { fm, senet, skip }
  x = pair(emb)
  mlp dnn(flatten(x)) {
    layers 1
    width { 8, 16 }
    act relu
  }
  head ctr(dnn)
}
"""
RANDOM = SPACE + "search random {\n  children 3\n  epochs 1\n  batch 512\n}\n"
START = {"x": "senet", "dnn.layer1.width": 16}
SYNTHETIC_ROWS = 1500


def cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output


def write_json(path: Path, value) -> Path:
    path.write_text(json.dumps(value, indent=1))
    return path


def rows(run: Path) -> list[dict]:
    return json.loads((run / "children.json").read_text())


def test_random_search_trains_the_starts_first_and_draws_the_rest(tmp_path):
    spec = write_spec(tmp_path, RANDOM)
    plain = tmp_path / "plain"
    search_spec(str(spec), out=str(plain), quiet=True, synthetic_rows=SYNTHETIC_ROWS)
    other = {"x": "fm", "dnn.layer1.width": 8}
    started = tmp_path / "started"
    message, _ = search_spec(str(spec), out=str(started), quiet=True, synthetic_rows=SYNTHETIC_ROWS,
                             start=(str(write_json(tmp_path / "s.json", [START, other])),))
    got = rows(started)
    assert [r["choices"] for r in got[:2]] == [START, other]
    assert [r.get("start", False) for r in got] == [True, True, False]
    # The one drawn child is plain sampling's first draw that is not a start.
    plain_draws = [r["choices"] for r in rows(plain)]
    assert got[2]["choices"] == next(c for c in plain_draws if c not in (START, other))
    run = json.loads((started / "run.json").read_text())
    assert run["starts"] == [START, other]
    summary = json.loads((started / "summary.json").read_text())
    best = min(got, key=lambda r: r["valid"]["logloss"])
    assert summary["choices"] == best["choices"] and summary["starts"] == 2
    assert (summary.get("kept_start") is not None) == bool(best.get("start"))
    assert ("it is start architecture" in message) == bool(best.get("start"))


def test_a_start_that_is_the_only_child_is_the_answer(tmp_path):
    spec = write_spec(tmp_path, RANDOM.replace("children 3", "children 1"))
    message, run = search_spec(str(spec), out=str(tmp_path / "run"), quiet=True,
                               synthetic_rows=SYNTHETIC_ROWS,
                               start=(str(write_json(tmp_path / "s.json", START)),))
    assert "it is start architecture 1: no drawn child beat it" in message
    assert "# choices: " + json.dumps(START, sort_keys=True) in run.file("arch.nas").read_text()


def test_halving_and_evolution_start_from_the_starts(tmp_path, tiny_data):
    for module, search in ((halving, "search halving {\n  children 4\n  eta 2\n  epochs 2\n"
                                     "  batch 512\n}\n"),
                           (evolution, "search evolution {\n  population 3\n  cycles 1\n"
                                       "  epochs 1\n  batch 512\n}\n")):
        ctx = make_ctx(tmp_path / module.__name__, SPACE + search, tiny_data)
        ctx.starts = (START,)
        module.search(ctx)
        got = rows(ctx.run.path)
        assert got[0]["choices"] == START and got[0]["start"] is True
        assert not any(r.get("start") for r in got[1:] if r["child"] != 0)
        assert sum(r["choices"] == START for r in got if r.get("rung", 0) == 0) == 1
    # Halving promotes a start to every rung, whatever its score on the short ones.
    ctx = make_ctx(tmp_path / "worst", SPACE + "search halving {\n  children 4\n  eta 2\n"
                   "  epochs 4\n  batch 512\n}\n", tiny_data)
    first = rows_of(halving, ctx)
    worst = max((r for r in first if r["rung"] == 0), key=lambda r: r["valid"]["logloss"])
    ctx = make_ctx(tmp_path / "started", SPACE + "search halving {\n  children 4\n  eta 2\n"
                   "  epochs 4\n  batch 512\n}\n", tiny_data)
    ctx.starts = (worst["choices"],)
    got = rows_of(halving, ctx)
    assert {r["rung"] for r in got if r["child"] == 0} == {0, 1, 2}
    assert got[0]["choices"] == worst["choices"]


def rows_of(module, ctx) -> list[dict]:
    module.search(ctx)
    return rows(ctx.run.path)


def test_an_arch_nas_of_the_same_space_is_a_start(tmp_path, tiny_data):
    """A searched cell's nodes written by arch.nas read back as the assignment a draw makes."""
    space = TINY_CELL + "search random {\n  children 2\n  epochs 1\n  batch 512\n}\n"
    spec = write_spec(tmp_path, space)
    first = tmp_path / "first"
    search_spec(str(spec), out=str(first), quiet=True, synthetic_rows=SYNTHETIC_ROWS)
    found = json.loads((first / "summary.json").read_text())["choices"]
    second = tmp_path / "second"
    search_spec(str(spec), out=str(second), quiet=True, synthetic_rows=SYNTHETIC_ROWS,
                start=(str(first / "arch.nas"),))
    got = rows(second)
    assert got[0]["choices"] == found and got[0]["start"]
    assert got[1]["choices"] != found  # the draw equal to the start was drawn again


def test_resume_keeps_the_starts_of_run_json(tmp_path, monkeypatch):
    spec = write_spec(tmp_path, RANDOM)
    start = write_json(tmp_path / "s.json", START)
    fresh = tmp_path / "fresh"
    search_spec(str(spec), out=str(fresh), quiet=True, synthetic_rows=SYNTHETIC_ROWS, start=(str(start),))
    real = strategy_common.train_model
    monkeypatch.setattr(strategy_common, "train_model", counting_calls(real, interrupt_at=2))
    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        search_spec(str(spec), out=str(run), quiet=True, synthetic_rows=SYNTHETIC_ROWS,
                    start=(str(start),))
    monkeypatch.setattr(strategy_common, "train_model", real)
    start.unlink()  # run.json holds them: the file is not needed again
    search_spec(str(spec), resume=str(run), quiet=True)

    def same(path):
        return [{k: v for k, v in r.items() if k != "seconds"} for r in rows(path)]

    assert same(run) == same(fresh)
    assert (run / "arch.nas").read_text() == (fresh / "arch.nas").read_text()
    code, output = cli("search", "--resume", run, "--start", write_json(tmp_path / "s2.json",
                                                                        START))
    assert code == 2 and "--resume cannot add others" in output


BAD = [
    ({"x": "fm"}, "1:1", "also chooses `dnn.layer1.width`"),
    ({"x": "fm", "dnn.layer1.width": 8, "y": 1}, "1:1", "`y` is not an open choice"),
    ([{"x": "fm", "dnn.layer1.width": 8}, {"x": "lr", "dnn.layer1.width": 8}], "6:2",
     "'lr' is not one of its options"),
    ({"x": "fm", "dnn.layer1.width": 12}, "1:1", "width 12 is not one of its options"),
    ([START, START], "6:2", "repeats the one at"),
    ([START, {"x": "fm", "dnn.layer1.width": 8}, {"x": "fm", "dnn.layer1.width": 16},
      {"x": "skip", "dnn.layer1.width": 8}], "13:1",
     "--start gives 4 architectures, more than the 3 first children of `children 3`"),
    ([], "1:1", "a non-empty list"),
]


@pytest.mark.parametrize("value,where,message", BAD, ids=[b[2][:24] for b in BAD])
def test_a_bad_start_file_is_a_located_error_and_writes_nothing(tmp_path, value, where,
                                                                 message):
    spec = write_spec(tmp_path, RANDOM)
    path = write_json(tmp_path / "s.json", value)
    code, output = cli("search", spec, "--start", path, "--out", tmp_path / "run", "--device",
                       "cpu")
    assert code == 2 and message in output and "Traceback" not in output
    shown = spec if "--start gives" in message else path
    assert f"{shown}:{where}:" in output
    assert not (tmp_path / "run").exists()


def test_broken_json_and_an_open_spec_are_located(tmp_path):
    spec = write_spec(tmp_path, RANDOM)
    broken = tmp_path / "s.json"
    broken.write_text('{\n  "x": "fm",,\n}')
    code, output = cli("search", spec, "--start", broken, "--out", tmp_path / "run")
    assert code == 2 and f"{broken}:2:13: error: not JSON" in output
    code, output = cli("search", spec, "--start", spec, "--out", tmp_path / "run")
    assert code == 2 and "must be a fixed model, but it still chooses `x`" in output


def test_interactions_name_fields_of_the_data(tmp_path):
    spec = write_spec(tmp_path, """model m {
  input fields: categorical
  emb = embed(fields, dim=4)
  interactions cross(emb) {
    cycles 1
    keep 1
  }
  head ctr(concat(flatten(emb), flatten(cross)))
}
search random {
  children 2
  epochs 1
  batch 512
}
""")
    path = write_json(tmp_path / "s.json", {"cross.tuples": [["f0", "nope"]]})
    code, output = cli("search", spec, "--start", path, "--out", tmp_path / "run")
    assert code == 2 and "`nope` is not a field of the data" in output, output


@pytest.mark.parametrize("row", [r for r in STRATEGY_ROWS if r.implemented], ids=lambda r: r.name)
def test_every_strategy_either_takes_starts_or_refuses_them(tmp_path, row):
    """The table row says which: a strategy that takes them counts its first children with a
    setting it has; the others refuse --start before anything is written."""
    if row.starts is not None:
        assert row.starts in row.settings and row.settings[row.starts].type == "int"
        return
    spec = write_spec(tmp_path, TINY_CELL + f"search {row.name} {{\n  epochs 1\n}}\n")
    path = write_json(tmp_path / "s.json", {"c.node1": [[0, "fm"]], "c.node2": [[1, "fm"]]})
    code, output = cli("search", spec, "--start", path, "--out", tmp_path / "run")
    assert code == 2 and f"strategy `{row.name}` does not train children one by one" in output
    assert not (tmp_path / "run").exists()


def test_ctr_space_holds_finalmlp_as_its_start_file_writes_it():
    """specs/starts/ctr_space_finalmlp.json is FinalMLP's Frappe_x1 point of specs/ctr_space.nas:
    the model it fixes has finalmlp.nas's parameters, tensor for tensor."""
    from nasc.compiler.fix import fix_spec
    from nasc.compiler.printer import print_spec
    from nasc.compiler.starts import read_starts

    text, spec, program = load(REPO / "specs" / "ctr_space.nas")
    schema = make_synthetic(seed=1, n=200, num_fields=10, vocab=8).schema
    [start] = read_starts([str(REPO / "specs" / "starts" / "ctr_space_finalmlp.json")], spec,
                          program, [f.name for f in schema.fields])
    _, fixed = compile_text(print_spec(fix_spec(spec, program, start, drop_search=True)))
    _, _, finalmlp = load(REPO / "specs" / "finalmlp.nas")
    shapes = [sorted(p.shape for p in build_fixed(p_, schema).parameters())
              for p_ in (fixed, finalmlp)]
    assert shapes[0] == shapes[1] and sum(torch.Size(s).numel() for s in shapes[0]) > 10_000
