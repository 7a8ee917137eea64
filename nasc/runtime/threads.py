"""The CPU thread policy: how many intra-op threads a training process uses.

nasc's models are many small operators (a 4096 x 10 x 10 field matrix): when another process
takes a core, every parallel region waits for a descheduled thread, and a second thread costs
more than it buys (``benchmarks/results/threads.md``: beside one busy process on 2 cores, 2
threads ran a DARTS epoch 2x slower than 1); on idle cores, one thread per idle core is fastest
(quiet, a DeepFM epoch took 1.27x longer on 1 thread than on 2). So the default counts the cores
this process may use -- its CPU affinity, capped by a container's CPU quota, never the machine's
core count -- and of those, the ones other processes leave idle over a short look at
``/proc/stat``, and uses one thread per idle core, up to MAX_THREADS. Several jobs at once
(``--jobs``) divide those cores between them. Where ``/proc/stat`` cannot be read (not Linux),
every usable core counts as idle.
"""
from __future__ import annotations

import functools
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

# Small operators gain nothing measurable from wide parallel regions; the cap keeps a process on
# a large machine from spreading 4096-row batches over dozens of threads. Only 1 and 2 threads are
# measured (benchmarks/threads.py); set --threads to go past it.
MAX_THREADS = 8
LOOK_SECONDS = 0.2


def usable_cores() -> int:
    """Cores this process may run on: its affinity mask, capped by a cgroup CPU quota."""
    cores = len(_affinity())
    quota = _cgroup_cpu_quota()
    if quota is not None:
        cores = min(cores, max(1, math.floor(quota)))
    return max(1, cores)


def _affinity() -> set[int]:
    try:
        return set(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return set(range(os.cpu_count() or 1))


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


def _cpu_times() -> dict[int, tuple[int, int]]:
    """Per CPU: (idle ticks, all ticks) since boot, from /proc/stat."""
    times = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *fields = line.split()
        if name.startswith("cpu") and name[3:].isdigit():
            ticks = [int(f) for f in fields[:8]]  # user nice system idle iowait irq softirq steal
            times[int(name[3:])] = (ticks[3] + ticks[4], sum(ticks))
    return times


@functools.cache
def idle_cores() -> float | None:
    """How many of this process's CPUs other processes left idle during a LOOK_SECONDS look
    (this process sleeps meanwhile), or None where /proc/stat cannot be read. Looked at once
    per process."""
    cpus = _affinity()
    try:
        before = _cpu_times()
        time.sleep(LOOK_SECONDS)
        after = _cpu_times()
    except (OSError, ValueError, IndexError):
        return None
    idle = 0.0
    for cpu in cpus & before.keys() & after.keys():
        ticks = after[cpu][1] - before[cpu][1]
        if ticks > 0:
            idle += (after[cpu][0] - before[cpu][0]) / ticks
    return idle


def whole_idle(idle: float, cores: int) -> int:
    """Idle cores as a whole number (half a core or more counts), at most ``cores``."""
    return min(cores, math.floor(idle + 0.5))


def default_threads(cores: int, jobs: int = 1, idle: float | None = None) -> int:
    """The policy for ``jobs`` processes sharing ``cores`` of which ``idle`` are idle (None: all):
    each job gets its share of the idle cores, at least one thread, at most MAX_THREADS."""
    free = cores if idle is None else whole_idle(idle, cores)
    return max(1, min(free // max(1, jobs), MAX_THREADS))


@dataclass(frozen=True)
class ThreadChoice:
    threads: int
    cores: int
    source: str  # "--threads", the resumed run's, "the spec's threads setting", the policy
    idle: float | None = None

    def describe(self) -> str:
        busy = "" if self.idle is None else f", {_cores(whole_idle(self.idle, self.cores))} idle"
        return (f"using {self.threads} CPU thread{'s' if self.threads != 1 else ''} "
                f"({self.source}; {_cores(self.cores)} usable{busy})")

    def to_json(self) -> dict:
        out = {"threads": self.threads, "usable_cores": self.cores, "chosen_by": self.source}
        if self.idle is not None:
            out["idle_cores"] = round(self.idle, 2)
        return out


def _cores(n: int) -> str:
    return f"{n} core{'s' if n != 1 else ''}"


def choose_threads(flag: int | None = None, setting: int | None = None,
                   jobs: int = 1, resumed: int | None = None) -> ThreadChoice:
    """``--threads`` wins, then the count the resumed run started with (float sums, and so the
    run, depend on it), then the spec's setting, then the default policy."""
    cores = usable_cores()
    if flag is not None:
        return ThreadChoice(flag, cores, "--threads")
    if resumed is not None:
        return ThreadChoice(resumed, cores, "the count the resumed run started with")
    if setting is not None:
        return ThreadChoice(setting, cores, "the spec's threads setting")
    idle = idle_cores()
    return ThreadChoice(default_threads(cores, jobs, idle), cores, "the default policy", idle)


def apply_threads(choice: ThreadChoice) -> None:
    import torch

    torch.set_num_threads(choice.threads)
