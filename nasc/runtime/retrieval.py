"""Next-item retrieval (``head next_item``): sampled binary cross-entropy training and
leave-one-out ranking evaluation, as AMEIR trains and scores its sequential models (eq. 7,
App. B.2 and D.2; SASRec and BERT4Rec evaluate the same way).

The model maps a user's history to a vector u in the item embedding space; an item i scores
s(u, i) = <u, e_i>, e_i its row in the table of the embedding that ``items`` names.

Training: each row of the training split is one positive (a user's next item at one of the last
``train_positions`` training positions, with the history before it), paired with ``negatives``
items drawn uniformly from those the user did not interact with in the training part (the
validation and test items stay possible negatives, so they leak nothing). Negatives are redrawn
every epoch from a generator seeded with ``seed + 1``. The loss is AMEIR's eq. 7, averaged over
positives: -log sigmoid(s(u, i)) - sum_j log(1 - sigmoid(s(u, j))).

Evaluation (leave-one-out): a user's second-to-last item is the validation target and the last
the test target. Each is ranked against ``eval_negatives`` items sampled uniformly from the items
the user never interacted with (drawn once, from a generator seeded with ``seed``: the same
negatives every epoch and every run of a seed), or with ``eval_negatives="full"`` against every
item of the catalogue the user never interacted with. Ties count against the positive.
Metrics: HR@k for k in 1, 5, 10, 20 and NDCG@k for k in 5, 10, 20 (metrics.NEXT_ITEM_METRICS);
the monitor is validation NDCG@5 unless the train block names another (``monitor ndcg10``).

``objective seq2seq`` trains differently (``nasc.runtime.seq2seq``) and evaluates the same way;
``objective cloze`` (``nasc.runtime.cloze``) also appends a mask item to each evaluated history.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from nasc.compiler.settings import NEXT_ITEM_MONITORS
from nasc.runtime.data.sequences import sample_negatives
from nasc.runtime.data.table import TensorTable
from nasc.runtime.metrics import next_item_metrics, rank_of_positive

MONITOR = "NDCG@5"


def metric_name(monitor: str) -> str:
    """A train block's next-item `monitor` as the metric it names: `ndcg10` -> "NDCG@10"."""
    letters = monitor.rstrip("0123456789")
    return f"{letters.upper()}@{monitor[len(letters):]}"


MONITOR_NAMES = {name: metric_name(name) for name in NEXT_ITEM_MONITORS}

TIES = ("pessimistic: the rank is the number of candidates scoring >= the held-out item, so a "
        "negative tied with it ranks above it")


def evaluation_protocol(eval_negatives: int | str, seed: int, num_items: int,
                        sampling: str = "uniform") -> dict[str, str]:
    """What a run's HR@k and NDCG@k mean, exactly: written into its config and summary."""
    excluded = ("every item the user interacted with in any split (training items, the "
                "validation item and the test item), and the padding and out-of-vocabulary rows")
    if eval_negatives == "full":
        candidates = (f"the held-out item and every other item of the catalogue ({num_items} "
                      "items) the user never interacted with")
        sampled = "nothing (full ranking)"
    else:
        candidates = f"the held-out item and {eval_negatives} sampled negatives"
        how = "uniformly" if sampling == "uniform" else \
            "in proportion to each item's number of interactions in the log (popularity)"
        sampled = (f"{eval_negatives} negatives per user and split, each drawn {how} from the "
                   f"{num_items} catalogue items minus those excluded, independently (with "
                   f"replacement: a row may repeat one), once per run from a generator seeded "
                   f"with {seed}: the same for every epoch and every run of that seed")
    return {"split": "leave-one-out: validation target = each user's second-to-last item, test "
                     "target = the last, each with the history before it",
            "candidates": candidates, "sampled": sampled, "excluded": excluded, "ties": TIES,
            "metrics": "HR@k = share of targets with rank < k; NDCG@k = mean of "
                       "1 / log2(rank + 2) over targets with rank < k (0 otherwise); rank 0-based"}


def eval_protocol(eval_negatives: int | str, seed: int, num_items: int,
                  sampling: str = "uniform") -> str:
    """The evaluation protocol in one line, for run directories and reports."""
    if eval_negatives == "full":
        return ("leave-one-out, 1 positive vs all items the user has not interacted with "
                f"(full ranking over {num_items} items), ties pessimistic")
    drawn = "sampled" if sampling == "uniform" else "popularity-sampled"
    return (f"leave-one-out, 1 positive vs {eval_negatives} {drawn} unseen negatives, seed {seed}, "
            "ties pessimistic")


def train_protocol(config) -> str:
    """The training objective of a TrainConfig in one line, for run directories and reports."""
    if config.objective == "seq2seq":
        from nasc.runtime.seq2seq import seq2seq_protocol

        return seq2seq_protocol(config.seed)
    if config.objective == "cloze":
        from nasc.runtime.cloze import cloze_protocol

        return cloze_protocol(config)
    positions = "every training position" if config.train_positions == "all" else \
        f"the last {config.train_positions} training positions"
    return (f"sampled BCE (AMEIR eq. 7): positives = the next items at {positions} of each user, "
            f"{config.negatives} uniformly sampled unseen negative(s) per positive, redrawn every "
            f"epoch (seed {config.seed + 1})")


def popularity(user_items: list[np.ndarray], num_items: int) -> Tensor:
    """(num_items,) each item's number of interactions in the whole log (BERT4Rec's popularity
    for sampling its evaluation negatives)."""
    flat = np.concatenate(user_items) if user_items else np.zeros(0, dtype=np.int64)
    return torch.from_numpy(np.bincount(flat, minlength=num_items + 1)[1: num_items + 1])


def item_table(model: nn.Module) -> Tensor:
    """(V, d): the embedding of every local item id (row 0 padding, V-1 out of vocabulary),
    from the table of the sequence embedding named by the head's ``items``."""
    name = getattr(model, "items", None) or getattr(model, "ITEMS", None)
    if not name:
        raise ValueError("the model has no next-item head (no `items` table)")
    fields = model.get_submodule(name).fields  # ops.FieldEmbedding; field 0 is the item id
    weight = fields.table.weight
    return weight[: int(fields.offsets[1])] if fields.num_fields > 1 else weight


def item_scores(user: Tensor, table: Tensor, items: Tensor) -> Tensor:
    """user (B, d), table (V, d), items Long (B, C) -> (B, C) scores <user_b, e_items[b, c]>."""
    return torch.bmm(table[items], user.unsqueeze(-1)).squeeze(-1)


def sampled_bce(pos: Tensor, neg: Tensor) -> Tensor:
    """AMEIR eq. 7 on logits pos (B,) and neg (B, n): the mean over the B positives of
    BCE(sigmoid(pos), 1) + sum_j BCE(sigmoid(neg_j), 0)."""
    pos_loss = F.binary_cross_entropy_with_logits(pos, torch.ones_like(pos), reduction="none")
    neg_loss = F.binary_cross_entropy_with_logits(neg, torch.zeros_like(neg), reduction="none")
    return (pos_loss + neg_loss.sum(dim=1)).mean()


def _padded(rows: list[np.ndarray]) -> Tensor:
    """Ragged item lists -> Long (R, max length), padded with 0 (the padding item)."""
    out = torch.zeros((len(rows), max((len(r) for r in rows), default=0)), dtype=torch.long)
    for i, r in enumerate(rows):
        out[i, : len(r)] = torch.from_numpy(r)
    return out


class NextItemObjective:
    """What ``nasc.runtime.train.fit`` trains a next-item model on (see the module docstring)."""

    loss_name = "sampled_bce"

    def __init__(self, dataset, config, device: torch.device):
        self.config, self.device = config, device
        self.monitor = MONITOR_NAMES.get(config.monitor, MONITOR)
        self.num_items = int(dataset.meta["num_items"])
        user_items = [np.asarray(s, dtype=np.int64) for s in dataset.meta["user_items"]]
        self.train_items = [s[:-2] for s in user_items]  # what a user did before the valid target
        self.splits = {"train": dataset.train.to(device), "valid": dataset.valid.to(device),
                       "test": dataset.test.to(device)}
        self.train_users = dataset.train.columns["user"].cpu()
        self.negative_gen = torch.Generator().manual_seed(config.seed + 1)
        self.full = config.eval_negatives == "full"
        if self.full:
            self.seen = _padded(user_items).to(device)  # (U, L): masked out of the ranking
            self.candidates = {}
        else:
            gen = torch.Generator().manual_seed(config.seed)
            weights = popularity(user_items, self.num_items) \
                if config.eval_sampling == "popularity" else None
            self.candidates = {
                split: sample_negatives(user_items, int(config.eval_negatives), self.num_items,
                                        gen, users=self.splits[split].columns["user"].cpu(),
                                        weights=weights)
                .to(device) for split in ("valid", "test")}

    def add_subset(self, name: str, split: str, rows: Tensor) -> None:
        """A split made of some rows of another, with the same ranking candidates (the
        validation subset a one-shot search ranks its children on)."""
        self.splits[name] = self.splits[split].subset(rows)
        if not self.full:
            self.candidates[name] = self.candidates[split][rows]

    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.splits["train"]) / self.config.batch)

    def forward_rows(self) -> int:
        """Users per forward when ranking. On a CPU a sequence model's activations for a few
        hundred users stay in cache: on Beauty (length 50, width 64) 128-512 rows scored the
        2,000-user ranking subset 1.8x faster than one batch of 2,000. An accelerator wants
        large batches."""
        return 256 if self.device.type == "cpu" else 4096

    def batches(self, shuffle: torch.Generator):
        negatives = sample_negatives(self.train_items, self.config.negatives, self.num_items,
                                     self.negative_gen, users=self.train_users)
        table = TensorTable({**self.splits["train"].columns,
                             "negatives": negatives.to(self.device)})
        return table.batches(self.config.batch, shuffle=True, generator=shuffle)

    def loss(self, model: nn.Module, batch: dict) -> tuple[Tensor, int]:
        items = torch.cat([batch["target"][:, :1], batch["negatives"]], dim=1)
        scores = item_scores(model(batch), item_table(model), items)
        return sampled_bce(scores[:, 0], scores[:, 1:]), len(items)

    @torch.no_grad()
    def ranks(self, model: nn.Module, split: str) -> Tensor:
        """0-based rank of each row's target among its candidates (ties pessimistic)."""
        table, negatives = self.splits[split], self.candidates.get(split)
        was_training = model.training
        model.eval()
        items = item_table(model)
        width = items.shape[0] if self.full else negatives.shape[1] + 1
        size = max(1, min(self.forward_rows(), 2 ** 22 // width))
        out = []
        try:
            for start, batch in zip(range(0, len(table), size), table.batches(size)):
                user, target = model(batch), batch["target"][:, :1]
                if self.full:
                    scores = user @ items.T  # (B, V)
                    pos = scores.gather(1, target).squeeze(1)
                    scores = scores.scatter(1, self.seen[batch["user"]], float("-inf"))
                    scores[:, 0] = scores[:, -1] = float("-inf")  # padding and OOV rows
                else:
                    scores = item_scores(user, items, torch.cat(
                        [target, negatives[start:start + size]], dim=1))
                    pos, scores = scores[:, 0], scores[:, 1:]
                out.append(rank_of_positive(pos, scores))
        finally:
            model.train(was_training)
        return torch.cat(out).cpu() if out else torch.zeros(0, dtype=torch.long)

    def evaluate(self, model: nn.Module, split: str) -> dict[str, float]:
        return next_item_metrics(self.ranks(model, split))


def next_item_objective(dataset, config, device: torch.device):
    """The objective the train block's `objective` names (seq2seq: nasc.runtime.seq2seq; cloze:
    nasc.runtime.cloze)."""
    if config.objective == "seq2seq":
        from nasc.runtime.seq2seq import Seq2SeqObjective

        return Seq2SeqObjective(dataset, config, device)
    if config.objective == "cloze":
        from nasc.runtime.cloze import ClozeObjective

        return ClozeObjective(dataset, config, device)
    return NextItemObjective(dataset, config, device)
