import gzip

import pytest

from nasc.errors import DataError
from nasc.runtime.data import load_dataset
from nasc.runtime.data.libfm import load_libfm, parse_libfm

GOOD = "1 0:1 10:1 20:1\r\n-1 1:1 10:1 21:1\r\n-1 0:1 11:1 20:1\r\n1 0:1 10:1 22:1\r\n"


def _write_split(tmp_path, train=GOOD, valid="1 0:1 12:1 20:1\n", test="-1 2:1 10:1 20:1\n"):
    for name, text in (("train", train), ("validation", valid), ("test", test)):
        with gzip.open(tmp_path / f"toy.{name}.libfm.gz", "wt") as fh:
            fh.write(text)
    return tmp_path


def test_parse_ids_and_labels(tmp_path):
    p = tmp_path / "a.libfm"
    p.write_text(GOOD)
    x, y = parse_libfm(p)
    assert x.tolist() == [[0, 10, 20], [1, 10, 21], [0, 11, 20], [0, 10, 22]]
    assert y.tolist() == [1.0, 0.0, 0.0, 1.0]


def test_directory_of_split_files_encodes_by_position(tmp_path):
    ds = load_libfm(_write_split(tmp_path))
    assert [f.name for f in ds.schema.fields] == ["f0", "f1", "f2"]
    assert (len(ds.train), len(ds.valid), len(ds.test)) == (4, 1, 1)
    # field 0: value 0 x3 -> 1, value 1 x1 -> 2; OOV = 3 (value 2 never in train)
    assert ds.train.columns["fields"][:, 0].tolist() == [1, 2, 1, 1]
    assert ds.test.columns["fields"][0].tolist()[0] == 3
    assert ds.valid.columns["fields"][0, 1].item() == ds.schema.fields[1].vocab_size - 1  # 12 unseen
    assert ds.train.columns["label"].tolist() == [1.0, 0.0, 0.0, 1.0]


def test_load_dataset_random811_pools_the_files(tmp_path):
    ds = load_dataset(str(_write_split(tmp_path, train=GOOD * 5)), split="random811")
    assert (len(ds.train), len(ds.valid), len(ds.test)) == (17, 2, 3)


@pytest.mark.parametrize("bad_line, message", [
    ("1 0:1 1x:1 20:1", "bad feature '1x:1'"),
    ("1 0:1 10 20:1", "bad feature '10'"),
    ("1 0:1 10:abc 20:1", "bad feature '10:abc'"),
    ("1 0:1 10:1", "row has 2 fields, expected 3"),
    ("1 0:1 10:1 20:1 30:1", "row has 4 fields, expected 3"),
    ("2 0:1 10:1 20:1", "bad label '2'"),
    ("yes 0:1 10:1 20:1", "bad label 'yes'"),
])
def test_malformed_row_names_file_and_line(tmp_path, bad_line, message):
    lines = GOOD.splitlines()
    lines.insert(2, bad_line)  # becomes line 3
    p = tmp_path / "bad.libfm"
    p.write_text("\r\n".join(lines) + "\r\n")
    with pytest.raises(DataError) as exc:
        parse_libfm(p)
    text = exc.value.render()
    assert f"{p}:3: error:" in text
    assert message in text
    assert bad_line in text and "hint:" in text


def test_field_count_checked_against_the_train_file(tmp_path):
    _write_split(tmp_path, test="1 0:1 10:1\n")
    with pytest.raises(DataError) as exc:
        load_libfm(tmp_path)
    assert f"{tmp_path / 'toy.test.libfm.gz'}:1: error: row has 2 fields, expected 3" in exc.value.render()


def test_missing_split_file_is_reported(tmp_path):
    (tmp_path / "toy.train.libfm").write_text(GOOD)
    with pytest.raises(DataError, match="validation"):
        load_libfm(tmp_path)
