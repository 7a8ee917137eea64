"""``run.json``: what a search run was started with, and reading it back without trusting it.

A run directory is data, not code: ``--resume`` reads run.json, spec.nas and checkpoints from it,
and each value is checked before use (types, ranges, the spec's hash), so a tampered or corrupt
file is a located error. No value read back is ever executed (the supernet is generated anew from
the spec; checkpoints load with ``weights_only``). docs/runs.md says what a run may be trusted
with.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from nasc.errors import Diagnostic, UsageError

RUN_FILE = "run.json"


class SearchRecord(BaseModel):
    """The arguments of ``nasc search`` that ``--resume`` takes from the run, not the command."""

    model_config = ConfigDict(extra="allow", frozen=True)

    spec_path: StrictStr
    data: StrictStr = Field(min_length=1)
    split: Literal["auto", "files", "random811"]
    seed: StrictInt
    epochs: Optional[StrictInt] = Field(default=None, ge=1)
    batch: Optional[StrictInt] = Field(default=None, ge=1)  # --batch; absent before it existed
    synthetic_rows: Optional[StrictInt] = Field(default=None, ge=1)
    strategy: StrictStr
    spec_sha256: Optional[StrictStr] = None  # absent in runs written before it was recorded
    split_seed: Optional[StrictInt] = None  # absent before: those runs split with `seed`
    starts: Optional[list[dict]] = None  # the --start architectures, checked when it began
    cpu: Optional[dict] = None  # the thread choice it began with (nasc.runtime.threads)


def spec_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def read_search_record(run_path: Path) -> SearchRecord:
    """run.json of a search run, validated; any problem is a UsageError naming the file."""
    path = Path(run_path) / RUN_FILE
    where = str(path)
    if not path.is_file():
        raise UsageError([Diagnostic(str(run_path), 0, 0, "this is not a search run directory "
                                                          "(it has no run.json)",
                                     "pass the directory an earlier `nasc search` wrote")])
    try:
        raw = json.loads(path.read_bytes().decode("utf-8"))
        return SearchRecord.model_validate(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        problem = f"is not JSON ({err})"
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "the file"
        problem = f"has a bad `{field}`: {first['msg']}"
    raise UsageError([Diagnostic(where, 0, 0, f"run.json {problem}",
                                 "the run directory is damaged: start a new search "
                                 "(`nasc search SPEC --out NEW_DIR`)")])


def check_spec_unchanged(run_path: Path, record: SearchRecord, text: str) -> None:
    """Resuming with a spec.nas edited since the run began would continue a different search
    from the old one's state: refuse."""
    if record.spec_sha256 is not None and spec_digest(text) != record.spec_sha256:
        raise UsageError([Diagnostic(str(Path(run_path) / "spec.nas"), 0, 0,
                                     "spec.nas changed since this run began (its sha256 differs "
                                     "from run.json's), so the saved state belongs to another "
                                     "search",
                                     "restore the file, or start a new search from the edited "
                                     "spec: nasc search SPEC --out NEW_DIR")])
