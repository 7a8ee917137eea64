"""The nasc language: one Lark grammar file and the parser built from it."""
from __future__ import annotations

from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Tree

GRAMMAR_PATH = Path(__file__).with_name("nasc.lark")
# The terminals a tree keeps; punctuation, keywords and line breaks are dropped (see _shape).
_KEPT_TERMINALS = frozenset({"NAME", "INT", "FLOAT", "STRING"})

# Comments are ignored by the grammar but collected here, so the printer can keep them.
_comment_sink: ContextVar[list[Token] | None] = ContextVar("nasc_comment_sink", default=None)


def _collect_comment(tok: Token) -> Token:
    sink = _comment_sink.get()
    if sink is not None:
        sink.append(tok)
    return tok


@lru_cache(maxsize=1)
def parser() -> Lark:
    """The LALR parser for .nas files. It keeps every token, and ``parse_tree`` derives the
    spans and drops the punctuation: Lark's own ``propagate_positions`` does the same at about
    twice the cost of the whole parse."""
    return Lark(
        GRAMMAR_PATH.read_text(),
        start="spec",
        parser="lalr",
        keep_all_tokens=True,
        maybe_placeholders=False,
        lexer_callbacks={"COMMENT": _collect_comment},
    )


def _shape(tree: Tree) -> Tree:
    """Give every node the span of its first to last token (as ``propagate_positions=True``
    would) and keep only the named terminals (as ``keep_all_tokens=False`` would). Iterative:
    nesting is limited later, so this pass must not recurse."""
    order, stack = [], [tree]
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(c for c in node.children if isinstance(c, Tree))
    for node in reversed(order):  # children before their parents
        meta = node.meta
        spans = [c.meta if isinstance(c, Tree) else c for c in node.children
                 if not isinstance(c, Tree) or not c.meta.empty]
        meta.empty = not spans
        if spans:
            first, last = spans[0], spans[-1]
            meta.line, meta.column, meta.start_pos = first.line, first.column, first.start_pos
            meta.end_line, meta.end_column, meta.end_pos = last.end_line, last.end_column, last.end_pos
        node.children = [c for c in node.children
                         if isinstance(c, Tree) or c.type in _KEPT_TERMINALS]
    return tree


def parse_tree(text: str) -> tuple[Tree, list[Token]]:
    """Parse text; return the tree (spans on every non-empty node) and the comment tokens in
    source order."""
    sink: list[Token] = []
    reset = _comment_sink.set(sink)
    try:
        return _shape(parser().parse(text)), sink
    finally:
        _comment_sink.reset(reset)


def same_code(a: str, b: str) -> bool:
    """Whether two spec texts say the same thing: equal parse trees, so comments and layout may
    differ (a run made from a spec whose comments were edited since is still a run of it)."""
    return parse_tree(a)[0] == parse_tree(b)[0]
