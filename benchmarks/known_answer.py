"""Known-answer test of every search strategy: does it find one planted pair of fields more often
than uniform sampling does?

    python benchmarks/known_answer.py [--seeds 1 2 ... 10] [--strategies random darts ...]
                                      [--keep 1] [--work /tmp/nasc-known-answer]
    python benchmarks/known_answer.py --render      # known_answer.md again from the JSON

The space (SPACE) is one `interactions` set over 6 categorical fields (15 candidate pairs, keep
M) beside an LR part, so the only open choice is which pairs are multiplied. Each seed draws a
synthetic click log (nasc.runtime.data.synthetic, in memory) whose label hangs on ONE planted
pair, itself drawn from the seed (a fixed (f0, f1) would reward any strategy that breaks ties
towards the first candidate), and runs each strategy's search on it in-process with that seed.
A seed counts when the found set (choices.json) contains the planted pair. Uniform sampling
succeeds with probability C(T-1, M-1) / C(T, M) (derived from the compiled space, T candidate
products); the table gives each strategy's count of N, the expected count N*p of uniform
sampling and the exact one-sided binomial p-value P(X >= count | N, p). Budgets (BUDGETS, in the
JSON) are small: the whole run takes about 4 minutes on one thread.
benchmarks/results/known_answer.json, and known_answer.md generated from it.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import re
import statistics
import traceback
from fractions import Fraction
from pathlib import Path
from unittest import mock

from benchkit import head_commit

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

NUM_FIELDS = 6
# The data of one seed: strong planted signal, weak first-order terms and noise, as the
# planted-pair tests use (tests/search/test_relaxed_interactions.py).
DATA = {"n": 20000, "num_fields": NUM_FIELDS, "vocab": 10, "noise": 0.1, "first_order": 0.1}

SPACE = """model planted {{
  input fields: categorical
  emb = embed(fields, dim=4)
  interactions cross(emb) {{
    cycles 1
    survivors 15
    keep {keep}
  }}
  linear = lr(fields)
  head ctr(flatten(cross), linear)
}}

{search}
train {{
  optimizer adam(lr=0.01)
  batch 512
  epochs 8
  monitor auc
  patience 1
}}
"""

# One search block per strategy. Those that train children from scratch (random, evolution, rl)
# see 8 of the 15 architectures (about half the space, so finding the pair takes more than
# enumerating it) for 2 epochs each; the supernet strategies get 10 epochs of one shared model,
# and the one-shot rankings draw 60 children so that all 15 paths are ranked.
BUDGETS = {
    "random": "search random {\n  epochs 2\n  batch 512\n  children 8\n  monitor auc\n}\n",
    "evolution": ("search evolution {\n  epochs 2\n  batch 512\n  population 4\n  sample 2\n"
                  "  cycles 4\n  monitor auc\n}\n"),
    "rl": "search rl {\n  epochs 2\n  batch 512\n  children 8\n  controller_batch 4\n}\n",
    # 10 of the 15 for 1 epoch, the best 5 again for 2: 20 child-epochs, as random's 16.
    "halving": ("search halving {\n  epochs 2\n  batch 512\n  children 10\n  eta 2\n"
                "  min_epochs 1\n  monitor auc\n}\n"),
    "darts": "search darts {\n  epochs 10\n  batch 512\n  monitor auc\n}\n",
    "snas": "search snas {\n  epochs 10\n  batch 512\n  monitor auc\n}\n",
    "snas (hard)": "search snas {\n  epochs 10\n  batch 512\n  sample hard\n  monitor auc\n}\n",
    "enas": "search enas {\n  epochs 10\n  batch 512\n  children 60\n  top 3\n}\n",
    "oneshot_random (progressive)": "search oneshot_random {\n  epochs 10\n  batch 512\n}\n",
    "oneshot_random (together)": ("search oneshot_random {\n  epochs 10\n  batch 512\n"
                                  "  children 60\n  top 3\n  steps together\n}\n"),
}


def kept_rows(out: Path, labels: list[str], seeds: list[int], keep: int) -> list[dict]:
    """Rows of an earlier run on the same seeds and space for strategies not rerun now
    (``--strategies`` adds or replaces rows), each with the commit it ran at."""
    if not out.exists():
        return []
    earlier = json.loads(out.read_text())
    if earlier.get("seeds") != seeds or earlier.get("keep") != keep:
        return []
    return [{"commit": earlier.get("commit"), **r} for r in earlier["rows"]
            if r["strategy"] not in labels]


def spec_text(label: str, keep: int) -> str:
    return SPACE.format(keep=keep, search=BUDGETS[label])




# ------------------------------------------------------------------------- the exact baseline
def uniform_probability(text: str, num_fields: int) -> Fraction:
    """P(a uniformly drawn architecture of the spec contains a given pair of fields).

    The space must have one open choice, an interactions set keeping M of T products: C(T, M)
    sets, C(T-1, M-1) of them hold a given product (nasc.compiler.sampling draws the sets
    uniformly)."""
    from nasc.compiler.frontend import compile_text
    from nasc.compiler.space import choices, interactions_size

    _, program = compile_text(text, "known_answer.nas")
    found = choices(program)
    if len(found) != 1 or found[0].construct != "interactions":
        raise ValueError("the space must have one open choice, an interactions set; it has "
                         f"{[c.label for c in found]}")
    b = program.binding(found[0].owner)
    products = sum(math.comb(num_fields, o) for o in range(2, b.order + 1))
    return Fraction(math.comb(products - 1, b.keep - 1), interactions_size(b, num_fields))


def binomial_tail(count: int, n: int, p: Fraction) -> float:
    """P(X >= count) for X ~ Binomial(n, p), exact (one-sided p-value of a count that beats p)."""
    return float(sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(count, n + 1)))


# ------------------------------------------------------------------------------- one search
def planted_pair(seed: int, num_fields: int = NUM_FIELDS) -> tuple[int, int]:
    """The seed's planted pair, uniform over the field pairs. Its stream is salted: random
    search draws its children from random.Random(seed), whose first draw would be this pair."""
    return tuple(random.Random(f"planted pair {seed}").choice(list(_pairs(num_fields))))


def _pairs(num_fields: int):
    return ((i, j) for i in range(num_fields) for j in range(i + 1, num_fields))


def found_tuples(choices: dict) -> list[tuple[str, ...]]:
    """The products the search kept, from choices.json."""
    return [tuple(t) for t in choices["cross.tuples"]]


def contains(found: list[tuple[str, ...]], pair: tuple[int, int]) -> bool:
    return tuple(sorted(f"f{i}" for i in pair)) in {tuple(sorted(t)) for t in found}


def search_once(text: str, seed: int, out: Path) -> dict:
    """`nasc search` of ``text`` on the seed's planted data, in this process: the planted pair,
    what choices.json says was found, and the search's seconds."""
    import nasc.runtime.commands.search as search_command
    from nasc.runtime.data.synthetic import make_synthetic

    pair = planted_pair(seed)
    data = make_synthetic(seed=seed, planted=(pair,), **DATA)
    out.mkdir(parents=True, exist_ok=True)
    spec = out / "spec.nas"
    spec.write_text(text)
    # the planted data replaces `--data synthetic`'s default log, as the planted tests do
    with mock.patch.object(search_command, "open_dataset", lambda program, name, **kw: data):
        _, run = search_command.search_spec(str(spec), out=str(out / "run"), seed=seed,
                                            quiet=True, overwrite=True, threads=1)
    found = found_tuples(json.loads(run.file("choices.json").read_text()))
    summary = json.loads(run.file("summary.json").read_text())
    return {"seed": seed, "planted": [f"f{i}" for i in pair],
            "found": [list(t) for t in found], "hit": contains(found, pair),
            "search_seconds": summary["search_seconds"]}


def run_strategy(label: str, seeds: list[int], keep: int, work: Path) -> dict:
    """One strategy over the seeds; a strategy that fails records its error instead of a count."""
    text = spec_text(label, keep)
    p = uniform_probability(text, NUM_FIELDS)
    row = {"strategy": label, "spec": text, "keep": keep, "seeds": seeds, "n": len(seeds),
           "uniform_p": float(p), "uniform_p_exact": str(p),
           "expected": float(len(seeds) * p), "runs": []}
    slug = re.sub(r"\W+", "-", label).strip("-")
    for seed in seeds:
        try:
            result = search_once(text, seed, work / f"{slug}-{seed}")
        except Exception as err:  # noqa: BLE001 - reported, not dropped
            row["error"] = f"{type(err).__name__}: {err}"
            row["traceback"] = traceback.format_exc(limit=4)
            print(f"{label} seed {seed}: FAILED {row['error']}", flush=True)
            return row
        row["runs"].append(result)
        print(f"{label} seed {seed}: planted {'*'.join(result['planted'])}, found "
              f"{', '.join('*'.join(t) for t in result['found'])} "
              f"({'hit' if result['hit'] else 'miss'}), {result['search_seconds']} s", flush=True)
    row["count"] = sum(r["hit"] for r in row["runs"])
    row["p_value"] = binomial_tail(row["count"], row["n"], p)
    row["mean_search_seconds"] = round(statistics.mean(r["search_seconds"]
                                                       for r in row["runs"]), 1)
    return row


# ------------------------------------------------------------------------------- reporting
def _commits(result: dict) -> str:
    """The commit of the run, or of each strategy's rows where they ran at several."""
    by = {}
    for r in result["rows"]:
        by.setdefault(r.get("commit", result["commit"]), []).append(r["strategy"])
    if len(by) <= 1:
        return f"commit {result['commit']}"
    return "commits " + "; ".join(f"{c} ({', '.join(names)})" for c, names in by.items())


def markdown(result: dict) -> str:
    lines = ["# Known answer: one planted pair", "",
             "Generated by `python benchmarks/known_answer.py` from `known_answer.json`. The "
             f"space: an `interactions` set keeping {result['keep']} of the "
             f"{math.comb(result['num_fields'], 2)} pairs of {result['num_fields']} fields, "
             "beside LR. Each seed draws the data (one planted pair, itself drawn from the seed) "
             "and the search; a seed counts when the found set holds the planted pair. Uniform "
             "sampling would succeed with probability p; the p-value is P(X >= count) for X ~ "
             f"Binomial(N, p). Device {result['device']}, {result['threads']} thread, "
             f"{_commits(result)}, {result['wall_seconds']:.0f} s in the last run.", "",
             "| strategy | found | N | uniform p | expected | p-value | mean search s |",
             "|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        if "error" in r:
            lines.append(f"| {r['strategy']} | failed: {r['error']} | {r['n']} | "
                         f"{r['uniform_p_exact']} | {r['expected']:.2f} | — | — |")
            continue
        lines.append(f"| {r['strategy']} | {r['count']} | {r['n']} | {r['uniform_p_exact']} | "
                     f"{r['expected']:.2f} | {r['p_value']:.2g} | "
                     f"{r['mean_search_seconds']:.1f} |")
    lines += ["", "Each seed's planted pair and what was found (✓: holds it):", "",
              "| strategy | " + " | ".join(str(s) for s in result["seeds"]) + " |",
              "|---|" + "---|" * len(result["seeds"])]
    for r in result["rows"]:
        cells = {run["seed"]: _cell(run) for run in r["runs"]}
        lines.append(f"| {r['strategy']} | "
                     + " | ".join(cells.get(s, "—") for s in result["seeds"]) + " |")
    lines += ["", "Planted pairs by seed: " + ", ".join(
        f"{s}: {'*'.join(f'f{i}' for i in planted_pair(s, result['num_fields']))}"
        for s in result["seeds"]) + ".", "", "Budgets (each strategy's `search` block):", ""]
    for label, block in result["budgets"].items():
        lines.append(f"- {label}: `{' '.join(block.split())}`")
    return "\n".join(lines) + "\n"


def _cell(run: dict) -> str:
    found = ", ".join("*".join(t) for t in run["found"])
    return f"{found} ✓" if run["hit"] else found


def main() -> None:
    import time

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--seeds", nargs="+", type=int, default=list(range(1, 11)))
    parser.add_argument("--strategies", nargs="+", choices=list(BUDGETS),
                        help="labels to run (default: all)")
    parser.add_argument("--keep", type=int, default=1, help="interactions kept (M)")
    parser.add_argument("--work", default="/tmp/nasc-known-answer")
    parser.add_argument("--out", default=str(RESULTS / "known_answer.json"))
    parser.add_argument("--render", action="store_true",
                        help="only rewrite the markdown from the JSON")
    args = parser.parse_args()
    out = Path(args.out)
    if args.render:
        out.with_suffix(".md").write_text(markdown(json.loads(out.read_text())))
        return
    import torch

    torch.set_num_threads(1)
    started = time.perf_counter()
    labels = args.strategies or list(BUDGETS)
    rows = [{**run_strategy(label, args.seeds, args.keep, Path(args.work)), "commit": head_commit()}
            for label in labels]
    kept = kept_rows(out, labels, args.seeds, args.keep)
    rows = kept + rows
    rows.sort(key=lambda r: list(BUDGETS).index(r["strategy"]) if r["strategy"] in BUDGETS
              else len(BUDGETS))
    result = {"device": "cpu", "threads": 1, "commit": head_commit(), "num_fields": NUM_FIELDS,
              "keep": args.keep, "seeds": args.seeds, "data": DATA,
              "budgets": {r["strategy"]: BUDGETS[r["strategy"]] for r in rows},
              # the kept rows' share of the earlier run's time is not known apart: their
              # mean search seconds are in each row
              "wall_seconds": round(time.perf_counter() - started, 1), "rows": rows}
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    out.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
