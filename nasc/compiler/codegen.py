"""Codegen: a Plan rendered as a readable Python module (jinja2, logic-free template).

Output is deterministic (same spec text -> byte-identical file) and stamped with the spec path
and the sha256 of its text. Every piece of text reaches the source through ``nasc.quoting``
(literals, docstring lines, comments, identifiers), and the rendered module is parsed back and
checked to hold exactly the statements the template writes: nothing from a spec, a path or a run
directory becomes code.
"""
from __future__ import annotations

import ast
import hashlib
from pathlib import Path

import jinja2

from nasc.compiler.lower import (
    Arg, CallArg, Const, DictArg, Let, ListArg, Plan, Section, Var,
)
from nasc.compiler.space import choices, space_size
from nasc.compiler.operators import OPERATORS
from nasc.quoting import class_name, comment_text, docstring_text, identifier, py_literal

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,
)
LINE = 100


def render_arg(arg: Arg) -> str:
    if isinstance(arg, Var):
        return ".".join(identifier(part) for part in arg.name.split("."))
    if isinstance(arg, Const):
        return py_literal(arg.value)
    if isinstance(arg, ListArg):
        return "[" + ", ".join(render_arg(a) for a in arg.items) + "]"
    if isinstance(arg, DictArg):
        return "{" + ", ".join(f"{py_literal(k)}: {render_arg(v)}" for k, v in arg.items) + "}"
    if isinstance(arg, CallArg):
        return f"nx.{identifier(arg.factory)}(" + ", ".join(_call_parts(arg)) + ")"
    raise TypeError(arg)


def _call_parts(arg: CallArg) -> list[str]:
    return ([render_arg(a) for a in arg.args]
            + [f"{identifier(k)}={render_arg(v)}" for k, v in arg.kwargs])


def _wrap(head: str, arg: CallArg, indent: int) -> list[str]:
    """``head nx.f(...)`` on one line, or with its arguments one per line when too long."""
    flat = head + render_arg(arg)
    if len(flat) + indent <= LINE:
        return [flat]
    lines = [f"{head}nx.{identifier(arg.factory)}("]
    for part in _call_parts(arg):
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
            lines.append(f"# -- {comment_text(item.title)}")
            continue
        if isinstance(item, Let):
            lines.append(f"{identifier(item.name)} = {render_arg(item.value)}")
            continue
        runs = _runs(item.value)
        if item.comment or runs:
            lines.append("# " + comment_text(" ".join(filter(None, (item.comment, runs)))))
        lines.extend(_wrap(f"self.{identifier(item.attr)} = ", item.value, 8))
    return lines


_OP_FACTORIES = ("op", "norm", "act", "layer")
_CLASS_OF_FACTORY = {"dense_layer": "constructs.DenseLayer", "width_choice": "constructs.DenseLayer",
                     "embed": "builders.embed"}


def _runs(value: Arg) -> str:
    """Where a reader finds the module a line builds: ``(runs nasc.runtime.ops.x.Class)``."""
    if not isinstance(value, CallArg):
        return ""
    if value.factory in _OP_FACTORIES and value.args and isinstance(value.args[0], Const):
        spec = value.args[0].value
        sig = OPERATORS.get(spec[0] if isinstance(spec, tuple) else spec)
        return f"(runs nasc.runtime.ops.{sig.impl})" if sig is not None and sig.impl else ""
    where = _CLASS_OF_FACTORY.get(value.factory)
    return f"(runs nasc.runtime.{where})" if where else ""


def constant_lines(plan: Plan) -> list[str]:
    """Option tables, one line per operator: ``("senet", (("reduction", 3),)),``."""
    lines = []
    for name, specs in plan.constants.items():
        lines.append(f"{identifier(name)} = (")
        lines.extend(f"    {py_literal(spec)}," for spec in specs)
        lines.append(")")
    return lines


def forward_lines(plan: Plan) -> list[str]:
    lines: list[str] = []
    for step in plan.forward:
        if isinstance(step, Section):
            lines.append(f"# -- {comment_text(step.title)}")
            continue
        out = identifier(step.out)
        if step.key is not None:
            code = f"{out} = batch[{_key_literal(step.key)}]"
        elif step.module is None:
            code = f"{out} = {identifier(step.args[0])}"
        else:
            args = ", ".join(identifier(a) for a in step.args)
            code = f"{out} = self.{identifier(step.module)}({args})"
        lines.append(f"{code}  # {comment_text(step.comment)}" if step.comment else code)
    return lines


def _key_literal(key: str) -> str:
    """A batch key as a double-quoted literal, as a person would write ``batch["fields"]``."""
    return '"' + docstring_text(key) + '"'


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
    digest = hashlib.sha256(spec_text.encode()).hexdigest()
    docstring = [
        f"@generated by nasc from {spec_path} (sha256 {digest}).",
        f"Do not edit: change the spec and run `nasc compile {spec_path}`.",
        "",
        f"{'Supernet' if found else 'Model'} `{program.name}`.",
        "",
        *summary,
    ]
    name = identifier(class_name(program.name))
    source = _ENV.get_template("model.py.j2").render(
        docstring=[docstring_text(line) for line in docstring],
        class_name=name,
        base="Supernet",
        spec_path_literal=py_literal(spec_path),
        task_literal=py_literal(plan.task),
        items_literal=py_literal(plan.items),
        constants=constant_lines(plan),
        init=init_lines(plan),
        forward=forward_lines(plan),
        output=identifier(plan.output),
    )
    _check_shape(source, "\n".join(docstring) + "\n", name, tuple(plan.constants))
    return source


def _check_shape(source: str, docstring: str, name: str, constants: tuple[str, ...]) -> None:
    """The rendered module holds exactly what the template writes: the docstring (with the text
    it was given), the factory import, the option tables and one class of two methods. Anything
    else means outside text escaped its quoting; refuse to hand such code to Python."""
    body = ast.parse(source).body
    doc, imp, *tables, cls = body
    ok = (isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant)
          and doc.value.value == docstring
          and isinstance(imp, ast.ImportFrom) and imp.module == "nasc.runtime"
          and [a.name for a in imp.names] == ["factory"]
          and tuple(t.targets[0].id for t in tables if isinstance(t, ast.Assign)) == constants
          and len(tables) == len(constants)
          and all(isinstance(t.value, ast.Tuple) for t in tables)
          and isinstance(cls, ast.ClassDef) and cls.name == name
          and [type(s).__name__ for s in cls.body] == ["Assign"] * 3 + ["FunctionDef"] * 2)
    if not ok:
        raise AssertionError("generated module does not have the template's shape")
