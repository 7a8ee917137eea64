"""Next-item benchmark: train a `head next_item` spec with several seeds on a behaviour log
(beauty_s3rec by default) and record the mean and standard deviation of its test metrics
beside the published anchors, in results/next_item.json and the generated next_item.md.

    python benchmarks/next_item.py specs/sasrec.nas --seeds 2021,2022,2023
    python benchmarks/next_item.py RUN/arch.nas --kind searched --search-seconds 5400

Seeds can train in separate processes (one core each) and be gathered into one row after:

    python benchmarks/next_item.py specs/sasrec.nas --seeds 2021 --threads 1 --results /tmp/r1
    python benchmarks/next_item.py specs/sasrec.nas --seeds 2021,2022,2023 --collect

A searched model's row gathers `nasc search --retrain` runs, one per search seed, at
RUNS/seed-N (the retrained model's test metrics from RUN/retrain/, the search's seconds):

    nasc search specs/ameir_seq_sasrec.nas --data DATA --seed 2021 --out RUNS/seed-2021 --retrain
    python benchmarks/next_item.py specs/ameir_seq_sasrec.nas --runs RUNS --collect

A row is keyed by (model, data, protocol): a rerun replaces its row and keeps the others.
The protocol is the spec's (`eval_negatives`, `objective`) unless --eval-negatives overrides it.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchkit import head_commit, mean_std

from nasc.compiler.frontend import load
from nasc.grammar import same_code
from nasc.fileio import write_atomic

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
METRICS = {"hr1": "HR@1", "hr5": "HR@5", "ndcg5": "NDCG@5", "hr10": "HR@10", "ndcg10": "NDCG@10"}

# Published numbers on the same 5-core Beauty (S3-Rec's release), leave-one-out (issue 18).
ANCHORS = [
    {"model": "SASRec", "source": "S3-Rec reproduce/README.md", "protocol": "99 random negatives",
     "hr1": 0.1870, "hr5": 0.3741, "ndcg5": 0.2848, "hr10": 0.4696, "ndcg10": 0.3156},
    {"model": "SASRec", "source": "S3-Rec reproduce/README.md (their rerun)",
     "protocol": "99 random negatives",
     "hr1": None, "hr5": 0.3721, "ndcg5": 0.2843, "hr10": 0.4651, "ndcg10": 0.3142},
    {"model": "S3-Rec", "source": "S3-Rec reproduce/README.md", "protocol": "99 random negatives",
     "hr1": None, "hr5": 0.4502, "ndcg5": 0.3407, "hr10": 0.5506, "ndcg10": 0.3732},
    # BERT4Rec's Table 2, on its own Beauty (../shared/data/beauty_bert4rec, 40,226 users): a
    # different log and popularity-sampled negatives, so not comparable with the rows above.
    {"model": "BERT4Rec", "source": "BERT4Rec paper, Table 2 (its own Beauty, beauty_bert4rec)",
     "protocol": "100 popularity-sampled negatives",
     "hr1": 0.0953, "hr5": 0.2207, "ndcg5": 0.1599, "hr10": 0.3025, "ndcg10": 0.1862},
    {"model": "SASRec", "source": "BERT4Rec paper, Table 2 (its own Beauty, beauty_bert4rec)",
     "protocol": "100 popularity-sampled negatives",
     "hr1": 0.0906, "hr5": 0.1934, "ndcg5": 0.1436, "hr10": 0.2653, "ndcg10": 0.1633},
    {"model": "AMEIR-A", "source": "AMEIR paper, Table 2 (its own Beauty split)",
     "protocol": "100 random negatives",
     "hr1": None, "hr5": 0.341, "ndcg5": 0.257, "hr10": None, "ndcg10": None},
]


def protocol_name(eval_negatives, sampling: str = "uniform") -> str:
    if eval_negatives == "full":
        return "full ranking"
    return f"{eval_negatives} {'random' if sampling == 'uniform' else 'popularity-sampled'} negatives"




def train_seeds(args) -> list[dict]:
    from nasc.runtime.commands.train import train_spec

    summaries = []
    for seed in args.seeds:
        out = Path(args.runs) / f"seed-{seed}"
        if args.collect:
            out = collected_run(out, args.spec)
        else:
            print(train_spec(args.spec, data=args.data, out=str(out), seed=seed,
                             epochs=args.epochs, device=args.device, quiet=True,
                             eval_negatives=args.eval_negatives, threads=args.threads,
                             overwrite=True), flush=True)
        config = json.loads((out / "config.json").read_text())
        summary = json.loads((out / "summary.json").read_text())
        summaries.append({**summary, "seed": seed, "threads": config["cpu"]["threads"],
                          "search_seconds": searched_seconds(out), "choices": found_choices(out)})
    return summaries


def found_choices(out: Path) -> dict | None:
    """The architecture a search kept (its choices.json) when ``out`` is its retrain/."""
    choices = out.parent / "choices.json"
    if out.name != "retrain" or not choices.exists():
        return None
    return json.loads(choices.read_text())


def per_seed(summary: dict) -> dict:
    """One seed's validation and test NDCG@10 (the issue's metric) and, searched, what it kept:
    the spread between seeds and which architectures won, which a mean hides."""
    entry = {"seed": summary["seed"], "valid_ndcg10": summary.get("valid", {}).get("NDCG@10"),
             "test_ndcg10": summary["test"]["NDCG@10"]}
    if summary.get("choices") is not None:
        entry["choices"] = summary["choices"]
    return entry


def searched_seconds(out: Path) -> float | None:
    """The search's seconds when ``out`` is a search run's retrain/ (else None)."""
    search = out.parent / "summary.json"
    if out.name != "retrain" or not search.exists():
        return None
    return json.loads(search.read_text()).get("search_seconds")


def collected_run(out: Path, spec: str) -> Path:
    """The train run of a seed: ``out`` itself, or a search run's retrain/. Refused when it is
    missing or was trained (or searched) from another spec (``out``/spec.nas either way; its
    comments and layout may differ)."""
    searched = (out / "retrain" / "summary.json").exists()
    run = out / "retrain" if searched else out
    if not (run / "summary.json").exists():
        raise SystemExit(f"{out}: no summary.json; train this seed first (without --collect)")
    made = out / "spec.nas"
    if made.exists() and not same_code(made.read_text(), Path(spec).read_text()):
        verb, again = ("searched", "search it again") if searched else ("trained", "retrain it")
        raise SystemExit(f"{out}: {verb} from another spec than {spec}; {again}")
    return run


def row_of(args, program, summaries: list[dict]) -> dict:
    eval_negatives = args.eval_negatives or program.train["eval_negatives"]
    kind = args.kind or ("searched" if program.strategy is not None else "hand-crafted")
    row = {"model": program.name, "kind": kind, "data": Path(args.data).name,
           "protocol": protocol_name(eval_negatives, program.train["eval_sampling"]),
           "objective": program.train["objective"],
           "seeds": args.seeds}
    for key, metric in METRICS.items():
        row[key], row[f"{key}_std"] = mean_std([s["test"][metric] for s in summaries])
    row["epochs"] = mean_std([s["epochs_run"] for s in summaries])[0]
    row["train_seconds"] = mean_std([s["train_seconds"] for s in summaries])[0]
    row["threads"] = max(s["threads"] for s in summaries)  # CPU threads per run (seconds' context)
    searched = [s["search_seconds"] for s in summaries if s.get("search_seconds") is not None]
    row["search_seconds"] = (args.search_seconds if args.search_seconds is not None
                             else mean_std(searched)[0] if searched else None)
    row["per_seed"] = [per_seed(s) for s in summaries]
    row["commit"] = args.commit or head_commit()
    if args.load:
        row["load"] = args.load
    return row


def merged(rows: list[dict], new: dict) -> list[dict]:
    key = lambda r: (r["model"], r["data"], r["protocol"])  # noqa: E731
    return [r for r in rows if key(r) != key(new)] + [new]


def markdown(rows: list[dict]) -> str:
    def cell(value) -> str:
        if value is None:
            return "—"
        return f"{value:.4f}" if isinstance(value, float) else str(value)

    lines = ["# Next-item results (generated by benchmarks/next_item.py; do not edit)", "",
             "Test metrics, mean ± std over seeds; leave-one-out, ties counted against the "
             "positive (docs/language.md §5.5).", "",
             "| model | kind | data | protocol | objective | seeds | HR@1 | HR@5 | NDCG@5 | "
             "HR@10 | NDCG@10 | epochs | train s | threads | search s | commit |", "|" + "---|" * 16]
    for r in rows:
        scores = [f"{r[k]:.4f} ± {r[k + '_std']:.4f}" for k in METRICS]
        lines.append("| " + " | ".join([r["model"], r["kind"], r["data"], r["protocol"],
                                        r.get("objective", "—"), ",".join(map(str, r["seeds"])),
                                        *scores, cell(r["epochs"]), f"{r['train_seconds']:.0f}",
                                        cell(r.get("threads")), cell(r["search_seconds"]),
                                        r["commit"]]) + " |")
    lines += per_seed_table(rows, cell)
    lines += ["", "## Anchors (published, same 5-core Beauty unless noted)", "",
              "| model | source | protocol | HR@1 | HR@5 | NDCG@5 | HR@10 | NDCG@10 |",
              "|" + "---|" * 8]
    for a in ANCHORS:
        lines.append("| " + " | ".join([a["model"], a["source"], a["protocol"],
                                        *(cell(a[k]) for k in METRICS)]) + " |")
    return "\n".join(lines) + "\n"


def per_seed_table(rows: list[dict], cell) -> list[str]:
    """Each seed of each row: validation and test NDCG@10 and, for a search, what it kept."""
    rows = [r for r in rows if r.get("per_seed")]
    if not rows:
        return []
    lines = ["", "## Per seed", "", "| model | data | seed | valid NDCG@10 | test NDCG@10 | kept |",
             "|" + "---|" * 6]
    for r in rows:
        for s in r["per_seed"]:
            lines.append("| " + " | ".join([r["model"], r["data"], str(s["seed"]),
                                            cell(s["valid_ndcg10"]), cell(s["test_ndcg10"]),
                                            arch_text(s.get("choices"))]) + " |")
    return lines


def arch_text(choices: dict | None) -> str:
    """{"behavior.block1.layer": "gru", "behavior.block1.act": "relu", ...} ->
    "behavior.block1: gru relu; ..." (a choice's parts together, in the search's order)."""
    if not choices:
        return "—"
    groups: dict[str, list[str]] = {}
    for key, value in choices.items():
        prefix, _, _ = key.rpartition(".")
        text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        groups.setdefault(prefix or key, []).append(text)
    return "; ".join(f"{prefix}: {' '.join(values)}" for prefix, values in groups.items())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec")
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "beauty_s3rec"))
    parser.add_argument("--seeds", type=lambda s: [int(x) for x in s.split(",")],
                        default=[2021, 2022, 2023])
    parser.add_argument("--epochs", type=int, default=None, help="override the spec's epochs")
    parser.add_argument("--eval-negatives", default=None,
                        type=lambda s: s if s == "full" else int(s))
    parser.add_argument("--kind", choices=("hand-crafted", "searched"), default=None,
                        help="default: searched for a spec with a search block")
    parser.add_argument("--search-seconds", type=float, default=None,
                        help="the search's wall time, for a searched architecture")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads per run (default: nasc's thread policy)")
    parser.add_argument("--collect", action="store_true",
                        help="train nothing: gather the seeds' finished runs under --runs")
    parser.add_argument("--commit", default=None,
                        help="with --collect: the commit the runs were made at (default: HEAD)")
    parser.add_argument("--load", default=None,
                        help="what else ran on the machine meanwhile (recorded in the row)")
    parser.add_argument("--runs", default="runs/next_item", help="run directories, per seed")
    parser.add_argument("--results", default=str(RESULTS), help="where next_item.json/.md go")
    args = parser.parse_args(argv)
    _, _, program = load(args.spec)
    row = row_of(args, program, train_seeds(args))
    results = Path(args.results)
    path = results / "next_item.json"
    rows = merged(json.loads(path.read_text())["rows"] if path.exists() else [], row)
    write_atomic(path, json.dumps({"rows": rows, "anchors": ANCHORS}, indent=1) + "\n")
    write_atomic(results / "next_item.md", markdown(rows))
    print(json.dumps(row, indent=1))


if __name__ == "__main__":
    main()
