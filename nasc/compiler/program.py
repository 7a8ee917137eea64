"""The checked program: the typed, resolved view of a valid Spec that later stages read.

The checks (``checks.py``) build it; codegen, the fx builder, the space summary and the
strategies consume it. Every choice carries its stable label: ``cell.node3`` (which inputs a
cell node keeps), ``cell.edge0_3`` (the operator on an edge), ``stack.block2.layer``,
``cross.tuples``, ``agg.layer1.width``, or the node's own name for a node-level choice.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from nasc.compiler import ir


@dataclass(frozen=True)
class OpUse:
    """One operator with its parameters resolved (defaults filled in)."""

    name: str
    params: tuple[tuple[str, object], ...] = ()

    def param(self, key: str, default=None):
        return dict(self.params).get(key, default)

    def text(self) -> str:
        """The operator as a spec writes it: parameters left at their default are omitted."""
        from nasc.compiler.operators import OPERATORS

        sig = OPERATORS.get(self.name)
        shown = [(k, v) for k, v in self.params
                 if sig is None or sig.param(k) is None or sig.param(k).default != v]
        if not shown:
            return self.name
        return f"{self.name}(" + ", ".join(f"{k}={literal(v)}" for k, v in shown) + ")"


def literal(v) -> str:
    """A parameter value as a spec writes it (true, [1, 2], 0.5)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(literal(x) for x in v) + "]"
    if isinstance(v, float):
        from nasc.compiler.printer import float_text
        return float_text(v)
    return str(v)


@dataclass(frozen=True)
class OpChoice:
    """A choice of one operator among ``options`` (a single option means fixed)."""

    label: str
    options: tuple[OpUse, ...]
    span: ir.Span = ir.NO_SPAN
    opset: str | None = None  # the named opset it came from, if any

    @property
    def fixed(self) -> bool:
        return len(self.options) == 1


# ----------------------------------------------------------------------------------- expressions
@dataclass(frozen=True)
class NameRef:
    name: str
    kind: str


@dataclass(frozen=True)
class Apply:
    """An operator (or a labelled choice of operators) applied to input expressions."""

    op: OpChoice
    args: tuple["Expr", ...]
    kind: str


Expr = Union[NameRef, Apply]


# ------------------------------------------------------------------------------------- bindings
@dataclass(frozen=True)
class InputDef:
    name: str
    type: str
    kind: str
    params: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True)
class NodeDef:
    name: str
    expr: Expr
    kind: str


@dataclass(frozen=True)
class CellDef:
    name: str
    inputs: tuple[Expr, ...]
    nodes: int
    searched: bool  # `edges S`: every edge i -> j chooses from S, nodes keep `keep` inputs
    edges: tuple[tuple[int, int, OpChoice], ...]
    keep: int
    norm: OpUse
    merge: OpUse
    kind: str  # matrix, or vector for concat

    @property
    def num_inputs(self) -> int:
        return len(self.inputs)

    def node_label(self, j: int) -> str:
        return f"{self.name}.node{j}"

    def intermediate(self) -> range:
        return range(self.num_inputs, self.num_inputs + self.nodes)


@dataclass(frozen=True)
class BlockDef:
    norm: OpChoice
    layer: OpChoice
    act: OpChoice
    dropout: float


@dataclass(frozen=True)
class BlocksDef:
    name: str
    input: Expr
    target: Expr | None
    blocks: tuple[BlockDef, ...]
    kind: str = "sequence"


@dataclass(frozen=True)
class InteractionsDef:
    name: str
    input: Expr
    cycles: int
    survivors: int
    keep: int
    order: int
    tuples: tuple[tuple[str, ...], ...] | None  # fixed when given
    kind: str = "matrix"

    @property
    def label(self) -> str:
        return f"{self.name}.tuples"


@dataclass(frozen=True)
class WidthChoice:
    label: str
    options: tuple[float | int, ...]
    span: ir.Span = ir.NO_SPAN

    @property
    def fixed(self) -> bool:
        return len(self.options) == 1


@dataclass(frozen=True)
class LayerDef:
    width: WidthChoice
    act: OpChoice


@dataclass(frozen=True)
class ShortcutDef:
    inputs: tuple[Expr, ...]
    expansion: float


@dataclass(frozen=True)
class MlpDef:
    name: str
    input: Expr
    layers: tuple[LayerDef, ...]
    fractional: bool  # widths are fractions of the input width
    monotone: bool
    dropout: float
    batch_norm: bool
    shortcut: ShortcutDef | None
    kind: str = "vector"


@dataclass(frozen=True)
class HeadDef:
    task: str
    inputs: tuple[Expr, ...]
    items: str | None = None
    projection: str = "linear"  # next_item: W between the user vector and the item table, or none


Binding = Union[InputDef, NodeDef, CellDef, BlocksDef, InteractionsDef, MlpDef]


@dataclass(frozen=True)
class StrategyDef:
    name: str
    settings: dict
    stages: dict[str, dict] = field(default_factory=dict)
    span: ir.Span = ir.NO_SPAN  # the search block's, for errors found while searching


@dataclass(frozen=True)
class Program:
    spec: ir.Spec
    path: str
    name: str
    bindings: tuple[Binding, ...]
    head: HeadDef
    strategy: StrategyDef | None
    train: dict

    def binding(self, name: str) -> Binding:
        for b in self.bindings:
            if b.name == name:
                return b
        raise KeyError(name)
