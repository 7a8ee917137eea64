"""Activations, Dice against DIN's formula with hand-computed batch statistics."""
from __future__ import annotations

import math

import pytest
import torch

from nasc.runtime.ops import ACTIVATIONS, Dice, make_activation
from kit.opskit import rand

sigmoid = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731


def test_elementwise_activations_match_their_formulas():
    x = torch.tensor([[-2.0, -0.5, 0.0, 0.7, 3.0]], dtype=torch.float64)
    formulas = {
        "relu": lambda v: max(v, 0.0),
        "gelu": lambda v: 0.5 * v * (1 + math.erf(v / math.sqrt(2))),
        "swish": lambda v: v * sigmoid(v),
        "identity": lambda v: v,
        "sigmoid": sigmoid,
        "tanh": math.tanh,
    }
    for name, f in formulas.items():
        out = make_activation(name, 5)(x)
        assert out[0].tolist() == pytest.approx([f(v) for v in x[0].tolist()], abs=1e-12), name


def test_unknown_activation_names_the_choices():
    with pytest.raises(ValueError, match="relu"):
        make_activation("leaky", 3)


def test_activations_zero_padded_positions_when_given_a_mask():
    x, mask = rand(2, 3, 4), torch.tensor([[True, False, True], [False, True, True]])
    for name, cls in ACTIVATIONS.items():
        out = cls(4).double()(x, mask)
        assert (out[~mask] == 0).all(), name


def test_dice_in_training_matches_din_formula_with_batch_statistics():
    x = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], dtype=torch.float64)  # (B=2, d=3)
    dice = Dice(3, eps=1e-8).double().train()
    alpha = [0.3, -0.2, 0.5]
    with torch.no_grad():
        dice.alpha.copy_(torch.tensor(alpha, dtype=torch.float64))
    out = dice(x)
    for j in range(3):
        col = [x[0, j].item(), x[1, j].item()]
        mean = sum(col) / 2
        var = sum((v - mean) ** 2 for v in col) / 2
        for b in range(2):
            v = col[b]
            p = sigmoid((v - mean) / math.sqrt(var + 1e-8))
            assert out[b, j].item() == pytest.approx(p * v + (1 - p) * alpha[j] * v, abs=1e-12)
    # running averages as BatchNorm: momentum 0.1, unbiased variance
    for j in range(3):
        col = [x[0, j].item(), x[1, j].item()]
        mean = sum(col) / 2
        unbiased = sum((v - mean) ** 2 for v in col) / 1
        assert dice.running_mean[j].item() == pytest.approx(0.1 * mean, abs=1e-12)
        assert dice.running_var[j].item() == pytest.approx(0.9 + 0.1 * unbiased, abs=1e-12)


def test_dice_in_eval_uses_running_statistics():
    dice = Dice(2).double().eval()
    with torch.no_grad():
        dice.running_mean.copy_(torch.tensor([1.0, -1.0], dtype=torch.float64))
        dice.running_var.copy_(torch.tensor([4.0, 0.25], dtype=torch.float64))
        dice.alpha.fill_(0.5)
    x = torch.tensor([[2.0, 0.0]], dtype=torch.float64)
    out = dice(x)
    for j, (m, var) in enumerate([(1.0, 4.0), (-1.0, 0.25)]):
        v = x[0, j].item()
        p = sigmoid((v - m) / math.sqrt(var + dice.eps))
        assert out[0, j].item() == pytest.approx(p * v + (1 - p) * 0.5 * v, abs=1e-12)


def test_dice_on_sequences_takes_statistics_over_batch_and_real_time_steps():
    x = torch.tensor([[[1.0], [2.0], [50.0]], [[4.0], [-7.0], [3.0]]], dtype=torch.float64)
    mask = torch.tensor([[True, True, False], [True, False, True]])
    dice = Dice(1).double().train()
    out = dice(x, mask)
    real = [1.0, 2.0, 4.0, 3.0]  # the padded 50 and -7 do not count
    mean = sum(real) / 4
    var = sum((v - mean) ** 2 for v in real) / 4
    for b, t in [(0, 0), (0, 1), (1, 0), (1, 2)]:
        v = x[b, t, 0].item()
        assert out[b, t, 0].item() == pytest.approx(sigmoid((v - mean) / math.sqrt(var + 1e-8)) * v, abs=1e-12)
    assert out[0, 2, 0].item() == 0.0 and out[1, 1, 0].item() == 0.0
