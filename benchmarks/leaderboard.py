"""One leaderboard of every CTR model nasc has measured: hand-crafted and searched, same rows.

    python benchmarks/leaderboard.py

Reads the per-method results files in benchmarks/results/ (baselines.json and
baselines_random811.json: the hand-crafted specs on each split; autopi.json, ameir.json, space.json: searches; any other ``*.json`` listed in SOURCES)
and writes benchmarks/results/leaderboard.json -- a list of rows, one per (model, data, split),
with the keys below -- and leaderboard.md generated from it: one table per (data, split), sorted
by mean test AUC, so a searched architecture and the hand-crafted models it must beat sit on
the same rows and seeds. Nothing is trained here; rerun it after any results file changes.
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT / "benchmarks"))

from benchkit import mean_std  # noqa: E402
KEYS = ("model", "kind", "data", "split", "seeds", "test_auc_mean", "test_auc_std",
        "test_logloss_mean", "test_logloss_std", "params", "search_seconds", "device", "commit",
        "split_seeds")
# A random811 run whose row names no split seed split its rows with the seed of the
# nasc command (`nasc train/search --split random811` without --split-seed: 2021 for every
# seed); benchmarks/autopi.py passes each seed as its split seed and says so in its rows.
DEFAULT_SPLIT_SEED = 2021
# Results files of searches: their run rows carry `method`, `split`, `seed` (and `data` where
# it is not Frappe_x1). Methods here that were not searched are hand-crafted references.
SEARCHES = ("autopi.json", "ameir.json", "space.json")
# Results files of the hand-crafted specs (benchmarks/baselines.py), one per split.
BASELINES = {"baselines.json": "files", "baselines_random811.json": "random811"}
HAND_CRAFTED_METHODS = {"DIN"}


def last_commit(path: Path) -> str:
    """The commit that last wrote a results file: the best stand-in for rows that lack one."""
    try:
        out = subprocess.check_output(["git", "log", "-1", "--format=%h", "--", str(path)],
                                      cwd=ROOT, text=True).strip()
    except (OSError, subprocess.CalledProcessError):
        out = ""
    return out or "uncommitted"


def _row(model, kind, data, split, runs, search_seconds, device, commit) -> dict:
    auc, auc_std = mean_std([r["test_auc"] for r in runs])
    logloss, logloss_std = mean_std([r["test_logloss"] for r in runs])
    params = [r.get("parameters") for r in runs if r.get("parameters")]
    return {"model": model, "kind": kind, "data": data, "split": split,
            "seeds": sorted(r["seed"] for r in runs), "test_auc_mean": auc,
            "test_auc_std": auc_std, "test_logloss_mean": logloss,
            "test_logloss_std": logloss_std,
            "params": round(statistics.mean(params)) if params else None,
            "search_seconds": search_seconds, "device": device, "commit": commit,
            "split_seeds": sorted({r.get("split_seed", DEFAULT_SPLIT_SEED) for r in runs})
            if split == "random811" else []}


def hand_crafted(path: Path, split: str = "files") -> list[dict]:
    """baselines*.json: every (model, seed) run of the baseline specs on Frappe_x1, on the
    split the file holds."""
    result = json.loads(path.read_text())
    split = result.get("split", split)
    groups: dict[str, list[dict]] = {}
    for run in result["runs"]:
        groups.setdefault(run["model"], []).append(run)
    device = result.get("environment", {}).get("device", "cpu")
    return [_row(model, "hand-crafted", "frappe_x1", split, runs, 0.0, device,
                 ", ".join(sorted({r.get("commit", "?") for r in runs})))
            for model, runs in groups.items()]


def searched(path: Path) -> list[dict]:
    """A search results file: one row per (method, data, split) over its seeds; CTR rows only
    (next-item rows report HR/NDCG, not AUC)."""
    result = json.loads(path.read_text())
    groups: dict[tuple, list[dict]] = {}
    for run in result["runs"]:
        if "test_auc" in run:
            key = (run["method"], run.get("data", "frappe_x1"), run["split"])
            groups.setdefault(key, []).append(run)
    fallback = last_commit(path)
    rows = []
    for (method, data, split), runs in groups.items():
        kind = "hand-crafted" if method in HAND_CRAFTED_METHODS else "searched"
        seconds = statistics.mean(r.get("search_seconds", 0.0) for r in runs)
        devices = sorted({r.get("device", "cpu") for r in runs})
        commits = sorted({r["commit"] for r in runs if r.get("commit")}) or [fallback]
        rows.append(_row(method, kind, data, split, runs,
                         0.0 if kind == "hand-crafted" else seconds, ", ".join(devices),
                         ", ".join(commits)))
    return rows


def leaderboard(results: Path = RESULTS) -> list[dict]:
    rows = []
    for name, split in BASELINES.items():
        if (results / name).exists():
            rows += hand_crafted(results / name, split)
    for name in SEARCHES:
        if (results / name).exists():
            rows += searched(results / name)
    return sorted(rows, key=lambda r: (r["data"], r["split"], -r["test_auc_mean"]))


def markdown(rows: list[dict]) -> str:
    lines = ["# Leaderboard: hand-crafted and searched CTR models on the same rows", "",
             "Generated by `python benchmarks/leaderboard.py` from `leaderboard.json`. Test metrics, "
             "mean ± std over the seeds listed; models were selected by validation only. "
             "`search s` is the search's wall time (0 for a hand-crafted model), on the device "
             "named.", ""]
    tables: dict[tuple, list[dict]] = {}
    for r in rows:
        tables.setdefault((r["data"], r["split"]), []).append(r)
    for (data, split), group in tables.items():
        lines += [f"## {data}, {split} split", "",
                  "| # | model | kind | seeds | test AUC | test logloss | params | search s | "
                  "device | commit |", "|---|---|---|---|---|---|---|---|---|---|"]
        for n, r in enumerate(group, 1):
            params = f"{r['params']:,}" if r["params"] else "-"
            lines.append(
                f"| {n} | {r['model']} | {r['kind']} | {len(r['seeds'])} | "
                f"{r['test_auc_mean']:.4f} ± {r['test_auc_std']:.4f} | "
                f"{r['test_logloss_mean']:.4f} ± {r['test_logloss_std']:.4f} | {params} | "
                f"{r['search_seconds']:.0f} | {r['device']} | {r['commit']} |")
        mixed = {tuple(r["split_seeds"]) for r in group}
        if len(mixed) > 1:
            lines += ["", "Split seeds differ between these rows (" + "; ".join(
                f"{r['model']}: {', '.join(map(str, r['split_seeds']))}" for r in group
                if r["split_seeds"] != [DEFAULT_SPLIT_SEED]) + f"; the others: "
                f"{DEFAULT_SPLIT_SEED} for every seed): only split seed {DEFAULT_SPLIT_SEED}'s "
                "test rows are common to all of them."]
        best = {kind: next((r for r in group if r["kind"] == kind), None)
                for kind in ("searched", "hand-crafted")}
        if best["searched"] and best["hand-crafted"]:
            gap = best["searched"]["test_auc_mean"] - best["hand-crafted"]["test_auc_mean"]
            lines += ["", f"Best searched ({best['searched']['model']}) minus best hand-crafted "
                          f"({best['hand-crafted']['model']}): {gap:+.4f} AUC."]
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    rows = leaderboard()
    if not rows:
        sys.exit("no results files in benchmarks/results/")
    out = RESULTS / "leaderboard.json"
    out.write_text(json.dumps(rows, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown(rows))
    print(f"wrote {out} ({len(rows)} rows) and {out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
