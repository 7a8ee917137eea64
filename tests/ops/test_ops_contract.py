"""Every operator: output shape, float64, gradients to every parameter, pickling, finite outputs."""
from __future__ import annotations

import copy
import pickle

import pytest
import torch

from nasc.runtime.ops import OPS
from kit.opskit import ALL_CASES, POOL_CASES, SEQUENCE_CASES, expected_shape, has_mask, rand, set_padding


def _float_inputs(inputs):
    return [x for x in inputs if x.is_floating_point()]


@pytest.mark.parametrize("name", sorted(ALL_CASES))
def test_shape_dtype_and_gradients(name):
    build, make_inputs = ALL_CASES[name]
    torch.manual_seed(0)
    op = build().double().train()
    inputs = make_inputs()
    for x in _float_inputs(inputs):
        x.requires_grad_(True)
    out = op(*inputs)
    assert tuple(out.shape) == expected_shape(name, inputs)
    assert out.dtype == torch.float64
    assert torch.isfinite(out).all()
    # a random weighting: a plain sum can make some gradients vanish by symmetry (e.g. after BN)
    loss = (out * rand(*out.shape, seed=9)).sum() + (out ** 2).sum()
    loss.backward()
    for pname, p in op.named_parameters():
        assert p.grad is not None, f"{name}: no gradient reached {pname}"
        assert torch.isfinite(p.grad).all(), f"{name}: non-finite gradient in {pname}"
    for x in _float_inputs(inputs):
        if name not in ("zero", "zero_matrix", "fm_one_field"):  # constant outputs
            assert x.grad is not None and torch.isfinite(x.grad).all()


@pytest.mark.parametrize("name", sorted(ALL_CASES))
def test_pickle_and_deepcopy_keep_behaviour(name):
    build, make_inputs = ALL_CASES[name]
    torch.manual_seed(0)
    op = build().double().eval()  # eval: no noise, no dropout, running statistics
    inputs = make_inputs()
    expected = op(*inputs)
    for clone in (pickle.loads(pickle.dumps(op)), copy.deepcopy(op)):
        torch.testing.assert_close(clone(*inputs), expected, rtol=0, atol=0)


@pytest.mark.parametrize("name", sorted({**SEQUENCE_CASES, **POOL_CASES}))
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_padding_never_reaches_real_positions(name, mode):
    build, make_inputs = {**SEQUENCE_CASES, **POOL_CASES}[name]
    torch.manual_seed(0)
    op = build().double().train(mode == "train")
    x, mask, *rest = make_inputs()
    assert has_mask((x, mask))
    garbage = rand(*x.shape, seed=5) * 1e3
    out = op(x, mask, *rest)
    out_garbage = op(set_padding(x, mask, garbage), mask, *rest)
    torch.testing.assert_close(out_garbage, out, rtol=1e-12, atol=1e-12)
    if out.dim() == 3:  # sequence ops: padded outputs are exactly zero
        assert (out[~mask] == 0).all()
    else:  # pooling: a row without real positions pools to zero
        assert (out[~mask.any(1)] == 0).all()
    assert torch.isfinite(out).all()


def test_every_operator_a_spec_can_build_has_an_implementation():
    """Every operator but cell merges, optimizers and `embed` (built by nx.embed, from the
    schema) names a module class; OPS is derived from those names."""
    from nasc.compiler.operators import OPERATORS

    for name, sig in OPERATORS.items():
        built_elsewhere = sig.roles <= {"merge", "optimizer"} or name == "embed"
        assert (sig.impl is None) == built_elsewhere, name
    assert set(OPS) == {n for n, sig in OPERATORS.items() if sig.impl}
    assert all(isinstance(cls, type) and issubclass(cls, torch.nn.Module) for cls in OPS.values())


def test_activations_build_uniformly_from_dim():
    x = rand(3, 4)
    for name in ("relu", "gelu", "swish", "identity", "sigmoid", "tanh", "dice"):
        assert OPS[name](4).double()(x).shape == (3, 4)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", sorted(ALL_CASES))
def test_runs_on_cuda_like_on_cpu(name):
    build, make_inputs = ALL_CASES[name]
    torch.manual_seed(0)
    op = build().double().eval()
    inputs = make_inputs()
    expected = op(*inputs)
    got = op.to("cuda")(*[x.to("cuda") for x in inputs])
    assert got.device.type == "cuda"
    torch.testing.assert_close(got.cpu(), expected, rtol=1e-9, atol=1e-9)
