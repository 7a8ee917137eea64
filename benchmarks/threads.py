"""CPU threads for small-op models, and several seeds at once (issue: thread policy).

Measures, in one run and on the synthetic default (20,000 rows):
- seconds of one DARTS epoch of specs/autopi.nas (``nasc search --epochs 1``: the search's own
  clock, which includes building the supernet) and of one specs/deepfm.nas epoch (``nasc train``'s
  train_seconds), for 1..cores threads, on a quiet machine and beside one busy process (a Python
  loop taking a core);
- the default policy's choice, and its time against the best thread count's in each condition;
- three seeds of a 2-epoch AutoPI search with ``--seeds --jobs 2`` against the same three one
  after another (once with the policy's threads, once with every core's).

Every timing is a fresh ``nasc`` process, as a user runs it. Results: results/threads.json and
results/threads.md (``--render`` rewrites the table from the JSON). Run it on a machine with
nothing else running: the JSON records the load average before each measurement.

    python benchmarks/threads.py
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT))

from benchkit import head_commit  # noqa: E402
from nasc.runtime.threads import usable_cores  # noqa: E402

NASC = [sys.executable, "-m", "nasc.cli"]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def nasc(*args: str) -> float:
    start = time.perf_counter()
    subprocess.run([*NASC, *args, "--device", "cpu", "--quiet"], check=True, env=ENV,
                   stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - start


def _threads_flag(threads: int | None) -> list[str]:
    return [] if threads is None else ["--threads", str(threads)]


def darts_epoch(threads: int | None, work: Path) -> tuple[float, int]:
    """Seconds of one search epoch, and the threads it ran with (None: the default policy's)."""
    out = work / f"darts-{threads}-{time.monotonic_ns()}"
    nasc("search", "specs/autopi.nas", "--epochs", "1", *_threads_flag(threads), "--out", str(out))
    summary = json.loads((out / "summary.json").read_text())
    return summary["search_seconds"], summary["cpu"]["threads"]


def fixed_epoch(threads: int | None, work: Path) -> tuple[float, int]:
    out = work / f"deepfm-{threads}-{time.monotonic_ns()}"
    # 4 epochs: one epoch is under a second, too short to time against the noise of a shared CPU
    nasc("train", "specs/deepfm.nas", "--epochs", "4", *_threads_flag(threads), "--out", str(out))
    summary = json.loads((out / "summary.json").read_text())
    chosen = json.loads((out / "config.json").read_text())["cpu"]["threads"]
    return summary["train_seconds"] / summary["epochs_run"], chosen


class Busy:
    """One other process that takes a core for as long as it runs."""

    def __enter__(self):
        # spins until its parent goes, so a benchmark killed mid-run leaves no busy core behind
        spin = "import os\nparent = os.getppid()\nwhile os.getppid() == parent:\n    pass\n"
        self.proc = subprocess.Popen([sys.executable, "-c", spin])
        time.sleep(1.0)
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()


def load() -> float:
    return round(os.getloadavg()[0], 2)


def measure_threads(cores: int, work: Path, repeats: int, fixed_repeats: int) -> list[dict]:
    rows = []
    for condition in ("quiet", "one busy process"):
        for what, fn in (("DARTS epoch (autopi)", darts_epoch), ("fixed-model epoch (deepfm)",
                                                                fixed_epoch)):
            for threads in [*range(1, cores + 1), None]:  # None: the default policy
                before = load()
                n = repeats if fn is darts_epoch else fixed_repeats
                if condition == "quiet":
                    runs = [fn(threads, work) for _ in range(n)]
                else:
                    with Busy():
                        runs = [fn(threads, work) for _ in range(n)]
                times = [t for t, _ in runs]
                rows.append({"condition": condition, "what": what,
                             "threads": "policy" if threads is None else threads,
                             "chose": [c for _, c in runs], "seconds": min(times),
                             "all_seconds": times, "load_before": before})
                print(rows[-1], flush=True)
    return rows


def measure_jobs(cores: int, work: Path) -> dict:
    seeds = "1,2,3"
    spec = ("search", "specs/autopi.nas", "--epochs", "2", "--seeds", seeds)
    before = load()
    parallel = nasc(*spec, "--jobs", "2", "--out", str(work / "jobs2"))
    sequential = nasc(*spec, "--jobs", "1", "--out", str(work / "jobs1"))
    all_cores = nasc(*spec, "--jobs", "1", "--threads", str(cores), "--out", str(work / "jobs1t"))
    return {"seeds": 3, "epochs": 2, "load_before": before,
            "jobs2_seconds": parallel,
            "sequential_policy_threads": "policy",
            "sequential_seconds": sequential,
            "sequential_all_cores_seconds": all_cores,
            "ratio_vs_sequential": parallel / sequential,
            "ratio_vs_sequential_all_cores": parallel / all_cores}


def render(result: dict) -> str:
    cores = result["usable_cores"]
    lines = [f"# CPU threads (usable cores: {cores}; the default policy: one thread per idle "
             "usable core)",
             "", f"Measured {result['date']} at commit {result['commit']} on the synthetic "
             "default (20,000 rows), one fresh `nasc` process per timing, best of "
             f"{result['repeats']} (DARTS) and {result.get('fixed_repeats', result['repeats'])} "
             "(DeepFM, 4 epochs each). Seconds; `policy` runs without --threads (the threads it "
             "chose in brackets); ratio = the policy's time over the best fixed thread count's "
             "in the same condition.", "",
             "| condition | what | " + " | ".join(f"{t} thr" for t in range(1, cores + 1))
             + " | policy | policy / best |", "|---|---|" + "---|" * cores + "---|---|"]
    keys = sorted({(r["condition"], r["what"]) for r in result["threads"]},
                  key=lambda k: (k[0] != "quiet", k[1]))
    for condition, what in keys:
        rows = {r["threads"]: r for r in result["threads"]
                if (r["condition"], r["what"]) == (condition, what)}
        policy = rows.pop("policy")
        ratio = policy["seconds"] / min(r["seconds"] for r in rows.values())
        chose = ",".join(str(c) for c in policy["chose"])
        lines.append(f"| {condition} | {what} | "
                     + " | ".join(f"{rows[t]['seconds']:.2f}" for t in sorted(rows))
                     + f" | {policy['seconds']:.2f} ({chose}) | {ratio:.2f} |")
    j = result["jobs"]
    lines += ["", "Three seeds of a 2-epoch AutoPI search (wall seconds, whole commands):", "",
              "| `--jobs 2` | one after another, policy threads | one after another, "
              f"{cores} threads | ratio | ratio |", "|---|---|---|---|---|",
              f"| {j['jobs2_seconds']:.1f} | {j['sequential_seconds']:.1f} | "
              f"{j['sequential_all_cores_seconds']:.1f} | {j['ratio_vs_sequential']:.2f} | "
              f"{j['ratio_vs_sequential_all_cores']:.2f} |"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--repeats", type=int, default=2, help="runs per DARTS timing")
    parser.add_argument("--fixed-repeats", type=int, default=4, help="runs per DeepFM timing")
    parser.add_argument("--render", action="store_true")
    parser.add_argument("--out", default=str(RESULTS / "threads.json"))
    args = parser.parse_args()
    out = Path(args.out)
    if args.render:
        out.with_suffix(".md").write_text(render(json.loads(out.read_text())))
        return
    cores = usable_cores()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        result = {"usable_cores": cores,
                  "repeats": args.repeats, "date": time.strftime("%Y-%m-%d"),
                  "commit": head_commit(),
                  "fixed_repeats": args.fixed_repeats,
                  "threads": measure_threads(cores, work, args.repeats, args.fixed_repeats),
                  "jobs": measure_jobs(cores, work)}
    out.write_text(json.dumps(result, indent=2) + "\n")
    out.with_suffix(".md").write_text(render(result))
    print(render(result))


if __name__ == "__main__":
    main()
