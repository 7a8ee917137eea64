"""The README's main job, timed as a user runs it: ``nasc search specs/autopi.nas --batch 512``
(50 DARTS epochs on the synthetic default) in a fresh process with the default thread policy.

The batch: AutoPI's 4096 is set for Frappe's 200k rows; over the 20,000 synthetic rows it leaves
DARTS about two architecture steps an epoch, and after 50 epochs the weights end within 7.5% of
uniform (the report's warning fires). 512 gives it eight times the steps for about the same
compute.

Records wall and CPU seconds of the whole command, the search's own clock, the threads the policy
chose, peak memory and the load average before the start, in results/main_job.json and a
table beside it. Run it on a machine with nothing else running.

    python benchmarks/main_job.py
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
# The command after `nasc` in the README's first code block (a test keeps the two equal).
MAIN_JOB = ("search", "specs/autopi.nas", "--batch", "512")


def render(r: dict) -> str:
    return "\n".join([
        "# The README's main job", "",
        f"`nasc {' '.join(r.get('command', ['search', 'specs/autopi.nas']))}` (50 DARTS "
        f"epochs, synthetic default), measured {r['date']} at commit {r['commit']}, {r['usable_cores']} usable cores, load average "
        f"{r['load_before']:.2f} before the start; the default thread policy chose "
        f"{r['threads']} thread{'s' if r['threads'] != 1 else ''}.", "",
        "| wall s | CPU s (process) | search s | peak RSS MB | weights near uniform |",
        "|---|---|---|---|---|",
        f"| {r['wall_seconds']:.1f} | {r['cpu_seconds']:.1f} | {r['search_seconds']:.1f} | "
        f"{r['peak_rss_mb']:.0f} | {_said(r.get('weights_near_uniform'))} |", ""])


def _said(flag) -> str:
    return "not recorded" if flag is None else ("yes (the report warns)" if flag else "no")


def main() -> None:
    from benchkit import head_commit
    from nasc.runtime.threads import usable_cores

    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "nasc.cli", *MAIN_JOB, "--out", str(run),
                               "--quiet"], check=True, cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - start
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        summary = json.loads((run / "summary.json").read_text())
    result = {"date": time.strftime("%Y-%m-%d"), "command": list(MAIN_JOB),
              "commit": head_commit(),
              "usable_cores": usable_cores(), "load_before": round(load, 2),
              "threads": summary["cpu"]["threads"], "cpu": summary["cpu"],
              "wall_seconds": round(wall, 1),
              "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
              "search_seconds": round(summary["search_seconds"], 1),
              # the report's warning that alpha/beta ended within 10% of uniform
              "weights_near_uniform": "close to uniform" in done.stdout + done.stderr,
              "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}
    out = RESULTS / "main_job.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    out.with_suffix(".md").write_text(render(result))
    print(render(result))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
