"""libFM / svmlight files as used by NFM, AFN and BARS for Frappe: ``label idx:val idx:val …``.

The field of a value is its position in the row (every row has the same number of values);
labels -1/0 -> 0 and 1 -> 1. Values (``val``) must be numbers but are ignored: these files
hold one-hot categorical fields only. Indices are integers >= 0 that fit int64; a bad row is
refused at its line.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import data_error
from .build import RawTable, build_dataset
from .ids import as_ids, id_problem
from .splits import make_split
from .table import Dataset
from .textio import read_lines, strip_suffixes

FRAPPE_FIELDS = ("user", "item", "daytime", "weekday", "isweekend", "homework", "cost", "weather",
                 "country", "city")
SPLIT_WORDS = {"train": ("train",), "valid": ("validation", "valid", "val", "dev"), "test": ("test",)}
_LABELS = {"1": 1.0, "+1": 1.0, "0": 0.0, "-1": 0.0, "1.0": 1.0, "0.0": 0.0, "-1.0": 0.0}


def parse_libfm(path: str | Path, num_fields: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One file -> raw feature indices (N, m) int64 and labels (N,) float32.

    ``num_fields`` fixes m (e.g. to match another split); by default the first row sets it.
    """
    lines = read_lines(path)
    labels: list[float] = []
    rows: list[list[int]] = []
    try:  # fast path: no per-token validation beyond what int()/float() do
        for line in lines:
            parts = line.split()
            if not parts:
                continue
            labels.append(_LABELS[parts[0]])
            row = []
            for tok in parts[1:]:
                idx, sep, val = tok.partition(":")
                float(val)
                row.append(int(idx))
            if num_fields is None:
                num_fields = len(row)
            if len(row) != num_fields or not sep:
                raise ValueError
            rows.append(row)
        indices = as_ids(rows)
    except (KeyError, ValueError):
        _raise_first_error(path, lines, num_fields)
    if not rows:
        raise data_error(str(path), 1, "the file has no data rows",
                         "expected lines of the form 'label idx:val idx:val …'")
    return indices, np.asarray(labels, dtype=np.float32)


def _raise_first_error(path, lines: list[str], num_fields: int | None) -> None:
    """Slow path, run only when the fast one failed: find the first bad row and say why."""
    expected = num_fields
    for lineno, line in enumerate(lines, start=1):
        parts = line.split()
        if not parts:
            continue
        fail = lambda msg, hint: data_error(str(path), lineno, msg, hint, line)  # noqa: E731
        if parts[0] not in _LABELS:
            raise fail(f"bad label {parts[0]!r}", "the first token of a row is the label: 1, 0 or -1")
        for col, tok in enumerate(parts[1:], start=1):
            idx, sep, val = tok.partition(":")
            bad_index = id_problem(idx) if sep else None
            if not sep or bad_index or not _is_number(val):
                detail = f": {idx!r} {bad_index}" if bad_index else ""
                raise fail(f"bad feature {tok!r} (value {col} of the row){detail}",
                           "features are written 'index:value' with an index >= 0, e.g. '957:1'")
        if expected is None:
            expected = len(parts) - 1
        if len(parts) - 1 != expected:
            raise fail(f"row has {len(parts) - 1} fields, expected {expected} like the first row",
                       "in libfm files every row must have one value per field, in field order")
    raise AssertionError("fast libfm parse failed but no bad row was found")


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def find_split_files(directory: str | Path) -> dict[str, Path]:
    """{'train','valid','test'} -> file, by words in the names of the *.libfm(.gz) files."""
    directory = Path(directory)
    files = sorted(p for p in directory.iterdir() if p.name.endswith((".libfm", ".libfm.gz")))
    found: dict[str, Path] = {}
    for p in files:
        words = strip_suffixes(p).lower().replace("-", ".").replace("_", ".").split(".")
        for split, names in SPLIT_WORDS.items():
            if any(w in words for w in names) and split not in found:
                found[split] = p
    missing = [s for s in SPLIT_WORDS if s not in found]
    if missing:
        listed = ", ".join(p.name for p in files) or "none"
        raise data_error(str(directory), 1, f"no libfm file for the {', '.join(missing)} split",
                         f"name the files like '<name>.train.libfm', '<name>.validation.libfm', "
                         f"'<name>.test.libfm' (optionally .gz); found: {listed}")
    return found


def field_names_for(files: list[Path], m: int, names: list[str] | None) -> list[str]:
    if names is not None:
        if len(names) != m:
            raise data_error(str(files[0]), 1, f"{len(names)} field names given for {m} fields",
                             "pass one name per value of a row")
        return list(names)
    if m == len(FRAPPE_FIELDS) and files[0].name.lower().startswith("frappe"):
        return list(FRAPPE_FIELDS)
    return [f"f{i}" for i in range(m)]


def load_libfm(path: str | Path, *, seed: int = 2021, split: str = "files", min_count: int = 1,
               field_names: list[str] | None = None) -> Dataset:
    """A directory of train/validation/test libfm files (Frappe_x1), or one file (random 8:1:1)."""
    path = Path(path)
    if path.is_dir():
        parts = find_split_files(path)
        files = [parts["train"], parts["valid"], parts["test"]]
    else:
        files = [path]
        split = "random811"
    xs, ys = [], []
    for f in files:
        x, y = parse_libfm(f, xs[0].shape[1] if xs else None)
        xs.append(x)
        ys.append(y)
    sizes = tuple(len(y) for y in ys) if len(files) == 3 else (len(ys[0]), 0, 0)
    x, y = np.concatenate(xs), np.concatenate(ys)
    names = field_names_for(files, x.shape[1], field_names)
    raw = RawTable(label=y, categorical={n: x[:, i] for i, n in enumerate(names)},
                   min_count={n: min_count for n in names}, reader="libfm",
                   recipes={n: {"column": i, "transform": "integer"} for i, n in enumerate(names)})
    name = strip_suffixes(files[0]).split(".")[0] if path.is_dir() else strip_suffixes(path)
    meta = {"source": [str(f) for f in files], "format": "libfm", "split": split, "seed": seed,
            "min_count": min_count}
    return build_dataset(name, raw, make_split(split, sizes, seed), meta=meta)
