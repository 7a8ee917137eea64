"""Reading text data files: plain or gzip, any newline convention."""
from __future__ import annotations

import gzip
from pathlib import Path


def open_bytes(path: str | Path):
    path = Path(path)
    with open(path, "rb") as fh:
        magic = fh.read(2)
    # Sniff the gzip magic rather than trust the extension.
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def read_text(path: str | Path) -> str:
    with open_bytes(path) as fh:
        return fh.read().decode("utf-8", errors="replace")


def read_lines(path: str | Path) -> list[str]:
    """All lines, without terminators (CRLF and LF both accepted)."""
    return read_text(path).splitlines()


def head_lines(path: str | Path, n: int = 5) -> list[str]:
    out: list[str] = []
    with open_bytes(path) as fh:
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
