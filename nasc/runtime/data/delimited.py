"""Delimited text (CSV/TSV, plain or gzip) -> string columns, fast (pyarrow) with located errors.

pyarrow parses; when it rejects the file, a slow Python scan finds the first bad row so that the
DataError can name the line. Blank lines are not skipped, so data row i is line i + header.
"""
from __future__ import annotations

import csv
import difflib
import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from ...errors import data_error
from .textio import open_bytes


def read_columns(path: str | Path, *, delimiter: str, header: bool,
                 names: list[str] | None = None) -> dict[str, np.ndarray]:
    """All columns as numpy unicode arrays (N,); ``names`` name the columns of a headerless file."""
    read = pacsv.ReadOptions(column_names=None if header else names,
                             autogenerate_column_names=not header and names is None,
                             block_size=1 << 24)
    parse = pacsv.ParseOptions(delimiter=delimiter, quote_char='"' if delimiter == "," else False,
                               ignore_empty_lines=False)
    with open_bytes(path) as fh:
        data = fh.read()
    try:
        probe = pacsv.open_csv(io.BytesIO(data), read_options=read, parse_options=parse)
        convert = pacsv.ConvertOptions(column_types={n: pa.string() for n in probe.schema.names},
                                       strings_can_be_null=False, quoted_strings_can_be_null=False)
        table = pacsv.read_csv(io.BytesIO(data), read_options=read, parse_options=parse,
                               convert_options=convert)
    except pa.ArrowInvalid as exc:
        _raise_bad_row(path, data, delimiter, header, names, str(exc))
    return {name: np.asarray(col.to_numpy(zero_copy_only=False), dtype=str)
            for name, col in zip(table.column_names, table.columns)}


def _raise_bad_row(path, data: bytes, delimiter: str, header: bool, names, arrow_msg: str):
    text = data.decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter,
                        quoting=csv.QUOTE_MINIMAL if delimiter == "," else csv.QUOTE_NONE)
    expected = None if header else (len(names) if names else None)
    lines = text.splitlines()
    for row in reader:
        lineno = reader.line_num
        if expected is None:
            expected = len(row)
            continue
        if len(row) != expected:
            sep = "tab" if delimiter == "\t" else repr(delimiter)
            raise data_error(str(path), lineno, f"row has {len(row)} columns, expected {expected}",
                             f"every row needs {expected} {sep}-separated values (empty for missing)",
                             lines[lineno - 1] if lineno - 1 < len(lines) else None)
    raise data_error(str(path), 1, f"cannot parse the file: {arrow_msg.splitlines()[0]}",
                     "expected delimited text with one row per line")


def first_bad(ok: np.ndarray) -> int | None:
    """Index of the first False in a bool array, or None."""
    bad = np.flatnonzero(~ok)
    return int(bad[0]) if len(bad) else None


def parse_numbers(path, column: str, values: np.ndarray, header_lines: int,
                  missing: tuple[str, ...] = ("",)) -> tuple[np.ndarray, np.ndarray]:
    """(N,) strings -> float64 values and (N,) bool present mask; a bad number -> DataError."""
    present = ~np.isin(values, missing)
    filled = np.where(present, values, "0")
    try:
        return filled.astype(np.float64), present
    except ValueError:
        ok = np.array([_is_float(v) for v in filled])
        i = first_bad(ok)
        raise data_error(str(path), i + 1 + header_lines,
                         f"column {column!r}: {str(values[i])!r} is not a number",
                         "numeric columns hold numbers or are empty when missing") from None


def _is_float(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def require_columns(path, available: list[str], wanted: list[str]) -> None:
    """A column named by the schema but absent from the file -> DataError at the header (line 1)."""
    for name in wanted:
        if name not in available:
            close = difflib.get_close_matches(name, available, n=1)
            hint = (f"did you mean {close[0]!r}?" if close
                    else f"the file has: {', '.join(available[:30])}")
            raise data_error(str(path), 1, f"column {name!r} is not in the file", hint)
