"""Codegen: a Plan rendered as a readable Python module (jinja2, logic-free template).

Output is deterministic (same spec text -> byte-identical file) and stamped with the spec path
and the sha256 of its text. Identifiers come from the grammar's NAME rule and literals are
rendered with ``repr`` of checked Python values: nothing from a spec is pasted unchecked.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import jinja2

from nasc.compiler.lower import (
    Arg, CallArg, Const, DictArg, Let, ListArg, Plan, Section, Var,
)
from nasc.compiler.printer import float_text
from nasc.compiler.space import choices, space_size

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,
)
LINE = 100


def render_arg(arg: Arg) -> str:
    if isinstance(arg, Var):
        return arg.name
    if isinstance(arg, Const):
        return _literal(arg.value)
    if isinstance(arg, ListArg):
        return "[" + ", ".join(render_arg(a) for a in arg.items) + "]"
    if isinstance(arg, DictArg):
        return "{" + ", ".join(f"{_literal(k)}: {render_arg(v)}" for k, v in arg.items) + "}"
    if isinstance(arg, CallArg):
        parts = [render_arg(a) for a in arg.args] + [f"{k}={render_arg(v)}" for k, v in arg.kwargs]
        return f"nx.{arg.factory}(" + ", ".join(parts) + ")"
    raise TypeError(arg)


def _literal(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, float):
        return float_text(value)
    if isinstance(value, tuple):
        inner = ", ".join(_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, (bool, int, str)) or value is None:
        return repr(value)
    raise TypeError(f"not a literal: {value!r}")


def _wrap(head: str, arg: CallArg, indent: int) -> list[str]:
    """``head nx.f(...)`` on one line, or with its arguments one per line when too long."""
    flat = head + render_arg(arg)
    if len(flat) + indent <= LINE:
        return [flat]
    lines = [f"{head}nx.{arg.factory}("]
    parts = [render_arg(a) for a in arg.args] + [f"{k}={render_arg(v)}" for k, v in arg.kwargs]
    for part in parts:
        if len(part) + indent + 4 > LINE and part.startswith(("[", "{")) and part[1:2] != "]":
            lines.extend(_split_container(part, indent + 4))
        else:
            lines.append(f"    {part},")
    lines.append(")")
    return lines


def _split_container(text: str, indent: int) -> list[str]:
    """Break a rendered [a, b] / {k: v} argument into one element per line (top level only)."""
    opener, closer = text[0], text[-1]
    items, depth, start = [], 0, 1
    for i, ch in enumerate(text[1:-1], start=1):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(text[start:i].strip())
            start = i + 1
    items.append(text[start:-1].strip())
    prefix = text.split(opener, 1)[0]
    return [f"    {prefix}{opener}"] + [f"        {it}," for it in items if it] + [f"    {closer},"]


def init_lines(plan: Plan) -> list[str]:
    lines: list[str] = []
    for item in plan.init:
        if isinstance(item, Section):
            lines.append(f"# -- {item.title}")
            continue
        if isinstance(item, Let):
            lines.append(f"{item.name} = {render_arg(item.value)}")
            continue
        if item.comment:
            lines.append(f"# {item.comment}")
        lines.extend(_wrap(f"self.{item.attr} = ", item.value, 8))
    return lines


def constant_lines(plan: Plan) -> list[str]:
    """Option tables, one line per operator: ``("senet", (("reduction", 3),)),``."""
    lines = []
    for name, specs in plan.constants.items():
        lines.append(f"{name} = (")
        lines.extend(f"    {_literal(spec)}," for spec in specs)
        lines.append(")")
    return lines


def forward_lines(plan: Plan) -> list[str]:
    lines: list[str] = []
    for step in plan.forward:
        if isinstance(step, Section):
            lines.append(f"# -- {step.title}")
            continue
        if step.key is not None:
            code = f'{step.out} = batch["{step.key}"]'
        elif step.module is None:
            code = f"{step.out} = {step.args[0]}"
        else:
            code = f"{step.out} = self.{step.module}({', '.join(step.args)})"
        lines.append(f"{code}  # {step.comment}" if step.comment else code)
    return lines


def class_name(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part) or "Model"


def render(plan: Plan, program, spec_text: str, spec_path: str) -> str:
    found = choices(program)
    size = space_size(program)
    if found:
        summary = [f"Search space with {len(found)} choices; "
                   + (f"{size.exact} architectures." if size.exact is not None else
                      f"{size.fixed_part} x " + " x ".join(size.per_m) + " architectures.")]
        summary += [f"  {c.label}: {', '.join(c.options) or c.detail}" for c in found]
    else:
        summary = ["A fixed architecture: no choice left."]
    return _ENV.get_template("model.py.j2").render(
        spec_path=spec_path,
        spec_path_literal=repr(spec_path),
        spec_hash=hashlib.sha256(spec_text.encode()).hexdigest(),
        title=f"{'Supernet' if found else 'Model'} `{program.name}`.",
        summary=summary,
        class_name=class_name(program.name),
        base="Supernet",
        task_literal=repr(plan.task),
        items_literal=repr(plan.items),
        constants=constant_lines(plan),
        init=init_lines(plan),
        forward=forward_lines(plan),
        output=plan.output,
    )
