"""--seeds runs each seed as its own process into ROOT/seed-<s>, divides the cores between the
jobs, and summarises them in ROOT/seeds.json; --resume ROOT keeps the finished seeds."""
from __future__ import annotations

import json
import signal
import time

import pytest
from click.testing import CliRunner

from nasc.cli import main
from nasc.errors import UsageError
from nasc.runtime.seeds import parse_seeds

from kit.searchkit import REPO, start_cli, write_spec
from test_run_directory import SPACE

ROWS = "\n".join("\t".join([str(i % 2), str(i % 5), *["1"] * 12, *[f"c{(i * 7) % 5}"] * 26])
                 for i in range(400)) + "\n"


@pytest.fixture
def criteo(tmp_path):
    path = tmp_path / "criteo.txt"
    path.write_text(ROWS)
    return path


def cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output


@pytest.mark.parametrize("text", ["", "1,1", "a,2", ","])
def test_seeds_must_be_distinct_integers(text):
    with pytest.raises(UsageError, match="distinct integer seeds"):
        parse_seeds(text)


def test_train_seeds_run_as_jobs_and_are_summarised(tmp_path, criteo):
    root = tmp_path / "seeds"
    code, output = cli("train", REPO / "specs" / "lr.nas", "--data", criteo, "--epochs", 1,
                       "--seeds", "1,2,3", "--jobs", 2, "--out", root, "--device", "cpu")
    assert code == 0, output
    assert "3 seeds, 2 at a time, 1 CPU thread each" in output
    result = json.loads((root / "seeds.json").read_text())
    assert result["finished"] == [1, 2, 3]
    auc = result["metrics"]["test auc"]
    per_seed = [result["per_seed"][s]["test auc"] for s in ("1", "2", "3")]
    assert auc["n"] == 3 and auc["mean"] == pytest.approx(sum(per_seed) / 3)
    for seed in (1, 2, 3):
        config = json.loads((root / f"seed-{seed}" / "config.json").read_text())
        assert config["train"]["seed"] == seed and config["cpu"]["threads"] == 1
        assert config["split_seed"] == 2021  # every seed meets the same rows


def test_search_seeds_show_the_choices_side_by_side_and_resume_keeps_finished(tmp_path, criteo):
    spec = write_spec(tmp_path, SPACE)
    root = tmp_path / "seeds"
    args = ("search", spec, "--data", criteo, "--seeds", "4,5", "--out", root, "--device", "cpu")
    code, output = cli(*args)
    assert code == 0, output
    result = json.loads((root / "seeds.json").read_text())
    assert sorted(result["choices"]) == ["4", "5"]
    for label, counts in result["picked"].items():
        assert sum(counts.values()) == 2, label
    assert "search valid logloss" in result["metrics"]
    arch = (root / "seed-4" / "arch.nas").read_bytes()
    # Resuming keeps a finished seed untouched and starts a missing one.
    (root / "seed-5" / "summary.json").unlink()
    code, output = cli(*args[:-4], "--resume", root, "--device", "cpu")
    assert code == 0, output
    assert "seed 4: started" not in output and "seed 5: started" in output
    assert (root / "seed-4" / "arch.nas").read_bytes() == arch
    assert json.loads((root / "seeds.json").read_text())["finished"] == [4, 5]


# Epochs of the interrupted seeds: 200 tiny ones (~30 ms each) leave the signal seconds
# to land after both seeds' first checkpoint; 40 did not on a busy machine.
EPOCHS = 200


def test_ctrl_c_stops_every_seed_and_resume_finishes_them(tmp_path, criteo):
    spec = write_spec(tmp_path, SPACE.replace("epochs 1", f"epochs {EPOCHS}"))
    root = tmp_path / "seeds"
    proc = start_cli("search", spec, "--data", criteo, "--seeds", "1,2", "--jobs", "2",
                     "--out", root, "--device", "cpu")
    deadline = time.monotonic() + 120
    # history.json is the checkpoint's view, written just after it: wait for both, or a
    # SIGINT between the two writes leaves no view to compare with (resume rewrites it)
    while not all((root / f"seed-{s}" / name).exists() for s in (1, 2)
                  for name in ("checkpoint.pt", "history.json")):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, out + err
    assert f"--resume {root}" in out and "Traceback" not in out + err
    before = {s: json.loads((root / f"seed-{s}" / "history.json").read_text()) for s in (1, 2)}
    # A seed may finish before the other has started (torch's import alone can outlast the tiny
    # epochs on a busy machine): only a seed that ran all its epochs may hold a summary, and the
    # seed that started last, one checkpoint old at the signal, is always among the interrupted.
    interrupted = [s for s in (1, 2) if len(before[s]) < EPOCHS]
    assert interrupted, before
    for s in interrupted:  # an interrupted seed holds at most its best so far
        assert not (root / f"seed-{s}" / "summary.json").exists()
        arch = root / f"seed-{s}" / "arch.nas"
        assert not arch.exists() or "# Best so far after" in arch.read_text()
    code, output = cli("search", spec, "--data", criteo, "--seeds", "1,2", "--resume", root,
                       "--device", "cpu")
    assert code == 0, output
    assert json.loads((root / "seeds.json").read_text())["finished"] == [1, 2]
    for seed in (1, 2):  # each continued from its checkpoint: earlier epochs kept, not rerun
        history = json.loads((root / f"seed-{seed}" / "history.json").read_text())
        assert len(history) == EPOCHS and history[:len(before[seed])] == before[seed]
