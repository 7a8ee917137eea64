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
        for key, value in SYNTHETIC_DEFAULT.items():
            options.setdefault(key, value)
    dataset = load_dataset(data, seed=seed, **options)
    if needs_sequences(program) and not dataset.schema.sequence:
        raise UsageError([Diagnostic(data, 0, 0, f"model `{program.name}` reads a behavior "
                                                 "sequence, but this dataset has none",
                                     "use a dataset with sequences, or the synthetic default")])
    return dataset


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
    from nasc.runtime.model import building

    with building(program, schema):
        if fixed:
            model = build_fx_model(lower(program, "fixed"), schema)
            what = "fixed architecture"
        else:
            model = materialize(lower(program, "supernet"), schema)
            what = "supernet, all candidates"
    count = sum(p.numel() for p in model.parameters())
    code = model.code if want_fx else ""
    return ModelReport(count, what, data, len(schema.fields), code)


def train_spec(spec_path: str, *, data: str = "synthetic", split: str = "files",
               out: str | None = None, seed: int | None = None, epochs: int | None = None,
               batch: int | None = None, device: str = "cpu", quiet: bool = False,
               run_dir=None, init: str | None = None, eval_negatives: int | str | None = None,
               train_positions: int | str | None = None) -> str:
    """``nasc train``: build the fx model of a fixed spec, train it, write the run directory.

    ``init``: a state_dict file to start from (``RUN/inherited.pt`` of a one-shot search).
    ``eval_negatives`` (an int or "full") and ``train_positions`` (an int or "all") are for
    ``head next_item`` models (``nasc.runtime.retrieval``)."""
    from pathlib import Path

    import torch

    from nasc.compiler.frontend import load
    from nasc.runtime.model import build_fixed
    from nasc.runtime.rundir import RunDir
    from nasc.runtime.train import TrainConfig, train_model

    text, _, program = load(spec_path)
    if choices(program):
        raise UsageError([Diagnostic(spec_path, 0, 0, "this spec still has choices, so it is a "
                                                      "search space, not a model",
                                     f"search it first: nasc search {spec_path}")])
    next_item = program.head.task == "next_item"
    config = TrainConfig.from_settings(program.train, seed=seed, epochs=epochs, batch=batch,
                                       device=device, eval_negatives=eval_negatives,
                                       train_positions=train_positions)
    options = log_options(program, data, config.train_positions)
    dataset = open_dataset(program, data, seed=config.seed, split=split, **options)
    check_task(program, dataset, data)
    torch.manual_seed(config.seed)
    model = build_fixed(program, dataset.schema)
    if init is not None:
        model.load_state_dict(torch.load(init, map_location="cpu", weights_only=True))
    run = run_dir or RunDir(out or Path("runs") / f"train-{Path(spec_path).stem}-{config.seed}")
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
                                   "train": config.to_json(),
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
    raise UsageError([Diagnostic(program.path, 0, 0, message, hint)])


def search_spec(spec_path: str, *, data: str = "synthetic", split: str = "files",
                out: str | None = None, seed: int | None = None, epochs: int | None = None,
                device: str = "cpu", resume: str | None = None, quiet: bool = False,
                synthetic_rows: int | None = None) -> tuple[str, "RunDir"]:
    """``nasc search``: run the spec's strategy; write the run directory and arch.nas."""
    from pathlib import Path

    import torch

    from nasc.compiler.frontend import compile_text, load
    from nasc.runtime.rundir import RunDir
    from nasc.runtime.strategies import strategy_module
    from nasc.runtime.strategies.common import SearchContext, export_arch

    if resume is not None:
        run = RunDir(resume)
        if not run.file("run.json").exists():
            raise UsageError([Diagnostic(resume, 0, 0, "this is not a search run directory "
                                                       "(it has no run.json)",
                                         "pass the directory an earlier `nasc search` wrote")])
        saved = run.read_json("run.json")
        spec_path, data, split, seed = saved["spec_path"], saved["data"], saved["split"], saved["seed"]
        epochs, synthetic_rows = saved["epochs"], saved.get("synthetic_rows")
        text = run.file("spec.nas").read_text()
        spec, program = compile_text(text, spec_path)
    else:
        text, spec, program = load(spec_path)
    if program.strategy is None:
        raise UsageError([Diagnostic(spec_path, 0, 0, "the spec has no `search` block",
                                     "add e.g. `search darts { epochs 50 }`")])
    module = strategy_module(program.strategy.name)
    if module is None:
        raise UsageError([Diagnostic(spec_path, 0, 0, f"strategy `{program.strategy.name}` is part "
                                                      "of the language but not implemented in "
                                                      "this version of nasc",
                                     "use darts, random or oneshot_random")])
    settings = dict(program.strategy.settings)
    settings["stages"] = program.strategy.stages
    seed = settings["seed"] if seed is None else seed
    if epochs is not None:
        settings["epochs"] = epochs
    options = {}
    if data == "synthetic" and synthetic_rows:
        options["n"] = synthetic_rows
    if program.head.task == "next_item" and program.strategy.name != "oneshot_random":
        raise UsageError([Diagnostic(spec_path, 0, 0, f"`search {program.strategy.name}` "
                                                      "trains click labels; a `head next_item` "
                                                      "space is searched by oneshot_random only",
                                     "use `search oneshot_random { ... }`")])
    options.update(log_options(program, data))
    dataset = open_dataset(program, data, seed=seed, split=split, **options)
    check_task(program, dataset, data)
    run = RunDir(out or Path("runs") / f"search-{Path(spec_path).stem}-{seed}") if resume is None \
        else run
    if resume is None:
        run.write_text("spec.nas", text)
        run.write_json("run.json", {"spec_path": spec_path, "data": data, "split": split,
                                    "seed": seed, "epochs": epochs,
                                    "synthetic_rows": synthetic_rows,
                                    "strategy": program.strategy.name,
                                    "settings": {k: getattr(v, "text", lambda: v)()
                                                 for k, v in settings.items() if k != "stages"},
                                    "schema": dataset.schema.to_json()})
    ctx = SearchContext(program, spec, text, spec_path, dataset, data, run, torch.device(device),
                        seed, settings, resume=resume is not None, show_progress=not quiet)
    import time
    start = time.perf_counter()
    assignment = module.search(ctx)
    ctx.record["search_seconds"] = round(time.perf_counter() - start, 1)
    ctx.record["device"] = device
    path = export_arch(ctx, assignment)
    run.write_json("summary.json", {"choices": assignment, **ctx.record})
    return f"search finished in {ctx.record['search_seconds']} s; wrote {path}", run
