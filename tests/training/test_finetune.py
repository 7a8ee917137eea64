"""Fine-tuning given weights (a one-shot search's inherited ones): the weights as given are scored
as epoch 0 and compete for best, so a fine-tune that only makes validation worse hands back the
weights it started from, not its least bad epoch."""
from __future__ import annotations

import csv

import pytest
import torch

from nasc.compiler.frontend import compile_text
from nasc.runtime.data.synthetic import make_synthetic
from nasc.runtime.model import build_fixed
from nasc.runtime.rundir import RunDir
from nasc.runtime.train import TrainConfig, evaluate, train_model

SPEC = """model m {
  input fields: categorical
  emb = embed(fields, dim=4)
  head ctr(fm_logit(emb), lr(fields))
}
train {
  optimizer adam(lr=%s)
  batch 500
  epochs %d
  monitor logloss
  patience 1
}
"""


@pytest.fixture(scope="module")
def tiny():
    return make_synthetic(seed=3, n=2000, num_fields=4, vocab=6, planted=((0, 1),))


def program(lr: float, epochs: int):
    return compile_text(SPEC % (lr, epochs), "t.nas")[1]


@pytest.fixture(scope="module")
def trained(tiny):
    """A model trained well at a sane rate: the weights a fine-tune is handed."""
    p = program(0.01, 6)
    torch.manual_seed(1)
    model = build_fixed(p, tiny.schema)
    train_model(model, tiny, TrainConfig.from_settings(p.train, seed=1), show_progress=False)
    return p, {k: v.clone() for k, v in model.state_dict().items()}


def finetune(tiny, trained, score_initial: bool, run=None):
    """Fine-tune the trained weights at a destructive rate (Adam at 3.0 on an FM)."""
    destructive = program(3.0, 3)
    model = build_fixed(destructive, tiny.schema)
    model.load_state_dict(trained[1])
    config = TrainConfig.from_settings(destructive.train, seed=1)
    return model, train_model(model, tiny, config, run, show_progress=False,
                              score_initial=score_initial)


def test_a_fine_tune_that_only_hurts_returns_the_given_weights(tiny, trained):
    _, state = trained
    given = build_fixed(trained[0], tiny.schema)
    given.load_state_dict(state)
    given_valid = evaluate(given, tiny.valid)

    _, blind = finetune(tiny, trained, score_initial=False)
    assert blind.valid["logloss"] > given_valid["logloss"] + 0.01, \
        "the destructive rate did not hurt: this case does not exercise epoch 0"

    model, result = finetune(tiny, trained, score_initial=True)
    assert result.best_epoch == 0
    assert result.valid["logloss"] == pytest.approx(given_valid["logloss"], abs=1e-12)
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key
    assert [row["epoch"] for row in result.history][:2] == [0, 1]
    assert result.epochs_run == len(result.history) - 1  # epoch 0 trains nothing


def test_epoch_zero_is_a_row_of_the_metrics_files(tiny, trained, tmp_path):
    run = RunDir(tmp_path / "run")
    finetune(tiny, trained, score_initial=True, run=run)
    rows = list(csv.DictReader((tmp_path / "run" / "metrics.csv").open()))
    assert rows[0]["epoch"] == "0" and rows[0]["train_logloss"] == ""
    assert float(rows[0]["valid_logloss"]) > 0 and rows[1]["train_logloss"] != ""
    best = torch.load(tmp_path / "run" / "best.pt", weights_only=True)
    assert best["epoch"] == 0


def test_epoch_zero_does_not_start_the_plateau_rule(tiny, trained):
    """A first fine-tuning epoch below the given weights is no bad epoch: the rate is not cut
    (it was, before: x0.1 after one epoch); the given weights still win if nothing beats them."""
    _, result = finetune(tiny, trained, score_initial=True)
    rows = result.history
    assert rows[1]["valid_logloss"] > rows[0]["valid_logloss"], \
        "epoch 1 did not score below the given weights: this case does not exercise the rule"
    lr = [row["lr"] for row in rows]
    assert lr[1] == lr[2] == 3.0  # epoch 2 ran at the full rate
    assert result.best_epoch == 0
