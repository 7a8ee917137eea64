"""User behaviour logs (SASRec / S3-Rec style) -> next-item and DIN-style CTR datasets.

Input: ``user item item …`` per line, items in time order (S3-Rec/ICLRec Beauty 5-core), or
``user item`` per line (BERT4Rec style; a user's lines in time order). Ids are integers >= 0;
a bad id, and a user on two lines of a ``user item item …`` log, are refused at their line.

Split: leave-one-out -- a user's last item is the test target, the second last the valid
target, and earlier positions are training targets. Histories keep the last ``max_len``
items, left-padded (most recent at position T-1).

Items form one vocabulary "item_id" over the whole catalogue (every item in the log), not just
the training part: ranking must be able to score every candidate, and the ids carry no label.
Its order is still training frequency (ties by id); items seen only in valid/test come last.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import Tensor

from ...errors import data_error
from ..memory import require
from .ids import as_ids, id_problem
from .table import Dataset, FieldInfo, Schema, TensorTable
from .textio import dataset_name, read_lines
from .vocab import Vocabulary

NEXT_ITEM_PROTOCOL = ("leave-one-out (last item test, second last valid); rank the positive among "
                      "100 sampled items the user never interacted with (sample_negatives(n=100)), "
                      "or among all items with the user's items masked (n=None)")


# ---------------------------------------------------------------- parsing
LINE_FORMS = "each line is 'user item item …' (or 'user item') with ids 0, 1, 2, …"


def parse_log(path: str | Path) -> tuple[np.ndarray, list[np.ndarray]]:
    """-> user ids (U,) and each user's raw item ids in time order.

    Bad rows are refused at their line: a token that is not an id, a negative id or one beyond
    int64, a line with a user but no item, and -- in a 'user item item …' log -- a user on two
    lines (which of them comes first in time is unknowable). Only a log of 'user item' pairs
    spreads a user over lines, which are then joined in file order.
    """
    lines = read_lines(path)
    rows = _id_rows(path, lines)
    if not rows:
        raise data_error(str(path), 1, "the file has no data rows", LINE_FORMS)
    for lineno, r in rows:
        if len(r) < 2:
            raise data_error(str(path), lineno, "a line needs a user id and at least one item",
                             LINE_FORMS, lines[lineno - 1])
    if all(len(r) == 2 for _, r in rows) and len({int(r[0]) for _, r in rows}) < len(rows):
        by_user: dict[int, list[int]] = {}  # 'user item' lines: group, keeping file order
        for _, (u, it) in rows:
            by_user.setdefault(int(u), []).append(int(it))
        seqs = [np.array(v, dtype=np.int64) for v in by_user.values()]
        return np.array(list(by_user), dtype=np.int64), seqs
    _refuse_repeated_users(path, lines, rows)
    return np.array([r[0] for _, r in rows], dtype=np.int64), [r[1:] for _, r in rows]


def _id_rows(path, lines: list[str]) -> list[tuple[int, np.ndarray]]:
    """(line number, int64 ids) of each non-blank line; a bad id -> DataError at its line."""
    try:
        return [(lineno, as_ids([int(t) for t in line.split()]))
                for lineno, line in enumerate(lines, start=1) if line.strip()]
    except ValueError:
        pass
    for lineno, line in enumerate(lines, start=1):  # slow path: find the first bad token
        for tok in line.split():
            problem = id_problem(tok)
            if problem:
                raise data_error(str(path), lineno, f"{tok!r} {problem}", LINE_FORMS, line)
    raise AssertionError("fast sequence-log parse failed but no bad token was found")


def _refuse_repeated_users(path, lines: list[str], rows: list[tuple[int, np.ndarray]]) -> None:
    first_line: dict[int, int] = {}
    for lineno, r in rows:
        user = int(r[0])
        if user in first_line:
            where = f"line {first_line[user]} and again on line {lineno}"
            raise data_error(str(path), lineno, f"user {user} is on {where}",
                             "a 'user item item …' log has one line per user, items in time "
                             "order: merge the two lines", lines[lineno - 1])
        first_line[user] = lineno


def item_vocabulary(seqs: list[np.ndarray]) -> Vocabulary:
    """Catalogue vocabulary: train-part frequency order, then items seen only in valid/test."""
    train_part = np.concatenate([s[:-2] for s in seqs])
    fitted = Vocabulary.fit(train_part)
    rest = np.setdiff1d(np.concatenate(seqs), fitted.keys)
    return Vocabulary.from_ordered(np.concatenate([fitted.tokens_in_order(), rest]))


# ---------------------------------------------------------------- example assembly
def _histories(flat: np.ndarray, starts: np.ndarray, ends: np.ndarray, max_len: int):
    """Items flat[starts[i]:ends[i]], last max_len, left-padded -> (N, T) ids and (N, T) mask."""
    idx = ends[:, None] - max_len + np.arange(max_len)[None, :]  # (N, T)
    mask = idx >= starts[:, None]
    return np.where(mask, flat[idx.clip(min=0)], 0), mask


def shifted_sequences(train_items: Sequence[np.ndarray], max_len: int):
    """SASRec's training rows: per user with two or more training items, the inputs x_1..x_{n-1}
    and, aligned with them, the next items x_2..x_n (the last ``max_len`` of each, left-padded).

    -> users (R,) kept, inputs (R, T), next_items (R, T) and mask (R, T), True where both are real
    (the two windows have the same length, so they are real at the same positions)."""
    users, flat, starts, kept = _concatenated(train_items, minimum=2)
    inputs, mask = _histories(flat, starts, starts + kept - 1, max_len)
    next_items, _ = _histories(flat, starts + 1, starts + kept, max_len)
    return users, inputs, next_items, mask


def training_sequences(train_items: Sequence[np.ndarray], max_len: int):
    """BERT4Rec's training rows: per user with a training item, the items x_1..x_n (the last
    ``max_len``, left-padded) -> users (R,) kept, items (R, T) and mask (R, T), True at items."""
    users, flat, starts, kept = _concatenated(train_items, minimum=1)
    items, mask = _histories(flat, starts, starts + kept, max_len)
    return users, items, mask


def _concatenated(train_items: Sequence[np.ndarray], minimum: int):
    """The users with at least ``minimum`` items, their items end to end, where each user's
    start and how many: users (R,), flat, starts (R,), lengths (R,)."""
    lengths = np.array([len(s) for s in train_items], dtype=np.int64)
    users = np.flatnonzero(lengths >= minimum)
    flat = np.concatenate([np.asarray(train_items[u], dtype=np.int64) for u in users]) \
        if len(users) else np.zeros(0, dtype=np.int64)
    kept = lengths[users]
    return users, flat, np.cumsum(kept) - kept, kept


def _require_room(splits, max_len: int, copies: int = 1) -> None:
    """Refuse histories that cannot fit before building them (sizing.TooLarge, located at the
    spec's sequence input by the caller): each of the R x max_len cells keeps an int64 id and a
    mask byte (``copies`` times), and building one split briefly takes three int64 temporaries."""
    rows = [len(u) for u, _ in splits]
    cells = sum(rows) * max_len
    peak = cells * copies * 9 + max(rows) * max_len * 24
    require(peak, f"building histories of max_len={max_len} for {sum(rows) * copies:,} rows")


def _positions(lengths: np.ndarray, train_positions: int | None):
    """Example (user, target position) pairs for train, valid and test."""
    users = np.arange(len(lengths))
    valid = (users, lengths - 2)
    test = (users, lengths - 1)
    # Train targets: positions 1..L-3 (a target needs at least one earlier item).
    n_train = np.maximum(lengths - 3, 0)
    if train_positions is not None:
        n_train = np.minimum(n_train, train_positions)
    tu = np.repeat(users, n_train)
    # k-th train target of a user counts back from position L-3.
    back = np.arange(n_train.sum()) - np.repeat(np.cumsum(n_train) - n_train, n_train)
    tp = lengths[tu] - 3 - (n_train[tu] - 1 - back)
    return (tu, tp), valid, test


def _encoded_log(path, min_items: int = 3):
    users, seqs = parse_log(path)
    keep = [i for i, s in enumerate(seqs) if len(s) >= min_items]  # leave-one-out needs 3 items
    if not keep:
        raise data_error(str(path), 1, f"no user of the {len(seqs)} has {min_items} or more items",
                         "leave-one-out needs a test item, a validation item and an earlier "
                         "item per user; users with fewer are skipped")
    skipped = len(seqs) - len(keep)
    users, seqs = users[keep], [seqs[i] for i in keep]
    vocab = item_vocabulary(seqs)
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    flat = vocab.encode(np.concatenate(seqs))
    starts = np.cumsum(lengths) - lengths
    return users, vocab, flat, lengths, starts, skipped


def load_next_item(path: str | Path, *, max_len: int = 50, train_positions: int | None = None,
                   seed: int = 2021) -> Dataset:
    """Next-item prediction, one example per (user, target position); label is always 1.

    Columns: fields (N, 0), sequence (N, T, 1) item ids, seq_mask (N, T), target (N, 1) the next
    item, user (N,) row of ``meta["user_items"]`` (all of that user's items, for negatives).
    ``train_positions`` keeps only each user's last k training targets (None = all).
    """
    users, vocab, flat, lengths, starts, skipped = _encoded_log(path)
    splits = _positions(lengths, train_positions)
    _require_room(splits, max_len)
    tables = []
    for u, p in splits:
        seq, mask = _histories(flat, starts[u], starts[u] + p, max_len)
        tables.append(TensorTable({
            "fields": torch.zeros((len(u), 0), dtype=torch.long),
            "sequence": torch.from_numpy(seq[:, :, None]),
            "seq_mask": torch.from_numpy(mask),
            "target": torch.from_numpy(flat[starts[u] + p][:, None]),
            "user": torch.from_numpy(u.astype(np.int64)),
            "label": torch.ones(len(u)),
        }))
    schema = Schema(fields=[], sequence=[FieldInfo("item", "sequence", vocab.size, "item_id")],
                    target=[FieldInfo("target_item", "target", vocab.size, "item_id")],
                    max_len=max_len, task="next_item")
    meta = _meta(path, users, vocab, flat, lengths, starts, skipped, seed, tables)
    meta.update(protocol=NEXT_ITEM_PROTOCOL, max_len=max_len, train_positions=train_positions)
    return Dataset(dataset_name("seq", path), schema, *tables, meta=meta)


def load_din_ctr(path: str | Path, *, train_positions: int = 5, max_len: int = 50,
                 seed: int = 2021) -> Dataset:
    """DIN-style CTR rows from a behaviour log.

    For each user: targets at the last ``train_positions`` training positions (train), the second
    last item (valid) and the last item (test). Each target position gives two rows with the
    history before it: the true next item (label 1) and one uniformly sampled item the user never
    interacted with (label 0). Fields: user (categorical); sequence: item; target: item.
    """
    users, vocab, flat, lengths, starts, skipped = _encoded_log(path)
    user_items = [flat[s:s + n] for s, n in zip(starts, lengths)]
    gen = torch.Generator().manual_seed(int(seed))
    user_vocab = Vocabulary.fit(users)  # every kept user has training rows
    splits = _positions(lengths, train_positions)
    _require_room(splits, max_len, copies=2)  # a positive and a negative row per target
    tables = []
    for u, p in splits:
        seq, mask = _histories(flat, starts[u], starts[u] + p, max_len)
        neg = sample_negatives(user_items, 1, vocab.size - 2, gen, users=torch.from_numpy(u))
        neg = neg[:, 0].numpy()  # (n_rows,)
        both = lambda a: np.concatenate([a, a])  # noqa: E731  (positives, then negatives)
        tables.append(TensorTable({
            "fields": torch.from_numpy(both(user_vocab.encode(users[u]))[:, None]),
            "sequence": torch.from_numpy(both(seq)[:, :, None]),
            "seq_mask": torch.from_numpy(both(mask)),
            "target": torch.from_numpy(np.concatenate([flat[starts[u] + p], neg])[:, None]),
            "user": torch.from_numpy(both(u.astype(np.int64))),
            "label": torch.cat([torch.ones(len(u)), torch.zeros(len(u))]),
        }))
    schema = Schema(fields=[FieldInfo("user", "categorical", user_vocab.size, "user")],
                    sequence=[FieldInfo("item", "sequence", vocab.size, "item_id")],
                    target=[FieldInfo("target_item", "target", vocab.size, "item_id")],
                    max_len=max_len, task="ctr")
    meta = _meta(path, users, vocab, flat, lengths, starts, skipped, seed, tables)
    meta.update(protocol="DIN-style CTR from a log: positive = next item, "
                         "negative = 1 sampled unseen item",
                max_len=max_len, train_positions=train_positions)
    return Dataset(dataset_name("seqctr", path), schema, *tables, meta=meta)


def _meta(path, users, vocab, flat, lengths, starts, skipped, seed, tables) -> dict:
    return {
        "source": [str(path)], "format": "sequence_log", "split": "leave_one_out", "seed": seed,
        "num_users": len(users), "num_items": vocab.size - 2, "interactions": int(lengths.sum()),
        "skipped_users": skipped,
        "user_ids": users.tolist(),                      # raw id of each user row
        "item_ids": vocab.tokens_in_order().tolist(),    # raw id of local item index i + 1
        "user_items": [flat[s:s + n].tolist() for s, n in zip(starts, lengths)],
        "rows": {s: len(t) for s, t in zip(("train", "valid", "test"), tables)},
    }


# ---------------------------------------------------------------- evaluation negatives
def sample_negatives(user_items: Sequence[Sequence[int] | Tensor | np.ndarray], n: int | None,
                     num_items: int, generator: torch.Generator | None = None,
                     users: Tensor | None = None, weights: Tensor | None = None) -> Tensor:
    """Negatives for ranking evaluation (item ids are local indices 1..num_items).

    Protocol (SASRec/BERT4Rec, ANCHORS.md §6): for each row, ``n`` items drawn uniformly from the
    items the user never interacted with (``user_items`` holds all of them, the positive
    included), or, with ``weights`` (num_items,), in proportion to them among those items
    (BERT4Rec: popularity); draws are independent, so an item may repeat within a row, as in
    SASRec's code.
    ``n=None`` means full ranking (ICLRec): every item, with the user's own items replaced by
    0 (padding) -- give those -inf scores; that matrix is (R, num_items), so pass ``users`` in
    chunks. Rows are users, or ``users[i]`` when ``users`` is given.

    Returns Long (R, n), or (R, num_items) for n=None.
    """
    if users is None:
        users = torch.arange(len(user_items))
    users = users.long().cpu()
    lens = torch.tensor([len(s) for s in user_items], dtype=torch.long)
    parts = [torch.as_tensor(np.asarray(s), dtype=torch.long).reshape(-1) for s in user_items]
    flat = torch.cat(parts) if parts else torch.zeros(0, dtype=torch.long)
    owner = torch.repeat_interleave(torch.arange(len(user_items)), lens)
    stride = num_items + 2
    seen = torch.unique(owner * stride + flat)  # sorted keys user*stride + item

    def is_seen(rows: Tensor, items: Tensor) -> Tensor:
        keys = rows * stride + items
        pos = torch.searchsorted(seen, keys).clamp(max=max(len(seen) - 1, 0))
        return seen[pos] == keys if len(seen) else torch.zeros_like(keys, dtype=torch.bool)

    if n is None:
        items = torch.arange(1, num_items + 1).expand(len(users), num_items)
        return torch.where(is_seen(users[:, None], items), 0, items)
    distinct = torch.bincount(torch.div(seen, stride, rounding_mode="floor"), minlength=len(user_items))
    if (distinct[users] >= num_items).any():
        raise ValueError("a user has interacted with every item: no negative can be sampled")
    if weights is not None:
        weights = weights.double().cpu()
        item, owners = seen % stride, torch.div(seen, stride, rounding_mode="floor")
        real = (item >= 1) & (item <= num_items)
        taken = torch.zeros(len(user_items), dtype=torch.float64).index_add_(
            0, owners[real], weights[item[real] - 1])
        if (weights.sum() - taken[users] <= 0).any():
            raise ValueError("a user has interacted with every item of nonzero weight: no "
                             "negative can be sampled")

    def draw(count: int) -> Tensor:
        if weights is None:
            return torch.randint(1, num_items + 1, (count,), generator=generator)
        return torch.multinomial(weights, count, replacement=True, generator=generator) + 1

    out = draw(len(users) * n).view(len(users), n)
    rows = users[:, None].expand(-1, n)
    bad = is_seen(rows, out)
    while bad.any():  # redraw only the rejected entries, all at once
        out[bad] = draw(int(bad.sum()))
        bad = is_seen(rows, out)
    return out
