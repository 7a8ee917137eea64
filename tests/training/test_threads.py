"""The CPU thread policy: cores this process may use (affinity, a container's quota), one thread
per four of them by default, --threads first; the choice is applied, recorded and said once."""
from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner

from nasc.cli import main
from nasc.runtime import threads
from nasc.runtime.threads import choose_threads, default_threads, usable_cores

REPO = __import__("pathlib").Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_usable_cores_follow_the_affinity_mask_not_the_machine(monkeypatch):
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {3}, raising=False)
    monkeypatch.setattr(threads, "_cgroup_cpu_quota", lambda: None)
    assert usable_cores() == 1


def test_usable_cores_are_capped_by_a_container_quota(monkeypatch):
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    monkeypatch.setattr(threads, "_cgroup_cpu_quota", lambda: 2.5)
    assert usable_cores() == 2
    monkeypatch.setattr(threads, "_cgroup_cpu_quota", lambda: 0.5)
    assert usable_cores() == 1  # a fraction of a core still runs one thread


@pytest.mark.parametrize("cores, jobs, expected", [
    (1, 1, 1), (2, 1, 1), (4, 1, 1), (8, 1, 2), (16, 1, 4), (16, 2, 2), (16, 8, 1), (2, 3, 1),
])
def test_the_default_is_one_thread_per_four_cores_of_a_jobs_share(cores, jobs, expected):
    assert default_threads(cores, jobs) == expected


def test_the_flag_wins_over_the_setting_over_the_policy(monkeypatch):
    monkeypatch.setattr(threads, "usable_cores", lambda: 16)
    assert choose_threads(3, 5).threads == 3 and choose_threads(3, 5).source == "--threads"
    assert choose_threads(None, 5).threads == 5
    assert choose_threads().threads == 4 and choose_threads().source == "the default policy"


@pytest.mark.parametrize("flag, expected", [([], 1), (["--threads", "2"], 2)])
def test_train_applies_records_and_prints_the_choice(tmp_path, monkeypatch, flag, expected):
    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    result = CliRunner().invoke(main, ["train", str(REPO / "specs" / "lr.nas"), "--epochs", "1",
                                       "--out", str(tmp_path / "run"), *flag])
    assert result.exit_code == 0, result.output
    assert torch.get_num_threads() == expected
    cpu = json.loads((tmp_path / "run" / "config.json").read_text())["cpu"]
    assert cpu == {"threads": expected, "usable_cores": 2,
                   "chosen_by": "--threads" if flag else "the default policy"}
    assert result.stderr.count(f"using {expected} CPU thread") == 1
