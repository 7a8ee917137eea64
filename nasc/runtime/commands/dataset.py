"""The dataset a command runs on: the synthetic default, the split's seed, how a behaviour log is
read for the model, and the checks that the data suits the model's head and inputs."""
from __future__ import annotations

from nasc.compiler.program import InputDef, Program
from nasc.errors import Diagnostic, UsageError


def needs_sequences(program: Program) -> bool:
    return any(isinstance(b, InputDef) and b.type in ("sequence", "target")
               for b in program.bindings)


# A random 8:1:1 split (data without split files, or --split random811) uses this seed unless
# --split-seed says otherwise: every seed of a model, and every model, then meets the same rows,
# as BARS compares them. The training seed varies initialisation and batch order only.
SPLIT_SEED = 2021


def resolved_split_seed(split_seed: int | None) -> int:
    return SPLIT_SEED if split_seed is None else split_seed


def data_schema(schema: str | dict | None) -> dict | None:
    """``--schema FILE`` read and checked before anything is written (a dict passes as is)."""
    if schema is None or isinstance(schema, dict):
        return schema
    from nasc.runtime.data.schemafile import read_schema_file

    return read_schema_file(schema)


def open_dataset(program: Program, data: str, seed: int = 2021, split_seed: int | None = None,
                 **options):
    """The dataset a command runs on; the synthetic default grows sequences when the spec has them.

    ``seed`` draws what belongs to a run (the synthetic data, DIN's sampled negatives);
    ``split_seed`` the rows of a random split (see SPLIT_SEED)."""
    from nasc.runtime.data import load_dataset
    from nasc.runtime.memory import TooLarge

    if data == "synthetic":
        options.setdefault("with_sequence", needs_sequences(program))
        if program.head.task == "next_item":  # sized as on a log: one behaviour field, the item
            options.setdefault("items_only", True)
        for key, value in SYNTHETIC_DEFAULT.items():
            options.setdefault(key, value)
    try:
        dataset = load_dataset(data, seed=seed, split_seed=resolved_split_seed(split_seed),
                               **options)
    except TooLarge as err:
        raise UsageError([Diagnostic(program.path, *_sequence_input_span(program),
                                     f"{err} (dataset {data})",
                                     "lower the input's max_len, or train on fewer positions "
                                     "(--train-positions)")]) from None
    if needs_sequences(program) and not dataset.schema.sequence:
        raise UsageError([Diagnostic(data, 0, 0, f"model `{program.name}` reads a behavior "
                                                 "sequence, but this dataset has none",
                                     "use a dataset with sequences, or the synthetic default")])
    return dataset


def _sequence_input_span(program: Program) -> tuple[int, int]:
    for stmt in program.spec.model.statements:
        if getattr(stmt, "type", None) == "sequence" and hasattr(stmt, "params"):
            return stmt.span.line or 1, stmt.span.column or 1
    return program.spec.model.span.line or 1, program.spec.model.span.column or 1


# The built-in synthetic click log: 20,000 rows of 8 fields with 10 values each and rank-2
# planted interactions (f0*f1, f2*f3*f4): few enough rows that `nasc search specs/autopi.nas`
# (50 DARTS epochs) finishes in minutes on a 2-core CPU, and every value pair seen ~200 times,
# so a model that forms the right products can learn them from that many rows.
SYNTHETIC_ROWS = 20000
SYNTHETIC_DEFAULT = {"n": SYNTHETIC_ROWS, "vocab": 10, "dim_signal": 2}


def is_sequence_log(data: str) -> bool:
    """Whether ``--data`` names a behaviour log (one user's items per line)."""
    from nasc.runtime.data import data_format

    return data_format(data) == "sequence"


def sequence_max_len(program: Program) -> int:
    """The spec's ``sequence(max_len=N)`` (50 when it gives none)."""
    for b in program.bindings:
        if isinstance(b, InputDef) and b.type == "sequence":
            return int(dict(b.params).get("max_len", 50))
    return 50


def log_options(program: Program, data: str, train_positions: int | str = 5) -> dict:
    """How a behaviour log is read for this model: next-item rows for `head next_item`; DIN-style
    CTR rows (next item vs one sampled unseen item) for a CTR head that reads a sequence and a
    target item; nothing for other data."""
    if not is_sequence_log(data):
        return {}
    positions = None if train_positions == "all" else int(train_positions)
    if program.head.task == "next_item":
        return {"max_len": sequence_max_len(program), "train_positions": positions}
    kinds = {b.type for b in program.bindings if isinstance(b, InputDef)}
    if {"sequence", "target"} <= kinds:
        return {"task": "ctr", "max_len": sequence_max_len(program),
                **({"train_positions": positions} if positions is not None else {})}
    return {}


def check_task(program: Program, dataset, data: str) -> None:
    """A CTR head needs labelled rows, a next-item head a behaviour log: say so, not a traceback."""
    want, have = program.head.task, dataset.schema.task
    if want == have:
        return
    if want == "next_item":
        message = (f"model `{program.name}` has `head next_item`, which trains on a behaviour log "
                   f"(one user's items per line), but `{data}` is a CTR dataset")
        hint = "pass a sequence log, e.g. --data ../shared/data/beauty_s3rec"
    else:
        message = (f"model `{program.name}` has `head {want}`, which trains on labelled rows, "
                   f"but `{data}` is a next-item behaviour log")
        hint = ("train a `head next_item` model on it (e.g. specs/sasrec.nas); a CTR model reads "
                "it as DIN-style rows when it has a sequence and a target input (specs/din.nas)")
    raise UsageError([Diagnostic(program.path, *_head_span(program), message, hint)])


def _head_span(program: Program) -> tuple[int, int]:
    for stmt in program.spec.model.statements:
        if getattr(stmt, "type", None) == "head":
            return stmt.span.line or 1, stmt.span.column or 1
    return program.spec.model.span.line or 1, program.spec.model.span.column or 1
