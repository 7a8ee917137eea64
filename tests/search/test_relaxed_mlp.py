"""MLP widths and activations under DARTS and SNAS: a relaxed width is a mixture of masks of the
widest layer (FBNetV2), an activation choice a mixed op; a `monotone` MLP is discretised to its
best non-increasing widths; AMEIR-C's space runs end to end under both strategies."""
from __future__ import annotations

import json

import pytest
import torch

import nasc.runtime.commands.search as search_command
from nasc.runtime.choices import WidthChoice, strongest_monotone
from nasc.runtime.constructs import width_choice
from nasc.runtime.shapes import Shape

from kit.searchkit import REPO, write_spec


def test_a_relaxed_width_mixes_the_masked_outputs():
    torch.manual_seed(0)
    vec = Shape("vector", 0, 6)
    layer = width_choice("d.layer1.width", vec, vec, [2, 3, 5], "relu").double()
    choice = layer.choice
    with torch.no_grad():
        choice.alpha.copy_(torch.tensor([0.3, -1.0, 0.5]))
    x = torch.randn(4, 6, dtype=torch.float64)
    full = torch.relu(layer.linear(x, 5))  # the widest layer's output
    choice.relax()
    p = torch.softmax(choice.alpha, 0)
    expected = sum(p[n] * torch.cat([full[:, :w], torch.zeros(4, 5 - w, dtype=torch.float64)], 1)
                   for n, w in enumerate([2, 3, 5]))
    torch.testing.assert_close(layer(x), expected)
    assert choice.value is None and choice.strongest() == 5
    choice.fix(3)
    torch.testing.assert_close(layer(x), full[:, :3])


def layers(*alphas, widths=(10, 20, 30)):
    out = []
    for n, alpha in enumerate(alphas):
        m = WidthChoice(f"d.layer{n + 1}.width", list(widths), [str(w) for w in widths], "d",
                        monotone=True)
        with torch.no_grad():
            m.alpha.copy_(torch.tensor(alpha).log())
        out.append(m)
    return out


def test_a_monotone_mlp_takes_its_best_non_increasing_widths():
    """Alone, layer 1 prefers 10 and layer 2 prefers 30 (an increase). Jointly the best
    non-increasing pair by summed log-probability: (20, 20) scores ln .4 + ln .35 = -1.96,
    above (10, 10) at ln .5 + ln .05 = -3.69 and (30, 30) at ln .1 + ln .6 = -2.81."""
    first, second = layers([0.5, 0.4, 0.1], [0.05, 0.35, 0.6])
    assert (first.strongest(), second.strongest()) == (10, 30)
    assert strongest_monotone([first, second]) == {"d.layer1.width": 20, "d.layer2.width": 20}


def test_a_held_layer_bounds_the_others():
    first, third = layers([0.1, 0.1, 0.8], [0.1, 0.3, 0.6])
    third.label = "d.layer3.width"
    held = WidthChoice("d.layer2.width", [20], ["20"], "d", monotone=True)  # one width: no alpha
    assert held.alpha is None and held.arch_logits() == {}
    assert strongest_monotone([first, held, third]) == {"d.layer1.width": 30,
                                                        "d.layer3.width": 20}


@pytest.mark.parametrize("strategy", ["darts", "snas"])
def test_ameir_c_runs_under_a_relaxed_strategy(tmp_path, tiny_data, monkeypatch, strategy):
    text = (REPO / "specs" / "ameir_ctr.nas").read_text()
    head, _, rest = text.partition("search oneshot_random {")
    train = rest[rest.index("train {"):]
    spec = write_spec(tmp_path, head + f"search {strategy} {{\n  epochs 1\n  batch 512\n}}\n\n"
                      + train)
    monkeypatch.setattr(search_command, "open_dataset", lambda program, name, **kw: tiny_data)
    _, run = search_command.search_spec(str(spec), out=str(tmp_path / "run"), seed=1, quiet=True)
    choices = json.loads(run.file("choices.json").read_text())
    assert {"cross.tuples", "aggregate.layer1.width", "aggregate.layer1.act"} <= set(choices)
    widths = [choices[f"aggregate.layer{n}.width"] for n in (1, 2, 3)]
    assert widths == sorted(widths, reverse=True)  # monotone kept
    arch = json.loads(run.file("history.json").read_text())[-1]["arch"]
    assert len(arch["aggregate.layer1.width.alpha"]) == 10
    assert len(arch["cross.tuples.alpha"]) == 10  # keep 10 slots


WIDTHS = """model w {
  input fields: categorical
  emb = embed(fields, dim=4)
  mlp dnn(flatten(emb)) {
    layers 1
    width { 1, 16 }
    act relu
  }
  head ctr(dnn)
}

search snas {
  epochs 6
  batch 512
  arch adam(lr=0.01, betas=[0.5, 0.999])
  weights adam(lr=0.01)
  monitor auc
}
"""


def test_snas_widens_an_mlp_too_narrow_for_a_planted_pair(tmp_path, monkeypatch):
    """The known answer: the label hangs on the product of two fields, which one ReLU unit over
    the embeddings cannot model (trained alone on this data: test AUC 0.500 with width 1 against
    0.582 with width 16, seed 2). SNAS' mixture of masks moves its weight to 16 (0.84-0.87 on
    seeds 1-3). DARTS does not reliably (width 1 on 2 of 3 seeds after 12 epochs: a narrower
    mask's loss is matched by larger downstream weights, and the architecture split prefers it),
    so it has no such test; the note of issue 19 says so."""
    from nasc.runtime.data.synthetic import make_synthetic

    data = make_synthetic(seed=2, n=20000, num_fields=6, vocab=10, planted=((0, 1),),
                          noise=0.1, first_order=0.1)
    monkeypatch.setattr(search_command, "open_dataset", lambda program, name, **kw: data)
    spec = write_spec(tmp_path, WIDTHS)
    _, run = search_command.search_spec(str(spec), out=str(tmp_path / "run"), seed=2,
                                        quiet=True, threads=1)
    assert json.loads(run.file("choices.json").read_text()) == {"dnn.layer1.width": 16}
    alpha = json.loads(run.file("history.json").read_text())[-1]["arch"]["dnn.layer1.width.alpha"]
    assert alpha[1] > 0.7, alpha
