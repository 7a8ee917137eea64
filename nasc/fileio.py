"""Atomic file writes: a reader never sees a half-written file, a crash never loses the old one.

A write replaces the file the path names: through a symbolic link, the file it points to (the
link stays a link), keeping that file's permission bits; a new file gets the bits a plain
``open`` would give it (0666 less the umask). A write that cannot be made (no permission, a full
disk, a path through a regular file) is an ``OutputError`` naming the path, with the old file
untouched.
"""
from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from nasc.errors import Diagnostic, UsageError


class OutputError(UsageError):
    """A file or directory nasc was asked to write could not be written."""


_HINTS = {
    errno.ENOSPC: "free some disk space, or write elsewhere (--out)",
    errno.EDQUOT: "free some disk space, or write elsewhere (--out)",
    errno.EACCES: "choose a directory you can write to (--out / --out-dir)",
    errno.EPERM: "choose a directory you can write to (--out / --out-dir)",
    errno.EROFS: "the file system is read-only: choose another directory (--out / --out-dir)",
    errno.ENOTDIR: "a part of the path is a file, not a directory: choose another path",
    errno.EISDIR: "the path is a directory: name a file",
}


def output_error(path, err: OSError) -> OutputError:
    reason = err.strerror or str(err)
    return OutputError([Diagnostic(str(path), 0, 0, f"cannot write here: {reason}",
                                   _HINTS.get(err.errno, "check the path and its permissions"))])


def make_dirs(path: Path) -> None:
    """``mkdir -p``, failing as an OutputError."""
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise output_error(path, err) from None


def write_atomic(path: Path, data: str | bytes) -> None:
    target = Path(os.path.realpath(path))  # through links: replace what they point to
    make_dirs(target.parent)
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    except OSError as err:
        raise output_error(path, err) from None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as err:
        raise output_error(path, err) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode("utf-8"))
            f.flush()
            os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise output_error(path, err) from None
        raise


def _umask() -> int:
    mask = os.umask(0)  # the only portable way to read it: set and restore at once
    os.umask(mask)
    return mask
