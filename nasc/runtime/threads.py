"""The CPU thread policy: how many intra-op threads a training process uses.

nasc's models are many small operators (a 4096 x 10 x 10 field matrix): a parallel region buys
little, and when another process takes a core, every region waits for a descheduled thread
(``benchmarks/results/threads.md``: with one busy process beside it on 2 cores, torch's default
of 2 threads ran a DARTS epoch 1.85x slower than 1 thread, and quiet, 1 thread was as fast).
So the default is one thread per four cores this process may use, at least one: 1 on 2-4
cores. The cores it may use are its CPU affinity, capped by a container's CPU quota, never the
machine's core count. Several jobs at once (``--jobs``) divide those cores between them.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

CORES_PER_THREAD = 4


def usable_cores() -> int:
    """Cores this process may run on: its affinity mask, capped by a cgroup CPU quota."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    quota = _cgroup_cpu_quota()
    if quota is not None:
        cores = min(cores, max(1, math.floor(quota)))
    return max(1, cores)


def _cgroup_cpu_quota() -> float | None:
    """CPUs a container may use (cgroup v2 ``cpu.max``, then v1's CFS quota), or None."""
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
        period = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
        return None if quota <= 0 else quota / period
    except (OSError, ValueError):
        return None


def default_threads(cores: int, jobs: int = 1) -> int:
    """The policy for ``jobs`` processes sharing ``cores``: each gets its share of the cores,
    and uses one thread per CORES_PER_THREAD of that share."""
    share = max(1, cores // max(1, jobs))
    return max(1, share // CORES_PER_THREAD)


@dataclass(frozen=True)
class ThreadChoice:
    threads: int
    cores: int
    source: str  # "--threads", "the spec's train block", "the default policy"

    def describe(self) -> str:
        return (f"using {self.threads} CPU thread{'s' if self.threads != 1 else ''} "
                f"({self.source}; {self.cores} usable core{'s' if self.cores != 1 else ''})")

    def to_json(self) -> dict:
        return {"threads": self.threads, "usable_cores": self.cores, "chosen_by": self.source}


def choose_threads(flag: int | None = None, setting: int | None = None,
                   jobs: int = 1) -> ThreadChoice:
    """``--threads`` wins, then the spec's setting, then the default policy."""
    cores = usable_cores()
    if flag is not None:
        return ThreadChoice(flag, cores, "--threads")
    if setting is not None:
        return ThreadChoice(setting, cores, "the spec's threads setting")
    return ThreadChoice(default_threads(cores, jobs), cores, "the default policy")


def apply_threads(choice: ThreadChoice) -> None:
    import torch

    torch.set_num_threads(choice.threads)
