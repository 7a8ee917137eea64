"""Sequence -> vector pooling against loops over the real positions."""
from __future__ import annotations

import pytest
import torch

from nasc.runtime.ops import LastPool, MeanPool, SumPool, TargetAttentionLayer, TargetAttentionPool
from kit.opskit import mixed_mask, rand


def test_sum_mean_and_last_match_loops():
    x, mask = rand(5, 7, 3), mixed_mask(5, 7)
    sums, means, lasts = SumPool()(x, mask), MeanPool()(x, mask), LastPool()(x, mask)
    for b in range(5):
        real = [t for t in range(7) if mask[b, t]]
        for c in range(3):
            values = [x[b, t, c].item() for t in real]
            assert sums[b, c].item() == pytest.approx(sum(values), abs=1e-12)
            assert means[b, c].item() == pytest.approx(sum(values) / len(values) if values else 0.0, abs=1e-12)
            assert lasts[b, c].item() == (values[-1] if values else 0.0)


def test_target_attention_pool_is_the_sum_of_the_weighted_positions():
    torch.manual_seed(0)
    pool = TargetAttentionPool(3).double().eval()
    layer = TargetAttentionLayer(3).double().eval()
    layer.unit.load_state_dict(pool.unit.state_dict())
    x, mask, target = rand(5, 7, 3), mixed_mask(5, 7), rand(5, 3, seed=1)
    torch.testing.assert_close(pool(x, mask, target), layer(x, mask, target).sum(1))
    # and the weights really come from the target: another target gives another result
    assert not torch.allclose(pool(x, mask, target), pool(x, mask, target + 1.0))
