"""The front end in one call: read a .nas file, parse it, check it. No torch imported here."""
from __future__ import annotations

from pathlib import Path

from nasc.compiler.resolve import resolve
from nasc.compiler.ir import Spec
from nasc.compiler.parse import parse
from nasc.compiler.program import Program
from nasc.errors import Diagnostic, SpecError


def read_source(path: str | Path) -> str:
    """The text of a spec file; a file that is not UTF-8 text is a user error, not a crash."""
    raw = Path(path).read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        col = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        raise SpecError([Diagnostic(str(path), line, col, "the file is not UTF-8 text",
                                    "save the spec as UTF-8")]) from None


def compile_text(text: str, path: str = "<spec>") -> tuple[Spec, Program]:
    spec = parse(text, path)
    return spec, resolve(spec, text, path)


def load(path: str | Path) -> tuple[str, Spec, Program]:
    text = read_source(path)
    spec, program = compile_text(text, str(path))
    return text, spec, program
