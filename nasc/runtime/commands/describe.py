"""``nasc compile``'s report on a spec: the parameter count of its fixed model (or of the supernet,
for a space) on a dataset's schema, and the fx code of a fixed model for ``--emit fx``."""
from __future__ import annotations

from dataclasses import dataclass

from nasc.compiler.program import Program
from nasc.compiler.space import choices
from nasc.errors import UsageError
from nasc.runtime.commands.common import at_model, open_labels
from nasc.runtime.commands.dataset import open_dataset


@dataclass
class ModelReport:
    parameters: int
    what: str
    data: str
    num_fields: int
    fx_code: str = ""


def describe_model(program: Program, data: str, want_fx: bool) -> ModelReport:
    """Parameter count of the fixed model (or of the supernet, for a space) on a dataset's schema."""
    from nasc.runtime.model import build_fx_model, materialize
    from nasc.compiler.lower import lower

    dataset = open_dataset(program, data)
    schema = dataset.schema
    fixed = not choices(program)
    if want_fx and not fixed:
        raise UsageError([at_model(program, program.path,
                                    "`--emit fx` needs a fixed architecture, and model "
                                    f"`{program.name}` still has choices: {open_labels(program)}",
                                    "search it first (`nasc search`), then compile its arch.nas")])
    from nasc.runtime.model import building

    from nasc.runtime.sizing import check_model_fits

    plan = lower(program, "fixed" if fixed else "supernet")
    with building(program, schema):
        check_model_fits(program, plan, schema)
        if fixed:
            model = build_fx_model(plan, schema)
            what = "fixed architecture"
        else:
            model = materialize(plan, schema)
            what = "supernet, all candidates"
    count = sum(p.numel() for p in model.parameters())
    code = model.code if want_fx else ""
    return ModelReport(count, what, data, len(schema.fields), code)
