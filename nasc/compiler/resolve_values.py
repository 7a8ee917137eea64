"""The leaves every construct is resolved from: operators with their options, literal values
checked against their type and range, and setting bodies checked against their tables
(``nasc.compiler.settings``)."""
from __future__ import annotations

import sys

from nasc.compiler import ir
from nasc.compiler.operators import OPERATORS, OpSig, ops_with_role
from nasc.compiler.program import OpChoice, OpUse
from nasc.compiler.resolve_state import Abort, ResolveState, did_you_mean, number_text
from nasc.compiler.settings import REPEATABLE, SettingSig

ROLE_WORDS = {
    "node": "as a node", "edge": "on a cell edge", "layer": "as a block layer",
    "seq_norm": "as a block normalisation", "matrix_norm": "as a cell normalisation",
    "act": "as an activation", "merge": "as a cell merge", "optimizer": "as an optimizer",
}


class ValueResolver(ResolveState):
    # -------------------------------------------------------------------------------- operators
    def known_op(self, name: str, span: ir.Span, role: str | None) -> OpSig:
        sig = OPERATORS.get(name)
        pool = ops_with_role(role) if role else list(OPERATORS)
        if sig is None:
            hint = did_you_mean(name, pool + list(self.opsets if role == "node" else []))
            if hint is None and role:
                hint = f"operators {ROLE_WORDS[role]}: " + ", ".join(pool)
            raise self.fail(span, f"unknown operator `{name}`", hint)
        if role and role not in sig.roles:
            raise self.fail(span, f"`{name}` cannot be used {ROLE_WORDS[role]}",
                            f"operators {ROLE_WORDS[role]}: " + ", ".join(pool))
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
                                            f"be used {ROLE_WORDS[role]}",
                                f"operators {ROLE_WORDS[role]}: " + ", ".join(ops_with_role(role)))
        if not options:
            raise Abort()
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
            bounds = f"between {number_text(lo)} and {number_text(hi)}" if hi is not None else f"at least {number_text(lo)}"
            raise self.fail(value.span, f"{what} is {number_text(number)}, but must be {bounds}")
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
        if sig.type == "int" and sig.choices and isinstance(value, ir.Ref):
            # a count with named alternatives (`eval_negatives 99` or `eval_negatives full`)
            if value.name not in sig.choices:
                raise self.fail(value.span, f"{what} must be an integer or "
                                + ", ".join(sig.choices),
                                did_you_mean(value.name, sig.choices))
            return value.name
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
            except Abort:
                pass
        return out
