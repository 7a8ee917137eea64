"""The run-time form of a dataset: a schema plus one table of whole tensors per split.

Every field value is a per-field (per-vocabulary-group) local index: 0 = padding,
1..V-2 = vocabulary in order of decreasing train frequency (ties by value), V-1 = OOV.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Iterator

import torch
from torch import Tensor

KINDS = ("categorical", "multi_hot", "sequence", "target")


@dataclass
class FieldInfo:
    """One input field after preprocessing."""

    name: str
    kind: str        # "categorical" | "multi_hot" | "sequence" | "target"
    vocab_size: int  # includes index 0 = padding and the OOV index (last)
    group: str       # embedding vocabulary it shares (history item ids and target item: "item_id")


@dataclass
class Schema:
    """What binds at run time.

    ``fields`` holds the non-sequential fields: the m_c of kind "categorical" first, then the
    n_mh of kind "multi_hot". ``columns["fields"]`` is (N, m_c + n_mh L): one id per categorical
    field, then ``multi_hot_len`` = L ids per multi-hot field (its bag, padded with 0), which
    embedding pools as ``pooling[name]`` says ("sum" or "mean" of the real ids).
    """

    fields: list[FieldInfo]
    sequence: list[FieldInfo] = field(default_factory=list)  # behaviour-element fields
    target: list[FieldInfo] = field(default_factory=list)    # target-item fields
    max_len: int = 0
    task: str = "ctr"                                        # "ctr" | "next_item"
    multi_hot_len: int = 0                                   # L: ids per multi-hot bag
    pooling: dict[str, str] = field(default_factory=dict)    # multi-hot field -> sum | mean

    @property
    def categorical(self) -> list[FieldInfo]:
        return [f for f in self.fields if f.kind == "categorical"]

    @property
    def multi_hot(self) -> list[FieldInfo]:
        return [f for f in self.fields if f.kind == "multi_hot"]

    def to_json(self) -> dict:
        return {
            "fields": [asdict(f) for f in self.fields],
            "sequence": [asdict(f) for f in self.sequence],
            "target": [asdict(f) for f in self.target],
            "max_len": self.max_len,
            "task": self.task,
            # only where there are bags: the schema of every other dataset reads as before
            **({"multi_hot_len": self.multi_hot_len, "pooling": self.pooling}
               if self.multi_hot else {}),
        }

    @classmethod
    def from_json(cls, data: dict) -> "Schema":
        return cls(
            fields=[FieldInfo(**f) for f in data["fields"]],
            sequence=[FieldInfo(**f) for f in data.get("sequence", [])],
            target=[FieldInfo(**f) for f in data.get("target", [])],
            max_len=int(data.get("max_len", 0)),
            task=data.get("task", "ctr"),
            multi_hot_len=int(data.get("multi_hot_len", 0)),
            pooling=dict(data.get("pooling", {})),
        )


class TensorTable:
    """One split: named tensors sharing the first dimension N.

    Columns: "fields" Long (N, m_c + n_mh L) (see Schema); optional "sequence" Long
    (N, T, n_a), "seq_mask" Bool (N, T) (True = real element), "target" Long (N, n_t),
    "user" Long (N,) (sequence logs: row of ``Dataset.meta["user_items"]``), "true_logit" Float
    (N,) (synthetic data: the noiseless logit, not a model input); "label" Float (N,).
    """

    def __init__(self, columns: dict[str, Tensor]):
        sizes = {name: t.shape[0] for name, t in columns.items()}
        if len(set(sizes.values())) > 1:
            raise ValueError(f"columns differ in their first dimension: {sizes}")
        self.columns = dict(columns)

    def __len__(self) -> int:
        return next(iter(self.columns.values())).shape[0] if self.columns else 0

    def __repr__(self) -> str:
        cols = ", ".join(f"{k}: {tuple(v.shape)} {v.dtype}" for k, v in self.columns.items())
        return f"TensorTable(n={len(self)}; {cols})"

    def to(self, device: torch.device | str) -> "TensorTable":
        return TensorTable({k: v.to(device) for k, v in self.columns.items()})

    def subset(self, index: Tensor) -> "TensorTable":
        """Rows selected by a Long index or a Bool mask (N,)."""
        return TensorTable({k: v[index] for k, v in self.columns.items()})

    def batches(self, batch_size: int, shuffle: bool = False,
                generator: torch.Generator | None = None) -> Iterator[dict[str, Tensor]]:
        """Mini-batches by slicing whole tensors; the last batch may be smaller."""
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        n = len(self)
        if shuffle:
            order = torch.randperm(n, generator=generator, device="cpu")
            first = next(iter(self.columns.values()), None)
            if first is not None and first.device.type != "cpu":
                order = order.to(first.device)
            for start in range(0, n, batch_size):
                idx = order[start:start + batch_size]
                yield {k: v[idx] for k, v in self.columns.items()}
        else:
            for start in range(0, n, batch_size):  # views, no copy
                yield {k: v[start:start + batch_size] for k, v in self.columns.items()}


@dataclass
class Dataset:
    name: str
    schema: Schema
    train: TensorTable
    valid: TensorTable
    test: TensorTable
    meta: dict = field(default_factory=dict)  # JSON-able: source, options, planted interactions…
    features: dict | None = None  # the feature map (nasc.runtime.data.featuremap), JSON-able

    def splits(self) -> dict[str, TensorTable]:
        return {"train": self.train, "valid": self.valid, "test": self.test}

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, task={self.schema.task}, fields={len(self.schema.fields)}, "
                f"train={len(self.train)}, valid={len(self.valid)}, test={len(self.test)})")
