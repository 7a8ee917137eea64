"""The key property: a supernet with a path fixed computes exactly what that path's fixed model
computes, once the fixed model has loaded the supernet's weights (float64, so 1e-9 is tight)."""
from __future__ import annotations

import random

import pytest
import torch

from kit.codegenkit import (
    FIXED_NAMES, GENERATED, dataset_for, double_batch, first_batch, fixed_model_of, generated_class,
    load_spec, randomize, sampled_assignment,
)
from nasc.runtime.choices import CellNode, OneOf
from nasc.runtime.model import _supernet_key, build_fixed, load_from_supernet, load_generated

TOL = 1e-9
PATHS = 30  # per search space


@pytest.fixture(scope="module")
def supernets(tmp_path_factory):
    """One float64 supernet per space, generated into a temporary directory, random weights."""
    out = tmp_path_factory.mktemp("generated")
    built = {}
    for seed, name in enumerate(("autopi", "ameir")):
        ds = dataset_for(name)
        torch.manual_seed(seed)
        model = generated_class(name, out)(ds.schema).double()
        randomize(model, seed)
        built[name] = (model, ds.schema, double_batch(first_batch(ds, 16)))
    return built


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    assert a.shape == b.shape
    return (a - b).abs().max().item()


@pytest.mark.parametrize("name", ["autopi", "ameir"])
@pytest.mark.parametrize("seed", range(PATHS))
def test_fixed_path_matches_supernet_eval(supernets, name, seed):
    supernet, schema, batch = supernets[name]
    assignment = sampled_assignment(name, seed, schema)
    fixed = fixed_model_of(supernet, name, assignment, schema)
    supernet.eval()
    fixed.eval()
    with torch.no_grad():
        want, got = supernet(batch), fixed(batch)
    assert want.std() > 1e-3, "degenerate output: the comparison would prove nothing"
    assert _max_diff(want, got) < TOL, f"path {assignment}"
    # fewer weights than the supernet: only the path's operators were built
    assert sum(p.numel() for p in fixed.parameters()) < sum(
        p.numel() for p in supernet.weight_parameters())


@pytest.mark.parametrize("seed", range(6))
def test_autopi_train_mode_matches_and_gradients_agree(tmp_path, seed):
    """Train mode: batch-norm uses batch statistics on both sides; the noisy skip is off.

    Gradients of the fixed model equal those of the supernet's weights on the path.
    """
    ds = dataset_for("autopi")
    torch.manual_seed(seed)
    supernet = generated_class("autopi", tmp_path)(ds.schema).double()
    randomize(supernet, 100 + seed)
    supernet.set_skip_noise(0.0)
    batch = double_batch(first_batch(ds, 16))
    assignment = sampled_assignment("autopi", 1000 + seed, ds.schema)
    fixed = fixed_model_of(supernet, "autopi", assignment, ds.schema)
    supernet.train()
    fixed.train()
    want, got = supernet(batch), fixed(batch)
    assert _max_diff(want, got) < TOL, f"path {assignment}"
    want.pow(2).sum().backward()
    got.pow(2).sum().backward()
    source = dict(supernet.named_parameters())
    chosen = {n: m.index for n, m in supernet.named_modules()
              if isinstance(m, OneOf) and m.index is not None}
    for key, p in fixed.named_parameters():
        src = source[_supernet_key(key, chosen)]
        assert p.grad is not None and src.grad is not None, key
        assert _max_diff(p.grad, src.grad) < 1e-7 * (1 + src.grad.abs().max().item()), key
    # and the running statistics moved identically
    buffers = dict(supernet.named_buffers())
    for key, b in fixed.named_buffers():
        if b.is_floating_point():
            assert _max_diff(b, buffers[_supernet_key(key, chosen)]) < TOL, key


@pytest.mark.parametrize("name", ["autopi", "ameir"])
@pytest.mark.parametrize("seed", range(4))
def test_runtime_sampled_path_round_trips(supernets, name, seed):
    """A path drawn by ``Supernet.sample`` is an assignment ``fix_spec`` accepts, for that path."""
    from kit.codegenkit import fixed_program

    supernet, schema, batch = supernets[name]
    path = supernet.sample(torch.Generator().manual_seed(seed))
    fixed = build_fixed(fixed_program(name, path), schema).double()
    load_from_supernet(fixed, supernet)
    supernet.eval()
    fixed.eval()
    with torch.no_grad():
        assert _max_diff(supernet(batch), fixed(batch)) < TOL, f"path {path}"


@pytest.mark.parametrize("name", FIXED_NAMES)
def test_fixed_spec_generated_module_matches_fx_model(tmp_path, name):
    """For a spec with no choice the generated module and the fx model are one model."""
    ds = dataset_for(name)
    schema = ds.schema
    torch.manual_seed(0)
    generated = load_generated(GENERATED / f"{name}.py")(schema).double()
    randomize(generated, 7)
    fixed = build_fixed(load_spec(name)[2], schema).double()
    load_from_supernet(fixed, generated)
    generated.eval()
    fixed.eval()
    batch = double_batch(first_batch(ds, 16))
    with torch.no_grad():
        assert _max_diff(generated(batch), fixed(batch)) < TOL


# ------------------------------------------------------------------------------ DARTS relaxation
def _relaxed_autopi(tmp_path, seed: int):
    ds = dataset_for("autopi")
    torch.manual_seed(seed)
    model = generated_class("autopi", tmp_path)(ds.schema).double()
    randomize(model, seed)
    model.relax()
    model.eval()
    return model, double_batch(first_batch(ds, 16))


def test_mixed_edge_is_the_softmax_weighted_sum(tmp_path):
    model, batch = _relaxed_autopi(tmp_path, 3)
    edge = model.interaction_node2.edges["1"]
    assert isinstance(edge, OneOf) and edge.index is None
    x = model.high(batch["fields"])
    with torch.no_grad():
        edge.alpha.copy_(torch.tensor([0.3, -1.0, 2.0, 0.5, 0.0, -0.4], dtype=torch.float64))
        edge.tau = 0.7
        mixed = edge(x)
        weights = torch.softmax(edge.alpha / 0.7, dim=0)
        parts = [edge.candidates[i](x) for i in range(len(edge.candidates))]
    expected = sum(w * p for w, p in zip(weights, parts))
    assert _max_diff(mixed, expected) < TOL
    # a relaxed searched node: softmax(beta)-weighted sum of its (mixed) edges
    node = model.interaction_node2
    with torch.no_grad():
        node.beta.copy_(torch.tensor([0.2, -0.7], dtype=torch.float64))
        x1 = model.interaction_node1(x)
        got = node(x, x1)
        w = torch.softmax(node.beta, dim=0)
        want = w[0] * node.edges["0"](x) + w[1] * node.edges["1"](x1)
    assert _max_diff(got, want) < TOL


@pytest.mark.parametrize("seed", range(3))
def test_darts_relaxation_approaches_the_dominant_path(tmp_path, seed):
    """Huge alpha on option i of every edge and huge beta on one input of every node: the
    relaxed supernet computes the single-input path those weights select."""
    model, batch = _relaxed_autopi(tmp_path, 20 + seed)
    rng = random.Random(seed)
    nodes = {label: m for label, m in model.choice_modules().items() if isinstance(m, CellNode)}
    path, targets = {}, {}
    for label, node in nodes.items():
        src = rng.choice(node.sources)
        op = rng.randrange(6)
        path[label] = ((src, node.edges[str(src)].options[op]),)
        targets[label] = (node.sources.index(src), op)

    def relaxed_output(scale: float) -> torch.Tensor:
        model.relax()
        with torch.no_grad():
            for label, node in nodes.items():
                i, op = targets[label]
                node.beta.zero_()
                node.beta[i] = scale
                for edge in node.edges.values():
                    edge.alpha.zero_()
                    edge.alpha[op] = scale
            return model(batch)

    model.fix(path)
    with torch.no_grad():
        target = model(batch)
    gaps = [_max_diff(relaxed_output(s), target) for s in (0.0, 3.0, 10.0, 60.0)]
    assert gaps[0] > 1e-3, "the uniform mix should differ from one path"
    assert gaps[0] > gaps[1] > gaps[2] > gaps[3], gaps
    assert gaps[3] < 1e-9, gaps
