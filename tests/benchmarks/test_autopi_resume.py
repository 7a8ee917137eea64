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


def test_a_search_from_another_logit_start_is_not_reused(tmp_path):
    """A DARTS search is reused across train-block edits, but not across `init_bias`: a run.json
    without the key ran before the setting existed, from a logit of 0."""
    spec = write_spec(tmp_path, SPEC + "\ntrain {\n  epochs 2\n}\n")
    run = tmp_path / "run"
    run.mkdir()
    (run / "spec.nas").write_text(SPEC + "\ntrain {\n  epochs 9\n}\n")
    saved = {"epochs": 3, "data": "synthetic"}

    def reused(**extra) -> bool:
        (run / "run.json").write_text(json.dumps({**saved, **extra}))
        return autopi.repeats_search(run, spec, "darts", "synthetic", 3)

    assert reused(init_bias="prior")      # only the rest of the train block differs
    assert not reused(init_bias="zero")   # today's spec starts at the prior
    assert not reused()                   # an older nasc: from 0
    spec.write_text(SPEC + "\ntrain {\n  epochs 2\n  init_bias zero\n}\n")
    assert reused()
    assert not reused(init_bias="prior")
