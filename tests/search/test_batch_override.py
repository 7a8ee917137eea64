"""``nasc search --batch N``: the strategy trains with N instead of its spec's batch, run.json
keeps it, ``--resume`` continues with it, and a resume with another batch is refused."""
from __future__ import annotations

import json

from click.testing import CliRunner

import nasc.runtime.commands.search as search_command
from nasc.cli import main
from nasc.runtime.strategies import darts

from kit.searchkit import TINY_CELL, write_spec

SPEC = TINY_CELL + "search darts {\n  epochs 2\n  batch 4096\n}\n"


def test_the_batch_flag_sets_the_steps_of_an_epoch_and_is_recorded(tmp_path, monkeypatch):
    seen = []
    real = darts.Darts.setup

    def setup(self, ctx):
        real(self, ctx)
        seen.append(self.batch)

    monkeypatch.setattr(darts.Darts, "setup", setup)
    spec = write_spec(tmp_path, SPEC)
    _, run = search_command.search_spec(str(spec), out=str(tmp_path / "run"), quiet=True,
                                        synthetic_rows=2000, batch=256, threads=1)
    assert seen == [256]
    assert json.loads(run.file("run.json").read_text())["batch"] == 256
    # a resumed run continues with the recorded batch, not the spec's
    search_command.search_spec(None, resume=str(run.path), quiet=True, threads=1)
    assert seen == [256, 256]


def test_resume_with_another_batch_is_refused_with_a_located_error(tmp_path):
    spec = write_spec(tmp_path, SPEC)
    runner = CliRunner()
    out = str(tmp_path / "run")
    first = runner.invoke(main, ["search", str(spec), "--out", out, "--batch", "256", "--quiet",
                                 "--threads", "1", "--epochs", "1"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(main, ["search", "--resume", out, "--batch", "512", "--quiet"])
    assert again.exit_code == 2
    assert f"--batch: error: the run in {out} trains with batch 256" in again.output
    assert "leave --batch out" in again.output and "Traceback" not in again.output
    same = runner.invoke(main, ["search", "--resume", out, "--batch", "256", "--quiet"])
    assert same.exit_code == 0, same.output
