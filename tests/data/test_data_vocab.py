import numpy as np

from nasc.runtime.data.build import RawTable, build_dataset
from nasc.runtime.data.vocab import Vocabulary


def test_order_by_frequency_ties_by_value_with_padding_and_oov():
    v = Vocabulary.fit(np.array(["b", "a", "c", "c", "b", "d", "c"]))
    # c:3, b:2, then a:1 and d:1 tied -> by value
    assert v.encode(np.array(["c", "b", "a", "d"])).tolist() == [1, 2, 3, 4]
    assert v.size == 6 and v.oov == 5  # 0 pad, 4 tokens, OOV
    assert v.encode(np.array(["zzz"])).tolist() == [5]


def test_min_count_maps_rare_values_to_oov():
    v = Vocabulary.fit(np.array([7, 7, 7, 3, 3, 9]), min_count=2)
    assert v.encode(np.array([7, 3, 9, 100])).tolist() == [1, 2, 3, 3]
    assert v.size == 4


def test_fit_on_train_only_unseen_test_values_are_oov():
    x = np.array([1, 1, 2, 2, 3, 5])  # rows 0-3 train; 3 in valid, 5 in test never seen in train
    ds = build_dataset("t", RawTable(label=np.zeros(6), categorical={"a": x}),
                       (np.arange(4), np.array([4]), np.array([5])))
    info = ds.schema.fields[0]
    assert info.vocab_size == 4  # pad + {1, 2} + OOV
    assert ds.train.columns["fields"][:, 0].tolist() == [1, 1, 2, 2]
    assert ds.valid.columns["fields"].tolist() == [[3]] and ds.test.columns["fields"].tolist() == [[3]]
    assert (ds.train.columns["fields"] > 0).all()  # 0 is reserved for padding


def test_group_shares_one_vocabulary():
    from nasc.runtime.data.build import Ragged
    raw = RawTable(label=np.zeros(2), sequence={"hist": Ragged(np.array(["x", "y", "y"]), np.array([1, 2]))},
                   target={"item": np.array(["y", "z"])}, groups={"hist": "item_id", "item": "item_id"})
    ds = build_dataset("t", raw, (np.arange(2), np.arange(0), np.arange(0)))
    assert ds.schema.sequence[0].vocab_size == ds.schema.target[0].vocab_size == 5
    y = ds.train.columns["target"][0, 0]
    assert ds.train.columns["sequence"][1, -1, 0] == y  # same token, same index in both
