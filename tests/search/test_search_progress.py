"""What a running search tells: a best-so-far arch.nas after every epoch (DARTS, SNAS, ENAS) and
every child (random, evolution, rl, halving) with the final one as before, and a Ctrl-C message naming the real
run directory (or saying there is nothing to resume)."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

import nasc.runtime.commands.search as search_command
from nasc.cli import main
from nasc.runtime.rundir import RunDir

from kit.searchkit import TINY_CELL, write_spec

MODEL = TINY_CELL
TRAIN = "\ntrain {\n  batch 256\n  epochs 1\n}\n"
SPECS = {
    "darts": (MODEL + "search darts {\n  epochs 2\n  batch 256\n}\n", "epoch {} of 2"),
    "snas": (MODEL + "search snas {\n  epochs 2\n  batch 256\n}\n", "epoch {} of 2"),
    "random": (MODEL + "search random {\n  children 2\n  epochs 1\n  batch 256\n}\n" + TRAIN,
               "child {} of 2"),
    "evolution": (MODEL + "search evolution {\n  population 2\n  cycles 0\n  epochs 1\n"
                  "  batch 256\n}\n" + TRAIN, "child {}"),
    "rl": (MODEL + "search rl {\n  children 2\n  controller_batch 2\n  epochs 1\n"
           "  batch 256\n}\n" + TRAIN, "child {}"),
    "halving": (MODEL + "search halving {\n  children 2\n  eta 2\n  min_epochs 1\n"
                "  epochs 1\n  batch 256\n}\n" + TRAIN, "child {} of 2"),
    "enas": (MODEL + "search enas {\n  epochs 2\n  batch 256\n  controller_steps 1\n"
             "  controller_batch 2\n  children 3\n  top 1\n}\n" + TRAIN, "epoch {} of 2"),
}


@pytest.mark.parametrize("strategy", sorted(SPECS))
def test_best_so_far_arch_after_each_epoch_or_child(tmp_path, monkeypatch, strategy):
    text, after = SPECS[strategy]
    spec = write_spec(tmp_path, text)
    written = []
    original = RunDir.write_text

    def recording(self, name, content):
        if name == "arch.nas":
            written.append(content)
        original(self, name, content)

    monkeypatch.setattr(RunDir, "write_text", recording)
    _, run = search_command.search_spec(str(spec), out=str(tmp_path / "run"), quiet=True,
                                        synthetic_rows=2000)
    assert len(written) == 3  # after unit 1, after unit 2, and the final export
    for unit, content in enumerate(written[:2], 1):
        assert f"# Best so far after {after.format(unit)}" in content
        assert "The search has not finished" in content
    final = run.file("arch.nas").read_text()
    assert final == written[-1] and "Best so far" not in final
    assert final.startswith("# Architecture found by")


def test_interrupt_names_the_real_run_directory(tmp_path, monkeypatch):
    spec = write_spec(tmp_path, SPECS["darts"][0])
    monkeypatch.setattr(search_command, "_run_search", _interrupt)
    out = tmp_path / "my-run"
    result = CliRunner().invoke(main, ["search", str(spec), "--out", str(out), "--quiet"])
    assert result.exit_code == 130
    assert f"continue with `nasc search --resume {out}`" in result.output
    assert "<run directory>" not in result.output


def test_interrupt_before_the_run_directory_says_nothing_to_resume(tmp_path, monkeypatch):
    spec = write_spec(tmp_path, SPECS["darts"][0])
    monkeypatch.setattr(search_command, "prepare_search", _interrupt)  # e.g. reading a big file
    result = CliRunner().invoke(main, ["search", str(spec), "--out", str(tmp_path / "r"),
                                       "--quiet"])
    assert result.exit_code == 130
    assert "nothing to resume" in result.output and "--resume" not in result.output


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt
