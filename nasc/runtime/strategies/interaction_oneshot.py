"""AMEIR Step 2 (§2.3, App. D.1): the one-shot model that ranks interaction candidates, and the
evolution of candidate sets (each cycle raises the order by one)."""
from __future__ import annotations

import math

import torch
from torch import nn

from nasc.runtime import ops

EMBED_INIT = 0.05              # step 2 embeddings ~ U(-0.05, 0.05) (AMEIR App. D.1)
BANK_INIT = 1.0
NORMALIZE_PRODUCTS = True


# --------------------------------------------------------------------- step 2: interactions
class InteractionOneShot(nn.Module):
    """AMEIR Step 2's one-shot model over C candidate interactions.

    E = emb(ids)                          (B, m, k) field embeddings
    p_c = prod_{f in c} E[:, f]           (B, k)    the Hadamard product of candidate c
    z1 = W_e flatten(E) + b + p_c W_c     (B, h1)   W_e (m k -> h1) shared, W_c (k, h1) per c
    logit = out(MLP(ReLU(z1)))            (B,)      the fixed MLP [h1, h2, ...]

    The linear projection of [E, p_c] equals W_e E + W_c p_c, so adding the sampled candidate's
    projection to the first hidden layer trains every candidate without computing the others.
    """

    def __init__(self, vocab: list[int], dim: int, widths: tuple[int, ...]):
        super().__init__()
        self.num_fields, self.dim = len(vocab), dim
        self.emb = ops.FieldEmbedding(vocab, dim)
        with torch.no_grad():
            nn.init.uniform_(self.emb.table.weight, -EMBED_INIT, EMBED_INIT)
        h1 = widths[0]
        self.first = nn.Linear(len(vocab) * dim, h1)
        rest, prev = [nn.ReLU()], h1
        for w in widths[1:]:
            rest += [nn.Linear(prev, w), nn.ReLU()]
            prev = w
        self.rest = nn.Sequential(*rest)
        self.out = nn.Linear(prev, 1)
        self.candidates: list[tuple[int, ...]] = []
        self.bank = nn.Parameter(torch.zeros(0, dim, h1))              # (C, k, h1)
        self.register_buffer("index", torch.zeros(0, 1, dtype=torch.long))  # (C, R), -1 = none

    def shared_parameters(self) -> list[nn.Parameter]:
        return [p for n, p in self.named_parameters() if n != "bank"]

    def set_candidates(self, candidates: list[tuple[int, ...]], gen: torch.Generator) -> None:
        """New candidate set; a candidate seen before keeps its projection, a new one is drawn
        like nn.Linear's weight (U(-1/sqrt(k), 1/sqrt(k)))."""
        old = {c: self.bank.data[i] for i, c in enumerate(self.candidates)}
        h1, bound = self.first.out_features, 1 / math.sqrt(self.dim)
        rows = []
        for c in candidates:
            if c in old:
                rows.append(old[c])
            else:
                rows.append((torch.rand(self.dim, h1, generator=gen) * 2 - 1).to(old_device(self))
                            * bound * BANK_INIT)
        self.bank = nn.Parameter(torch.stack(rows) if rows else torch.zeros(0, self.dim, h1))
        width = max((len(c) for c in candidates), default=1)
        index = torch.full((len(candidates), width), -1, dtype=torch.long)
        for r, c in enumerate(candidates):
            index[r, : len(c)] = torch.tensor(c)
        self.index = index.to(self.bank.device)
        self.candidates = list(candidates)

    def forward(self, ids: torch.Tensor, cand: torch.Tensor | int | None) -> torch.Tensor:
        """``cand``: the candidate of each row (B,), one candidate for all rows (int), or None."""
        e = self.emb(ids)                                        # (B, m, k)
        z = self.first(e.flatten(1))                             # (B, h1)
        if NORMALIZE_PRODUCTS:
            # each field / its RMS over the batch (B, m, k) / (1, m, 1), detached: a positive
            # scalar per field, so the products reach the first layer at unit scale
            e = e / e.detach().pow(2).mean(dim=(0, 2), keepdim=True).sqrt().clamp_min(1e-8)
        if isinstance(cand, int):
            c = self.candidates[cand]
            z = z + e[:, list(c)].prod(dim=1) @ self.bank[cand]  # (B, k) @ (k, h1)
        elif cand is not None:
            ones = e.new_ones(e.shape[0], 1, e.shape[-1])
            ext = torch.cat([e, ones], dim=1)                    # (B, m + 1, k): -1 picks ones
            rows = torch.arange(e.shape[0], device=e.device).unsqueeze(1)
            p = ext[rows, self.index[cand]].prod(dim=1)          # (B, R, k) -> (B, k)
            z = z + torch.einsum("bk,bkh->bh", p, self.bank[cand])  # (B, h1)
        return self.out(self.rest(z)).squeeze(-1)                # (B,)


def old_device(module: nn.Module) -> torch.device:
    return next(module.parameters()).device


def expand(survivors: list[tuple[int, ...]], num_fields: int, order: int) -> list[tuple[int, ...]]:
    """One SMBO cycle's candidates: the survivors of order >= 2 and every survivor times every
    field not in it (sorted field indices, duplicates merged, order <= ``order``); sorted by
    (order, fields)."""
    out = {s for s in survivors if len(s) >= 2}
    for s in survivors:
        if len(s) >= order:
            continue
        for f in range(num_fields):
            if f not in s:
                out.add(tuple(sorted(s + (f,))))
    return sorted(out, key=lambda t: (len(t), t))
