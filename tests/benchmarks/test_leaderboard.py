"""benchmarks/leaderboard.py: hand-crafted and searched rows from the results files, one row per
(model, data, split) with the issue's keys, sorted by AUC, and the markdown generated from it."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from kit.benchscripts import load_script


@pytest.fixture(scope="module")
def board():
    return load_script("leaderboard")


def _write(path: Path, data) -> None:
    path.write_text(json.dumps(data))


def test_rows_from_baselines_and_searches(board, tmp_path):
    _write(tmp_path / "baselines.json", {"environment": {"device": "cpu"}, "runs": [
        {"model": "pnn", "seed": s, "test_auc": a, "test_logloss": 0.15, "parameters": 100,
         "commit": "abc"} for s, a in [(1, 0.98), (2, 0.99)]]})
    _write(tmp_path / "autopi.json", {"runs": [
        {"method": "AutoPI-D", "split": "files", "seed": 1, "test_auc": 0.991,
         "test_logloss": 0.14, "parameters": 50, "search_seconds": 100.0, "device": "cpu",
         "commit": "def"},
        {"method": "AutoPI-D", "split": "random811", "seed": 1, "test_auc": 0.97,
         "test_logloss": 0.2, "search_seconds": 10.0, "device": "cpu", "commit": "def"}]})
    _write(tmp_path / "ameir.json", {"runs": [  # a next-item row has no AUC: left out
        {"method": "AMEIR-A", "data": "beauty_s3rec", "split": "files", "seed": 1, "hr5": 0.3}]})
    rows = board.leaderboard(tmp_path)
    assert [(r["model"], r["split"]) for r in rows] == [
        ("AutoPI-D", "files"), ("pnn", "files"), ("AutoPI-D", "random811")]
    pnn = rows[1]
    assert set(board.KEYS) <= set(pnn)
    assert pnn["kind"] == "hand-crafted" and pnn["seeds"] == [1, 2]
    assert pnn["test_auc_mean"] == pytest.approx(0.985)
    assert pnn["test_auc_std"] == pytest.approx(0.00707107, abs=1e-7)
    assert pnn["search_seconds"] == 0.0 and pnn["params"] == 100
    assert rows[0]["kind"] == "searched" and rows[0]["search_seconds"] == 100.0
    text = board.markdown(rows)
    assert "## frappe_x1, files split" in text and "## frappe_x1, random811 split" in text
    assert "Best searched (AutoPI-D) minus best hand-crafted (pnn): +0.0060 AUC." in text
