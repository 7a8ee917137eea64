"""A run directory (DESIGN.md §7): the spec it ran, the resolved configuration, metrics per epoch,
checkpoints and a summary. Every file is written atomically, so an interrupted run never leaves a
half-written file and resuming reads only complete ones.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import torch

from nasc.fileio import write_atomic


class RunDir:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)

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
            buf = io.StringIO()
            writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
            write_atomic(self.file(f"{name}.csv"), buf.getvalue())

    def save_checkpoint(self, name: str, state: dict) -> None:
        buf = io.BytesIO()
        torch.save(state, buf)
        write_atomic(self.file(name), buf.getvalue())

    def load_checkpoint(self, name: str, map_location="cpu") -> dict:
        return torch.load(self.file(name), map_location=map_location, weights_only=True)
