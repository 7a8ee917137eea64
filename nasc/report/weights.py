"""The architecture weights a DARTS/SNAS run recorded (history.json: one ``arch`` dict of
softmaxed rows per epoch), and whether they ended too close to uniform to mean anything."""
from __future__ import annotations

from nasc.compiler.program import CellDef, Program
from nasc.compiler.space import choices

# A row whose largest weight is within 10% of 1/n has not chosen: the issue saw 0.1994-0.2008
# over five options after 2 epochs, and the "found" cell was noise.
UNIFORM_TOLERANCE = 0.10


def arch_history(history: list[dict]) -> list[dict[str, list[float]]]:
    """Each epoch's weights by row; a choice with one row per slot (an interaction set:
    ``keep`` rows over its candidate products) gives one row per slot, ``label[r]``."""
    return [_rows(row["arch"]) for row in history if isinstance(row.get("arch"), dict)]


def _rows(arch: dict) -> dict[str, list[float]]:
    out = {}
    for label, weights in arch.items():
        if isinstance(weights, list) and weights and isinstance(weights[0], list):
            out.update({f"{label}[{r}]": row for r, row in enumerate(weights)})
        else:
            out[label] = weights
    return out


def near_uniform(arch: dict[str, list[float]]) -> bool:
    """True when every row with more than one option is within the tolerance of uniform."""
    rows = [r for r in arch.values() if isinstance(r, list) and len(r) > 1]
    return bool(rows) and all(max(r) <= (1 + UNIFORM_TOLERANCE) / len(r) for r in rows)


def uniform_warning(arch: dict[str, list[float]]) -> str | None:
    if not near_uniform(arch):
        return None
    peak = max(max(r) * len(r) for r in arch.values() if isinstance(r, list) and len(r) > 1)
    return (f"warning: the architecture weights ended close to uniform (no row's largest "
            f"weight is more than {peak - 1:.1%} above 1/n): the kept operators are barely better than "
            "a random pick; search for more epochs before trusting this architecture")


def weight_names(spec: Program) -> dict[str, list[str]]:
    """The option names of each relaxed choice, by its label in history.json's ``arch``."""
    names = {c.label: list(c.options) for c in choices(spec)}
    # history.json names a one-of's or a width's logits `<label>.alpha`
    names.update({f"{c.label}.alpha": list(c.options) for c in choices(spec)
                  if c.construct in ("node", "mlp", "blocks")})
    for b in spec.bindings:
        if isinstance(b, CellDef):
            for i, j, choice in b.edges:
                names[f"{choice.label}.alpha"] = [o.text() for o in choice.options]
            for j in b.intermediate():
                names[f"{b.node_label(j)}.beta"] = [f"from {i}" for i in range(j)]
    return names
