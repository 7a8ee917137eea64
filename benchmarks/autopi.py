"""AutoPI-D (DARTS) and AutoPI-R (random search) from specs/autopi.nas on Frappe_x1.

    python benchmarks/autopi.py [--splits files random811] [--seeds 2021 2022 2023]
                                [--search-epochs 50] [--children 10] [--strategies darts random]

For each (strategy, split, seed): run `nasc search` on the spec (its DARTS settings; AutoPI-R as
`search random` over the same space, each child trained for one epoch), retrain the exported
arch.nas from scratch with the spec's train block, and record search wall time, the found
architecture, test AUC/logloss, parameters and forward FLOPs per sample. Results are appended to
benchmarks/results/autopi.json as each run ends (a rerun skips finished runs), with a markdown
table beside the paper's Tables 2 and 4 (AutoPI-D on Frappe: AUC 0.9827, logloss 0.1426,
0.1 GPU-hours) and the BARS leaderboard (best AUC 0.9861, FinalMLP).

`files` is the Frappe_x1 7:2:1 split (BARS' test rows); `random811` pools the files and splits
8:1:1 with the seed, the paper's protocol.

DARTS reads one setting of the train block, `init_bias` (where the supernet's logit starts;
weights and alpha/beta train with the search block's settings), so a finished DARTS search in
the work folder (`--work`, default /tmp/nasc-autopi) whose spec differs from today's only in the
rest of its train block, and that started its logit where today's would, is reused: its arch.nas
is retrained with today's train block (written beside it as retrain.nas) and its recorded search
time is kept. AutoPI-R trains its children with the train block, so it is reused only when the
whole spec is unchanged. A search whose run.json records no `init_bias` ran before the setting,
from a logit of 0. An interrupted search found there (a checkpoint, no summary) is resumed with
`nasc search --resume`, which ends as the uninterrupted search would; its search seconds count
each earlier stretch up to its last checkpoint, and the row says `search_resumed`. (A 50-epoch
search is over an hour a seed on a 2-core CPU: copy the run folders with `cp -a`, which keeps
the times these seconds are read from, to a place that outlives the machine's /tmp.)
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from nasc.compiler.settings import TRAIN  # noqa: E402
from nasc.runtime.commands.search import search_spec  # noqa: E402
from nasc.runtime.commands.train import train_spec  # noqa: E402

from benchkit import flops_per_sample, head_commit, summarize  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
# AutoPI Table 2 (Frappe AUC, logloss) and Table 4 (Frappe search cost, GPU-hours).
PAPER = {"AutoPI-D": (0.9827, 0.1426, 0.1), "AutoPI-R": (0.9820, 0.1487, 1.2)}
PAPER.update({f"AutoPI-D ({e} epochs)": PAPER["AutoPI-D"] for e in (10, 50)})
BARS_BEST = (0.9861, 0.1484)


def random_variant(tmp: Path, children: int, epochs: int) -> Path:
    """specs/autopi.nas with its search block replaced by AutoPI-R's random search."""
    text = (ROOT / "specs" / "autopi.nas").read_text()
    head, _, rest = text.partition("search darts {")
    _, _, tail = rest.partition("}\n")
    spec = head + f"search random {{\n  children {children}\n  epochs {epochs}\n  batch 4096\n}}\n" + tail
    path = tmp / "autopi_random.nas"
    path.write_text(spec)
    return path


TRAIN_BLOCK = re.compile(r"^train \{.*?^\}\n?", re.M | re.S)


def train_block(text: str) -> str:
    found = TRAIN_BLOCK.search(text)
    return found.group(0) if found else ""


def search_inputs(text: str, strategy: str) -> list[str]:
    """What a search's outcome depends on: the spec's lines less comments and blank lines, and
    for DARTS less the train block (whose `init_bias` repeats_search compares on its own)."""
    if strategy == "darts":
        text = TRAIN_BLOCK.sub("", text)
    lines = (line.split("#", 1)[0].rstrip() for line in text.splitlines())
    return [line for line in lines if line]


def init_bias(text: str) -> str:
    """Where a search of this spec starts CTR logits today: its train block's `init_bias`."""
    found = re.search(r"^\s*init_bias\s+(\w+)", train_block(text), re.M)
    return found.group(1) if found else TRAIN["init_bias"].default


def repeats_search(run: Path, spec: Path, strategy: str, data: str, epochs: int | None) -> bool:
    """Whether the search in ``run`` is the one today's spec, data and epochs would run."""
    saved = json.loads((run / "run.json").read_text())
    return (saved.get("epochs") == epochs
            and Path(saved["data"]).resolve() == Path(data).resolve()
            and saved.get("init_bias", "zero") == init_bias(spec.read_text())
            and search_inputs((run / "spec.nas").read_text(), strategy)
            == search_inputs(spec.read_text(), strategy))


def finished_search(run: Path, spec: Path, strategy: str, data: str,
                    epochs: int | None) -> float | None:
    """The search time of a finished search in ``run`` that today's spec would repeat, or None."""
    if not (run / "summary.json").exists() or not (run / "arch.nas").exists():
        return None
    if not repeats_search(run, spec, strategy, data, epochs):
        return None
    return json.loads((run / "summary.json").read_text())["search_seconds"]


def resumable_search(run: Path, spec: Path, strategy: str, data: str,
                     epochs: int | None) -> bool:
    """Whether ``run`` holds an interrupted search (a checkpoint, no summary) of what today's
    spec would search, so that `nasc search --resume` finishes it exactly as an uninterrupted
    search would have ended (at the thread count it began with)."""
    if (run / "summary.json").exists() or not (run / "checkpoint.pt").exists():
        return False
    return repeats_search(run, spec, strategy, data, epochs)


SEGMENTS = "benchmark_segments.json"  # when each stretch of a resumed search started


def stretches(run: Path) -> list[dict]:
    """The interrupted stretches of the search in ``run``: when each started (the first one:
    run.json, written as the search starts) and when it wrote its last checkpoint."""
    found = json.loads((run / SEGMENTS).read_text()) if (run / SEGMENTS).exists() else \
        [{"started": (run / "run.json").stat().st_mtime}]
    found[-1]["checkpoint"] = (run / "checkpoint.pt").stat().st_mtime
    return found


def resume_search(run: Path, device: str) -> float:
    """Finish the interrupted search in ``run`` and return its wall seconds in all: each earlier
    stretch from its start to its last checkpoint (work after that was lost and is done again,
    so it is not counted), then this one."""
    done = stretches(run)
    (run / SEGMENTS).write_text(json.dumps(done + [{"started": time.time()}], indent=1) + "\n")
    start = time.perf_counter()
    search_spec(None, resume=str(run), device=device, quiet=True)
    return sum(max(0.0, s["checkpoint"] - s["started"]) for s in done) + \
        time.perf_counter() - start


def retrain_spec(run: Path, spec: Path) -> Path:
    """arch.nas with today's train block (the search may have exported an older one)."""
    arch = (run / "arch.nas").read_text()
    path = run / "retrain.nas"
    path.write_text(TRAIN_BLOCK.sub(lambda _: train_block(spec.read_text()), arch))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "frappe_x1"))
    parser.add_argument("--splits", nargs="*", default=["files", "random811"])
    parser.add_argument("--seeds", nargs="*", type=int, default=[2021, 2022, 2023])
    parser.add_argument("--strategies", nargs="*", default=["darts", "random"])
    parser.add_argument("--search-epochs", type=int, default=None,
                        help="override the spec's 50 DARTS epochs (AutoPI-R's children keep 1 epoch)")
    parser.add_argument("--render", action="store_true",
                        help="only rewrite the JSON summary and markdown table from the runs")
    parser.add_argument("--children", type=int, default=10)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", default=str(RESULTS / "autopi.json"))
    parser.add_argument("--work", default="/tmp/nasc-autopi",
                        help="run directories; an interrupted search found there is resumed "
                             "(its search seconds count its earlier stretches up to their last "
                             "checkpoint)")
    args = parser.parse_args()
    out = Path(args.out)
    rows = json.loads(out.read_text())["runs"] if out.exists() else []
    if args.render:
        write(out, rows)
        return
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    for strategy in args.strategies:
        spec = ROOT / "specs" / "autopi.nas" if strategy == "darts" else \
            random_variant(work, args.children, 1)
        # DARTS' budget is part of the method's name: the 10-epoch rows (a CPU budget) and
        # the paper's 50 must not be averaged together in the leaderboard.
        name = f"AutoPI-D ({args.search_epochs or 50} epochs)" if strategy == "darts" \
            else "AutoPI-R"
        for split in args.splits:
            for seed in args.seeds:
                if any(r["method"] == name and r["split"] == split and r["seed"] == seed
                       for r in rows):
                    continue
                run = work / (f"darts-e{args.search_epochs or 50}-{split}-{seed}"
                              if strategy == "darts" else f"{strategy}-{split}-{seed}")
                epochs = args.search_epochs if strategy == "darts" else None
                search_s = finished_search(run, spec, strategy, args.data, epochs)
                resumed = search_s is None and resumable_search(run, spec, strategy, args.data,
                                                                epochs)
                if resumed:
                    search_s = resume_search(run, args.device)
                elif search_s is None:
                    start = time.perf_counter()
                    search_spec(str(spec), data=args.data, split=split, split_seed=seed, out=str(run), seed=seed,
                                epochs=epochs, device=args.device, quiet=True, overwrite=True)
                    search_s = time.perf_counter() - start
                arch = retrain_spec(run, spec)
                train_spec(str(arch), data=args.data, split=split, split_seed=seed, out=str(run / "retrain"),
                           seed=seed, device=args.device, quiet=True, overwrite=True)
                summary = json.loads((run / "retrain" / "summary.json").read_text())
                flops, params = flops_per_sample(arch, args.data, split)
                choices = json.loads((run / "choices.json").read_text())
                rows.append({"method": name, "split": split, "seed": seed,
                             **({"split_seed": seed} if split == "random811" else {}),
                             "search_seconds": search_s,
                             **({"search_resumed": True} if resumed else {}),
                             **search_budget(strategy, args),
                             "device": args.device, "threads": torch.get_num_threads(),
                             "test_auc": summary["test"]["auc"],
                             "test_logloss": summary["test"]["logloss"],
                             "parameters": params, "flops_per_sample": flops,
                             "choices": choices, "commit": head_commit(),
                             **({"alpha_moved": alpha_moved(run)} if strategy == "darts" else {})})
                print(f"{name} {split} seed {seed}: test AUC {summary['test']['auc']:.5f} "
                      f"logloss {summary['test']['logloss']:.5f}; search {search_s:.0f} s",
                      flush=True)
                write(out, rows)


def alpha_moved(run: Path) -> dict | None:
    """How far DARTS' operator weights moved by the kept epoch: each edge's largest softmax
    weight against uniform (1/6 over AutoPI's six operators); None for a run without them."""
    history = run / "history.json"
    if not history.exists():
        return None
    summary = json.loads((run / "summary.json").read_text())
    rows = json.loads(history.read_text())
    kept = next((r for r in rows if r["epoch"] == summary.get("best_epoch")), rows[-1])
    peaks = [max(w) for label, w in kept.get("arch", {}).items()
             if label.endswith(".alpha") and len(w) > 1]
    if not peaks:
        return None
    options = len(next(w for label, w in kept["arch"].items() if label.endswith(".alpha")))
    return {"epoch": kept["epoch"], "edges": len(peaks), "uniform": round(1 / options, 6),
            "mean_peak": round(sum(peaks) / len(peaks), 6), "min_peak": min(peaks),
            "max_peak": max(peaks)}


def search_budget(strategy: str, args) -> dict:
    """What a run's search spent: DARTS epochs, or AutoPI-R's children x 1 epoch each."""
    if strategy == "darts":
        return {"search_epochs": args.search_epochs or 50}
    return {"children": args.children, "child_epochs": 1}


def budget_label(row: dict) -> str:
    if "children" in row:
        return f"{row['children']} children x {row['child_epochs']} epoch"
    return f"{row['search_epochs']} DARTS epochs"


def write(out: Path, rows: list[dict]) -> None:
    summary = summarize(rows, ("method", "split"), ("test_auc", "test_logloss", "search_seconds"))
    for s in summary:
        first = next(r for r in rows if (r["method"], r["split"]) == (s["method"], s["split"]))
        s["search"], s["device"] = budget_label(first), first["device"]
        if first["device"] == "cpu" and "threads" in first:
            s["device"] += f", {first['threads']} thread{'s' * (first['threads'] > 1)}"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"runs": rows, "summary": summary}, indent=2) + "\n")
    lines = ["# AutoPI on Frappe_x1", "",
             "| method | split | seeds | search budget | test AUC | test logloss | search s (device) "
             "| paper AUC / logloss | paper search GPU-h |", "|---|---|---|---|---|---|---|---|---|"]
    for s in summary:
        paper = PAPER.get(s["method"])
        lines.append(f"| {s['method']} | {s['split']} | {len(s['seeds'])} | {s['search']} | "
                     f"{s['test_auc_mean']:.4f} ± {s['test_auc_std']:.4f} | "
                     f"{s['test_logloss_mean']:.4f} ± {s['test_logloss_std']:.4f} | "
                     f"{s['search_seconds_mean']:.0f} ({s['device']}) | "
                     f"{paper[0]:.4f} / {paper[1]:.4f} | {paper[2]} |")
    lines += ["", "Each found architecture is retrained from scratch with specs/autopi.nas's train "
              "block (Adam 1e-3, embedding L2 0.05, early stopping on validation logloss). `files` "
              "tests on BARS' rows; `random811` on a seeded tenth of the pooled rows (the paper's "
              "protocol), which only the paper's numbers share. Search seconds are wall time on "
              "the device named; the CPU runs here shared the 2 cores with other jobs (a thread count "
              "is given where it was recorded).",
              "", f"BARS best (FinalMLP): AUC {BARS_BEST[0]}, logloss {BARS_BEST[1]}. "
              "AutoPI-R samples children uniformly from the same space, trains each for one epoch with "
              "the train block and keeps the best by validation logloss; the paper does not state "
              "its AutoPI-R budget beyond the 1.2 GPU-hours of its Table 4."]
    moved = [r for r in rows if r.get("alpha_moved")]
    if moved:
        lines += ["", "How far DARTS' operator weights moved by the kept epoch (each edge's largest "
                  "softmax weight; uniform is 1/6): " + "; ".join(
                      f"{r['method']} {r['split']} seed {r['seed']}: mean "
                      f"{r['alpha_moved']['mean_peak']:.3f} (min {r['alpha_moved']['min_peak']:.3f}, "
                      f"max {r['alpha_moved']['max_peak']:.3f}) over {r['alpha_moved']['edges']} "
                      f"edges at epoch {r['alpha_moved']['epoch']}" for r in moved) + "."]
    baselines = RESULTS / "baselines.json"
    if baselines.exists():  # the hand-crafted models nasc trained on the same test rows
        lines += ["", "Baselines measured by benchmarks/baselines.py (files split): " + "; ".join(
            f"{model} {b['test_auc_mean']:.4f} / {b['test_logloss_mean']:.4f} "
            f"({len(b['seeds'])} seeds)"
            for model, b in json.loads(baselines.read_text())["summary"].items())]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
