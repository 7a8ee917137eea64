"""Raw Avazu (Kaggle CTR) CSV: ``id, click, hour (YYMMDDHH), C1, banner_pos, …, C21``.

``id`` is dropped, ``hour`` becomes hour-of-day and weekday, every other column is categorical.
No split files exist, so rows are split 8:1:1 with the seed.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from ...errors import data_error
from .build import RawTable, build_dataset
from .criteo import auto_min_count
from .delimited import first_bad, read_columns, require_columns, require_rows
from .splits import random_split
from .table import Dataset
from .textio import dataset_name

REQUIRED = ["id", "click", "hour"]


def is_avazu_header(line: str) -> bool:
    return line.split(",")[:3] == REQUIRED


def hour_fields(path, hours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N,) 'YYMMDDHH' -> hour of day (N,) and weekday (N,), computed once per distinct value."""
    uniq, inverse = np.unique(hours, return_inverse=True)
    hod, wd = np.empty(len(uniq), np.int64), np.empty(len(uniq), np.int64)
    for k, h in enumerate(uniq):
        try:
            if len(h) != 8:
                raise ValueError
            day = dt.date(2000 + int(h[:2]), int(h[2:4]), int(h[4:6]))
            hod[k], wd[k] = int(h[6:8]), day.weekday()
            if not 0 <= hod[k] < 24:
                raise ValueError
        except ValueError:
            i = int(np.flatnonzero(hours == h)[0])  # first row holding this value
            raise data_error(str(path), i + 2, f"bad hour {str(h)!r}",
                             "hour is written YYMMDDHH, e.g. 14102100")
    return hod[inverse], wd[inverse]


def load_avazu(path: str | Path, *, seed: int = 2021, min_count: int | None = None,
               split: str = "random811") -> Dataset:
    cols = read_columns(path, delimiter=",", header=True)
    require_columns(path, list(cols), REQUIRED)
    n = len(cols["click"])
    require_rows(path, n)
    i = first_bad(np.isin(cols["click"], ("0", "1")))
    if i is not None:
        raise data_error(str(path), i + 2, f"bad click label {str(cols['click'][i])!r}",
                         "click is 0 or 1")
    hod, wd = hour_fields(path, cols["hour"])
    categorical = {"hour_of_day": hod, "weekday": wd}
    categorical.update({k: v for k, v in cols.items() if k not in REQUIRED})
    mc = auto_min_count(n) if min_count is None else min_count
    recipes = {k: {"column": k, "transform": "text"} for k in categorical}
    recipes.update({k: {"column": "hour", "transform": k} for k in ("hour_of_day", "weekday")})
    raw = RawTable(label=(cols["click"] == "1").astype(np.float32), categorical=categorical,
                   min_count={k: mc for k in categorical}, reader="table", label_column="click",
                   recipes=recipes)
    meta = {"source": [str(path)], "format": "avazu", "split": "random811", "seed": seed,
            "min_count": mc, "requested_split": split}
    return build_dataset(dataset_name("avazu", path), raw,
                         random_split(n, seed), meta=meta)
