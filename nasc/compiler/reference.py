"""The tables of docs/language.md, rendered from the declarations they describe.

The operator table comes from ``nasc.compiler.operators``, the settings tables from
``nasc.compiler.settings`` (constructs, the train block) and ``nasc.compiler.strategies``. In the
document a table sits between
``<!-- generated: NAME -->`` and ``<!-- end generated -->``; ``python -m nasc.compiler.reference``
rewrites those regions, and a test fails when the document and the declarations disagree.
No torch here: this is front-end code.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from nasc.compiler.operators import OPERATORS, OpSig, ParamSig
from nasc.compiler.settings import CONSTRUCTS, TRAIN, SettingSig
from nasc.compiler.strategies import ROWS

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
    if float(x).is_integer() and x >= 10 ** 6 and str(int(x)).rstrip("0") == "1":
        return f"10^{len(str(int(x))) - 1}"
    return str(int(x)) if float(x).is_integer() else str(x)


def _param(p: ParamSig) -> str:
    # an empty list cannot be written (a list has items): the parameter is simply left out
    text = f"`{p.name}` (optional)" if p.default == () else f"`{p.name}={_value(p.default)}`"
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


def _setting_value(sig: SettingSig) -> str:
    if sig.value_doc:
        return sig.value_doc
    if sig.type in ("int", "float"):
        if sig.min is not None and sig.max is not None:
            return f"{sig.type} {_number(sig.min)}..{_number(sig.max)}"
        return f"{sig.type} >= {_number(sig.min)}" if sig.min is not None else sig.type
    if sig.type == "enum":
        return " \\| ".join(f"`{c}`" for c in sig.choices)
    if sig.type in ("op", "opchoice"):
        return f"{sig.type} ({sig.role})"
    return sig.type.replace("_", " ")


def _setting_default(sig: SettingSig) -> str:
    if sig.default_doc:
        return sig.default_doc
    if sig.required:
        return "**required**"
    if sig.type == "flag":
        return "on" if sig.default else "off"
    if sig.default is None:
        return "—"
    if sig.type == "optimizer":
        name, params = sig.default
        return f"`{name}(" + ", ".join(f"{k}={_value(v)}" for k, v in params.items()) + ")`"
    return f"`{_value(sig.default)}`"


def settings_table(table: dict[str, SettingSig]) -> str:
    rows = ["| setting | value | default | notes |", "|---|---|---|---|"]
    for sig in table.values():
        rows.append(f"| `{sig.key}` | {_setting_value(sig)} | {_setting_default(sig)} | "
                    f"{sig.doc} |".replace("|  |", "| |"))
    return "\n".join(rows) + "\n"


def strategies_section() -> str:
    """Every strategy of the table: what it searches and trains, then its settings."""
    parts = []
    for row in ROWS:
        if not row.implemented:
            continue
        parts.append(f"**`{row.name}`**: {row.doc} It searches {', '.join(row.searches)} "
                     f"choices and trains `head {'` / `head '.join(row.heads)}` models."
                     + (f" `nasc search --start FILE` trains the architectures of FILE as its "
                        f"first `{row.starts}`, before any drawn one." if row.starts else "")
                     + "\n\n"
                     + settings_table(row.settings))
    later = [f"`{row.name}`" for row in ROWS if not row.implemented]
    if later:
        parts.append(f"**{', '.join(later)}**: recognised, with the settings every strategy "
                     "takes (`epochs`, `batch`, `seed`, `threads`); `nasc search` reports them as "
                     "not yet implemented.\n")
    return "\n".join(parts)


TABLES = {
    "operators": operator_table,
    **{f"settings-{name}": (lambda t=table: settings_table(t)) for name, table in CONSTRUCTS.items()
       if name != "head"},
    "strategies": lambda: strategies_section(),
    "settings-train": lambda: settings_table(TRAIN),
}


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
