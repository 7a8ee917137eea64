"""Integer ids in whitespace-separated files (libfm feature indices, sequence-log user and item
ids): a non-negative integer that fits int64. A negative id is refused, not wrapped or dropped:
these formats never write one, so it means a damaged or misconverted file."""
from __future__ import annotations

import numpy as np

MAX_ID = int(np.iinfo(np.int64).max)


def id_problem(token: str) -> str | None:
    """Why ``token`` is not a valid id, or None when it is one."""
    try:
        value = int(token)
    except ValueError:
        return "is not an integer id"
    if value < 0:
        return "is a negative id"
    if value > MAX_ID:
        return f"is too large for an id (the largest is {MAX_ID})"
    return None


def as_ids(values: list) -> np.ndarray:
    """Python ints (a list, or a list of equal-length rows) -> int64 array; ValueError when one
    is negative or does not fit, for the caller's slow path to locate with ``id_problem``."""
    try:
        ids = np.asarray(values, dtype=np.int64)
    except OverflowError:
        raise ValueError("an id does not fit int64") from None
    if (ids < 0).any():
        raise ValueError("a negative id")
    return ids
