"""AMEIR stage 2/3 operators: Hadamard interactions, SE shortcut (eq. 5), sliced linear."""
from __future__ import annotations

import math

import pytest
import torch

from nasc.runtime.ops import HadamardInteractions, SEShortcut, SlicedLinear
from kit.opskit import rand


def test_hadamard_rows_are_explicit_products_of_the_chosen_fields():
    tuples = [(0,), (0, 1), (1, 2, 0), (2, 2), (3, 1, 2, 0)]
    x = rand(2, 4, 3)
    out = HadamardInteractions(tuples).double()(x)
    assert out.shape == (2, 5, 3)
    for b in range(2):
        for r, fields in enumerate(tuples):
            for c in range(3):
                expected = 1.0
                for f in fields:
                    expected *= x[b, f, c].item()
                assert out[b, r, c].item() == pytest.approx(expected, abs=1e-12)


def test_hadamard_tuples_are_a_buffer_and_validated():
    op = HadamardInteractions([(0, 1), (2,)])
    assert "tuples" in dict(op.named_buffers())
    with pytest.raises(ValueError):
        HadamardInteractions([()])
    assert HadamardInteractions([])(rand(2, 3, 4)).shape == (2, 0, 4)


def test_se_shortcut_matches_equation_5_by_hand():
    q = torch.tensor([[[0.5, -1.0], [2.0, 0.25], [-1.5, 3.0]],
                      [[1.0, 2.0], [-0.5, 0.75], [0.3, -2.0]]], dtype=torch.float64)  # (B, n=3, k=2)
    op = SEShortcut(3, 2, expansion=2 / 3).double()  # hidden round(3 * 2/3) = 2
    v = [0.7, -0.4]
    w1 = [[0.5, -0.3, 0.8], [-0.6, 0.2, 0.1]]
    w2 = [[1.0, -0.5], [0.3, 0.9], [-0.7, 0.4]]
    f64 = lambda a: torch.tensor(a, dtype=torch.float64)  # noqa: E731
    with torch.no_grad():
        op.project.weight.copy_(f64([v])), op.squeeze.weight.copy_(f64(w1)), op.excite.weight.copy_(f64(w2))
    out = op(q)
    for b in range(2):
        s = [sum(q[b, i, c].item() * v[c] for c in range(2)) for i in range(3)]  # Q v
        hidden = [max(0.0, sum(w1[h][i] * s[i] for i in range(3))) for h in range(2)]
        a = [1 / (1 + math.exp(-sum(w2[i][h] * hidden[h] for h in range(2)))) for i in range(3)]
        for c in range(2):
            expected = sum(a[i] * q[b, i, c].item() for i in range(3))
            assert out[b, c].item() == pytest.approx(expected, abs=1e-12)


def test_sliced_linear_equals_a_linear_built_from_the_sliced_weights():
    op = SlicedLinear(10, 8).double()
    x = rand(4, 6)
    ref = torch.nn.Linear(6, 5).double()
    with torch.no_grad():
        ref.weight.copy_(op.weight[:5, :6]), ref.bias.copy_(op.bias[:5])
    torch.testing.assert_close(op(x, 5), ref(x), rtol=0, atol=0)
    assert op(rand(4, 10)).shape == (4, 8)  # full size by default
    op(x, 5).sum().backward()
    assert (op.weight.grad[5:] == 0).all() and (op.weight.grad[:, 6:] == 0).all()
    assert (op.weight.grad[:5, :6] != 0).any()
    with pytest.raises(ValueError):
        op(rand(4, 11), 3)
    with pytest.raises(ValueError):
        op(x, 9)
