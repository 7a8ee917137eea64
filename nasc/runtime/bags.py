"""Embedding of the categorical input when it holds multi-hot fields (genres, tags).

``fields`` then carries each bag's L ids after the categorical ids (nasc.runtime.data.table.Schema);
a bag becomes one field vector, the sum or the mean of its real ids' embeddings (id 0 pads and is
masked out), so every operator after ``embed`` sees one (B, m, k) field matrix as before.
"""
from __future__ import annotations

import torch
from torch import nn

from nasc.runtime import ops

POOLINGS = ("sum", "mean")


class PooledFieldEmbedding(nn.Module):
    """(B, m_c + n_mh L) ids -> (B, m_c + n_mh, k): categorical fields looked up, bags pooled."""

    def __init__(self, vocab_sizes, dim: int, init_std: float, categorical: int, bag_len: int,
                 poolings: list[str]):
        super().__init__()
        # One table for all fields, as FieldEmbedding: retrieval and the supernet loader see
        # the same `fields.table` whether or not the data has bags.
        self.fields = ops.FieldEmbedding(vocab_sizes, dim, init_std)
        self.categorical, self.bag_len, self.bags = categorical, bag_len, len(poolings)
        self.register_buffer("mean", torch.tensor([p == "mean" for p in poolings]).view(-1, 1),
                             persistent=False)  # (n_mh, 1)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        offsets, m_c = self.fields.offsets, self.categorical
        single = self.fields.table(ids[:, :m_c] + offsets[:m_c])             # (B, m_c, k)
        bags = ids[:, m_c:].reshape(-1, self.bags, self.bag_len)            # (B, n_mh, L)
        real = (bags > 0).unsqueeze(-1)                                     # (B, n_mh, L, 1)
        vectors = self.fields.table(bags + offsets[m_c:].view(-1, 1)) * real
        total = vectors.sum(2)                                              # (B, n_mh, k)
        count = real.sum(2).clamp(min=1)                                    # an empty bag: 0
        pooled = torch.where(self.mean, total / count, total)
        return torch.cat([single, pooled], dim=1)
