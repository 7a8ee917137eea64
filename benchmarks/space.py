"""A searched architecture against the hand-crafted models, on their rows: `specs/ctr_space.nas`
(or another space with `--spec`, e.g. specs/ctr_towers.nas).

    python benchmarks/space.py [--spec specs/ctr_space.nas]
                               [--data ../shared/data/frappe_x1] [--split files]
                               [--strategy random|halving] [--start FILE]
                               [--search-seed 2021] [--seeds 2021 2022 2023] [--threads 1]
                               [--jobs 1]
                               [--work /tmp/nasc-space]

Runs, as a user would, `nasc search SPEC` (`--strategy random`, the spec's own
block: each child trained in full and kept by validation AUC; `halving`: the spec with the
search block of SEARCHES below, written into the work directory; `--start FILE`: with
`nasc search --start FILE`, e.g. specs/starts/ctr_space_finalmlp.json, FinalMLP's point of the
space trained as the first child, its own row "ctr_space (<strategy>, start <file>)") and then
`nasc train arch.nas --seeds ...` to retrain the architecture it found from scratch with each
seed; each step is skipped when its run directory
already holds a finished run (a rerun records, it does not retrain). The rows go to
benchmarks/results/space.json in the shape benchmarks/leaderboard.py reads (method, split, seed,
test AUC/logloss, parameters, search seconds, device, commit) with the children and choices;
space.md beside it is generated from the JSON. Only validation picks the architecture.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DEFAULT_SPEC = ROOT / "specs" / "ctr_space.nas"
sys.path.insert(0, str(ROOT / "benchmarks"))

from benchkit import head_commit, with_search  # noqa: E402

# The search block of each strategy (None: the spec's own). Halving: 54 children for one epoch,
# the best 18 for 3, 6 for 9, 2 for 27, the last for up to 81 (early stopping ends most sooner):
# about 250 epochs against random search's 6 children x ~20.
SEARCHES = {
    "random": None,
    "halving": ("search halving {\n  children 54\n  eta 3\n  min_epochs 1\n  epochs 100\n"
                "  monitor auc\n}\n"),
}




def nasc(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "nasc.cli", *args], cwd=ROOT, check=True)


def search(args, run: Path) -> dict:
    if not (run / "summary.json").exists():
        spec = args.spec
        block = SEARCHES[args.strategy]
        if block is not None:
            if args.children is not None:
                block = re.sub(r"children \d+", f"children {args.children}", block)
            spec = run.parent / f"{args.spec.stem}_{args.strategy}.nas"
            spec.parent.mkdir(parents=True, exist_ok=True)
            spec.write_text(with_search(args.spec.read_text(), block))
        nasc("search", str(spec), "--data", args.data, "--split", args.split, "--seed",
             str(args.search_seed), "--threads", str(args.threads), "--out", str(run),
             *(["--start", args.start] if args.start else []))
    return json.loads((run / "summary.json").read_text())


def retrain(args, run: Path, out: Path) -> dict:
    if not (out / "seeds.json").exists():
        nasc("train", str(run / "arch.nas"), "--data", args.data, "--split", args.split,
             "--seeds", ",".join(map(str, args.seeds)), "--jobs", str(args.jobs), "--threads",
             str(args.threads), "--out", str(out))
    return {seed: json.loads((out / f"seed-{seed}" / "summary.json").read_text())
            for seed in args.seeds}


def variant_name(strategy: str, start: str | None) -> str:
    """What tells searches of one space apart: "random", "halving, start ctr_space_finalmlp"."""
    return strategy + ("" if start is None else f", start {Path(start).stem}")


def method_name(space: str, strategy: str, start: str | None) -> str:
    """A search's name in the leaderboard: "ctr_towers (random)",
    "ctr_space (halving, start ctr_space_finalmlp)"."""
    return f"{space} ({variant_name(strategy, start)})"


def search_key(space: str, data: str, split: str, strategy: str, start: str | None) -> str:
    """space.json's key of a search: ctr_space's keys stay as they were (data/split, plus
    /variant unless random without a start); another space's name leads ("ctr_towers:...")."""
    plain = strategy == "random" and start is None
    variant = "" if plain else "/" + variant_name(strategy, start)
    return ("" if space == "ctr_space" else f"{space}:") + f"{data}/{split}{variant}"


def parse_key(key: str) -> tuple[str, str, str, str]:
    """search_key's inverse: (space, data, split, variant) with variant "random" when plain."""
    space, _, rest = key.rpartition(":") if ":" in key else ("ctr_space", "", key)
    data, split, *variant = rest.split("/", 2)
    return space, data, split, variant[0] if variant else "random"


def markdown(result: dict) -> str:
    lines = ["# Searched spaces (`specs/ctr_space.nas`, `specs/ctr_towers.nas`) retrained", "",
             "Generated by `python benchmarks/space.py` from `space.json`. Random search: each "
             "child trained in full, the best by validation AUC kept; successive halving: each "
             "rung's best third retrained three times longer, the best of the last rung kept "
             "(rows per child and rung). The found architecture is retrained from scratch with "
             "each seed.", ""]
    for key, s in result["searches"].items():
        space, data, split, strategy = parse_key(key)
        rungs = any("rung" in c for c in s["children_rows"])
        lines += [f"## {space}: {data}, {split} split, {strategy}", "",
                  f"Search seed {s['seed']}: {s['children']} children, {s['search_seconds']:.0f} s "
                  f"on {s['device']} ({s['threads']} thread).", "",
                  f"| child |{' rung (epochs) |' if rungs else ''} valid AUC | valid logloss | "
                  "epochs | seconds | choices |",
                  f"|---|{'---|' if rungs else ''}---|---|---|---|---|"]
        for c in s["children_rows"]:
            last = c.get("rung", 0) == max(r.get("rung", 0) for r in s["children_rows"])
            mark = (" (kept)" if c["child"] == s["best_child"] and last else "") + \
                (" (start)" if c.get("start") else "")
            rung = f" {c['rung'] + 1} ({c['budget']}) |" if rungs else ""
            lines.append(f"| {c['child']}{mark} |{rung} {c['valid']['auc']:.5f} | "
                         f"{c['valid']['logloss']:.5f} | {c['epochs']} | {c['seconds']:.0f} | "
                         f"`{json.dumps(c['choices'], sort_keys=True)}` |")
        lines += ["", "| seed | test AUC | test logloss | valid AUC | epochs | parameters |",
                  "|---|---|---|---|---|---|"]
        for r in result["runs"]:
            if (r["data"], r["split"], r["method"]) == (data, split, f"{space} ({strategy})"):
                lines.append(f"| {r['seed']} | {r['test_auc']:.5f} | {r['test_logloss']:.5f} | "
                             f"{r['valid_auc']:.5f} | {r['epochs']} | {r['parameters']:,} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC,
                        help="the search space (default specs/ctr_space.nas)")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "frappe_x1"))
    parser.add_argument("--split", default="files", choices=("files", "random811"))
    parser.add_argument("--strategy", default="random", choices=tuple(SEARCHES))
    parser.add_argument("--children", type=int, default=None,
                        help="halving: children of the first rung (default: SEARCHES' 54)")
    parser.add_argument("--start", default=None,
                        help="architectures the search trains first (nasc search --start)")
    parser.add_argument("--search-seed", type=int, default=2021)
    parser.add_argument("--seeds", nargs="+", type=int, default=[2021, 2022, 2023])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=1, help="retraining seeds at once")
    parser.add_argument("--work", default="/tmp/nasc-space")
    parser.add_argument("--out", default=str(RESULTS / "space.json"))
    args = parser.parse_args()
    if not Path(args.data).exists():
        sys.exit(f"no dataset at {args.data}: this benchmark needs ../shared/data/frappe_x1")
    variant = (("" if args.strategy == "random" else f"-{args.strategy}")
               + ("" if args.children is None else f"-{args.children}")
               + ("" if args.start is None else f"-start-{Path(args.start).stem}"))
    space = args.spec.stem
    work = Path(args.work) / (("" if space == "ctr_space" else f"{space}-")
                              + f"{args.split}-{args.search_seed}{variant}")
    summary = search(args, work / "search")
    trained = retrain(args, work / "search", work / "retrain")
    children = json.loads((work / "search" / "children.json").read_text())
    data = Path(args.data).name
    method = method_name(space, args.strategy, args.start)
    runs = [{"method": method, "data": data, "split": args.split, "seed": seed,
             "search_seed": args.search_seed, "test_auc": t["test"]["auc"],
             "test_logloss": t["test"]["logloss"], "valid_auc": t["valid"]["auc"],
             "epochs": t["epochs_run"], "parameters": t["parameters"],
             "search_seconds": summary["search_seconds"],
             "device": f"{summary['device']}, {summary['cpu']['threads']} thread",
             "commit": head_commit(), "choices": summary["choices"]}
            for seed, t in trained.items()]
    out = Path(args.out)
    previous = json.loads(out.read_text()) if out.exists() else {"runs": [], "searches": {}}
    kept = [r for r in previous["runs"]
            if (r["data"], r["split"], r["method"]) != (data, args.split, method)]
    key = search_key(space, data, args.split, args.strategy, args.start)
    searches = {**previous["searches"], key: {
        "space": space, "seed": args.search_seed, "children": summary["children"],
        "best_child": summary["best_child"], "search_seconds": summary["search_seconds"],
        "device": summary["device"], "threads": summary["cpu"]["threads"],
        "children_rows": children}}
    result = {"runs": kept + runs, "searches": searches}
    partial = out.with_suffix(".json.partial")
    partial.write_text(json.dumps(result, indent=2) + "\n")
    partial.replace(out)
    out.with_suffix(".md").write_text(markdown(result))
    print(f"wrote {out} and {out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
