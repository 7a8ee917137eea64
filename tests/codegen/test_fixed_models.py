"""Every fixed spec in specs/ builds as an fx model, runs, trains, prints and pickles."""
from __future__ import annotations

import io

import pytest
import torch
import torch.fx
from click.testing import CliRunner

from kit.codegenkit import (FIXED_NAMES, REPO, dataset, dataset_for, first_batch, load_spec,
                        spec_rel)
from nasc.cli import main
from nasc.compiler.frontend import compile_text
from nasc.compiler.space import choices
from nasc.runtime.model import build_fixed

B = 8


def _model(name: str):
    _, _, program = load_spec(name)
    assert not choices(program), f"{name} is expected to be a fixed architecture"
    ds = dataset_for(name)
    torch.manual_seed(0)
    return program, ds, build_fixed(program, ds.schema)


def _output_ok(program, model, out: torch.Tensor) -> None:
    assert out.dtype == torch.float32
    if program.head.task == "ctr":
        assert out.shape == (B,)
    else:
        d = model.head.out_shape.dim
        assert d > 0 and out.shape == (B, d)
    assert torch.isfinite(out).all()


def test_the_fixed_specs_are_there():
    assert len(FIXED_NAMES) >= 10
    assert "sasrec" in FIXED_NAMES and "deepfm" in FIXED_NAMES


@pytest.mark.parametrize("name", FIXED_NAMES)
def test_forward_shape_and_finite_gradients(name):
    program, ds, model = _model(name)
    assert isinstance(model, torch.fx.GraphModule)
    assert model.task == program.head.task
    model.train()
    batch = first_batch(ds, B)
    out = model(batch)
    _output_ok(program, model, out)
    if program.head.task == "ctr":
        loss = torch.nn.functional.binary_cross_entropy_with_logits(out, batch["label"])
    else:
        loss = out.pow(2).mean()
    loss.backward()
    params = dict(model.named_parameters())
    assert params, "a model without parameters"
    unused = sorted(n for n, p in params.items() if p.grad is None)
    assert not unused, f"parameters that take no part in the forward pass: {unused}"
    bad = sorted(n for n, p in params.items() if not torch.isfinite(p.grad).all())
    assert not bad, f"non-finite gradients: {bad}"
    assert any(p.grad.abs().sum() > 0 for p in params.values())


@pytest.mark.parametrize("name", FIXED_NAMES)
def test_eval_is_deterministic(name):
    program, ds, model = _model(name)
    model.eval()
    batch = first_batch(ds, B, split="valid")
    with torch.no_grad():
        a, b = model(batch), model(batch)
    _output_ok(program, model, a)
    assert torch.equal(a, b)


@pytest.mark.parametrize("name", FIXED_NAMES)
def test_cli_emit_fx(name, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)  # so the spec path is stamped as specs/<name>.nas
    result = CliRunner().invoke(main, ["compile", spec_rel(name), "--emit", "fx",
                                       "--out-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "def forward" in result.output
    assert "self.head" in result.output
    # the printed code is the fx model's code
    _, _, model = _model(name)
    assert result.output.strip() == model.code.strip()


def test_cli_emit_fx_refuses_a_search_space(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(main, ["compile", "specs/autopi.nas", "--emit", "fx",
                                       "--out-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "fixed architecture" in result.output


@pytest.mark.parametrize("name", FIXED_NAMES)
def test_fx_model_pickles_and_state_dict_loads_weights_only(name):
    program, ds, model = _model(name)
    model.eval()
    batch = first_batch(ds, B)
    with torch.no_grad():
        want = model(batch)

    buf = io.BytesIO()
    torch.save(model, buf)
    buf.seek(0)
    again = torch.load(buf, weights_only=False)
    again.eval()
    with torch.no_grad():
        assert torch.equal(again(batch), want)
    assert again.task == model.task
    calls = lambda m: [(n.op, n.target) for n in m.graph.nodes]  # noqa: E731 (names may differ)
    assert calls(again) == calls(model)

    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    buf.seek(0)
    state = torch.load(buf, weights_only=True)
    torch.manual_seed(123)  # a differently initialised copy of the architecture
    fresh = build_fixed(program, ds.schema)
    fresh.load_state_dict(state)
    fresh.eval()
    with torch.no_grad():
        assert torch.equal(fresh(batch), want)


WEIGHTED_BRANCHES = """model two_branch {
  input fields: categorical
  emb = embed(fields, dim=4)
  deep = logit(flatten(emb))
  pairwise = fm_logit(emb)
  head ctr(logit(concat(deep, pairwise)))
}
"""


def test_logit_over_branch_logits_is_their_learned_weighting():
    """`logit(concat(l1, l2))`, FuxiCTR's AFN+ head, gives w1 l1 + w2 l2 + b in the fx model."""
    _, program = compile_text(WEIGHTED_BRANCHES)
    ds = dataset(False)
    torch.manual_seed(0)
    model = build_fixed(program, ds.schema).eval()
    with torch.no_grad():
        model.head_in0.linear.weight.copy_(torch.tensor([[0.5, -2.0]]))
        model.head_in0.linear.bias.fill_(0.25)
        model.head.bias.fill_(0.125)
    batch = first_batch(ds, B)
    with torch.no_grad():
        emb = model.emb(batch["fields"])
        deep = emb.flatten(1) @ model.deep.linear.weight[0] + model.deep.linear.bias
        pairwise = model.pairwise(emb)
        expected = 0.5 * deep - 2.0 * pairwise + 0.25 + 0.125
        assert torch.allclose(model(batch), expected, atol=1e-6)
