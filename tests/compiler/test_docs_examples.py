"""Every ```nas example in the docs and the README compiles (docs/language.md promises it)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from nasc.compiler.frontend import compile_text
from nasc.errors import SpecError

REPO = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```nas[ \t]*\n(.*?)^```", re.S | re.M)


def examples() -> list[tuple[str, int, str]]:
    found = []
    for doc in sorted([REPO / "README.md", *(REPO / "docs").glob("*.md")]):
        text = doc.read_text()
        for m in FENCE.finditer(text):
            line = text.count("\n", 0, m.start()) + 2  # the example's first line
            found.append((doc.relative_to(REPO).as_posix(), line, m.group(1)))
    return found


def test_the_language_reference_has_examples():
    assert sum(path == "docs/language.md" for path, _, _ in examples()) >= 10


@pytest.mark.parametrize("path, line, text", examples(), ids=lambda v: str(v)[:40])
def test_example_compiles(path, line, text):
    try:
        compile_text(text, f"{path}:{line}")
    except SpecError as err:
        pytest.fail(f"{path}, example at line {line}:\n{err}")


def test_the_generated_tables_match_the_declarations():
    """docs/language.md's generated tables are what nasc.compiler.reference renders from the
    declarations today (rewrite them with `python -m nasc.compiler.reference`)."""
    from nasc.compiler import reference

    text = reference.DOC.read_text()
    assert sorted(m.group("name") for m in reference.REGION.finditer(text)) == sorted(reference.TABLES)
    assert reference.render(text) == text, "run `python -m nasc.compiler.reference`"


def test_a_changed_declaration_shows_in_the_table(monkeypatch):
    from dataclasses import replace

    from nasc.compiler import operators, reference

    changed = dict(operators.OPERATORS)
    changed["fm"] = replace(changed["fm"], doc="something else")
    monkeypatch.setattr(reference, "OPERATORS", changed)
    text = reference.DOC.read_text()
    assert reference.render(text) != text and "something else" in reference.render(text)
