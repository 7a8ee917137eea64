"""`eval_sampling popularity` (BERT4Rec's protocol): evaluation negatives drawn in proportion to
each item's interactions, never an item of the user's; uniform stays as it was."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from nasc.compiler.frontend import load
from nasc.errors import SpecError
from nasc.runtime.data.sequences import load_next_item, sample_negatives
from nasc.runtime.retrieval import NextItemObjective, eval_protocol, evaluation_protocol, popularity
from nasc.runtime.train import TrainConfig
from kit.retrievalkit import TINY_REC


def test_popularity_counts_every_interaction_of_the_log():
    counts = popularity([np.array([1, 2, 2]), np.array([2, 4])], num_items=5)
    assert counts.tolist() == [1, 3, 0, 1, 0]


def test_negatives_follow_the_weights_among_the_items_the_user_never_had():
    users = [np.array([1]), np.array([2, 3])]
    weights = torch.tensor([5.0, 1.0, 1.0, 2.0, 0.0, 1.0])  # items 1..6; item 5 never drawn
    out = sample_negatives(users, 20000, 6, torch.Generator().manual_seed(0), weights=weights)
    first, second = out[0].bincount(minlength=7), out[1].bincount(minlength=7)
    assert first[1] == 0 and first[5] == 0 and second[2] == 0 and second[3] == 0
    assert second[5] == 0 and first[0] == 0
    # user 1 draws 2, 3, 4, 6 in the ratio 1:1:2:1; user 2 draws 1, 4, 6 as 5:2:1
    assert (first[[2, 3, 4, 6]].double() / 20000).tolist() == pytest.approx(
        [0.2, 0.2, 0.4, 0.2], abs=0.015)
    assert (second[[1, 4, 6]].double() / 20000).tolist() == pytest.approx(
        [5 / 8, 2 / 8, 1 / 8], abs=0.015)
    with pytest.raises(ValueError, match="nonzero weight"):
        sample_negatives([np.array([1, 2, 3, 4, 6])], 3, 6, weights=weights)


def test_uniform_draws_are_unchanged_by_the_option():
    users = [np.array([1, 2]), np.array([3])]
    a = sample_negatives(users, 50, 30, torch.Generator().manual_seed(4))
    b = sample_negatives(users, 50, 30, torch.Generator().manual_seed(4), weights=None)
    assert torch.equal(a, b)
    gen = torch.Generator().manual_seed(4)
    raw = torch.randint(1, 31, (2, 50), generator=gen)  # the draws before any redraw
    keep = ~((raw[0] == 1) | (raw[0] == 2))
    assert torch.equal(a[0][keep], raw[0][keep])


def test_the_objective_samples_by_popularity_and_says_so(tmp_path):
    log = tmp_path / "log.txt"
    lines = [f"{u} 1 2 {3 + u % 5} 1" for u in range(1, 60)]  # items 1 and 2 are the popular ones
    log.write_text("\n".join(lines) + "\n")
    ds = load_next_item(log, max_len=4)
    config = TrainConfig(eval_negatives=20, eval_sampling="popularity")
    task = NextItemObjective(ds, config, torch.device("cpu"))
    assert task.candidates["valid"].shape == (59, 20)
    text = eval_protocol(20, 2021, task.num_items, "popularity")
    assert "20 popularity-sampled unseen negatives" in text
    assert "in proportion to each item's number of interactions" in \
        evaluation_protocol(20, 2021, task.num_items, "popularity")["sampled"]


def test_the_setting_belongs_to_next_item_heads_with_a_number_of_negatives(tmp_path):
    spec = tmp_path / "s.nas"
    spec.write_text(TINY_REC.replace("  patience 6\n", "  patience 6\n  eval_sampling popularity\n"))
    assert load(str(spec))[2].train["eval_sampling"] == "popularity"
    spec.write_text(TINY_REC.replace("  patience 6\n", "  patience 6\n  eval_negatives full\n"
                                                       "  eval_sampling popularity\n"))
    with pytest.raises(SpecError, match="`eval_negatives full` ranks every item"):
        load(str(spec))
