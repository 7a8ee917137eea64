"""The `nasc` command line: fmt, compile, train, search.

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
    target = Path(out_dir) / f"{Path(spec).stem}.py"
    if not target.exists() or target.read_text() != source:
        from nasc.fileio import write_atomic
        write_atomic(target, source)
    from nasc.runtime.session import describe_model

    report = describe_model(program, data, emit == "fx")
    if emit == "fx":
        click.echo(report.fx_code, nl=False)
        return
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


if __name__ == "__main__":
    main()
