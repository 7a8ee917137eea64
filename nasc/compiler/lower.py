"""Lowering: a checked Program -> a Plan, the straight-line recipe of a PyTorch model.

A Plan has two parts, both plain data:
  init     ``self.<attr> = nx.<factory>(...)`` steps that build every module from the dataset
           schema (shapes are read from ``<module>.out_shape`` at run time, so one plan serves
           every dataset);
  forward  ``out = self.<attr>(inputs...)`` steps, or ``x = batch["key"]``.

The same Plan is rendered as Python source by ``codegen`` (the supernet in generated/), turned
into a ``torch.fx.Graph`` by ``fx`` and materialised by ``nasc.runtime.model.materialize``: one
lowering, so the readable module and the fx model cannot drift apart.

Modes: ``supernet`` keeps every choice as a choice module (mixed edges with alpha, cell nodes
with beta, one-of blocks, sliced MLP layers); ``fixed`` requires a program with no open choice
and builds only the chosen operators, at the same module paths, so the weights of a supernet
with a path fixed load into the fixed model (a one-of at path P maps P.candidates.i -> P).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Union

from nasc.compiler.program import (
    Apply, BlocksDef, CellDef, Expr, InputDef, InteractionsDef, MlpDef, NameRef, NodeDef,
    OpChoice, OpUse, Program,
)


# ------------------------------------------------------------------------------------ plan data
@dataclass(frozen=True)
class Var:
    """A name: a local (``high``), the schema, or a dotted attribute (``self.high.out_shape``)."""

    name: str


@dataclass(frozen=True)
class Const:
    value: object  # int, float, str, bool, None, or a tuple of those


@dataclass(frozen=True)
class ListArg:
    items: tuple["Arg", ...]


@dataclass(frozen=True)
class DictArg:
    items: tuple[tuple[object, "Arg"], ...]


@dataclass(frozen=True)
class CallArg:
    """A call of a runtime factory ``nx.<factory>(args..., key=value...)``."""

    factory: str
    args: tuple["Arg", ...] = ()
    kwargs: tuple[tuple[str, "Arg"], ...] = ()


Arg = Union[Var, Const, ListArg, DictArg, CallArg]


@dataclass(frozen=True)
class Build:
    attr: str  # module attribute on the model
    value: CallArg
    comment: str = ""


@dataclass(frozen=True)
class Let:
    """``name = value`` in ``__init__``: a shape shared by the modules that follow."""

    name: str
    value: Arg


@dataclass(frozen=True)
class Step:
    """``out = self.<module>(*args)``; ``out = batch[key]``; or, with neither, ``out = args[0]``."""

    out: str
    module: str | None
    args: tuple[str, ...] = ()
    key: str | None = None
    comment: str = ""


@dataclass(frozen=True)
class Section:
    title: str


@dataclass
class Plan:
    name: str
    mode: str
    init: list[Build | Let | Section] = field(default_factory=list)
    # option tables: NAME -> ((op, {param: value}), ...), shared by the choices that use them
    constants: dict[str, tuple] = field(default_factory=dict)
    forward: list[Step | Section] = field(default_factory=list)
    output: str = ""
    task: str = "ctr"
    items: str | None = None  # next_item: the embedding attribute whose table scores items

    @property
    def modules(self) -> list[Build]:
        return [b for b in self.init if isinstance(b, Build)]


KIND_COMMENT = {
    "matrix": "(B, m, k) field matrix", "sequence": "(B, T, d) sequence",
    "vector": "(B, d)", "logit": "(B,) logit", "ids": "(B, m) field ids",
    "seq_ids": "(B, T, n) sequence ids", "target_ids": "(B, n) target ids",
}
_BATCH_KEYS = {"categorical": "fields", "sequence": "sequence", "target": "target",
               "dense": "dense"}


def op_spec(op: OpUse) -> tuple:
    """An operator as plain data: ``("senet", (("reduction", 3),))``."""
    return (op.name, tuple(op.params))


# -------------------------------------------------------------------------------------- lowering
class FixedModeError(ValueError):
    pass


class _Lowering:
    def __init__(self, program: Program, mode: str):
        self.program = program
        self.mode = mode
        self.plan = Plan(program.name, mode, task=program.head.task)
        self.shape: dict[str, Arg] = {}   # forward variable -> its shape, for init
        self.mask: dict[str, str] = {}    # sequence variable -> its mask variable
        # Every name a spec defines is taken first; internal names get a suffix on a clash.
        self.taken: set[str] = {b.name for b in program.bindings}
        self.in_searched_cell = False

    def fresh(self, base: str) -> str:
        name, n = base, 2
        while name in self.taken:
            name, n = f"{base}_{n}", n + 1
        self.taken.add(name)
        return name

    # ---- helpers
    def table(self, choice: OpChoice) -> Var:
        """The name of the option table of a choice (one constant per distinct option list)."""
        specs = tuple(op_spec(o) for o in choice.options)
        for name, value in self.plan.constants.items():
            if value == specs:
                return Var(name)
        base = choice.opset or re.sub(r"\d+", "", choice.label).replace(".", "_")
        name = base.upper()
        while name in self.plan.constants:
            name += "_"
        self.plan.constants[name] = specs
        return Var(name)

    def choice(self, choice: OpChoice, shapes: list[Arg], factory: str,
               relaxable: bool, extra: tuple = (), starts_fixed: bool = False) -> CallArg:
        """A one-of module over ``choice`` in supernet mode; the chosen module when fixed.
        ``starts_fixed``: a relaxable one-of fixed to its first option until a strategy relaxes
        it (``mixed_op``), so one-shot strategies see it as they did before it was relaxable.

        A single option is built directly in both modes (no one-of, no architecture weight), so
        supernet and fixed model keep it at the same path. Searched cells are the exception: their
        nodes pick among mixed edges, whatever the number of options (see ``cell``)."""
        if self.mode == "fixed" or (choice.fixed and not (factory == "edge_op" and relaxable
                                                          and self.in_searched_cell)):
            if not choice.fixed:
                raise FixedModeError(f"`{choice.label}` is still a choice")
            return CallArg(factory, (Const(op_spec(choice.options[0])), ListArg(tuple(shapes)))
                           + extra)
        if factory == "edge_op":
            return CallArg("mixed_edge", (Const(choice.label), self.table(choice), shapes[0])
                           + extra)
        args = (Const(choice.label), self.table(choice), ListArg(tuple(shapes))) + extra
        if starts_fixed:
            return CallArg("mixed_op", args, (("factory", Const(factory)),))
        return CallArg("one_of", args,
                       (("factory", Const(factory)), ("relaxable", Const(relaxable))))

    def module(self, attr: str, value: CallArg, comment: str = "") -> None:
        self.plan.init.append(Build(attr, value, comment))

    def step(self, out: str, module: str, args: list[str], kind: str, comment: str = "") -> None:
        self.plan.forward.append(Step(out, module, tuple(args), comment=comment or
                                      KIND_COMMENT.get(kind, "")))
        self.shape[out] = Var(f"self.{module}.out_shape")

    def seq_args(self, var: str) -> list[str]:
        return [var, self.mask[var]]

    # ---- program
    def run(self) -> Plan:
        for b in self.program.bindings:
            self.plan.init.append(Section(_title(b)))
            self.plan.forward.append(Section(_title(b)))
            if isinstance(b, InputDef):
                self.input(b)
            elif isinstance(b, NodeDef):
                self.expr(b.expr, b.name)
            elif isinstance(b, CellDef):
                self.cell(b)
            elif isinstance(b, BlocksDef):
                self.blocks(b)
            elif isinstance(b, InteractionsDef):
                self.interactions(b)
            elif isinstance(b, MlpDef):
                self.mlp(b)
        self.head()
        return self.plan

    def input(self, b: InputDef) -> None:
        key = _BATCH_KEYS[b.type]
        self.plan.forward.append(Step(b.name, None, key=key, comment=KIND_COMMENT[b.kind]))
        self.shape[b.name] = CallArg("input_shape", (Var("schema"), Const(b.type)),
                                     tuple((k, Const(v)) for k, v in b.params))
        if b.type == "sequence":
            mask = self.fresh(f"{b.name}_mask")
            self.plan.forward.append(Step(mask, None, key="seq_mask", comment="(B, T) real positions"))
            self.mask[b.name] = mask

    def expr(self, e: Expr, name: str) -> str:
        """Lower an expression; its value is stored in variable ``name``."""
        if isinstance(e, NameRef):
            return e.name
        args = [self.expr(a, self.fresh(f"{name}_{i}") if isinstance(a, Apply) else "")
                for i, a in enumerate(e.args)]
        shapes = [self.shape[a] for a in args]
        op0 = e.op.options[0]
        if op0.name == "embed":
            self.module(name, CallArg("embed", (Var("schema"), Const(self.input_type(args[0]))),
                                      tuple((k, Const(v)) for k, v in op0.params)))
        else:
            self.module(name, self.choice(e.op, shapes, "op", relaxable=True))
        call_args = []
        for a, sub in zip(args, e.args):
            call_args += self.seq_args(a) if sub.kind == "sequence" else [a]
        self.step(name, name, call_args, e.kind)
        if e.kind == "sequence":
            src = next(a for a in args if a in self.mask)
            self.mask[name] = self.mask[src]
        return name

    def input_type(self, var: str) -> str:
        b = self.program.binding(var)
        if not isinstance(b, InputDef):
            raise FixedModeError(f"embed takes an input, got `{var}`")
        return b.type

    # ---- cells
    def cell(self, c: CellDef) -> None:
        inputs = [self.expr(e, self.fresh(f"{c.name}_in{i}")) for i, e in enumerate(c.inputs)]
        node_vars = list(inputs)
        shape_name = self.fresh(f"{c.name}_shape")
        self.plan.init.append(Let(shape_name, self.shape[inputs[0]]))
        shape = Var(shape_name)
        norm = Const(op_spec(c.norm))
        norm_name = self.fresh(f"{c.name}_norm")
        self.plan.init.append(Let(norm_name, norm))
        norm = Var(norm_name)
        for j in c.intermediate():
            incoming = [(i, ch) for i, dst, ch in c.edges if dst == j]
            attr = self.fresh(f"{c.name}_node{j}")
            if self.mode == "fixed":
                kept = self.fixed_inputs(c, j, incoming)
                edges = DictArg(tuple((i, self.choice(ch, [shape], "edge_op", True, (norm,)))
                                      for i, ch in kept))
                self.module(attr, CallArg("fixed_node", (edges,)),
                            f"node {j} = " + " + ".join(f"{ch.options[0].text()}(node {i})"
                                                        for i, ch in kept))
                args = [node_vars[i] for i, _ in kept]
            else:
                self.in_searched_cell = c.searched
                edges = DictArg(tuple((i, self.choice(ch, [shape], "edge_op", True, (norm,)))
                                      for i, ch in incoming))
                self.in_searched_cell = False
                keep = min(c.keep, len(incoming)) if c.searched else len(incoming)
                self.module(attr, CallArg("cell_node", (Const(c.node_label(j)), edges), (
                    ("keep", Const(keep)), ("searched", Const(c.searched)))),
                    f"node {j} = sum over i < {j} of softmax(beta)_i * mixed edge i -> {j}"
                    if c.searched else f"node {j}")
                args = [node_vars[i] for i, _ in incoming]
            var = self.fresh(f"{c.name}_n{j}")
            self.plan.forward.append(Step(var, attr, tuple(args), comment=f"node {j}"))
            self.shape[var] = shape
            node_vars.append(var)
        self.module(c.name, CallArg("cell_merge", (Const(c.merge.name), Const(c.nodes), shape)),
                    f"output node: {c.merge.name} of the {c.nodes} intermediate nodes")
        self.step(c.name, c.name, node_vars[len(inputs):], c.kind)

    def fixed_inputs(self, c: CellDef, j: int, incoming):
        if c.searched:
            raise FixedModeError(f"`{c.node_label(j)}` is still a choice")
        return incoming

    # ---- blocks
    def blocks(self, b: BlocksDef) -> None:
        h = self.expr(b.input, self.fresh(f"{b.name}_in"))
        shape = self.shape[h]
        target = self.expr(b.target, self.fresh(f"{b.name}_target")) if b.target else None
        mask = self.mask[h]
        for n, block in enumerate(b.blocks, start=1):
            attr = self.fresh(f"{b.name}_block{n}")
            parts = [(part, self.choice(choice, [shape], factory, relaxable=True,
                                             starts_fixed=True))
                     for part, choice, factory in (("norm", block.norm, "seq_norm"),
                                                   ("layer", block.layer, "layer"),
                                                   ("act", block.act, "act"))]
            self.module(attr, CallArg("residual_block", (), tuple(parts) +
                                      (("dropout", Const(block.dropout)),)),
                        "H = act(layer(norm(H))) + H  (AMEIR eq. 3)")
            out = self.fresh(f"{b.name}_h{n}") if n < len(b.blocks) else b.name
            args = [h, mask] + ([target] if target else [])
            self.plan.forward.append(Step(out, attr, tuple(args), comment=KIND_COMMENT["sequence"]))
            self.shape[out] = shape
            self.mask[out] = mask
            h = out

    # ---- interactions
    def interactions(self, b: InteractionsDef) -> None:
        emb = self.expr(b.input, self.fresh(f"{b.name}_in"))
        shape = self.shape[emb]
        fields = CallArg("field_names", (Var("schema"),))
        if b.tuples is not None:
            value = CallArg("hadamard", (shape, fields),
                            (("tuples", Const(tuple(tuple(t) for t in b.tuples))),))
            comment = "the chosen Hadamard products"
        elif self.mode == "fixed":
            raise FixedModeError(f"`{b.label}` is still a choice")
        else:
            value = CallArg("interaction_choice", (Const(b.label), shape, fields), (
                ("order", Const(b.order)), ("keep", Const(b.keep))))
            comment = f"{b.keep} Hadamard products of order 2..{b.order}, fixed by the strategy"
        self.module(b.name, value, comment)
        self.step(b.name, b.name, [emb], "matrix")

    # ---- mlp
    def mlp(self, b: MlpDef) -> None:
        x = self.expr(b.input, self.fresh(f"{b.name}_in"))
        in_shape = self.shape[x]
        prev = in_shape
        h = x
        for n, layer in enumerate(b.layers, start=1):
            attr = self.fresh(f"{b.name}_layer{n}")
            if self.mode == "fixed" and not layer.width.fixed:
                raise FixedModeError(f"`{layer.width.label}` is still a choice")
            # A supernet's layer is a width choice when its width or its input's width varies
            # (shared weights are sliced); a plain layer elsewhere, as a hand-written model has.
            varies = not layer.width.fixed or (n > 1 and not b.layers[n - 2].width.fixed)
            if self.mode == "fixed" or not varies:
                value = CallArg("dense_layer", (prev, in_shape), (
                    ("width", Const(layer.width.options[0])),
                    ("act", op_call_act(layer.act, self))))
            else:
                value = CallArg("width_choice", (Const(layer.width.label), prev, in_shape), (
                    ("widths", Const(tuple(layer.width.options))),
                    ("act", op_call_act(layer.act, self)),
                    ("monotone", Const(b.monotone))))
            value = CallArg(value.factory, value.args, value.kwargs + (
                ("dropout", Const(b.dropout)), ("batch_norm", Const(b.batch_norm))))
            self.module(attr, value, f"hidden layer {n}")
            out = self.fresh(f"{b.name}_h{n}")
            self.step(out, attr, [h], "vector")
            prev = self.shape[out]
            h = out
        if b.shortcut is not None:
            args = [self.expr(e, self.fresh(f"{b.name}_se_in{i}"))
                    for i, e in enumerate(b.shortcut.inputs)]
            se = self.fresh(f"{b.name}_se")
            self.module(se, CallArg("se_shortcut", (
                ListArg(tuple(self.shape[a] for a in args)),), (
                ("expansion", Const(b.shortcut.expansion)),)),
                "SE shortcut over the field matrices (AMEIR eq. 5)")
            self.step(se, se, args, "vector")
            # [h_se, h_L]: the paper's [h_L, h_se] reordered so that a narrower searched h_L
            # keeps the weights after it aligned (shared weights are sliced from the front).
            self.module(b.name, CallArg("op", (Const("concat"), ListArg(
                (self.shape[se], self.shape[h])))), "h^c = [h_se, h_L]")
            self.step(b.name, b.name, [se, h], "vector")
        else:
            self.plan.forward.append(Step(b.name, None, (h,), comment="the mlp's output"))
            self.shape[b.name] = self.shape[h]

    # ---- head
    def head(self) -> None:
        head = self.program.head
        self.plan.init.append(Section(f"head {head.task}"))
        self.plan.forward.append(Section(f"head {head.task}"))
        args = [self.expr(e, self.fresh(f"head_in{i}")) for i, e in enumerate(head.inputs)]
        shapes = ListArg(tuple(self.shape[a] for a in args))
        attr = self.fresh("head")
        if head.task == "ctr":
            self.module(attr, CallArg("ctr_head", (shapes,)),
                        "sum of the input logits; vectors are projected to one logit first")
            out = self.fresh("logit")
            self.step(out, attr, args, "logit")
        else:
            self.module(attr, CallArg("next_item_head", (shapes, self.shape[head.items]),
                                      (("projection", Const(head.projection)),)),
                        "user vector in the item embedding space")
            out = self.fresh("user_vector")
            self.step(out, attr, args, "vector")
            self.plan.items = head.items
        self.plan.output = out


def op_call_act(choice: OpChoice, lowering: _Lowering) -> Arg:
    """Activations of an MLP layer, as data: the layer builds them for its own width."""
    if lowering.mode == "fixed" or choice.fixed:
        if not choice.fixed:
            raise FixedModeError(f"`{choice.label}` is still a choice")
        return Const(op_spec(choice.options[0]))
    return CallArg("choice_of", (Const(choice.label), lowering.table(choice)))


def _title(b) -> str:
    kind = {InputDef: "input", NodeDef: "node", CellDef: "cell", BlocksDef: "blocks",
            InteractionsDef: "interactions", MlpDef: "mlp"}[type(b)]
    return f"{kind} {b.name}"


def lower(program: Program, mode: str = "supernet") -> Plan:
    if mode not in ("supernet", "fixed"):
        raise ValueError(mode)
    return _Lowering(program, mode).run()
