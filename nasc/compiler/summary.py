"""The text `nasc compile` prints: choices with labels and options, the size, run-time bindings."""
from __future__ import annotations

from nasc.compiler.program import InputDef, Program
from nasc.compiler.space import choices, space_size


def summary(program: Program, num_fields: int | None = None) -> str:
    found = choices(program)
    kind = "search space" if found else "fixed architecture"
    lines = [f"{program.path}: model {program.name} ({kind})"]
    if found:
        width = max(len(c.label) for c in found)
        lines.append(f"choices ({len(found)}):")
        for c in found:
            what = f"{c.construct} {c.owner}" + (f": {c.detail}" if c.detail else "")
            lines.append(f"  {c.label.ljust(width)}  {what}")
            if c.options:
                lines.append(f"  {' ' * width}  options: {', '.join(c.options)}")
    size = space_size(program, num_fields)
    if size.exact is not None:
        lines.append(f"architectures: {size.exact} (10^{size.log10:.2f})")
    else:
        lines.append(f"architectures: {size.fixed_part} x " + " x ".join(size.per_m)
                     + "   (m = number of fields, bound at run time; pass --fields M)")
    lines.append("binds at run time:")
    for b in program.bindings:
        if isinstance(b, InputDef):
            extra = ", ".join(f"{k}={v}" for k, v in b.params)
            lines.append(f"  input {b.name}: {b.type}{f' ({extra})' if extra else ''}"
                         " -- its fields and their vocabulary sizes come from the dataset")
    if program.strategy is not None:
        s = program.strategy
        shown = ", ".join(f"{k} {_text(v)}" for k, v in s.settings.items())
        lines.append(f"strategy: {s.name} ({shown})")
        for stage, settings in s.stages.items():
            inner = ", ".join(f"{k} {_text(v)}" for k, v in settings.items()
                              if k != "_span" and v is not None)
            lines.append(f"  stage {stage}: {inner}")
    return "\n".join(lines) + "\n"


def _text(v) -> str:
    return v.text() if hasattr(v, "text") else str(v)
