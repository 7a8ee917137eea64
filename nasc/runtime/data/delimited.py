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
from .textio import read_bytes


def read_columns(path: str | Path, *, delimiter: str, header: bool,
                 names: list[str] | None = None) -> dict[str, np.ndarray]:
    """All columns as numpy unicode arrays (N,); ``names`` name the columns of a headerless file."""
    read = pacsv.ReadOptions(column_names=None if header else names,
                             autogenerate_column_names=not header and names is None,
                             block_size=1 << 24)
    parse = pacsv.ParseOptions(delimiter=delimiter, quote_char='"' if delimiter == "," else False,
                               ignore_empty_lines=False)
    data = read_bytes(path)
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


def require_rows(path, n_rows: int) -> None:
    """A file with a header and nothing under it -> DataError (there is nothing to split)."""
    if n_rows == 0:
        raise data_error(str(path), 1, "the file has no data rows",
                         "the file holds a header only; add one row per line below it")


def parse_numbers(path, column: str, values: np.ndarray, header_lines: int,
                  missing: tuple[str, ...] = ("",)) -> tuple[np.ndarray, np.ndarray]:
    """(N,) strings -> float64 values and (N,) bool present mask.

    A cell that is not a number, or is NaN, infinite or beyond float64 ('1e400') -> DataError at
    its row: such values have no bucket, and a missing value is written as an empty cell.
    """
    present = ~np.isin(values, missing)
    filled = np.where(present, values, "0")
    try:
        numbers = filled.astype(np.float64)
    except ValueError:
        ok = np.array([_is_float(v) for v in filled])
        i = first_bad(ok)
        raise data_error(str(path), i + 1 + header_lines,
                         f"column {column!r}: {str(values[i])!r} is not a number",
                         "numeric columns hold numbers or are empty when missing") from None
    i = first_bad(np.isfinite(numbers))
    if i is not None:
        empty_ok = "; leave the cell empty when the value is missing" if "" in missing else ""
        raise data_error(str(path), i + 1 + header_lines,
                         f"column {column!r}: {str(values[i])!r} is not a finite number",
                         f"NaN, inf and values beyond ±1.8e308 are refused{empty_ok}")
    return numbers, present


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
