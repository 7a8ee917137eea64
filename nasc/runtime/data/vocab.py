"""Vocabularies: raw tokens -> local indices (0 pad, 1..K by train frequency, K+1 = OOV)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


MIN_COUNT_HINT = ("min_count is a whole number >= 0: values seen fewer times in the training rows "
                  "share one out-of-vocabulary index (0 and 1 keep every value)")


def is_count(value, least: int = 0) -> bool:
    """A whole number >= ``least`` (True and 2.0 are not: an option set by mistake)."""
    whole = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    return whole and value >= least


@dataclass
class Vocabulary:
    keys: np.ndarray  # (K,) kept raw tokens, sorted (for searchsorted)
    ids: np.ndarray   # (K,) local index of each key, in 1..K

    @property
    def size(self) -> int:
        """Padding + K tokens + OOV."""
        return len(self.keys) + 2

    @property
    def oov(self) -> int:
        return len(self.keys) + 1

    @classmethod
    def fit(cls, values: np.ndarray, min_count: int = 1) -> "Vocabulary":
        """Keep tokens seen at least ``min_count`` times; most frequent first, ties by value."""
        uniq, counts = np.unique(np.asarray(values), return_counts=True)  # uniq sorted by value
        keep = counts >= max(int(min_count), 1)
        keys, counts = uniq[keep], counts[keep]
        order = np.argsort(-counts, kind="stable")  # stable: equal counts stay in value order
        ids = np.empty(len(keys), dtype=np.int64)
        ids[order] = np.arange(1, len(keys) + 1)
        return cls(keys, ids)

    @classmethod
    def from_ordered(cls, tokens: np.ndarray) -> "Vocabulary":
        """A vocabulary whose order is given: tokens[i] gets index i + 1."""
        tokens = np.asarray(tokens)
        order = np.argsort(tokens, kind="stable")
        return cls(tokens[order], np.arange(1, len(tokens) + 1, dtype=np.int64)[order])

    def encode(self, values: np.ndarray) -> np.ndarray:
        """(…) raw tokens -> (…) int64 local indices; unknown or rare tokens -> OOV."""
        values = np.asarray(values)
        if len(self.keys) == 0:
            return np.full(values.shape, self.oov, dtype=np.int64)
        pos = np.searchsorted(self.keys, values).clip(max=len(self.keys) - 1)
        hit = self.keys[pos] == values
        return np.where(hit, self.ids[pos], self.oov).astype(np.int64)

    def tokens_in_order(self) -> np.ndarray:
        """The kept tokens in index order (index i + 1 = element i)."""
        out = np.empty_like(self.keys)
        out[self.ids - 1] = self.keys
        return out
