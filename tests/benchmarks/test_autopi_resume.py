"""benchmarks/autopi.py finishes an interrupted search with `nasc search --resume` (a 50-epoch
AutoPI-D search outlives a session's machine) and counts the earlier stretch's seconds."""
from __future__ import annotations

import json
import os
import time

from nasc.runtime.commands import search as search_command
from nasc.runtime.strategies.darts import Darts

from kit.benchscripts import load_script
from kit.searchkit import TINY_CELL, write_spec

autopi = load_script("autopi")

# The smallest searched cell, searched by DARTS for three epochs.
SPEC = TINY_CELL + "\nsearch darts {\n  epochs 3\n  batch 512\n}\n"


def interrupted_in_epoch(n: int, monkeypatch):
    real = Darts.run_epoch

    def run_epoch(self, epoch, progress):
        if epoch == n:
            raise KeyboardInterrupt
        return real(self, epoch, progress)

    monkeypatch.setattr(Darts, "run_epoch", run_epoch)


def test_an_interrupted_search_is_resumed_to_the_uninterrupted_result(tmp_path, monkeypatch):
    spec = write_spec(tmp_path, SPEC)
    run, fresh = tmp_path / "run", tmp_path / "fresh"
    search = dict(quiet=True, synthetic_rows=2000, seed=3, threads=1)
    interrupted_in_epoch(3, monkeypatch)
    try:
        search_command.search_spec(str(spec), out=str(run), **search)
    except KeyboardInterrupt:
        pass
    monkeypatch.undo()
    assert (run / "checkpoint.pt").exists() and not (run / "summary.json").exists()
    assert autopi.resumable_search(run, spec, "darts", "synthetic", None)
    assert not autopi.resumable_search(run, spec, "darts", "synthetic", 50)  # another budget
    other = write_spec(tmp_path / "other", SPEC.replace("keep 1", "keep 2"))
    assert not autopi.resumable_search(run, other, "darts", "synthetic", None)

    # the first stretch ran from run.json to its last checkpoint: pretend it took 100 s
    start = (run / "checkpoint.pt").stat().st_mtime - 100
    os.utime(run / "run.json", (start, start))
    before = time.perf_counter()
    seconds = autopi.resume_search(run, "cpu")
    resumed = time.perf_counter() - before
    assert 100 + resumed * 0.5 < seconds <= 100 + resumed + 1
    assert (run / "summary.json").exists()
    assert not autopi.resumable_search(run, spec, "darts", "synthetic", None)  # finished
    stretches = json.loads((run / autopi.SEGMENTS).read_text())
    assert len(stretches) == 2 and stretches[0]["checkpoint"] - stretches[0]["started"] == 100

    search_command.search_spec(str(spec), out=str(fresh), **search)
    assert (run / "arch.nas").read_text() == (fresh / "arch.nas").read_text()
    assert json.loads((run / "history.json").read_text()) == \
        json.loads((fresh / "history.json").read_text())
