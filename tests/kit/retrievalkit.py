"""Helpers of the next-item retrieval tests: tiny behaviour logs and a hand-checkable model."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from nasc.runtime import factory

REPO = Path(__file__).resolve().parents[2]

# A next-item model whose per-position output is the item's own embedding once its head is set
# to I: losses of the per-position objectives by hand (add a train block naming one).
IDENTITY_MODEL = """\
model identity_rec {
  input history: sequence(max_len=4)
  seq = embed(history, dim=2)
  h = identity(seq)
  user = last(h)
  head next_item(user) {
    items seq
  }
}
"""

# A small causal next-item model with the default (last-state) objective.
TINY_REC = """\
model tiny_rec {
  input history: sequence(max_len=8)
  seq = embed(history, dim=16, positions=true)
  h = transformer(seq, heads=1)
  user = last(h)
  head next_item(user) {
    items seq
  }
}

train {
  optimizer adam(lr=0.01)
  batch 64
  epochs 6
  patience 6
}
"""

# The same with two blocks, trained sequence-to-sequence as SASRec trains, ranked against 99
# negatives and monitored by NDCG@10.
SASREC_LIKE = (TINY_REC.replace("model tiny_rec", "model tiny_sasrec")
               .replace("transformer(seq, heads=1)",
                        "transformer(transformer(seq, heads=1), heads=1)")
               .replace("  patience 6\n", "  patience 6\n  objective seq2seq\n  eval_negatives 99\n"
                        "  monitor ndcg10\n"))


def successor_log(path: Path, users: int = 300, items: int = 120, seed: int = 0,
                  lengths: tuple[int, int] = (6, 10)) -> Path:
    """A behaviour log whose next item is a fixed function of the last one: item i is always
    followed by succ(i), a random permutation of the catalogue; users start anywhere."""
    rng = np.random.default_rng(seed)
    succ = rng.permutation(items) + 1  # succ[i - 1] follows item i
    lines = []
    for u in range(1, users + 1):
        seq = [int(rng.integers(1, items + 1))]
        for _ in range(int(rng.integers(*lengths)) - 1):
            seq.append(int(succ[seq[-1] - 1]))
        lines.append(" ".join(map(str, [u, *seq])))
    path.write_text("\n".join(lines) + "\n")
    return path


class ToyModel(nn.Module):
    """A next-item model whose user vector is a fixed row per user, so scores are known by hand.

    ``items`` names the submodule ``seq`` whose ``fields`` table holds the item embeddings, as in
    a model built from a spec."""

    items = "seq"

    def __init__(self, vocab: int, dim: int, user_vectors: torch.Tensor):
        super().__init__()
        self.seq = factory.SequenceEmbedding([vocab], dim, init_std=1.0)
        self.users = nn.Parameter(user_vectors.clone())

    def forward(self, batch):
        return self.users[batch["user"]]
