"""The IR: an immutable pydantic tree that mirrors the grammar one rule to one class.

Every node keeps its source ``span``. Spans are location metadata, not meaning: two spans always
compare equal, so ``parse(print(ir)) == ir`` holds although printing moves text around.
Construct bodies stay generic (ordered settings, with their comments) so that formatting never
reorders or drops what a person wrote; ``nasc.compiler.resolve`` resolves each construct into its
typed definition (``nasc.compiler.program``), against the tables of ``nasc.compiler.settings``.
"""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field


class Span(BaseModel):
    """1-based line/column of a node's first and last character (0 when synthesised)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    line: int = 0
    column: int = 0
    end_line: int = 0
    end_column: int = 0

    def __eq__(self, other: object) -> bool:  # spans never decide equality of the tree
        return isinstance(other, Span)

    def __hash__(self) -> int:
        return 0


NO_SPAN = Span()


class IRNode(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    span: Span = Field(default=NO_SPAN, repr=False)


# ---------------------------------------------------------------------------------------- values
class Int(IRNode):
    kind: Literal["int"] = "int"
    value: int


class Float(IRNode):
    kind: Literal["float"] = "float"
    value: float


class Str(IRNode):
    kind: Literal["str"] = "str"
    value: str  # the text between the quotes, escapes kept as written


class Bool(IRNode):
    kind: Literal["bool"] = "bool"
    value: bool


class Ref(IRNode):
    """A bare name: a node, an operator, an opset, a field or an enum word, by context."""

    kind: Literal["ref"] = "ref"
    name: str


class Param(IRNode):
    name: str
    value: Value


class Call(IRNode):
    """``name(args..., key=value...)``: an operator applied to inputs, or a parameterised op."""

    kind: Literal["call"] = "call"
    name: str
    args: tuple[Value, ...] = ()
    params: tuple[Param, ...] = ()


class Product(IRNode):
    """``a * b * c``: a Hadamard product of named fields (AMEIR interactions)."""

    kind: Literal["product"] = "product"
    names: tuple[str, ...]


class List(IRNode):
    kind: Literal["list"] = "list"
    items: tuple[Value, ...] = ()


class Set(IRNode):
    """``{ a, b }``: a choice among its items, wherever a setting accepts one."""

    kind: Literal["set"] = "set"
    items: tuple[Value, ...]


Value = Annotated[
    Union[Int, Float, Str, Bool, Ref, Call, Product, List, Set], Field(discriminator="kind")
]


# ------------------------------------------------------------------------------------ statements
class Stmt(IRNode):
    """Anything that sits on its own line: it keeps the comments written above it (``comments``)
    and the one written after it on the same line (``note``)."""

    comments: tuple[str, ...] = ()
    note: str | None = None


class Setting(Stmt):
    """``key value`` or a bare flag ``key``."""

    kind: Literal["setting"] = "setting"
    key: str
    value: Value | None = None


class NestedSetting(Stmt):
    """``key arg { ... }``: per-item overrides (``block 2 { layer zero }``) or named sub-blocks."""

    kind: Literal["nested"] = "nested"
    key: str
    arg: int | str
    body: Body


class EdgeSetting(Stmt):
    """``edge 0 -> 2: fm``: one cell edge and its operator (or a choice of operators)."""

    kind: Literal["edge"] = "edge"
    src: int
    dst: int
    value: Value


SettingItem = Annotated[Union[Setting, NestedSetting, EdgeSetting], Field(discriminator="kind")]


class Body(IRNode):
    items: tuple[SettingItem, ...] = ()
    end_comments: tuple[str, ...] = ()  # comments after the last item, before ``}``

    def get(self, key: str) -> SettingItem | None:
        """The last setting named ``key`` (duplicates are reported by the checks)."""
        found = None
        for item in self.items:
            if item.key == key:
                found = item
        return found


class Input(Stmt):
    kind: Literal["input"] = "input"
    name: str
    type: str  # categorical | sequence | target | dense
    params: tuple[Param, ...] = ()


class OpSet(Stmt):
    kind: Literal["opset"] = "opset"
    name: str
    ops: Set


class Node(Stmt):
    kind: Literal["node"] = "node"
    name: str
    value: Value


ConstructType = Literal["cell", "blocks", "interactions", "mlp", "head"]


class Construct(Stmt):
    """``cell NAME(inputs) { settings }`` and its siblings blocks, interactions, mlp, head."""

    kind: Literal["construct"] = "construct"
    type: ConstructType
    name: str
    args: tuple[Value, ...] = ()
    params: tuple[Param, ...] = ()
    body: Body | None = None


Statement = Annotated[Union[Input, OpSet, Node, Construct], Field(discriminator="kind")]


class Model(Stmt):
    name: str
    statements: tuple[Statement, ...] = ()
    end_comments: tuple[str, ...] = ()

    def find(self, name: str) -> Statement | None:
        for stmt in self.statements:
            if stmt.name == name:
                return stmt
        return None


class Search(Stmt):
    strategy: str
    body: Body = Body()


class Train(Stmt):
    body: Body = Body()


class Spec(IRNode):
    model: Model | None = None
    search: Search | None = None
    train: Train | None = None
    end_comments: tuple[str, ...] = ()


for _cls in (Param, Call, List, Set, Setting, NestedSetting, EdgeSetting, Body, Construct):
    _cls.model_rebuild()
