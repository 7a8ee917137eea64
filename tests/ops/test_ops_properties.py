"""Property tests over random masks and shapes (hypothesis)."""
from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nasc.runtime.ops import (BiGRU, BiInteraction, DilatedSeqConv, FMLogit, LastPool,
                              MeanPool, SeqAvgPool, SeqMaxPool)

masks = st.integers(1, 4).flatmap(lambda b: st.integers(1, 8).flatmap(
    lambda t: st.lists(st.lists(st.booleans(), min_size=t, max_size=t), min_size=b, max_size=b)))


@settings(max_examples=30, deadline=None)
@given(mask_rows=masks, kernel=st.integers(1, 5), dilation=st.integers(1, 3), seed=st.integers(0, 10**6))
def test_padding_values_never_change_real_outputs(mask_rows, kernel, dilation, seed):
    torch.manual_seed(seed)
    mask = torch.tensor(mask_rows)
    x = torch.randn(*mask.shape, 3, dtype=torch.float64)
    noisy = torch.where(mask.unsqueeze(-1), x, 1e3 * torch.randn_like(x))
    for op in (SeqAvgPool(3, kernel), SeqMaxPool(3, kernel), DilatedSeqConv(3, kernel, dilation).double(),
               BiGRU(3).double(), MeanPool(), LastPool()):
        out, out_noisy = op(x, mask), op(noisy, mask)
        torch.testing.assert_close(out_noisy, out, rtol=1e-12, atol=1e-12)
        assert torch.isfinite(out).all()
        if out.dim() == 3:
            assert (out[~mask] == 0).all()


@settings(max_examples=30, deadline=None)
@given(b=st.integers(1, 3), m=st.integers(1, 6), k=st.integers(1, 4), seed=st.integers(0, 10**6))
def test_fm_identities_hold_for_any_shape(b, m, k, seed):
    x = torch.randn(b, m, k, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    pairwise = sum((x[:, i] * x[:, j] for i in range(m) for j in range(i + 1, m)), torch.zeros(b, k, dtype=x.dtype))
    torch.testing.assert_close(BiInteraction()(x), pairwise)
    torch.testing.assert_close(FMLogit()(x), pairwise.sum(-1))
