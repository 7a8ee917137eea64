"""Fuzz the front end: a million mutated specs, counting anything but a located SpecError.

    python benchmarks/fuzz.py [--cases 1000000] [--seed 1] [--start 0] [--out FILE]
    python benchmarks/fuzz.py --merge a.json b.json   # shards run side by side, one per core

The mutations are tests/kit/mutations.py (the same generator and property as
tests/compiler/test_fuzz_mutations.py); case i of a seed is replayed with
``mutations.case(i, seed)``. One process, one thread. Results: benchmarks/results/fuzz.json
(rewritten every 50,000 cases, ``complete`` false until the end) and a markdown table beside it.
No torch is imported.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import threading
import time
import traceback
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import lark  # noqa: E402

from benchkit import head_commit  # noqa: E402
from kit import mutations  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
# what a run exercises: the front end and the generator (the commit alone misses local edits)
SOURCES = sorted([*(ROOT / "nasc" / "grammar").glob("*"), ROOT / "tests/kit/mutations.py",
                  *(ROOT / "nasc" / "compiler").glob("resolve*.py"),
                  *(ROOT / "nasc" / "compiler" / f for f in
                    ("parse.py", "syntax_errors.py", "printer.py", "frontend.py",
                     "ir.py", "operators.py", "settings.py", "program.py"))])




def sources_sha() -> str:
    digest = hashlib.sha256()
    for path in SOURCES:
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", type=int, default=0, help="index of the first case")
    parser.add_argument("--out", default=str(RESULTS / "fuzz.json"))
    parser.add_argument("--merge", nargs="+", metavar="SHARD",
                        help="combine shard results (consecutive --start ranges of one seed) "
                             "into --out")
    args = parser.parse_args()
    out = Path(args.out)
    if args.merge:
        write(out, merge([json.loads(Path(p).read_text()) for p in args.merge]))
        return
    run = {"cases": 0, "seed": args.seed, "start": args.start, "crashes": 0, "crash_examples": [],
           "outcomes": Counter(), "kinds": Counter(), "commit": head_commit(),
           "sources_sha256": sources_sha(), "python": platform.python_version(),
           "lark": lark.__version__, "cpu": platform.processor() or platform.machine(),
           "cores": os.cpu_count(), "load_average_at_start": os.getloadavg()[0]}
    wall, cpu = time.perf_counter(), time.process_time()
    for i, kind, text in mutations.cases(args.cases, args.seed, args.start):
        run["kinds"].update(kind.split("+"))
        try:
            run["outcomes"][mutations.check(text)] += 1
        except Exception as err:  # noqa: BLE001 - what the fuzzer is for
            run["crashes"] += 1
            if len(run["crash_examples"]) < 20:
                run["crash_examples"].append({"case": i, "kind": kind, "error": repr(err)[:300],
                                              "where": traceback.format_exc(limit=-2)[-600:]})
        run["cases"] += 1
        if run["cases"] % 50_000 == 0 or run["cases"] == args.cases:
            run.update(seconds=time.perf_counter() - wall, cpu_seconds=time.process_time() - cpu,
                       threads=threading.active_count(), complete=run["cases"] == args.cases)
            run["cases_per_second"] = run["cases"] / run["cpu_seconds"]
            write(out, run)
            print(f"{run['cases']:,} cases, {run['crashes']} crashes, "
                  f"{run['cases_per_second']:.0f} cases/cpu-s", file=sys.stderr, flush=True)


def merge(shards: list[dict]) -> dict:
    """One result from shards that cover consecutive case ranges of one seed."""
    shards = sorted(shards, key=lambda r: r["start"])
    for a, b in zip(shards, shards[1:]):
        if a["start"] + a["cases"] != b["start"] or a["seed"] != b["seed"]:
            raise SystemExit(f"shards do not join: {a['start']}+{a['cases']} vs {b['start']}")
    if len({r["sources_sha256"] for r in shards}) != 1:
        raise SystemExit("shards ran over different sources")
    run = dict(shards[0])
    for key in ("cases", "crashes", "cpu_seconds"):
        run[key] = sum(r[key] for r in shards)
    run["seconds"] = max(r["seconds"] for r in shards)  # side by side: the longest one
    for key in ("outcomes", "kinds"):
        run[key] = sum((Counter(r[key]) for r in shards), Counter())
    run["crash_examples"] = [c for r in shards for c in r["crash_examples"]][:20]
    run["complete"] = all(r["complete"] for r in shards)
    run["cases_per_second"] = run["cases"] / run["cpu_seconds"]
    run["shards"] = [{"start": r["start"], "cases": r["cases"], "seconds": r["seconds"]}
                     for r in shards]
    run["load_average_at_start"] = max(r["load_average_at_start"] for r in shards)
    return run


def write(out: Path, run: dict) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(run, indent=2) + "\n")
    lines = ["# Front-end fuzzing", "",
             ("Mutated specs (tests/kit/mutations.py) through parse, checks, print and "
             "parse again; a crash is any exception but a SpecError whose diagnostics lie "
             "within the text, or a compiled spec that does not survive print -> parse. ")
             + (f"{len(run['shards'])} processes side by side (shards of consecutive cases), "
                if run.get("shards") else "One process, ")
             + f"{run['threads']} thread each; Python {run['python']}, lark {run['lark']}, "
             f"{run['cores']} cores (load average {run['load_average_at_start']:.1f} at the "
             "start).", "",
             "| cases | seed | crashes | compiled | located errors | wall s | cpu s | "
             "cases / cpu s | commit | sources | complete |",
             "|---|---|---|---|---|---|---|---|---|---|---|",
             f"| {run['cases']:,} | {run['seed']} | {run['crashes']} | "
             f"{run['outcomes']['compiled']:,} | {run['outcomes']['error']:,} | "
             f"{run['seconds']:.0f} | {run['cpu_seconds']:.0f} | {run['cases_per_second']:.0f} | "
             f"{run['commit']} | {run['sources_sha256']} | {run['complete']} |", "",
             "Mutations applied (a case applies one, or two in a third of the cases): "
             + ", ".join(f"{k} {v:,}" for k, v in run["kinds"].most_common()) + "."]
    for crash in run["crash_examples"]:
        lines.append(f"- case {crash['case']} ({crash['kind']}): `{crash['error'][:120]}`")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
