"""Every search strategy on one space, one data set and comparable budgets (AMEIR Table 4's shape).

    python benchmarks/strategies.py [--spec specs/ameir_ctr.nas] [--data synthetic]
                                    [--seeds 2021 2022 2023] [--threads 1] [--jobs 1]
                                    [--budgets matched|c4]
                                    [--work /tmp/nasc-strategies]

The spec's model is searched by each implemented CTR strategy in turn: its `search` block is
replaced by the strategy's block from BUDGETS (written into the work directory, so the committed
spec is untouched), each as `nasc search SPEC --retrain`, a user's two steps in one. A strategy
that trains children from scratch gets about as many child-epochs as a differentiable or
one-shot one gets supernet epochs times its options, so none is starved; the budgets are in the
JSON. `--budgets c4` gives random, evolution and rl AMEIR App. C.4's instead: 1-epoch children
until their time reaches ten times that of the one-shot search (AMEIR's three steps, same seed,
run first), at most 300, then the top 5 trained again in full and the best kept on validation
(the `seconds` and `top` settings); the other strategies keep their blocks. Each budget rule is
its own table. Rows, per strategy and seed (the seed of the search and of the retraining; with
`--data synthetic` also of the data): search seconds (wall, this machine), the found
architecture's validation and test AUC/logloss after retraining with the spec's train block, and
its choices; the table gives each strategy's mean ± std over the seeds beside AMEIR's Table 4
(Alimama, GPU days: the order is what compares, not the numbers).
benchmarks/results/strategies.json holds one table per (space, data, budget rule): a run
replaces the runs of its own table that it repeats (strategy and seed) and keeps the rest, so
seeds can be added a few at a time; `rows` summarises every table (strategy, space, data, seeds,
test AUC mean/std, search seconds, device), and strategies.md is generated from it.
`--jobs N` runs N searches at a time (each with --threads threads).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT / "benchmarks"))

from benchkit import head_commit, summarize, with_search  # noqa: E402

from nasc.compiler.frontend import load  # noqa: E402

# One block per strategy; epochs count per child (random, evolution, rl) or per supernet.
BUDGETS = {
    "random": "search random {\n  epochs 2\n  children 10\n  monitor auc\n}\n",
    "evolution": ("search evolution {\n  epochs 2\n  population 5\n  sample 2\n  cycles 5\n"
                  "  monitor auc\n}\n"),
    "rl": "search rl {\n  epochs 2\n  children 10\n  controller_batch 5\n}\n",
    # 12 children for 1 epoch, the best 4 again for 3: 24 child-epochs against random's 20.
    "halving": ("search halving {\n  epochs 3\n  children 12\n  eta 3\n  min_epochs 1\n"
                "  monitor auc\n}\n"),
    "darts": "search darts {\n  epochs 10\n  batch 1024\n  monitor auc\n}\n",
    "snas": "search snas {\n  epochs 10\n  batch 1024\n  monitor auc\n}\n",
    "snas (hard)": "search snas {\n  epochs 10\n  batch 1024\n  sample hard\n  monitor auc\n}\n",
    "enas": "search enas {\n  epochs 4\n  batch 1024\n  children 200\n  top 5\n}\n",
    "oneshot_random (together)": ("search oneshot_random {\n  epochs 3\n  batch 1024\n"
                                  "  children 500\n  top 5\n  steps together\n}\n"),
    "oneshot_random (progressive)": None,  # the spec's own block (AMEIR's three steps)
}
# AMEIR's progressive one-shot search for a spec whose own block is another strategy's (AutoPI's
# DARTS): one stage per construct with choices, in source order, with these settings.
PROGRESSIVE = "search oneshot_random {\n  epochs 3\n  batch 1024\n  children 500\n  top 5\n}\n"


def budgets_for(program) -> dict[str, str | None]:
    """BUDGETS for a spec: its own block is the progressive one-shot row only when it is one."""
    if program.strategy is not None and program.strategy.name == "oneshot_random":
        return dict(BUDGETS)
    return {**BUDGETS, ONESHOT: PROGRESSIVE}


# App. C.4's blocks for the brute-force methods; SECONDS is ten times the one-shot search's.
C4 = {
    "random": "search random {\n  epochs 1\n  children 300\n  seconds SECONDS\n  top 5\n"
              "  monitor auc\n}\n",
    "evolution": "search evolution {\n  epochs 1\n  population 10\n  sample 1\n  cycles 290\n"
                 "  patience 5\n  seconds SECONDS\n  top 5\n  monitor auc\n}\n",
    "rl": "search rl {\n  epochs 1\n  children 300\n  seconds SECONDS\n  top 5\n}\n",
}
BUDGET_RULES = {"matched": "child-epochs matched to the one-shot strategies' epochs x options",
                "c4": "AMEIR App. C.4 (1-epoch children for 10x the one-shot search's time, at "
                      "most 300, top 5 trained again in full)"}
ONESHOT = "oneshot_random (progressive)"


# AMEIR Table 4 (Alimama, test AUC, search GPU days), by the benchmark's strategy names.
PAPER = {
    "random": ("Random", "0.6321 ± 0.0011", 2.9),
    "rl": ("RL", "0.6323 ± 0.0006", 3.2),
    "evolution": ("EA", "0.6338 ± 0.0004", 3.0),
    "enas": ("ENAS", "0.6339 ± 0.0007", 0.15),
    "darts": ("DARTS", "0.6350 ± 0.0008", 0.2),
    "snas": ("SNAS", "0.6343 ± 0.0003", 0.3),
    "oneshot_random (together)": ("One-shot Random Search", "0.6365 ± 0.0006", 0.3),
    "oneshot_random (progressive)": ("AMEIR (three-stage)", "0.6383 ± 0.0004", 0.5),
}




def planned(names: list[str], budgets: dict, seeds: list[int],
            c4_seconds: dict[int, float] | None) -> list[tuple]:
    """The runs (strategy, search block, seed, tag) after the first phase. Under App. C.4's rule
    (``c4_seconds``: ten times each seed's one-shot search) random, evolution and rl get their
    C4 blocks with that time budget, and the one-shot search, already run to set it, is not run
    again; the other strategies keep their blocks."""
    tasks = []
    for seed in seeds:
        for name in names:
            if c4_seconds is not None and name == ONESHOT:
                continue
            if c4_seconds is not None and name in C4:
                block = C4[name].replace("SECONDS", f"{c4_seconds[seed]:.0f}")
                tasks.append((name, block, seed, "-c4"))
            else:
                tasks.append((name, budgets[name], seed, ""))
    return tasks


def run(name: str, block: str | None, args, work: Path, seed: int, tag: str = "") -> dict:
    slug = re.sub(r"\W+", "-", name).strip("-") + tag
    spec = work / f"{slug}.nas"
    spec.write_text(with_search((ROOT / args.spec).read_text(), block))
    out = work / f"{slug}-{seed}"
    if not (out / "retrain" / "summary.json").exists():
        subprocess.run([sys.executable, "-m", "nasc.cli", "search", str(spec), "--data",
                        args.data, "--seed", str(seed), "--threads", str(args.threads),
                        "--retrain", "--quiet", "--out", str(out), "--overwrite"],
                       cwd=ROOT, check=True)
    summary = json.loads((out / "summary.json").read_text())
    trained = json.loads((out / "retrain" / "summary.json").read_text())
    return {"strategy": name, "seed": seed, "budget": block or "the spec's own search block",
            "search_seconds": summary["search_seconds"], "valid_auc": trained["valid"]["auc"],
            "valid_logloss": trained["valid"]["logloss"], "test_auc": trained["test"]["auc"],
            "test_logloss": trained["test"]["logloss"], "parameters": trained.get("parameters"),
            "retrain_best_epoch": trained.get("best_epoch"),
            "retrain_epochs": trained.get("epochs_run"),
            "retrain_seconds": trained.get("train_seconds"),
            "device": summary.get("device", "cpu"), "choices": summary["choices"]}


def at_cap(runs: list[dict], cap: int | None) -> str:
    """How many retrains had their best epoch at the train block's last epoch (still improving
    when the epochs ran out): "2/3", or "-" where the runs do not record it."""
    if cap is None or any(r.get("retrain_best_epoch") is None for r in runs):
        return "-"
    return f"{sum(r['retrain_best_epoch'] >= cap for r in runs)}/{len(runs)}"


def load_tables(path: Path) -> list[dict]:
    """The tables already recorded (a file from before tables existed is one table)."""
    if not path.exists():
        return []
    old = json.loads(path.read_text())
    if "tables" in old:
        return old["tables"]
    return [{**{k: old[k] for k in ("spec", "data", "seeds", "threads", "commit")},
             "budgets": "matched", "runs": old["rows"]}]


def table_key(table: dict) -> tuple:
    return table["spec"], table["data"], table.get("budgets", "matched")


def merge_table(tables: list[dict], table: dict) -> list[dict]:
    """``tables`` with ``table`` in its place: the runs it has replace the same (strategy, seed)
    runs of the recorded table, whose other runs stay (so seeds can be run a few at a time);
    each run keeps the commit it was measured at."""
    old = next((t for t in tables if table_key(t) == table_key(table)), None)
    if old is not None:
        redone = {(r["strategy"], r["seed"]) for r in table["runs"]}
        kept = [{**r, "commit": r.get("commit", old["commit"])} for r in old["runs"]
                if (r["strategy"], r["seed"]) not in redone]
        table = {**table, "runs": kept + table["runs"],
                 "seeds": sorted(set(old["seeds"]) | set(table["seeds"]))}
    return [t for t in tables if table_key(t) != table_key(table)] + [table]


def commits(table: dict) -> str:
    return ", ".join(sorted({r.get("commit", table["commit"]) for r in table["runs"]}))


def summary_rows(tables: list[dict]) -> list[dict]:
    """One row per (space, data, strategy), sorted within a table by validation AUC."""
    out = []
    for table in tables:
        runs = [{**r, "space": table["spec"], "data": table["data"],
                 "budgets": table.get("budgets", "matched"),
                 "device": r.get("device", "cpu")} for r in table["runs"]]
        rows = summarize(runs, ("strategy", "space", "data", "budgets", "device"),
                         ("valid_auc", "test_auc", "test_logloss", "search_seconds"))
        for row in rows:
            row["search_seconds"] = row.pop("search_seconds_mean")
            row.pop("search_seconds_std")
            row["threads"] = table["threads"]
            row["retrains_at_cap"] = at_cap([r for r in runs if r["strategy"] == row["strategy"]],
                                            table.get("retrain_epoch_cap"))
        out += sorted(rows, key=lambda r: -r["valid_auc_mean"])
    return out


def markdown(result: dict) -> str:
    lines = ["# Every strategy on one space (AMEIR Table 4's shape)", "",
             "Generated by `python benchmarks/strategies.py` from `strategies.json`: per space and "
             "data, each strategy's found architecture retrained with the spec's train block "
             "(`nasc search --retrain`), mean ± std over the seeds, sorted by validation AUC. "
             "Beside it AMEIR's Table 4 (Alimama, its own space and budgets, GPU days): compare "
             "the order, not the numbers. Search seconds are wall time on the device named, "
             "with the threads given."]
    for table in result["tables"]:
        budgets = table.get("budgets", "matched")
        rows = [r for r in result["rows"]
                if (r["space"], r["data"], r["budgets"]) == (table["spec"], table["data"], budgets)]
        lines += ["", f"## `{table['spec']}` on `{table['data']}`, {budgets} budgets", "",
                  f"Budgets: {BUDGET_RULES[budgets]}. "
                  "`best epoch = last` counts the retrains still improving when the train "
                  "block's epochs ran out (scratch-trained answers need more than a fine-tune "
                  "from one-shot weights). "
                  f"Seeds {table['seeds']}, {table['threads']} thread(s) per search, device "
                  f"{rows[0]['device'] if rows else '-'}, commit {commits(table)}.", "",
                  "| strategy | search s | valid AUC | test AUC | test logloss | best epoch = "
                  f"last ({table.get('retrain_epoch_cap', '-')}) | "
                  "AMEIR Table 4 (AUC, GPU days) |", "|---|---|---|---|---|---|---|"]
        for r in rows:
            paper = PAPER.get(r["strategy"])
            ref = f"{paper[0]}: {paper[1]}, {paper[2]}" if paper else "-"
            lines.append(
                f"| {r['strategy']} | {r['search_seconds']:.0f} | "
                f"{r['valid_auc_mean']:.4f} ± {r['valid_auc_std']:.4f} | "
                f"{r['test_auc_mean']:.4f} ± {r['test_auc_std']:.4f} | "
                f"{r['test_logloss_mean']:.4f} ± {r['test_logloss_std']:.4f} | "
                f"{r['retrains_at_cap']} | {ref} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--spec", default="specs/ameir_ctr.nas")
    parser.add_argument("--data", default="synthetic")
    parser.add_argument("--seeds", nargs="+", type=int, default=[2021, 2022, 2023])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=1, help="searches run at a time")
    parser.add_argument("--budgets", choices=sorted(BUDGET_RULES), default="matched",
                        help="the brute-force methods' budget rule")
    parser.add_argument("--only", nargs="*", help="strategies to run (default: all)")
    parser.add_argument("--work", default="/tmp/nasc-strategies")
    parser.add_argument("--out", default=str(RESULTS / "strategies.json"))
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    _, _, program = load(ROOT / args.spec)
    budgets = budgets_for(program)
    names = [n for n in budgets if not args.only or n in args.only]

    def one(task):
        name, block, seed, tag = task
        row = run(name, block, args, work, seed, tag)
        print(f"{name} seed {seed}: search {row['search_seconds']:.0f} s, test AUC "
              f"{row['test_auc']:.4f}", flush=True)
        return row

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        first, seconds = [], None
        if args.budgets == "c4":  # the one-shot search first: it sets the others' time
            first = list(pool.map(one, [(ONESHOT, budgets[ONESHOT], seed, "")
                                        for seed in args.seeds]))
            seconds = {r["seed"]: 10 * r["search_seconds"] for r in first}
        # in task order whatever finishes first
        runs = first + list(pool.map(one, planned(names, budgets, args.seeds, seconds)))
    data = Path(args.data).name if Path(args.data).exists() else args.data
    out = Path(args.out)
    now = head_commit()
    tables = merge_table(load_tables(out), {
        "spec": args.spec, "data": data, "budgets": args.budgets, "seeds": args.seeds,
        "threads": args.threads, "retrain_epoch_cap": program.train["epochs"], "commit": now,
        "runs": [{**r, "commit": now} for r in runs]})
    result = {"tables": tables, "rows": summary_rows(tables)}
    out.write_text(json.dumps(result, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
