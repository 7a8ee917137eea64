"""`nasc search --resume` over a damaged run directory: a checkpoint that is truncated, random
bytes, not a dict, of another format, of another run or strategy, or inconsistent is a located
user error (exit 2, no traceback); a missing history.json or a stray temp file of an interrupted
write is not an error at all (both are regenerated or removed from the checkpoint)."""
from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import nasc.runtime.commands.search as search_command
from nasc.cli import main
from nasc.runtime.data.synthetic import make_synthetic

from kit.searchkit import write_spec
from test_kill_points import SPECS, walltime_free

HINT = "delete it to restart the search from the beginning, or resume a different run"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Finished runs to damage copies of: darts (seed 3 and 4) and random."""
    base = tmp_path_factory.mktemp("resume_errors")
    data = make_synthetic(seed=5, n=1000, num_fields=3, vocab=6, planted=((0, 1),), noise=0.2)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(search_command, "open_dataset", lambda program, name, **kw: data)
        for name, strategy, seed in [("darts", "darts", 3), ("darts4", "darts", 4),
                                     ("random", "random", 3)]:
            spec = write_spec(base, SPECS[strategy], f"{strategy}.nas")
            search_command.search_spec(str(spec), out=str(base / name), seed=seed, quiet=True)
    return base, data


def torch_bytes(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def inconsistent(run: Path) -> bytes:
    saved = torch.load(run / "checkpoint.pt", weights_only=True)
    saved["state"]["history"] = saved["state"]["history"][:-1]  # the last epoch's row lost
    return torch_bytes(saved)


# what replaces RUN/checkpoint.pt -> what the error says
DAMAGED = {
    "truncated": (lambda base, run: (run / "checkpoint.pt").read_bytes()[:700],
                  "is truncated or not a nasc checkpoint"),
    "random bytes": (lambda base, run: os.urandom(4096), "is truncated or not a nasc checkpoint"),
    "empty": (lambda base, run: b"", "is truncated or not a nasc checkpoint"),
    "not a dict": (lambda base, run: torch_bytes([1, 2, 3]),
                   "is truncated or not a nasc checkpoint"),
    "another format": (lambda base, run: torch_bytes({"epoch": 2, "model": {}}),
                       "is truncated or not a nasc checkpoint"),
    "another strategy": (lambda base, run: (base / "random" / "checkpoint.pt").read_bytes(),
                         "belongs to another search"),
    "another seed": (lambda base, run: (base / "darts4" / "checkpoint.pt").read_bytes(),
                     "belongs to another search"),
    "inconsistent": (lambda base, run: inconsistent(run),
                     "is inconsistent: 2 finished but 1 history rows"),
}


def resume(run: Path):
    return CliRunner().invoke(main, ["search", "--resume", str(run), "--device", "cpu", "--quiet"])


@pytest.fixture
def darts_copy(runs, tmp_path, monkeypatch):
    base, data = runs
    monkeypatch.setattr(search_command, "open_dataset", lambda program, name, **kw: data)
    run = tmp_path / "run"
    shutil.copytree(base / "darts", run)
    return base, run


@pytest.mark.parametrize("damage", list(DAMAGED))
def test_a_damaged_checkpoint_is_a_located_user_error(damage, darts_copy):
    base, run = darts_copy
    make, message = DAMAGED[damage]
    (run / "checkpoint.pt").write_bytes(make(base, run))
    result = resume(run)
    assert result.exit_code == 2, result.output
    assert f"{run / 'checkpoint.pt'}: error: checkpoint.pt {message}" in result.stderr
    assert f"hint: {HINT}" in result.stderr
    assert "Traceback" not in result.output and "Traceback" not in result.stderr


def test_a_missing_history_is_regenerated_from_the_checkpoint(darts_copy):
    base, run = darts_copy
    for name in ("history.json", "metrics.json", "metrics.csv"):
        (run / name).unlink()
    result = resume(run)
    assert result.exit_code == 0, result.output
    for name in ("history.json", "metrics.json", "metrics.csv", "arch.nas"):
        assert walltime_free((run / name).read_text()) == \
            walltime_free((base / "darts" / name).read_text()), name


def test_a_stray_temp_file_of_an_interrupted_write_is_removed(darts_copy):
    base, run = darts_copy
    stray = run / ".checkpoint.pt.k3jx9q2a"
    stray.write_bytes(b"half a checkpoint")
    result = resume(run)
    assert result.exit_code == 0, result.output
    assert not stray.exists()
    assert walltime_free((run / "arch.nas").read_text()) == \
        walltime_free((base / "darts" / "arch.nas").read_text())
