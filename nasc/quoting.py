"""The one way outside text (spec paths, data names, values from a run directory, spec strings)
enters generated Python or an exported ``.nas`` file.

Generated code and exported specs are read back by Python's and nasc's parsers, so a stray quote
or line break in a file name would become code (a spec whose file name closed the generated
docstring with three double quotes once ran the code written after them). Every piece of text goes through one of these functions, chosen by where it lands:

- ``py_literal``: a Python expression for a checked value (``repr`` of str, int, bool, ...);
- ``docstring_text``: inside a ``\"\"\"`` docstring, reading back as exactly the same text;
- ``comment_text``: after ``#`` in Python or nasc, on one line whatever the text holds;
- ``identifier``: a name the generated code binds, refused unless it is a plain identifier;
- ``nas_string``: a string value of a spec, as the grammar's ``STRING`` (escapes kept as written).
"""
from __future__ import annotations

import keyword
import re

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_NAS_STRING_BODY = re.compile(r'([^"\\\n]|\\.)*\Z')  # the grammar's STRING, unquoted

# Names a generated module binds itself (its parameters, its import alias, what it calls), so a
# spec name equal to one would shadow it. The front end refuses them with a located error.
GENERATED_NAMES = frozenset({"self", "batch", "schema", "nx", "super"})


def is_reserved(name: str) -> bool:
    """A spec name that generated Python cannot use as a variable."""
    return keyword.iskeyword(name) or name in GENERATED_NAMES


def class_name(model_name: str) -> str:
    """The generated class of a model: ``deep_fm`` -> ``DeepFm``."""
    return "".join(p[:1].upper() + p[1:] for p in model_name.split("_") if p) or "Model"


def identifier(name: str) -> str:
    """``name`` itself, when it is a plain identifier and no keyword; anything else is a compiler
    bug (the front end refuses such names, and the generated module's own, at their place)."""
    if not _IDENTIFIER.match(name) or keyword.iskeyword(name):
        raise ValueError(f"not a safe identifier for generated code: {name!r}")
    return name


def py_literal(value) -> str:
    """Python source for a checked value: str, int, float, bool, None, and tuples and dicts of
    them. Floats use the shortest text that reads back exactly."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_literal(k)}: {py_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple):
        inner = ", ".join(py_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, float):
        text = repr(value)
        if text in ("inf", "-inf", "nan"):
            return f"float({text!r})"
        return text
    if isinstance(value, (bool, int, str)) or value is None:
        return repr(value)
    raise TypeError(f"not a literal: {value!r}")


# What Python's tokenizer, nasc's grammar or an editor reads as the end of a line (and NUL, which
# Python refuses in source): inside a comment these are written as escapes.
_LINE_BREAKS = frozenset("\n\r\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
_DOCSTRING_ESCAPES = {"\\": "\\\\", '"': '\\"'}


def _escape(ch: str) -> str:
    return ch.encode("unicode_escape", "backslashreplace").decode("ascii")


def docstring_text(text: str) -> str:
    """``text`` for one line of a ``\"\"\"`` docstring: backslashes, double quotes and unprintable
    characters (line breaks among them) are escaped, so the docstring ends only where the
    template ends it and its value is ``text`` again."""
    return "".join(_DOCSTRING_ESCAPES.get(ch) or (ch if ch.isprintable() else _escape(ch))
                   for ch in text)


def comment_text(text: str) -> str:
    """``text`` for a comment that must stay one line (Python's ``#`` or nasc's): line breaks are
    shown as escapes instead of ending the comment, and so are lone surrogates (an undecodable
    byte of a file name), which no UTF-8 file can hold; everything else is kept as written."""
    return "".join(_escape(ch) if ch in _LINE_BREAKS or "\ud800" <= ch <= "\udfff" else ch
                   for ch in text)


def nas_string(raw: str) -> str:
    """A spec's string value (its source text between the quotes) quoted again; text that the
    grammar would not read back as one string is a compiler bug, refused here."""
    if not _NAS_STRING_BODY.match(raw):
        raise ValueError(f"not a nasc string body: {raw!r}")
    return f'"{raw}"'
