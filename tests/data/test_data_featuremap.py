"""The feature map a loader records reads its own file back into the ids training made, for every
format that has one; a feature map file is validated data, never code."""
from __future__ import annotations

import json

import numpy as np
import pytest

from nasc.errors import DataError
from nasc.runtime.data import load_dataset
from nasc.runtime.data.featuremap import parse_feature_map, read_feature_map
from nasc.runtime.data.rawrows import read_rows


def _criteo(tmp_path):
    rows = []
    for i in range(60):
        ints = [str(i % 5), "" if i % 4 else "7", "-1", str(10 ** (i % 4))] + ["1"] * 9
        cats = [f"{i % 3:08x}", ""] + ["abcd"] * 24
        rows.append("\t".join([str(i % 2)] + ints + cats))
    path = tmp_path / "criteo.txt"
    path.write_text("\n".join(rows) + "\n")
    return path


def _libfm(tmp_path):
    path = tmp_path / "toy.libfm"
    path.write_text("".join(f"{i % 2} {i % 7}:1 {10 + i % 3}:1 {20 + i % 11}:1\n" for i in range(80)))
    return path


def _avazu(tmp_path):
    head = "id,click,hour,C1,site_id\n"
    rows = "".join(f"{i},{i % 2},141021{i % 24:02d},{i % 5},s{i % 9}\n" for i in range(70))
    path = tmp_path / "avazu.csv"
    path.write_text(head + rows)
    return path


def _tabular(tmp_path):
    rows = "".join(f"c{i % 6},{'' if i % 9 == 0 else i * 0.37},{'|'.join('t' + str(k) for k in range(i % 3))},{i % 2}\n"
                   for i in range(90))
    path = tmp_path / "t.csv"
    path.write_text("city,price,tags,y\n" + rows)
    schema = {"label": "y", "fields": [{"name": "city", "min_count": 20},
                                       {"name": "price", "kind": "numeric", "buckets": 5},
                                       {"name": "tags", "kind": "multi_hot"}]}
    return path, {"schema": schema}


@pytest.mark.parametrize("make", [_criteo, _libfm, _avazu, _tabular])
def test_feature_map_reads_the_training_file_back_to_the_same_ids(tmp_path, make):
    made = make(tmp_path)
    path, options = made if isinstance(made, tuple) else (made, {})
    dataset = load_dataset(str(path), cache=False, **options)
    features = parse_feature_map(json.loads(json.dumps(dataset.features)), "features.json")
    columns = read_rows(features, path).columns
    from nasc.runtime.data.splits import random_split
    for split, index in zip(("train", "valid", "test"), random_split(len(columns["fields"]), 2021)):
        table = dataset.splits()[split]
        for key, value in columns.items():
            assert np.array_equal(value[index].numpy(), table.columns[key].numpy()), (split, key)


def test_a_feature_map_file_is_validated(tmp_path):
    path = _libfm(tmp_path)
    good = load_dataset(str(path), cache=False).features
    hostile = json.loads(json.dumps(good))
    hostile["fields"][0]["transform"] = "__import__('os').system('true')"
    mixed = json.loads(json.dumps(good))
    mixed["vocabularies"]["f0"]["tokens"].append("a string")
    extra = {**good, "code": "print(1)"}
    for data in (hostile, mixed, extra, [1, 2]):
        file = tmp_path / "features.json"
        file.write_text(json.dumps(data))
        with pytest.raises(DataError, match=f"^{file}: error: not a nasc feature map"):
            read_feature_map(file)


def test_the_cache_keeps_the_feature_map(tmp_path):
    path = _libfm(tmp_path)
    built = load_dataset(str(path), cache_dir=str(tmp_path / "cache"))
    cached = load_dataset(str(path), cache_dir=str(tmp_path / "cache"))
    assert built.features is not None and cached.features == built.features
