"""A search killed at any write, then resumed, ends byte for byte as an uninterrupted one.

Not timing luck: every file write of nasc goes through ``nasc.fileio.write_atomic``, whose
``os.replace`` is hooked to raise ``Killed`` at its k-th call, just before or just after the
replace, for every k of a short search (darts, oneshot_random, random). ``Killed`` is a
BaseException, so no ``except Exception`` of nasc's can swallow it; "before" also leaves a copy
of the temp file behind, as a SIGKILL would (write_atomic's own clean-up runs in process). The run
is then resumed with ``search_spec(resume=...)`` (or started again when the kill came before
run.json existed, as a user would) and its arch.nas and metrics compared with the reference's.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
import torch

import nasc.fileio as fileio
import nasc.runtime.commands.search as search_command
from nasc.runtime.data.synthetic import make_synthetic

from kit.searchkit import TINY_CELL, TINY_ONESHOT, TINY_RANDOM, write_spec

CELL = TINY_CELL
SPECS = {
    "darts": CELL + "search darts {\n  epochs 2\n  batch 256\n}\n",
    "random": TINY_RANDOM,
    # two stages: step 2 over two cycles (a checkpoint after each), then the mlp width
    "oneshot_random": TINY_ONESHOT,
}
# What the search ends with, compared as text (wall times masked); inherited.pt by its tensors.
RESULTS = {
    "darts": ["arch.nas", "choices.json", "history.json", "metrics.json", "metrics.csv"],
    "random": ["arch.nas", "choices.json", "children.json"],
    "oneshot_random": ["arch.nas", "choices.json", "interactions.json"],
}
# The resumable unit and its views: no temp file of these may survive a resume.
UNIT = {"darts": ["checkpoint.pt", "history.json", "metrics.json", "metrics.csv"],
        "random": ["checkpoint.pt", "children.json"],
        "oneshot_random": ["checkpoint.pt", "interactions.json"]}


class Killed(BaseException):
    """The process dies here."""


class WritePoints:
    """``nasc.fileio.os`` with ``replace`` counted, and killed at call ``kill_at``."""

    def __init__(self, kill_at: int | None = None, when: str = "before"):
        self.kill_at, self.when, self.names = kill_at, when, []

    def __getattr__(self, name):
        return getattr(os, name)

    def replace(self, src, dst) -> None:
        self.names.append(Path(dst).name)
        kill = len(self.names) == self.kill_at
        if kill and self.when == "before":
            shutil.copy(src, f"{src}x")  # the temp file a real kill leaves: .NAME.xxxxxxxxx
            raise Killed
        os.replace(src, dst)
        if kill:
            raise Killed


def search(monkeypatch, spec: Path, out: Path, points: WritePoints, resume: bool = False):
    monkeypatch.setattr(fileio, "os", points)
    try:
        if resume:
            search_command.search_spec(None, resume=str(out), quiet=True)
        else:
            search_command.search_spec(str(spec), out=str(out), seed=3, quiet=True)
    finally:
        monkeypatch.setattr(fileio, "os", os)


def walltime_free(text: str) -> str:
    text = re.sub(r"search_seconds [0-9.]+", "search_seconds <t>", text)
    return re.sub(r'("seconds": ?)[0-9.eE+-]+', r"\1<t>", text)


def results(run: Path, strategy: str) -> dict:
    out = {name: walltime_free((run / name).read_text()) for name in RESULTS[strategy]}
    if (run / "inherited.pt").exists():
        out["inherited.pt"] = {k: v.tolist() for k, v in
                               torch.load(run / "inherited.pt", weights_only=True).items()}
    return out


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_synthetic(seed=5, n=1000, num_fields=3, vocab=6, planted=((0, 1),), noise=0.2)


@pytest.mark.parametrize("strategy", ["darts", "oneshot_random", "random"])
def test_a_kill_at_any_write_then_resume_ends_as_an_uninterrupted_run(strategy, tiny, tmp_path,
                                                                      monkeypatch):
    monkeypatch.setattr(search_command, "open_dataset", lambda program, name, **kw: tiny)
    spec = write_spec(tmp_path, SPECS[strategy])
    reference = WritePoints()
    search(monkeypatch, spec, tmp_path / "reference", reference)
    expected = results(tmp_path / "reference", strategy)
    assert reference.names.count("checkpoint.pt") >= 2  # 2+ epochs, children or stages
    for k, name in enumerate(reference.names, 1):
        for when in ("before", "after"):
            run = tmp_path / f"{k}-{when}"
            with pytest.raises(Killed):
                search(monkeypatch, spec, run, WritePoints(k, when))
            where = f"killed {when} write {k} ({name})"
            # Before run.json there is no run to resume: the user starts the same search again
            # in the same directory, which holds at most spec.nas and temp files then.
            search(monkeypatch, spec, run, WritePoints(), resume=(run / "run.json").exists())
            assert results(run, strategy) == expected, where
            strays = [p.name for f in UNIT[strategy] for p in run.glob(f".{f}.*")]
            assert strays == [], where
