"""Raw tokens + a split -> Dataset: fit vocabularies on train rows, encode, pad, cut into splits."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .featuremap import describe
from .splits import Splits
from .table import Dataset, FieldInfo, Schema, TensorTable
from .vocab import Vocabulary


@dataclass
class Ragged:
    """A variable-length list per row, stored flat."""

    values: np.ndarray   # (total,) raw tokens, row after row
    lengths: np.ndarray  # (N,) int64, sum == total

    @property
    def rows(self) -> np.ndarray:
        """(total,) the row each token belongs to."""
        return np.repeat(np.arange(len(self.lengths)), self.lengths)


@dataclass
class RawTable:
    """All rows of a dataset before vocabularies, every array with first dim N (ragged: N rows)."""

    label: np.ndarray                                              # (N,) 0/1
    categorical: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (N,)
    multi_hot: dict[str, Ragged] = field(default_factory=dict)
    sequence: dict[str, Ragged] = field(default_factory=dict)         # element-aligned lists
    target: dict[str, np.ndarray] = field(default_factory=dict)       # name -> (N,)
    groups: dict[str, str] = field(default_factory=dict)              # field -> vocabulary group
    min_count: dict[str, int] = field(default_factory=dict)           # group -> min count
    extra: dict[str, np.ndarray] = field(default_factory=dict)        # passed through as columns
    # How scoring reads raw rows again (nasc.runtime.data.featuremap): the format's reader (None:
    # raw rows of this format cannot be scored), the label column, and per field its column and
    # transform as the loader applied them.
    reader: str | None = None
    label_column: str | None = None
    recipes: dict[str, dict] = field(default_factory=dict)
    pooling: dict[str, str] = field(default_factory=dict)  # multi-hot field -> "sum" | "mean"

    def group(self, name: str) -> str:
        return self.groups.get(name, name)


def pad_ragged(ids: np.ndarray, lengths: np.ndarray, width: int,
               left: bool) -> tuple[np.ndarray, np.ndarray]:
    """Flat ids -> (N, width) int64 padded with 0 and its (N, width) bool mask.

    left=True keeps the last ``width`` elements, right-aligned (most recent at position width-1,
    SASRec's left padding); left=False keeps the first ``width``, left-aligned.
    """
    n = len(lengths)
    out = np.zeros((n, width), dtype=np.int64)
    mask = np.zeros((n, width), dtype=bool)
    if width == 0 or len(ids) == 0:
        return out, mask
    rows = np.repeat(np.arange(n), lengths)
    row_len = lengths[rows]
    pos = np.arange(len(ids)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    if left:
        keep = pos >= row_len - width
        col = width - (row_len - pos)
    else:
        keep = pos < width
        col = pos
    out[rows[keep], col[keep]] = ids[keep]
    mask[rows[keep], col[keep]] = True
    return out, mask


def _train_tokens(raw: RawTable, in_train: np.ndarray) -> dict[str, list[np.ndarray]]:
    by_group: dict[str, list[np.ndarray]] = {}
    for name, values in {**raw.categorical, **raw.target}.items():
        by_group.setdefault(raw.group(name), []).append(values[in_train])
    for name, rag in {**raw.multi_hot, **raw.sequence}.items():
        by_group.setdefault(raw.group(name), []).append(rag.values[in_train[rag.rows]])
    return by_group


def build_dataset(name: str, raw: RawTable, splits: Splits, *, task: str = "ctr", max_len: int = 0,
                  multi_hot_len: int | None = None, vocabs: dict[str, Vocabulary] | None = None,
                  meta: dict | None = None) -> Dataset:
    """Fit one vocabulary per group on the train rows (unless given in ``vocabs``) and encode."""
    n = len(raw.label)
    in_train = np.zeros(n, dtype=bool)
    in_train[splits[0]] = True
    vocabs = dict(vocabs or {})
    for group, parts in _train_tokens(raw, in_train).items():
        if group not in vocabs:
            vocabs[group] = Vocabulary.fit(np.concatenate(parts), raw.min_count.get(group, 1))

    def info(field_name: str, kind: str) -> FieldInfo:
        group = raw.group(field_name)
        return FieldInfo(field_name, kind, vocabs[group].size, group)

    columns: dict[str, np.ndarray] = {}
    cat = [vocabs[raw.group(k)].encode(v) for k, v in raw.categorical.items()]
    # Multi-hot bags ride in "fields" after the categorical ids, L ids each (0 pads): every model
    # input `categorical` then reads them with no batch key of its own (see Schema).
    width = 0
    if raw.multi_hot:
        width = multi_hot_len or max(int(r.lengths.max(initial=0)) for r in raw.multi_hot.values())
        width = max(width, 1)
        cat += [pad_ragged(vocabs[raw.group(k)].encode(r.values), r.lengths, width, left=False)[0]
                for k, r in raw.multi_hot.items()]
    columns["fields"] = (np.concatenate([c.reshape(n, -1) for c in cat], axis=1) if cat
                         else np.zeros((n, 0), dtype=np.int64))  # (N, m_c + n_mh L)
    if raw.sequence:
        lengths = next(iter(raw.sequence.values())).lengths
        max_len = max_len or max(int(lengths.max(initial=0)), 1)
        seq = []
        for k, r in raw.sequence.items():
            ids, mask = pad_ragged(vocabs[raw.group(k)].encode(r.values), r.lengths, max_len, left=True)
            seq.append(ids)
        columns["sequence"] = np.stack(seq, axis=2)  # (N, T, n_a)
        columns["seq_mask"] = mask                    # (N, T)
    if raw.target:
        columns["target"] = np.stack([vocabs[raw.group(k)].encode(v) for k, v in raw.target.items()],
                                     axis=1)          # (N, n_t)
    columns.update(raw.extra)
    columns["label"] = np.asarray(raw.label, dtype=np.float32)  # (N,)

    tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in columns.items()}
    tables = [TensorTable({k: t[torch.from_numpy(idx)] for k, t in tensors.items()}) for idx in splits]
    schema = Schema(
        fields=[info(k, "categorical") for k in raw.categorical]
        + [info(k, "multi_hot") for k in raw.multi_hot],
        sequence=[info(k, "sequence") for k in raw.sequence],
        target=[info(k, "target") for k in raw.target],
        max_len=max_len if raw.sequence else 0,
        task=task,
        multi_hot_len=width,
        pooling={k: raw.pooling.get(k, "sum") for k in raw.multi_hot},
    )
    kinds = {**{k: "categorical" for k in raw.categorical}, **{k: "multi_hot" for k in raw.multi_hot},
             **{k: "sequence" for k in raw.sequence}, **{k: "target" for k in raw.target}}
    features = describe(raw.reader, raw.label_column, raw.recipes, kinds, raw.groups, vocabs,
                        width, schema.max_len)
    meta = dict(meta or {})
    meta.setdefault("rows", {s: len(t) for s, t in zip(("train", "valid", "test"), tables)})
    meta.setdefault("positive_rate", {s: round(float(t.columns["label"].mean()), 6) if len(t) else 0.0
                                      for s, t in zip(("train", "valid", "test"), tables)})
    return Dataset(name, schema, tables[0], tables[1], tables[2], meta, features)
