"""Alimama / Taobao display-ad CTR with behaviour sequences, in DMR's preprocessed layout.

One row per impression, 267 comma-separated columns (a header line is optional):

    cont_btag x50, his_cate x50, his_brand x50, mask x50, match_mask x50,   (the last 50 behaviours)
    uid, cms_segid, cms_group_id, final_gender_code, age_level, pvalue_level, shopping_level,
    occupation, new_user_class_level, mid, cate_id, campaign_id, customer, brand, price, pid,
    target

The behaviours are the positions whose ``mask`` is 1, kept in column order; each has a category
and a brand, which share their vocabularies with the ad's ``cate_id`` and ``brand`` (the target
of a DIN-style model). ``cont_btag`` (the behaviour type, id 1 on 95% of positions) and
``match_mask`` (DMR's user-to-item network) are not used. ``price`` comes scaled to [0, 1] and
becomes 10 quantile buckets of the training rows (a price that is empty, NaN or infinite is
refused at its row). No split files exist, so rows are split 8:1:1 with the seed.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import data_error
from .build import Ragged, RawTable, build_dataset
from .delimited import first_bad, parse_numbers, read_columns, require_rows
from .splits import random_split
from .table import Dataset
from .textio import dataset_name, head_lines

SEQ_LEN = 50
PRICE_BUCKETS = 10
SEQUENCES = ("cont_btag", "his_cate", "his_brand", "mask", "match_mask")
PROFILE = ("uid", "cms_segid", "cms_group_id", "final_gender_code", "age_level", "pvalue_level",
           "shopping_level", "occupation", "new_user_class_level")
AD = ("mid", "cate_id", "campaign_id", "customer", "brand", "price", "pid")
COLUMNS = [f"{name}_{i}" for name in SEQUENCES for i in range(SEQ_LEN)] + [*PROFILE, *AD, "target"]
# behaviour sequence field -> the vocabulary it shares with the ad's target field
SHARED = {"his_cate": "cate_id", "his_brand": "brand"}


def is_alimama_header(line: str) -> bool:
    return line.startswith("cont_btag,") and line.rstrip("\r\n").endswith(",target")


def is_alimama_row(line: str) -> bool:
    """A headerless DMR row: 267 numbers."""
    values = line.rstrip("\r\n").split(",")
    return len(values) == len(COLUMNS) and all(v.replace(".", "", 1).isdigit() for v in values)


def load_alimama(path: str | Path, *, seed: int = 2021, min_count: int = 1,
                 split: str = "random811") -> Dataset:
    path = Path(path)
    header = is_alimama_header(next(iter(head_lines(path, 1)), ""))
    cols = read_columns(path, delimiter=",", header=False, names=COLUMNS)
    if header:
        cols = {k: v[1:] for k, v in cols.items()}
    line = (lambda row: row + 1 + header)  # noqa: E731 - data row -> 1-based file line
    n = len(cols["target"])
    require_rows(path, n)
    for name in ("target", *(f"mask_{i}" for i in range(SEQ_LEN))):
        i = first_bad(np.isin(cols[name], ("0", "1")))
        if i is not None:
            what = "click label" if name == "target" else "behaviour mask"
            raise data_error(str(path), line(i), f"column {name!r}: {str(cols[name][i])!r} is not "
                                                 f"0 or 1", f"the {what} is 0 or 1")

    mask = np.stack([cols[f"mask_{i}"] == "1" for i in range(SEQ_LEN)], axis=1)  # (N, 50)
    lengths = mask.sum(axis=1).astype(np.int64)

    def behaviours(name: str) -> Ragged:
        table = np.stack([cols[f"{name}_{i}"] for i in range(SEQ_LEN)], axis=1)  # (N, 50)
        return Ragged(table[mask], lengths)  # row-major: each row's real positions in order

    splits = random_split(n, seed)
    price, _ = parse_numbers(path, "price", cols["price"], int(header), missing=())
    edges = np.unique(np.quantile(price[splits[0]], np.linspace(0, 1, PRICE_BUCKETS + 1)[1:-1]))
    categorical = {name: cols[name] for name in PROFILE}
    categorical.update({name: cols[name] for name in AD if name not in ("price", *SHARED.values())})
    categorical["price"] = np.searchsorted(edges, price, side="right").astype(np.int64)
    raw = RawTable(label=(cols["target"] == "1").astype(np.float32), categorical=categorical,
                   sequence={name: behaviours(name) for name in SHARED},
                   target={target: cols[target] for target in SHARED.values()},
                   groups={**SHARED, "cate_id": "cate_id", "brand": "brand"})
    raw.min_count = {raw.group(name): min_count
                     for name in [*categorical, *raw.sequence, *raw.target]}
    meta = {"source": [str(path)], "format": "alimama", "split": "random811", "seed": seed,
            "min_count": min_count, "requested_split": split}
    return build_dataset(dataset_name("alimama", path), raw, splits,
                         max_len=SEQ_LEN, meta=meta)
