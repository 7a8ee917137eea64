"""The feature map: what turns a raw row into a model's input ids exactly as training did.

It is JSON, written beside a trained model (``RUN/features.json``, ``EXPORT/features.json``):
the reader of the training format, the label column, and per field, in the model's field order,
its raw column, how a cell becomes a token (the cell's text, an integer, Criteo's log buckets,
train-quantile buckets with their edges, Avazu's hour of day or weekday) and the vocabulary group
whose tokens, in id order, give its ids (0 padding, 1..K, K+1 out of vocabulary). It is data only:
reading one validates every key and type, and no value of it is ever run as code.

Example (a CSV with a schema)::

    {"format": "nasc feature map 1", "reader": "table", "label": "clicked",
     "fields": [{"name": "city", "kind": "categorical", "group": "city", "column": "city",
                 "transform": "text"},
                {"name": "price", "kind": "categorical", "group": "price", "column": "price",
                 "transform": "quantile_buckets", "edges": [3.5, 9.0]}],
     "vocabularies": {"city": {"type": "str", "tokens": ["paris", "rome"]},
                      "price": {"type": "int", "tokens": [1, 0, 2, -1]}},
     "multi_hot_width": 0, "max_len": 0}
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError, \
    model_validator

from ...errors import data_error
from .vocab import Vocabulary

FORMAT = "nasc feature map 1"
# How raw rows of the training format are read: a CSV/TSV/Parquet file with a header ("table"),
# Criteo's layout (headerless TSV or with a header), or libfm rows (fields by position).
Reader = Literal["table", "criteo", "libfm"]
Transform = Literal["text", "integer", "log_buckets", "quantile_buckets", "hour_of_day", "weekday"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldRecipe(_Strict):
    """One model field: where its raw value is and how it becomes a token."""

    name: StrictStr
    kind: Literal["categorical", "multi_hot", "sequence", "target"]
    group: StrictStr                        # the vocabulary it shares
    column: Union[StrictStr, StrictInt]     # a column name, or a position in a libfm row
    transform: Transform
    edges: list[float] = Field(default_factory=list)  # quantile_buckets: train-quantile edges
    sep: StrictStr = "|"                    # multi_hot and sequence cells: the token separator

    @model_validator(mode="after")
    def _consistent(self):
        if self.kind in ("multi_hot", "sequence") and self.transform != "text":
            raise ValueError(f"field {self.name!r}: a {self.kind} field's tokens are text")
        if self.edges != sorted(self.edges):
            raise ValueError(f"field {self.name!r}: edges are not sorted")
        return self


class TokenList(_Strict):
    """A vocabulary's kept tokens in id order: tokens[i] has id i + 1."""

    type: Literal["str", "int"]
    tokens: Union[list[StrictStr], list[StrictInt]]

    @model_validator(mode="after")
    def _typed(self):
        want = str if self.type == "str" else int
        if not all(isinstance(t, want) for t in self.tokens):
            raise ValueError(f"a vocabulary of type {self.type!r} holds other tokens")
        return self

    def vocabulary(self) -> Vocabulary:
        dtype = str if self.type == "str" else np.int64
        return Vocabulary.from_ordered(np.asarray(self.tokens, dtype=dtype))


class FeatureMap(_Strict):
    format: Literal["nasc feature map 1"]
    reader: Reader
    label: StrictStr | None                 # the label column of the training data (ignored)
    fields: list[FieldRecipe]
    vocabularies: dict[str, TokenList]
    multi_hot_width: int = Field(ge=0)     # the (N, n_mh, L) padding width training used
    max_len: int = Field(ge=0)             # the sequence length training used

    @model_validator(mode="after")
    def _groups_known(self):
        for recipe in self.fields:
            if recipe.group not in self.vocabularies:
                raise ValueError(f"field {recipe.name!r}: no vocabulary {recipe.group!r}")
        return self

    def vocabularies_by_group(self) -> dict[str, Vocabulary]:
        return {group: tokens.vocabulary() for group, tokens in self.vocabularies.items()}

    def columns(self) -> list[str | int]:
        """The raw columns the fields read, each once, in field order."""
        return list(dict.fromkeys(r.column for r in self.fields))


def describe(reader: str | None, label: str | None, recipes: dict[str, dict],
             kinds: dict[str, str], groups: dict[str, str], vocabs: dict[str, Vocabulary],
             multi_hot_width: int, max_len: int) -> dict | None:
    """The feature map (as JSON data) of a dataset just built, or None where its format has no
    reader for raw rows (behaviour logs, Alimama) or a field has no recipe.

    ``kinds``: field -> kind, in the model's field order; ``recipes``: field -> column and
    transform (and edges, sep) as the loader read it."""
    if reader is None or any(name not in recipes for name in kinds):
        return None
    used = {groups.get(name, name) for name in kinds}
    tokens = {}
    for group in sorted(used):
        kept = vocabs[group].tokens_in_order()
        if kept.dtype.kind not in "Uiu":
            return None
        tokens[group] = {"type": "str" if kept.dtype.kind == "U" else "int",
                         "tokens": kept.tolist()}
    fields = [{"name": name, "kind": kind, "group": groups.get(name, name), **recipes[name]}
              for name, kind in kinds.items()]
    return FeatureMap.model_validate({
        "format": FORMAT, "reader": reader, "label": label, "fields": fields,
        "vocabularies": tokens, "multi_hot_width": multi_hot_width, "max_len": max_len,
    }).model_dump(mode="json")


def read_feature_map(path: str | Path) -> FeatureMap:
    """A feature map file, validated; a file that is not one is a located error."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise data_error(str(path), 0, "no feature map here",
                         "a run trained by this nasc writes features.json; train it again") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise data_error(str(path), getattr(exc, "lineno", 0), f"not JSON: {exc}",
                         "write the feature map again: nasc export RUN") from None
    return parse_feature_map(data, str(path))


def parse_feature_map(data, where: str) -> FeatureMap:
    try:
        return FeatureMap.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        at = ".".join(str(p) for p in first["loc"]) or "the top level"
        raise data_error(where, 0, f"not a nasc feature map: {at}: {first['msg']}",
                         "write the feature map again: nasc export RUN") from None
