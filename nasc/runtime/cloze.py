"""Cloze training of next-item models that may look both ways (``train { objective cloze }``),
as BERT4Rec trains (Sun et al., CIKM 2019, §3.6).

Each user with a training item (one before the validation target) is one row: the training items
x_1..x_n (the last ``max_len``, left-padded). Every epoch each item is replaced by the mask item
with probability ``mask_prob`` (BERT4Rec's rho), from a generator seeded with ``seed + 1``; a row
that drew no mask gets one on its last item, so every row trains. The model's output at every
position (its sequence before ``last``, through the head: nasc.runtime.per_position) scores the
whole catalogue, and the loss is the softmax cross-entropy of the original item at each masked
position, averaged over them; unmasked and padded positions count nowhere.

The mask item is the item table's last row, the out-of-vocabulary id: a leave-one-out log's
vocabulary holds every item of the log (nasc.runtime.data.sequences.item_vocabulary), so no real
item reads that row, no negative is drawn from it and full ranking leaves it out.

Evaluation ranks as the other objectives do, with the mask appended to each history (the oldest
item makes room): the output at the mask, ``last(S)``, is the user vector, as BERT4Rec predicts
the item after a sequence.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from nasc.runtime.data.sequences import training_sequences
from nasc.runtime.data.table import TensorTable
from nasc.runtime.per_position import PerPositionObjective
from nasc.runtime.retrieval import item_table


def cloze_protocol(config) -> str:
    return (f"cloze (BERT4Rec): each training item of a user's sequence replaced by the mask item "
            f"with probability {config.mask_prob} (at least one per sequence: its last item), "
            f"redrawn every epoch (seed {config.seed + 1}); softmax cross-entropy over the whole "
            "catalogue at the masked positions; evaluation appends the mask to the history")


def draw_masks(real: Tensor, prob: float, generator: torch.Generator) -> Tensor:
    """real (R, T) bool, True at real items (left-padded) -> (R, T) bool, the masked positions:
    each real position with probability ``prob``, and the last one of a row that drew none."""
    masked = (torch.rand(real.shape, generator=generator) < prob) & real
    unlucky = real.any(dim=1) & ~masked.any(dim=1)
    masked[unlucky, -1] = True  # left-padded: the last slot holds the last item
    return masked


def append_mask(sequence: Tensor, seq_mask: Tensor, mask_id: int) -> tuple[Tensor, Tensor]:
    """sequence (N, T, 1) and seq_mask (N, T), left-padded -> the same with the mask item as the
    newest position and the oldest one dropped."""
    item = torch.full_like(sequence[:, :1], mask_id)
    real = torch.ones_like(seq_mask[:, :1])
    return (torch.cat([sequence[:, 1:], item], dim=1),
            torch.cat([seq_mask[:, 1:], real], dim=1))


class ClozeObjective(PerPositionObjective):
    """What ``nasc.runtime.train.fit`` trains a next-item model on (module docstring)."""

    loss_name = "cloze_softmax"

    def __init__(self, dataset, config, device: torch.device):
        super().__init__(dataset, config, device)
        self.mask_id = self.num_items + 1  # the out-of-vocabulary row (module docstring)
        self.set_rows(*training_sequences(self.train_items, int(dataset.meta["max_len"])))
        self.mask_gen = torch.Generator().manual_seed(config.seed + 1)
        for split in ("valid", "test"):
            columns = dict(self.splits[split].columns)
            columns["sequence"], columns["seq_mask"] = append_mask(
                columns["sequence"], columns["seq_mask"], self.mask_id)
            self.splits[split] = TensorTable(columns)

    def batches(self, shuffle: torch.Generator):
        """Every row once, shuffled, with this epoch's masks: ``sequence`` holds the mask item at
        the masked positions and ``labels`` the items they hid (0 elsewhere)."""
        items = self.rows.columns["sequence"][..., 0]
        masked = draw_masks(self.rows.columns["seq_mask"].cpu(), self.config.mask_prob,
                            self.mask_gen).to(self.device)
        inputs = torch.where(masked, torch.full_like(items, self.mask_id), items)
        table = TensorTable({**self.rows.columns, "sequence": inputs[:, :, None],
                             "labels": torch.where(masked, items, torch.zeros_like(items))})
        return table.batches(self.config.batch, shuffle=True, generator=shuffle)

    def loss(self, model: nn.Module, batch: dict) -> tuple[Tensor, int]:
        """(mean cross-entropy over the batch's masked positions, their number)."""
        outputs = self.per_position(model)(batch)  # (B, T, d)
        at = batch["labels"] > 0
        catalogue = item_table(model)[1: self.num_items + 1]  # no padding, no mask row
        logits = outputs[at] @ catalogue.T  # (masked, num_items)
        return F.cross_entropy(logits, batch["labels"][at] - 1), int(at.sum())

