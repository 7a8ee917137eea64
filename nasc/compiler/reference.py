"""The tables of docs/language.md, rendered from the declarations they describe.

The operator table comes from ``nasc.compiler.operators``. In the document a table sits between
``<!-- generated: NAME -->`` and ``<!-- end generated -->``; ``python -m nasc.compiler.reference``
rewrites those regions, and a test fails when the document and the declarations disagree.
No torch here: this is front-end code.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from nasc.compiler.operators import OPERATORS, OpSig, ParamSig

DOC = Path(__file__).resolve().parents[2] / "docs" / "language.md"
REGION = re.compile(r"(<!-- generated: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- end generated -->)",
                    re.S)


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return str(value)


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _param(p: ParamSig) -> str:
    text = f"`{p.name}={_value(p.default)}`"
    if p.choices:
        text += " (" + " \\| ".join(p.choices) + ")"
    elif p.min is not None and p.max is not None:
        text += f" ({_number(p.min)}..{_number(p.max)})"
    return text


def _inputs(sig: OpSig) -> str:
    if not sig.inputs:
        return "—"
    parts = [" or ".join(kinds) for kinds in sig.inputs]
    if sig.variadic:
        parts[-1] += " (repeatable)"
    return "; ".join(parts)


def _output(sig: OpSig) -> str:
    if sig.roles == {"optimizer"}:
        return "—"
    if sig.shape == "same":
        return "same as input"
    if sig.shape == "embedding":
        return "by input: matrix / sequence / vector"
    return f"`{sig.shape}`"


def operator_table() -> str:
    rows = ["| operator | roles | inputs | output | parameters (default, range) | what it does |",
            "|---|---|---|---|---|---|"]
    for sig in OPERATORS.values():
        params = "<br>".join(_param(p) for p in sig.params) or "—"
        rows.append(f"| `{sig.name}` | {', '.join(sorted(sig.roles))} | {_inputs(sig)} | "
                    f"{_output(sig)} | {params} | {sig.doc} |")
    return "\n".join(rows) + "\n"


TABLES = {"operators": operator_table}


def render(text: str) -> str:
    """``text`` with every generated region replaced by its table."""
    def fill(m: re.Match) -> str:
        name = m.group("name")
        if name not in TABLES:
            raise KeyError(f"no generated table named {name!r}; tables: {sorted(TABLES)}")
        return m.group(1) + TABLES[name]() + m.group(4)
    return REGION.sub(fill, text)


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else DOC
    text = path.read_text()
    path.write_text(render(text))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
