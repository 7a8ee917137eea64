"""Glue shared by the commands: attach a dataset to a program and build its models."""
from __future__ import annotations

from dataclasses import dataclass

from nasc.compiler.program import InputDef, Program
from nasc.compiler.space import choices
from nasc.errors import UsageError, Diagnostic


def needs_sequences(program: Program) -> bool:
    return any(isinstance(b, InputDef) and b.type in ("sequence", "target")
               for b in program.bindings)


def open_dataset(program: Program, data: str, seed: int = 2021, **options):
    """The dataset a command runs on; the synthetic default grows sequences when the spec has them."""
    from nasc.runtime.data import load_dataset

    if data == "synthetic":
        options.setdefault("with_sequence", needs_sequences(program))
    dataset = load_dataset(data, seed=seed, **options)
    if needs_sequences(program) and not dataset.schema.sequence:
        raise UsageError([Diagnostic(data, 0, 0, f"model `{program.name}` reads a behavior "
                                                 "sequence, but this dataset has none",
                                     "use a dataset with sequences, or the synthetic default")])
    return dataset


@dataclass
class ModelReport:
    parameters: int
    what: str
    data: str
    num_fields: int
    fx_code: str = ""


def describe_model(program: Program, data: str, want_fx: bool) -> ModelReport:
    """Parameter count of the fixed model (or of the supernet, for a space) on a dataset's schema."""
    from nasc.runtime.materialize import build_fx_model, materialize
    from nasc.compiler.lower import lower

    dataset = open_dataset(program, data)
    schema = dataset.schema
    fixed = not choices(program)
    if want_fx and not fixed:
        raise UsageError([Diagnostic(program.path, 0, 0, "`--emit fx` needs a fixed architecture, "
                                                         "and this spec still has choices",
                                     "search it first (`nasc search`), then compile its arch.nas")])
    if fixed:
        model = build_fx_model(lower(program, "fixed"), schema)
        what = "fixed architecture"
    else:
        model = materialize(lower(program, "supernet"), schema)
        what = "supernet, all candidates"
    count = sum(p.numel() for p in model.parameters())
    code = model.code if want_fx else ""
    return ModelReport(count, what, data, len(schema.fields), code)
