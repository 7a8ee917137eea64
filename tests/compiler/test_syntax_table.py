"""The SYNTAX_ERRORS table is both the source of the friendly syntax messages and their fixture:
every example must fail to parse with exactly its own entry's message (not a neighbour's)."""
from __future__ import annotations

import re

import pytest

from nasc.compiler.frontend import compile_text
from nasc.compiler.parse import parse
from nasc.compiler.syntax_errors import SYNTAX_ERRORS
from nasc.errors import SpecError

CASES = [
    pytest.param(message, hint, example, id=f"{i}.{j}")
    for i, (message, hint, examples) in enumerate(SYNTAX_ERRORS)
    for j, example in enumerate(examples)
]


def test_table_is_well_formed():
    assert len(SYNTAX_ERRORS) >= 5
    messages = [m for m, _, _ in SYNTAX_ERRORS]
    assert len(set(messages)) == len(messages), "two entries share a message"
    for message, hint, examples in SYNTAX_ERRORS:
        assert message and hint and examples
        # no message is a prefix of another: otherwise a startswith check could not tell them apart
        for other in messages:
            assert other == message or not other.startswith(message)


@pytest.mark.parametrize("message,hint,example", CASES)
def test_example_reports_its_entry(message, hint, example):
    with pytest.raises(SpecError) as info:
        parse(example, "ex.nas")
    (diag,) = info.value.diagnostics
    assert diag.message.startswith(message), diag.message
    # the rest of the message says what was found instead
    assert re.fullmatch(re.escape(message) + r" \(found .+\)", diag.message), diag.message
    assert diag.hint == hint
    assert diag.path == "ex.nas"
    lines = example.splitlines()
    assert 1 <= diag.line <= len(lines)
    assert 1 <= diag.col <= len(lines[diag.line - 1]) + 1
    assert diag.source_line == lines[diag.line - 1]
    first = info.value.render().splitlines()[0]
    assert first.startswith(f"ex.nas:{diag.line}:{diag.col}: error: {message}")


@pytest.mark.parametrize("message,hint,example", CASES)
def test_example_fails_the_same_way_through_the_front_end(message, hint, example):
    with pytest.raises(SpecError) as info:
        compile_text(example)
    assert info.value.diagnostics[0].message.startswith(message)


def test_found_token_points_at_the_offender():
    """Spot-check that the located column is the unexpected token itself."""
    with pytest.raises(SpecError) as info:
        parse("search darts { epochs 5 batch 10 }")
    (diag,) = info.value.diagnostics
    assert (diag.line, diag.col) == (1, 25)
    assert "batch" in diag.message
    assert "search darts { epochs 5 batch 10 }"[diag.col - 1:].startswith("batch")
