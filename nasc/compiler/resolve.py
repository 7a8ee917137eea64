"""Resolve a spec: a Spec IR in, a typed ``Program`` out, or every problem found at once.

One pass over the model in source order resolves names (a name must be defined above its use),
operator signatures, parameter types and ranges, value kinds, cell DAG order, construct
settings and the strategy's fit to the space. Each problem becomes a located diagnostic with a
hint ("did you mean `senet`?"); the pass keeps going so a run reports as many as it can.

The passes live in modules named for what they resolve (``resolve_nodes``, ``resolve_constructs``,
``resolve_search_train``, on top of ``resolve_values`` and ``resolve_state``); this module walks
the spec, dispatches each statement to its pass and applies the rules about names.
"""
from __future__ import annotations

from nasc.compiler import ir
from nasc.compiler.operators import OPERATORS
from nasc.compiler.program import Program
from nasc.compiler.resolve_constructs import ConstructResolver
from nasc.compiler.resolve_search_train import SearchTrainResolver
from nasc.compiler.resolve_state import Abort, Symbol
from nasc.compiler.settings import TRAIN
from nasc.errors import SpecError
from nasc.quoting import GENERATED_NAMES, class_name, is_reserved


class Resolver(ConstructResolver, SearchTrainResolver):
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
                self.symbols[stmt.name] = Symbol(binding, binding.kind, stmt.span)
                bindings.append(binding)
            except Abort:
                # A statement that failed still uses what it names: no "never used" cascade.
                self._mark_used(stmt)
                if not is_head:
                    # Keep the name known so later uses are not reported as unknown too.
                    self.symbols.setdefault(stmt.name, Symbol(None, "?", stmt.span, True))
        if not head_seen:
            self.error(model.span, f"model `{model.name}` has no `head`",
                       "end the model with e.g. `head ctr(out)`")
        self._unused()
        strategy = self.strategy(self.spec.search) if self.spec.search else None
        train = self.settings_dict(self.spec.train.body, TRAIN, "train") if self.spec.train \
            else self.settings_dict(ir.Body(), TRAIN, "train")
        if head is not None:
            self.train_fits(train, head)
            self.objective_fits(train, head, bindings)
            if strategy is not None:
                self.supernet_objective_fits(strategy, head, bindings)
        if self.diagnostics:
            raise SpecError(self.diagnostics)
        program = Program(self.spec, self.path, model.name, tuple(bindings), head, strategy, train)
        if strategy is not None:
            self.strategy_fits(program)
            if self.diagnostics:
                raise SpecError(self.diagnostics)
        return program

    # ------------------------------------------------------------------------------------ names
    def _reserved(self, stmt) -> None:
        """A name generated Python cannot bind is reported, and the statement checked as usual."""
        if is_reserved(stmt.name):
            what = ("a Python keyword" if stmt.name not in GENERATED_NAMES
                    else "a name the generated module uses itself")
            self.error(stmt.span, f"`{stmt.name}` cannot name a statement: it is {what}",
                       f"choose another name, e.g. `{stmt.name}_out`")

    def _duplicate(self, stmt) -> bool:
        earlier = self.symbols.get(stmt.name) or (self.opsets.get(stmt.name) and
                                                  Symbol(None, "", self.opsets[stmt.name][1].span))
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
            return self.node(stmt)
        return {"cell": self.cell, "blocks": self.blocks, "interactions": self.interactions,
                "mlp": self.mlp}[stmt.type](stmt)


def resolve(spec: ir.Spec, text: str, path: str) -> Program:
    return Resolver(spec, text, path).run()
