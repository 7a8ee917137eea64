"""Lark's syntax errors turned into nasc diagnostics.

``SYNTAX_ERRORS`` is one table that is both the source of the friendly messages and a test
fixture (tests/compiler/test_errors.py parses every example and checks its message): Lark's
``match_examples`` maps the parser state of an error to the first entry whose examples fail in
the same state.
"""
from __future__ import annotations

import re
from functools import lru_cache

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from nasc.errors import Diagnostic
from nasc.grammar import parser

# (message, hint, examples that fail in the state the message describes)
SYNTAX_ERRORS: list[tuple[str, str, tuple[str, ...]]] = [
    (
        "two settings on one line need a `;` between them",
        "put each setting on its own line, or separate them with `;`",
        ("model m {\n cell c(x) { nodes 4 edges s }\n}",
         "model m {\n mlp d(x) { layers 3 width 400 }\n}",
         "search darts { epochs 5 batch 10 }"),
    ),
    (
        "two statements on one line need a `;` between them",
        "put each statement on its own line, or separate them with `;`",
        ("model m { a = f(x) b = g(a) }", "model m { input f: categorical e = embed(f) }"),
    ),
    (
        "an opset is written `opset NAME = { op, op, ... }`",
        "add `=` between the opset's name and its `{ ... }`",
        ("model m {\n opset s { a, b }\n}",),
    ),
    (
        "an input is written `input NAME: KIND`",
        "add `:` after the input's name, e.g. `input fields: categorical`",
        ("model m {\n input fields categorical\n}",),
    ),
    (
        "a construct needs its inputs in parentheses",
        "write e.g. `cell interaction(emb) { ... }`",
        ("model m {\n cell c { nodes 4 }\n}", "model m {\n mlp d { layers 3 }\n}",
         "model m {\n head ctr\n}"),
    ),
    (
        "a spec is made of `model`, `search` and `train` blocks",
        "start the file with `model NAME {`",
        ("autopi { }", "x = embed(f)", "cell c(x) { }"),
    ),
    (
        "a set needs at least one item",
        "list the choices inside the braces: `{ skip, fm }`",
        ("model m {\n opset s = { }\n}", "model m {\n cell c(x) { edges { } }\n}"),
    ),
    (
        "an edge is written `edge FROM -> TO: OPERATOR`",
        "give the two node numbers and the operator, e.g. `edge 0 -> 2: fm`",
        ("model m {\n cell c(x) { edge 0 2: fm }\n}", "model m {\n cell c(x) { edge 0 -> 2 fm }\n}",
         "model m {\n cell c(x) { edge a -> 2: fm }\n}"),
    ),
    (
        "a value is missing after `=`",
        "write a number, a name, a call like `embed(fields, dim=10)`, a list or a set",
        ("model m {\n a = \n}", "model m {\n e = embed(f, dim=)\n}"),
    ),
]

_TERMINAL_WORDS = {
    "NAME": "a name",
    "INT": "an integer",
    "FLOAT": "a number",
    "STRING": "a string",
    "_NL": "a new line",
    "$END": "the end of the file",
}


@lru_cache(maxsize=1)
def _literal_terminals() -> dict[str, str]:
    """Terminal name -> the literal text it stands for (`{`, `->`, `model`, ...)."""
    out = {}
    for term in parser().terminals:
        if term.pattern.type == "str":
            out[term.name] = term.pattern.value
    return out


def describe_terminal(name: str) -> str:
    if name in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[name]
    literal = _literal_terminals().get(name)
    return f"`{literal}`" if literal is not None else name.lower()


def _describe_token(err: UnexpectedInput) -> str:
    if isinstance(err, UnexpectedCharacters):
        return f"character `{err.char}`"
    token = getattr(err, "token", None)
    if token is None or token.type == "$END":
        return "end of file"
    if token.type == "_NL":
        return "end of line"
    text = str(token)
    return f"{describe_terminal(token.type)} `{text}`" if token.type in ("NAME", "INT", "FLOAT") \
        else f"`{text}`"


def _expected(err: UnexpectedInput) -> list[str]:
    names = getattr(err, "expected", None) or getattr(err, "allowed", None) or set()
    words = sorted({describe_terminal(n) for n in names if not n.startswith("__")})
    return words


@lru_cache(maxsize=1)
def _example_errors() -> list[tuple[int, object, object, object]]:
    """(table index, LALR state, accepted terminals, token) of the error each example raises."""
    found = []
    for index, (_, _, examples) in enumerate(SYNTAX_ERRORS):
        for example in examples:
            try:
                parser().parse(example)
            except (UnexpectedToken, UnexpectedEOF) as ut:
                accepts = ut.accepts if isinstance(ut, UnexpectedToken) else None
                found.append((index, ut.state.position, accepts, ut.token))
    return found


def _match_table(err: UnexpectedInput) -> tuple[str, str] | None:
    """The table entry whose examples fail in the same parser state as ``err``.

    Like Lark's ``match_examples``, but the state is compared by its LALR state alone, not by the
    depth of the parser's stack, so that an opset missing its `=` is recognised whether it is the
    first statement of the model or the tenth.
    """
    if not isinstance(err, (UnexpectedToken, UnexpectedEOF)):
        return None
    try:
        position = err.state.position
        accepts = err.accepts if isinstance(err, UnexpectedToken) else None
        index = None
        for i, state, example_accepts, token in _example_errors():
            if state != position:
                continue
            if accepts is not None and example_accepts is not None and accepts != example_accepts:
                continue
            if token == err.token:  # an exact match wins
                index = i
                break
            if index is None:
                index = i
    except Exception:  # noqa: BLE001 - a table mismatch must never hide the real error
        return None
    if index is None:
        return None
    message, hint, _ = SYNTAX_ERRORS[index]
    return message, hint


def source_lines(text: str) -> list[str]:
    """The lines as Lark numbers them: split at "\n" alone (str.splitlines() also splits at
    \f, \x1c, \u2028, ... and would shift every line number after one)."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def _unclosed_brace(text: str) -> tuple[int, int, str] | None:
    """The innermost `{`, `(` or `[` never closed (comments and strings skipped)."""
    stack: list[tuple[int, int, str]] = []
    pairs = {"}": "{", ")": "(", "]": "["}
    for line_no, line in enumerate(source_lines(text), start=1):
        code = re.sub(r'"([^"\\\n]|\\.)*"', lambda m: " " * len(m.group()), line).split("#")[0]
        for col, ch in enumerate(code, start=1):
            if ch in "{([":
                stack.append((line_no, col, ch))
            elif ch in pairs and stack and stack[-1][2] == pairs[ch]:
                stack.pop()
    return stack[-1] if stack else None


def _missing_separator(err: UnexpectedInput, text: str) -> tuple[str, str] | None:
    """The "two settings/statements on one line" entry when a `;` before the offending token
    would let the parse go on.

    Parser states alone cannot tell this case apart: the state after `f(x)` is the same in a
    node and in a setting, and differs with every way a value can end. So ask the parser: feed
    `;` and the token; if both are accepted, the innermost open `{` says which entry applies.
    """
    token = getattr(err, "token", None)
    ip = getattr(err, "interactive_parser", None)
    if not isinstance(err, UnexpectedToken) or ip is None or token is None \
            or token.type in ("_NL", "$END") or str(token) == ";":
        return None
    semicolon = next((n for n, lit in _literal_terminals().items() if lit == ";"), None)
    if semicolon is None:
        return None
    try:
        probe = ip.copy()
        probe.feed_token(Token(semicolon, ";"))
        probe.feed_token(token)
    except Exception:  # noqa: BLE001 - not fixed by a `;`: some other mistake
        return None
    opened = _unclosed_brace(text[: token.start_pos]) if token.start_pos is not None else None
    if opened is None or opened[2] != "{":
        return None
    line, col, _ = opened
    before = source_lines(text)[line - 1][: col - 1]
    what = "statements" if re.search(r"\bmodel\s+[A-Za-z_]\w*\s*$", before) else "settings"
    for message, hint, _ in SYNTAX_ERRORS:
        if message.startswith(f"two {what} on one line"):
            return message, hint
    return None


def syntax_diagnostic(err: UnexpectedInput, text: str, path: str) -> Diagnostic:
    lines = source_lines(text)
    at_end = isinstance(err, UnexpectedEOF) or getattr(getattr(err, "token", None), "type", "") == "$END"
    if at_end:
        opened = _unclosed_brace(text)
        if opened is not None:
            line, col, ch = opened
            closer = {"{": "}", "(": ")", "[": "]"}[ch]
            return Diagnostic(path, line, col, f"this `{ch}` is never closed",
                              f"add `{closer}` where the block ends", lines[line - 1])
    line = max(getattr(err, "line", 1) or 1, 1)
    col = max(getattr(err, "column", 1) or 1, 1)
    if at_end:
        line = max(len(lines), 1)
        col = len(lines[-1]) + 1 if lines else 1
    source = lines[line - 1] if 0 < line <= len(lines) else ""
    matched = _missing_separator(err, text) or _match_table(err)
    if matched:
        message, hint = matched
        return Diagnostic(path, line, col, f"{message} (found {_describe_token(err)})", hint, source)
    expected = _expected(err)
    found = _describe_token(err)
    # "unexpected name `x`", not "unexpected a name `x`" (the article reads well only after "found")
    message = "unexpected " + re.sub(r"^an? ", "", found)
    hint = None
    if expected:
        shown = ", ".join(expected[:6]) + (", ..." if len(expected) > 6 else "")
        hint = f"expected {shown}"
    if isinstance(err, UnexpectedCharacters) and err.char == '"':
        message, hint = "this string is never closed", 'end it with `"` on the same line'
    return Diagnostic(path, line, col, message, hint, source)
