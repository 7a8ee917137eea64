"""Behaviour blocks under DARTS and SNAS: each block's norm, layer and activation is a mixed op
(sum of softmax(alpha)-weighted options), fixed to its first option until a strategy relaxes
it; specs/ameir.nas runs end to end under both strategies on a small log with behaviours."""
from __future__ import annotations

import json

import pytest
import torch

import nasc.runtime.commands.search as search_command
from nasc.compiler.frontend import load
from nasc.compiler.space import choices
from nasc.runtime.constructs import mixed_op, residual_block
from nasc.runtime.shapes import Shape

from kit.searchkit import REPO, write_spec

SEQ = Shape("sequence", 1, 4)  # one behaviour field embedded 4 wide
LAYERS = (("conv", (("kernel", 3),)), ("avg_pool", (("kernel", 3),)), ("zero", ()))
NORMS = (("layer_norm", ()), ("none", ()))
ACTS = (("relu", ()), ("identity", ()))


def _inputs():
    torch.manual_seed(0)
    h = torch.randn(5, 6, 4, dtype=torch.float64)
    mask = torch.ones(5, 6, dtype=torch.bool)
    mask[0, 4:] = False
    return h * mask.unsqueeze(-1), mask


def _mixed(label, table, factory, alpha):
    module = mixed_op(label, table, [SEQ], factory=factory).double()
    with torch.no_grad():
        module.alpha.copy_(torch.tensor(alpha, dtype=torch.float64))
    return module


def test_a_relaxed_block_layer_is_the_softmax_mix_of_its_options():
    h, mask = _inputs()
    layer = _mixed("b.block1.layer", LAYERS, "layer", [0.4, -0.3, 1.1])
    outs = [cand(h, mask) for cand in layer.candidates]
    assert layer.value == "conv" and torch.equal(layer(h, mask), outs[0])  # starts fixed
    layer.relax()
    p = torch.softmax(layer.alpha, 0)
    torch.testing.assert_close(layer(h, mask), p[0] * outs[0] + p[1] * outs[1] + p[2] * outs[2])
    assert layer.strongest() == "zero"


def test_a_relaxed_block_is_eq_3_with_every_part_mixed():
    """H = sum_a p_a act_a(sum_l p_l layer_l(sum_n p_n norm_n(H))) + H, padding kept at zero."""
    h, mask = _inputs()
    norm = _mixed("b.block1.norm", NORMS, "seq_norm", [0.2, -0.5])
    layer = _mixed("b.block1.layer", LAYERS, "layer", [0.4, -0.3, 1.1])
    act = _mixed("b.block1.act", ACTS, "act", [-0.7, 0.9])
    block = residual_block(norm, layer, act).double().eval()
    for part in (norm, layer, act):
        part.relax()
    pn, pl, pa = (torch.softmax(m.alpha, 0) for m in (norm, layer, act))
    normed = sum(pn[i] * c(h, mask) for i, c in enumerate(norm.candidates))
    laid = sum(pl[i] * c(normed, mask) for i, c in enumerate(layer.candidates))
    expected = (pa[0] * torch.relu(laid) + pa[1] * laid + h) * mask.unsqueeze(-1)
    torch.testing.assert_close(block(h, mask), expected)


@pytest.mark.parametrize("strategy,extra", [("darts", ""), ("snas", ""),
                                            ("snas", "  sample hard\n")],
                         ids=["darts", "snas", "snas-hard"])
def test_ameir_runs_under_a_relaxed_strategy(tmp_path, one_thread, strategy, extra):
    text = (REPO / "specs" / "ameir.nas").read_text()
    head, _, rest = text.partition("search oneshot_random {")
    train = rest[rest.index("train {"):]
    search = f"search {strategy} {{\n{extra}  epochs 1\n  batch 512\n}}\n\n"
    spec = write_spec(tmp_path, head + search + train)
    _, run = search_command.search_spec(str(spec), out=str(tmp_path / "run"), seed=1,
                                        quiet=True, synthetic_rows=1500)
    found = json.loads(run.file("choices.json").read_text())
    blocks = [f"behavior.block{n}.{part}" for n in range(1, 7) for part in ("norm", "layer", "act")]
    assert set(blocks) | {"cross.tuples", "aggregate.layer1.width"} <= set(found)
    arch = json.loads(run.file("history.json").read_text())[-1]["arch"]
    assert len(arch["behavior.block1.layer.alpha"]) == 12
    assert len(arch["behavior.block1.act.alpha"]) == 4
    _, _, program = load(str(run.file("arch.nas")))  # a valid, fully fixed architecture
    assert choices(program) == [] and program.strategy is None
