"""On-disk cache of preprocessed datasets.

Key: hash of the loader, its options and each source file's (path, size, mtime), so editing a
source invalidates the entry. One file per entry, written to a temp file in the same directory
and moved into place with os.replace (atomic: readers never see half a file). An entry that
cannot be read is ignored and rebuilt. Contents: plain tensors + JSON strings, read back with
torch.load(weights_only=True).
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Callable

import torch

from .table import Dataset, Schema, TensorTable

CACHE_VERSION = 3  # bump when preprocessing changes what a loader produces
SPLITS = ("train", "valid", "test")


def cache_root(cache_dir: str | Path | None = None) -> Path:
    if cache_dir is not None:
        return Path(cache_dir)
    env = os.environ.get("NASC_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "nasc"


def cache_key(loader: str, sources: list[Path], options: dict) -> str:
    stamp = []
    for p in sources:
        st = Path(p).stat()
        stamp.append([str(Path(p).resolve()), st.st_size, st.st_mtime_ns])
    blob = json.dumps({"v": CACHE_VERSION, "loader": loader, "sources": stamp, "options": options},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def save(path: Path, ds: Dataset) -> None:
    payload = {
        "version": CACHE_VERSION,
        "name": ds.name,
        "schema": json.dumps(ds.schema.to_json()),
        "meta": json.dumps(ds.meta),
        "features": json.dumps(ds.features),
        **{s: dict(t.columns) for s, t in zip(SPLITS, (ds.train, ds.valid, ds.test))},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(payload, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: Path) -> Dataset | None:
    """The cached dataset, or None when absent, unreadable or from another cache version."""
    if not path.is_file():
        return None
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if payload.get("version") != CACHE_VERSION:
            return None
        tables = [TensorTable(payload[s]) for s in SPLITS]
        return Dataset(payload["name"], Schema.from_json(json.loads(payload["schema"])), *tables,
                       meta=json.loads(payload["meta"]),
                       features=json.loads(payload["features"]))
    except Exception:  # truncated, corrupt or foreign file: rebuild
        return None


def cached(loader: str, sources: list[Path], options: dict, build: Callable[[], Dataset],
           cache_dir: str | Path | None = None) -> Dataset:
    """Load from the cache, or build and store."""
    path = cache_root(cache_dir) / f"{loader}-{cache_key(loader, sources, options)}.pt"
    ds = load(path)
    if ds is None:
        ds = build()
        try:
            save(path, ds)
        except OSError:
            pass  # a read-only or full cache directory must not stop the run
    return ds
