"""What every resolve pass shares: the spec being resolved, the names defined so far, and the
diagnostics collected. A pass reports a problem with ``error`` and keeps going, or stops its
statement with ``raise self.fail(...)``; the driver (``nasc.compiler.resolve``) catches that and
moves on to the next statement, so one run reports as many problems as it can.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass

from nasc.compiler import ir
from nasc.compiler.program import OpUse
from nasc.errors import Diagnostic


def did_you_mean(name: str, candidates) -> str | None:
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


def number_text(x) -> str:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x)) if not isinstance(x, float) else repr(x)
    return str(x)


class Abort(Exception):
    """Stops checking one statement after its first error (others are still checked)."""


@dataclass
class Symbol:
    binding: object
    kind: str
    span: ir.Span
    used: bool = False


class ResolveState:
    def __init__(self, spec: ir.Spec, text: str, path: str):
        self.spec = spec
        self.lines = text.splitlines()
        self.path = path
        self.diagnostics: list[Diagnostic] = []
        self.symbols: dict[str, Symbol] = {}
        self.opsets: dict[str, tuple[tuple[OpUse, ...], ir.OpSet, list[bool]]] = {}
        self.later: dict[str, ir.Span] = {}

    def error(self, span: ir.Span, message: str, hint: str | None = None) -> None:
        line = span.line or 1
        source = self.lines[line - 1] if 0 < line <= len(self.lines) else None
        self.diagnostics.append(Diagnostic(self.path, line, span.column or 1, message, hint, source))

    def fail(self, span: ir.Span, message: str, hint: str | None = None) -> Abort:
        self.error(span, message, hint)
        return Abort()
