"""One writer per run directory: a lock held for as long as a command writes into it.

The lock is an ``flock`` on ``RUN/.lock``: the kernel drops it when the process ends however it
ends (a kill included), so a crashed run never leaves a directory locked.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from nasc.errors import Diagnostic, UsageError

LOCK_FILE = ".lock"

try:
    import fcntl
except ImportError:  # Windows: no advisory locks through fcntl; run without one
    fcntl = None


@contextmanager
def exclusive(run_path: Path):
    """Hold the run directory's lock; refuse at once if another process holds it."""
    path = Path(run_path) / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UsageError([Diagnostic(str(run_path), 0, 0,
                                             "another nasc process is writing into this run "
                                             "directory",
                                             "wait for it to finish, or choose another --out"
                                             )]) from None
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
