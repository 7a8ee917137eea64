"""``--tensorboard``: the rows a run writes (training metrics, a search's history with its
architecture weights, random search's children) come back from the event files as scalars with
the same values and steps; a resumed run does not log its checkpoint's rows twice; off by
default."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from nasc.cli import main
from nasc.runtime.commands.search import search_spec
from nasc.runtime.commands.train import train_spec
from nasc.runtime.scalars import TensorBoardScalars, scalar_items

REPO = Path(__file__).resolve().parents[2]

LR = ("model lr {\n  input fields: categorical\n  head ctr(lr(fields))\n}\n"
      "train {\n  optimizer adam(lr=0.05)\n  batch 1024\n  epochs 3\n}\n")

PAIRS = """model m {
  input fields: categorical
  emb = embed(fields, dim=4)
  opset pair = { skip, fm, slp }
  x = pair(emb)
  head ctr(flatten(x), lr(fields))
}

search %s
train {
  optimizer adam(lr=0.01)
  batch 1024
  epochs 2
}
"""


def scalars(logdir: Path) -> dict[str, list[tuple[int, float]]]:
    events = EventAccumulator(str(logdir))
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)]
            for tag in events.Tags()["scalars"]}


def test_scalar_items_walks_weights_by_option_name_and_leaves_choices_out():
    row = {"epoch": 3, "valid_auc": 0.75, "lr": 1e-3, "train_logloss": None, "note": "text",
           "done": True, "bad": float("nan"),
           "arch": {"x.alpha": [0.25, 0.75], "cross.tuples": [[0.1, 0.9], [0.6, 0.4]]},
           "found": [[0, 1], [2, 3]], "widths": [200, 80]}
    got = dict(scalar_items(row, {"x.alpha": ["fm", "slp"]}))
    assert got == {"valid_auc": 0.75, "lr": 1e-3,
                   "arch/x.alpha/fm": 0.25, "arch/x.alpha/slp": 0.75,
                   "arch/cross.tuples[0]/0": 0.1, "arch/cross.tuples[0]/1": 0.9,
                   "arch/cross.tuples[1]/0": 0.6, "arch/cross.tuples[1]/1": 0.4}


def test_a_resuming_sink_logs_only_the_rows_after_the_checkpoint(tmp_path):
    rows = [{"epoch": e, "valid_auc": 0.5 + e / 10} for e in (1, 2, 3)]
    first = TensorBoardScalars(tmp_path / "tb")
    first.rows("history", rows[:1])
    first.rows("history", rows[:2])
    first.close()
    resumed = TensorBoardScalars(tmp_path / "tb", resume=True)
    resumed.rows("history", rows[:2])  # the views rewritten from the checkpoint
    resumed.rows("history", rows)
    resumed.close()
    got = scalars(tmp_path / "tb")["history/valid_auc"]
    assert sorted(got) == [(1, pytest.approx(0.6)), (2, pytest.approx(0.7)),
                           (3, pytest.approx(0.8))]


def test_training_writes_its_metrics_rows_as_scalars(tmp_path):
    spec = tmp_path / "lr.nas"
    spec.write_text(LR)
    train_spec(str(spec), out=str(tmp_path / "run"), quiet=True, threads=1, tensorboard=True)
    rows = json.loads((tmp_path / "run" / "metrics.json").read_text())
    got = scalars(tmp_path / "run" / "tensorboard")
    assert {"metrics/train_logloss", "metrics/valid_auc", "metrics/valid_logloss",
            "metrics/lr"} <= set(got)
    assert got["metrics/valid_auc"] == [(r["epoch"], pytest.approx(r["valid_auc"], abs=1e-6))
                                        for r in rows]


def test_darts_logs_each_operators_weight_by_name_per_epoch(tmp_path):
    spec = tmp_path / "m.nas"
    spec.write_text(PAIRS % "darts {\n  epochs 2\n  batch 1024\n}\n")
    _, run = search_spec(str(spec), out=str(tmp_path / "run"), quiet=True, threads=1,
                         synthetic_rows=3000, tensorboard=True)
    history = json.loads(run.file("history.json").read_text())
    got = scalars(run.file("tensorboard"))
    for n, option in enumerate(("skip", "fm", "slp")):
        assert got[f"history/arch/x.alpha/{option}"] == [
            (r["epoch"], pytest.approx(r["arch"]["x.alpha"][n], abs=1e-6)) for r in history]
    assert [s for s, _ in got["history/valid_auc"]] == [1, 2]
    assert not any(tag.startswith("metrics/") for tag in got)  # history.json less arch: once


def test_random_search_logs_a_row_per_child_and_nothing_without_the_flag(tmp_path):
    spec = tmp_path / "m.nas"
    spec.write_text(PAIRS % "random {\n  children 2\n  epochs 1\n}\n")
    _, run = search_spec(str(spec), out=str(tmp_path / "run"), quiet=True, threads=1,
                         synthetic_rows=3000, tensorboard=True)
    children = json.loads(run.file("children.json").read_text())
    got = scalars(run.file("tensorboard"))
    tags = [t for t in got if t.startswith("children/") and t.endswith("auc")]
    assert tags and all([s for s, _ in got[t]] == [c["child"] for c in children] for t in tags)
    _, plain = search_spec(str(spec), out=str(tmp_path / "plain"), quiet=True, threads=1,
                           synthetic_rows=3000)
    assert not plain.file("tensorboard").exists()


def test_the_flag_reaches_the_retraining_from_the_command_line(tmp_path):
    spec = tmp_path / "m.nas"
    spec.write_text(PAIRS % "darts {\n  epochs 1\n  batch 1024\n}\n")
    result = CliRunner().invoke(main, ["search", str(spec), "--out", str(tmp_path / "run"),
                                       "--retrain", "--tensorboard", "--quiet", "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert "history/valid_auc" in scalars(tmp_path / "run" / "tensorboard")
    assert "metrics/valid_auc" in scalars(tmp_path / "run" / "retrain" / "tensorboard")
