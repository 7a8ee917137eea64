"""Pieces the search benchmarks share: model cost and per-group summaries of seeded runs."""
from __future__ import annotations

import re
import statistics
import subprocess
from pathlib import Path

from torch.utils.flop_counter import FlopCounterMode

from nasc.compiler.frontend import load

ROOT = Path(__file__).resolve().parents[1]


def head_commit() -> str:
    """The short commit a run is made at, for its result row."""
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True).stdout.strip() or "uncommitted"


def flops_per_sample(arch: Path, data: str, split: str) -> tuple[int, int]:
    """Forward FLOPs per sample (a batch of 64 test rows) and the parameter count of a fixed spec."""
    from nasc.runtime.model import build_fixed
    from nasc.runtime.commands.dataset import log_options, open_dataset

    _, _, program = load(arch)
    # a behaviour log is read as the model reads it (next-item or DIN-style CTR rows)
    dataset = open_dataset(program, data, split=split, **log_options(program, data))
    model = build_fixed(program, dataset.schema).eval()
    batch = next(dataset.test.batches(64, shuffle=False))
    with FlopCounterMode(display=False) as counter:
        model(batch)
    return counter.get_total_flops() // 64, sum(p.numel() for p in model.parameters())


def mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def summarize(rows: list[dict], keys: tuple[str, ...], metrics: tuple[str, ...]) -> list[dict]:
    """One row per group of ``keys``: the seeds, and mean/std of each metric."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault(tuple(r[k] for k in keys), []).append(r)
    out = []
    for group, runs in groups.items():
        row = {**dict(zip(keys, group)), "seeds": [r["seed"] for r in runs]}
        for m in metrics:
            row[f"{m}_mean"], row[f"{m}_std"] = mean_std([r[m] for r in runs])
        out.append(row)
    return out


def with_search(text: str, block: str | None) -> str:
    """The spec with its `search` block replaced (None: kept)."""
    if block is None:
        return text
    return re.sub(r"(?ms)^search \w+ \{.*?^\}\n", block, text, count=1)
