"""Optional TensorBoard scalars (``--tensorboard``): the metrics rows a run directory writes, as
event files in ``RUN/tensorboard/`` (``tensorboard --logdir RUN``).

Every row a run writes (``metrics.json`` of a training, ``history.json`` of a DARTS/SNAS/ENAS/
one-shot search, ``children.json`` of random search, evolution and RL) already passes through
:class:`nasc.runtime.rundir.RunDir`; the sink attached to it turns each new row's numbers into
scalars, so a strategy or a training loop logs nothing itself and a new strategy is covered by
writing its rows as every other does. Tags are ``<file>/<column>``; nested columns are joined
with ``/`` -- ``history/arch/interaction.e0.alpha/fm`` is the weight DARTS gives ``fm`` on that
edge, named by the spec's options where they are known. The step is the row's ``epoch``,
``child`` or ``stage``, else its position.

A resumed run's rows up to its checkpoint were logged by the process that wrote them: the first
rows a resuming sink sees of each file (the views rewritten from the checkpoint) are not logged
again.
"""
from __future__ import annotations

import math
from pathlib import Path

STEP_KEYS = ("epoch", "child", "stage", "cycle")
LOGDIR = "tensorboard"


class TensorBoardScalars:
    def __init__(self, logdir: Path, names: dict[str, list[str]] | None = None,
                 resume: bool = False):
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(logdir))
        self.names = names or {}
        self.resume = resume
        self.logged: dict[str, int] = {}  # rows of each file already logged

    def rows(self, name: str, rows) -> None:
        """Log the rows of file ``name`` (a stem: "metrics", "history") not logged yet."""
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            return
        start = self.logged.get(name, len(rows) if self.resume else 0)
        for position, row in enumerate(rows[start:], start):
            step = next((row[k] for k in STEP_KEYS if _is_int(row.get(k))), position)
            for tag, value in scalar_items(row, self.names):
                self.writer.add_scalar(f"{name}/{tag}", value, step)
        self.logged[name] = len(rows)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


def scalar_items(row: dict, names: dict[str, list[str]] | None = None,
                 prefix: str = "") -> list[tuple[str, float]]:
    """(tag, value) for every finite number in ``row``; dicts and lists of measurements are
    walked, a list's entries named by ``names[its key]`` where given (an alpha row's
    operators), else numbered; step keys, text, flags, missing values and lists of whole
    numbers (the pairs or widths a stage fixed) are left out."""
    names = names or {}
    out = []
    for key, value in row.items():
        if not prefix and key in STEP_KEYS:
            continue
        out += _walk(f"{prefix}{key}", str(key), value, names)
    return out


def _walk(tag: str, key: str, value, names: dict) -> list[tuple[str, float]]:
    if isinstance(value, dict):
        return scalar_items(value, names, f"{tag}/")
    if isinstance(value, list):
        if key not in names and not _measured(value):
            return []  # ids, pairs, widths: a list of whole numbers is a choice, not a curve
        if value and all(isinstance(v, list) for v in value):  # one row per slot
            return [item for r, v in enumerate(value)
                    for item in _walk(f"{tag}[{r}]", key, v, names)]
        labels = names.get(key)
        if labels is None or len(labels) != len(value):
            labels = [str(k) for k in range(len(value))]
        return [item for label, v in zip(labels, value)
                for item in _walk(f"{tag}/{label}", label, v, {})]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return []
    return [(tag, float(value))] if math.isfinite(value) else []


def _measured(values: list) -> bool:
    """Some leaf is a float: weights or scores, not a list of ids or widths."""
    return any(_measured(v) if isinstance(v, list) else isinstance(v, float) for v in values)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def attach(run, names: dict[str, list[str]] | None = None, resume: bool = False) -> None:
    """Give ``run`` a TensorBoard sink writing to RUN/tensorboard/."""
    run.scalars = TensorBoardScalars(run.file(LOGDIR), names, resume)
