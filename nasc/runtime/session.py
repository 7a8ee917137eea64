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
