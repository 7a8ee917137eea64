"""Several seeds of one command at once: ``nasc search SPEC --seeds 2021,2022,2023 --jobs 2``.

Each seed runs as its own ``nasc`` process (one process per core beats threads on small-op
models; nasc.runtime.threads) into ``ROOT/seed-<seed>``, with the usable cores divided between
the jobs, its output in ``ROOT/seed-<seed>.log``. When all have ended, ``ROOT/seeds.json`` and
the printed table give the mean and standard deviation of each validation (and, after
``--retrain``, test) metric, the choices each seed made side by side, and how often each option
was picked. Ctrl-C stops every job; the same command with ``--resume ROOT`` resumes the
unfinished ones, keeps the finished ones and starts the missing ones.
"""
from __future__ import annotations

import json
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from nasc.errors import Diagnostic, UsageError
from nasc.fileio import make_dirs, write_atomic


def parse_seeds(text: str) -> list[int]:
    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        seeds = []
    if not seeds or len(set(seeds)) != len(seeds):
        raise UsageError([Diagnostic("--seeds", 0, 0, f"{text!r} is not a list of distinct "
                                                      "integer seeds",
                                     "e.g. --seeds 2021,2022,2023")])
    return seeds


@dataclass
class Job:
    seed: int
    argv: list[str]
    run: Path
    log: Path
    process: subprocess.Popen | None = None
    code: int | None = None


def seed_jobs(command: str, spec_args: list[str], common: list[str], seeds: list[int],
              root: Path, resume: bool) -> list[Job]:
    """One ``nasc COMMAND SPEC_ARGS COMMON --seed S --out ROOT/seed-S`` per seed. With ``resume``,
    a seed whose run finished is kept (no job), an unfinished search is resumed
    (``--resume ROOT/seed-S COMMON``), and any other seed starts (over)."""
    jobs = []
    for seed in seeds:
        run = root / f"seed-{seed}"
        done = (run / "summary.json").is_file() and \
            ("--retrain" not in common or (run / "retrain" / "summary.json").is_file())
        if resume and done:
            continue
        if resume and command == "search" and (run / "run.json").is_file() and \
                not (run / "summary.json").is_file():
            argv = [command, "--resume", str(run), *common]
        else:
            argv = [command, *spec_args, *common, "--seed", str(seed), "--out", str(run)]
            if resume and run.exists():
                argv.append("--overwrite")  # an unfinished train run, or a search to retrain
        jobs.append(Job(seed, [sys.executable, "-m", "nasc.cli", *argv], run,
                        root / f"seed-{seed}.log"))
    return jobs


def run_jobs(jobs: list[Job], parallel: int, echo) -> None:
    """Run ``jobs``, ``parallel`` at a time; Ctrl-C interrupts every running job (each keeps its
    last checkpoint) and is raised again once they have stopped."""
    waiting, running = list(jobs), []
    try:
        while waiting or running:
            while waiting and len(running) < parallel:
                job = waiting.pop(0)
                with open(job.log, "w") as log:
                    job.process = subprocess.Popen(job.argv, stdout=log, stderr=subprocess.STDOUT,
                                                   stdin=subprocess.DEVNULL)
                echo(f"seed {job.seed}: started ({job.log})")
                running.append(job)
            time.sleep(0.2)
            for job in [j for j in running if j.process.poll() is not None]:
                job.code = job.process.returncode
                running.remove(job)
                echo(f"seed {job.seed}: " + ("finished" if job.code == 0 else
                                             f"failed with status {job.code}, see {job.log}"))
    except KeyboardInterrupt:
        for job in running:
            job.process.send_signal(signal.SIGINT)
        for job in running:
            try:
                job.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                job.process.kill()
        raise


def _mean_std(values: list[float]) -> dict:
    return {"mean": statistics.fmean(values),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0, "n": len(values)}


def _metrics(summary: dict, prefix: str) -> dict[str, float]:
    """Numbers of a summary: ``valid``/``test`` dicts and top-level ``best_valid_*`` scores."""
    out = {}
    for part in ("valid", "test"):
        for key, value in (summary.get(part) or {}).items():
            if isinstance(value, (int, float)):
                out[f"{prefix}{part} {key}"] = float(value)
    for key, value in summary.items():
        if key.startswith("best_valid_") and isinstance(value, (int, float)):
            out[f"{prefix}valid {key[len('best_valid_'):]}"] = float(value)
    return out


def summarize(command: str, seeds: list[int], root: Path) -> dict:
    """ROOT/seeds.json from each seed's summary (and its retrain's)."""
    per_seed, choices = {}, {}
    for seed in seeds:
        run = root / f"seed-{seed}"
        path = run / "summary.json"
        if not path.is_file():
            continue
        summary = json.loads(path.read_text())
        numbers = _metrics(summary, "search " if command == "search" else "")
        retrain = run / "retrain" / "summary.json"
        if retrain.is_file():
            numbers.update(_metrics(json.loads(retrain.read_text()), "retrain "))
        per_seed[seed] = numbers
        if "choices" in summary:
            choices[seed] = {label: json.dumps(value, separators=(",", ":"))
                             for label, value in summary["choices"].items()}
    names = sorted({name for numbers in per_seed.values() for name in numbers})
    metrics = {name: _mean_std([n[name] for n in per_seed.values() if name in n])
               for name in names}
    labels = sorted({label for c in choices.values() for label in c})
    picked = {label: dict(Counter(c[label] for c in choices.values() if label in c)
                          .most_common()) for label in labels}
    result = {"command": command, "seeds": seeds, "finished": sorted(per_seed),
              "metrics": metrics, "per_seed": {str(s): n for s, n in per_seed.items()},
              "choices": {str(s): c for s, c in choices.items()}, "picked": picked}
    write_atomic(root / "seeds.json", json.dumps(result, indent=2, sort_keys=True) + "\n")
    return result


def table(result: dict) -> str:
    lines = [f"{len(result['finished'])} of {len(result['seeds'])} seeds finished"]
    for name, s in result["metrics"].items():
        lines.append(f"  {name}: {s['mean']:.5f} +- {s['std']:.5f} (n={s['n']})")
    if result["picked"]:
        seeds = list(result["choices"])
        lines.append("choices (" + ", ".join(f"seed {s}" for s in seeds) + "; how often picked):")
        for label, counts in result["picked"].items():
            row = [result["choices"][s].get(label, "-") for s in seeds]
            top = max(counts.values())
            lines.append(f"  {label}: {' | '.join(row)}   ({top} of {len(seeds)} agree)")
    return "\n".join(lines)


def run_seeds(command: str, spec_args: list[str], common: list[str], seeds: list[int],
              root: Path, parallel: int, resume: bool, echo) -> dict:
    make_dirs(root)
    jobs = seed_jobs(command, spec_args, common, seeds, root, resume)
    try:
        run_jobs(jobs, max(1, parallel), echo)
    except KeyboardInterrupt:
        summarize(command, seeds, root)
        echo(f"\ninterrupted: continue with the same command and --resume {root}")
        raise
    result = summarize(command, seeds, root)
    failed = [j for j in jobs if j.code]
    echo(table(result))
    echo(f"wrote {root / 'seeds.json'}")
    if failed:
        raise UsageError([Diagnostic(str(j.log), 0, 0, f"seed {j.seed} failed (status {j.code})",
                                     "read its log; fix the cause and rerun with --resume "
                                     f"{root}") for j in failed])
    return result
