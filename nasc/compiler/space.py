"""The search space of a checked program: its labelled choices and its exact size.

Sizes count distinct discrete architectures:
  cell (searched)   node j with p inputs keeps k' = min(keep, p) of them, each with an operator:
                    sum over k'-subsets S of the inputs of prod_{i in S} |O_ij|
  blocks            per block |norm| x |act| x (|layer| - 1) + 1 when `zero` is a layer (a zero
                    layer makes its norm and activation irrelevant), else the plain product
  interactions      C(T(m), M) with T(m) = sum_{o=2..r} C(m, o) products of distinct fields;
                    it depends on the number of fields m, bound when a dataset is attached
  mlp               width sequences allowed by `monotone` (counted exactly) x activations
  node choice       |opset|
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from nasc.compiler.program import (
    Apply, BlocksDef, CellDef, InteractionsDef, MlpDef, NodeDef, OpChoice, Program,
)


@dataclass(frozen=True)
class Choice:
    label: str
    owner: str        # the statement that holds it
    construct: str    # cell | blocks | interactions | mlp | node
    options: tuple[str, ...]
    detail: str = ""


def choices(program: Program) -> list[Choice]:
    """Every open choice, in source order, with its stable label."""
    out: list[Choice] = []
    for b in program.bindings:
        if isinstance(b, NodeDef):
            for op in _expr_choices(b.expr):
                out.append(Choice(op.label, b.name, "node", tuple(o.text() for o in op.options)))
        elif isinstance(b, CellDef):
            out.extend(_cell_choices(b))
        elif isinstance(b, BlocksDef):
            for n, block in enumerate(b.blocks, start=1):
                for part in (block.norm, block.layer, block.act):
                    if not part.fixed:
                        out.append(Choice(part.label, b.name, "blocks",
                                          tuple(o.text() for o in part.options)))
        elif isinstance(b, InteractionsDef) and b.tuples is None:
            out.append(Choice(b.label, b.name, "interactions", (),
                              f"keep {b.keep} of the Hadamard products of order 2..{b.order} "
                              f"({b.cycles} cycles, {b.survivors} survivors each)"))
        elif isinstance(b, MlpDef):
            for layer in b.layers:
                for part, texts in ((layer.width, tuple(_width(w) for w in layer.width.options)),
                                    (layer.act, tuple(o.text() for o in layer.act.options))):
                    if not part.fixed:
                        out.append(Choice(part.label, b.name, "mlp", texts,
                                          "fraction of the input width"
                                          if part is layer.width and b.fractional else ""))
    return out


def _width(w) -> str:
    return repr(w) if isinstance(w, float) else str(w)


def _expr_choices(expr) -> list[OpChoice]:
    if not isinstance(expr, Apply):
        return []
    found = [expr.op] if not expr.op.fixed else []
    for a in expr.args:
        found.extend(_expr_choices(a))
    return found


def _cell_choices(cell: CellDef) -> list[Choice]:
    out = []
    if cell.searched:
        for j in cell.intermediate():
            keep = min(cell.keep, j)
            ops = cell.edges[0][2].options
            out.append(Choice(cell.node_label(j), cell.name, "cell",
                              tuple(o.text() for o in ops),
                              f"keeps {keep} of inputs 0..{j - 1}, each through one operator"))
    else:
        for i, j, choice in cell.edges:
            if not choice.fixed:
                out.append(Choice(choice.label, cell.name, "cell",
                                  tuple(o.text() for o in choice.options)))
    return out


# ------------------------------------------------------------------------------------------ size
@dataclass(frozen=True)
class SpaceSize:
    fixed_part: int            # the factor that does not depend on m
    per_m: tuple[str, ...]     # formulas of the factors that do
    exact: int | None          # the whole size, when m is known or nothing depends on it

    @property
    def log10(self) -> float | None:
        return _log10(self.exact) if self.exact is not None else None


def _log10(n: int) -> float:
    return math.log10(n) if n < 10 ** 300 else len(str(n)) - 1 + math.log10(int(str(n)[:15]) / 1e14)


def space_size(program: Program, num_fields: int | None = None) -> SpaceSize:
    fixed, formulas, m_factors = 1, [], []
    for b in program.bindings:
        if isinstance(b, NodeDef):
            for op in _expr_choices(b.expr):
                fixed *= len(op.options)
        elif isinstance(b, CellDef):
            fixed *= cell_size(b)
        elif isinstance(b, BlocksDef):
            for block in b.blocks:
                fixed *= block_size(block)
        elif isinstance(b, MlpDef):
            fixed *= mlp_size(b)
        elif isinstance(b, InteractionsDef) and b.tuples is None:
            formulas.append(f"C(sum_{{o=2..{b.order}}} C(m, o), {b.keep})  [{b.name}]")
            m_factors.append(b)
    if not m_factors:
        return SpaceSize(fixed, (), fixed)
    if num_fields is None:
        return SpaceSize(fixed, tuple(formulas), None)
    total = fixed
    for b in m_factors:
        total *= interactions_size(b, num_fields)
    return SpaceSize(fixed, tuple(formulas), total)


def cell_size(cell: CellDef) -> int:
    if not cell.searched:
        return math.prod(len(c.options) for _, _, c in cell.edges)
    total = 1
    for j in cell.intermediate():
        incoming = {i: len(c.options) for i, dst, c in cell.edges if dst == j}
        keep = min(cell.keep, len(incoming))
        total *= sum(math.prod(incoming[i] for i in subset)
                     for subset in itertools.combinations(sorted(incoming), keep))
    return total


def block_size(block) -> int:
    norms, layers, acts = (len(block.norm.options), len(block.layer.options),
                           len(block.act.options))
    if any(o.name == "zero" for o in block.layer.options):
        return norms * acts * (layers - 1) + 1
    return norms * layers * acts


def interactions_size(b: InteractionsDef, m: int) -> int:
    candidates = sum(math.comb(m, o) for o in range(2, b.order + 1))
    return math.comb(candidates, b.keep)


def mlp_size(mlp: MlpDef) -> int:
    """Width sequences (non-increasing when monotone) times activation choices."""
    ways: dict[float, int] = {w: 1 for w in mlp.layers[0].width.options} if mlp.layers else {}
    for layer in mlp.layers[1:]:
        nxt = {}
        for w in layer.width.options:
            nxt[w] = sum(n for prev, n in ways.items() if not mlp.monotone or w <= prev)
        ways = nxt
    widths = sum(ways.values()) if mlp.layers else 1
    return widths * math.prod(len(layer.act.options) for layer in mlp.layers)
