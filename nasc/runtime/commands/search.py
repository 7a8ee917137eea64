"""``nasc search``: run a spec's strategy and write its run directory and arch.nas, or resume one.

``prepare_search`` is the part known before anything is written (the strategy, its settings, the
dataset); its ``SearchPlan.context`` is what a strategy is handed, so tests build theirs the same
way the command does.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from nasc.compiler.ir import Spec
from nasc.compiler.program import Program
from nasc.errors import Diagnostic, UsageError
from nasc.runtime.commands.common import claim_new_run, use_threads
from nasc.runtime.commands.dataset import (
    check_task, data_schema, log_options, open_dataset, resolved_split_seed,
)

if TYPE_CHECKING:
    from nasc.runtime.rundir import RunDir


def search_spec(spec_path: str, *, data: str = "synthetic", split: str = "auto",
                out: str | None = None, seed: int | None = None, epochs: int | None = None,
                device: str = "cpu", resume: str | None = None, quiet: bool = False,
                synthetic_rows: int | None = None, overwrite: bool = False,
                threads: int | None = None, split_seed: int | None = None,
                schema: str | dict | None = None,
                tensorboard: bool = False, batch: int | None = None,
                start: tuple[str, ...] = ()) -> tuple[str, "RunDir"]:
    """``nasc search``: run the spec's strategy; write the run directory and arch.nas.

    One process writes a run directory at a time; a new search refuses a directory that already
    holds a run unless ``overwrite`` (resume continues one instead). ``schema``: the field
    schema (a file or its dict) of a CSV/TSV/Parquet ``data``; run.json keeps its content, so
    --resume and --retrain read the data as the search did. ``tensorboard``: also write the
    run's metrics rows (and DARTS/SNAS weights) as TensorBoard scalars in RUN/tensorboard/.
    ``epochs``, ``batch``: override the strategy's settings (run.json keeps them for --resume).
    ``start``: files of architectures the strategy trains first (nasc.compiler.starts); run.json
    keeps them as read, so --resume needs the files no more."""
    from pathlib import Path

    from nasc.compiler.frontend import compile_text, load
    from nasc.runtime.rundir import RunDir
    from nasc.runtime.runrecord import check_spec_unchanged, read_search_record

    if resume is not None:
        record = read_search_record(Path(resume))
        spec_path, data, split, seed = record.spec_path, record.data, record.split, record.seed
        asked_epochs, asked_batch = epochs, batch
        epochs, batch, synthetic_rows = record.epochs, record.batch, record.synthetic_rows
        schema = getattr(record, "data_schema", None)
        if start:
            raise UsageError([Diagnostic("--start", 0, 0,
                                         f"the run in {resume} keeps the start architectures it "
                                         "began with; --resume cannot add others",
                                         "leave --start out to finish it, or start a new search "
                                         "with --start and another --out")])
        starts = record.starts
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
        check_resume_setting(resume, "epochs", asked_epochs,
                             epochs or program.strategy.settings.get("epochs"))
        check_resume_setting(resume, "batch", asked_batch,
                             batch or program.strategy.settings.get("batch"))
    else:
        text, spec, program = load(spec_path)
        starts = None
    schema = data_schema(schema)
    if program.strategy is None:
        where = program.spec.model.span
        raise UsageError([Diagnostic(spec_path, where.line, where.column,
                                     f"model `{program.name}` has no `search` block, so there is "
                                     "nothing to search",
                                     "add a strategy after the model, e.g. "
                                     "`search darts { epochs 50 }`, or train a fixed model with "
                                     "`nasc train`")])
    seed = program.strategy.settings["seed"] if seed is None else seed
    run_path = Path(resume if resume is not None
                    else out or Path("runs") / f"search-{Path(spec_path).stem}-{seed}")
    try:
        # The search block's threads, else the train block's (which a --retrain also runs under);
        # a resumed run continues with the count it began with, so it ends as it would have.
        began = (record.cpu or {}).get("threads") if resume is not None else None
        cpu = use_threads(threads, quiet, program.strategy.settings.get("threads")
                          or program.train.get("threads"),
                          resumed=began if isinstance(began, int) and began >= 1 else None)
        plan = prepare_search(spec_path, text, spec, program, data=data, split=split, seed=seed,
                              split_seed=split_seed, synthetic_rows=synthetic_rows,
                              overrides={k: v for k, v in (("epochs", epochs),
                                                            ("batch", batch)) if v is not None},
                              schema=schema)
        plan.starts = _starts(plan, start) if starts is None else _saved_starts(starts)
        # The run directory is made only once the spec, the strategy and the data are known good.
        return _claim_and_search(plan, RunDir(run_path), split=split, split_seed=split_seed,
                                 epochs=epochs, synthetic_rows=synthetic_rows, device=device,
                                 resume=resume, quiet=quiet, cpu=cpu, overwrite=overwrite,
                                 tensorboard=tensorboard, batch=batch)
    except KeyboardInterrupt as err:
        # For the resume hint; where run.json was never written there is nothing to resume.
        err.run_path = str(run_path) if (run_path / "run.json").is_file() else None
        raise


def check_resume_setting(run: str, name: str, asked: int | None, recorded: int | None) -> None:
    """``--resume RUN --epochs N`` (or ``--batch N``) is refused unless N is the run's own: a
    search's schedules (the learning rate's cosine, DARTS' temperature, a child's training
    budget) are laid out over its epochs and steps, so a run stretched or cut to another count
    would match neither."""
    if asked is None or asked == recorded:
        return
    what = {"epochs": ("searches for", f"{recorded} epochs" if recorded
                       else "the epochs of its spec's stages"),
            "batch": ("trains with", f"batch {recorded}" if recorded
                      else "the batch sizes of its spec's stages")}[name]
    raise UsageError([Diagnostic(f"--{name}", 0, 0,
                                 f"the run in {run} {what[0]} {what[1]}; --resume "
                                 f"continues it as it was started, not with {name} {asked}",
                                 f"leave --{name} out to finish it, or start a new search with "
                                 f"--{name} {asked} and another --out")])


def _starts(plan: "SearchPlan", paths: tuple[str, ...]) -> tuple[dict, ...]:
    """The --start architectures, checked against the space, the data and the strategy."""
    if not paths:
        return ()
    from nasc.compiler.starts import read_starts
    from nasc.compiler.strategies import STRATEGIES

    row = STRATEGIES[plan.program.strategy.name]
    where = plan.program.strategy.span
    if row.starts is None:
        able = ", ".join(r.name for r in STRATEGIES.values() if r.starts and r.implemented)
        raise UsageError([Diagnostic(plan.spec_path, where.line, where.column,
                                     f"strategy `{row.name}` does not train children one by one, "
                                     "so it has no first children for --start",
                                     f"use --start with {able}")])
    starts = read_starts(list(paths), plan.spec, plan.program,
                         [f.name for f in plan.dataset.schema.fields])
    count = plan.settings[row.starts]
    if len(starts) > count:
        raise UsageError([Diagnostic(plan.spec_path, where.line, where.column,
                                     f"--start gives {len(starts)} architectures, more than the "
                                     f"{count} first children of `{row.starts} {count}`",
                                     f"raise `{row.starts}` in the search block, or give fewer")])
    return tuple(starts)


def _saved_starts(saved: list) -> tuple[dict, ...]:
    from nasc.runtime.strategies.common import from_json

    return tuple(from_json(a) for a in saved)


@dataclass
class SearchPlan:
    """What a search runs with, known before anything is written: the spec, its strategy module,
    the strategy's settings (overrides applied), the dataset and the seed."""

    spec_path: str
    text: str
    spec: Spec
    program: Program
    module: object
    settings: dict
    data: str
    dataset: object
    seed: int
    data_schema: dict | None = None  # the --schema of a CSV/TSV/Parquet dataset, as read
    starts: tuple[dict, ...] = ()  # the --start architectures, checked

    def context(self, run, device: str = "cpu", resume: bool = False,
                show_progress: bool = True):
        """The SearchContext the strategy's ``search`` is handed, writing to ``run``."""
        import torch

        from nasc.runtime.strategies.common import SearchContext

        return SearchContext(self.program, self.spec, self.text, self.spec_path, self.dataset,
                             self.data, run, torch.device(device), self.seed, self.settings,
                             resume=resume, show_progress=show_progress, starts=self.starts)


def prepare_search(spec_path: str, text: str, spec: Spec, program: Program, *, data: str,
                   seed: int, split: str = "auto", split_seed: int | None = None,
                   synthetic_rows: int | None = None, overrides: dict | None = None,
                   dataset=None, schema: dict | None = None) -> SearchPlan:
    """Check that the program's strategy is implemented, apply ``overrides`` to its settings and
    open ``data`` (or take ``dataset``, already open) for a program that has a ``search`` block."""
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
    settings.update(overrides or {})
    if dataset is None:
        options = {"n": synthetic_rows} if data == "synthetic" and synthetic_rows else {}
        options.update(log_options(program, data))
        if schema is not None:
            options["schema"] = schema
        dataset = open_dataset(program, data, seed=seed, split=split, split_seed=split_seed,
                               **options)
    check_task(program, dataset, data)
    return SearchPlan(spec_path, text, spec, program, module, settings, data, dataset, seed, schema)


def _claim_and_search(plan: SearchPlan, run, *, split, split_seed, epochs, synthetic_rows, device,
                      resume, quiet, cpu, overwrite, tensorboard=False, batch=None):
    from nasc.runtime.runlock import exclusive
    from nasc.runtime.base_rate import effective_init_bias
    from nasc.runtime.runrecord import spec_digest
    from nasc.runtime.strategies.common import jsonable

    with exclusive(run.path):
        if resume is None:
            claim_new_run(run.path, overwrite, "search", plan.text)
            run.write_text("spec.nas", plan.text)
            run.write_json("run.json", {"spec_path": plan.spec_path, "data": plan.data,
                                        "split": split,
                                        "split_seed": resolved_split_seed(split_seed),
                                        "cpu": cpu.to_json(), "seed": plan.seed, "epochs": epochs,
                                        "batch": batch,
                                        "synthetic_rows": synthetic_rows,
                                        "strategy": plan.program.strategy.name,
                                        "spec_sha256": spec_digest(plan.text),
                                        # where CTR logits start (a run before the setting: 0)
                                        "init_bias": effective_init_bias(
                                            plan.program.train.get("init_bias")),
                                        "settings": {k: getattr(v, "text", lambda: v)()
                                                     for k, v in plan.settings.items()
                                                     if k != "stages"},
                                        "schema": plan.dataset.schema.to_json(),
                                        **({"starts": [jsonable(a) for a in plan.starts]}
                                           if plan.starts else {}),
                                        **({"data_schema": plan.data_schema}
                                           if plan.data_schema else {})})
        if tensorboard:
            from nasc.report.weights import weight_names
            from nasc.runtime.scalars import attach

            attach(run, weight_names(plan.program), resume=resume is not None)
        try:
            return _run_search(plan, run, device=device, resume=resume is not None, quiet=quiet,
                               cpu=cpu)
        finally:
            if run.scalars is not None:
                run.scalars.close()


def _run_search(plan: SearchPlan, run, *, device, resume, quiet, cpu) -> tuple[str, "RunDir"]:
    import time

    from nasc.runtime.strategies.common import assignment_key, export_arch

    # summary.json is written last: a resumed search that has it had run to its end. It is still
    # loaded and derived again (that checks its checkpoint and rewrites lost views), but its
    # summary and its wall time stay those of the run that did the work.
    finished = resume and run.file("summary.json").is_file()
    ctx = plan.context(run, device, resume=resume, show_progress=not quiet)
    start = time.perf_counter()
    assignment = plan.module.search(ctx)
    seconds = round(time.perf_counter() - start, 1)
    ctx.record["device"] = device
    if plan.starts:
        keys = [assignment_key(a) for a in plan.starts]
        kept = assignment_key(assignment)
        ctx.record["starts"] = len(keys)
        if kept in keys:  # the search found nothing better on validation than what it was given
            ctx.record["kept_start"] = keys.index(kept) + 1
    path = export_arch(ctx, assignment)
    if finished:
        took = run.read_json("summary.json").get("search_seconds")
        return (f"the search had already finished{f' (it took {took} s)' if took else ''}; "
                f"its result is {path}"), run
    # Wall time goes to the summary, not arch.nas: the same seed writes the same arch.nas.
    run.write_json("summary.json", {"choices": assignment, **ctx.record,
                                    "search_seconds": seconds, "cpu": cpu.to_json()})
    from nasc.report.report import report_note

    start = ctx.record.get("kept_start")
    beaten = "" if start is None else (f"; it is start architecture {start}: no drawn child "
                                       "beat it on validation")
    return f"search finished in {seconds} s; wrote {path}{beaten}{report_note(run.path)}", run
