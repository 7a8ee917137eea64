"""The `nasc` command line: fmt, compile, train, search, show, export, predict.

User mistakes (a bad spec, bad data, a bad flag) print a located error and exit with status 2;
nothing here lets a traceback reach the user for them.
"""
from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from nasc.errors import NascError

EXIT_USER_ERROR = 2


def _user_errors(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except NascError as err:
            click.echo(err.render(), err=True)
            sys.exit(EXIT_USER_ERROR)
        except OSError as err:
            if err.filename is None:
                raise
            # A file the user named that cannot be read or written (permissions, a full disk):
            # where and why, not a traceback. Writes nasc makes itself say so more precisely.
            click.echo(f"{err.filename}: error: {err.strerror or err}", err=True)
            sys.exit(EXIT_USER_ERROR)
    return wrapper


@click.group()
@click.version_option(package_name="nasc")
def main() -> None:
    """nasc: compile and search neural-architecture-search spaces of recommender models."""


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--check", is_flag=True, help="Exit 1 if a file is not in canonical form.")
@_user_errors
def fmt(files: tuple[str, ...], check: bool) -> None:
    """Rewrite spec files in canonical form (comments are kept)."""
    from nasc.compiler.frontend import read_source
    from nasc.compiler.parse import parse
    from nasc.compiler.printer import print_spec
    from nasc.fileio import write_atomic

    errors: list[NascError] = []
    changed = []
    for path in files:
        try:
            text = read_source(path)
            canonical = print_spec(parse(text, path))
        except NascError as err:
            errors.append(err)
            continue
        if canonical != text:
            changed.append(path)
            if not check:
                write_atomic(Path(path), canonical)
    for err in errors:
        click.echo(err.render(), err=True)
    for path in changed:
        click.echo(f"{'would reformat' if check else 'reformatted'} {path}")
    if errors:
        sys.exit(EXIT_USER_ERROR)
    if check and changed:
        sys.exit(1)


@main.command(name="compile")
@click.argument("spec", type=click.Path(exists=True, dir_okay=False))
@click.option("--emit", type=click.Choice(["summary", "ir", "fx", "python"]), default="summary",
              help="summary of the space; the IR as JSON; the fx code of a fixed architecture; "
                   "the generated supernet source.")
@click.option("--fields", type=click.IntRange(min=1), default=None,
              help="Number of fields m, to size spaces that depend on it.")
@click.option("--out-dir", type=click.Path(file_okay=False), default="generated", show_default=True,
              help="Where the generated module <spec>.py is written.")
@click.option("--data", default="synthetic", show_default=True,
              help="Dataset whose field schema sizes the model (for parameter counts and fx).")
@click.option("--check-only", is_flag=True, help="Parse and check only: no codegen, no torch.")
@_user_errors
def compile_(spec: str, emit: str, fields: int | None, out_dir: str, data: str,
             check_only: bool) -> None:
    """Parse and check SPEC, write generated/<spec>.py and print its summary."""
    from nasc.compiler.frontend import load
    from nasc.compiler.summary import summary

    text, spec_ir, program = load(spec)
    if emit == "ir":
        click.echo(spec_ir.model_dump_json(indent=2))
        return
    if check_only:
        click.echo(summary(program, fields), nl=False)
        return
    from nasc.compiler.codegen import render
    from nasc.compiler.lower import lower

    source = render(lower(program, "supernet"), program, text, _display_path(spec))
    if emit == "python":
        click.echo(source, nl=False)
        return
    from nasc.runtime.commands.describe import describe_model

    if emit == "fx":  # the fx code only: nothing else printed, nothing written
        click.echo(describe_model(program, data, want_fx=True).fx_code, nl=False)
        return
    target = Path(out_dir) / f"{Path(spec).stem}.py"
    if not target.exists() or target.read_text() != source:
        from nasc.fileio import write_atomic
        write_atomic(target, source)
    report = describe_model(program, data, False)
    click.echo(summary(program, fields or report.num_fields), nl=False)
    click.echo(f"parameters: {report.parameters:,} ({report.what}, on {report.data}: "
               f"{report.num_fields} fields)")
    click.echo(f"wrote {target}")


def _display_path(spec: str) -> str:
    """The spec path as stamped into generated code: relative to the working directory."""
    path = Path(spec).resolve()
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path.as_posix()


def _device(name: str) -> str:
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        from nasc.errors import Diagnostic, UsageError
        raise UsageError([Diagnostic("--device", 0, 0, "CUDA was asked for but no GPU is visible",
                                     "use --device cpu or --device auto")])
    return name


class _CountOr(click.ParamType):
    """A positive integer, or one word (``full``, ``all``)."""

    def __init__(self, word: str):
        self.word, self.name = word, f"N|{word}"

    def convert(self, value, param, ctx):
        if isinstance(value, int) or value == self.word:
            return value
        if str(value).isdigit() and int(value) > 0:
            return int(value)
        self.fail(f"{value!r} is neither a positive integer nor '{self.word}'", param, ctx)


def _options(*options):
    """Stack click options as one decorator (the commands that train share them)."""
    def apply(fn):
        for option in reversed(options):
            fn = option(fn)
        return fn
    return apply


_rows_and_threads = _options(
    click.option("--split", type=click.Choice(["auto", "files", "random811"]), default="auto",
                 show_default=True,
                 help="The data's own train/validation/test (files), or a seeded 8:1:1 of the "
                      "pooled rows (random811, AutoPI); auto: files where the data has them."),
    click.option("--split-seed", type=int, default=None,
                 help="Seed of a random811 split (default 2021 for every --seed: the same rows)."),
    click.option("--threads", type=click.IntRange(min=1), default=None,
                 help="CPU threads (default: one per usable core that other processes leave idle; README)."),
)
_tensorboard_option = click.option(
    "--tensorboard", is_flag=True,
    help="Also write loss, metrics and (DARTS/SNAS) architecture weights as TensorBoard "
         "scalars in RUN/tensorboard/ (view with `tensorboard --logdir RUN`).")
_schema_option = click.option(
    "--schema", type=click.Path(), default=None,
    help="The field schema (JSON or YAML) of a CSV/TSV/Parquet --data: column types, the label; "
         "`nasc data infer DATA --out schema.json` writes one to edit.")
_several_seeds = _options(
    click.option("--seeds", default=None,
                 help="Run several seeds (2021,2022,2023) as separate processes into "
                      "OUT/seed-<s>, then summarise them in OUT/seeds.json."),
    click.option("--jobs", type=click.IntRange(min=1), default=None,
                 help="With --seeds: how many at once (default: one per usable core)."),
    click.option("--overwrite", is_flag=True,
                 help="Start over in a run directory that holds an earlier run (else refused)."),
)


@main.command()
@click.argument("spec", type=click.Path(exists=True, dir_okay=False))
@click.option("--data", default="synthetic", show_default=True,
              help="`synthetic`, or a dataset path (a Frappe_x1 directory, a Criteo/Avazu file, "
                   "a behaviour log such as ../shared/data/beauty_s3rec for `head next_item`...).")
@_schema_option
@_rows_and_threads
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Run directory (default runs/train-<spec>-<seed>).")
@click.option("--seed", type=int, default=None, help="Seed (default: the spec's train seed).")
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Override the spec's epochs.")
@click.option("--batch", type=click.IntRange(min=1), default=None, help="Override the batch size.")
@click.option("--device", default="auto", show_default=True, help="cpu, cuda, cuda:N or auto.")
@click.option("--eval-negatives", type=_CountOr("full"), default=None,
              help="head next_item: rank each held-out item against N sampled unseen items "
                   "(e.g. 99 as SASRec and S3-Rec, 100 as AMEIR), or against every unseen item "
                   "of the catalogue (`full`). Default: the train block's `eval_negatives` (100).")
@click.option("--train-positions", type=_CountOr("all"), default=5, show_default=True,
              help="head next_item: train on each user's last N next items (AMEIR), or all.")
@_several_seeds
@_tensorboard_option
@click.option("--quiet", is_flag=True, help="No progress line.")
@_user_errors
def train(spec: str, data: str, schema: str | None, split: str, split_seed: int | None,
          threads: int | None,
          out: str | None, seed: int | None, epochs: int | None, batch: int | None, device: str,
          eval_negatives: int | str | None, train_positions: int | str, seeds: str | None,
          jobs: int | None, overwrite: bool, tensorboard: bool, quiet: bool) -> None:
    """Train the fixed architecture in SPEC (a baseline, or an arch.nas a search wrote)."""
    from nasc.runtime.commands.train import train_spec

    if seeds is not None:
        spec_args = [spec, "--data", data, "--split", split, *_optional("--schema", schema),
                     *_optional("--split-seed", split_seed), *_optional("--epochs", epochs),
                     *_optional("--batch", batch), *_optional("--eval-negatives", eval_negatives),
                     "--train-positions", str(train_positions)]
        _run_seeds("train", spec, seeds, seed, jobs, threads, device, spec_args,
                   ["--overwrite"] * overwrite + ["--tensorboard"] * tensorboard, out, None)
        return

    result = train_spec(spec, data=data, split=split, out=out, seed=seed, epochs=epochs,
                        batch=batch, device=_device(device), quiet=quiet,
                        eval_negatives=eval_negatives, train_positions=train_positions,
                        overwrite=overwrite, threads=threads, split_seed=split_seed,
                        schema=schema, tensorboard=tensorboard)
    click.echo(result)


@main.command()
@click.argument("spec", type=click.Path(exists=True, dir_okay=False), required=False)
@click.option("--data", default="synthetic", show_default=True,
              help="`synthetic`, or a dataset path.")
@_schema_option
@_rows_and_threads
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Run directory (default runs/search-<spec>-<seed>).")
@click.option("--seed", type=int, default=None, help="Seed (default: the strategy's seed).")
@click.option("--epochs", type=click.IntRange(min=1), default=None,
              help="Override the strategy's epochs.")
@click.option("--batch", type=click.IntRange(min=1), default=None,
              help="Override the strategy's batch size (e.g. a smaller one on a small dataset).")
@click.option("--start", "start", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Architectures to train first, before any drawn child (random, halving, "
                   "evolution): a run's choices.json or arch.nas, or JSON of the space's choices; "
                   "repeatable (docs/runs.md).")
@click.option("--device", default="auto", show_default=True, help="cpu, cuda, cuda:N or auto.")
@click.option("--resume", type=click.Path(exists=True, file_okay=False), default=None,
              help="Continue an interrupted run from its last checkpoint, with the run's own "
                   "settings (an --epochs other than the run's is refused; docs/runs.md).")
@click.option("--retrain", is_flag=True,
              help="Then train the found architecture (from RUN/inherited.pt when the search "
                   "wrote one, else from scratch).")
@_several_seeds
@_tensorboard_option
@click.option("--quiet", is_flag=True, help="No progress line.")
@_user_errors
def search(spec: str | None, data: str, schema: str | None, split: str, split_seed: int | None,
           threads: int | None, out: str | None, seed: int | None, epochs: int | None,
           batch: int | None, start: tuple[str, ...], device: str, resume: str | None,
           retrain: bool, seeds: str | None, jobs: int | None, overwrite: bool,
           tensorboard: bool, quiet: bool) -> None:
    """Search SPEC with its strategy; write RUN/arch.nas (and retrain it with --retrain)."""
    from nasc.runtime.commands.search import search_spec
    from nasc.runtime.commands.train import train_spec

    if spec is None and resume is None:
        raise click.UsageError("give a SPEC, or --resume RUN")
    if seeds is not None:
        spec_args = [spec or "", "--data", data, "--split", split, *_optional("--schema", schema),
                     *_optional("--split-seed", split_seed), *_optional("--epochs", epochs),
                     *_optional("--batch", batch),
                     *[a for p in start for a in ("--start", str(Path(p).resolve()))]]
        flags = ["--retrain"] * retrain + ["--overwrite"] * overwrite + \
            ["--tensorboard"] * tensorboard
        _run_seeds("search", spec, seeds, seed, jobs, threads, device, spec_args, flags, out,
                   resume)
        return
    dev = _device(device)
    try:
        message, run = search_spec(spec, data=data, split=split, out=out, seed=seed,
                                   epochs=epochs, device=dev, resume=resume, quiet=quiet,
                                   overwrite=overwrite, threads=threads, split_seed=split_seed,
                                   schema=schema, tensorboard=tensorboard, batch=batch,
                                   start=start)
    except KeyboardInterrupt as err:
        where = getattr(err, "run_path", None)
        click.echo(f"\ninterrupted: continue with `nasc search --resume {where}`" if where
                   else "\ninterrupted before the search wrote its run directory: nothing to "
                        "resume", err=True)
        sys.exit(130)
    click.echo(message)
    if retrain:
        saved = run.read_json("run.json")
        inherited = run.file("inherited.pt")
        try:
            click.echo(train_spec(str(run.file("arch.nas")), data=saved["data"],
                                  split=saved["split"], out=str(run.file("retrain")),
                                  seed=saved["seed"], device=dev, quiet=quiet,
                                  overwrite=overwrite, threads=threads,
                                  split_seed=saved.get("split_seed", saved["seed"]),
                                  init=str(inherited) if inherited.exists() else None,
                                  schema=saved.get("data_schema"), tensorboard=tensorboard))
            from nasc.report.report import report_note

            click.echo(report_note(run.path).strip())  # the report gains the test score
        except KeyboardInterrupt:
            click.echo(f"\ninterrupted while retraining; the search's result stays in "
                       f"{run.file('arch.nas')}: retrain with "
                       f"`nasc search --resume {run.path} --retrain --overwrite`", err=True)
            sys.exit(130)


@main.command()
@click.argument("target", metavar="SPEC_OR_RUN")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Where report.md and pictures/ go (default: the run directory itself, or "
                   "show-<spec> for a spec).")
@_user_errors
def show(target: str, out: str | None) -> None:
    """Draw a spec's structure (constructs, choices and their option counts) or a search run's
    found architecture, weights and curves: report.md and PNGs in pictures/."""
    from nasc.report.report import show as show_target

    click.echo(show_target(target, out))


@main.command(name="export")
@click.argument("run", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["torchscript", "onnx"]), required=True,
              help="TorchScript (torch.jit.load) or ONNX (onnxruntime).")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Export directory (default RUN/export-<format>).")
@_user_errors
def export_(run: str, fmt: str, out: str | None) -> None:
    """Write RUN's trained model and its feature map (vocabularies, OOV, buckets) for scoring.

    RUN is a run directory of `nasc train` or of `nasc search --retrain`."""
    from nasc.runtime.commands.export import export_run

    click.echo(export_run(run, fmt, out))


@main.group()
def data() -> None:
    """Your own data: guess a schema for it (infer), see what training would read (inspect)."""


@data.command(name="infer")
@click.argument("file", type=click.Path())
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Write the schema here (.json, or .yaml/.yml) instead of printing it.")
@click.option("--separator", default="|", show_default=True,
              help="The separator of multi-hot cells (a column whose cells hold it is multi-hot).")
@_user_errors
def data_infer(file: str, out: str | None, separator: str) -> None:
    """Guess a schema for FILE (CSV/TSV/Parquet) from its values, to edit and pass as --schema."""
    from nasc.runtime.commands.data import infer_command

    click.echo(infer_command(file, out, separator))


@data.command(name="inspect")
@click.argument("source", metavar="DATA")
@_schema_option
@click.option("--split", type=click.Choice(["auto", "files", "random811"]), default="auto",
              show_default=True, help="As for train and search.")
@click.option("--split-seed", type=int, default=None, help="As for train and search.")
@_user_errors
def data_inspect(source: str, schema: str | None, split: str, split_seed: int | None) -> None:
    """Print what training on DATA reads: rows per split, label rate, fields and vocabularies."""
    from nasc.runtime.commands.data import inspect_command

    click.echo(inspect_command(source, schema, split, split_seed))


@main.command()
@click.argument("source", metavar="RUN_OR_EXPORT", type=click.Path())
@click.option("--data", required=True, type=click.Path(),
              help="Raw rows to score, in the format the model was trained on.")
@click.option("--schema", type=click.Path(), default=None,
              help="A field schema (JSON or YAML) of the rows: checked to declare the model's fields.")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="FILE.csv or FILE.parquet (default <data>.predictions.csv here).")
@_user_errors
def predict(source: str, data: str, schema: str | None, out: str | None) -> None:
    """Score raw rows with a trained run or an export: one probability per row, in row order,
    with the preprocessing training used (a value training never kept gets its OOV id)."""
    from nasc.runtime.commands.predict import predict_rows

    click.echo(predict_rows(source, data, schema, out))


def _optional(flag: str, value) -> list[str]:
    return [] if value is None else [flag, str(value)]


def _run_seeds(command: str, spec: str | None, seeds_text: str, seed: int | None,
               jobs: int | None, threads: int | None, device: str, spec_args: list[str],
               flags: list[str], out: str | None, resume: str | None) -> None:
    """``--seeds``: each seed a ``nasc`` process of its own (nasc.runtime.seeds)."""
    from nasc.errors import Diagnostic, UsageError
    from nasc.runtime.seeds import parse_seeds, run_seeds
    from nasc.runtime.threads import default_threads, idle_cores, usable_cores

    if seed is not None:
        raise UsageError([Diagnostic("--seed", 0, 0, "--seed and --seeds exclude each other",
                                     "give the seeds as --seeds 2021,2022,...")])
    if spec is None and resume is None:
        raise click.UsageError("give a SPEC (and --resume ROOT to continue its seeds)")
    seeds = parse_seeds(seeds_text)
    cores = usable_cores()
    parallel = min(jobs or cores, len(seeds))
    # Each process gets --threads, or its share of the idle cores; a spec's threads setting is
    # not consulted here (a --resume has no spec to read).
    per_job = threads or default_threads(cores, parallel, idle_cores())
    common = ["--threads", str(per_job), "--device", device, "--quiet", *flags]
    root = Path(resume or out or Path("runs") / f"{command}-{Path(spec).stem}-seeds")
    click.echo(f"{len(seeds)} seeds, {parallel} at a time, {per_job} CPU thread"
               f"{'s' if per_job != 1 else ''} each ({cores} usable cores); runs in {root}")
    try:
        run_seeds(command, spec_args, common, seeds, root, parallel, resume is not None,
                  click.echo)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
