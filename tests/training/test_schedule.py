"""The train block's learning-rate schedules and monitors, against hand-computed values.

plateau: lr x lr_decay after each epoch without improvement (BARS). cosine: per step,
lr_t = lr * 0.5 * (1 + cos(pi * (t - W) / (T - W))) after W linear warm-up steps, T = epochs x
steps per epoch; plateaus do not touch it.
"""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from nasc.compiler.frontend import compile_text
from nasc.runtime.data.synthetic import make_synthetic
from nasc.runtime.model import build_fixed
from nasc.runtime.train import TrainConfig, cosine_schedule, improved, train_model


def learning_rates(steps: int, total: int, warmup: int) -> list[float]:
    weight = nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([weight], lr=2.0)
    schedule = cosine_schedule(optimizer, total, warmup)
    out = []
    for _ in range(steps):
        out.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    return out


def test_cosine_with_warmup_by_hand():
    lrs = learning_rates(11, total=10, warmup=2)
    # warm-up: (t + 1) / W of the base rate; then half a cosine over the 8 remaining steps
    assert lrs[0] == pytest.approx(1.0) and lrs[1] == pytest.approx(2.0)
    assert lrs[2] == pytest.approx(2.0)                      # cos(0)
    assert lrs[4] == pytest.approx(2.0 * 0.5 * (1 + math.cos(math.pi / 4)))
    assert lrs[6] == pytest.approx(1.0)                      # half way: cos(pi / 2) = 0
    assert lrs[10] == pytest.approx(0.0, abs=1e-12)          # the end of the schedule


def test_cosine_without_warmup_starts_at_the_base_rate():
    lrs = learning_rates(5, total=4, warmup=0)
    assert lrs == pytest.approx([2.0, 2.0 * 0.5 * (1 + math.cos(math.pi / 4)), 1.0,
                                 2.0 * 0.5 * (1 + math.cos(3 * math.pi / 4)), 0.0], abs=1e-12)


SPEC = """model m {
  input fields: categorical
  emb = embed(fields, dim=4)
  head ctr(fm_logit(emb), lr(fields))
}
train {
  optimizer adam(lr=0.01)
  batch 500
  epochs 4
  patience 10
%s
}
"""


@pytest.fixture(scope="module")
def tiny():
    return make_synthetic(seed=3, n=2000, num_fields=4, vocab=6, planted=((0, 1),))


def fit(dataset, settings: str, lr: float = 0.01, epochs: int = 4):
    text = (SPEC % settings).replace("lr=0.01", f"lr={lr}").replace("epochs 4", f"epochs {epochs}")
    _, program = compile_text(text, "t.nas")
    config = TrainConfig.from_settings(program.train, seed=1)
    torch.manual_seed(1)
    return train_model(build_fixed(program, dataset.schema), dataset, config, show_progress=False)


def test_fit_follows_the_cosine_per_step(tiny):
    result = fit(tiny, "  schedule cosine")
    steps = math.ceil(len(tiny.train) / 500)
    total = 4 * steps
    # history records the rate in force at the end of each epoch (after its last step)
    expected = [0.01 * 0.5 * (1 + math.cos(math.pi * e * steps / total)) for e in range(1, 5)]
    assert [row["lr"] for row in result.history] == pytest.approx(expected, abs=1e-12)


def test_plateau_decays_only_after_a_bad_epoch(tiny):
    # a large step on few rows overfits within a few epochs, so some epochs are bad
    result = fit(tiny, "  monitor logloss\n  lr_decay 0.5", lr=0.3, epochs=8)
    rates = [row["lr"] for row in result.history]
    losses = [row["valid_logloss"] for row in result.history]
    expected, lr, best = [], 0.3, math.inf
    for loss in losses:
        expected.append(lr)          # recorded before this epoch's verdict
        if loss < best:
            best = loss
        else:
            lr *= 0.5
    assert rates == pytest.approx(expected)
    assert min(rates) < 0.3, "no bad epoch happened: this data does not exercise the decay"


def test_improved_needs_more_than_min_delta():
    assert improved("auc", 0.9, None, 0.5)                 # the first epoch always improves
    assert improved("auc", 0.9011, 0.9, 0.001) and not improved("auc", 0.9010, 0.9, 0.001)
    assert improved("logloss", 0.2989, 0.3, 0.001) and not improved("logloss", 0.2990, 0.3, 0.001)
    assert improved("auc", 0.90001, 0.9) and not improved("auc", 0.9, 0.9)


def test_min_delta_counts_small_gains_as_bad_epochs(tiny):
    delta = 0.01  # this run gains 0.034, 0.022, 0.014, then under 0.01 per epoch
    result = fit(tiny, f"  monitor logloss\n  lr_decay 0.5\n  min_delta {delta}", epochs=8)
    rates = [row["lr"] for row in result.history]
    losses = [row["valid_logloss"] for row in result.history]
    expected, lr, best, small_gains = [], 0.01, math.inf, 0
    for loss in losses:
        expected.append(lr)
        if loss < best - delta:
            best = loss
        else:
            small_gains += loss < best
            lr *= 0.5
    assert rates == pytest.approx(expected)
    assert small_gains, "no epoch gained less than min_delta: this run does not exercise it"
