"""Multi-hot bags in the categorical input: padding ids are masked, a bag is the sum or the mean
of its real ids' embeddings, and operators that read raw ids refuse bags."""
from __future__ import annotations

import pytest
import torch

from nasc.runtime.bags import PooledFieldEmbedding
from nasc.runtime.builders import embed, input_shape, op
from nasc.runtime.data.table import FieldInfo, Schema


def schema(pooling: str) -> Schema:
    return Schema(fields=[FieldInfo("city", "categorical", 5, "city"),
                          FieldInfo("tags", "multi_hot", 6, "tags")],
                  multi_hot_len=3, pooling={"tags": pooling})


@pytest.mark.parametrize("pooling", ["sum", "mean"])
def test_bag_pools_real_ids_only(pooling):
    module = embed(schema(pooling), "categorical", dim=4, init_std=1.0)
    assert isinstance(module, PooledFieldEmbedding) and module.out_shape.fields == 2
    table, offsets = module.fields.table.weight, module.fields.offsets
    with torch.no_grad():
        table[offsets[1]] = 100.0  # a padding row that moved: masking must still ignore it
    ids = torch.tensor([[2, 1, 3, 0],    # city 2; tags {1, 3}
                        [4, 0, 0, 0]])   # city 4; no tags
    out = module(ids)
    assert out.shape == (2, 2, 4)
    assert torch.equal(out[:, 0], table[ids[:, 0]])
    bag = table[offsets[1] + 1] + table[offsets[1] + 3]
    expected = bag / 2 if pooling == "mean" else bag
    assert torch.allclose(out[0, 1], expected)
    assert torch.equal(out[1, 1], torch.zeros(4))  # an empty bag is zero, not the padding row


def test_operators_reading_raw_ids_refuse_bags():
    shape = input_shape(schema("sum"), "categorical")
    assert shape.bag_len == 3
    with pytest.raises(ValueError, match="reads raw field ids"):
        op("lr", [shape])
