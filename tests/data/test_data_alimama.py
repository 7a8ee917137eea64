"""Alimama CTR with behaviour sequences in DMR's 267-column layout (nasc.runtime.data.alimama)."""
from __future__ import annotations

import gzip

import numpy as np
import pytest

from nasc.errors import DataError
from nasc.runtime.data import detect_format, load_dataset
from nasc.runtime.data.alimama import COLUMNS, SEQ_LEN


def row(*, label: int = 0, uid: int = 1, mid: int = 7, cate: int = 30, brand: int = 40,
        history: tuple[tuple[int, int], ...] = ((30, 40),), price: float = 0.5,
        mask: list[str] | None = None) -> list[str]:
    """One DMR row; ``history`` lists (category, brand) of the real behaviours, which sit at the
    first positions of the 50 (the rest is padding with mask 0)."""
    cells = {name: "0" for name in COLUMNS}
    for i, (c, b) in enumerate(history):
        cells[f"cont_btag_{i}"], cells[f"his_cate_{i}"], cells[f"his_brand_{i}"] = "1", str(c), str(b)
        cells[f"mask_{i}"] = cells[f"match_mask_{i}"] = "1"
    for i, value in enumerate(mask or []):
        cells[f"mask_{i}"] = value
    cells.update(uid=str(uid), mid=str(mid), cate_id=str(cate), brand=str(brand),
                 price=repr(price), target=str(label))
    return [cells[name] for name in COLUMNS]


HEADER = ",".join(name.rsplit("_", 1)[0] if name.rsplit("_", 1)[-1].isdigit() else name
                  for name in COLUMNS)


def write(path, rows, header: bool = False):
    text = "".join(",".join(r) + "\n" for r in rows)
    path.write_text((HEADER + "\n" if header else "") + text)
    return path


def rows_for(n: int = 40) -> list[list[str]]:
    rng = np.random.default_rng(0)
    out = []
    for k in range(n):
        length = 1 + k % 4
        history = tuple((int(rng.integers(1, 6)), int(rng.integers(100, 104))) for _ in range(length))
        out.append(row(label=k % 2, uid=k % 7, history=history, cate=1 + k % 5, brand=100 + k % 4,
                       price=k / n))
    return out


def test_header_matches_the_deepctr_file_layout():
    assert len(COLUMNS) == 267 and HEADER.startswith("cont_btag,") and HEADER.endswith(",pid,target")


@pytest.mark.parametrize("header", [False, True])
def test_behaviours_are_the_masked_positions_in_order(tmp_path, header):
    rows = rows_for()
    path = write(tmp_path / "ali.txt", rows, header=header)
    assert detect_format(path) == "alimama"
    ds = load_dataset(str(path), cache=False)
    assert len(ds.train) + len(ds.valid) + len(ds.test) == 40
    schema = ds.schema
    assert [f.name for f in schema.sequence] == ["his_cate", "his_brand"]
    assert [f.name for f in schema.target] == ["cate_id", "brand"]
    # a behaviour's category and the ad's category are one vocabulary (DIN's attention needs it)
    assert [f.group for f in schema.sequence] == [f.group for f in schema.target]
    assert len(schema.fields) == 14 and "price" in [f.name for f in schema.fields]
    # every row: as many real positions as its mask says, right-aligned, same ids as its target
    # vocabulary gives the raw values
    all_rows = {k: np.concatenate([t.columns[k].numpy() for t in (ds.train, ds.valid, ds.test)])
                for k in ("seq_mask", "sequence", "target", "label")}
    lengths = all_rows["seq_mask"].sum(1)
    assert sorted(lengths.tolist()) == sorted(1 + k % 4 for k in range(40))
    assert all_rows["seq_mask"][:, -1].all() and ds.schema.max_len == SEQ_LEN
    # the raw category of a behaviour equal to the raw target category encodes to the same id
    first = write(tmp_path / "one.txt", [row(cate=3, history=((3, 40), (5, 41))) for _ in range(10)])
    one = load_dataset(str(first), cache=False).train.columns
    assert (one["sequence"][:, -2, 0] == one["target"][:, 0]).all()      # cate 3 then 5
    assert (one["sequence"][:, -1, 0] != one["target"][:, 0]).all()
    assert (one["sequence"][:, -2, 1] == one["target"][:, 1]).all()      # brand 40


def test_price_becomes_train_quantile_buckets(tmp_path):
    ds = load_dataset(str(write(tmp_path / "ali.txt", rows_for(200))), cache=False)
    price = [f for f in ds.schema.fields if f.name == "price"][0]
    assert 8 <= price.vocab_size - 2 <= 10  # 10 buckets (+ padding and OOV rows)


def test_gzip_and_the_label_rate(tmp_path):
    rows = rows_for()
    path = tmp_path / "ali.txt.gz"
    path.write_bytes(gzip.compress("".join(",".join(r) + "\n" for r in rows).encode()))
    ds = load_dataset(str(path), cache=False)
    assert sum(int(t.columns["label"].sum()) for t in (ds.train, ds.valid, ds.test)) == 20


@pytest.mark.parametrize("header", [False, True])
def test_a_short_row_names_its_line(tmp_path, header):
    rows = rows_for(6)
    rows[3] = rows[3][:-2]
    path = write(tmp_path / "ali.txt", rows, header=header)
    with pytest.raises(DataError) as info:
        load_dataset(str(path), cache=False)
    diag = info.value.diagnostics[0]
    assert diag.line == 4 + header and "265 columns, expected 267" in diag.message


@pytest.mark.parametrize("header", [False, True])
def test_a_bad_label_or_mask_names_its_line(tmp_path, header):
    rows = rows_for(6)
    rows[2] = row(label=2)
    with pytest.raises(DataError) as info:
        load_dataset(str(write(tmp_path / "a.txt", rows, header=header)), cache=False)
    assert info.value.diagnostics[0].line == 3 + header
    assert "'target': '2' is not 0 or 1" in info.value.diagnostics[0].message
    rows = rows_for(6)
    rows[4] = row(mask=["1", "x"])
    with pytest.raises(DataError) as info:
        load_dataset(str(write(tmp_path / "b.txt", rows, header=header)), cache=False)
    assert info.value.diagnostics[0].line == 5 + header
    assert "'mask_1': 'x'" in info.value.diagnostics[0].message


@pytest.mark.shared_data
def test_the_shared_alimama_samples(shared_data):
    folder = shared_data / "alimama_dmr_sample"
    paddle = load_dataset(str(folder / "alimama_sampled_train.txt.gz"), cache=False)
    deepctr = load_dataset(str(folder / "alimama_sample.txt"), cache=False)
    for ds, rows, positives in ((paddle, 500, 210), (deepctr, 99, 2)):  # README's counts
        splits = (ds.train, ds.valid, ds.test)
        assert sum(len(t) for t in splits) == rows
        assert sum(int(t.columns["label"].sum()) for t in splits) == positives
    lengths = np.concatenate([t.columns["seq_mask"].sum(1).numpy()
                              for t in (paddle.train, paddle.valid, paddle.test)])
    assert lengths.min() == 1 and np.median(lengths) == 50 and lengths.max() == 50  # README
