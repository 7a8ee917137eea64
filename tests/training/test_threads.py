"""The CPU thread policy: cores this process may use (affinity, a container's quota), one thread
per core of them other processes leave idle by default, --threads first, then the spec's threads
setting; the choice is applied, recorded and said once."""
from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner

from nasc.cli import main
from nasc.runtime import threads
from nasc.runtime.commands import common, search as search_command
from nasc.runtime.threads import choose_threads, usable_cores

REPO = __import__("pathlib").Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _restore_threads(monkeypatch):
    monkeypatch.setattr(common, "_SAID", None)  # each test starts as a fresh process
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


@pytest.mark.parametrize("cores, jobs, idle, expected", [
    (1, 1, None, 1), (2, 1, None, 2), (2, 1, 1.9, 2), (2, 1, 1.0, 1), (2, 1, 0.3, 1),
    (2, 2, 2.0, 1), (2, 3, 2.0, 1), (16, 1, None, threads.MAX_THREADS), (16, 2, 9.6, 5),
    (16, 8, 16.0, 2), (4, 1, 7.0, 4),
])
def test_the_default_is_a_jobs_share_of_the_idle_cores(cores, jobs, idle, expected):
    assert threads.default_threads(cores, jobs, idle) == expected


def test_idle_cores_count_only_this_process_cpus(monkeypatch):
    """Ticks (idle, total) per CPU before and after the look: CPU 0 idle throughout, CPU 1 busy
    half the time, CPU 2 idle but outside the affinity mask."""
    samples = iter([{0: (100, 200), 1: (100, 200), 2: (0, 100)},
                    {0: (120, 220), 1: (110, 220), 2: (20, 120)}])
    monkeypatch.setattr(threads, "_cpu_times", lambda: next(samples))
    monkeypatch.setattr(threads, "_affinity", lambda: {0, 1})
    monkeypatch.setattr(threads.time, "sleep", lambda s: None)
    assert threads.idle_cores.__wrapped__() == pytest.approx(1.5)


def test_idle_cores_on_this_machine_are_within_its_cpus():
    idle = threads.idle_cores.__wrapped__()
    if idle is None:
        pytest.skip("/proc/stat is not readable here (not Linux)")
    assert 0.0 <= idle <= len(threads._affinity()) + 1e-6


def test_the_flag_wins_over_the_setting_over_the_policy(monkeypatch):
    monkeypatch.setattr(threads, "usable_cores", lambda: 16)
    monkeypatch.setattr(threads, "idle_cores", lambda: 3.2)
    assert choose_threads(3, 5).threads == 3 and choose_threads(3, 5).source == "--threads"
    assert choose_threads(None, 5).threads == 5
    policy = choose_threads()
    assert policy.threads == 3 and policy.source == "the default policy"
    assert policy.to_json()["idle_cores"] == 3.2


@pytest.mark.parametrize("flag, idle, expected", [([], 1.1, 1), ([], 1.8, 2),
                                                  (["--threads", "2"], 0.0, 2)])
def test_train_applies_records_and_prints_the_choice(tmp_path, monkeypatch, flag, idle, expected):
    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    monkeypatch.setattr(threads, "idle_cores", lambda: idle)
    result = CliRunner().invoke(main, ["train", str(REPO / "specs" / "lr.nas"), "--epochs", "1",
                                       "--out", str(tmp_path / "run"), *flag])
    assert result.exit_code == 0, result.output
    assert torch.get_num_threads() == expected
    cpu = json.loads((tmp_path / "run" / "config.json").read_text())["cpu"]
    assert cpu == {"threads": expected, "usable_cores": 2,
                   "chosen_by": "--threads" if flag else "the default policy",
                   **({} if flag else {"idle_cores": idle})}
    assert result.stderr.count(f"using {expected} CPU thread") == 1


@pytest.mark.parametrize("block", ["train", "search"])
def test_the_specs_threads_setting_is_used_unless_the_flag_says_otherwise(tmp_path, monkeypatch,
                                                                          capsys, block):
    monkeypatch.setattr(threads, "idle_cores", lambda: 0.0)  # the policy alone would pick 1
    text = (REPO / "specs" / "autopi.nas").read_text()
    if block == "train":
        text = text.replace("train {", "train {\n  threads 2", 1)
    else:
        text = text.replace("search darts {", "search darts {\n  threads 2", 1)
    spec = tmp_path / "spec.nas"
    spec.write_text(text)
    search_command.search_spec(str(spec), out=str(tmp_path / "run"), epochs=1, synthetic_rows=2000)
    assert torch.get_num_threads() == 2
    assert "using 2 CPU threads (the spec's threads setting" in capsys.readouterr().err
    search_command.search_spec(str(spec), out=str(tmp_path / "run2"), epochs=1, synthetic_rows=2000,
                        threads=1, quiet=True)
    assert torch.get_num_threads() == 1


def test_search_then_retrain_says_the_choice_once(tmp_path):
    text = (REPO / "specs" / "autopi.nas").read_text()
    spec = tmp_path / "spec.nas"
    spec.write_text(text.replace("  epochs 100\n", "  epochs 1\n"))
    result = CliRunner().invoke(main, ["search", str(spec), "--epochs", "1", "--retrain",
                                       "--threads", "1", "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run" / "retrain" / "summary.json").is_file()
    assert result.stderr.count("using 1 CPU thread") == 1


def test_a_resumed_search_continues_with_the_thread_count_it_began_with(tmp_path, monkeypatch,
                                                                        capsys):
    """The policy would pick 2 threads on the now idle machine; float sums, and so the search,
    depend on the count, so --resume keeps the run's 1 unless --threads says otherwise."""
    from nasc.runtime.strategies.darts import Darts

    text = (REPO / "specs" / "autopi.nas").read_text()
    spec = tmp_path / "spec.nas"
    spec.write_text(text)
    real = Darts.run_epoch

    def interrupted(self, epoch, progress):
        if epoch == 2:
            raise KeyboardInterrupt
        return real(self, epoch, progress)

    monkeypatch.setattr(Darts, "run_epoch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        search_command.search_spec(str(spec), out=str(tmp_path / "run"), epochs=2,
                                   synthetic_rows=2000, threads=1, quiet=True)
    monkeypatch.setattr(Darts, "run_epoch", real)
    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    monkeypatch.setattr(threads, "idle_cores", lambda: 2.0)
    capsys.readouterr()
    search_command.search_spec(None, resume=str(tmp_path / "run"))
    assert torch.get_num_threads() == 1
    assert "using 1 CPU thread (the count the resumed run started with" in capsys.readouterr().err
    assert choose_threads(None, None, resumed=1).threads == 1
    assert choose_threads(2, None, resumed=1).threads == 2  # --threads still wins
