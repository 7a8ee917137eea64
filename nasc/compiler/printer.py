"""IR -> canonical .nas text. ``parse(print_spec(ir)) == ir`` for every spec.

Canonical form: two-space indent, one statement or setting per line, comments kept where they
were (above a statement, or after it on the same line), blocks in the order model, search, train,
and a set or list broken one item a line only when it would not fit in ``WIDTH`` columns.
"""
from __future__ import annotations

from nasc.compiler import ir
from nasc.quoting import comment_text, nas_string

INDENT = "  "
WIDTH = 100


def print_spec(spec: ir.Spec) -> str:
    blocks: list[list[str]] = []
    if spec.model is not None:
        blocks.append(_model(spec.model))
    if spec.search is not None:
        blocks.append(_block(spec.search, f"search {spec.search.strategy}", spec.search.body, 0))
    if spec.train is not None:
        blocks.append(_block(spec.train, "train", spec.train.body, 0))
    lines: list[str] = []
    for block in blocks:
        if lines:
            lines.append("")
        lines.extend(block)
    if spec.end_comments:
        if lines:
            lines.append("")
        lines.extend(comment_text(c) for c in spec.end_comments)
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------ statements
def _lead(stmt: ir.Stmt, depth: int) -> list[str]:
    return [INDENT * depth + comment_text(c) for c in stmt.comments]


def _with_note(line: str, stmt: ir.Stmt) -> str:
    return f"{line}  {comment_text(stmt.note)}" if stmt.note else line


def _model(model: ir.Model) -> list[str]:
    lines = _lead(model, 0) + [_with_note(f"model {model.name} {{", model)]
    for stmt in model.statements:
        lines.extend(_statement(stmt, 1))
    lines.extend(INDENT + comment_text(c) for c in model.end_comments)
    lines.append("}")
    return lines


def _statement(stmt: ir.Statement, depth: int) -> list[str]:
    pad = INDENT * depth
    if isinstance(stmt, ir.Input):
        params = f"({_args((), stmt.params, depth)})" if stmt.params else ""
        head = f"input {stmt.name}: {stmt.type}{params}"
        return _lead(stmt, depth) + [_with_note(pad + head, stmt)]
    if isinstance(stmt, ir.OpSet):
        return _lead(stmt, depth) + _hang(pad, f"opset {stmt.name} = ", stmt.ops, stmt, depth)
    if isinstance(stmt, ir.Node):
        return _lead(stmt, depth) + _hang(pad, f"{stmt.name} = ", stmt.value, stmt, depth)
    if isinstance(stmt, ir.Construct):
        header = f"{stmt.type} {stmt.name}({_args(stmt.args, stmt.params, depth)})"
        if stmt.body is None:
            return _lead(stmt, depth) + [_with_note(pad + header, stmt)]
        return _block(stmt, header, stmt.body, depth)
    raise TypeError(f"not a statement: {stmt!r}")


def _block(stmt: ir.Stmt, header: str, body: ir.Body, depth: int) -> list[str]:
    pad = INDENT * depth
    lines = _lead(stmt, depth)
    if not body.items and not body.end_comments:
        return lines + [_with_note(f"{pad}{header} {{ }}", stmt)]
    lines.append(_with_note(f"{pad}{header} {{", stmt))
    for item in body.items:
        lines.extend(_setting(item, depth + 1))
    lines.extend(INDENT * (depth + 1) + comment_text(c) for c in body.end_comments)
    lines.append(pad + "}")
    return lines


def _setting(item: ir.SettingItem, depth: int) -> list[str]:
    pad = INDENT * depth
    if isinstance(item, ir.Setting):
        if item.value is None:
            return _lead(item, depth) + [_with_note(pad + item.key, item)]
        return _lead(item, depth) + _hang(pad, f"{item.key} ", item.value, item, depth)
    if isinstance(item, ir.NestedSetting):
        return _block(item, f"{item.key} {item.arg}", item.body, depth)
    if isinstance(item, ir.EdgeSetting):
        prefix = f"edge {item.src} -> {item.dst}: "
        return _lead(item, depth) + _hang(pad, prefix, item.value, item, depth)
    raise TypeError(f"not a setting: {item!r}")


def _hang(pad: str, prefix: str, value: ir.Value, stmt: ir.Stmt, depth: int) -> list[str]:
    """``prefix value`` on one line, or a long set/list broken one item a line."""
    flat = pad + prefix + value_text(value)
    if len(flat) <= WIDTH or not isinstance(value, (ir.Set, ir.List)) or not value.items:
        return [_with_note(flat, stmt)]
    opener, closer = ("{", "}") if isinstance(value, ir.Set) else ("[", "]")
    inner = INDENT * (depth + 1)
    lines = [_with_note(pad + prefix + opener, stmt)]
    lines.extend(f"{inner}{value_text(v)}," for v in value.items)
    lines.append(pad + closer)
    return lines


# ---------------------------------------------------------------------------------------- values
def value_text(value: ir.Value) -> str:
    if isinstance(value, ir.Int):
        return str(value.value)
    if isinstance(value, ir.Float):
        return float_text(value.value)
    if isinstance(value, ir.Str):
        return nas_string(value.value)
    if isinstance(value, ir.Bool):
        return "true" if value.value else "false"
    if isinstance(value, ir.Ref):
        return value.name
    if isinstance(value, ir.Call):
        return f"{value.name}({_args(value.args, value.params, 0)})"
    if isinstance(value, ir.Product):
        return " * ".join(value.names)
    if isinstance(value, ir.List):
        return "[" + ", ".join(value_text(v) for v in value.items) + "]"
    if isinstance(value, ir.Set):
        return "{ " + ", ".join(value_text(v) for v in value.items) + " }"
    raise TypeError(f"not a value: {value!r}")


def float_text(x: float) -> str:
    """Shortest text that reads back as the same float and still lexes as a float."""
    text = repr(float(x))
    if text in ("inf", "-inf", "nan"):
        raise ValueError(f"{text} cannot be written in a spec")
    if "." not in text and "e" not in text:
        text += ".0"
    return text


def _args(args: tuple[ir.Value, ...], params: tuple[ir.Param, ...], depth: int) -> str:
    parts = [value_text(a) for a in args]
    parts += [f"{p.name}={value_text(p.value)}" for p in params]
    return ", ".join(parts)
