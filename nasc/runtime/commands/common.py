"""What more than one command needs beyond its data: the thread policy said once, the claim on a
new run directory, and the diagnostics about a model that is still a search space."""
from __future__ import annotations

from nasc.compiler.program import Program
from nasc.compiler.space import choices
from nasc.errors import Diagnostic, UsageError


def use_threads(threads: int | None, quiet: bool, setting: int | None = None,
                resumed: int | None = None):
    """Apply the CPU thread policy (nasc.runtime.threads) and say once what it chose:
    ``threads`` is --threads, ``setting`` the spec's threads setting, ``resumed`` the count a
    resumed run started with."""
    import sys

    from nasc.runtime.threads import apply_threads, choose_threads

    global _SAID
    choice = choose_threads(threads, setting, resumed=resumed)
    apply_threads(choice)
    if not quiet and choice != _SAID:  # `search --retrain` chooses twice: say it once
        print(choice.describe(), file=sys.stderr)
        _SAID = choice
    return choice


_SAID = None  # the thread choice last printed by this process


def at_model(program: Program, path: str, message: str, hint: str) -> Diagnostic:
    """A diagnostic located at the model statement."""
    where = program.spec.model.span
    return Diagnostic(path, where.line, where.column, message, hint)


def open_labels(program: Program, shown: int = 3) -> str:
    """The first open choices' labels, for a message about a spec that is still a space."""
    labels = [c.label for c in choices(program)]
    return ", ".join(labels[:shown]) + (", ..." if len(labels) > shown else "")


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
