"""Mutated specs for fuzzing the front end, shared by test_fuzz_mutations.py and benchmarks/fuzz.py.

``case(i, seed)`` is a pure function of its two arguments (its own ``Random``), so a crash found
by a run of a million cases is replayed from its index alone. Every mutation starts from a real
spec in specs/; ``check`` is the one property both callers assert.
"""
from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path

from nasc.compiler.frontend import compile_text
from nasc.compiler.parse import MAX_NESTING, parse
from nasc.compiler.printer import print_spec
from nasc.errors import SpecError

SPECS = sorted((Path(__file__).resolve().parents[2] / "specs").glob("*.nas"))
TEXTS = [p.read_text(encoding="utf-8") for p in SPECS]
TOKEN = re.compile(r'"[^"\n]*"|[A-Za-z_][A-Za-z0-9_]*|[+-]?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|->|\S')
NUMBER = re.compile(r"(?<![\w.])[+-]?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?")
# characters that matter to the grammar, and some that do not belong to it at all
ALPHABET = list("{}()[]<>=:;,*#\"'\\-+.\n\t 0123456789abcdefxyz_$@!?%&|~`") + ["\r", "\r\n"]
UNICODE = ["é", "Ω", "ｍｏｄｅｌ", "😀", "\u0301", "\u200b", "\ufeff", "\u202e", "\u2028", "\u2029",
           "\x85", "\x0b", "\x0c", "\x1c", "\x00", "\ud800", "\U0010ffff", "ß", "İ", "𝟙", "٣"]
HUGE = ["1e999", "-1e400", "1e308", "1.7976931348623157e308", "1.8e308", "1e-999", "0.0e-400",
        "9" * 309, "9" * 310, "1" + "0" * 308, "-" + "9" * 400, "9" * 5000, "0" * 400 + "7",
        "1." + "9" * 400, "." + "0" * 500 + "1", "nan", "inf", "-inf", "0x10", "1_000", "1e",
        "18446744073709551616", "-9223372036854775809"]
OPENERS = {"[": "]", "{": "}", "(": ")", "f(": ")", "concat(": ")", "f(k=": ")"}


def _tokens(text: str) -> list[re.Match]:
    return list(TOKEN.finditer(text)) or list(re.finditer(r"^", text))


def truncate(rng: random.Random, text: str) -> str:
    return text[:rng.randint(0, len(text))]


def char_edit(rng: random.Random, text: str) -> str:
    pos = rng.randint(0, len(text))
    char = rng.choice(ALPHABET)
    return text[:pos] + char + text[pos + rng.randint(0, 1):] if rng.random() < 0.7 \
        else text[:pos] + text[pos + 1:]


def token_swap(rng: random.Random, text: str) -> str:
    tokens = _tokens(text)
    a, b = sorted((rng.choice(tokens), rng.choice(tokens)), key=lambda m: m.start())
    if a.start() == b.start():
        return text
    return text[:a.start()] + b.group() + text[a.end():b.start()] + a.group() + text[b.end():]


def token_edit(rng: random.Random, text: str) -> str:
    """Delete a token, repeat it, or put another token of the spec in its place."""
    tokens = _tokens(text)
    t = rng.choice(tokens)
    other = rng.choice(tokens).group()
    new = rng.choice(["", t.group() + " " + t.group(), other])
    return text[:t.start()] + new + text[t.end():]


def line_edit(rng: random.Random, text: str) -> str:
    """Duplicate, delete or swap lines, or splice in lines of another spec."""
    lines = text.split("\n")
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    op = rng.choice(["dup", "dup", "delete", "swap", "splice"])
    if op == "dup":
        lines[i:i] = lines[i:i + rng.randint(1, 4)] * rng.randint(1, 3)
    elif op == "delete":
        del lines[i:i + rng.randint(1, 3)]
    elif op == "swap":
        lines[i], lines[j] = lines[j], lines[i]
    else:
        donor = rng.choice(TEXTS).split("\n")
        k = rng.randrange(len(donor))
        lines[i:i] = donor[k:k + rng.randint(1, 6)]
    return "\n".join(lines)


def deep_nesting(rng: random.Random, text: str) -> str:
    """Brackets nested around the limit, or far past it; balanced or not."""
    opener = rng.choice(list(OPENERS))
    depth = rng.choice([MAX_NESTING - 3, MAX_NESTING - 1, MAX_NESTING, MAX_NESTING + 1,
                        rng.randint(1, 120), rng.randint(1, 120), rng.randint(200, 3000)])
    inner = rng.choice(["emb", "1", "x", "", "[1, 2]"])
    closes = depth if rng.random() < 0.8 else rng.randint(0, depth)
    nest = opener * depth + inner + OPENERS[opener] * closes
    if rng.random() < 0.5:  # where a value goes, so that deep values reach the checks
        spots = [m.end() for m in re.finditer(r"= ", text)] or [len(text)]
        pos = rng.choice(spots)
        end = text.find("\n", pos)
        return text[:pos] + nest + (text[end:] if end >= 0 else "")
    t = rng.choice(_tokens(text))
    return text[:t.start()] + nest + text[t.start():]


def huge_number(rng: random.Random, text: str) -> str:
    numbers = list(NUMBER.finditer(text))
    new = rng.choice(HUGE)
    if not numbers:
        return text + new
    t = rng.choice(numbers)
    return text[:t.start()] + new + text[t.end():]


def unicode(rng: random.Random, text: str) -> str:
    pos = rng.randint(0, len(text))
    return text[:pos] + rng.choice(UNICODE) * rng.randint(1, 3) + text[pos:]


def comments(rng: random.Random, text: str) -> str:
    """Comments at the ends of lines, on lines of their own, and inside sets and calls."""
    lines = text.split("\n")
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(lines))
        note = "# " + rng.choice(["note", "", "{ ( [", "é", "#", "x = f(y)"])
        where = rng.random()
        if where < 0.4:
            lines[i] += "  " + note
        elif where < 0.7:
            lines.insert(i, "  " * rng.randint(0, 3) + note)
        else:
            cut = rng.randint(0, len(lines[i]))
            lines[i] = lines[i][:cut] + note + "\n" + lines[i][cut:]
    return "\n".join(lines)


def long_file(rng: random.Random, text: str) -> str:
    """A spec grown to tens of kilobytes: many statements, blocks repeated, or specs joined."""
    lines = text.split("\n")
    op = rng.random()
    if op < 0.5:
        i = rng.randrange(len(lines))
        lines[i:i] = [re.sub(r"\b([a-z_]\w*) =", rf"\1_{k} =", lines[i])
                      for k in range(rng.randint(50, 600))]
        return "\n".join(lines)
    if op < 0.8:
        return "\n".join(rng.choice(TEXTS) for _ in range(rng.randint(2, 15)))
    return text + "\n" * rng.randint(1, 20000) + "# " + "x" * rng.randint(1, 20000)


MUTATORS = {f.__name__: f for f in (truncate, char_edit, token_swap, token_edit, line_edit,
                                    deep_nesting, huge_number, unicode, comments, long_file)}
# long files are slow to parse and teach little after the first few hundred
WEIGHTS = {"truncate": 12, "char_edit": 20, "token_swap": 10, "token_edit": 14, "line_edit": 12,
           "deep_nesting": 6, "huge_number": 8, "unicode": 6, "comments": 10, "long_file": 0.3}
_NAMES, _WEIGHTS = list(WEIGHTS), list(WEIGHTS.values())


def case(i: int, seed: int) -> tuple[str, str]:
    """The i-th mutated spec of a run: (kinds applied, joined by '+', text). One mutation in
    three is followed by a second."""
    rng = random.Random(f"{seed}:{i}")
    text = rng.choice(TEXTS)
    kinds = []
    for _ in range(1 if rng.random() < 2 / 3 else 2):
        kind = rng.choices(_NAMES, _WEIGHTS)[0]
        text = MUTATORS[kind](rng, text)
        kinds.append(kind)
    return "+".join(kinds), text


def cases(n: int, seed: int, start: int = 0) -> Iterator[tuple[int, str, str]]:
    for i in range(start, start + n):
        yield (i, *case(i, seed))


def check(text: str, path: str = "fuzz.nas") -> str:
    """Run the front end on text: "compiled" or "error". Anything else it raises is a bug, and
    so is a diagnostic that points outside the text or a compiled spec that does not survive
    print -> parse."""
    try:
        spec, _ = compile_text(text, path)
    except SpecError as err:
        check_diagnostics(err, text, path)
        return "error"
    printed = print_spec(spec)
    back = parse(printed, path)
    if back != spec:  # the printer writes line breaks inside a comment as escapes; nothing else
        assert _code(back) == _code(spec), f"print -> parse changed the spec:\n{printed}"
        assert print_spec(back) == printed, f"printing is not a fixed point:\n{printed}"
    return "compiled"


def _code(spec) -> tuple[object, int]:
    """The spec's content without its spans and comment texts, and how many comments it has."""
    count = 0

    def strip(node):
        nonlocal count
        if isinstance(node, dict):
            count += len(node.get("comments", ())) + len(node.get("end_comments", ())) \
                + bool(node.get("note"))
            return {k: strip(v) for k, v in node.items()
                    if k not in ("span", "comments", "note", "end_comments")}
        if isinstance(node, (list, tuple)):
            return [strip(v) for v in node]
        return node

    return strip(spec.model_dump()), count


def check_diagnostics(err: SpecError, text: str, path: str) -> None:
    assert err.diagnostics and err.render()
    lines = text.split("\n")  # as Lark counts lines
    for d in err.diagnostics:
        assert d.path == path, d
        assert 1 <= d.line <= len(lines), f"line {d.line} of {len(lines)}: {d}"
        assert 0 <= d.col <= len(lines[d.line - 1]) + 1, f"col {d.col}: {d}"
