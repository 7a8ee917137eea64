"""Issue 17 on a GPU (item 6): one prepared run for a lent machine's few minutes.

    python benchmarks/gpu.py --data DIR/frappe_x1 --out OUT.json [--search-limit 240]
    python benchmarks/gpu.py --merge OUT.json   # here: put a device run into search_speed.json

On ``--device`` (default cuda), in this order, each part written to OUT.json as soon as it ends
(a part that fails records its error and the next one still runs):

- the environment (torch, CUDA, the card);
- one AutoPI DARTS step (architecture step + weight step, batch 4096 of Frappe rows) of nasc's
  supernet against the plain eager reference (benchmarks/reference_autopi.py; the same function is
  checked in float64 on the CPU by search_speed.py), the median of ``--steps`` steps each, the
  two alternating, timed with the device synchronized around each step;
- a real 50-epoch AutoPI-D search with `compile graphs` (specs/autopi.nas with that line added
  to its search block): `nasc search SPEC --data DIR --device cuda` in a fresh process, its wall
  time from start to exit (data loading, CUDA start and compiling included) and the search
  seconds the run records, the kept epoch and its validation AUC, and the run's compile record
  (compile seconds, steps that ran without a CUDA graph);
- the DARTS step again with its loss compiled (`compile on`) and as CUDA graphs (`graphs`):
  the seconds of the first steps (compiling, recording) and the median after;
- the same search as committed (`compile auto`: inductor, no CUDA graphs).

The two searches share ``--search-limit`` seconds (the first at most 60 % of it); one stopped by
it reports the epochs it finished instead.

The machine is not this one: numbers from it are recorded with the card's name and never compared
with CPU timings except as the issue's targets.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

RESULTS = ROOT / "benchmarks" / "results"


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def seconds_of(fn, device: torch.device) -> float:
    sync(device)
    start = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - start


def environment(device: torch.device) -> dict:
    env = {"torch": torch.__version__, "python": platform.python_version(),
           "cpu_count": os.cpu_count(), "threads": torch.get_num_threads(),
           "device": str(device), "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        env.update(card=props.name, cuda=torch.version.cuda,
                   memory_gb=round(props.total_memory / 2 ** 30, 1),
                   multiprocessors=props.multi_processor_count)
    return env


def step_timing(data: str, device: torch.device, steps: int) -> dict:
    """Median seconds of nasc's DARTS step and of the reference's, alternating on the same
    batches (after 3 warm-up steps of each)."""
    import search_speed

    with tempfile.TemporaryDirectory() as tmp:
        darts, w_batch, a_batch = search_speed.darts_setup(data, Path(tmp), device=str(device))
        reference = search_speed.Reference(darts)
        ours = lambda: search_speed.darts_step(darts, w_batch, a_batch)  # noqa: E731
        theirs = lambda: reference.step(w_batch, a_batch)  # noqa: E731
        for _ in range(3):
            ours(), theirs()
        timed = {"nasc": [], "reference": []}
        for _ in range(steps):
            timed["nasc"].append(seconds_of(ours, device))
            timed["reference"].append(seconds_of(theirs, device))
        peak = None
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
            ours()
            sync(device)
            peak = torch.cuda.max_memory_allocated(device) / 2 ** 20
    step, ref = statistics.median(timed["nasc"]), statistics.median(timed["reference"])
    return {"batch": search_speed.BATCH, "steps": steps, "step_seconds": step,
            "reference_step_seconds": ref, "speedup_vs_reference": ref / step,
            "all_step_seconds": timed["nasc"], "all_reference_step_seconds": timed["reference"],
            "step_peak_allocated_mb": peak}


# The `compile` settings timed beside the eager step: inductor's fused kernels, and those
# replayed as CUDA graphs.
COMPILED = ("on", "graphs")


def compiled_steps(data: str, device: torch.device, steps: int) -> dict:
    """The DARTS step of step_timing with each COMPILED setting."""
    import search_speed

    with tempfile.TemporaryDirectory() as tmp:
        darts, w_batch, a_batch = search_speed.darts_setup(data, Path(tmp), device=str(device))
        return {setting: compiled_step(darts, w_batch, a_batch, setting, device, steps)
                for setting in COMPILED}


def compiled_step(darts, w_batch, a_batch, setting: str, device: torch.device,
                  steps: int) -> dict:
    """The same DARTS step with its loss through `compile SETTING`: seconds of the first steps
    (compiling, and recording the graphs), then the median of ``steps``; a failure is recorded
    and the eager loss put back."""
    import search_speed
    from nasc.runtime import compiling

    eager_loss = darts.batch_loss
    torch._dynamo.reset()
    try:
        darts.batch_loss = compiling.training_loss(darts.eager_loss, setting, device)
        skips, before = compiling.cuda_graph_skips(), compiling.compile_seconds()
        ours = lambda: search_speed.darts_step(darts, w_batch, a_batch)  # noqa: E731
        first = [seconds_of(ours, device) for _ in range(3)]
        timed = [seconds_of(ours, device) for _ in range(steps)]
        return {"first_steps_seconds": first, "step_seconds": statistics.median(timed),
                "all_step_seconds": timed, "compile_seconds": compiling.compile_seconds() - before,
                "cuda_graph_skips": compiling.cuda_graph_skips() - skips}
    except Exception:  # one setting failing must not cost the other or the searches
        return {"error": traceback.format_exc()[-3000:]}
    finally:
        darts.batch_loss = eager_loss
        torch._dynamo.reset()


def spec_compiled(folder: Path, setting: str | None) -> Path:
    """specs/autopi.nas, or a copy whose search block sets `compile SETTING`."""
    spec = ROOT / "specs" / "autopi.nas"
    if setting is None:
        return spec
    text, block = spec.read_text(), "search darts {"
    if block not in text or "\n  compile " in text:
        raise ValueError(f"{spec}: expected a `{block}` block without a `compile` line")
    copy = folder / "autopi.nas"
    copy.write_text(text.replace(block, f"{block}\n  compile {setting}", 1))
    return copy


def search_run(data: str, device: torch.device, limit: float, seed: int,
               epochs: int | None = None, compile_setting: str | None = None) -> dict:
    """A real `nasc search specs/autopi.nas` in a fresh process: wall seconds to exit (with
    ``compile_setting``, the spec's search block set to it)."""
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        spec = spec_compiled(Path(tmp), compile_setting)
        command = [sys.executable, "-c", "from nasc.cli import main; main()", "search",
                   str(spec), "--data", data, "--device", str(device),
                   "--seed", str(seed), "--out", str(run), "--quiet",
                   *(["--epochs", str(epochs)] if epochs else [])]
        start = time.perf_counter()
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=limit)
            finished, tail = done.returncode == 0, (done.stdout + done.stderr)[-2000:]
        except subprocess.TimeoutExpired:
            finished, tail = False, f"stopped after {limit:.0f} s"
        wall = time.perf_counter() - start
        history = json.loads((run / "history.json").read_text()) \
            if (run / "history.json").exists() else []
        out = {"seed": seed, "compile": compile_setting or "the spec's", "wall_seconds": wall,
               "finished": finished,
               "epochs_done": len(history), "tail": tail if not finished else ""}
        if finished:
            summary = json.loads((run / "summary.json").read_text())
            best = next(h for h in history if h["epoch"] == summary["best_epoch"])
            out.update(search_seconds=summary["search_seconds"], epochs=summary["epochs"],
                       best_epoch=summary["best_epoch"], best_valid_auc=best["valid_auc"],
                       best_valid_logloss=best.get("valid_logloss"),
                       choices=summary["choices"], compile_record=summary.get("compile"))
        elif history:
            out["valid_auc_by_epoch"] = [h["valid_auc"] for h in history]
        return out


def merge(path: Path) -> None:
    """Put a device run (this script's OUT.json) into results/search_speed.json under `gpu`,
    and its finished 50-epoch search as the issue's `autopi_d_frappe_50_epochs_seconds` on it."""
    import search_speed

    run = json.loads(path.read_text())
    target = RESULTS / "search_speed.json"
    result = json.loads(target.read_text())
    result["gpu"] = run
    finished = [run[k] for k in ("search_graphs", "search") if (run.get(k) or {}).get("finished")]
    if finished:  # the faster of the finished searches, its compile setting beside it
        best = min(finished, key=lambda r: r["wall_seconds"])
        result["autopi_d_frappe_50_epochs_gpu_seconds"] = best["wall_seconds"]
        result["autopi_d_frappe_50_epochs_gpu_compile"] = best["compile"]
    search_speed.write_result(target, result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "frappe_x1"))
    parser.add_argument("--out", default="gpu.json")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--search-limit", type=float, default=240.0)
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--search-epochs", type=int, help="fewer than the spec's 50 (a dry run)")
    parser.add_argument("--merge", metavar="OUT.json")
    args = parser.parse_args()
    if args.merge:
        merge(Path(args.merge))
        return
    device = torch.device(args.device)
    out = Path(args.out)
    result: dict = {}
    # The search with CUDA graphs before the rest: it is the one that may reach the issue's
    # 30 s. The two searches share --search-limit, the first taking at most 60 % of it.
    began = time.perf_counter()
    left = lambda: args.search_limit - (time.perf_counter() - began)  # noqa: E731
    parts = [("environment", lambda: environment(device)),
             ("step", lambda: step_timing(args.data, device, args.steps)),
             ("search_graphs", lambda: search_run(args.data, device, 0.6 * args.search_limit,
                                                 args.seed, args.search_epochs, "graphs")),
             ("compiled_steps", lambda: compiled_steps(args.data, device, args.steps)),
             ("search", lambda: search_run(args.data, device, max(left(), 30.0), args.seed,
                                          args.search_epochs))]
    for name, part in parts:
        start = time.perf_counter()
        try:
            result[name] = part()
        except Exception:  # a failed part must not cost the rest of a lease
            result[name] = {"error": traceback.format_exc()[-3000:]}
        print(f"{name} ({time.perf_counter() - start:.0f} s): "
              f"{json.dumps({k: v for k, v in result[name].items() if not k.startswith('all_')})[:1500]}",
              flush=True)
        out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
