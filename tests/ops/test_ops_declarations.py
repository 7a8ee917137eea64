"""Each operator's declaration (nasc.compiler.operators) against what its module does: built by
the runtime builder from sample input shapes, the tensor it returns has the shape its declared
rule gives, for every input kind it declares. The expected shapes come from the declarations,
so a new operator is tested here by being declared."""
from __future__ import annotations

import pytest
import torch

from nasc.compiler.operators import OPERATORS
from nasc.runtime import factory
from nasc.runtime.factory import Shape

from kit.opskit import mixed_mask, rand

B, M, K, T = 5, 4, 6, 7
SAMPLE = {  # one sample shape per kind, and a batch of it
    "matrix": Shape("matrix", M, K),
    "sequence": Shape("sequence", 1, K),
    "vector": Shape("vector", 0, 3 * K),
    "logit": Shape("logit"),
    "ids": Shape("ids", 3, 0, (3, 5, 4)),
}


def _tensors(shape: Shape, seed: int) -> list[torch.Tensor]:
    """A batch of ``shape`` (a sequence brings its mask)."""
    if shape.kind == "matrix":
        return [rand(B, shape.fields, shape.dim, seed=seed)]
    if shape.kind == "sequence":
        return [rand(B, T, shape.dim, seed=seed), mixed_mask(B, T)]
    if shape.kind == "vector":
        return [rand(B, shape.dim, seed=seed)]
    if shape.kind == "logit":
        return [rand(B, seed=seed)]
    g = torch.Generator().manual_seed(seed)
    return [torch.stack([torch.randint(0, v, (B,), generator=g) for v in shape.vocab], dim=1)]


def _batch_shape(shape: Shape) -> tuple[int, ...]:
    return {"matrix": (B, shape.fields, shape.dim), "sequence": (B, T, shape.dim),
            "vector": (B, shape.dim), "logit": (B,)}[shape.kind]


def _input_shapes(sig, first: str) -> list[Shape]:
    """The first input of kind ``first``; a repeatable input twice; a later input (the target
    of target_attention_pool) as a vector as wide as a sequence step."""
    shapes = [SAMPLE[first]]
    if sig.variadic:
        shapes.append(SAMPLE[first])
    for kinds in sig.inputs[1:]:
        shapes.append(Shape("vector", 0, K) if kinds[0] == "vector" else SAMPLE[kinds[0]])
    return shapes


def cases():
    for name, sig in sorted(OPERATORS.items()):
        for first in sig.inputs[0] if sig.impl else ():
            yield pytest.param(name, first, id=f"{name}-{first}")


@pytest.mark.parametrize("name, first", list(cases()))
def test_built_module_returns_the_declared_shape(name, first):
    sig = OPERATORS[name]
    shapes = _input_shapes(sig, first)
    torch.manual_seed(0)
    module = factory.op(name, shapes).double().eval()
    inputs = [t for i, shape in enumerate(shapes) for t in _tensors(shape, seed=i)]
    if sig.needs_target:
        inputs.append(rand(B, K, seed=9))
    with torch.no_grad():
        out = module(*inputs)
    declared = module.out_shape
    if sig.shape == "same":
        assert declared == shapes[0]
    else:
        assert declared.kind == sig.output
    assert tuple(out.shape) == _batch_shape(declared), (sig.shape, declared)


def test_every_buildable_operator_is_exercised():
    exercised = {p.values[0] for p in cases()}
    assert exercised == {n for n, sig in OPERATORS.items() if sig.impl}
