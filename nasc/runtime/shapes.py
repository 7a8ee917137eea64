"""What flows between modules at build time: a ``Shape``, and operator specs as plain data.

No torch: a Shape is read off the dataset's schema and the modules already built, so one
generated file serves every dataset.
"""
from __future__ import annotations

from dataclasses import dataclass


# ----------------------------------------------------------------------------------------- shapes
@dataclass(frozen=True)
class Shape:
    """What flows along an edge: ``kind`` plus fields ``m`` and width ``dim`` where they apply.

    matrix (B, m, dim); sequence (B, T, dim); vector (B, dim); logit (B,);
    ids / seq_ids / target_ids: index tensors, with the vocabulary sizes of their fields;
    ``bag_len`` (ids only): L ids per multi-hot field after the categorical ones, 0 for none.
    """

    kind: str
    fields: int = 0
    dim: int = 0
    vocab: tuple[int, ...] = ()
    bag_len: int = 0

    @property
    def flat(self) -> int:
        return {"matrix": self.fields * self.dim, "vector": self.dim, "logit": 1,
                "sequence": self.dim}[self.kind]


def _shaped(module, shape: Shape):
    module.out_shape = shape
    return module


def _spec(spec) -> tuple[str, dict]:
    """``"fm"`` or ``("senet", (("reduction", 3),))`` -> (name, params)."""
    if isinstance(spec, str):
        return spec, {}
    name, params = spec
    return name, dict(params)


def spec_text(spec) -> str:
    """The option as a spec writes it (default parameters left out), matching OpUse.text()."""
    from nasc.compiler.operators import OPERATORS
    from nasc.compiler.program import OpUse

    name, params = _spec(spec)
    return OpUse(name, tuple(params.items())).text() if name in OPERATORS else name
