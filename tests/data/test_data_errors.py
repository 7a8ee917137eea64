"""Bad data inputs give a located DataError (CLI: exit status 2, no traceback), never a crash or a
silent acceptance (issue 15, item 3)."""
from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from click.testing import CliRunner

from nasc.cli import main
from nasc.errors import DataError, UsageError
from nasc.runtime.data import load_dataset
from nasc.runtime.data.alimama import COLUMNS as ALIMAMA_COLUMNS
from nasc.runtime.data.criteo import COLUMNS as CRITEO_COLUMNS

CRITEO_HEADER = ",".join(CRITEO_COLUMNS)
AVAZU_HEADER = "id,click,hour,C1,banner_pos"
# DMR's header names each block of 50 once per position: cont_btag,cont_btag,…,target
ALIMAMA_HEADER = ",".join(c.rsplit("_", 1)[0] if c.rsplit("_", 1)[-1].isdigit() else c
                          for c in ALIMAMA_COLUMNS)
SPECS = Path(__file__).resolve().parents[2] / "specs"
SCHEMA = {"label": "y", "fields": [{"name": "x", "kind": "numeric"}, {"name": "c"}]}


def criteo_row(i: int, i1: str = "3") -> str:
    return "\t".join([str(i % 2), i1, *[str(i)] * 12, *[f"c{i % 3}"] * 26])


def criteo_text(n: int = 20, bad: dict[int, str] | None = None) -> str:
    """``n`` headerless Criteo rows; ``bad`` maps a row index (line index + 1) to its I1 text."""
    bad = bad or {}
    return "".join(criteo_row(i, bad.get(i, "3")) + "\n" for i in range(n))


def log_text(n_users: int = 8) -> str:
    return "".join(f"{u} {u + 1} {u + 2} {u + 3}\n" for u in range(1, n_users + 1))


def truncated_gzip(path, text: str):
    packed = gzip.compress(text.encode())
    path.write_bytes(packed[: len(packed) // 2])
    return path


def train(spec: str, data):
    """`nasc train SPEC --data DATA --epochs 1 --quiet`, its run directory beside the data."""
    return CliRunner().invoke(main, ["train", str(SPECS / f"{spec}.nas"), "--data", str(data),
                                     "--epochs", "1", "--quiet", "--out", str(data) + ".run"])


def assert_user_error(result, where, text: str) -> None:
    """Exit status 2, the message at ``where`` (a path, or 'path:line'), no Python traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"{where}: error: " in result.output or f"{where}:1: error: " in result.output
    assert text in result.output


def located(exc_info, path, line: int, text: str) -> None:
    diag = exc_info.value.diagnostics[0]
    assert (diag.path, diag.line) == (str(path), line)
    assert text in diag.message


# ---------------------------------------------------------------- truncated gzip
def test_a_truncated_criteo_gzip_is_a_user_error_not_aborted(tmp_path):
    path = truncated_gzip(tmp_path / "train.txt.gz", criteo_text(200))
    result = train("deepfm", path)
    assert_user_error(result, path, "the gzip file is truncated or corrupt")
    assert "Aborted" not in result.output


def test_a_truncated_sequence_log_gzip_is_a_user_error(tmp_path):
    path = truncated_gzip(tmp_path / "Beauty.txt.gz", log_text(200))
    assert_user_error(train("sasrec", path), path, "the gzip file is truncated or corrupt")


def test_a_corrupt_gzip_body_names_the_file(tmp_path):
    packed = bytearray(gzip.compress(criteo_text(50).encode()))
    packed[20:40] = b"\xff" * 20  # damage the deflate stream, keep the gzip magic
    path = tmp_path / "train.txt.gz"
    path.write_bytes(bytes(packed))
    with pytest.raises(DataError) as info:
        load_dataset(str(path), cache=False)
    located(info, path, 1, "the gzip file is truncated or corrupt")


def test_a_truncated_libfm_gzip_names_the_file(tmp_path):
    rows = "".join(f"{i % 2} {i}:1 {i + 100}:1\n" for i in range(300))
    path = truncated_gzip(tmp_path / "data.libfm.gz", rows)
    with pytest.raises(DataError) as info:
        load_dataset(str(path), format="libfm", cache=False)
    located(info, path, 1, "the gzip file is truncated or corrupt")


# ---------------------------------------------------------------- header only
@pytest.mark.parametrize("name, header, spec", [
    ("criteo.csv", CRITEO_HEADER, "deepfm"),
    ("avazu.csv", AVAZU_HEADER, "deepfm"),
    ("alimama.txt", ALIMAMA_HEADER, "din"),
], ids=["criteo", "avazu", "alimama"])
def test_a_header_only_file_has_no_data_rows(tmp_path, name, header, spec):
    path = tmp_path / name
    path.write_text(header + "\n")
    assert_user_error(train(spec, path), path, "the file has no data rows")


def test_a_header_only_csv_with_a_schema_has_no_data_rows(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("y,x,c\n")
    with pytest.raises(DataError) as info:
        load_dataset(str(path), schema=SCHEMA, cache=False)
    located(info, path, 1, "the file has no data rows")


# ---------------------------------------------------------------- ids too large
def test_a_sequence_id_beyond_int64_names_its_line(tmp_path):
    path = tmp_path / "log.txt"
    path.write_text(log_text(3) + "9 99999999999999999999 1 2\n")
    result = train("sasrec", path)
    assert_user_error(result, f"{path}:4", "is too large for an id")


def test_a_libfm_index_beyond_int64_names_its_line(tmp_path):
    path = tmp_path / "data.libfm"
    path.write_text("1 1:1 2:1\n0 99999999999999999999:1 2:1\n")
    with pytest.raises(DataError) as info:
        load_dataset(str(path), cache=False)
    located(info, path, 2, "is too large for an id")


# ---------------------------------------------------------------- corrupt Parquet
@pytest.mark.parametrize("content", [b"PAR1" + b"\x00" * 64 + b"PAR1",  # pyarrow: OSError
                                     b"PAR1garbagePAR1"],                 # pyarrow: ArrowInvalid
                         ids=["bad-metadata", "bad-footer"])
def test_a_corrupt_parquet_file_is_a_user_error(tmp_path, content):
    path = tmp_path / "data.parquet"
    path.write_bytes(content)
    with pytest.raises(DataError) as info:
        load_dataset(str(path), schema=SCHEMA, cache=False)
    located(info, path, 1, "cannot read the Parquet file")


# ---------------------------------------------------------------- negative counts
@pytest.mark.parametrize("setting", [{"buckets": -3}, {"buckets": 2.5}, {"min_count": -1}])
def test_a_bad_bucket_or_min_count_in_a_schema_is_refused(tmp_path, setting):
    path = tmp_path / "t.csv"
    path.write_text("y,x,c\n" + "".join(f"{i % 2},{i},{i % 3}\n" for i in range(20)))
    schema = {"label": "y", "fields": [{"name": "x", "kind": "numeric", **setting}]}
    with pytest.raises(DataError) as info:
        load_dataset(str(path), schema=schema, cache=False)
    located(info, "<schema>", 1, f"field 'x': {next(iter(setting))} is")


def test_a_negative_min_count_option_is_refused(tmp_path):
    path = tmp_path / "criteo.txt"
    path.write_text(criteo_text())
    with pytest.raises(UsageError, match="min_count is -1"):
        load_dataset(str(path), min_count=-1, cache=False)


# ---------------------------------------------------------------- non-finite dense values
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400"])
def test_a_non_finite_criteo_integer_feature_names_its_row(tmp_path, value):
    path = tmp_path / "criteo.txt"
    path.write_text(criteo_text(bad={6: value}))
    with pytest.raises(DataError) as info:
        load_dataset(str(path), cache=False)
    located(info, path, 7, f"column 'I1': {value!r} is not a finite number")


def test_a_non_finite_criteo_value_through_the_cli(tmp_path):
    path = tmp_path / "criteo.txt"
    path.write_text(criteo_text(bad={4: "inf"}))
    assert_user_error(train("deepfm", path), f"{path}:5", "'inf' is not a finite number")


def test_a_missing_criteo_value_is_still_its_own_token(tmp_path):
    path = tmp_path / "criteo.txt"
    path.write_text(criteo_text(bad={3: ""}))
    assert len(load_dataset(str(path), cache=False).schema.fields) == 39


def test_a_non_finite_numeric_schema_field_names_its_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("y,x,c\n" + "".join(f"{i % 2},{i},{i % 3}\n" for i in range(10)) + "1,nan,1\n")
    with pytest.raises(DataError) as info:
        load_dataset(str(path), schema=SCHEMA, cache=False)
    located(info, path, 12, "column 'x': 'nan' is not a finite number")


# ---------------------------------------------------------------- negative ids
def test_a_negative_item_id_in_a_sequence_log_names_its_line(tmp_path):
    path = tmp_path / "log.txt"
    path.write_text(log_text(3) + "7 8 -9 10\n")
    with pytest.raises(DataError) as info:
        load_dataset(str(path), cache=False)
    located(info, path, 4, "'-9' is a negative id")


def test_a_negative_libfm_index_names_its_line(tmp_path):
    path = tmp_path / "data.libfm"
    path.write_text("1 1:1 2:1\n0 3:1 -4:1\n")
    result = train("deepfm", path)
    assert_user_error(result, f"{path}:2", "'-4' is a negative id")


# ---------------------------------------------------------------- a user on two lines
def test_a_user_on_two_lines_of_a_sequence_log_names_both(tmp_path):
    path = tmp_path / "log.txt"
    path.write_text("1 2 3 4\n2 3 4 5\n1 6 7 8\n")
    result = train("sasrec", path)
    assert_user_error(result, f"{path}:3", "user 1 is on line 1 and again on line 3")


def test_user_item_pairs_may_still_spread_a_user_over_lines(tmp_path):
    path = tmp_path / "pairs.txt"
    path.write_text("".join(f"{u} {u * 10 + k}\n" for u in range(1, 5) for k in range(4)))
    ds = load_dataset(str(path), cache=False)
    assert ds.meta["num_users"] == 4 and ds.meta["interactions"] == 16


def test_a_log_where_no_user_has_three_items_is_refused(tmp_path):
    path = tmp_path / "log.txt"
    path.write_text("1 2 3\n2 3 4\n")
    with pytest.raises(DataError) as info:
        load_dataset(str(path), cache=False)
    located(info, path, 1, "no user of the 2 has 3 or more items")


def test_a_data_file_error_with_no_row_at_fault_prints_no_line(tmp_path):
    """DIN reads a behaviour sequence; a Criteo file has none. No row is at fault, so the error
    is `path: error: ...` (it printed `path:0:`, a line that does not exist)."""
    path = tmp_path / "day.txt"
    path.write_text(criteo_text())
    result = train("din", path)
    assert_user_error(result, path, "reads a behavior sequence, but this dataset has none")
    assert f"{path}: error: " in result.output and ":0:" not in result.output
    assert "hint: use a dataset with sequences" in result.output
