"""A first schema for a user's CSV/TSV/Parquet file, guessed from its values, for them to edit.

Per column: a 0/1 column named like a label (click, label, target, y...) is the label; a column
whose cells hold the separator is multi-hot; text, and whole numbers with few distinct values
(or named like an id), are categorical; other numbers are numeric (quantile buckets).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ...errors import data_error
from .tabular import TableSource

LABEL_NAME = re.compile(r"(^|_)(label|click|clicked|clk|is_click|target|y|conversion|converted)$",
                        re.IGNORECASE)
ID_NAME = re.compile(r"(^|_)id$|_id$|^id_", re.IGNORECASE)
FEW_VALUES = 100     # whole numbers with at most this many distinct values are categories
BUCKETS = 10         # quantile buckets of a numeric column
SAMPLE_ROWS = 100_000  # values looked at per column (the head of the file)


def infer_schema(path: str | Path, separator: str = "|") -> dict:
    """The schema file content (nasc.runtime.data.schemafile) guessed for ``path``."""
    path = Path(path)
    if not path.is_file():
        raise data_error(str(path), 0, "no such file", "nasc data infer reads one CSV/TSV/Parquet file")
    source = TableSource(path)
    label, fields = None, []
    for name in source.names:
        values = source.strings(name)[:SAMPLE_ROWS]
        if label is None and LABEL_NAME.search(name) and _is_binary(values):
            label = name
            continue
        fields.append({"name": name, **_guess(name, values, separator)})
    if label is None:
        raise data_error(str(path), 1, "no column looks like a 0/1 label",
                         "name the label column e.g. `label` or `clicked`, or write the schema's "
                         "`label:` yourself")
    return {"label": label, "fields": fields}


def _is_binary(values: np.ndarray) -> bool:
    return len(values) > 0 and bool(np.isin(values, ("0", "1", "0.0", "1.0")).all())


def _guess(name: str, values: np.ndarray, separator: str) -> dict:
    present = values[values != ""]
    if len(present) and np.char.find(present, separator).max() >= 0:
        return {"type": "multi-hot", "separator": separator, "pooling": "mean"}
    numbers = _numbers(present)
    if numbers is None:
        return {"type": "categorical"}
    whole = bool(np.all(numbers == np.round(numbers)))
    if whole and (ID_NAME.search(name) or len(np.unique(numbers)) <= FEW_VALUES):
        return {"type": "categorical"}
    return {"type": "numeric", "buckets": BUCKETS}


def _numbers(values: np.ndarray) -> np.ndarray | None:
    """The values as floats, or None when one of them is not a finite number."""
    try:
        numbers = values.astype(np.float64)
    except ValueError:
        return None
    return numbers if np.isfinite(numbers).all() else None
