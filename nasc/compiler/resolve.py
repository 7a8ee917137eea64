"""Resolve a spec: a Spec IR in, a typed ``Program`` out, or every problem found at once.

One pass over the model in source order resolves names (a name must be defined above its use),
operator signatures, parameter types and ranges, value kinds, cell DAG order, construct
settings and the strategy's fit to the space. Each problem becomes a located diagnostic with a
hint ("did you mean `senet`?"); the pass keeps going so a run reports as many as it can.
"""
from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass

from nasc.compiler import ir
from nasc.compiler.operators import KIND_WORDS, OPERATORS, OpSig, ops_with_role, output_kind
from nasc.compiler.program import (
    Apply, BlockDef, BlocksDef, CellDef, Expr, HeadDef, InputDef, InteractionsDef, LayerDef,
    MlpDef, NameRef, NodeDef, OpChoice, OpUse, Program, ShortcutDef, StrategyDef, WidthChoice,
)
from nasc.compiler.settings import (
    CONSTRUCTS, CTR_MONITORS, HEAD_TASKS, INPUT_KINDS, INPUT_TYPES, NEXT_ITEM_MONITORS, REPEATABLE,
    TRAIN, SettingSig,
)
from nasc.compiler.strategies import STRATEGIES, searching, supporting
from nasc.errors import Diagnostic, SpecError
from nasc.quoting import GENERATED_NAMES, class_name, is_reserved

_ROLE_WORDS = {
    "node": "as a node", "edge": "on a cell edge", "layer": "as a block layer",
    "seq_norm": "as a block normalisation", "matrix_norm": "as a cell normalisation",
    "act": "as an activation", "merge": "as a cell merge", "optimizer": "as an optimizer",
}


def did_you_mean(name: str, candidates) -> str | None:
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


class _Abort(Exception):
    """Stops checking one statement after its first error (others are still checked)."""


@dataclass
class _Symbol:
    binding: object
    kind: str
    span: ir.Span
    used: bool = False


class Resolver:
    def __init__(self, spec: ir.Spec, text: str, path: str):
        self.spec = spec
        self.lines = text.splitlines()
        self.path = path
        self.diagnostics: list[Diagnostic] = []
        self.symbols: dict[str, _Symbol] = {}
        self.opsets: dict[str, tuple[tuple[OpUse, ...], ir.OpSet, list[bool]]] = {}
        self.later: dict[str, ir.Span] = {}

    # --------------------------------------------------------------------------------- reporting
    def error(self, span: ir.Span, message: str, hint: str | None = None) -> None:
        line = span.line or 1
        source = self.lines[line - 1] if 0 < line <= len(self.lines) else None
        self.diagnostics.append(Diagnostic(self.path, line, span.column or 1, message, hint, source))

    def fail(self, span: ir.Span, message: str, hint: str | None = None) -> _Abort:
        self.error(span, message, hint)
        return _Abort()

    # ------------------------------------------------------------------------------------ entry
    def run(self) -> Program:
        model = self.spec.model
        if model is None:
            self.error(ir.Span(line=1, column=1), "the spec has no `model` block",
                       "every spec needs `model NAME { ... }`")
            raise SpecError(self.diagnostics)
        if is_reserved(class_name(model.name)):
            self.error(model.span, f"model `{model.name}` would name its generated class "
                                   f"`{class_name(model.name)}`, a Python keyword",
                       f"rename the model, e.g. `{model.name}_model`")
        for stmt in model.statements:
            self.later.setdefault(stmt.name, stmt.span)
        bindings, head, head_seen = [], None, False
        for stmt in model.statements:
            is_head = isinstance(stmt, ir.Construct) and stmt.type == "head"
            try:
                if is_head:
                    if head_seen:
                        self.error(stmt.span, "a model has one `head`; this is a second",
                                   "combine the outputs into one head: head ctr(a, b)")
                        continue
                    head_seen = True
                    head = self.head(stmt)
                    continue
                self._reserved(stmt)
                if self._duplicate(stmt):
                    continue
                if isinstance(stmt, ir.OpSet):
                    self.opset(stmt)
                    continue
                binding = self.statement(stmt)
                self.symbols[stmt.name] = _Symbol(binding, binding.kind, stmt.span)
                bindings.append(binding)
            except _Abort:
                # A statement that failed still uses what it names: no "never used" cascade.
                self._mark_used(stmt)
                if not is_head:
                    # Keep the name known so later uses are not reported as unknown too.
                    self.symbols.setdefault(stmt.name, _Symbol(None, "?", stmt.span, True))
        if not head_seen:
            self.error(model.span, f"model `{model.name}` has no `head`",
                       "end the model with e.g. `head ctr(out)`")
        self._unused()
        strategy = self.strategy(self.spec.search) if self.spec.search else None
        train = self.settings_dict(self.spec.train.body, TRAIN, "train") if self.spec.train \
            else self.settings_dict(ir.Body(), TRAIN, "train")
        if head is not None:
            self.train_fits(train, head)
        if self.diagnostics:
            raise SpecError(self.diagnostics)
        program = Program(self.spec, self.path, model.name, tuple(bindings), head, strategy, train)
        if strategy is not None:
            self.strategy_fits(program)
            if self.diagnostics:
                raise SpecError(self.diagnostics)
        return program

    def _reserved(self, stmt) -> None:
        """A name generated Python cannot bind is reported, and the statement checked as usual."""
        if is_reserved(stmt.name):
            what = ("a Python keyword" if stmt.name not in GENERATED_NAMES
                    else "a name the generated module uses itself")
            self.error(stmt.span, f"`{stmt.name}` cannot name a statement: it is {what}",
                       f"choose another name, e.g. `{stmt.name}_out`")

    def _duplicate(self, stmt) -> bool:
        earlier = self.symbols.get(stmt.name) or (self.opsets.get(stmt.name) and
                                                  _Symbol(None, "", self.opsets[stmt.name][1].span))
        if earlier:
            self.error(stmt.span, f"`{stmt.name}` is defined twice (first at line {earlier.span.line})",
                       "names are labels of choices and must be unique: rename one")
            return True
        if stmt.name in OPERATORS:
            self.error(stmt.span, f"`{stmt.name}` is the name of an operator",
                       f"choose another name, e.g. `{stmt.name}_out`")
            return True
        return False

    def _mark_used(self, node) -> None:
        """Mark every name referenced anywhere inside ``node`` (an IR subtree) as used."""
        names = []
        if isinstance(node, ir.Ref):
            names.append(node.name)
        elif isinstance(node, ir.Call):
            names.append(node.name)
        elif isinstance(node, ir.Setting) and node.key == "items" and isinstance(node.value, ir.Ref):
            names.append(node.value.name)
        for name in names:
            if name in self.symbols:
                self.symbols[name].used = True
            if name in self.opsets:
                self.opsets[name][2][0] = True
        if isinstance(node, ir.IRNode):
            for field_name in type(node).model_fields:
                child = getattr(node, field_name)
                for sub in (child if isinstance(child, tuple) else (child,)):
                    if isinstance(sub, ir.IRNode):
                        self._mark_used(sub)

    def _unused(self) -> None:
        for name, sym in self.symbols.items():
            if not sym.used:
                self.error(sym.span, f"`{name}` is never used",
                           "feed it into the head or another node, or remove it")
        for name, (_, stmt, used) in self.opsets.items():
            if not used[0]:
                self.error(stmt.span, f"opset `{name}` is never used", "use it or remove it")

    # ------------------------------------------------------------------------------- statements
    def statement(self, stmt):
        if isinstance(stmt, ir.Input):
            return self.input(stmt)
        if isinstance(stmt, ir.Node):
            expr = self.expr(stmt.value, label=stmt.name, top=True)
            return NodeDef(stmt.name, expr, expr.kind)
        return {"cell": self.cell, "blocks": self.blocks, "interactions": self.interactions,
                "mlp": self.mlp}[stmt.type](stmt)

    def input(self, stmt: ir.Input) -> InputDef:
        if stmt.type not in INPUT_TYPES:
            raise self.fail(stmt.span, f"unknown input type `{stmt.type}`",
                            did_you_mean(stmt.type, INPUT_TYPES) or
                            "input types: " + ", ".join(INPUT_TYPES))
        allowed = INPUT_TYPES[stmt.type]
        params = {}
        for p in stmt.params:
            if p.name not in allowed:
                hint = did_you_mean(p.name, allowed) or (
                    f"`{stmt.type}` inputs take " + ", ".join(allowed) if allowed else
                    f"`{stmt.type}` inputs take no options")
                raise self.fail(p.span, f"unknown option `{p.name}` for a {stmt.type} input", hint)
            type_, default, lo, hi = allowed[p.name]
            params[p.name] = self.scalar(p.value, type_, lo, hi, f"`{p.name}`")
        for key, (_, default, _, _) in allowed.items():
            params.setdefault(key, default)
        return InputDef(stmt.name, stmt.type, INPUT_KINDS[stmt.type], tuple(params.items()))

    def opset(self, stmt: ir.OpSet) -> None:
        ops = []
        for item in stmt.ops.items:
            try:
                ops.append(self.op_use(item, role=None))
            except _Abort:
                pass
        names = [o.text() for o in ops]
        for i, name in enumerate(names):
            if name in names[:i]:
                self.error(stmt.ops.items[i].span, f"`{name}` appears twice in opset `{stmt.name}`",
                           "remove the repeated operator")
        self.opsets[stmt.name] = (tuple(ops), stmt, [False])

    # ------------------------------------------------------------------------------ expressions
    def expr(self, value: ir.Value, label: str, top: bool = False) -> Expr:
        if isinstance(value, ir.Ref):
            return self.name_ref(value)
        if not isinstance(value, ir.Call):
            raise self.fail(value.span, "expected a node or an operator call here",
                            "e.g. `embed(fields, dim=10)` or the name of an earlier node")
        if value.name in self.opsets:
            if not top:
                raise self.fail(value.span, "a choice of operators must be a node of its own",
                                f"write `x = {value.name}(...)` on its own line and use `x`")
            choice = self.choice_from_opset(value, "node", label)
            sigs = [OPERATORS[o.name] for o in choice.options]
        else:
            sig = self.known_op(value.name, value.span, "node")
            op = OpUse(value.name, self.params(sig, value.params, value.span))
            choice = OpChoice(label, (op,), value.span)
            sigs = [sig]
        args = tuple(self.expr(a, label) for a in value.args)
        kinds = [self.arg_kind(sig, value, args) for sig in sigs]
        self.static_dims(choice, value, args)
        if len(set(kinds)) > 1:
            raise self.fail(value.span, "the operators of this choice return different kinds",
                            "; ".join(f"{s.name}: {KIND_WORDS[k]}" for s, k in zip(sigs, kinds)))
        return Apply(choice, args, kinds[0])

    def name_ref(self, ref: ir.Ref) -> NameRef:
        sym = self.symbols.get(ref.name)
        if sym is not None:
            sym.used = True
            return NameRef(ref.name, sym.kind)
        if ref.name in self.later:
            raise self.fail(ref.span, f"`{ref.name}` is used before it is defined "
                                      f"(line {self.later[ref.name].line})",
                            "statements run top to bottom: move the definition above this line")
        if ref.name in self.opsets:
            raise self.fail(ref.span, f"`{ref.name}` is an opset, not a value",
                            f"apply it to an input: `{ref.name}(x)`")
        if ref.name in OPERATORS:
            raise self.fail(ref.span, f"`{ref.name}` is an operator and needs its inputs",
                            f"write `{ref.name}(x)`")
        raise self.fail(ref.span, f"unknown name `{ref.name}`",
                        did_you_mean(ref.name, list(self.symbols) + list(self.later)))

    def arg_kind(self, sig: OpSig, call: ir.Call, args: tuple[Expr, ...]) -> str:
        n_expected = len(sig.inputs)
        if (len(args) < n_expected) or (len(args) > n_expected and not sig.variadic):
            want = f"{n_expected}{' or more' if sig.variadic else ''}"
            raise self.fail(call.span, f"`{sig.name}` takes {want} input(s), got {len(args)}",
                            self._describe_inputs(sig))
        for i, arg in enumerate(args):
            accepted = sig.inputs[min(i, n_expected - 1)]
            if arg.kind not in accepted and arg.kind != "?":
                hint = self._describe_inputs(sig)
                if arg.kind == "matrix" and "vector" in accepted:
                    hint = "flatten it first: flatten(x)"
                raise self.fail(call.args[i].span,
                                f"`{sig.name}` expects {KIND_WORDS[accepted[0]]} as input {i + 1}, "
                                f"got {KIND_WORDS.get(arg.kind, arg.kind)}", hint)
        if sig.output is None and args and args[0].kind == "?":
            return "?"  # the input's statement failed (already reported): its kind is unknown
        return output_kind(sig, [a.kind for a in args])

    def static_dims(self, choice: OpChoice, call: ir.Call, args: tuple[Expr, ...]) -> None:
        """Checks that need an embedding width known before any data is attached."""
        for op in choice.options:
            if op.name == "embed" and op.param("positions") and args[0].kind != "seq_ids":
                raise self.fail(call.span, "`positions=true` applies to a sequence input only",
                                "drop it, or embed a `sequence` input")
            if op.name == "self_attention" and args:
                k = self.matrix_dim(args[0])
                heads = op.param("heads")
                if k is not None and k % heads:
                    raise self.fail(call.span, f"`self_attention` splits the embedding width {k} "
                                               f"into {heads} heads, which does not divide it",
                                    "use a number of heads that divides the width: "
                                    + ", ".join(str(h) for h in range(1, k + 1) if k % h == 0))

    def matrix_dim(self, expr: Expr) -> int | None:
        """The width k of a field matrix, where the spec fixes it (an embedding's dim)."""
        if isinstance(expr, NameRef):
            sym = self.symbols.get(expr.name)
            b = sym.binding if sym else None
            if isinstance(b, NodeDef):
                return self.matrix_dim(b.expr)
            if isinstance(b, (CellDef, InteractionsDef)):
                return self.matrix_dim(b.inputs[0] if isinstance(b, CellDef) else b.input)
            return None
        if expr.kind != "matrix":
            return None
        op = expr.op.options[0]
        if op.name == "embed":
            return op.param("dim")
        if expr.args and all(OPERATORS[o.name].output is None for o in expr.op.options):
            return self.matrix_dim(expr.args[0])
        return None

    @staticmethod
    def _describe_inputs(sig: OpSig) -> str:
        parts = [" or ".join(KIND_WORDS[k] for k in kinds) for kinds in sig.inputs]
        return f"`{sig.name}` takes " + ", ".join(parts) if parts else f"`{sig.name}` takes no input"

    # -------------------------------------------------------------------------------- operators
    def known_op(self, name: str, span: ir.Span, role: str | None) -> OpSig:
        sig = OPERATORS.get(name)
        pool = ops_with_role(role) if role else list(OPERATORS)
        if sig is None:
            hint = did_you_mean(name, pool + list(self.opsets if role == "node" else []))
            if hint is None and role:
                hint = f"operators {_ROLE_WORDS[role]}: " + ", ".join(pool)
            raise self.fail(span, f"unknown operator `{name}`", hint)
        if role and role not in sig.roles:
            raise self.fail(span, f"`{name}` cannot be used {_ROLE_WORDS[role]}",
                            f"operators {_ROLE_WORDS[role]}: " + ", ".join(pool))
        return sig

    def op_use(self, value: ir.Value, role: str | None) -> OpUse:
        if isinstance(value, ir.Ref):
            sig = self.known_op(value.name, value.span, role)
            return OpUse(value.name, self.params(sig, (), value.span))
        if isinstance(value, ir.Call):
            sig = self.known_op(value.name, value.span, role)
            if value.args:
                raise self.fail(value.args[0].span, f"`{value.name}` here takes only named options",
                                f"inputs are given by the construct; write e.g. `{value.name}(k=3)`")
            return OpUse(value.name, self.params(sig, value.params, value.span))
        raise self.fail(value.span, "expected an operator here", "e.g. `relu` or `conv(kernel=3)`")

    def op_choice(self, value: ir.Value, role: str, label: str) -> OpChoice:
        if isinstance(value, ir.Set):
            options = tuple(self.op_use(v, role) for v in value.items)
            texts = [o.text() for o in options]
            for i, t in enumerate(texts):
                if t in texts[:i]:
                    raise self.fail(value.items[i].span, f"`{t}` appears twice in this choice",
                                    "remove the repeated operator")
            return OpChoice(label, options, value.span)
        if isinstance(value, ir.Ref) and value.name in self.opsets:
            return self.choice_from_opset(value, role, label)
        return OpChoice(label, (self.op_use(value, role),), value.span)

    def choice_from_opset(self, value: ir.Ref | ir.Call, role: str, label: str) -> OpChoice:
        options, stmt, used = self.opsets[value.name]
        used[0] = True
        for op in options:
            if role not in OPERATORS[op.name].roles:
                raise self.fail(value.span, f"opset `{value.name}` holds `{op.name}`, which cannot "
                                            f"be used {_ROLE_WORDS[role]}",
                                f"operators {_ROLE_WORDS[role]}: " + ", ".join(ops_with_role(role)))
        if not options:
            raise _Abort()
        return OpChoice(label, options, value.span, opset=value.name)

    def params(self, sig: OpSig, given: tuple[ir.Param, ...], span: ir.Span) -> tuple:
        values = {}
        for p in given:
            ps = sig.param(p.name)
            if ps is None:
                names = [q.name for q in sig.params]
                hint = did_you_mean(p.name, names) or (
                    f"`{sig.name}` takes " + ", ".join(names) if names else
                    f"`{sig.name}` takes no options")
                raise self.fail(p.span, f"`{sig.name}` has no option `{p.name}`", hint)
            if p.name in values:
                raise self.fail(p.span, f"option `{p.name}` is given twice", "keep one")
            if ps.type == "enum":
                if not isinstance(p.value, ir.Ref) or p.value.name not in ps.choices:
                    raise self.fail(p.value.span, f"`{p.name}` must be one of "
                                                  + ", ".join(ps.choices),
                                    did_you_mean(getattr(p.value, "name", ""), ps.choices))
                values[p.name] = p.value.name
            else:
                values[p.name] = self.scalar(p.value, ps.type, ps.min, ps.max, f"`{p.name}`")
        return tuple((ps.name, values.get(ps.name, ps.default)) for ps in sig.params)

    def scalar(self, value: ir.Value, type_: str, lo, hi, what: str):
        """An int/float/bool/list literal checked against its type and range."""
        if type_ in ("int_list", "float_list"):
            if not isinstance(value, ir.List) or not value.items:
                raise self.fail(value.span, f"{what} must be a list like [200, 200]")
            item_type = "int" if type_ == "int_list" else "float"
            return tuple(self.scalar(v, item_type, lo, hi, what) for v in value.items)
        if type_ == "bool":
            if not isinstance(value, ir.Bool):
                raise self.fail(value.span, f"{what} must be true or false")
            return value.value
        if type_ == "int":
            if not isinstance(value, ir.Int):
                raise self.fail(value.span, f"{what} must be an integer")
            number = value.value
        else:
            if not isinstance(value, (ir.Int, ir.Float)):
                raise self.fail(value.span, f"{what} must be a number")
            # parse() refuses literals past the float range; an IR built in code may still hold one
            if not abs(value.value) <= sys.float_info.max:
                raise self.fail(value.span, f"{what} is too large for a number",
                                "a number must lie between -1.8e308 and 1.8e308 (a 64-bit float)")
            number = float(value.value)
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            bounds = f"between {_num(lo)} and {_num(hi)}" if hi is not None else f"at least {_num(lo)}"
            raise self.fail(value.span, f"{what} is {_num(number)}, but must be {bounds}")
        return number

    # --------------------------------------------------------------------------------- settings
    def body_items(self, body: ir.Body | None, table: dict[str, SettingSig], where: str,
                   allow_edges: bool = False):
        """Check keys against a table; return ({key: item}, [nested items], [edge items])."""
        found: dict[str, ir.SettingItem] = {}
        nested, edges = [], []
        given: set[str] = set()  # keys written without their value (reported once, here)
        for item in (body.items if body else ()):
            if isinstance(item, ir.EdgeSetting):
                if allow_edges:
                    edges.append(item)
                else:
                    self.error(item.span, f"`edge` is only allowed in a cell, not in {where}")
                continue
            sig = table.get(item.key)
            if sig is None:
                hint = did_you_mean(item.key, table) or f"{where} accepts: " + ", ".join(table)
                self.error(item.span, f"unknown setting `{item.key}` in {where}", hint)
                continue
            if isinstance(item, ir.NestedSetting) != (sig.nested is not None):
                if sig.nested is not None:
                    self.error(item.span, f"`{item.key}` takes a number and a block: "
                                          f"`{item.key} 1 {{ ... }}`")
                else:
                    self.error(item.span, f"`{item.key}` takes a value, not a block")
                continue
            if isinstance(item, ir.NestedSetting):
                nested.append(item)
                continue
            if item.key in found and item.key not in REPEATABLE:
                self.error(item.span, f"`{item.key}` is set twice in {where} "
                                      f"(first at line {found[item.key].span.line})", "keep one")
                continue
            if item.value is None and sig.type != "flag":
                # constructs read some values directly (`edges`, `width`, `tuples`): check here
                self.error(item.span, f"`{item.key}` needs a value", sig.doc or None)
                given.add(item.key)
                continue
            found[item.key] = item
        for key, sig in table.items():
            if sig.required and key not in found and key not in given:
                span = body.span if body is not None else ir.NO_SPAN
                self.error(span, f"{where} needs `{key}`", sig.doc or None)
        return found, nested, edges

    def value_of(self, item: ir.Setting | None, sig: SettingSig, label: str = ""):
        """A checked python value for one setting (or its default)."""
        if item is None:
            if sig.type == "optimizer" and sig.default is not None:
                name, params = sig.default
                return OpUse(name, tuple(params.items()))
            if sig.type in ("op", "opchoice") and sig.default is not None:
                op = OpUse(sig.default, self.params(OPERATORS[sig.default], (), ir.NO_SPAN))
                return op if sig.type == "op" else OpChoice(label, (op,))
            return sig.default
        value = item.value
        what = f"`{sig.key}`"
        if sig.type == "flag":
            if value is not None and not isinstance(value, ir.Bool):
                raise self.fail(value.span, f"{what} is a flag: write `{sig.key}` or "
                                            f"`{sig.key} false`")
            return True if value is None else value.value
        if value is None:
            raise self.fail(item.span, f"{what} needs a value", sig.doc or None)
        if sig.type in ("int", "float", "bool", "int_list", "float_list"):
            return self.scalar(value, sig.type, sig.min, sig.max, what)
        if sig.type == "enum":
            if not isinstance(value, ir.Ref) or value.name not in sig.choices:
                raise self.fail(value.span, f"{what} must be one of " + ", ".join(sig.choices),
                                did_you_mean(getattr(value, "name", ""), sig.choices))
            return value.name
        if sig.type == "name":
            if not isinstance(value, ir.Ref):
                raise self.fail(value.span, f"{what} must be a name")
            return value.name
        if sig.type == "op":
            return self.op_use(value, sig.role)
        if sig.type == "opchoice":
            return self.op_choice(value, sig.role, label)
        if sig.type == "optimizer":
            return self.op_use(value, "optimizer")
        raise AssertionError(f"setting type {sig.type} is read by its construct")

    def settings_dict(self, body: ir.Body, table: dict[str, SettingSig], where: str) -> dict:
        found, nested, _ = self.body_items(body, table, where)
        out = {}
        for key, sig in table.items():
            if sig.nested is not None:
                continue
            try:
                out[key] = self.value_of(found.get(key), sig)
            except _Abort:
                pass
        return out

    # ------------------------------------------------------------------------------- constructs
    def construct_inputs(self, stmt: ir.Construct, kinds: tuple[str, ...], count: str,
                         label: str) -> tuple[Expr, ...]:
        if stmt.params and stmt.type != "blocks":
            raise self.fail(stmt.params[0].span, f"`{stmt.type}` takes no named inputs")
        if count == "1" and len(stmt.args) != 1 or count == "1+" and not stmt.args:
            raise self.fail(stmt.span, f"`{stmt.type} {stmt.name}` takes "
                                       f"{'one input' if count == '1' else 'one or more inputs'}, "
                                       f"got {len(stmt.args)}")
        exprs = tuple(self.expr(a, label) for a in stmt.args)
        for arg, expr in zip(stmt.args, exprs):
            if expr.kind not in kinds and expr.kind != "?":
                hint = "flatten it first: flatten(x)" if expr.kind == "matrix" and \
                    "vector" in kinds else None
                raise self.fail(arg.span, f"`{stmt.type}` expects "
                                          f"{' or '.join(KIND_WORDS[k] for k in kinds)}, "
                                          f"got {KIND_WORDS.get(expr.kind, expr.kind)}", hint)
        return exprs

    def cell(self, stmt: ir.Construct) -> CellDef:
        table = CONSTRUCTS["cell"]
        inputs = self.construct_inputs(stmt, ("matrix",), "1+", stmt.name)
        found, _, edge_items = self.body_items(stmt.body, table, f"cell `{stmt.name}`", True)
        nodes = self.value_of(found.get("nodes"), table["nodes"]) or 1
        keep = self.value_of(found.get("keep"), table["keep"])
        norm = self.value_of(found.get("norm"), table["norm"])
        merge = self.value_of(found.get("merge"), table["merge"])
        n_in = len(inputs)
        last = n_in + nodes - 1
        edges = []
        if "edges" in found:
            if edge_items:
                raise self.fail(edge_items[0].span, "a cell either searches every edge (`edges`) "
                                                    "or lists its edges (`edge i -> j`), not both",
                                "remove the `edges` setting or the `edge` lines")
            for j in range(n_in, n_in + nodes):
                for i in range(j):
                    label = f"{stmt.name}.edge{i}_{j}"
                    edges.append((i, j, self.op_choice(found["edges"].value, "edge", label)))
            searched = True
        else:
            if not edge_items:
                raise self.fail(stmt.span, f"cell `{stmt.name}` has no edges",
                                "search them with `edges OPSET`, or list `edge 0 -> 1: OP`")
            seen = {}
            for e in edge_items:
                if not (n_in <= e.dst <= last):
                    raise self.fail(e.span, f"edge {e.src} -> {e.dst} ends outside the "
                                            f"intermediate nodes {n_in}..{last}",
                                    f"nodes 0..{n_in - 1} are the inputs; {n_in}..{last} are "
                                    f"the {nodes} intermediate nodes")
                if not (0 <= e.src < e.dst):
                    raise self.fail(e.span, f"edge {e.src} -> {e.dst} breaks the DAG order",
                                    "an edge must go from a lower-numbered node to a higher one")
                if (e.src, e.dst) in seen:
                    raise self.fail(e.span, f"edge {e.src} -> {e.dst} is listed twice "
                                            f"(first at line {seen[(e.src, e.dst)]})", "keep one")
                seen[(e.src, e.dst)] = e.span.line
                label = f"{stmt.name}.edge{e.src}_{e.dst}"
                edges.append((e.src, e.dst, self.op_choice(e.value, "edge", label)))
            for j in range(n_in, n_in + nodes):
                if not any(dst == j for _, dst, _ in edges):
                    raise self.fail(stmt.span, f"node {j} of cell `{stmt.name}` has no incoming "
                                               "edge", f"add e.g. `edge {j - 1} -> {j}: skip`, "
                                                       "or lower `nodes`")
            searched = False
        kind = "vector" if merge.name == "concat" else "matrix"
        return CellDef(stmt.name, inputs, nodes, searched, tuple(edges), keep, norm, merge, kind)

    def blocks(self, stmt: ir.Construct) -> BlocksDef:
        table = CONSTRUCTS["blocks"]
        where = f"blocks `{stmt.name}`"
        (seq,) = self.construct_inputs(stmt, ("sequence",), "1", stmt.name)
        target = None
        for p in stmt.params:
            if p.name != "target":
                raise self.fail(p.span, f"`blocks` has no named input `{p.name}`",
                                "the only named input is `target=`")
            target = self.expr(p.value, stmt.name)
            if target.kind not in ("vector", "?"):
                raise self.fail(p.value.span, "`target` must be a vector, e.g. embed(target_item)")
        found, nested, _ = self.body_items(stmt.body, table, where)
        depth = self.value_of(found.get("depth"), table["depth"]) or 1
        overrides: dict[int, ir.NestedSetting] = {}
        for item in nested:
            if not isinstance(item.arg, int) or not 1 <= item.arg <= depth:
                raise self.fail(item.span, f"`block {item.arg}` is not a block of {where}",
                                f"blocks are numbered 1..{depth}")
            if item.arg in overrides:
                raise self.fail(item.span, f"`block {item.arg}` is given twice", "merge them")
            overrides[item.arg] = item
        blocks = []
        for b in range(1, depth + 1):
            local, _, _ = self.body_items(overrides[b].body, table["block"].nested,
                                          f"block {b}") if b in overrides else ({}, [], [])
            parts = {}
            for key in ("norm", "layer", "act", "dropout"):
                sig = table[key]
                item = local.get(key, found.get(key))
                parts[key] = self.value_of(item, sig, f"{stmt.name}.block{b}.{key}")
            if parts["layer"] is None:  # no `layer`: reported by body_items as missing
                raise _Abort()
            for op in parts["layer"].options:
                if op.name == "target_attention" and target is None:
                    raise self.fail(parts["layer"].span or stmt.span,
                                    "`target_attention` needs a target item",
                                    f"give one: blocks {stmt.name}(seq, target=item)")
            blocks.append(BlockDef(parts["norm"], parts["layer"], parts["act"], parts["dropout"]))
        return BlocksDef(stmt.name, seq, target, tuple(blocks))

    def interactions(self, stmt: ir.Construct) -> InteractionsDef:
        table = CONSTRUCTS["interactions"]
        where = f"interactions `{stmt.name}`"
        (emb,) = self.construct_inputs(stmt, ("matrix",), "1", stmt.name)
        found, _, _ = self.body_items(stmt.body, table, where)
        cycles = self.value_of(found.get("cycles"), table["cycles"])
        survivors = self.value_of(found.get("survivors"), table["survivors"])
        order = self.value_of(found.get("order"), table["order"]) or cycles + 1
        if order > cycles + 1:
            raise self.fail(found["order"].span, f"order {order} cannot be reached in {cycles} "
                                                 f"cycles (each cycle raises the order by one)",
                            f"use `cycles {order - 1}` or a lower order")
        tuples = None
        if "tuples" in found:
            tuples = self.tuples(found["tuples"], order)
        keep_item = found.get("keep")
        if keep_item is None and tuples is None:
            raise self.fail(stmt.span, f"{where} needs `keep` (M) or fixed `tuples`")
        keep = self.value_of(keep_item, table["keep"]) if keep_item else len(tuples)
        if tuples is None and keep > survivors:
            raise self.fail(keep_item.span, f"keep {keep} is more than the {survivors} survivors "
                                            "of each cycle", "raise `survivors` or lower `keep`")
        if tuples is not None and keep_item is not None and keep != len(tuples):
            raise self.fail(keep_item.span, f"keep {keep} but {len(tuples)} tuples are listed",
                            "drop `keep` when the tuples are fixed")
        return InteractionsDef(stmt.name, emb, cycles, survivors, keep, order, tuples)

    def tuples(self, item: ir.Setting, order: int) -> tuple[tuple[str, ...], ...]:
        value = item.value
        items = value.items if isinstance(value, (ir.Set, ir.List)) else (value,)
        out: list[tuple[str, ...]] = []
        for v in items:
            if not isinstance(v, ir.Product):
                raise self.fail(v.span, "an interaction is a product of fields: `a * b`")
            if len(set(v.names)) != len(v.names):
                raise self.fail(v.span, "a field appears twice in this interaction",
                                "an interaction multiplies distinct fields")
            if len(v.names) > order:
                raise self.fail(v.span, f"this interaction has order {len(v.names)}, above the "
                                        f"highest order {order}")
            key = tuple(sorted(v.names))
            if key in {tuple(sorted(t)) for t in out}:
                raise self.fail(v.span, "this interaction is listed twice", "keep one")
            out.append(tuple(v.names))
        return tuple(out)

    def mlp(self, stmt: ir.Construct) -> MlpDef:
        table = CONSTRUCTS["mlp"]
        where = f"mlp `{stmt.name}`"
        (x,) = self.construct_inputs(stmt, ("vector",), "1", stmt.name)
        found, nested, _ = self.body_items(stmt.body, table, where)
        n_layers = self.value_of(found.get("layers"), table["layers"]) or 0
        if n_layers and "width" not in found and not nested:
            raise self.fail(stmt.span, f"{where} needs `width`",
                            "an integer (`width 400`), a fraction of the input width "
                            "(`width 0.5`), or a set of them")
        overrides: dict[int, ir.NestedSetting] = {}
        for item in nested:
            if not isinstance(item.arg, int) or not 1 <= item.arg <= n_layers:
                raise self.fail(item.span, f"`layer {item.arg}` is not a layer of {where}",
                                f"layers are numbered 1..{n_layers}")
            overrides[item.arg] = item
        layers, kinds = [], set()
        for n in range(1, n_layers + 1):
            local, _, _ = self.body_items(overrides[n].body, table["layer"].nested,
                                          f"layer {n}") if n in overrides else ({}, [], [])
            width_item = local.get("width", found.get("width"))
            if width_item is None:
                raise self.fail(overrides[n].span if n in overrides else stmt.span,
                                f"layer {n} of {where} has no width",
                                f"give `width` to the mlp or to `layer {n} {{ ... }}`")
            width = self.widths(width_item, f"{stmt.name}.layer{n}.width")
            kinds.update(isinstance(w, float) for w in width.options)
            act = self.value_of(local.get("act", found.get("act")), table["act"],
                                f"{stmt.name}.layer{n}.act")
            layers.append(LayerDef(width, act))
        if len(kinds) > 1:
            raise self.fail(found.get("width", stmt).span, "widths mix integers and fractions",
                            "use integers (absolute widths) or fractions of the input width "
                            "(0 < w <= 1), not both")
        monotone = self.value_of(found.get("monotone"), table["monotone"])
        if monotone:
            self.check_monotone(layers, where)
        shortcut = self.shortcut(found["shortcut"]) if "shortcut" in found else None
        return MlpDef(stmt.name, x, tuple(layers), kinds == {True}, monotone,
                      self.value_of(found.get("dropout"), table["dropout"]),
                      self.value_of(found.get("batch_norm"), table["batch_norm"]), shortcut)

    def widths(self, item: ir.Setting, label: str) -> WidthChoice:
        value = item.value
        items = value.items if isinstance(value, ir.Set) else (value,)
        options = []
        for v in items:
            if isinstance(v, ir.Int) and v.value >= 1:
                options.append(v.value)
            elif isinstance(v, ir.Float) and 0.0 < v.value <= 1.0:
                options.append(v.value)
            else:
                raise self.fail(v.span, "a width is an integer >= 1 or a fraction in (0, 1]",
                                "e.g. `width 400`, `width 0.5` or `width { 0.25, 0.5, 1.0 }`")
        if len(set(options)) != len(options):
            raise self.fail(value.span, "a width appears twice in this set", "remove it")
        return WidthChoice(label, tuple(options), value.span)

    def check_monotone(self, layers: list[LayerDef], where: str) -> None:
        for n in range(1, len(layers)):
            prev, cur = layers[n - 1].width, layers[n].width
            if min(cur.options) > max(prev.options):
                span = cur.span
                raise self.fail(span, f"layer {n + 1} of {where} is wider ({_num(min(cur.options))}) "
                                      f"than layer {n} ({_num(max(prev.options))}), but the mlp "
                                      "is `monotone`",
                                "widths must not increase; fix the widths or drop `monotone`")

    def shortcut(self, item: ir.Setting) -> ShortcutDef:
        call = item.value
        if not isinstance(call, ir.Call) or call.name != "se":
            raise self.fail(item.span, "the shortcut is written `se(inputs..., expansion=1.0)`")
        if not call.args:
            raise self.fail(call.span, "`se` needs the field matrices it recalibrates",
                            "e.g. `shortcut se(emb, cross)`")
        exprs = []
        for a in call.args:
            e = self.expr(a, "shortcut")
            if e.kind not in ("matrix", "?"):
                raise self.fail(a.span, f"`se` expects field matrices, got {KIND_WORDS[e.kind]}")
            exprs.append(e)
        expansion = 1.0
        for p in call.params:
            if p.name != "expansion":
                raise self.fail(p.span, f"`se` has no option `{p.name}`", "it takes `expansion`")
            expansion = self.scalar(p.value, "float", 0.01, 100.0, "`expansion`")
        return ShortcutDef(tuple(exprs), expansion)

    def head(self, stmt: ir.Construct) -> HeadDef:
        if stmt.name not in HEAD_TASKS:
            raise self.fail(stmt.span, f"unknown task `{stmt.name}`",
                            did_you_mean(stmt.name, HEAD_TASKS) or
                            "tasks: " + ", ".join(HEAD_TASKS))
        kinds = ("logit", "vector", "matrix") if stmt.name == "ctr" else ("vector",)
        inputs = self.construct_inputs(stmt, kinds, "1+", "head")
        found, _, _ = self.body_items(stmt.body, CONSTRUCTS["head"], "the head")
        items = self.value_of(found.get("items"), CONSTRUCTS["head"]["items"])
        if stmt.name == "next_item":
            if len(inputs) != 1:
                raise self.fail(stmt.span, "`head next_item` takes one user vector")
            if items is None:
                raise self.fail(stmt.span, "`head next_item` needs `items NAME`",
                                "name the sequence embedding whose table scores the items")
            sym = self.symbols.get(items)
            if sym is None or sym.kind != "sequence":
                raise self.fail(found["items"].span, "`items` must name a sequence embedding")
            sym.used = True
        elif items is not None:
            self.error(found["items"].span, "`items` is only for `head next_item`")
        return HeadDef(stmt.name, inputs, items)

    # ------------------------------------------------------------------------------- strategies
    def strategy(self, search: ir.Search) -> StrategyDef | None:
        row = STRATEGIES.get(search.strategy)
        if row is None:
            self.error(search.span, f"unknown search strategy `{search.strategy}`",
                       did_you_mean(search.strategy, STRATEGIES) or
                       "strategies: " + ", ".join(STRATEGIES))
            return None
        table = row.settings
        where = f"search {search.strategy}"
        settings = self.settings_dict(search.body, table, where)
        stages = {}
        if "stage" in table:
            _, nested, _ = self.body_items(search.body, table, where)
            for item in nested:
                stages[str(item.arg)] = self.settings_dict(item.body, table["stage"].nested,
                                                           f"stage {item.arg}")
                stages[str(item.arg)]["_span"] = item.span
        return StrategyDef(search.strategy, settings, stages, search.span)

    def train_fits(self, train: dict, head: HeadDef) -> None:
        """The monitor must be one the head's task reports (a next-item model defaults to
        NDCG@5), and `lr_decay` belongs to the plateau schedule, `warmup` to the cosine one."""
        written = {item.key: item for item in (self.spec.train.body.items if self.spec.train else ())
                   if isinstance(item, ir.Setting)}
        monitors = NEXT_ITEM_MONITORS if head.task == "next_item" else CTR_MONITORS
        if "monitor" not in written:
            if head.task == "next_item":  # the table's default (auc) is a CTR metric
                train["monitor"] = NEXT_ITEM_MONITORS[0]
        elif train.get("monitor") not in monitors + (None,):  # None: already reported
            self.error(written["monitor"].span,
                       f"`monitor {train.get('monitor')}` is not reported by a `head {head.task}` "
                       f"model", "use one of " + ", ".join(monitors))
        schedule = train.get("schedule")
        for key, belongs in (("lr_decay", "plateau"), ("warmup", "cosine")):
            if key in written and schedule != belongs:
                self.error(written[key].span, f"`{key}` only applies to `schedule {belongs}`, "
                                              f"but this train block uses `schedule {schedule}`",
                           f"remove `{key}`, or write `schedule {belongs}`")

    def strategy_fits(self, program: Program) -> None:
        from nasc.compiler.space import choices  # the space is computed from a checked program

        search = self.spec.search
        found = choices(program)
        if not found:
            self.error(search.span, f"the model has no choice left: `search {search.strategy}` "
                                    "has nothing to search",
                       "train it with `nasc train`, or add a choice (an opset, `edges`, a set)")
            return
        row = STRATEGIES[search.strategy]
        for choice in found:
            if choice.construct not in row.searches:
                others = [n for n in searching(choice.construct) if n != row.name]
                self.error(search.span, f"{row.name} cannot search `{choice.owner}` "
                                        f"({choice.construct}): it searches "
                                        + ", ".join(row.searches) + " choices",
                           "use " + " or ".join(f"`search {n}`" for n in others)
                           + " for this space" if others else None)
                return
        task = program.head.task
        if task not in row.heads:
            self.error(search.span, f"`search {row.name}` trains {', '.join(row.heads)} models; "
                                    f"a `head {task}` space is searched by "
                                    + (", ".join(supporting(task)) or "no strategy yet"),
                       " or ".join(f"`search {n} {{ ... }}`" for n in supporting(task)) or None)
        names = {c.owner for c in found}
        for stage, settings in program.strategy.stages.items():
            if stage not in names:
                self.error(settings["_span"], f"stage `{stage}` names no searchable construct",
                           did_you_mean(stage, names) or "stages: " + ", ".join(sorted(names)))


def _num(x) -> str:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x)) if not isinstance(x, float) else repr(x)
    return str(x)


def resolve(spec: ir.Spec, text: str, path: str) -> Program:
    return Resolver(spec, text, path).run()
