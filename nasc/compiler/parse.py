"""Source text -> IR. Lark parses; one small builder method per grammar rule builds the IR.

Syntax errors become located diagnostics (``syntax_errors.py``); comments are collected by the
lexer and attached to the statement they describe, so that ``nasc fmt`` never drops one.
"""
from __future__ import annotations

import math
import sys
from bisect import bisect_left
from dataclasses import dataclass

from lark import Token, Tree
from lark.exceptions import UnexpectedInput

from nasc.compiler import ir
from nasc.compiler.syntax_errors import source_lines, syntax_diagnostic
from nasc.errors import Diagnostic, SpecError
from nasc.grammar import parse_tree

_STATEMENT_RULES = {
    "input", "opset", "node", "cell", "blocks", "interactions", "mlp", "head",
    "setting", "nested_setting", "edge_setting", "model", "search", "train",
}
_CONTAINER_RULES = {"model", "search", "train", "cell", "blocks", "interactions", "mlp", "head",
                    "nested_setting"}
# Rules that open a bracket. The passes after parsing (builder, resolve, printer) recurse once or
# twice per level, so a spec nested past Python's recursion limit would crash them; no real spec
# comes near this depth (the deepest in specs/ is 4).
_BRACKET_RULES = {"model", "body", "call_args", "list", "set"}
MAX_NESTING = 50


def parse(text: str, path: str = "<spec>") -> ir.Spec:
    """Parse a .nas source into a Spec IR, or raise SpecError with a located diagnostic."""
    try:
        tree, comments = parse_tree(text)
    except UnexpectedInput as err:
        raise SpecError([syntax_diagnostic(err, text, path)]) from None
    _check_nesting(tree, text, path)
    return _Builder(_place_comments(tree, comments), text, path).build(tree)


def _diagnostic(text: str, path: str, line: int, col: int, message: str,
                hint: str | None = None) -> Diagnostic:
    lines = source_lines(text)
    source = lines[line - 1] if 0 < line <= len(lines) else None
    return Diagnostic(path, line, col, message, hint, source)


def _check_nesting(tree: Tree, text: str, path: str) -> None:
    """Refuse brackets nested deeper than MAX_NESTING, at the first one too deep.

    Iterative (pre-order, so in source order): this walk must not recurse itself.
    """
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if node.data in _BRACKET_RULES:
            depth += 1
            if depth > MAX_NESTING:
                raise SpecError([_diagnostic(
                    text, path, node.meta.line, node.meta.column,
                    f"brackets are nested more than {MAX_NESTING} deep",
                    "give the inner parts names of their own, e.g. `a = f(x)` then `b = g(a)`")])
        stack.extend((c, depth) for c in reversed(node.children) if isinstance(c, Tree))


# -------------------------------------------------------------------------------------- comments
@dataclass
class _Placement:
    leading: dict[tuple[int, int, str], list[str]]
    notes: dict[tuple[int, int, str], str]
    trailing: dict[tuple[int, int, str], list[str]]  # container key -> end comments
    spec_end: list[str]


def _key(tree: Tree) -> tuple[int, int, str]:
    return (tree.meta.line, tree.meta.column, tree.data)


def _start(tree: Tree) -> tuple[int, int]:
    return (tree.meta.line, tree.meta.column)


def _stop(tree: Tree) -> tuple[int, int]:
    return (tree.meta.end_line, tree.meta.end_column)


def _place_comments(tree: Tree, comments: list[Token]) -> _Placement:
    """Decide, for each comment, which statement keeps it.

    A comment after code on the same line is that statement's ``note``; any other comment leads
    the next statement of its innermost block, or closes the block when nothing follows.

    Linear in the size of the tree (after sorting): a comment runs to the end of its line, so a
    line holds at most one, and the statements bucketed by the line they start or end on are
    each looked at once; the innermost block is kept on a stack swept in source order, and the
    statement a comment leads is found by bisection among the block's children.
    """
    placement = _Placement({}, {}, {}, [])
    if not comments:
        return placement
    stmts = [t for t in tree.iter_subtrees() if t.data in _STATEMENT_RULES and not t.meta.empty]
    ending: dict[int, list[Tree]] = {}
    starting: dict[int, list[Tree]] = {}
    for t in stmts:  # buckets keep the order of `stmts`, so ties break as they always did
        ending.setdefault(t.meta.end_line, []).append(t)
        starting.setdefault(t.meta.line, []).append(t)
    containers = sorted((t for t in stmts if t.data in _CONTAINER_RULES), key=_start)
    open_blocks: list[Tree] = []  # containers begun before the comment, in source order
    pushed = 0
    kids: dict[int, tuple[list[Tree], list[tuple[int, int]]]] = {}

    def children_of(container: Tree | None) -> tuple[list[Tree], list[tuple[int, int]]]:
        if id(container) not in kids:
            if container is None:
                found = [t for t in tree.children if isinstance(t, Tree)]
            else:
                found = []
                for sub in container.children:
                    if isinstance(sub, Tree) and sub.data in _STATEMENT_RULES:
                        found.append(sub)
                    elif isinstance(sub, Tree) and sub.data == "body":
                        found.extend(c for c in sub.children if isinstance(c, Tree))
            kids[id(container)] = found, [_start(c) for c in found]
        return kids[id(container)]

    for tok in sorted(comments, key=lambda t: t.start_pos):
        pos = (tok.line, tok.column)
        value = str(tok).rstrip()
        ended_here = [t for t in ending.get(tok.line, ()) if _stop(t) <= pos]
        if ended_here:
            owner = max(ended_here, key=lambda t: (t.meta.end_column, -t.meta.column))
            if _key(owner) not in placement.notes:
                placement.notes[_key(owner)] = value
                continue
        # After the first line's code of a multi-line statement (`cell c(x) {  # note`, a broken
        # set): that statement's note, as the printer writes it.
        opened_here = [t for t in starting.get(tok.line, ()) if _start(t) < pos < _stop(t)]
        if opened_here:
            owner = max(opened_here, key=lambda t: t.meta.column)
            if _key(owner) not in placement.notes:
                placement.notes[_key(owner)] = value
                continue
        # The innermost container around pos: blocks nest, so it is the latest begun that has
        # not ended (one that ended before pos can never hold a later comment).
        while pushed < len(containers) and _start(containers[pushed]) < pos:
            open_blocks.append(containers[pushed])
            pushed += 1
        while open_blocks and _stop(open_blocks[-1]) <= pos:
            open_blocks.pop()
        container = open_blocks[-1] if open_blocks else None
        children, starts = children_of(container)
        i = bisect_left(starts, pos)  # children[i:] begin after the comment
        # A comment inside a one-statement span (e.g. within a multi-line set) leads that statement.
        if i > 0 and pos < _stop(children[i - 1]):
            placement.leading.setdefault(_key(children[i - 1]), []).append(value)
        elif i < len(children):
            placement.leading.setdefault(_key(children[i]), []).append(value)
        elif container is not None:
            placement.trailing.setdefault(_key(container), []).append(value)
        else:
            placement.spec_end.append(value)
    return placement


# --------------------------------------------------------------------------------------- builder
def _span(meta) -> ir.Span:
    if getattr(meta, "empty", True):
        return ir.NO_SPAN
    return ir.Span(line=meta.line, column=meta.column, end_line=meta.end_line,
                   end_column=meta.end_column)



class _Builder:
    """One method per grammar rule, called with the rule's meta and its built children."""

    def __init__(self, placement: _Placement, text: str, path: str):
        self.placement = placement
        self.text = text
        self.path = path

    def build(self, tree: Tree):
        # Children before parents, without recursion (Lark's Transformer recurses twice a level).
        # A rule without a method here is a bug, and raises AttributeError.
        built: dict[int, object] = {}
        stack = [(tree, False)]
        while stack:
            node, ready = stack.pop()
            if not ready:
                stack.append((node, True))
                stack.extend((c, False) for c in node.children if isinstance(c, Tree))
                continue
            children = [built.pop(id(c)) if isinstance(c, Tree) else c for c in node.children]
            built[id(node)] = getattr(self, node.data)(node.meta, children)
        return built[id(tree)]

    # ---- helpers
    def _stmt_extras(self, rule: str, meta) -> dict:
        key = (meta.line, meta.column, rule)
        return {
            "span": _span(meta),
            "comments": tuple(self.placement.leading.get(key, ())),
            "note": self.placement.notes.get(key),
        }

    def _end(self, rule: str, meta) -> tuple[str, ...]:
        return tuple(self.placement.trailing.get((meta.line, meta.column, rule), ()))

    def _error(self, span: ir.Span, message: str, hint: str | None = None) -> SpecError:
        return SpecError([_diagnostic(self.text, self.path, span.line, span.column, message, hint)])

    def _too_large(self, tok: Token) -> SpecError:
        return SpecError([_diagnostic(self.text, self.path, tok.line, tok.column,
                                      "this number is too large",
                                      "a number must lie between -1.8e308 and 1.8e308 (a 64-bit float)")])

    def _int(self, tok: Token) -> int:
        # Past the float range an integer fits no setting, and Python's int() refuses more than
        # 4300 digits outright: count digits before converting.
        if len(tok.lstrip("+-").lstrip("0")) <= 309:
            value = int(tok)
            if abs(value) <= sys.float_info.max:
                return value
        raise self._too_large(tok)

    # ---- values
    def int(self, meta, children):
        return ir.Int(value=self._int(children[0]), span=_span(meta))

    def float(self, meta, children):
        value = float(children[0])
        if math.isinf(value):  # `1e999` reads as inf, which no setting means and none prints
            raise self._too_large(children[0])
        return ir.Float(value=value, span=_span(meta))

    def string(self, meta, children):
        return ir.Str(value=str(children[0])[1:-1], span=_span(meta))

    def true(self, meta, children):
        return ir.Bool(value=True, span=_span(meta))

    def false(self, meta, children):
        return ir.Bool(value=False, span=_span(meta))

    def ref(self, meta, children):
        return ir.Ref(name=str(children[0]), span=_span(meta))

    def call_args(self, meta, children):
        return children

    def param(self, meta, children):
        return ir.Param(name=str(children[0]), value=children[1], span=_span(meta))

    def _split_args(self, items):
        args = tuple(c for c in items if not isinstance(c, ir.Param))
        params = tuple(c for c in items if isinstance(c, ir.Param))
        for first, second in zip(items, items[1:]):
            if isinstance(first, ir.Param) and not isinstance(second, ir.Param):
                raise self._error(second.span, "an input follows a named parameter",
                                  "write the inputs first, then the named parameters: f(x, k=3)")
        return args, params

    def call(self, meta, children):
        args, params = self._split_args(children[1])
        return ir.Call(name=str(children[0]), args=args, params=params, span=_span(meta))

    def product(self, meta, children):
        return ir.Product(names=tuple(str(c) for c in children), span=_span(meta))

    def list(self, meta, children):
        return ir.List(items=tuple(children), span=_span(meta))

    def set(self, meta, children):
        return ir.Set(items=tuple(children), span=_span(meta))

    # ---- settings
    def body(self, meta, children):
        return list(children)

    def setting(self, meta, children):
        value = children[1] if len(children) > 1 else None
        return ir.Setting(key=str(children[0]), value=value, **self._stmt_extras("setting", meta))

    def nested_setting(self, meta, children):
        key, arg, items = children
        arg_value = self._int(arg) if arg.type == "INT" else str(arg)
        body = ir.Body(items=tuple(items), end_comments=self._end("nested_setting", meta),
                       span=_span(meta))
        return ir.NestedSetting(key=str(key), arg=arg_value, body=body,
                                **self._stmt_extras("nested_setting", meta))

    def edge_setting(self, meta, children):
        src, dst, value = children
        return ir.EdgeSetting(src=self._int(src), dst=self._int(dst), value=value,
                              **self._stmt_extras("edge_setting", meta))

    # ---- statements
    def input(self, meta, children):
        params: tuple = ()
        if len(children) > 2:
            args, params = self._split_args(children[2])
            if args:
                raise self._error(args[0].span, "input options must be named",
                                  "write e.g. `input history: sequence(max_len=50)`")
        return ir.Input(name=str(children[0]), type=str(children[1]), params=params,
                        **self._stmt_extras("input", meta))

    def opset(self, meta, children):
        return ir.OpSet(name=str(children[0]), ops=children[1], **self._stmt_extras("opset", meta))

    def node(self, meta, children):
        return ir.Node(name=str(children[0]), value=children[1], **self._stmt_extras("node", meta))

    def _construct(self, kind: str, meta, children):
        name, call_args = str(children[0]), children[1]
        args, params = self._split_args(call_args)
        body = None
        if len(children) > 2:
            body = ir.Body(items=tuple(children[2]), end_comments=self._end(kind, meta),
                           span=_span(meta))
        return ir.Construct(type=kind, name=name, args=args, params=params, body=body,
                            **self._stmt_extras(kind, meta))

    def cell(self, meta, children):
        return self._construct("cell", meta, children)

    def blocks(self, meta, children):
        return self._construct("blocks", meta, children)

    def interactions(self, meta, children):
        return self._construct("interactions", meta, children)

    def mlp(self, meta, children):
        return self._construct("mlp", meta, children)

    def head(self, meta, children):
        return self._construct("head", meta, children)

    def model(self, meta, children):
        return ir.Model(name=str(children[0]), statements=tuple(children[1:]),
                        end_comments=self._end("model", meta), **self._stmt_extras("model", meta))

    def search(self, meta, children):
        body = ir.Body(items=tuple(children[1]), end_comments=self._end("search", meta),
                       span=_span(meta))
        return ir.Search(strategy=str(children[0]), body=body, **self._stmt_extras("search", meta))

    def train(self, meta, children):
        body = ir.Body(items=tuple(children[0]), end_comments=self._end("train", meta),
                       span=_span(meta))
        return ir.Train(body=body, **self._stmt_extras("train", meta))

    def spec(self, meta, children):
        found: dict[str, object] = {}
        for decl in children:
            kind = {ir.Model: "model", ir.Search: "search", ir.Train: "train"}[type(decl)]
            if kind in found:
                raise self._error(decl.span, f"a spec holds one `{kind}` block; this is a second",
                                  f"merge the two `{kind}` blocks or split the spec into files")
            found[kind] = decl
        return ir.Spec(**found, end_comments=tuple(self.placement.spec_end), span=_span(meta))
