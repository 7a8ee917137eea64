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
        options.setdefault("n", SYNTHETIC_ROWS)
    dataset = load_dataset(data, seed=seed, **options)
    if needs_sequences(program) and not dataset.schema.sequence:
        raise UsageError([Diagnostic(data, 0, 0, f"model `{program.name}` reads a behavior "
                                                 "sequence, but this dataset has none",
                                     "use a dataset with sequences, or the synthetic default")])
    return dataset


# The built-in synthetic click log's size: large enough that a planted order-2 or order-3
# interaction is learnable, small enough that `nasc search specs/autopi.nas` (50 DARTS epochs)
# finishes in minutes on a 2-core CPU.
SYNTHETIC_ROWS = 20000


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
               run_dir=None) -> str:
    """``nasc train``: build the fx model of a fixed spec, train it, write the run directory."""
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
    if program.head.task != "ctr":
        raise UsageError([Diagnostic(spec_path, 0, 0, f"nasc train trains CTR models; "
                                                      f"`head {program.head.task}` is not "
                                                      "supported by this version",
                                     "use a ctr head")])
    config = TrainConfig.from_settings(program.train, seed=seed, epochs=epochs, batch=batch,
                                       device=device)
    dataset = open_dataset(program, data, seed=config.seed, split=split)
    torch.manual_seed(config.seed)
    model = build_fixed(program, dataset.schema)
    run = run_dir or RunDir(out or Path("runs") / f"train-{Path(spec_path).stem}-{config.seed}")
    run.write_text("spec.nas", text)
    run.write_json("config.json", {"spec": spec_path, "data": data, "split": split,
                                   "train": config.to_json(),
                                   "schema": dataset.schema.to_json(),
                                   "parameters": sum(p.numel() for p in model.parameters())})
    result = train_model(model, dataset, config, run, show_progress=not quiet)
    summary = {"best_epoch": result.best_epoch, "valid": result.valid, "test": result.test,
               "epochs_run": result.epochs_run, "train_seconds": result.train_seconds,
               "samples_per_second": result.samples_per_second, "device": device,
               "parameters": sum(p.numel() for p in model.parameters())}
    run.write_json("summary.json", summary)
    return (f"{Path(spec_path).name} on {data}: test AUC {result.test['auc']:.5f}, "
            f"logloss {result.test['logloss']:.5f} (best epoch {result.best_epoch} of "
            f"{result.epochs_run}; {result.samples_per_second:,.0f} samples/s on {device}); "
            f"run in {run.path}")


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
    dataset = open_dataset(program, data, seed=seed, split=split, **options)
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
