"""Generic CSV / Parquet data described by a field schema (a dict, or a JSON/YAML file).

    {"label": "clicked",
     "fields": [{"name": "city", "kind": "categorical", "min_count": 1},
                {"name": "price", "kind": "numeric", "buckets": "log"},   # or an int: quantiles
                {"name": "tags", "kind": "multi_hot", "sep": "|", "pooling": "sum"}],
     "sequence": {"fields": [{"name": "hist_item", "group": "item_id"}], "max_len": 50, "sep": "|"},
     "target": [{"name": "item", "group": "item_id"}]}

Numeric fields become categorical by bucketing (Criteo's log trick, or train quantiles); an
empty cell is missing (a token of its own), NaN, inf or a value beyond float64 is refused.
Multi-hot and sequence cells are ``sep``-separated tokens; Parquet list columns also work.
Errors name the data file and the 1-based line (CSV: the header is line 1; Parquet: the row).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...errors import data_error
from .build import Ragged, RawTable, build_dataset
from .criteo import bucketize_log
from .delimited import first_bad, parse_numbers, read_columns, require_columns, require_rows
from .splits import random_split
from .table import Dataset
from .textio import dataset_name, head_lines
from .vocab import MIN_COUNT_HINT, is_count

FIELD_KINDS = ("categorical", "numeric", "multi_hot")
POOLINGS = ("sum", "mean")


def load_schema(schema: dict | str | Path) -> tuple[dict, str]:
    """The schema dict and where it came from (for error messages); a file is a JSON or YAML
    schema file (nasc.runtime.data.schemafile)."""
    if isinstance(schema, dict):
        return schema, "<schema>"
    from .schemafile import read_schema_file

    return read_schema_file(schema), str(schema)


def _check_schema(schema: dict, where: str) -> None:
    def bad(msg: str, hint: str):
        return data_error(where, 1, msg, hint)
    if "label" not in schema or "fields" not in schema:
        raise bad("the schema needs 'label' and 'fields'",
                  'e.g. {"label": "clicked", "fields": [{"name": "city", "kind": "categorical"}]}')
    for f in schema["fields"]:
        if "name" not in f:
            raise bad(f"a field has no 'name': {f}", "every field is an object with a 'name'")
        if f.get("kind", "categorical") not in FIELD_KINDS:
            raise bad(f"field {f['name']!r}: unknown kind {f.get('kind')!r}",
                      f"kinds: {', '.join(FIELD_KINDS)}")
        if f.get("pooling", "sum") not in POOLINGS:
            raise bad(f"field {f['name']!r}: unknown pooling {f.get('pooling')!r}",
                      f"poolings: {', '.join(POOLINGS)}")
        if not is_count(f.get("min_count", 1)):
            raise bad(f"field {f['name']!r}: min_count is {f['min_count']!r}", MIN_COUNT_HINT)
        if f.get("buckets", "log") != "log" and not is_count(f["buckets"], 1):
            raise bad(f"field {f['name']!r}: buckets is {f['buckets']!r}",
                      "buckets is \"log\" or a whole number >= 1 of train-quantile buckets")


def _read_parquet(path: Path) -> pa.Table:
    import pyarrow.parquet as pq
    try:
        return pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:  # a bad footer: ArrowInvalid; bad metadata: OSError
        # Arrow's text repeats the path, which the diagnostic already starts with.
        prefix = f"Could not open Parquet input source '{path}': "
        reason = str(exc).splitlines()[0].replace(prefix, "")
        raise data_error(str(path), 1, f"cannot read the Parquet file: {reason}",
                         "the file is truncated or not Parquet; write it again "
                         "(e.g. pandas.DataFrame.to_parquet)") from None


class TableSource:
    """The columns of a CSV or Parquet file, converted on demand."""

    def __init__(self, path: Path):
        self.path = path
        self.parquet = path.name.endswith(".parquet")
        if self.parquet:
            self.table = _read_parquet(path)
            self.header = 0  # rows are numbered from 1
        else:
            first = next(iter(head_lines(path, 1)), "")
            delim = "\t" if ("\t" in first or ".tsv" in path.name) else ","
            cols = read_columns(path, delimiter=delim, header=True)
            self.table = pa.table({k: pa.array(v) for k, v in cols.items()})
            self.header = 1
        self.names = list(self.table.column_names)

    def line(self, row: int) -> int:
        return row + 1 + self.header

    def strings(self, name: str) -> np.ndarray:
        col = self.table.column(name)
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            return np.asarray(col.fill_null("").to_numpy(zero_copy_only=False), dtype=str)
        text = pc.cast(col, pa.string()).fill_null("")
        return np.asarray(text.to_numpy(zero_copy_only=False), dtype=str)

    def ragged(self, name: str, sep: str) -> Ragged:
        """Tokens of a list column, or of 'a|b|c' cells; empty tokens are dropped."""
        col = self.table.column(name).combine_chunks()
        if not (pa.types.is_list(col.type) or pa.types.is_large_list(col.type)):
            col = pc.split_pattern(pc.cast(col, pa.string()).fill_null(""), pattern=sep)
        lengths = np.asarray(pc.list_value_length(col).fill_null(0).to_numpy(), dtype=np.int64)
        tokens = pc.cast(col.flatten(), pa.string()).to_numpy(zero_copy_only=False)
        tokens = np.asarray(tokens, dtype=str)
        keep = tokens != ""
        if not keep.all():
            rows = np.repeat(np.arange(len(lengths)), lengths)
            lengths = np.bincount(rows[keep], minlength=len(lengths)).astype(np.int64)
            tokens = tokens[keep]
        return Ragged(tokens, lengths)


def quantile_tokens(values: np.ndarray, present: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """(N,) numbers -> (N,) bucket tokens 0..len(edges); a missing value is token -1."""
    return np.where(present, np.searchsorted(edges, values, side="right"), -1).astype(np.int64)


def _numeric_tokens(src: TableSource, spec: dict, train: np.ndarray) -> tuple[np.ndarray, dict]:
    """A numeric field's tokens, and its recipe for scoring raw rows later (with the edges)."""
    values, present = parse_numbers(src.path, spec["name"], src.strings(spec["name"]), src.header)
    buckets = spec.get("buckets", "log")
    if buckets == "log":
        return bucketize_log(values, present), {"transform": "log_buckets"}
    # Quantile edges from the train rows only.
    edges = np.unique(np.quantile(values[train & present], np.linspace(0, 1, int(buckets) + 1)[1:-1]))
    return quantile_tokens(values, present, edges), {"transform": "quantile_buckets",
                                                     "edges": edges.tolist()}


def load_tabular(path: str | Path, schema: dict | str | Path, *, seed: int = 2021,
                 split: str = "random811") -> Dataset:
    """A CSV(.gz)/TSV/Parquet file + schema -> Dataset, split 8:1:1 with the seed."""
    path = Path(path)
    schema, where = load_schema(schema)
    _check_schema(schema, where)
    src = TableSource(path)
    seq_spec = schema.get("sequence") or {}
    wanted = [schema["label"], *(f["name"] for f in schema["fields"]),
              *(f["name"] for f in seq_spec.get("fields", [])),
              *(f["name"] for f in schema.get("target", []))]
    require_columns(path, src.names, wanted)
    require_rows(path, src.table.num_rows)

    labels_raw = src.strings(schema["label"])
    labels, _ = parse_numbers(path, schema["label"], labels_raw, src.header, missing=())
    i = first_bad(np.isin(labels, (0.0, 1.0)))
    if i is not None:
        raise data_error(str(path), src.line(i),
                         f"label column {schema['label']!r}: {str(labels_raw[i])!r} is not 0 or 1",
                         "labels are 0 (no click) or 1 (click)")
    n = len(labels)
    splits = random_split(n, seed)
    train = np.zeros(n, dtype=bool)
    train[splits[0]] = True

    raw = RawTable(label=labels.astype(np.float32), reader="table", label_column=schema["label"])
    text = {"transform": "text"}
    for f in schema["fields"]:
        name, kind = f["name"], f.get("kind", "categorical")
        raw.groups[name] = f.get("group", name)
        raw.min_count[raw.group(name)] = int(f.get("min_count", 1))
        recipe = text
        if kind == "categorical":
            raw.categorical[name] = src.strings(name)
        elif kind == "numeric":
            raw.categorical[name], recipe = _numeric_tokens(src, f, train)
        else:
            raw.multi_hot[name] = src.ragged(name, f.get("sep", "|"))
            recipe = {**text, "sep": f.get("sep", "|")}
            raw.pooling[name] = f.get("pooling", "sum")
        raw.recipes[name] = {"column": name, **recipe}
    for f in seq_spec.get("fields", []):
        raw.groups[f["name"]] = f.get("group", f["name"])
        raw.sequence[f["name"]] = src.ragged(f["name"], seq_spec.get("sep", "|"))
        raw.recipes[f["name"]] = {"column": f["name"], **text, "sep": seq_spec.get("sep", "|")}
    for f in schema.get("target", []):
        raw.groups[f["name"]] = f.get("group", f["name"])
        raw.target[f["name"]] = src.strings(f["name"])
        raw.recipes[f["name"]] = {"column": f["name"], **text}
    _check_aligned(src, raw)

    meta = {"source": [str(path)], "format": "parquet" if src.parquet else "csv", "split": "random811",
            "seed": seed, "requested_split": split, "schema": schema, "pooling": raw.pooling}
    return build_dataset(schema.get("name") or dataset_name("tabular", path), raw, splits,
                         max_len=int(seq_spec.get("max_len", 0)),
                         multi_hot_len=schema.get("multi_hot_len"), meta=meta)


def _check_aligned(src: TableSource, raw: RawTable) -> None:
    """All sequence fields describe the same behaviours, so their lengths agree row by row."""
    items = list(raw.sequence.items())
    for name, rag in items[1:]:
        i = first_bad(rag.lengths == items[0][1].lengths)
        if i is not None:
            raise data_error(str(src.path), src.line(i),
                             f"sequence fields {items[0][0]!r} and {name!r} have "
                             f"{items[0][1].lengths[i]} "
                             f"and {rag.lengths[i]} elements",
                             "every sequence field lists one value per behaviour, in the same order")
