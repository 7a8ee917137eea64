"""The model's plain statements: inputs, opsets and nodes (operator calls over earlier names),
each resolved to a typed definition whose value kind (field matrix, vector, ...) the operator
signatures decide."""
from __future__ import annotations

from nasc.compiler import ir
from nasc.compiler.operators import KIND_WORDS, OPERATORS, OpSig, output_kind
from nasc.compiler.program import (
    Apply, CellDef, Expr, InputDef, InteractionsDef, NameRef, NodeDef, OpChoice, OpUse,
    literal,
)
from nasc.compiler.resolve_state import Abort, did_you_mean
from nasc.compiler.resolve_values import ValueResolver
from nasc.compiler.settings import INPUT_KINDS, INPUT_TYPES

# embed's parameters that only a sequence input takes (SASRec's input layer)
SEQUENCE_ONLY = ("positions", "scale", "norm", "dropout")


class NodeResolver(ValueResolver):
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
            except Abort:
                pass
        names = [o.text() for o in ops]
        for i, name in enumerate(names):
            if name in names[:i]:
                self.error(stmt.ops.items[i].span, f"`{name}` appears twice in opset `{stmt.name}`",
                           "remove the repeated operator")
        self.opsets[stmt.name] = (tuple(ops), stmt, [False])

    def node(self, stmt: ir.Node) -> NodeDef:
        expr = self.expr(stmt.value, label=stmt.name, top=True)
        return NodeDef(stmt.name, expr, expr.kind)

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
        if "?" in kinds:  # an input's statement failed (already reported): nothing to compare
            return Apply(choice, args, "?")
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
            if op.name == "embed" and args[0].kind != "seq_ids":
                sig = OPERATORS["embed"]
                given = [k for k in SEQUENCE_ONLY if op.param(k) != sig.param(k).default]
                if given:
                    raise self.fail(call.span, f"`{given[0]}={literal(op.param(given[0]))}` "
                                               "applies to a sequence input only",
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
