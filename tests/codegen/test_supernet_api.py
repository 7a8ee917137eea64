"""The interface strategies drive: choice_modules, fix, sample, relax, arch/weight parameters."""
from __future__ import annotations

import pytest
import torch

from kit.codegenkit import (
    SPACES, dataset_for, double_batch, first_batch, generated_class, load_spec, randomize,
)
from nasc.compiler.fix import fix_spec
from nasc.compiler.frontend import compile_text
from nasc.compiler.lower import lower
from nasc.compiler.space import choices
from nasc.runtime.choices import CellNode, OneOf, WidthChoice
from nasc.runtime.model import materialize


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    out = tmp_path_factory.mktemp("generated")
    built = {}
    for name in SPACES:
        torch.manual_seed(0)
        built[name] = generated_class(name, out)(dataset_for(name).schema)
    return built


@pytest.mark.parametrize("name", SPACES)
def test_arch_and_weight_parameters_partition_the_parameters(models, name):
    model = models[name]
    arch = {id(p) for p in model.arch_parameters()}
    weights = {id(p) for p in model.weight_parameters()}
    assert len(arch) == len(model.arch_parameters()), "an arch parameter is listed twice"
    assert not arch & weights
    assert arch | weights == {id(p) for p in model.parameters()}
    assert len(model.weight_parameters()) == len(list(model.parameters())) - len(arch)


def test_autopi_alpha_and_beta(models):
    model = models["autopi"]
    alphas = [m.alpha for m in model.modules() if isinstance(m, OneOf) and m.alpha is not None]
    betas = [m.beta for m in model.modules() if isinstance(m, CellNode) and m.beta is not None]
    assert len(alphas) == 24 and all(a.shape == (6,) for a in alphas)
    assert [b.numel() for b in betas] == [1, 2, 3, 4, 2, 3, 4, 5]
    assert {id(p) for p in model.arch_parameters()} == {id(p) for p in alphas + betas}
    assert len(model.arch_parameters()) == 32


@pytest.mark.parametrize("name", SPACES)
def test_choice_labels_match_the_compiler(models, name):
    program = load_spec(name)[2]
    assert sorted(models[name].choice_modules()) == sorted(c.label for c in choices(program))
    # and in source order
    assert list(models[name].choice_modules()) == [c.label for c in choices(program)]


@pytest.mark.parametrize("name", SPACES)
def test_choice_options_match_the_compiler(models, name):
    program = load_spec(name)[2]
    modules = models[name].choice_modules()
    for c in choices(program):
        m = modules[c.label]
        if isinstance(m, CellNode):
            for e in m.edges.values():
                assert tuple(e.options) == c.options, c.label
        elif c.options:
            assert tuple(m.options) == c.options, c.label


@pytest.mark.parametrize("name", SPACES)
def test_sample_is_reproducible(models, name):
    model = models[name]
    first = [model.sample(torch.Generator().manual_seed(11)) for _ in range(3)]
    again = [model.sample(torch.Generator().manual_seed(11)) for _ in range(3)]
    assert first == again
    assert set(first[0]) == set(model.choice_modules())
    gen = torch.Generator().manual_seed(12)
    paths = [model.sample(gen) for _ in range(5)]
    assert len({repr(p) for p in paths}) > 1, "successive draws should differ"
    # sample leaves the model on the path it returns
    gen = torch.Generator().manual_seed(5)
    path = model.sample(gen)
    for label, m in model.choice_modules().items():
        assert m.value == path[label], label


def test_sample_respects_monotone_widths(models):
    model = models["ameir"]
    layers = [m for m in model.modules() if isinstance(m, WidthChoice)]
    assert len(layers) == 3 and all(m.monotone for m in layers)
    gen = torch.Generator().manual_seed(0)
    seen = set()
    for _ in range(1000):
        path = model.sample(gen)
        values = [path[m.label] for m in layers]
        widths = [m.width for m in layers]
        assert values == sorted(values, reverse=True), values
        assert widths == sorted(widths, reverse=True), widths
        seen.add(tuple(values))
    assert len(seen) > 50  # not stuck on a few sequences (220 exist)


_ROUNDING_SPEC = """
model tiny {
  input fields: categorical
  emb = embed(fields, dim=1)
  mlp deep(flatten(emb)) {
    layers 2
    width { 0.1, 0.15 }
    monotone
    act relu
  }
  head ctr(deep)
}
"""

_ONE_FIXED_LAYER_SPEC = """
model tiny {
  input fields: categorical
  emb = embed(fields, dim=4)
  mlp deep(flatten(emb)) {
    layers 3
    width { 32, 16, 8 }
    monotone
    act relu
    layer 2 {
      width 16
    }
  }
  head ctr(deep)
}
"""


@pytest.mark.parametrize("text", [_ROUNDING_SPEC, _ONE_FIXED_LAYER_SPEC],
                         ids=["fractions-round-alike", "one-layer-fixed"])
def test_sampled_monotone_widths_are_exportable(text):
    """A runtime draw must be an assignment fix_spec accepts: widths compared as the spec writes
    them (0.1 and 0.15 of 8 inputs both round to 1), and bounded by layers with one width."""
    spec, program = compile_text(text, "<tiny>")
    model = materialize(lower(program, "supernet"), dataset_for("fm").schema)
    gen = torch.Generator().manual_seed(0)
    for _ in range(100):
        path = model.sample(gen)
        fix_spec(spec, program, path, drop_search=True)  # raises on a non-monotone draw


def test_set_temperature_changes_the_mixed_output(tmp_path):
    ds = dataset_for("autopi")
    torch.manual_seed(0)
    model = generated_class("autopi", tmp_path)(ds.schema).double()
    randomize(model, 1)
    model.relax()
    model.eval()
    batch = double_batch(first_batch(ds, 16))
    with torch.no_grad():
        base = model(batch)
        model.set_temperature(0.05)
        cold = model(batch)
        model.set_temperature(1.0)
        back = model(batch)
    assert all(m.tau == 1.0 for m in model.modules() if isinstance(m, (OneOf, CellNode)))
    assert (base - cold).abs().max() > 1e-6
    assert torch.equal(base, back)


def test_fix_rejects_unknown_labels(models):
    model = models["autopi"]
    with pytest.raises(KeyError, match="nonexistent.node1"):
        model.fix({"nonexistent.node1": ((0, "fm"),)})
    # an edge inside a searched node is not a choice of its own
    with pytest.raises(KeyError):
        model.fix({"interaction.edge0_1": "fm"})


def test_fix_then_relax_round_trip(models):
    model = models["autopi"]
    model.fix({"interaction.node2": ((0, "fm"), (1, "slp"))})
    node = model.choice_modules()["interaction.node2"]
    assert node.value == ((0, "fm"), (1, "slp"))
    model.relax()
    assert all(m.value is None for m in model.choice_modules().values())
    with pytest.raises(ValueError):
        model.fix({"interaction.node2": ((0, "fm"), (0, "slp"))})  # repeated input
