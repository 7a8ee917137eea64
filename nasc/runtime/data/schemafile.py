"""The schema file of ``--schema FILE``: a user's CSV/TSV/Parquet columns, in JSON or YAML.

FuxiCTR-style feature columns, validated here and turned into the schema dict that
``nasc.runtime.data.tabular`` reads::

    label: clicked                       # the 0/1 column
    fields:
      - {name: city, type: categorical, min_count: 2}
      - {name: price, type: numeric, buckets: 10}        # or buckets: log (Criteo's trick)
      - {name: genres, type: multi-hot, separator: "|", pooling: mean}
      - {name: history, type: sequence, group: item, separator: "|", max_len: 50}
      - {name: item, type: target, group: item}

``type`` defaults to categorical; ``group`` names a vocabulary that fields share (default: the
field's own). The spellings of the Python API (``kind``, ``sep``, ``multi_hot``, a ``sequence``
block) are read too, so one file serves both. Every problem is a located DataError.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, Optional, Union

from pydantic import (AliasChoices, BaseModel, ConfigDict, Field, StrictInt, StrictStr,
                      ValidationError, field_validator, model_validator)

from ...errors import data_error

FIELD_TYPES = ("categorical", "numeric", "multi-hot", "sequence", "target")
HINT = ("a schema is {label: COLUMN, fields: [{name: COLUMN, type: categorical|numeric|multi-hot|"
        "sequence|target}, ...]}; `nasc data infer DATA --out schema.json` writes one")


class FieldColumn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: StrictStr = Field(min_length=1)
    type: Literal["categorical", "numeric", "multi-hot", "sequence", "target"] = Field(
        "categorical", validation_alias=AliasChoices("type", "kind"))
    min_count: StrictInt = Field(1, ge=1)       # rarer train values share the OOV id
    buckets: Union[Literal["log"], StrictInt] = "log"  # numeric: log buckets or N quantiles
    separator: StrictStr = Field("|", min_length=1, validation_alias=AliasChoices("separator", "sep"))
    pooling: Literal["sum", "mean"] = "sum"     # multi-hot: how a bag's embeddings combine
    group: Optional[StrictStr] = None           # a vocabulary shared with other fields
    max_len: Optional[StrictInt] = Field(None, ge=1)  # sequence: positions kept (the last ones)

    @field_validator("type", mode="before")
    @classmethod
    def _spelling(cls, value):
        return "multi-hot" if value == "multi_hot" else value

    @field_validator("buckets")
    @classmethod
    def _buckets(cls, value):
        if isinstance(value, int) and value < 1:
            raise ValueError("buckets is `log` or a whole number >= 1 of train-quantile buckets")
        return value


class SchemaFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: StrictStr = Field(min_length=1)
    fields: list[FieldColumn] = Field(min_length=1)
    name: Optional[StrictStr] = None            # the dataset's name in runs (default: the file's)
    multi_hot_len: Optional[StrictInt] = Field(None, ge=1)  # bag width (default: the longest)

    @model_validator(mode="before")
    @classmethod
    def _api_blocks(cls, data):
        """The Python API's ``sequence`` and ``target`` blocks, as fields of those types."""
        if not isinstance(data, dict) or not ({"sequence", "target"} & data.keys()):
            return data
        data = dict(data)
        block = data.pop("sequence", None) or {}
        extra = [{**f, "type": "sequence", "sep": block.get("sep", "|"),
                  **({"max_len": block["max_len"]} if "max_len" in block else {})}
                 for f in block.get("fields", [])]
        extra += [{**f, "type": "target"} for f in data.pop("target", None) or []]
        data["fields"] = [*data.get("fields", []), *extra]
        return data

    @model_validator(mode="after")
    def _consistent(self):
        names = [f.name for f in self.fields]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"field {twice[0]!r} is declared twice")
        if self.label in names:
            raise ValueError(f"the label column {self.label!r} is also a field")
        sequences = [f for f in self.fields if f.type == "sequence"]
        if len({f.separator for f in sequences}) > 1 or len({f.max_len for f in sequences}) > 1:
            raise ValueError("sequence fields describe the same behaviours: give them one "
                             "separator and one max_len")
        return self

    def to_tabular(self) -> dict:
        """The schema dict of ``nasc.runtime.data.tabular``."""
        def common(f: FieldColumn) -> dict:
            return {"name": f.name, **({"group": f.group} if f.group else {}),
                    "min_count": f.min_count}

        fields = []
        for f in self.fields:
            if f.type == "categorical":
                fields.append({**common(f), "kind": "categorical"})
            elif f.type == "numeric":
                fields.append({**common(f), "kind": "numeric", "buckets": f.buckets})
            elif f.type == "multi-hot":
                fields.append({**common(f), "kind": "multi_hot", "sep": f.separator,
                               "pooling": f.pooling})
        out: dict = {"label": self.label, "fields": fields}
        sequences = [f for f in self.fields if f.type == "sequence"]
        if sequences:
            out["sequence"] = {"fields": [common(f) for f in sequences],
                               "sep": sequences[0].separator,
                               **({"max_len": sequences[0].max_len} if sequences[0].max_len else {})}
        targets = [common(f) for f in self.fields if f.type == "target"]
        if targets:
            out["target"] = targets
        for key in ("name", "multi_hot_len"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out


def read_schema_file(path: str | Path) -> dict:
    """The schema dict of a JSON or YAML schema file; any problem is a DataError at the file
    (and at the line of the field at fault, where it can be found)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise data_error(str(path), 0, "no such schema file", HINT) from None
    except UnicodeDecodeError:
        raise data_error(str(path), 0, "the schema file is not UTF-8 text", HINT) from None
    data = _parse(text, path)
    try:
        return SchemaFile.model_validate(data).to_tabular()
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = first["loc"]
        at = ".".join(str(p) for p in loc)  # empty for the whole schema's own checks
        line = _field_line(text, data, loc)
        message = first["msg"].removeprefix("Value error, ")
        raise data_error(str(path), line, f"{at}: {message}" if at else message, HINT,
                         text.splitlines()[line - 1] if line else None) from None


def _parse(text: str, path: Path):
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise data_error(str(path), mark.line + 1 if mark else 0,
                             f"invalid YAML: {getattr(exc, 'problem', None) or exc}", HINT) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise data_error(str(path), exc.lineno, f"invalid JSON: {exc.msg}",
                         HINT + " (a .yaml/.yml file is read as YAML)") from None


def _field_line(text: str, data, loc: tuple) -> int:
    """The 1-based line naming the field an error is about (0 when it cannot be told)."""
    if len(loc) < 2 or loc[0] != "fields" or not isinstance(loc[1], int):
        return 0
    try:
        name = data["fields"][loc[1]]["name"]
    except (KeyError, IndexError, TypeError):
        return 0
    for number, line in enumerate(text.splitlines(), 1):
        if str(name) in line:
            return number
    return 0
