"""The nasc language: one Lark grammar file and the parser built from it."""
from __future__ import annotations

from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Tree

GRAMMAR_PATH = Path(__file__).with_name("nasc.lark")

# Comments are ignored by the grammar but collected here, so the printer can keep them.
_comment_sink: ContextVar[list[Token] | None] = ContextVar("nasc_comment_sink", default=None)


def _collect_comment(tok: Token) -> Token:
    sink = _comment_sink.get()
    if sink is not None:
        sink.append(tok)
    return tok


@lru_cache(maxsize=1)
def parser() -> Lark:
    """The LALR parser for .nas files; spans on every tree node (propagate_positions)."""
    return Lark(
        GRAMMAR_PATH.read_text(),
        start="spec",
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=False,
        lexer_callbacks={"COMMENT": _collect_comment},
    )


def parse_tree(text: str) -> tuple[Tree, list[Token]]:
    """Parse text; return the tree and the comment tokens in source order."""
    sink: list[Token] = []
    reset = _comment_sink.set(sink)
    try:
        return parser().parse(text), sink
    finally:
        _comment_sink.reset(reset)
