"""Row splits: the files' own, or a seeded random 8:1:1 (AutoPI's protocol)."""
from __future__ import annotations

import numpy as np
import torch

Splits = tuple[np.ndarray, np.ndarray, np.ndarray]  # row indices of train, valid, test


def random_split(n: int, seed: int, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)) -> Splits:
    """Seeded permutation cut at floor(0.8 n) and floor(0.1 n); the test split takes the rest."""
    gen = torch.Generator().manual_seed(int(seed))
    perm = torch.randperm(n, generator=gen).numpy()
    n_train = int(n * fractions[0])
    n_valid = int(n * fractions[1])
    return perm[:n_train], perm[n_train:n_train + n_valid], perm[n_train + n_valid:]


def file_split(sizes: tuple[int, int, int]) -> Splits:
    """Rows stacked as train, valid, test files."""
    a, b, c = sizes
    return np.arange(a), np.arange(a, a + b), np.arange(a + b, a + b + c)


def make_split(kind: str, sizes: tuple[int, int, int], seed: int) -> Splits:
    if kind == "files":
        return file_split(sizes)
    if kind == "random811":
        return random_split(sum(sizes), seed)
    raise ValueError(f"unknown split {kind!r}: expected 'files' or 'random811'")
