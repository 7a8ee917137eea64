"""The real datasets in ../shared/data (outside the repository; skipped when absent)."""
import pytest

from nasc.runtime.data import load_dataset

pytestmark = pytest.mark.shared_data


def test_frappe_x1_files(shared_data):
    ds = load_dataset(str(shared_data / "frappe_x1"), cache=False)
    assert (len(ds.train), len(ds.valid), len(ds.test)) == (202_027, 57_722, 28_860)
    assert [f.name for f in ds.schema.fields] == ["user", "item", "daytime", "weekday", "isweekend",
                                                   "homework", "cost", "weather", "country", "city"]
    positives = [int(t.columns["label"].sum()) for t in (ds.train, ds.valid, ds.test)]
    assert positives == [67_604, 19_063, 9_536]  # README: one third positive
    assert ds.train.columns["fields"].shape == (202_027, 10)
    assert ds.schema.fields[1].vocab_size == 4_082 + 2  # every app occurs in train


def test_criteo_sample(shared_data):
    ds = load_dataset(str(shared_data / "criteo_sample" / "train-10k.txt.gz"), cache=False)
    assert len(ds.train) + len(ds.valid) + len(ds.test) == 10_000 and len(ds.schema.fields) == 39
    assert sum(int(t.columns["label"].sum()) for t in (ds.train, ds.valid, ds.test)) == 2_182
    csv = load_dataset(str(shared_data / "criteo_sample" / "criteo_sample.txt"), cache=False)
    assert len(csv.train) + len(csv.valid) + len(csv.test) == 200


def test_avazu_sample(shared_data):
    ds = load_dataset(str(shared_data / "avazu_sample" / "train-10k.csv.gz"), cache=False)
    assert len(ds.train) + len(ds.valid) + len(ds.test) == 9_999 and len(ds.schema.fields) == 23
    assert sum(int(t.columns["label"].sum()) for t in (ds.train, ds.valid, ds.test)) == 1_706


def test_beauty_s3rec_next_item(shared_data):
    ds = load_dataset(str(shared_data / "beauty_s3rec" / "Beauty.txt.gz"), cache=False)
    assert ds.meta["num_users"] == 22_363 and ds.meta["num_items"] == 12_101
    assert ds.meta["interactions"] == 198_502
    assert len(ds.test) == len(ds.valid) == 22_363 and len(ds.train) == 198_502 - 3 * 22_363
