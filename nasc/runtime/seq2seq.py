"""Sequence-to-sequence training of causal next-item models (``train { objective seq2seq }``),
as SASRec trains (Kang & McAuley 2018, §III-E; S3-Rec's fine-tuning does the same).

Each user with two or more training items (those before the validation target) is one row: the
inputs x_1..x_{n-1} and, at every position t, the next item x_{t+1} as the positive, the last
``max_len`` positions of both, left-padded. The model's causal output at t (its sequence before
``last``, through the head: ``nasc.runtime.per_position``) scores the positive and one negative
drawn uniformly from the items the user never interacted with in training, redrawn every epoch
from a generator seeded with ``seed + 1``. The loss is the sampled BCE summed over the real
positions of a batch and divided by their number; padded positions count nowhere.

Evaluation is the last-state objective's (leave-one-out ranking with head(last(h))), so the two
objectives' numbers compare directly.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from nasc.runtime.data.sequences import sample_negatives, shifted_sequences
from nasc.runtime.data.table import TensorTable
from nasc.runtime.per_position import PerPositionObjective
from nasc.runtime.retrieval import item_table


def seq2seq_protocol(seed: int) -> str:
    return ("seq2seq sampled BCE (SASRec): at every real position t of each user's training "
            "sequence the causal output scores the item at t+1 against 1 negative drawn uniformly "
            "from the items the user never interacted with in training, redrawn every epoch "
            f"(seed {seed + 1}); padding masked; loss averaged over real positions")


def masked_sampled_bce(pos: Tensor, neg: Tensor, mask: Tensor) -> Tensor:
    """pos, neg (B, T) logits, mask (B, T): the mean over real positions of
    BCE(sigmoid(pos), 1) + BCE(sigmoid(neg), 0)."""
    loss = (F.binary_cross_entropy_with_logits(pos, torch.ones_like(pos), reduction="none")
            + F.binary_cross_entropy_with_logits(neg, torch.zeros_like(neg), reduction="none"))
    weight = mask.to(loss.dtype)
    return (loss * weight).sum() / weight.sum().clamp(min=1.0)


class Seq2SeqObjective(PerPositionObjective):
    """What ``nasc.runtime.train.fit`` trains a causal next-item model on (module docstring)."""

    loss_name = "seq2seq_bce"

    def __init__(self, dataset, config, device: torch.device):
        super().__init__(dataset, config, device)
        users, inputs, next_items, mask = shifted_sequences(self.train_items,
                                                            int(dataset.meta["max_len"]))
        self.set_rows(users, inputs, mask, next_items=next_items)

    def batches(self, shuffle: torch.Generator):
        """Every row once, shuffled; one fresh negative per position (padding's are ignored)."""
        width = self.rows.columns["next_items"].shape[1]
        negatives = sample_negatives(self.train_items, width, self.num_items, self.negative_gen,
                                     users=self.rows.columns["user"].cpu())
        table = TensorTable({**self.rows.columns, "negatives": negatives.to(self.device)})
        return table.batches(self.config.batch, shuffle=True, generator=shuffle)

    def loss(self, model: nn.Module, batch: dict) -> tuple[Tensor, int]:
        """(mean loss over the batch's real positions, their number)."""
        outputs = self.per_position(model)(batch)  # (B, T, d)
        table = item_table(model)
        pos = (outputs * table[batch["next_items"]]).sum(-1)
        neg = (outputs * table[batch["negatives"]]).sum(-1)
        mask = batch["seq_mask"]
        return masked_sampled_bce(pos, neg, mask), int(mask.sum())
