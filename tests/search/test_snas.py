"""SNAS against its definition (Xie et al. 2019, §2.2-2.3): a Gumbel-softmax sample per forward
whose argmax follows softmax(alpha) (the Gumbel-max trick), near one-hot at a low temperature;
weights and alpha trained together on the whole training split; a linear temperature; and on
data with a planted interaction it keeps an interaction operator and beats LR."""
from __future__ import annotations

import json

import pytest
import torch

import nasc.runtime.commands.search as search_command
from nasc.runtime.data.synthetic import make_synthetic
from nasc.runtime.strategies.snas import GumbelSoftmax, Snas, temperature

from kit.searchkit import auc_against_lr, cell3_spec, make_ctx, write_spec


def test_the_argmax_of_a_sample_follows_softmax_alpha():
    probs = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
    alpha = probs.log() + 1.7  # logits: a constant shift changes nothing
    weigh = GumbelSoftmax(torch.Generator().manual_seed(0))
    draws = 20000
    counts = torch.bincount(torch.stack([weigh(alpha, 1.0).argmax() for _ in range(draws)]),
                            minlength=3).double() / draws
    torch.testing.assert_close(counts, probs, atol=0.015, rtol=0)  # 3 sd of a binomial: 0.011


def test_a_sample_is_a_distribution_near_one_hot_when_cold():
    weigh = GumbelSoftmax(torch.Generator().manual_seed(1))
    alpha = torch.zeros(4)
    hot = [weigh(alpha, 1.0) for _ in range(200)]
    cold = [weigh(alpha, 0.01) for _ in range(200)]
    for w in hot + cold:
        assert torch.all(w >= 0) and float(w.sum()) == pytest.approx(1.0)
    # max > 0.99 needs a gap of tau ln(297) between the two largest of 4 Gumbels, and that gap is
    # Exp(1)-distributed: P = e^(-0.057) = 0.94 at tau 0.01, e^(-5.7) = 0.003 at tau 1
    assert sum(float(w.max()) > 0.99 for w in cold) > 170  # near one-hot
    assert sum(float(w.max()) > 0.99 for w in hot) < 10     # a soft mix


def test_the_temperature_anneals_linearly():
    assert [temperature(1.0, 0.2, 5, t) for t in range(1, 6)] == pytest.approx(
        [1.0, 0.8, 0.6, 0.4, 0.2])
    assert temperature(1.0, 0.2, 1, 1) == 1.0


def test_one_level_both_learn_on_the_whole_training_split(tmp_path, tiny_data, monkeypatch):
    spec = cell3_spec(epochs=1).replace("search darts {", "search snas {").replace(
        "  order 1\n", "").replace("  temperature log\n", "").replace("  noisy_skip 0.03\n", "")
    ctx = make_ctx(tmp_path, spec, tiny_data)
    search = Snas(ctx)
    assert len(search.train_w) == len(tiny_data.train)
    seen = []
    real_forward = type(search.net).forward

    def forward(net, batch):
        seen.append(len(batch["label"]))
        return real_forward(net, batch)
    monkeypatch.setattr(type(search.net), "forward", forward)
    alpha0 = [p.detach().clone() for p in search.arch_params]
    weights0 = [p.detach().clone() for p in search.weight_params if p.requires_grad]
    found = search.run()
    trained = sum(seen[: -(-len(tiny_data.train) // 256)])
    assert trained == len(tiny_data.train)  # one pass over all of it, no architecture split
    # every logit vector of more than one option learned (node 1's beta has a single input)
    assert all(not torch.equal(a, p) for a, p in zip(alpha0, search.arch_params) if a.numel() > 1)
    assert any(not torch.equal(w, p) for w, p in
               zip(weights0, [p for p in search.weight_params if p.requires_grad]))
    assert set(found) == {"c.node1", "c.node2", "c.node3"}
    assert ctx.record["strategy"] == "snas"




@pytest.mark.parametrize("sample", ["soft", "hard"])
def test_snas_finds_a_planted_interaction_that_lr_cannot_model(tmp_path, monkeypatch, sample):
    """Also with GDAS' hard sampling (`sample hard`): one path per step."""
    from test_search_end_to_end import PLANTED_SPACE

    data = make_synthetic(seed=11, n=20000, num_fields=6, vocab=10, planted=((0, 1),),
                          noise=0.1, first_order=0.1)
    monkeypatch.setattr(search_command, "open_dataset", lambda program, name, **kw: data)
    spec = write_spec(tmp_path, PLANTED_SPACE.replace("search darts {",
                                                      f"search snas {{\n  sample {sample}"))
    _, run = search_command.search_spec(str(spec), out=str(tmp_path / "search"), seed=3, quiet=True)
    choices = json.loads(run.file("choices.json").read_text())
    ops = {op for picks in choices.values() for _, op in picks}
    assert ops & {"fm", "slp"}, choices
    found, lr = auc_against_lr(run, tmp_path)
    print(f"planted (0,1): snas ({sample}) {choices} test AUC {found:.4f}; LR {lr:.4f}")
    assert found >= lr + 0.10, (found, lr)
