"""A plain hand-written PyTorch DeepFM: the throughput reference for nasc's generated DeepFM.

Same architecture and training recipe as specs/deepfm.nas (BARS' Frappe_x1 configuration):
one embedding table with per-field offsets (k = 10), LR + FM + a 400-400-400 MLP with batch-norm,
ReLU and dropout 0.2, Adam 1e-3, batch 4096, L2 0.05 on the embedding tables (FuxiCTR's
(lambda / 2) ||E||^2), gradient clipping at 10. Nothing from nasc's runtime is used for the model
or the step, only the same tensors.
"""
from __future__ import annotations

import time

import torch
from torch import nn


class DeepFM(nn.Module):
    def __init__(self, vocab_sizes: list[int], dim: int = 10, hidden=(400, 400, 400),
                 dropout: float = 0.2):
        super().__init__()
        self.register_buffer("offsets", torch.tensor([0, *vocab_sizes[:-1]]).cumsum(0))
        total = sum(vocab_sizes)
        self.embedding = nn.Embedding(total, dim)
        self.linear = nn.Embedding(total, 1)
        nn.init.normal_(self.embedding.weight, std=1e-4)
        nn.init.normal_(self.linear.weight, std=1e-4)
        self.bias = nn.Parameter(torch.zeros(1))
        layers, width = [], len(vocab_sizes) * dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.BatchNorm1d(h), nn.ReLU(), nn.Dropout(dropout)]
            width = h
        layers.append(nn.Linear(width, 1))
        self.dnn = nn.Sequential(*layers)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        ids = ids + self.offsets
        e = self.embedding(ids)                                    # (B, m, k)
        lr = self.linear(ids).sum(dim=(1, 2))                     # (B,)
        fm = 0.5 * (e.sum(1) ** 2 - (e ** 2).sum(1)).sum(1)       # (B,)
        return self.bias + lr + fm + self.dnn(e.flatten(1)).squeeze(-1)


def train_epoch(model: DeepFM, ids: torch.Tensor, labels: torch.Tensor, optimizer,
                batch: int, emb_l2: float, generator: torch.Generator) -> float:
    """One epoch; returns the seconds it took."""
    model.train()
    loss_fn = nn.BCEWithLogitsLoss()
    start = time.perf_counter()
    order = torch.randperm(len(labels), generator=generator)
    for i in range(0, len(labels), batch):
        index = order[i:i + batch]
        loss = loss_fn(model(ids[index]), labels[index])
        reg = emb_l2 / 2 * ((model.embedding.weight ** 2).sum() + (model.linear.weight ** 2).sum())
        optimizer.zero_grad(set_to_none=True)
        (loss + reg).backward()
        nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        optimizer.step()
    return time.perf_counter() - start


@torch.no_grad()
def predict(model: DeepFM, ids: torch.Tensor) -> torch.Tensor:
    model.eval()
    return torch.cat([torch.sigmoid(model(ids[i:i + 65536])) for i in range(0, len(ids), 65536)])
