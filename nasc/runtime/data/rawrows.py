"""Raw rows to score -> the model's input tensors, with a trained model's feature map.

The file is read as the training format was (``FeatureMap.reader``), each field's cell becomes a
token by the transform training applied, and ``build_dataset`` encodes and pads the tokens with
the training vocabularies: one code path for training and scoring, so a value training never
kept gets the out-of-vocabulary id training gave it. A label column may be present or not.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import data_error
from .avazu import hour_fields
from .build import Ragged, RawTable, build_dataset
from .criteo import bucketize_log, read_criteo_columns
from .delimited import first_bad, parse_numbers, require_columns, require_rows
from .featuremap import FeatureMap, FieldRecipe
from .libfm import parse_libfm
from .table import TensorTable
from .tabular import TableSource, quantile_tokens


class _Columns:
    """String columns already read (a Criteo file), with the interface of tabular's TableSource."""

    def __init__(self, path: Path, columns: dict[str, np.ndarray], header: int):
        self.path, self.columns, self.header = path, columns, header
        self.names = list(columns)

    def strings(self, name: str) -> np.ndarray:
        return self.columns[name]


class _LibfmRows:
    """Feature indices of libfm rows; a field is a position in the row."""

    def __init__(self, path: Path, num_fields: int):
        self.path, self.header = path, 0
        self.ids, _ = parse_libfm(path, num_fields)
        self.names = list(range(num_fields))


def _open(features: FeatureMap, path: Path):
    if features.reader == "libfm":
        return _LibfmRows(path, len(features.fields))
    if features.reader == "criteo":
        return _Columns(path, *read_criteo_columns(path))
    source = TableSource(path)
    require_rows(path, source.table.num_rows)
    return source


def _integers(source, recipe: FieldRecipe) -> np.ndarray:
    if isinstance(source, _LibfmRows):
        return source.ids[:, recipe.column]
    text = source.strings(recipe.column)
    numbers, _ = parse_numbers(source.path, recipe.column, text, source.header, missing=())
    i = first_bad(numbers == np.floor(numbers))
    if i is not None:
        raise data_error(str(source.path), i + 1 + source.header,
                         f"column {recipe.column!r}: {str(text[i])!r} is not an integer",
                         "this model's field holds integer values")
    return numbers.astype(np.int64)


def _tokens(source, recipe: FieldRecipe) -> np.ndarray:
    """(N,) tokens of one field, as training made them."""
    if recipe.transform == "integer":
        return _integers(source, recipe)
    text = source.strings(recipe.column)
    if recipe.transform == "text":
        return text
    if recipe.transform in ("hour_of_day", "weekday"):
        hour_of_day, weekday = hour_fields(source.path, text)
        return hour_of_day if recipe.transform == "hour_of_day" else weekday
    values, present = parse_numbers(source.path, recipe.column, text, source.header)
    if recipe.transform == "log_buckets":
        return bucketize_log(values, present)
    return quantile_tokens(values, present, np.asarray(recipe.edges, dtype=np.float64))


def read_rows(features: FeatureMap, path: str | Path) -> TensorTable:
    """Every row of ``path``, in file order, as the model's input columns ("fields", ...)."""
    path = Path(path)
    if not path.is_file():
        raise data_error(str(path), 0, "no such file", "--data names the file of rows to score")
    source = _open(features, path)
    require_columns(path, source.names, features.columns())
    raw = RawTable(label=np.zeros(0, np.float32))
    for recipe in features.fields:
        raw.groups[recipe.name] = recipe.group
        if recipe.kind in ("multi_hot", "sequence"):
            tokens: Ragged = source.ragged(recipe.column, recipe.sep)
            (raw.multi_hot if recipe.kind == "multi_hot" else raw.sequence)[recipe.name] = tokens
        else:
            (raw.categorical if recipe.kind == "categorical" else raw.target)[recipe.name] = \
                _tokens(source, recipe)
    rows = _row_count(raw)
    raw.label = np.zeros(rows, np.float32)
    every = np.arange(rows)
    nothing = np.zeros(0, dtype=np.int64)
    encoded = build_dataset("rows", raw, (every, nothing, nothing),
                            multi_hot_len=features.multi_hot_width or None,
                            max_len=features.max_len, vocabs=features.vocabularies_by_group())
    return TensorTable({k: v for k, v in encoded.train.columns.items() if k != "label"})


def _row_count(raw: RawTable) -> int:
    for values in (*raw.categorical.values(), *raw.target.values()):
        return len(values)
    for ragged in (*raw.multi_hot.values(), *raw.sequence.values()):
        return len(ragged.lengths)
    return 0
