"""An interaction set under DARTS and SNAS: `keep` slots, each a mixed operation over every
candidate product (slot r = sum_c softmax(alpha_r)_c * BN(prod_c), the order-2 case being
AutoFIS' gated pairs); discretised to distinct products, strongest first; and on data with one
planted pair both strategies put most of the weight on that pair."""
from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

import nasc.runtime.commands.search as search_command
from nasc.runtime.constructs import InteractionChoice
from nasc.runtime.data.synthetic import make_synthetic
from nasc.runtime.shapes import Shape

from kit.searchkit import write_spec


def choice(order=2, keep=2, fields=3):
    names = [f"f{i}" for i in range(fields)]
    return InteractionChoice("cross.tuples", names, order, keep, Shape("matrix", fields, 4))


def test_a_relaxed_slot_mixes_every_normalised_product():
    torch.manual_seed(0)
    m = choice(order=3, keep=2).double()
    with torch.no_grad():
        m.alpha.copy_(torch.randn_like(m.alpha))
    m.relax()
    x = torch.randn(16, 3, 4, dtype=torch.float64)
    products = []
    for t in m.candidates:  # (0,1), (0,2), (1,2), (0,1,2)
        p = x[:, list(t)].prod(dim=1)  # (B, k)
        mean = p.mean()
        var = p.var(unbiased=False)
        products.append((p - mean) / torch.sqrt(var + 1e-5))
    products = torch.stack(products, dim=1)  # (B, C, k)
    weights = torch.softmax(m.alpha, -1)
    expected = torch.stack([(weights[r][None, :, None] * products).sum(1) for r in range(2)], 1)
    torch.testing.assert_close(m(x), expected)
    assert m.value is None
    m.fix((("f0", "f2"), ("f1", "f2")))
    torch.testing.assert_close(m(x), torch.stack([x[:, 0] * x[:, 2], x[:, 1] * x[:, 2]], 1))


def test_discretised_slots_take_distinct_products_strongest_first():
    m = choice(order=2, keep=2)  # candidates (0,1), (0,2), (1,2)
    with torch.no_grad():
        m.alpha.copy_(torch.tensor([[3.0, 0.0, 1.0],    # slot 0: (0,1) strongly
                                    [2.0, 0.0, 1.5]]))  # slot 1: (0,1) too, then (1,2)
    assert m.strongest() == (("f0", "f1"), ("f1", "f2"))
    assert F.softmax(m.alpha, -1)[0, 0] > F.softmax(m.alpha, -1)[1, 0]  # slot 0 won the pair


PLANTED = """model planted {
  input fields: categorical
  emb = embed(fields, dim=4)
  interactions cross(emb) {
    cycles 1
    survivors 15
    keep 1
  }
  linear = lr(fields)
  head ctr(flatten(cross), linear)
}

search STRATEGY {
  epochs 6
  batch 512
  weights adam(lr=0.01)
  arch adam(lr=0.01, betas=[0.5, 0.999], weight_decay=0.001)
}
"""


@pytest.mark.parametrize("strategy", ["darts", "snas"])
def test_the_planted_pair_takes_the_weight(tmp_path, monkeypatch, strategy):
    data = make_synthetic(seed=11, n=20000, num_fields=6, vocab=10, planted=((0, 1),),
                          noise=0.1, first_order=0.1)
    monkeypatch.setattr(search_command, "open_dataset", lambda program, name, **kw: data)
    spec = write_spec(tmp_path, PLANTED.replace("STRATEGY", strategy))
    _, run = search_command.search_spec(str(spec), out=str(tmp_path / "run"), seed=3, quiet=True)
    assert json.loads(run.file("choices.json").read_text()) == {"cross.tuples": [["f0", "f1"]]}
    (weights,) = json.loads(run.file("history.json").read_text())[-1]["arch"]["cross.tuples.alpha"]
    planted, rest = weights[0], max(weights[1:])  # (f0, f1) is candidate 0
    assert planted > 5 * rest, weights


def test_too_many_candidates_to_relax_is_a_located_error(tmp_path, monkeypatch):
    """39 fields at order 3: 9,880 candidate products, more than a batch can hold relaxed."""
    from nasc.errors import UsageError

    data = make_synthetic(seed=1, n=600, num_fields=39, vocab=4)
    monkeypatch.setattr(search_command, "open_dataset", lambda program, name, **kw: data)
    spec = write_spec(tmp_path, PLANTED.replace("STRATEGY", "darts").replace(
        "    keep 1\n", "    keep 1\n    order 3\n").replace("cycles 1", "cycles 2"))
    with pytest.raises(UsageError) as err:
        search_command.search_spec(str(spec), out=str(tmp_path / "run"), seed=3, quiet=True)
    (diag,) = err.value.diagnostics
    assert diag.line == 14 and "9,880 candidate products" in diag.message  # `search darts {`
    assert "lower the interactions' `order`" in diag.message
