"""After each epoch the training loop recomputes batch-norm averages as the exact mean of a few
training batches' statistics under the current weights (train.refresh_running_stats)."""
from __future__ import annotations

import torch
from torch import nn

from nasc.runtime.ops.activations import Dice
from nasc.runtime.train import refresh_running_stats


def test_running_averages_become_the_mean_of_the_batch_statistics():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), Dice(4))
    batches = [torch.randn(8, 3) * (k + 1) + k for k in range(3)]
    with torch.no_grad():
        hidden = [model[0](b) for b in batches]                        # (8, 4) each
        normed = [model[1].train()(h) for h in hidden]
    model[1].reset_running_stats()
    expected_mean = torch.stack([h.mean(0) for h in hidden]).mean(0)
    expected_var = torch.stack([h.var(0, unbiased=True) for h in hidden]).mean(0)
    dice_mean = torch.stack([n.mean(0) for n in normed]).mean(0)
    model.eval()
    refresh_running_stats(model, model, batches)
    bn, dice = model[1], model[2]
    torch.testing.assert_close(bn.running_mean, expected_mean)
    torch.testing.assert_close(bn.running_var, expected_var)
    torch.testing.assert_close(dice.running_mean, dice_mean)
    # momenta and mode are put back
    assert bn.momentum == 0.1 and dice.momentum == 0.1 and not model.training


def test_models_without_running_averages_are_left_alone():
    model = nn.Sequential(nn.Linear(3, 2))
    calls = []
    refresh_running_stats(model, lambda b: calls.append(b), [torch.zeros(1, 3)])
    assert calls == []
