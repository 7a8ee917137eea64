"""Errors a user can cause. Everything else is a bug and may raise freely.

Every user-facing error renders as ``path:line:col: error: message`` (``path:line:`` for a data
row, ``path:`` where no line is at fault: a whole file or directory, an option), followed by the
offending source line, a caret and a hint where one exists. The CLI prints
``render()`` and exits with status 2; no traceback reaches the user.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Diagnostic:
    """One located problem. ``line``/``col`` are 1-based; ``col`` is 0 for a whole row, and
    ``line`` 0 for no line at all (printing ``path:0:`` would point at a line that is not there)."""

    path: str
    line: int
    col: int
    message: str
    hint: str | None = None
    source_line: str | None = None

    def render(self) -> str:
        where = (f"{self.path}:{self.line}:{self.col}" if self.line and self.col
                 else f"{self.path}:{self.line}" if self.line else self.path)
        out = [f"{where}: error: {self.message}"]
        if self.source_line is not None:
            text = self.source_line.rstrip("\r\n").expandtabs(1)
            out.append(f"  {text}")
            if self.col:
                out.append("  " + " " * (self.col - 1) + "^")
        if self.hint:
            out.append(f"  hint: {self.hint}")
        return "\n".join(out)


@dataclass
class NascError(Exception):
    """A user mistake, carrying one or more located diagnostics."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.render())

    def render(self) -> str:
        return "\n".join(d.render() for d in self.diagnostics)

    def __str__(self) -> str:
        return self.render()


class SpecError(NascError):
    """Errors in a .nas file."""


class DataError(NascError):
    """Errors in a dataset: a malformed row, or a schema that does not match the data."""


class UsageError(NascError):
    """Errors in how a command was called that are not about a file's content."""


def data_error(path: str, line: int, message: str, hint: str | None = None,
               source_line: str | None = None) -> DataError:
    """Shorthand for a one-diagnostic DataError pointing at a row (col 0 = whole row)."""
    return DataError([Diagnostic(str(path), line, 0, message, hint, source_line)])
