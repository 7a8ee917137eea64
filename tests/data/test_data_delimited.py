"""Criteo, Avazu and generic CSV/Parquet loading on small temp files."""
import gzip
import math

import numpy as np
import pytest

from nasc.errors import DataError
from nasc.runtime.data import load_dataset
from nasc.runtime.data.criteo import bucketize_log
from nasc.runtime.data.tabular import load_tabular


def _criteo_row(i):
    ints = [str(i % 5), "", "-1", str(10 ** (i % 4))] + ["1"] * 9
    cats = [f"{i % 3:08x}", ""] + ["abcd"] * 24
    return "\t".join([str(i % 2)] + ints + cats)


def test_criteo_log_buckets():
    values = np.array([-1.0, 0, 1, 2, 3, 10, 1000, 0])
    present = np.array([True] * 7 + [False])
    tok = bucketize_log(values, present)
    assert tok[:4].tolist() == [-1, 0, 1, 2]
    assert tok[4] - tok[5] == int(math.log(3) ** 2) - int(math.log(10) ** 2)
    assert len(set(tok.tolist())) == 8  # small values, log buckets and missing stay apart


def test_criteo_tsv_loads_and_splits_811(tmp_path):
    p = tmp_path / "train.txt.gz"
    with gzip.open(p, "wt") as fh:
        fh.write("\n".join(_criteo_row(i) for i in range(50)) + "\n")
    ds = load_dataset(str(p), cache=False)
    assert ds.meta["format"] == "criteo" and len(ds.schema.fields) == 39
    assert (len(ds.train), len(ds.valid), len(ds.test)) == (40, 5, 5)


def test_criteo_wrong_column_count_names_line(tmp_path):
    rows = [_criteo_row(i) for i in range(6)]
    rows[3] = rows[3].rsplit("\t", 1)[0]  # line 4 loses a column
    p = tmp_path / "c.txt"
    p.write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError) as exc:
        load_dataset(str(p), format="criteo", cache=False)
    assert f"{p}:4: error: row has 39 columns, expected 40" in exc.value.render()


def test_criteo_bad_number_names_line(tmp_path):
    rows = [_criteo_row(i) for i in range(6)]
    rows[4] = rows[4].replace("\t-1\t", "\tx7\t", 1)
    p = tmp_path / "c.txt"
    p.write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError) as exc:
        load_dataset(str(p), cache=False)
    assert f"{p}:5: error: column 'I3': 'x7' is not a number" in exc.value.render()


AVAZU_HEADER = "id,click,hour,C1,banner_pos,site_id"


def test_avazu_hour_becomes_hour_of_day_and_weekday(tmp_path):
    p = tmp_path / "a.csv"
    rows = [f"{i},{i % 2},141021{i % 24:02d},1005,0,s{i % 3}" for i in range(30)]
    p.write_text("\n".join([AVAZU_HEADER, *rows]) + "\n")
    ds = load_dataset(str(p), cache=False)
    names = [f.name for f in ds.schema.fields]
    assert names == ["hour_of_day", "weekday", "C1", "banner_pos", "site_id"]
    assert ds.schema.fields[1].vocab_size == 3  # 2014-10-21 is one weekday (a Tuesday) + pad + OOV


def test_avazu_bad_hour_names_line(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text(f"{AVAZU_HEADER}\n1,0,14102100,1,0,a\n2,1,14133100,1,0,b\n")
    with pytest.raises(DataError) as exc:
        load_dataset(str(p), cache=False)
    assert f"{p}:3: error: bad hour '14133100'" in exc.value.render()


SCHEMA = {"label": "clicked",
          "fields": [{"name": "city"}, {"name": "price", "kind": "numeric"},
                     {"name": "tags", "kind": "multi_hot", "sep": "|"}],
          "sequence": {"fields": [{"name": "hist", "group": "item_id"}], "max_len": 2, "sep": "|"},
          "target": [{"name": "item", "group": "item_id"}]}
CSV = ("clicked,city,price,tags,hist,item\n"
       "1,a,3,x|y,i1|i2|i3,i1\n"
       "0,b,,y,,i2\n"
       "1,a,0.5,,i2,i9\n")


def _tabular(tmp_path, text=CSV, schema=SCHEMA):
    p = tmp_path / "t.csv"
    p.write_text(text)
    ds = load_tabular(p, schema, seed=0)
    all_rows = {k: np.concatenate([t.columns[k].numpy() for t in (ds.train, ds.valid, ds.test)])
                for k in ds.train.columns}
    return ds, all_rows


def test_tabular_columns_shapes_and_padding(tmp_path):
    ds, cols = _tabular(tmp_path)
    assert [f.kind for f in ds.schema.fields] == ["categorical", "categorical", "multi_hot"]
    # two categorical ids, then the tags bag's 2 ids (multi-hot rides in "fields", see Schema)
    assert cols["fields"].shape == (3, 4) and ds.schema.multi_hot_len == 2
    bags = cols["fields"][:, 2:]
    assert cols["sequence"].shape == (3, 2, 1) and cols["seq_mask"].shape == (3, 2)
    assert ds.schema.sequence[0].group == ds.schema.target[0].group == "item_id"
    assert sorted(cols["seq_mask"].sum(1).tolist()) == [0, 1, 2]  # max_len=2 clips 3 -> 2
    assert sorted((bags > 0).sum(-1).ravel().tolist()) == [0, 1, 2]


def test_tabular_parquet_matches_csv(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq
    _, from_csv = _tabular(tmp_path)
    table = pacsv.read_csv(tmp_path / "t.csv",
                           convert_options=pacsv.ConvertOptions(column_types={"tags": pa.string(),
                                                                              "hist": pa.string()}))
    pq.write_table(table, tmp_path / "t.parquet")
    ds = load_dataset(str(tmp_path / "t.parquet"), schema=SCHEMA, seed=0, cache=False)
    for k, v in from_csv.items():
        got = np.concatenate([t.columns[k].numpy() for t in (ds.train, ds.valid, ds.test)])
        assert np.array_equal(got, v), k


def test_tabular_missing_column_suggests_a_name(tmp_path):
    schema = {**SCHEMA, "fields": [{"name": "ctiy"}]}
    with pytest.raises(DataError) as exc:
        _tabular(tmp_path, schema=schema)
    text = exc.value.render()
    assert f"{tmp_path / 't.csv'}:1: error: column 'ctiy' is not in the file" in text
    assert "did you mean 'city'?" in text


def test_tabular_bad_label_and_bad_number_name_lines(tmp_path):
    with pytest.raises(DataError) as exc:
        _tabular(tmp_path, text=CSV.replace("0,b,", "maybe,b,"))
    assert f"{tmp_path / 't.csv'}:3: error:" in exc.value.render()
    with pytest.raises(DataError) as exc:
        _tabular(tmp_path, text=CSV.replace("0.5", "cheap"))
    assert f"{tmp_path / 't.csv'}:4: error: column 'price': 'cheap' is not a number" in exc.value.render()


def test_unknown_format_lists_what_is_accepted(tmp_path):
    p = tmp_path / "notes.md"
    p.write_text("# hello\n")
    with pytest.raises(DataError) as exc:
        load_dataset(str(p))
    assert f"{p}:1: error: cannot tell the format" in exc.value.render()
    assert "libfm" in exc.value.render() and "schema=" in exc.value.render()
