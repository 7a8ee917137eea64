"""Raw Criteo (Kaggle display-ads) data: ``label, I1..I13, C1..C26``.

Accepts the raw tab-separated, headerless file (plain or gzip) and DeepCTR's comma-separated
sample with a ``label,I1,…`` header. Integer features are bucketised with the competition
winners' trick: v > 2 -> int(log(v)^2), v <= 2 -> its own small-value token, missing (an empty
cell) -> its own token; NaN, inf or a value beyond float64 is refused at its row. A header with
no rows under it is refused. No split files exist, so rows are split 8:1:1 with the seed.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import data_error
from .build import RawTable, build_dataset
from .delimited import first_bad, parse_numbers, read_columns, require_columns, require_rows
from .splits import random_split
from .table import Dataset
from .textio import dataset_name, head_lines

INT_FIELDS = [f"I{i}" for i in range(1, 14)]
CAT_FIELDS = [f"C{i}" for i in range(1, 27)]
COLUMNS = ["label", *INT_FIELDS, *CAT_FIELDS]
_MISSING = np.int64(-(2 ** 62))
_LOG_OFFSET = np.int64(1 << 32)  # keeps log buckets apart from small raw values


def auto_min_count(n_rows: int) -> int:
    """10 on full-size data (the usual Criteo/Avazu setting), 1 on small samples."""
    return 10 if n_rows >= 1_000_000 else 1


def bucketize_log(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    """(N,) float -> (N,) int64 tokens: v > 2 -> int(log(v)^2), else int(v); missing apart."""
    big = values > 2
    logs = np.floor(np.log(np.where(big, values, 3.0)) ** 2).astype(np.int64)
    tokens = np.where(big, _LOG_OFFSET + logs, np.floor(values).astype(np.int64))
    return np.where(present, tokens, _MISSING)


def is_criteo_header(line: str) -> bool:
    return line.replace("\t", ",").split(",")[:2] == ["label", "I1"]


def read_criteo_columns(path: str | Path) -> tuple[dict[str, np.ndarray], int]:
    """Every column of a Criteo file as strings, and the number of header lines (0 or 1)."""
    first = next(iter(head_lines(path, 1)), "")
    header = is_criteo_header(first)
    delimiter = "\t" if "\t" in first else ","
    cols = read_columns(path, delimiter=delimiter, header=header, names=None if header else COLUMNS)
    if header:
        require_columns(path, list(cols), COLUMNS)
    require_rows(path, len(cols["label"]))
    return cols, 1 if header else 0


def load_criteo(path: str | Path, *, seed: int = 2021, min_count: int | None = None,
                split: str = "random811") -> Dataset:
    cols, skip = read_criteo_columns(path)
    n = len(cols["label"])
    labels, _ = parse_numbers(path, "label", cols["label"], skip, missing=())
    i = first_bad(np.isin(labels, (0.0, 1.0)))
    if i is not None:
        raise data_error(str(path), i + 1 + skip, f"bad label {str(cols['label'][i])!r}",
                         "the first column is the click label, 0 or 1")
    mc = auto_min_count(n) if min_count is None else min_count
    categorical: dict[str, np.ndarray] = {}
    for name in INT_FIELDS:
        values, present = parse_numbers(path, name, cols[name], skip)
        categorical[name] = bucketize_log(values, present)
    for name in CAT_FIELDS:
        categorical[name] = cols[name]  # "" (missing) is a token of its own
    recipes = {**{k: {"column": k, "transform": "log_buckets"} for k in INT_FIELDS},
               **{k: {"column": k, "transform": "text"} for k in CAT_FIELDS}}
    raw = RawTable(label=labels.astype(np.float32), categorical=categorical,
                   min_count={k: mc for k in categorical}, reader="criteo", label_column="label",
                   recipes=recipes)
    meta = {"source": [str(path)], "format": "criteo", "split": "random811", "seed": seed,
            "min_count": mc, "requested_split": split}
    return build_dataset(dataset_name("criteo", path), raw,
                         random_split(n, seed), meta=meta)
