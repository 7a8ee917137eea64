"""Reading text data files: plain or gzip, any newline convention."""
from __future__ import annotations

import gzip
import zlib
from contextlib import contextmanager
from pathlib import Path

from ...errors import data_error

_GZIP_MAGIC = b"\x1f\x8b"
# What a damaged gzip stream raises while it is read: a cut-off file (EOFError), bad deflate
# data (zlib.error), a bad CRC, length or member header (BadGzipFile). Plain reads raise none of
# them, so catching these never mislabels an I/O error of a plain file.
_GZIP_FAILURES = (EOFError, zlib.error, gzip.BadGzipFile)


def open_bytes(path: str | Path):
    path = Path(path)
    with open(path, "rb") as fh:
        magic = fh.read(2)
    # Sniff the gzip magic rather than trust the extension.
    return gzip.open(path, "rb") if magic == _GZIP_MAGIC else open(path, "rb")


@contextmanager
def _gzip_errors(path: str | Path):
    """Report a damaged gzip stream as a DataError naming the file, not as a crash (click would
    even read the decompressor's EOFError as the user pressing Ctrl-D: 'Aborted!')."""
    try:
        yield
    except _GZIP_FAILURES as exc:
        raise data_error(str(path), 1, f"the gzip file is truncated or corrupt ({exc})",
                         "download it again; `gzip -t FILE` checks a gzip file") from None


def read_bytes(path: str | Path) -> bytes:
    """The whole file, decompressed when it is gzip."""
    with _gzip_errors(path), open_bytes(path) as fh:
        return fh.read()


def read_text(path: str | Path) -> str:
    return read_bytes(path).decode("utf-8", errors="replace")


def read_lines(path: str | Path) -> list[str]:
    """All lines, without terminators (CRLF and LF both accepted)."""
    return read_text(path).splitlines()


def head_lines(path: str | Path, n: int = 5) -> list[str]:
    out: list[str] = []
    with _gzip_errors(path), open_bytes(path) as fh:
        for raw in fh:
            out.append(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
            if len(out) >= n:
                break
    return out


def strip_suffixes(path: str | Path) -> str:
    """File name without .gz and the format extension: 'frappe.train.libfm.gz' -> 'frappe.train'."""
    name = Path(path).name
    for suffix in (".gz", ".libfm", ".csv", ".tsv", ".txt", ".parquet"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name


def dataset_name(kind: str, path: str | Path) -> str:
    """'criteo', 'train-10k.txt.gz' -> 'criteo_train_10k'; no doubled prefix."""
    stem = strip_suffixes(path).replace("-", "_").replace(".", "_")
    return stem if stem.lower().startswith(kind) else f"{kind}_{stem}"
