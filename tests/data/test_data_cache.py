import pytest

from nasc.errors import DataError
from nasc.runtime.data import cache, libfm, load_dataset

TRAIN = "1 0:1 10:1\n-1 1:1 11:1\n1 0:1 11:1\n"


@pytest.fixture
def data_dir(tmp_path):
    d = tmp_path / "toy"
    d.mkdir()
    for split in ("train", "validation", "test"):
        (d / f"toy.{split}.libfm").write_text(TRAIN)
    return d


def _entries(cache_dir):
    return sorted(cache_dir.glob("*.pt"))


def test_second_load_hits_the_cache(data_dir, tmp_path, monkeypatch):
    cdir = tmp_path / "c"
    first = load_dataset(str(data_dir), cache_dir=str(cdir))
    assert len(_entries(cdir)) == 1

    def fail(*a, **k):
        raise AssertionError("parser called although the cache holds the dataset")
    monkeypatch.setattr(libfm, "parse_libfm", fail)
    second = load_dataset(str(data_dir), cache_dir=str(cdir))
    assert second.schema == first.schema and second.meta == first.meta
    for a, b in zip(first.splits().values(), second.splits().values()):
        assert all((a.columns[k] == b.columns[k]).all() for k in a.columns)
    with pytest.raises(AssertionError):  # different options -> different key -> parse again
        load_dataset(str(data_dir), cache_dir=str(cdir), min_count=2)


def test_truncated_cache_file_is_rebuilt(data_dir, tmp_path):
    cdir = tmp_path / "c"
    first = load_dataset(str(data_dir), cache_dir=str(cdir))
    (entry,) = _entries(cdir)
    entry.write_bytes(entry.read_bytes()[:100])
    assert cache.load(entry) is None
    again = load_dataset(str(data_dir), cache_dir=str(cdir))
    assert again.schema == first.schema
    assert cache.load(entry) is not None  # rewritten whole
    assert not list(cdir.glob("*.tmp"))


def test_changed_source_invalidates(data_dir, tmp_path):
    cdir = tmp_path / "c"
    load_dataset(str(data_dir), cache_dir=str(cdir))
    (data_dir / "toy.train.libfm").write_text(TRAIN + "1 0:1 12:1\n")
    ds = load_dataset(str(data_dir), cache_dir=str(cdir))
    assert len(ds.train) == 4 and len(_entries(cdir)) == 2


def test_errors_are_not_cached(data_dir, tmp_path):
    (data_dir / "toy.test.libfm").write_text("1 0:1\n")
    with pytest.raises(DataError):
        load_dataset(str(data_dir), cache_dir=str(tmp_path / "c"))
    assert not _entries(tmp_path / "c") if (tmp_path / "c").exists() else True


def test_default_cache_dir_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("NASC_CACHE", str(tmp_path / "env"))
    assert cache.cache_root() == tmp_path / "env"
    monkeypatch.delenv("NASC_CACHE")
    assert cache.cache_root().parts[-2:] == (".cache", "nasc")
