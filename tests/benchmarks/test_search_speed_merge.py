"""A full `python benchmarks/search_speed.py` run keeps what it does not measure itself: the GPU
lease's numbers and a real 50-epoch search were lost to every rerun before (the full run writes
`autopi_d_frappe_50_epochs_seconds: null` and has no `gpu` part)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def search_speed(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location("bench_search_speed_merge",
                                                  BENCHMARKS / "search_speed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_full_run_keeps_the_parts_measured_by_their_own_runs(monkeypatch):
    previous = {"step_seconds": 3.0, "gpu": {"step_seconds": 0.26},
                "autopi_d_frappe_50_epochs_seconds": 3990.1,
                "autopi_d_frappe_50_epochs": {"seconds": 3990.1, "epochs": 50},
                "autopi_d_frappe_50_epochs_why_null": "not run",
                "peaks_measured": {"date": "2026-12-05", "commit": "7383679", "threads": 1}}
    fresh = {"step_seconds": 2.8, "autopi_d_frappe_50_epochs_seconds": None,
             "autopi_d_frappe_50_epochs_why_null": "not run", "ranking": {"seconds": 1.0}}
    merged = search_speed(monkeypatch).carried_over(previous, fresh)
    assert merged["step_seconds"] == 2.8  # measured again: the new value
    assert merged["ranking"] == {"seconds": 1.0}
    assert merged["gpu"] == {"step_seconds": 0.26}  # not measured by a full run: kept
    assert merged["autopi_d_frappe_50_epochs_seconds"] == 3990.1
    assert merged["autopi_d_frappe_50_epochs"]["epochs"] == 50
    assert "autopi_d_frappe_50_epochs_why_null" not in merged
    assert "peaks_measured" not in merged  # a `--step` run's note on older peaks: now fresh


def test_without_a_real_search_the_reason_stays(monkeypatch):
    fresh = {"autopi_d_frappe_50_epochs_seconds": None,
             "autopi_d_frappe_50_epochs_why_null": "not run"}
    merged = search_speed(monkeypatch).carried_over({}, fresh)
    assert merged["autopi_d_frappe_50_epochs_why_null"] == "not run"


def test_the_table_says_when_kept_peaks_were_measured(monkeypatch):
    module = search_speed(monkeypatch)
    assert module.peaks_when({}) == ""
    kept = {"peaks_measured": {"date": "2026-12-05", "commit": "7383679", "threads": 1}}
    assert module.peaks_when(kept) == " (measured 2026-12-05 at 7383679, 1 thread(s))"
