"""Source text -> IR. Lark parses; one small transformer method per grammar rule builds the IR.

Syntax errors become located diagnostics (``syntax_errors.py``); comments are collected by the
lexer and attached to the statement they describe, so that ``nasc fmt`` never drops one.
"""
from __future__ import annotations

from dataclasses import dataclass

from lark import Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedInput, VisitError

from nasc.compiler import ir
from nasc.compiler.syntax_errors import syntax_diagnostic
from nasc.errors import Diagnostic, SpecError
from nasc.grammar import parse_tree

_STATEMENT_RULES = {
    "input", "opset", "node", "cell", "blocks", "interactions", "mlp", "head",
    "setting", "nested_setting", "edge_setting", "model", "search", "train",
}
_CONTAINER_RULES = {"model", "search", "train", "cell", "blocks", "interactions", "mlp", "head",
                    "nested_setting"}


def parse(text: str, path: str = "<spec>") -> ir.Spec:
    """Parse a .nas source into a Spec IR, or raise SpecError with a located diagnostic."""
    try:
        tree, comments = parse_tree(text)
    except UnexpectedInput as err:
        raise SpecError([syntax_diagnostic(err, text, path)]) from None
    placement = _place_comments(tree, comments)
    try:
        return _Builder(placement, text, path).transform(tree)
    except VisitError as err:  # a builder method raised: unwrap our own errors
        if isinstance(err.orig_exc, SpecError):
            raise err.orig_exc from None
        raise


# -------------------------------------------------------------------------------------- comments
@dataclass
class _Placement:
    leading: dict[tuple[int, int, str], list[str]]
    notes: dict[tuple[int, int, str], str]
    trailing: dict[tuple[int, int, str], list[str]]  # container key -> end comments
    spec_end: list[str]


def _key(tree: Tree) -> tuple[int, int, str]:
    return (tree.meta.line, tree.meta.column, tree.data)


def _place_comments(tree: Tree, comments: list[Token]) -> _Placement:
    """Decide, for each comment, which statement keeps it.

    A comment after code on the same line is that statement's ``note``; any other comment leads
    the next statement of its innermost block, or closes the block when nothing follows.
    """
    placement = _Placement({}, {}, {}, [])
    if not comments:
        return placement
    stmts = [t for t in tree.iter_subtrees() if t.data in _STATEMENT_RULES and not t.meta.empty]
    containers = [t for t in stmts if t.data in _CONTAINER_RULES]

    def children_of(container: Tree | None) -> list[Tree]:
        if container is None:
            return [t for t in tree.children if isinstance(t, Tree)]
        found = []
        for sub in container.children:
            if isinstance(sub, Tree) and sub.data in _STATEMENT_RULES:
                found.append(sub)
            elif isinstance(sub, Tree) and sub.data == "body":
                found.extend(c for c in sub.children if isinstance(c, Tree))
        return found

    for tok in sorted(comments, key=lambda t: t.start_pos):
        pos = (tok.line, tok.column)
        value = str(tok).rstrip()
        ended_here = [t for t in stmts
                      if t.meta.end_line == tok.line and (t.meta.end_line, t.meta.end_column) <= pos]
        if ended_here:
            owner = max(ended_here, key=lambda t: (t.meta.end_column, -t.meta.column))
            if _key(owner) not in placement.notes:
                placement.notes[_key(owner)] = value
                continue
        # After the first line's code of a multi-line statement (`cell c(x) {  # note`, a broken
        # set): that statement's note, as the printer writes it.
        opened_here = [t for t in stmts if t.meta.line == tok.line
                       and (t.meta.line, t.meta.column) < pos < (t.meta.end_line, t.meta.end_column)]
        if opened_here:
            owner = max(opened_here, key=lambda t: t.meta.column)
            if _key(owner) not in placement.notes:
                placement.notes[_key(owner)] = value
                continue
        inside = [c for c in containers
                  if (c.meta.line, c.meta.column) < pos < (c.meta.end_line, c.meta.end_column)]
        container = max(inside, key=lambda c: (c.meta.line, c.meta.column)) if inside else None
        following = [c for c in children_of(container) if (c.meta.line, c.meta.column) > pos]
        # A comment inside a one-statement span (e.g. within a multi-line set) leads that statement.
        enclosing = [c for c in children_of(container)
                     if (c.meta.line, c.meta.column) < pos < (c.meta.end_line, c.meta.end_column)]
        if enclosing:
            placement.leading.setdefault(_key(enclosing[0]), []).append(value)
        elif following:
            placement.leading.setdefault(_key(following[0]), []).append(value)
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



@v_args(meta=True)
class _Builder(Transformer):
    def __init__(self, placement: _Placement, text: str, path: str):
        super().__init__()
        self.placement = placement
        self.text = text
        self.path = path

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
        lines = self.text.splitlines()
        source = lines[span.line - 1] if 0 < span.line <= len(lines) else None
        return SpecError([Diagnostic(self.path, span.line, span.column, message, hint, source)])

    # ---- values
    def int(self, meta, children):
        return ir.Int(value=int(children[0]), span=_span(meta))

    def float(self, meta, children):
        return ir.Float(value=float(children[0]), span=_span(meta))

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
        arg_value = int(arg) if arg.type == "INT" else str(arg)
        body = ir.Body(items=tuple(items), end_comments=self._end("nested_setting", meta),
                       span=_span(meta))
        return ir.NestedSetting(key=str(key), arg=arg_value, body=body,
                                **self._stmt_extras("nested_setting", meta))

    def edge_setting(self, meta, children):
        src, dst, value = children
        return ir.EdgeSetting(src=int(src), dst=int(dst), value=value,
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
