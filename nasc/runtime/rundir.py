"""A run directory (DESIGN.md §7): the spec it ran, the resolved configuration, metrics per epoch,
checkpoints and a summary. Every file is written atomically, so an interrupted run never leaves a
half-written file.

Two files can never be replaced together, so a search keeps everything it needs to resume in one
file, ``checkpoint.pt`` (:class:`SearchCheckpoint`): the metrics rows travel inside it, and
``history.json``, ``metrics.*``, ``children.json``... are views rewritten from it, never read back.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import torch

from nasc.errors import Diagnostic, UsageError
from nasc.fileio import make_dirs, write_atomic

if TYPE_CHECKING:
    from nasc.runtime.strategies.common import SearchContext

CHECKPOINT = "checkpoint.pt"
FORMAT = "nasc search checkpoint 1"


def csv_text(rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


# Views whose rows another view of the same checkpoint already holds, not logged twice as
# TensorBoard scalars: a search's metrics.json is its history.json less the arch column (and
# every CSV view repeats a JSON one).
REPEATED_VIEWS = {"metrics.json"}


class RunDir:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        make_dirs(self.path)
        # Where metrics rows also go (--tensorboard: nasc.runtime.scalars), None when off.
        self.scalars = None

    def file(self, name: str) -> Path:
        return self.path / name

    def write_text(self, name: str, text: str) -> None:
        write_atomic(self.file(name), text)

    def write_json(self, name: str, data) -> None:
        write_atomic(self.file(name), json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")

    def read_json(self, name: str):
        return json.loads(self.file(name).read_text())

    def write_metrics(self, rows: list[dict], name: str = "metrics") -> None:
        self.write_json(f"{name}.json", rows)
        if rows:
            write_atomic(self.file(f"{name}.csv"), csv_text(rows))
        if self.scalars is not None:
            self.scalars.rows(name, rows)

    def write_view(self, name: str, rows) -> None:
        """A file derived from a checkpoint: JSON, or CSV (one line per row) by its name."""
        if name.endswith(".csv"):
            if rows:
                write_atomic(self.file(name), csv_text(rows))
        else:
            self.write_json(name, rows)
            if self.scalars is not None and name not in REPEATED_VIEWS:
                self.scalars.rows(Path(name).stem, rows)

    def remove_temp_files(self, name: str) -> None:
        """What a write_atomic of ``name`` killed before its replace left (``.NAME.xxxxxxxx``)."""
        for stray in self.path.glob(f".{name}.*"):
            stray.unlink(missing_ok=True)

    def save_checkpoint(self, name: str, state: dict) -> None:
        buf = io.BytesIO()
        torch.save(state, buf)
        write_atomic(self.file(name), buf.getvalue())

    def load_checkpoint(self, name: str, map_location="cpu") -> dict:
        return torch.load(self.file(name), map_location=map_location, weights_only=True)


class SearchCheckpoint:
    """The resumable state of one search, written by one atomic replace of RUN/checkpoint.pt.

    ``state`` is the strategy's own dict with two keys every strategy has: ``done`` (epochs,
    stages or children finished) and ``history`` (one row per finished unit). The file also
    holds the format and the search's fingerprint (strategy, spec text, seed, data, settings),
    so a checkpoint of another run is refused instead of half-loaded. ``views(state)`` names
    the files derived from a state ({file name: rows}); they are rewritten after each save and
    on every resume, so a kill between the checkpoint and its views costs nothing.
    """

    def __init__(self, ctx: "SearchContext", views: Callable[[dict], dict]):
        self.run, self.views = ctx.run, views
        identity = {"strategy": ctx.program.strategy.name, "spec": ctx.spec_text,
                    "seed": ctx.seed, "data": ctx.data_name, "settings": ctx.settings}
        text = json.dumps(identity, sort_keys=True, default=str)
        self.key = hashlib.sha256(text.encode()).hexdigest()

    def save(self, state: dict) -> None:
        self.run.save_checkpoint(CHECKPOINT, {"format": FORMAT, "key": self.key, "state": state})
        self.write_views(state)

    def write_views(self, state: dict) -> None:
        for name, rows in self.views(state).items():
            self.run.write_view(name, rows)

    def load(self, map_location="cpu") -> dict | None:
        """The saved state with its views rewritten, or None before the first save."""
        self.run.remove_temp_files(CHECKPOINT)
        path = self.run.file(CHECKPOINT)
        if not path.exists():
            return None
        try:
            saved = self.run.load_checkpoint(CHECKPOINT, map_location)
        # torch.load raises whatever the bytes lead its unpickler to (RuntimeError, EOFError,
        # KeyError, UnpicklingError...): any of them means the file is not one we wrote whole.
        except Exception:
            saved = None
        if not isinstance(saved, dict) or saved.get("format") != FORMAT:
            raise self.error("is truncated or not a nasc checkpoint")
        if saved.get("key") != self.key:
            raise self.error("belongs to another search (another strategy, spec, seed, data or "
                             "settings than this run's)")
        state = saved["state"]
        if len(state["history"]) != state["done"]:
            raise self.error(f"is inconsistent: {state['done']} finished but "
                             f"{len(state['history'])} history rows")
        for name in self.views(state):  # views are written only after a checkpoint
            self.run.remove_temp_files(name)
        self.write_views(state)
        return state

    def error(self, what: str) -> UsageError:
        path = self.run.file(CHECKPOINT)
        return UsageError([Diagnostic(str(path), 0, 0, f"{CHECKPOINT} {what}",
                                      "delete it to restart the search from the beginning, or "
                                      "resume a different run")])
