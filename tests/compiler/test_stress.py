"""The front end under stress: deep nesting, numbers past the float range, lines that
str.splitlines() would count differently, and comment placement on big files. Each is a located
SpecError or a result, never a Python exception."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kit.mutations import case
from nasc.compiler import ir
from nasc.compiler.resolve import resolve
from nasc.compiler.frontend import compile_text
from nasc.compiler.parse import MAX_NESTING, _place_comments, parse
from nasc.compiler.printer import print_spec
from nasc.errors import SpecError
from nasc.grammar import parse_tree

DEEPFM = (Path(__file__).resolve().parents[2] / "specs" / "deepfm.nas").read_text()
HEADER = "model m {\n  input f: categorical\n  emb = embed(f, dim=4)\n"


def _error(text: str):
    with pytest.raises(SpecError) as info:
        compile_text(text, "s.nas")
    (diag,) = info.value.diagnostics[:1]
    return diag


# ------------------------------------------------------------------------------------ nesting
def _nested(shape: str, depth: int) -> tuple[str, int, int]:
    """A spec whose brackets reach ``depth`` (the model's `{` is level 1), and the line and
    column of the bracket at level MAX_NESTING + 1."""
    n = depth - 1
    if shape == "nested_setting":  # mlp x(emb) { layer 1 { layer 1 { ...
        body = "  mlp x(emb) {\n" + "layer 1 {\n" * (n - 1) + "width 3\n" + "}\n" * (n - 1) + "}\n"
        return HEADER + body + "  head ctr(x)\n}\n", 4 + MAX_NESTING - 1, 9
    opener, closer, inner = {"list": ("[", "]", "1"), "set": ("{", "}", "emb"),
                             "call": ("concat(", ")", "emb"), "param": ("f(k=", ")", "1")}[shape]
    line = "  x = " + opener * n + inner + closer * n
    # the level-2 bracket is the first opener's, at column 7 + its offset in the opener
    col = 7 + opener.index(opener.rstrip("k=")[-1]) + len(opener) * (MAX_NESTING - 1)
    return HEADER + line + "\n  head ctr(x)\n}\n", 4, col


SHAPES = ["list", "set", "call", "param", "nested_setting"]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("depth", [MAX_NESTING + 1, 5000])
def test_brackets_nested_too_deep_are_a_located_error(shape, depth):
    text, line, col = _nested(shape, depth)
    diag = _error(text)
    assert diag.message == f"brackets are nested more than {MAX_NESTING} deep"
    assert (diag.line, diag.col) == (line, col)
    assert diag.source_line == text.split("\n")[line - 1]
    assert "give the inner parts names" in diag.hint


def _frames() -> int:
    frame, n = sys._getframe(), 0
    while frame:
        frame, n = frame.f_back, n + 1
    return n


@pytest.mark.parametrize("shape", SHAPES)
def test_nesting_at_the_limit_needs_under_450_frames(shape):
    """At MAX_NESTING every pass (parse, resolve, print, parse again) stays well within Python's
    default 1000 frames, however deep the caller already is."""
    text, _, _ = _nested(shape, MAX_NESTING)
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(_frames() + 450)
    try:
        try:
            compile_text(text, "s.nas")
        except SpecError as err:  # most shapes are not valid models: any located error will do
            assert "nested" not in err.diagnostics[0].message
        spec = parse(text)
        assert parse(print_spec(spec)) == spec
    finally:
        sys.setrecursionlimit(old)


def test_deeply_nested_concat_compiles():
    text, _, _ = _nested("call", MAX_NESTING)
    spec, _ = compile_text(text)
    assert spec.model.statements[2].name == "x"


def test_unbalanced_deep_brackets_report_the_unclosed_one():
    diag = _error(HEADER + "  x = " + "[" * 5000 + "\n")
    assert diag.message == "this `[` is never closed" and diag.line == 4


# ------------------------------------------------------------------------------------ numbers
TOO_LARGE = ["1e999", "-1e400", "1.8e308", "9" * 310, "-" + "9" * 400, "9" * 5000,
             "1" + "0" * 309 + ".5"]
# (text around the number, the number) in specs/deepfm.nas
PLACES = [("adam(lr=0.001)", "0.001"), ("  batch 4096\n", "4096"), ("clip_grad 10.0", "10.0"),
          ("dim=10)", "10")]


@pytest.mark.parametrize("number", TOO_LARGE, ids=lambda s: s[:12])
@pytest.mark.parametrize("where, old", PLACES, ids=[p[1] for p in PLACES])
def test_numbers_past_the_float_range_are_a_located_error(number, where, old):
    text = DEEPFM.replace(where, where.replace(old, number))
    lines = text.split("\n")
    line_no = next(i for i, line in enumerate(lines, 1) if number in line)
    diag = _error(text)
    assert diag.message == "this number is too large"
    assert (diag.line, diag.col) == (line_no, lines[line_no - 1].index(number) + 1)
    assert diag.hint == "a number must lie between -1.8e308 and 1.8e308 (a 64-bit float)"


@pytest.mark.parametrize("text", [
    HEADER + "  cell c(emb) {\n    edge 0 -> " + "9" * 400 + ": fm\n  }\n  head ctr(c)\n}\n",
    HEADER + "  mlp x(emb) {\n    layer " + "9" * 5000 + " {\n      width 3\n    }\n  }\n}\n",
])
def test_huge_integers_in_edges_and_nested_settings_are_located(text):
    diag = _error(text)
    assert diag.message == "this number is too large" and diag.line == 5


@pytest.mark.parametrize("number, message", [
    ("1.7976931348623157e308", "`lr` is 1.7976931348623157e+308, but must be between"),
    ("9" * 308, "`lr` is 1e+308, but must be between"),
    ("1e-999", None),  # reads as 0.0, which lr allows
    ("0" * 400 + "7", None),
])
def test_numbers_within_the_float_range_are_checked_as_usual(number, message):
    text = DEEPFM.replace("adam(lr=0.001)", f"adam(lr={number})")
    if message is None:
        compile_text(text)
    else:
        assert _error(text).message.startswith(message)


def test_resolve_refuses_an_int_past_the_float_range_built_in_code():
    """parse() never makes one; an IR built by code (a fixer, a test) still gets a located error."""
    spec = parse(DEEPFM)
    items = tuple(
        s.model_copy(update={"value": ir.Int(value=10**400, span=s.value.span)})
        if getattr(s, "key", None) == "clip_grad" else s for s in spec.train.body.items)
    spec = spec.model_copy(update={"train": spec.train.model_copy(update={
        "body": spec.train.body.model_copy(update={"items": items})})})
    with pytest.raises(SpecError) as info:
        resolve(spec, DEEPFM, "s.nas")
    (diag,) = info.value.diagnostics
    assert diag.message == "`clip_grad` is too large for a number"
    line = DEEPFM.split("\n").index("  clip_grad 10.0") + 1
    assert (diag.line, diag.col) == (line, 13) and diag.source_line == "  clip_grad 10.0"


# -------------------------------------------------------------------------------------- lines
@pytest.mark.parametrize("odd", ["\x0c", "\u2028", "\x1c", "\x85", "\r"])
def test_line_numbers_count_newlines_only(odd):
    """A character str.splitlines() breaks at (inside a comment) shifts no line number."""
    text = f"# a{odd}b\nmodel m {{\n  x = [\n"
    diag = _error(text)
    assert (diag.line, diag.col) == (3, 7) and diag.source_line == "  x = ["


# ------------------------------------------------------------------------------ comment places
def _reference_placement(tree, comments):
    """The quadratic placement _place_comments replaced, kept as its specification."""
    from nasc.compiler.parse import _CONTAINER_RULES, _STATEMENT_RULES, _key, _Placement
    from lark import Tree
    placement = _Placement({}, {}, {}, [])
    stmts = [t for t in tree.iter_subtrees() if t.data in _STATEMENT_RULES and not t.meta.empty]
    containers = [t for t in stmts if t.data in _CONTAINER_RULES]

    def start(t):
        return (t.meta.line, t.meta.column)

    def stop(t):
        return (t.meta.end_line, t.meta.end_column)

    def children_of(container):
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
        pos, value = (tok.line, tok.column), str(tok).rstrip()
        ended = [t for t in stmts if t.meta.end_line == tok.line and stop(t) <= pos]
        if ended:
            owner = max(ended, key=lambda t: (t.meta.end_column, -t.meta.column))
            if _key(owner) not in placement.notes:
                placement.notes[_key(owner)] = value
                continue
        opened = [t for t in stmts if t.meta.line == tok.line and start(t) < pos < stop(t)]
        if opened:
            owner = max(opened, key=lambda t: t.meta.column)
            if _key(owner) not in placement.notes:
                placement.notes[_key(owner)] = value
                continue
        inside = [c for c in containers if start(c) < pos < stop(c)]
        container = max(inside, key=start) if inside else None
        following = [c for c in children_of(container) if start(c) > pos]
        enclosing = [c for c in children_of(container) if start(c) < pos < stop(c)]
        if enclosing:
            placement.leading.setdefault(_key(enclosing[0]), []).append(value)
        elif following:
            placement.leading.setdefault(_key(following[0]), []).append(value)
        elif container is not None:
            placement.trailing.setdefault(_key(container), []).append(value)
        else:
            placement.spec_end.append(value)
    return placement


def test_comment_placement_matches_the_quadratic_reference():
    """Comment-heavy mutations of the real specs: the same placement, comment for comment."""
    compared = 0
    for i in range(3000):
        kind, text = case(i, seed=2024)
        if "comments" not in kind or "long_file" in kind:
            continue
        try:
            tree, comments = parse_tree(text)
        except Exception:  # noqa: BLE001 - syntax errors have no placement
            continue
        assert _place_comments(tree, comments) == _reference_placement(tree, comments), i
        compared += 1
    assert compared >= 150


def _big_spec(statements: int) -> str:
    lines = ["# header", "model big {", "  input f: categorical  # the input",
             "  e0 = embed(f, dim=4)"]
    for i in range(1, statements):
        lines += [f"  # before e{i}", f"  e{i} = concat(e{i - 1}, {{ a,  # in a set",
                  "    b }, [1, 2])  # after"]
    return "\n".join(lines + ["  head ctr(e0)", "  # closing", "}", "# end"]) + "\n"


def test_comment_placement_is_linear(monkeypatch):
    """Four times the statements and comments take about four times the work to place, not
    sixteen: a 1 MB spec with 36,000 comments took minutes with the quadratic placement. The work
    is counted as calls of the position helpers every comparison goes through (a count, not a
    clock, so a busy machine cannot fail it)."""
    from nasc.compiler import parse

    calls = {"n": 0}
    for name in ("_start", "_stop"):
        helper = getattr(parse, name)

        def counted(t, helper=helper):
            calls["n"] += 1
            return helper(t)
        monkeypatch.setattr(parse, name, counted)
    work = []
    for n in (1500, 6000):
        tree, comments = parse_tree(_big_spec(n))
        calls["n"] = 0
        placement = parse._place_comments(tree, comments)
        work.append(calls["n"])
        assert sum(map(len, placement.leading.values())) + len(placement.notes) \
            + sum(map(len, placement.trailing.values())) + len(placement.spec_end) == len(comments)
    assert work[0] > 1500 and work[1] < 6 * work[0], work  # quadratic: about 16x
