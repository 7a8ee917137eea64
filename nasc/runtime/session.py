"""Glue shared by the commands: attach a dataset to a program and build its models."""
from __future__ import annotations

from dataclasses import dataclass

from nasc.compiler.program import InputDef, Program
from nasc.compiler.space import choices
from nasc.errors import UsageError, Diagnostic


def needs_sequences(program: Program) -> bool:
    return any(isinstance(b, InputDef) and b.type in ("sequence", "target")
               for b in program.bindings)


# A random 8:1:1 split (data without split files, or --split random811) uses this seed unless
# --split-seed says otherwise: every seed of a model, and every model, then meets the same rows,
# as BARS compares them. The training seed varies initialisation and batch order only.
SPLIT_SEED = 2021


def resolved_split_seed(split_seed: int | None) -> int:
    return SPLIT_SEED if split_seed is None else split_seed


def use_threads(threads: int | None, quiet: bool, setting: int | None = None):
    """Apply the CPU thread policy (nasc.runtime.threads) and say once what it chose:
    ``threads`` is --threads, ``setting`` the spec's threads setting."""
    import sys

    from nasc.runtime.threads import apply_threads, choose_threads

    global _SAID
    choice = choose_threads(threads, setting)
    apply_threads(choice)
    if not quiet and choice != _SAID:  # `search --retrain` chooses twice: say it once
        print(choice.describe(), file=sys.stderr)
        _SAID = choice
    return choice


_SAID = None  # the thread choice last printed by this process


def open_dataset(program: Program, data: str, seed: int = 2021, split_seed: int | None = None,
                 **options):
    """The dataset a command runs on; the synthetic default grows sequences when the spec has them.

    ``seed`` draws what belongs to a run (the synthetic data, DIN's sampled negatives);
    ``split_seed`` the rows of a random split (see SPLIT_SEED)."""
    from nasc.runtime.data import load_dataset
    from nasc.runtime.memory import TooLarge

    if data == "synthetic":
        options.setdefault("with_sequence", needs_sequences(program))
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


@dataclass
class ModelReport:
    parameters: int
    what: str
    data: str
    num_fields: int
    fx_code: str = ""


def _at_model(program: Program, path: str, message: str, hint: str) -> Diagnostic:
    """A diagnostic located at the model statement."""
    where = program.spec.model.span
    return Diagnostic(path, where.line, where.column, message, hint)


def _open_labels(program: Program, shown: int = 3) -> str:
    """The first open choices' labels, for a message about a spec that is still a space."""
    labels = [c.label for c in choices(program)]
    return ", ".join(labels[:shown]) + (", ..." if len(labels) > shown else "")


def describe_model(program: Program, data: str, want_fx: bool) -> ModelReport:
    """Parameter count of the fixed model (or of the supernet, for a space) on a dataset's schema."""
    from nasc.runtime.model import build_fx_model, materialize
    from nasc.compiler.lower import lower

    dataset = open_dataset(program, data)
    schema = dataset.schema
    fixed = not choices(program)
    if want_fx and not fixed:
        raise UsageError([_at_model(program, program.path,
                                    "`--emit fx` needs a fixed architecture, and model "
                                    f"`{program.name}` still has choices: {_open_labels(program)}",
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


def train_spec(spec_path: str, *, data: str = "synthetic", split: str = "auto",
               out: str | None = None, seed: int | None = None, epochs: int | None = None,
               batch: int | None = None, device: str = "cpu", quiet: bool = False,
               init: str | None = None, eval_negatives: int | str | None = None,
               train_positions: int | str | None = None, overwrite: bool = False,
               threads: int | None = None, split_seed: int | None = None) -> str:
    """``nasc train``: build the fx model of a fixed spec, train it, write the run directory.

    ``init``: a state_dict file to start from (``RUN/inherited.pt`` of a one-shot search).
    ``overwrite``: start over in a run directory that holds an earlier run (else refused).
    ``threads``: CPU threads (None: the thread policy, nasc.runtime.threads). ``split_seed``:
    the seed of a random 8:1:1 split (None: SPLIT_SEED, the same rows for every seed).
    ``eval_negatives`` (an int or "full") and ``train_positions`` (an int or "all") are for
    ``head next_item`` models (``nasc.runtime.retrieval``)."""
    from pathlib import Path

    import torch

    from nasc.compiler.frontend import load
    from nasc.runtime.model import build_fixed
    from nasc.runtime.rundir import RunDir
    from nasc.runtime.runlock import exclusive
    from nasc.runtime.train import TrainConfig, train_model

    text, _, program = load(spec_path)
    if choices(program):
        raise UsageError([_at_model(program, spec_path,
                                    f"model `{program.name}` still has choices "
                                    f"({_open_labels(program)}), so it is a search space, not a "
                                    "model", f"search it first: nasc search {spec_path}")])
    next_item = program.head.task == "next_item"
    config = TrainConfig.from_settings(program.train, seed=seed, epochs=epochs, batch=batch,
                                       device=device, eval_negatives=eval_negatives,
                                       train_positions=train_positions)
    cpu = use_threads(threads, quiet, program.train.get("threads"))
    options = log_options(program, data, config.train_positions)
    dataset = open_dataset(program, data, seed=config.seed, split=split, split_seed=split_seed,
                           **options)
    check_task(program, dataset, data)
    torch.manual_seed(config.seed)
    model = build_fixed(program, dataset.schema)
    if init is not None:
        model.load_state_dict(torch.load(init, map_location="cpu", weights_only=True))
    run = RunDir(out or Path("runs") / f"train-{Path(spec_path).stem}-{config.seed}")
    with exclusive(run.path):
        claim_new_run(run.path, overwrite, "train", text)
        parameters = sum(p.numel() for p in model.parameters())
        protocol = {}
        if next_item:
            from nasc.runtime.retrieval import MONITOR_NAMES, eval_protocol, train_protocol

            protocol = {"protocol": eval_protocol(config.eval_negatives, config.seed,
                                                  dataset.meta["num_items"]),
                        "train_protocol": train_protocol(config.train_positions, config.negatives,
                                                         config.seed),
                        "monitor": f"valid {MONITOR_NAMES[config.monitor]}"}
        run.write_text("spec.nas", text)
        run.write_json("config.json", {"spec": spec_path, "data": data, "split": split,
                                       "split_seed": resolved_split_seed(split_seed),
                                       "cpu": cpu.to_json(), "train": config.to_json(),
                                       "schema": dataset.schema.to_json(),
                                       "parameters": parameters, **protocol})
        result = train_model(model, dataset, config, run, show_progress=not quiet,
                             score_initial=init is not None)
        summary = {"best_epoch": result.best_epoch, "valid": result.valid, "test": result.test,
                   "epochs_run": result.epochs_run, "train_seconds": result.train_seconds,
                   "samples_per_second": result.samples_per_second, "device": device,
                   "parameters": parameters, **protocol}
        run.write_json("summary.json", summary)
        done = (f"best epoch {result.best_epoch} of {result.epochs_run}; "
                f"{result.samples_per_second:,.0f} samples/s on {device}")
        if next_item:
            scores = ", ".join(f"{k} {result.test[k]:.4f}" for k in ("HR@1", "HR@5", "NDCG@5"))
            return (f"{Path(spec_path).name} on {data}: test {scores} ({done}; "
                    f"{protocol['protocol']}); run in {run.path}")
        return (f"{Path(spec_path).name} on {data}: test AUC {result.test['auc']:.5f}, "
                f"logloss {result.test['logloss']:.5f} ({done}); run in {run.path}")


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


def search_spec(spec_path: str, *, data: str = "synthetic", split: str = "auto",
                out: str | None = None, seed: int | None = None, epochs: int | None = None,
                device: str = "cpu", resume: str | None = None, quiet: bool = False,
                synthetic_rows: int | None = None, overwrite: bool = False,
                threads: int | None = None, split_seed: int | None = None) -> tuple[str, "RunDir"]:
    """``nasc search``: run the spec's strategy; write the run directory and arch.nas.

    One process writes a run directory at a time; a new search refuses a directory that already
    holds a run unless ``overwrite`` (resume continues one instead)."""
    from pathlib import Path

    from nasc.compiler.frontend import compile_text, load
    from nasc.runtime.rundir import RunDir
    from nasc.runtime.runrecord import check_spec_unchanged, read_search_record

    if resume is not None:
        record = read_search_record(Path(resume))
        spec_path, data, split, seed = record.spec_path, record.data, record.split, record.seed
        epochs, synthetic_rows = record.epochs, record.synthetic_rows
        # Runs recorded before split_seed existed split their rows with the run's seed.
        split_seed = record.split_seed if record.split_seed is not None else record.seed
        spec_file = Path(resume) / "spec.nas"
        try:
            text = spec_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise UsageError([Diagnostic(str(spec_file), 0, 0, f"cannot read the run's spec: {err}",
                                         "the run directory is damaged: start a new search")]) \
                from None
        check_spec_unchanged(Path(resume), record, text)
        spec, program = compile_text(text, str(spec_file))
    else:
        text, spec, program = load(spec_path)
    if program.strategy is None:
        where = program.spec.model.span
        raise UsageError([Diagnostic(spec_path, where.line, where.column,
                                     f"model `{program.name}` has no `search` block, so there is "
                                     "nothing to search",
                                     "add a strategy after the model, e.g. "
                                     "`search darts { epochs 50 }`, or train a fixed model with "
                                     "`nasc train`")])
    seed = program.strategy.settings["seed"] if seed is None else seed
    # The search block's threads, else the train block's (which a --retrain also runs under).
    cpu = use_threads(threads, quiet, program.strategy.settings.get("threads")
                      or program.train.get("threads"))
    plan = _prepare_search(spec_path, program, data=data, split=split, seed=seed, epochs=epochs,
                           synthetic_rows=synthetic_rows, split_seed=split_seed)
    # The run directory is made only once the spec, the strategy and the data are known good.
    run = RunDir(resume if resume is not None
                 else out or Path("runs") / f"search-{Path(spec_path).stem}-{seed}")
    try:
        return _claim_and_search(plan, spec_path, text, spec, program, run, data=data,
                                 split=split, split_seed=split_seed, seed=seed, epochs=epochs,
                                 synthetic_rows=synthetic_rows, device=device, resume=resume,
                                 quiet=quiet, cpu=cpu, overwrite=overwrite)
    except KeyboardInterrupt as err:
        err.run_path = str(run.path)  # for the resume hint
        raise


def _claim_and_search(plan, spec_path, text, spec, program, run, *, data, split, split_seed,
                      seed, epochs, synthetic_rows, device, resume, quiet, cpu, overwrite):
    from nasc.runtime.runlock import exclusive
    from nasc.runtime.runrecord import spec_digest

    with exclusive(run.path):
        if resume is None:
            claim_new_run(run.path, overwrite, "search", text)
            run.write_text("spec.nas", text)
            run.write_json("run.json", {"spec_path": spec_path, "data": data, "split": split,
                                        "split_seed": resolved_split_seed(split_seed),
                                        "cpu": cpu.to_json(), "seed": seed, "epochs": epochs,
                                        "synthetic_rows": synthetic_rows,
                                        "strategy": program.strategy.name,
                                        "spec_sha256": spec_digest(text),
                                        "settings": {k: getattr(v, "text", lambda: v)()
                                                     for k, v in plan.settings.items()
                                                     if k != "stages"},
                                        "schema": plan.dataset.schema.to_json()})
        return _run_search(plan, spec_path, text, spec, program, run, data=data, seed=seed,
                           device=device, resume=resume is not None, quiet=quiet, cpu=cpu)


def claim_new_run(path, overwrite: bool, command: str, spec_text: str) -> None:
    """A new run starts in an empty directory. One that holds an earlier nasc run is refused
    (the user resumes it, or asks to overwrite it); one that holds other files always is, since
    overwriting them would delete what nasc did not write. A start killed before it wrote its
    record (only this spec.nas there, and temp files of atomic writes) is simply started again."""
    from pathlib import Path
    import shutil

    from nasc.runtime.runlock import LOCK_FILE

    path = Path(path)
    entries = [e for e in path.iterdir() if e.name != LOCK_FILE]
    visible = [e for e in entries if not e.name.startswith(".")]
    spec = path / "spec.nas"
    if not visible or (visible == [spec] and spec.is_file()
                       and spec.read_text(encoding="utf-8", errors="replace") == spec_text):
        for entry in entries:
            if entry.name.startswith(".") and entry.is_file():
                entry.unlink()  # a temp file of an interrupted write_atomic
        return
    ours = any((path / name).is_file() for name in ("run.json", "config.json"))
    if not ours:
        raise UsageError([Diagnostic(str(path), 0, 0, "the run directory is not empty and holds "
                                                      "no nasc run",
                                     "choose a new or empty directory with --out")])
    if not overwrite:
        finished = (path / "summary.json").is_file()
        state = "a finished" if finished else "an unfinished"
        hint = ("pass --overwrite to start it over, or choose another --out" if command == "train"
                else f"continue it with `nasc search --resume {path}`, pass --overwrite to start "
                     "over, or choose another --out")
        raise UsageError([Diagnostic(str(path), 0, 0, f"the run directory already holds {state} "
                                                      f"{'run' if command == 'train' else 'search'}",
                                     hint)])
    for entry in entries:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


@dataclass
class SearchPlan:
    """What a search runs with, known before anything is written: its strategy, the strategy's
    settings (command-line overrides applied) and the dataset."""

    module: object
    settings: dict
    dataset: object


def _prepare_search(spec_path, program, *, data, split, seed, epochs, synthetic_rows,
                    split_seed) -> SearchPlan:
    from nasc.compiler.strategies import IMPLEMENTED
    from nasc.runtime.strategies import strategy_module

    module = strategy_module(program.strategy.name)
    if module is None:
        where = program.strategy.span
        raise UsageError([Diagnostic(spec_path, where.line, where.column,
                                     f"strategy `{program.strategy.name}` is part of the language "
                                     "but not implemented in this version of nasc",
                                     "use " + ", ".join(IMPLEMENTED))])
    settings = dict(program.strategy.settings)
    settings["stages"] = program.strategy.stages
    if epochs is not None:
        settings["epochs"] = epochs
    options = {"n": synthetic_rows} if data == "synthetic" and synthetic_rows else {}
    options.update(log_options(program, data))
    dataset = open_dataset(program, data, seed=seed, split=split, split_seed=split_seed,
                           **options)
    check_task(program, dataset, data)
    return SearchPlan(module, settings, dataset)


def _run_search(plan: SearchPlan, spec_path, text, spec, program, run, *, data, seed, device,
                resume, quiet, cpu) -> tuple[str, "RunDir"]:
    import time

    import torch

    from nasc.runtime.strategies.common import SearchContext, export_arch

    ctx = SearchContext(program, spec, text, spec_path, plan.dataset, data, run,
                        torch.device(device), seed, plan.settings, resume=resume,
                        show_progress=not quiet)
    start = time.perf_counter()
    assignment = plan.module.search(ctx)
    seconds = round(time.perf_counter() - start, 1)
    ctx.record["device"] = device
    path = export_arch(ctx, assignment)
    # Wall time goes to the summary, not arch.nas: the same seed writes the same arch.nas.
    run.write_json("summary.json", {"choices": assignment, **ctx.record,
                                    "search_seconds": seconds, "cpu": cpu.to_json()})
    return f"search finished in {seconds} s; wrote {path}", run
