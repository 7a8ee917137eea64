"""Mutated specs never crash the front end: the only exception is a located SpecError.

Mutations of every valid spec in specs/: truncations, single-character insertions, deletions and
replacements, swaps of two lines or two tokens, and random bytes. Derandomized so CI is
reproducible; about 2,500 cases in all.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nasc.compiler.frontend import compile_text, load
from nasc.errors import SpecError

SPECS = sorted((Path(__file__).resolve().parents[2] / "specs").glob("*.nas"))
TEXTS = [p.read_text(encoding="utf-8") for p in SPECS]
HEADER = re.compile(r"^.+:\d+:\d+: error: ")
# characters that matter to the grammar, plus a few that do not belong to it at all
ALPHABET = list("{}()[]<>=:;,*#\"'\\-+.\n\t 0123456789abcdefxyz_$@!?%&|~`") + ["\r", "\x00", "é",
                                                                               "\u2028", "\x0c"]
FUZZ = settings(max_examples=500, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def test_there_are_specs():
    assert len(SPECS) >= 2 and any(p.name == "autopi.nas" for p in SPECS)


def check_text(text: str, path: str = "fuzz.nas") -> None:
    try:
        compile_text(text, path)
    except SpecError as err:
        check_error(err)


def check_error(err: SpecError) -> None:
    rendered = err.render()
    assert isinstance(rendered, str) and rendered
    assert HEADER.match(rendered.splitlines()[0]), rendered
    assert err.diagnostics
    for diag in err.diagnostics:
        assert diag.line >= 1 and diag.col >= 1, diag


spec_text = st.sampled_from(TEXTS)


@FUZZ
@given(spec_text, st.data())
def test_truncations(text, data):
    cut = data.draw(st.integers(0, len(text)), label="cut")
    check_text(text[:cut])


@FUZZ
@given(spec_text, st.data())
def test_single_character_edits(text, data):
    pos = data.draw(st.integers(0, len(text)), label="pos")
    op = data.draw(st.sampled_from(["insert", "delete", "replace"]), label="op")
    char = data.draw(st.sampled_from(ALPHABET), label="char")
    if op == "insert":
        mutated = text[:pos] + char + text[pos:]
    elif op == "delete":
        mutated = text[:pos] + text[pos + 1:]
    else:
        mutated = text[:pos] + char + text[pos + 1:]
    check_text(mutated)


TOKEN = re.compile(r'"[^"\n]*"|[A-Za-z_][A-Za-z0-9_]*|[+-]?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|->|\S')


@FUZZ
@given(spec_text, st.data())
def test_swaps(text, data):
    if data.draw(st.booleans(), label="lines"):
        parts = text.split("\n")
        i = data.draw(st.integers(0, len(parts) - 1), label="i")
        j = data.draw(st.integers(0, len(parts) - 1), label="j")
        parts[i], parts[j] = parts[j], parts[i]
        check_text("\n".join(parts))
    else:
        tokens = list(TOKEN.finditer(text))
        i = data.draw(st.integers(0, len(tokens) - 1), label="i")
        j = data.draw(st.integers(0, len(tokens) - 1), label="j")
        a, b = sorted((tokens[i], tokens[j]), key=lambda m: m.start())
        if a.start() == b.start():
            check_text(text)
            return
        swapped = (text[:a.start()] + b.group() + text[a.end():b.start()] + a.group()
                   + text[b.end():])
        check_text(swapped)


@FUZZ
@given(spec_text, st.data())
def test_token_deletion_and_duplication(text, data):
    tokens = list(TOKEN.finditer(text))
    t = tokens[data.draw(st.integers(0, len(tokens) - 1), label="token")]
    if data.draw(st.booleans(), label="delete"):
        check_text(text[:t.start()] + text[t.end():])
    else:
        check_text(text[:t.end()] + " " + t.group() + text[t.end():])


@FUZZ
@given(spec_text, st.data())
def test_random_bytes(tmp_path_factory, text, data):
    raw = text.encode("utf-8")
    pos = data.draw(st.integers(0, len(raw)), label="pos")
    junk = data.draw(st.binary(min_size=1, max_size=8), label="junk")
    mutated = raw[:pos] + junk + raw[pos + len(junk) * data.draw(st.integers(0, 1), label="over"):]
    path = tmp_path_factory.getbasetemp() / "fuzz.nas"
    path.write_bytes(mutated)
    try:
        load(path)
    except SpecError as err:
        check_error(err)
    # the same bytes decoded leniently must not crash the text front end either
    check_text(mutated.decode("utf-8", errors="replace"))


@FUZZ
@given(st.lists(st.sampled_from(ALPHABET + ["model", "search", "train", "cell", "edge", "head",
                                            "opset", "input", " m ", "->", "x = f(y)", "nodes 2",
                                            "edges s", "\n"]), max_size=40).map("".join))
def test_random_text(text):
    check_text(text)


@pytest.mark.parametrize("path", SPECS, ids=[p.name for p in SPECS])
def test_every_prefix_of_a_spec_by_line(path):
    """Every line-boundary truncation of every spec is either valid or a located SpecError."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    for n in range(len(lines) + 1):
        check_text("".join(lines[:n]), path.name)
