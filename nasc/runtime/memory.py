"""How much memory this process may still take, and refusing an allocation that cannot fit
before it is made: the system's available memory, a cgroup (container) limit when there is one,
or the free memory of a CUDA device. Data readers call ``require`` before a large array (a long
``max_len`` died inside numpy); ``nasc.runtime.sizing`` does so for models.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path

import torch


class TooLarge(Exception):
    """An allocation that cannot fit; the caller names the construct it comes from."""

    def __init__(self, what: str, needed: int, available: int):
        super().__init__(f"{what} needs about {human_bytes(needed)}, but only "
                         f"{human_bytes(available)} of memory is available")
        self.what, self.needed, self.available = what, needed, available


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    raise AssertionError


def available_bytes(device: torch.device | str = "cpu") -> int:
    """Memory an allocation may still take on ``device``."""
    device = torch.device(device)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    limits = [_meminfo_available(), _cgroup_available()]
    known = [v for v in limits if v is not None]
    if known:
        return min(known)
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_available() -> int | None:
    """A container's memory limit less what it uses (cgroup v2, then v1), or None."""
    for limit, usage in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                         ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                          "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            cap = Path(limit).read_text().strip()
            if cap == "max" or int(cap) >= 1 << 60:  # v1 writes a huge number for 'no limit'
                return None
            return int(cap) - int(Path(usage).read_text().strip())
        except (OSError, ValueError):
            continue
    return None


def require(nbytes: int, what: str, device: torch.device | str = "cpu") -> None:
    """Raise TooLarge when ``nbytes`` more cannot fit on ``device``."""
    available = available_bytes(device)
    if nbytes > available:
        raise TooLarge(what, nbytes, available)


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
MMAP_THRESHOLD = 128 * 1024  # glibc's initial value, before it adapts upward


def return_freed_memory() -> bool:
    """Make glibc give freed memory back to the system at once, as ``MALLOC_TRIM_THRESHOLD_=0``
    does from the start: blocks of 128 KB and more (every activation of a batch) get their own
    mapping, unmapped when freed, and the heap's free top is trimmed, so that resident memory
    follows what the process holds rather than the most its temporaries ever took; allocations
    get slower. (glibc raises its mapping threshold as large blocks are freed, e.g. while torch
    loads; setting it back matters as much as the trim.) True where it took effect (glibc)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt, malloc_trim = libc.mallopt, libc.malloc_trim
    except (OSError, AttributeError, TypeError):  # no libc found, or not glibc (musl, macOS)
        return False
    if not (mallopt(M_TRIM_THRESHOLD, 0) and mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)):
        return False
    malloc_trim(0)
    return True
