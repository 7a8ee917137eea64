"""Search speed on the CPU (issue 17, item 1's CPU part): one run, the same batches.

    python benchmarks/search_speed.py [--threads 1] [--repeats 3] [--children 200]
    python benchmarks/search_speed.py --render   # rewrite the table from the JSON
    python benchmarks/search_speed.py --step   # only the DARTS step against the reference
    python benchmarks/search_speed.py --memory-setting   # only the `memory` settings vs `keep`
    python benchmarks/search_speed.py --compile   # only torch.compile of the supernet vs eager
    python benchmarks/search_speed.py --scaling   # only fields/batch scaling, one-shot vs child
    python benchmarks/search_speed.py --validation   # only exact chunked validation vs one batch
    python benchmarks/search_speed.py --partial-channels   # only PC-DARTS' partial_channels 1/2/5
    python benchmarks/search_speed.py --next-item-ranking   # only AMEIR-A's ranking, chunked vs not
    python benchmarks/search_speed.py --record-autopi RUN [--load "..."] [--commit C]
                                     # record a finished `nasc search specs/autopi.nas
                                     # --data ../shared/data/frappe_x1` run's wall time

Measures, with ``--threads`` intra-op threads and process CPU time (the machine is shared: wall
time would count other jobs' load; CPU time counts this process's own work, all threads summed):

- one AutoPI DARTS step (architecture step + weight step, batch 4096 of Frappe_x1 rows) of nasc's
  supernet from specs/autopi.nas, run by nasc's own Darts strategy, against a plain eager PyTorch
  reference of the same supernet with the operators as they were at 8dc4490
  (benchmarks/reference_autopi.py), after checking in float64 that both give the same logits and
  gradients from the same weights;
- the forward + backward cost of each edge operator at batch 4096, k = 10, m = 10 and 39 (nasc's
  and the reference's definitions);
- FLOPs of a step (torch.utils.flop_counter) and GFLOP/s against a large matmul in the same run;
- peak memory of a supernet step and of a discrete child's step, each in a fresh process (peak
  RSS over the RSS before the step), and the bytes autograd saves for backward;
- seconds to rank 200 one-shot children (specs/ameir_ctr.nas, synthetic default) as nasc does it
  (every child scored on the device with one sync; the modules the stage's choices do not reach,
  the embeddings, interactions and SE shortcut, computed once: nasc.runtime.fixed_outputs) and
  with the per-child evaluate + sklearn path from before issue 17, each a whole forward.

A lent GPU's numbers (benchmarks/gpu.py, run there by benchmarks/gpu_lease.sh) are merged into the
same JSON with `python benchmarks/gpu.py --merge OUT.json` and shown in their own rows.

Without ../shared/data/frappe_x1 the synthetic default is used, and the JSON says so. Results:
results/search_speed.json and results/search_speed.md.
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.flop_counter import (FlopCounterMode, _FlopCounterMode, sdpa_backward_flop_count,
                                      sdpa_flop_count)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
FRAPPE = ROOT.parent / "shared" / "data" / "frappe_x1"
BEAUTY = ROOT.parent / "shared" / "data" / "beauty_s3rec"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import reference_autopi as ref_autopi  # noqa: E402
from benchkit import head_commit  # noqa: E402
from nasc.compiler.fix import fix_spec  # noqa: E402
from nasc.compiler.frontend import compile_text, load  # noqa: E402
from nasc.compiler.printer import print_spec  # noqa: E402
from nasc.runtime import compiling, metrics, ops  # noqa: E402
from nasc.runtime.rundir import RunDir  # noqa: E402
from nasc.runtime.commands.dataset import open_dataset  # noqa: E402
from nasc.runtime.data.synthetic import make_synthetic  # noqa: E402
from nasc.runtime.model import build_fixed  # noqa: E402
from nasc.runtime.strategies import oneshot  # noqa: E402
from nasc.runtime.strategies.common import SearchContext, generator, jsonable  # noqa: E402
from nasc.runtime.strategies.darts import Darts, temperature, use_memory_setting  # noqa: E402
from nasc.runtime.train import ScoringMode, evaluate, predict, predict_batches  # noqa: E402

BATCH, DIM = 4096, 10


def timed(fn) -> float:
    """Process CPU seconds of one call."""
    start = time.process_time()
    fn()
    return time.process_time() - start


def cpu_seconds(fn, repeats: int) -> list[float]:
    """Process CPU seconds of each of ``repeats`` calls, after one warm-up call."""
    fn()
    return [timed(fn) for _ in range(repeats)]


# ----------------------------------------------------------------------------------- the setup
def context(spec: str, data: str, work: Path, dataset=None,
            device: str = "cpu", overrides: dict | None = None) -> SearchContext:
    """What `nasc search` hands a strategy (without the CLI), in the scratch folder ``work``
    (``dataset``: already loaded rows instead of ``data``'s; ``overrides``: search settings)."""
    text, parsed, program = load(ROOT / spec)
    settings = {**program.strategy.settings, **(overrides or {})}
    settings["stages"] = program.strategy.stages
    dataset = dataset if dataset is not None else open_dataset(program, data)
    return SearchContext(program, parsed, text, spec, dataset, data, RunDir(work / "run"),
                         torch.device(device), 2021, settings, show_progress=False)


def darts_setup(data: str, work: Path, batch: int = BATCH, dataset=None, device: str = "cpu",
                overrides: dict | None = None):
    """nasc's Darts on specs/autopi.nas as at epoch 2 (tau < 1, noisy skip on), one weight batch
    and one architecture batch of ``batch`` rows, on ``device``."""
    darts = Darts(context("specs/autopi.nas", data, work, dataset, device, overrides))
    darts.net.train()
    darts.net.set_temperature(temperature(darts.epochs, 2, darts.ctx.settings["temperature"]))
    darts.net.set_skip_noise(darts.ctx.settings["noisy_skip"],
                             generator(2021, 2, 2, device=darts.ctx.device))
    w_batch = next(iter(darts.train_w.batches(batch, True, generator(2021, 3, 2))))
    a_batch = next(iter(darts.train_a.batches(batch, True, generator(2021, 4, 2))))
    return darts, w_batch, a_batch


def darts_step(darts: Darts, w_batch, a_batch) -> None:
    darts.arch_step(a_batch, w_batch)
    darts.weight_step(w_batch)


class Reference:
    """The plain supernet with DARTS' step written out: Adam on alpha/beta, then momentum SGD on
    the weights with the gradient clipped at 5 (specs/autopi.nas' optimizer settings)."""

    def __init__(self, darts: Darts):
        vocab = [f.vocab_size for f in darts.ctx.dataset.schema.fields]
        self.model = ref_autopi.AutoPI(vocab, DIM).to(darts.ctx.device).train()
        ref_autopi.load_from_nasc(self.model, darts.net)
        self.model.tau = darts.net.interaction_node1.tau
        ref_autopi.set_skip_noise(self.model, darts.ctx.settings["noisy_skip"],
                                  generator(2021, 2, 2, device=darts.ctx.device))
        self.arch, self.weights = self.model.arch_parameters(), self.model.weight_parameters()
        self.a_opt = torch.optim.Adam(self.arch, lr=6e-4, betas=(0.5, 0.999), weight_decay=1e-3)
        self.w_opt = torch.optim.SGD(self.weights, lr=0.025, momentum=0.9, weight_decay=3e-4)
        self.loss = nn.BCEWithLogitsLoss()

    def step(self, w_batch, a_batch) -> None:
        loss = self.loss(self.model(a_batch["fields"]), a_batch["label"])
        for p, g in zip(self.arch, torch.autograd.grad(loss, self.arch)):
            p.grad = g
        self.a_opt.step()
        self.a_opt.zero_grad(set_to_none=True)
        loss = self.loss(self.model(w_batch["fields"]), w_batch["label"])
        for p, g in zip(self.weights, torch.autograd.grad(loss, self.weights, allow_unused=True)):
            p.grad = g
        nn.utils.clip_grad_norm_(self.weights, 5.0)
        self.w_opt.step()
        self.w_opt.zero_grad(set_to_none=True)


# ------------------------------------------------------------------------ same function check
def check_reference(darts: Darts, batch: dict, rows: int = 512) -> dict:
    """Max |difference| of logits and of every gradient between nasc's supernet and the
    reference built from its weights, in float64, noisy skip on with equally seeded generators."""
    darts.net.set_skip_noise(0.0)  # a Generator does not deepcopy
    net = copy.deepcopy(darts.net).double()
    ref = ref_autopi.AutoPI([f.vocab_size for f in darts.ctx.dataset.schema.fields], DIM).double()
    ref_autopi.load_from_nasc(ref, net)
    ref.tau = net.interaction_node1.tau
    net.set_skip_noise(0.03, torch.Generator().manual_seed(11))
    ref_autopi.set_skip_noise(ref, 0.03, torch.Generator().manual_seed(11))
    fields, label = batch["fields"][:rows], batch["label"][:rows].double()
    logits_nasc = net({"fields": fields})
    logits_ref = ref(fields)
    nn.functional.binary_cross_entropy_with_logits(logits_nasc, label).backward()
    nn.functional.binary_cross_entropy_with_logits(logits_ref, label).backward()
    # nasc's gradients laid out as the reference's parameters, by the same weight copy
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.zeros_like(p) if p.grad is None else p.grad)
        for p in ref.parameters():
            p.zero_()
    expected = copy.deepcopy(ref)
    ref_autopi.load_from_nasc(expected, net)
    with torch.no_grad():
        grad_diff = max(float(((torch.zeros_like(p) if p.grad is None else p.grad) - q).abs().max())
                        for p, q in zip(ref.parameters(), expected.parameters()))
    darts.net.set_skip_noise(darts.ctx.settings["noisy_skip"], generator(2021, 2, 2))
    out = {"rows": rows, "dtype": "float64",
           "max_abs_logit_diff": float((logits_nasc - logits_ref).detach().abs().max()),
           "max_abs_grad_diff": grad_diff}
    if out["max_abs_logit_diff"] > 1e-9 or grad_diff > 1e-9:
        raise SystemExit(f"the reference does not compute nasc's supernet: {out}")
    return out


# --------------------------------------------------------------------------------- operators
def operators(m: int) -> dict[str, nn.Module]:
    """nasc's edge operators (and the edges' batch norm) and the reference's FM and attention."""
    return {"skip": ops.Skip(m, DIM), "senet": ops.SENetLayer(m, DIM, 3),
            "self_attention": ops.SelfAttention(m, DIM, heads=1), "fm": ops.FMAligned(m, DIM),
            "slp": ops.SingleLayerPerceptron(m, DIM), "conv1d": ops.FieldConv1d(m, DIM),
            "batchnorm": ops.FieldBatchNorm(m, affine=False),
            "self_attention (8dc4490)": ref_autopi.SelfAttention(m, DIM, heads=1),
            "fm (8dc4490)": ref_autopi.FM(m, DIM)}


def operator_costs(fields: tuple[int, ...], repeats: int) -> list[dict]:
    rows = []
    for m in fields:
        x = torch.randn(BATCH, m, DIM, requires_grad=True)
        for name, op in operators(m).items():
            op.train()

            def run():
                x.grad = None
                out = op(x)
                out.backward(torch.ones_like(out))

            times = cpu_seconds(run, repeats)
            rows.append({"operator": name, "m": m, "ms": 1e3 * min(times),
                         "ms_median": 1e3 * statistics.median(times)})
            print(rows[-1], flush=True)
    return rows


# ------------------------------------------------------------------------- FLOPs and roofline
# CPU SDPA has no FLOP formula in torch.utils.flop_counter: count it as its flash kernels are
CPU_SDPA = {
    torch.ops.aten._scaled_dot_product_flash_attention_for_cpu:
        lambda q, k, v, *_, out_shape=None, **__: sdpa_flop_count(q, k, v),
    torch.ops.aten._scaled_dot_product_flash_attention_for_cpu_backward:
        lambda g, q, k, v, *_, out_shape=None, **__: sdpa_backward_flop_count(g, q, k, v),
}


def flops(fn) -> int:
    counter = FlopCounterMode(display=False, custom_mapping=CPU_SDPA)
    # only the counting mode: FlopCounterMode's module tracker hooks backward in a way that
    # refuses torch.autograd.grad, which the DARTS step calls
    with _FlopCounterMode(counter):
        fn()
    return counter.get_total_flops()


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    return 2 * n ** 3 / min(cpu_seconds(lambda: a @ b, repeats)) / 1e9


# ------------------------------------------------------------------------------------ memory
def saved_for_backward_mb(fn) -> float:
    """MB of the distinct storages autograd keeps for backward while ``fn`` builds its graph."""
    storages = {}

    def pack(t):
        storages[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn()
    return sum(storages.values()) / 2 ** 20


def status_mb(field: str) -> float:
    """A VmRSS/VmHWM line of /proc/self/status in MB. (getrusage's ru_maxrss would not do: Linux
    carries it over fork and exec, so a child process starts with its parent's peak.)"""
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith(field + ":"))
    return int(line.split()[1]) / 1024


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where that is refused."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_of_step(kind: str, data: str) -> dict:
    """In this (fresh) process: peak RSS of one supernet step or one discrete child's weight
    step over the RSS just before it."""
    with tempfile.TemporaryDirectory() as tmp:
        darts, w_batch, a_batch = darts_setup(data, Path(tmp))
        if kind == "child":
            darts.net.sample(generator(2021, 9))  # a seeded discrete child (2 edges a node)
            step = lambda: darts.weight_step(w_batch)  # noqa: E731
        else:  # the search block's `memory` setting, applied as `nasc search` applies it
            use_memory_setting(darts.net, {"supernet": "keep"}.get(kind, kind))
            step = lambda: darts_step(darts, w_batch, a_batch)  # noqa: E731
        gc.collect()
        reset = reset_peak()
        before, peak_before = status_mb("VmRSS"), status_mb("VmHWM")
        step()
        peak = status_mb("VmHWM")
        seconds = min(timed(step) for _ in range(3))
    # without the reset, a loading peak above the step's would hide it: then say so
    return {"peak_mb": peak - before, "rss_before_mb": before, "peak_before_mb": peak_before,
            "peak_reset": reset, "visible": reset or peak > peak_before,
            "step_seconds": seconds}


def peak_of_validation(batch: int, data: str) -> dict:
    """In this (fresh) process: peak RSS and CPU seconds of scoring the validation split as DARTS
    does (batch-norm on batch statistics) in chunks of ``batch`` rows, each batch-norm with the
    whole split's statistics (nasc.runtime.split_norms) when the split is longer than a chunk."""
    with tempfile.TemporaryDirectory() as tmp:
        darts, _, _ = darts_setup(data, Path(tmp))
        score = lambda: evaluate(darts.net, darts.valid, batch, bn_batch_stats=True)  # noqa: E731
        gc.collect()
        reset = reset_peak()
        before = status_mb("VmRSS")
        score()
        peak = status_mb("VmHWM")
        seconds = min(timed(score) for _ in range(2))
    return {"peak_mb": peak - before, "peak_reset": reset, "seconds": seconds,
            "rows": len(darts.valid)}


def validation_chunks(data: str, args, batches=(8192, 16384)) -> dict:
    """Exact chunked validation (issue 17, item 4) against today's one batch for the whole split:
    the largest difference of the probabilities and of AUC / logloss (same process), and each
    one's peak RSS and CPU seconds in a fresh process with MALLOC_TRIM_THRESHOLD_=0 (the peak is
    what scoring holds at one time)."""
    with tempfile.TemporaryDirectory() as tmp:
        darts, w_batch, a_batch = darts_setup(data, Path(tmp))
        for _ in range(2):  # weights a little way from their initial values
            darts_step(darts, w_batch, a_batch)
        whole_rows = len(darts.valid)
        label = darts.valid.columns["label"].cpu()

        def scored(prob: torch.Tensor) -> dict:  # evaluate()'s scores of probabilities in hand
            return {"auc": metrics.auc(label, prob), "logloss": metrics.logloss(label, prob)}
        whole = predict(darts.net, darts.valid, whole_rows, bn_batch_stats=True)
        scores = scored(whole)
        diffs = {}
        for batch in batches:
            chunked = predict(darts.net, darts.valid, batch, bn_batch_stats=True)
            other = scored(chunked)
            with torch.no_grad(), ScoringMode(darts.net, bn_batch_stats=True):  # before: each
                # chunk with its own statistics
                own = predict_batches(darts.net, darts.valid.batches(batch))
            diffs[batch] = {"max_abs_prob_diff": float((chunked - whole).abs().max()),
                            "auc_diff": abs(other["auc"] - scores["auc"]),
                            "logloss_diff": abs(other["logloss"] - scores["logloss"]),
                            "per_chunk_statistics_max_abs_prob_diff":
                                float((own - whole).abs().max())}
    trim = {"MALLOC_TRIM_THRESHOLD_": "0"}
    flags = ["--data", data, "--threads", str(args.threads), "--valid-peak"]
    runs = {b: in_fresh_process(flags + [str(b)], trim) for b in (whole_rows, *batches)}
    return {"validation_chunks": {
        "rows": whole_rows, "whole": runs[whole_rows],
        "chunked": {str(b): {**runs[b], **diffs[b]} for b in batches}}}


def validation_rows(r: dict) -> list[str]:
    v = r.get("validation_chunks")
    if not v:
        return []
    whole = v["whole"]
    rows = [f"| validation ({v['rows']} rows, batch-norm on the split's statistics) as one batch: "
            f"peak RSS MB / CPU s | {whole['peak_mb']:.0f} / {whole['seconds']:.2f} |"]
    for b, c in v["chunked"].items():
        rows.append(f"| the same in exact {b}-row chunks: peak RSS MB / CPU s; max prob diff "
                    f"(per-chunk statistics: before) | {c['peak_mb']:.0f} / {c['seconds']:.2f}; "
                    f"{c['max_abs_prob_diff']:.1e} ({c['per_chunk_statistics_max_abs_prob_diff']:.1e}) |")
    return rows


def measure_peak(kind: str, data: str, threads: int, trim: bool = False) -> dict:
    """peak_of_step in a fresh process. ``trim``: glibc returns freed memory to the system at
    once (MALLOC_TRIM_THRESHOLD_=0), so the peak is what the step holds at one time rather than
    what the allocator keeps cached from its earlier temporaries (which makes steps faster)."""
    return in_fresh_process(["--peak", kind, "--data", data, "--threads", str(threads)],
                            {"MALLOC_TRIM_THRESHOLD_": "0"} if trim else {})


def in_fresh_process(flags: list[str], env: dict[str, str]) -> dict:
    """This script run with ``flags`` in a new process (``env`` added to this one's): the JSON
    of its last line."""
    out = subprocess.run([sys.executable, __file__, *flags], check=True, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(ROOT), **env})
    return json.loads(out.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------------- ranking
def per_child_ranking(search: oneshot.OneShot, si: int, stage) -> list:
    """The ranking before issue 17: one evaluate() (a host copy, two sklearn calls) per child."""
    gen = generator(search.ctx.seed, 200 + si)
    seen, ranked = set(), []
    for n in range(stage.children):
        path = search.net.sample(gen, stage.labels)
        key = json.dumps(jsonable(path), sort_keys=True)
        if key not in seen:
            seen.add(key)
            scores = evaluate(search.net, search.subset, bn_batch_stats=True)
            ranked.append((search.key(scores), n, path, scores))
    return sorted(ranked, key=lambda r: (r[0], r[1]))


def ranking_seconds(children: int, work: Path, repeats: int = 3) -> dict:
    """Ranking ``children`` children of specs/ameir_ctr.nas' MLP stage on the synthetic default,
    both ways, alternating, the least CPU time of ``repeats`` each; the two rankings must agree."""
    search = oneshot.OneShot(context("specs/ameir_ctr.nas", "synthetic", work))
    si = next(i for i, st in enumerate(search.stages) if st.construct != "interactions")
    stage = dataclasses.replace(search.stages[si], children=children)
    swaps = search.hold(si)
    new_times, old_times = [], []
    try:
        for _ in range(repeats):
            start = time.process_time()
            new = search.ranked_children(si, stage)
            new_times.append(time.process_time() - start)
            start = time.process_time()
            old = per_child_ranking(search, si, stage)
            old_times.append(time.process_time() - start)
    finally:
        swaps.restore()
    new_seconds, old_seconds = min(new_times), min(old_times)
    old_scores = {n: scores for _, n, _, scores in old}
    diff = max(abs(scores[k] - old_scores[n][k]) for _, n, _, scores in new for k in scores)
    # children with the same AUC are ordered by child number now, by sklearn's rounding before
    moved = [(a[1], b[1]) for a, b in zip(new, old) if a[1] != b[1]]
    tied = all(abs(a[0] - b[0]) <= 1e-12 for a, b in zip(new, old) if a[1] != b[1])
    if diff > 1e-9 or not tied:
        raise SystemExit(f"the batched ranking differs from the per-child one: {diff}, {moved}")
    return {"children": children, "distinct": len(new), "subset_rows": len(search.subset),
            "seconds": new_seconds, "per_child_sklearn_seconds": old_seconds,
            "seconds_per_child": new_seconds / len(new),
            "per_child_sklearn_seconds_per_child": old_seconds / len(old),
            "seconds_all": new_times, "per_child_sklearn_seconds_all": old_times,
            "speedup": old_seconds / new_seconds, "max_abs_score_diff": diff,
            "order_swaps_within_exact_ties": moved}


def next_item_ranking(children: int, work: Path, repeats: int = 3) -> dict:
    """Scoring ``children`` children of specs/ameir_seq_sasrec.nas on its 2,000-user ranking
    subset (Beauty, else the synthetic log) in CPU-sized chunks of users (the default) and in one
    batch (as before), alternating, the least CPU time of ``repeats`` each; ranks must agree."""
    data = str(BEAUTY) if BEAUTY.exists() else "synthetic"
    search = oneshot.OneShot(context("specs/ameir_seq_sasrec.nas", data, work))
    task, chunked = search.retrieval, search.retrieval.forward_rows()
    gen = generator(2021, 200)
    paths = [search.net.sample(gen) for _ in range(children)]
    times: dict[int, list[float]] = {chunked: [], 4096: []}
    ranks: dict[int, list] = {}
    for _ in range(repeats):
        for rows in times:
            task.forward_rows = lambda rows=rows: rows
            start, got = time.process_time(), []
            for path in paths:
                search.net.fix(path)
                got.append(task.ranks(search.net, "subset"))
            times[rows].append(time.process_time() - start)
            ranks[rows] = got
    moved = sum(int((a != b).sum()) for a, b in zip(ranks[chunked], ranks[4096]))
    users = len(task.splits["subset"])
    if moved > users * children // 1000:  # float rounding may split a near-tie, no more
        raise SystemExit(f"chunked ranking moved {moved} of {users * children} ranks")
    best = {rows: min(t) for rows, t in times.items()}
    return {"data": Path(data).name, "children": children, "users": users,
            "chunk_users": chunked, "seconds_per_child": best[chunked] / children,
            "one_batch_seconds_per_child": best[4096] / children,
            "speedup": best[4096] / best[chunked], "ranks_moved": moved,
            "seconds_all": times[chunked], "one_batch_seconds_all": times[4096],
            "clock": "process CPU time"}


def next_item_rows(r: dict) -> list[str]:
    n = r.get("next_item_ranking")
    if not n:
        return []
    m = r["next_item_ranking_measured"]
    return [f"| rank a next-item child (ameir_seq_sasrec, {n['data']}, {n['users']:,} users; "
            f"measured {m['date']} at {m['commit']}, load {m['load_average_before']}): "
            f"{n['chunk_users']}-user chunks / one batch, CPU s | "
            f"{n['seconds_per_child']:.3f} / {n['one_batch_seconds_per_child']:.3f} "
            f"({n['speedup']:.2f}x) |"]


# -------------------------------------------------------------------------------------- main
def step_part(data: str, args) -> dict:
    """One DARTS step of nasc against the plain reference on the same batches (interleaved, so
    both see the same load), their FLOPs, the matmul roofline and what autograd saves."""
    result = {"date": time.strftime("%Y-%m-%d"), "device": "cpu", "threads": args.threads,
              "clock": "process CPU time (time.process_time), min of the repeats; the machine "
                       "is shared",
              "load_average_before": round(os.getloadavg()[0], 2),
              "commit": head_commit(),
              "data": "frappe_x1" if data != "synthetic" else "synthetic (frappe_x1 not found)",
              "batch": BATCH, "repeats": args.repeats}
    with tempfile.TemporaryDirectory() as tmp:
        darts, w_batch, a_batch = darts_setup(data, Path(tmp))
        result["fields"] = w_batch["fields"].shape[1]
        result["reference_check"] = check_reference(darts, w_batch)
        reference = Reference(darts)
        nasc_step = lambda: darts_step(darts, w_batch, a_batch)  # noqa: E731
        ref_step = lambda: reference.step(w_batch, a_batch)  # noqa: E731
        nasc_step(), ref_step()  # warm-up
        nasc_times, ref_times = [], []
        for _ in range(args.repeats):  # interleaved: both see the same load
            nasc_times.append(timed(nasc_step))
            ref_times.append(timed(ref_step))
        result["step_seconds"], result["reference_step_seconds"] = min(nasc_times), min(ref_times)
        result["step_seconds_all"], result["reference_step_seconds_all"] = nasc_times, ref_times
        result["speedup_vs_reference"] = min(ref_times) / min(nasc_times)
        result["step_flops"], result["reference_step_flops"] = flops(nasc_step), flops(ref_step)
        result["step_gflops"] = result["step_flops"] / result["step_seconds"] / 1e9
        result["roofline_gflops"] = matmul_gflops()
        result["supernet_saved_for_backward_mb"] = saved_for_backward_mb(
            lambda: darts.eager_loss(w_batch))
        darts.net.sample(generator(2021, 9))
        result["child_saved_for_backward_mb"] = saved_for_backward_mb(
            lambda: darts.eager_loss(w_batch))
    return result


def measure(args) -> dict:
    data = str(FRAPPE) if FRAPPE.exists() else "synthetic"
    result = step_part(data, args)
    print({k: v for k, v in result.items() if "step" in k}, flush=True)
    for kind in ("supernet", "child"):
        peak = measure_peak(kind, data, args.threads)
        result[f"{kind}_peak_mb"], result[f"{kind}_peak"] = peak["peak_mb"], peak
    result.update(memory_setting(data, args))
    result["operators"] = operator_costs((10, 39), args.repeats + 2)
    with tempfile.TemporaryDirectory() as tmp:
        rank = ranking_seconds(args.children, Path(tmp))
    result["ranking"] = rank
    result[f"rank_{args.children}_children_seconds"] = rank["seconds"]
    result[f"rank_{args.children}_children_seconds_per_child_sklearn"] = \
        rank["per_child_sklearn_seconds"]
    result["autopi_d_frappe_50_epochs_seconds"] = None
    result["autopi_d_frappe_50_epochs_why_null"] = (
        "not run: a real 50-epoch AutoPI-D search was outside this change's scope (issue 17 "
        "item 1 asks for one; about 25 steps an epoch plus validation, see step_seconds)")
    return result


def memory_setting(data: str, args) -> dict:
    """The `memory` settings against `keep`, same run: CPU seconds of a DARTS step with
    `recompute` (interleaved with `keep` on the same batches: the recomputation's cost), bytes
    saved for backward, and peak RSS and CPU seconds of a step in fresh processes with each
    setting as `nasc search` applies it (`lowest` returns freed memory to the system at once), a
    discrete child's beside them for the ratio the issue sets; the same peaks again with
    MALLOC_TRIM_THRESHOLD_=0 for the whole process."""
    with tempfile.TemporaryDirectory() as tmp:
        darts, w_batch, a_batch = darts_setup(data, Path(tmp))
        step = lambda: darts_step(darts, w_batch, a_batch)  # noqa: E731
        times = {"keep": [], "recompute": []}
        for _ in range(args.repeats):
            for setting in times:
                darts.net.set_recompute(setting == "recompute")
                times[setting].append(timed(step))
        darts.net.set_recompute(True)
        saved = saved_for_backward_mb(lambda: darts.eager_loss(w_batch))
    peaks = {kind: measure_peak(kind, data, args.threads)
             for kind in ("supernet", "recompute", "lowest", "child")}
    trimmed = {kind: measure_peak(kind, data, args.threads, trim=True)
               for kind in ("supernet", "recompute", "child")}
    return {"memory_setting": {
        "setting": "recompute", "step_seconds": min(times["recompute"]),
        "keep_step_seconds": min(times["keep"]), "step_seconds_all": times,
        "saved_for_backward_mb": saved,
        "peak_mb": peaks["recompute"]["peak_mb"], "keep_peak_mb": peaks["supernet"]["peak_mb"],
        "lowest_peak_mb": peaks["lowest"]["peak_mb"],
        "child_peak_mb": peaks["child"]["peak_mb"], "peaks": peaks,
        "trimmed_peaks": trimmed},
        "memory_setting_peak_mb": {"keep": peaks["supernet"]["peak_mb"],
                                   "recompute": peaks["recompute"]["peak_mb"],
                                   "lowest": peaks["lowest"]["peak_mb"]}}


def partial_channels(data: str, args, groups=(1, 2, 5)) -> dict:
    """PC-DARTS' `partial_channels K` (a different method, not the same numbers faster): CPU
    seconds of a DARTS step on the same batches (interleaved across K), the bytes saved for
    backward, and the supernet's weight count, for each K."""
    with tempfile.TemporaryDirectory() as tmp:
        runs = {k: darts_setup(data, Path(tmp) / str(k), overrides={"partial_channels": k})
                for k in groups}
        times = {k: [] for k in groups}
        for k, (darts, w_batch, a_batch) in runs.items():
            darts_step(darts, w_batch, a_batch)  # warm-up
        for _ in range(args.repeats):
            for k, (darts, w_batch, a_batch) in runs.items():
                times[k].append(timed(lambda: darts_step(darts, w_batch, a_batch)))
        rows = {str(k): {"step_seconds": min(times[k]), "step_seconds_all": times[k],
                         "saved_for_backward_mb": saved_for_backward_mb(
                             lambda: darts.eager_loss(w_batch)),
                         "weights": sum(p.numel() for p in darts.weight_params)}
                for k, (darts, w_batch, a_batch) in runs.items()}
    return {"partial_channels": rows}


def partial_rows(r: dict) -> list[str]:
    part = r.get("partial_channels")
    if not part:
        return []
    when = r.get("partial_channels_measured", {})
    base = part["1"]
    return [f"| `partial_channels {k}` (PC-DARTS; measured {when.get('date', '?')} at "
            f"{when.get('commit', '?')}, load {when.get('load_average_before', '?')}): DARTS step "
            f"s / saved for backward MB / weights | {v['step_seconds']:.2f} "
            f"({base['step_seconds'] / v['step_seconds']:.2f}x of K = 1) / "
            f"{v['saved_for_backward_mb']:.0f} / {v['weights']:,} |"
            for k, v in part.items()]


def trimmed_rows(m: dict) -> list[str]:
    t = m.get("trimmed_peaks")
    if not t:
        return []
    mb = {k: t[k]["peak_mb"] for k in ("recompute", "supernet", "child")}
    return [f"| the same with `MALLOC_TRIM_THRESHOLD_=0` (glibc returns freed memory at once: what "
            f"a step holds at one time, not what the allocator keeps cached to reuse), MB | "
            f"{mb['recompute']:.0f} / {mb['supernet']:.0f} / {mb['child']:.0f} "
            f"({mb['recompute'] / mb['child']:.2f}x the child's) |"]


def lowest_rows(m: dict) -> list[str]:
    p = m["peaks"]
    if "lowest" not in p:
        return []
    child, trimmed_child = p["child"]["peak_mb"], m["trimmed_peaks"]["child"]["peak_mb"]
    return [f"| `memory lowest` (recompute, and freed memory returned at once): peak RSS of a "
            f"step / a discrete child's, MB | {p['lowest']['peak_mb']:.0f} / {child:.0f} "
            f"({p['lowest']['peak_mb'] / child:.2f}x the child's; "
            f"{p['lowest']['peak_mb'] / trimmed_child:.2f}x its peak with "
            f"`MALLOC_TRIM_THRESHOLD_=0`) |",
            f"| a step in the peak runs' fresh processes, `keep` / `recompute` / `lowest` / a "
            f"child's weight step, s | {p['supernet']['step_seconds']:.2f} / "
            f"{p['recompute']['step_seconds']:.2f} / {p['lowest']['step_seconds']:.2f} / "
            f"{p['child']['step_seconds']:.2f} |"]


def memory_rows(r: dict) -> list[str]:
    m = r.get("memory_setting")
    if not m:
        return []
    return [
        f"| `memory recompute`: peak RSS of a step / with `keep` / a discrete child's, MB | "
        f"{m['peak_mb']:.0f} / {m['keep_peak_mb']:.0f} / {m['child_peak_mb']:.0f} "
        f"({m['peak_mb'] / m['child_peak_mb']:.2f}x the child's) |",
        *trimmed_rows(m),
        *lowest_rows(m),
        f"| `memory recompute`: saved for backward, MB | {m['saved_for_backward_mb']:.0f} |",
        f"| `memory recompute`: DARTS step / with `keep`, s | {m['step_seconds']:.2f} / "
        f"{m['keep_step_seconds']:.2f} ({m['step_seconds'] / m['keep_step_seconds']:.2f}x) |"]


def autopi_row(r: dict) -> str:
    run = r.get("autopi_d_frappe_50_epochs")
    if r.get("autopi_d_frappe_50_epochs_seconds") is None or not run:
        return f"| AutoPI-D, 50 epochs on Frappe_x1, s | {r['autopi_d_frappe_50_epochs_why_null']} |"
    rows = [autopi_run(run)]
    rows += [autopi_run(e, "earlier: ") for e in r.get("autopi_d_frappe_50_epochs_earlier", [])]
    return "\n".join(rows)


def autopi_run(run: dict, prefix: str = "") -> str:
    logloss = run.get("best_valid_logloss")
    logloss = "" if logloss is None else f", valid logloss {logloss:.5f}"
    return (f"| {prefix}AutoPI-D, {run['epochs']} epochs on Frappe_x1 (a real `nasc search`), "
            f"wall s | {run['seconds']:.0f} ({run['device']}, {run['threads']} thread(s), commit "
            f"{run['commit']}; {run['load']}); best epoch {run['best_epoch']}, valid AUC "
            f"{run['best_valid_auc']:.5f}{logloss} |")


def gpu_rows(r: dict) -> list[str]:
    """A lent GPU's run (benchmarks/gpu.py, merged with --merge), if one was made."""
    g = r.get("gpu")
    if not g:
        return []
    env, step, search = g["environment"], g.get("step", {}), g.get("search", {})
    where = f"{env.get('card', env['device'])}, torch {env['torch']}, {env['date'][:10]}"
    rows = []
    if "step_seconds" in step:
        rows.append(f"| GPU ({where}): DARTS step nasc / reference, s | "
                    f"{step['step_seconds']:.3f} / {step['reference_step_seconds']:.3f} "
                    f"({step['speedup_vs_reference']:.2f}x; median of {step['steps']}; peak "
                    f"{step['step_peak_allocated_mb']:.0f} MB allocated) |")
    if search.get("finished"):
        rows.append(f"| GPU: AutoPI-D, {search['epochs']} epochs on Frappe_x1 (a real `nasc "
                    f"search`), wall s to exit | {search['wall_seconds']:.0f} (search "
                    f"{search['search_seconds']:.0f}); best epoch {search['best_epoch']}, valid "
                    f"AUC {search['best_valid_auc']:.5f} |")
    elif "epochs_done" in search:
        rows.append(f"| GPU: AutoPI-D 50-epoch search on Frappe_x1 (a real `nasc search`) | "
                    f"stopped by the lease after {search['wall_seconds']:.0f} s wall with "
                    f"{search['epochs_done']} epochs done (about "
                    f"{search['wall_seconds'] / max(1, search['epochs_done']):.1f} s an epoch, "
                    f"start-up included) |")
    return rows


def record_autopi(out: Path, run: Path, load: str, commit: str | None = None) -> None:
    """A finished AutoPI-D search's wall time into the JSON (issue 17 asks for a real run)."""
    summary = json.loads((run / "summary.json").read_text())
    history = json.loads((run / "history.json").read_text())
    best = next(h for h in history if h["epoch"] == summary["best_epoch"])
    result = json.loads(out.read_text())
    if result.get("autopi_d_frappe_50_epochs"):  # earlier runs stay, as a list beside it
        result.setdefault("autopi_d_frappe_50_epochs_earlier", []).insert(
            0, result["autopi_d_frappe_50_epochs"])
    result["autopi_d_frappe_50_epochs_seconds"] = summary["search_seconds"]
    result.pop("autopi_d_frappe_50_epochs_why_null", None)
    result["autopi_d_frappe_50_epochs"] = {
        "seconds": summary["search_seconds"], "epochs": summary["epochs"],
        "device": summary["device"], "threads": summary["cpu"]["threads"],
        "commit": commit or head_commit(),
        "load": load, "best_epoch": summary["best_epoch"],
        "best_valid_auc": best["valid_auc"], "best_valid_logloss": best["valid_logloss"],
        "choices": summary["choices"]}
    out.write_text(json.dumps(result, indent=2) + "\n")
    out.with_suffix(".md").write_text(render(result))


def compile_measure(data: str, args) -> dict:
    """`torch.compile` of the AutoPI supernet in a DARTS step, against eager, each in a fresh
    process: the first compiled step's wall and CPU seconds (compilation runs in worker
    processes, so CPU time misses part of it; each with an empty compile cache) and the CPU
    seconds of the next steps; with AutoPI's noisy skip and without noise. Until 5521bb1 the
    noisy skip's seeded draw broke the graph at each Skip (14 graphs a step); it is now drawn
    inside the graph."""
    out = {}
    for noise in (True, False):
        for compiled in (False, True):
            # a cold compile cache: a warm one (an earlier run's kernels) hides most of the cost
            flags = ["--compile-step", "--data", data, "--threads", str(args.threads)] + \
                (["--compiled"] if compiled else []) + ([] if noise else ["--no-noise"])
            with tempfile.TemporaryDirectory(prefix="nasc-inductor-") as cache:
                out[f"{'noisy' if noise else 'no_noise'}_{'compiled' if compiled else 'eager'}"] \
                    = in_fresh_process(flags, {"TORCHINDUCTOR_CACHE_DIR": cache})
    return out


def compile_step(data: str, compiled: bool, noise: bool) -> dict:
    """In this (fresh) process: seconds of DARTS steps, the supernet compiled or not."""
    with tempfile.TemporaryDirectory() as tmp:
        darts, w_batch, a_batch = darts_setup(data, Path(tmp))
        if not noise:
            darts.net.set_skip_noise(0.0)
        if compiled:  # what the search block's `compile on` does
            darts.batch_loss = compiling.training_loss(darts.eager_loss, "on", darts.ctx.device)
        wall, cpu = time.perf_counter(), time.process_time()
        before = compiling.compile_seconds()
        darts_step(darts, w_batch, a_batch)
        first = {"first_step_wall_seconds": time.perf_counter() - wall,
                 "first_step_cpu_seconds": time.process_time() - cpu,
                 "compile_seconds": compiling.compile_seconds() - before}
        steps = [timed(lambda: darts_step(darts, w_batch, a_batch)) for _ in range(4)]
    return {**first, "step_seconds": min(steps), "step_seconds_all": steps}


def compile_rows(r: dict) -> list[str]:
    c = r.get("compile")
    if not c:
        return []
    rows = []
    for noise, what in (("noisy", "noisy skip on"), ("no_noise", "no skip noise")):
        eager, comp = c[f"{noise}_eager"], c[f"{noise}_compiled"]
        ratio = eager["step_seconds"] / comp["step_seconds"]
        rows.append(f"| `torch.compile` of the supernet, {what}: step eager / compiled, s; first "
                    f"compiled step wall s | {eager['step_seconds']:.2f} / "
                    f"{comp['step_seconds']:.2f} ({ratio:.2f}x); "
                    f"{comp['first_step_wall_seconds']:.0f}"
                    + (f" ({comp['compile_seconds']:.0f} compiling)" if "compile_seconds" in comp
                       else "") + " |")
    return rows


def scaling(args) -> dict:
    """nasc's DARTS step and the plain reference's, alternating (min CPU seconds of
    ``args.repeats``), on synthetic rows with 10, 24 and 39 fields at batch 4096, and at batch
    1024, 4096 and 16384 with 10 fields (Frappe has 10; Criteo 39)."""
    shapes = [(m, BATCH) for m in (10, 24, 39)] + [(10, b) for b in (1024, 16384)]
    rows = []
    for fields, batch in shapes:
        dataset = make_synthetic(seed=2021, n=max(20000, 5 * batch), num_fields=fields)
        with tempfile.TemporaryDirectory() as tmp:
            darts, w_batch, a_batch = darts_setup("synthetic", Path(tmp), batch, dataset)
            reference = Reference(darts)
            ours = lambda: darts_step(darts, w_batch, a_batch)  # noqa: E731
            theirs = lambda: reference.step(w_batch, a_batch)  # noqa: E731
            ours(), theirs()  # warm-up
            times = {"nasc": [], "reference": []}
            for _ in range(args.repeats):
                times["nasc"].append(timed(ours))
                times["reference"].append(timed(theirs))
        row = {"fields": fields, "batch": batch, "step_seconds": min(times["nasc"]),
               "reference_step_seconds": min(times["reference"])}
        row["speedup_vs_reference"] = row["reference_step_seconds"] / row["step_seconds"]
        rows.append(row)
        print(row, flush=True)
    return {"scaling": rows}


def oneshot_vs_child(args) -> dict:
    """AMEIR's one-shot training step (a path drawn, the shared weights trained) against a step
    of the fixed child of the same path built as `nasc train` builds it, on specs/ameir_ctr.nas'
    MLP stage over the synthetic default at its search batch (min CPU seconds, alternating)."""
    with tempfile.TemporaryDirectory() as tmp:
        search = oneshot.OneShot(context("specs/ameir_ctr.nas", "synthetic", Path(tmp)))
        si = next(i for i, st in enumerate(search.stages) if st.construct != "interactions")
        stage, net = search.stages[si], search.net
        swaps = search.hold(si)
        try:
            batch = next(iter(search.train.batches(search.batch, True, generator(2021, 1))))
            gen = generator(2021, 2)
            shared = torch.optim.Adam([p for p in net.parameters() if p.requires_grad])
            net.train()

            def oneshot_step():
                net.sample(gen, stage.labels)
                shared.zero_grad(set_to_none=True)
                search.batch_loss(net, batch).backward()
                shared.step()

            oneshot_step()
            assignment = {label: m.value for label, m in net.choice_modules().items()}
        finally:
            swaps.restore()
        ctx = search.ctx
        fixed = fix_spec(ctx.spec, ctx.program, assignment, drop_search=True)
        _, program = compile_text(print_spec(fixed), "child.nas")
        child = build_fixed(program, ctx.dataset.schema).train()
        own = torch.optim.Adam(child.parameters())
        loss = nn.BCEWithLogitsLoss()

        def child_step():
            own.zero_grad(set_to_none=True)
            loss(child(batch), batch["label"]).backward()
            own.step()

        swaps = search.hold(si)
        try:
            child_step()
            times = {"oneshot": [], "child": []}
            for _ in range(5 * args.repeats):
                times["oneshot"].append(timed(oneshot_step))
                times["child"].append(timed(child_step))
        finally:
            swaps.restore()
    return {"oneshot_step": {"batch": search.batch, "oneshot_step_seconds": min(times["oneshot"]),
                             "child_step_seconds": min(times["child"]),
                             "ratio": min(times["oneshot"]) / min(times["child"])}}


def scaling_rows(r: dict) -> list[str]:
    rows = []
    for row in r.get("scaling", []):
        rows.append(f"| DARTS step at {row['fields']} fields, batch {row['batch']}: nasc / "
                    f"reference, s | {row['step_seconds']:.2f} / "
                    f"{row['reference_step_seconds']:.2f} ({row['speedup_vs_reference']:.2f}x) |")
    o = r.get("oneshot_step")
    if o:
        rows.append(f"| AMEIR one-shot step (path drawn, shared weights) / the fixed child's "
                    f"step, batch {o['batch']} (ameir_ctr, synthetic), ms | "
                    f"{1e3 * o['oneshot_step_seconds']:.1f} / {1e3 * o['child_step_seconds']:.1f} "
                    f"({o['ratio']:.2f}x) |")
    return rows


def provenance(args) -> dict:
    """When, where and at which commit a part of the JSON measured separately was measured."""
    return {"date": time.strftime("%Y-%m-%d"), "threads": args.threads,
            "load_average_before": round(os.getloadavg()[0], 2),
            "commit": head_commit()}


def peaks_when(r: dict) -> str:
    """Where a `--step` run kept the last full run's peak RSS rows: when that was."""
    m = r.get("peaks_measured")
    return "" if m is None else f" (measured {m['date']} at {m['commit']}, {m['threads']} thread(s))"


def ranking_when(rank: dict) -> str:
    m = rank.get("measured")
    return f" (measured {m['date']} at {m['commit']})" if m else ""


def render(r: dict) -> str:
    rank = r["ranking"]
    children = rank["children"]
    lines = [
        "# Search speed on the CPU (issue 17)", "",
        f"Measured {r['date']} at commit {r['commit']} on {r['data']}, {r['threads']} thread(s), "
        f"batch {r['batch']}, {r['fields']} fields; {r['clock']} (load average "
        f"{r['load_average_before']} before). Generated by benchmarks/search_speed.py from "
        "search_speed.json.", "",
        "| what | value |", "|---|---|",
        f"| nasc DARTS step (arch + weight), s | {r['step_seconds']:.2f} |",
        f"| plain PyTorch reference step (8dc4490 operators), s | "
        f"{r['reference_step_seconds']:.2f} |",
        f"| reference / nasc | {r['speedup_vs_reference']:.2f}x |",
        f"| reference check (float64, max abs diff logits / grads) | "
        f"{r['reference_check']['max_abs_logit_diff']:.1e} / "
        f"{r['reference_check']['max_abs_grad_diff']:.1e} |",
        f"| FLOPs per step (nasc / reference), GFLOP | {r['step_flops'] / 1e9:.1f} / "
        f"{r['reference_step_flops'] / 1e9:.1f} |",
        f"| step GFLOP/s / large-matmul GFLOP/s | {r['step_gflops']:.1f} / "
        f"{r['roofline_gflops']:.1f} |",
        f"| peak RSS of a step: supernet / discrete child{peaks_when(r)}, MB | "
        f"{r['supernet_peak_mb']:.0f} / {r['child_peak_mb']:.0f} |",
        f"| saved for backward: supernet / child, MB | "
        f"{r['supernet_saved_for_backward_mb']:.0f} / {r['child_saved_for_backward_mb']:.0f} |",
        f"| rank {children} one-shot children (ameir_ctr, synthetic), batched scores, unchosen "
        f"modules run once{ranking_when(rank)}, s | "
        f"{rank['seconds']:.2f} ({1e3 * rank['seconds_per_child']:.1f} ms a child) |",
        f"| the same, per-child evaluate + sklearn as before, s | "
        f"{rank['per_child_sklearn_seconds']:.2f} "
        f"({1e3 * rank['per_child_sklearn_seconds_per_child']:.1f} ms a child) |",
        *memory_rows(r),
        *partial_rows(r),
        *compile_rows(r),
        *scaling_rows(r),
        *validation_rows(r),
        *next_item_rows(r),
        autopi_row(r),
        *gpu_rows(r),
        "", "Forward + backward of one operator at batch 4096, k = 10 (ms):", "",
        "| operator | m = 10 | m = 39 |", "|---|---|---|"]
    by_op: dict[str, dict[int, float]] = {}
    for row in r["operators"]:
        by_op.setdefault(row["operator"], {})[row["m"]] = row["ms"]
    for name, cost in by_op.items():
        lines.append(f"| {name} | {cost.get(10, float('nan')):.1f} | "
                     f"{cost.get(39, float('nan')):.1f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5, help="timed DARTS steps of each")
    parser.add_argument("--children", type=int, default=200)
    parser.add_argument("--render", action="store_true")
    parser.add_argument("--record-autopi", metavar="RUN", help="record a finished AutoPI-D run")
    parser.add_argument("--load", default="machine load not recorded",
                        help="with --record-autopi: what else ran meanwhile")
    parser.add_argument("--commit", default=None,
                        help="with --record-autopi: the commit the run was made at (default: HEAD)")
    parser.add_argument("--out", default=str(RESULTS / "search_speed.json"))
    parser.add_argument("--memory-setting", action="store_true",
                        help="measure only the `memory` settings against `keep` and add them to the "
                             "JSON (the rest of it is kept)")
    parser.add_argument("--ranking", action="store_true",
                        help="measure only the one-shot ranking against the per-child path and "
                             "put it in the JSON (the rest of it is kept)")
    parser.add_argument("--compile", action="store_true",
                        help="measure only torch.compile of the supernet against eager and put "
                             "it in the JSON (the rest of it is kept)")
    parser.add_argument("--scaling", action="store_true",
                        help="measure only the step's scaling with fields and batch (against "
                             "the reference) and a one-shot step against its fixed child, and "
                             "put them in the JSON (the rest of it is kept)")
    parser.add_argument("--partial-channels", action="store_true",
                        help="measure only PC-DARTS' partial_channels K = 1, 2, 5 (step seconds, "
                             "saved for backward, weights) and put it in the JSON")
    parser.add_argument("--validation", action="store_true",
                        help="measure only exact chunked validation against one whole-split batch "
                             "and put it in the JSON (the rest of it is kept)")
    parser.add_argument("--next-item-ranking", action="store_true",
                        help="measure only AMEIR-A's child ranking (20 children, 2 repeats) in "
                             "CPU-sized chunks of users against one batch and put it in the JSON "
                             "(the rest of it is kept)")
    parser.add_argument("--step", action="store_true",
                        help="measure only the DARTS step against the reference (with FLOPs and "
                             "the roofline) and put it in the JSON (the rest of it is kept)")
    parser.add_argument("--valid-peak", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--compile-step", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--compiled", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-noise", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--peak", choices=("supernet", "recompute", "lowest", "child"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    if args.peak:
        print(json.dumps(peak_of_step(args.peak, args.data)))
        return
    if args.valid_peak:
        print(json.dumps(peak_of_validation(args.valid_peak, args.data)))
        return
    if args.render:
        out.with_suffix(".md").write_text(render(json.loads(out.read_text())))
        return
    if args.record_autopi:
        record_autopi(out, Path(args.record_autopi), args.load, args.commit)
        return
    data = str(FRAPPE) if FRAPPE.exists() else "synthetic"
    if args.memory_setting:
        print("\n".join(memory_rows(add_part(out, memory_setting(data, args), "memory_setting",
                                              args))))
        return
    if args.compile_step:
        print(json.dumps(compile_step(args.data, args.compiled, not args.no_noise)))
        return
    if args.compile:
        part = {"compile": compile_measure(data, args)}
        print("\n".join(compile_rows(add_part(out, part, "compile", args))))
        return
    if args.partial_channels:
        part = partial_channels(data, args)
        print("\n".join(partial_rows(add_part(out, part, "partial_channels", args))))
        return
    if args.validation:
        part = validation_chunks(data, args)
        print("\n".join(validation_rows(add_part(out, part, "validation_chunks", args))))
        return
    if args.next_item_ranking:
        with tempfile.TemporaryDirectory() as tmp:
            part = next_item_ranking(min(args.children, 20), Path(tmp), repeats=2)
        print("\n".join(next_item_rows(add_part(out, {"next_item_ranking": part},
                                                  "next_item_ranking", args))))
        return
    if args.step:
        previous = json.loads(out.read_text())
        part = step_part(data, args)
        part["operators"] = operator_costs((10, 39), args.repeats + 2)
        # the peak RSS rows stay from the last full run: say when that was
        part["peaks_measured"] = previous.get("peaks_measured") or {
            k: previous[k] for k in ("date", "threads", "load_average_before", "commit")}
        write_result(out, {**previous, **part})
        print({k: v for k, v in part.items() if "step" in k})
        return
    if args.scaling:
        part = {**scaling(args), **oneshot_vs_child(args)}
        print("\n".join(scaling_rows(add_part(out, part, "scaling", args))))
        return
    if args.ranking:
        with tempfile.TemporaryDirectory() as tmp:
            rank = {**ranking_seconds(args.children, Path(tmp)), "measured": provenance(args)}
        write_result(out, {**json.loads(out.read_text()), "ranking": rank,
                           f"rank_{args.children}_children_seconds": rank["seconds"],
                           f"rank_{args.children}_children_seconds_per_child_sklearn":
                               rank["per_child_sklearn_seconds"]})
        print(json.dumps({k: v for k, v in rank.items() if "all" not in k}))
        return
    previous = json.loads(out.read_text()) if out.exists() else {}
    result = carried_over(previous, measure(args))
    write_result(out, result)
    print(render(result))


def carried_over(previous: dict, result: dict) -> dict:
    """A full run's result with what it does not measure kept from the file: the parts that have
    their own runs (the GPU lease, torch.compile, memory settings, scaling, validation chunks, a
    real 50-epoch search) would otherwise be lost to every full rerun."""
    merged = dict(result)
    for key, value in previous.items():
        if merged.get(key) is None and value is not None:
            merged[key] = value
    if merged.get("autopi_d_frappe_50_epochs_seconds") is not None:
        merged.pop("autopi_d_frappe_50_epochs_why_null", None)
    merged.pop("peaks_measured", None)  # the full run measured the peaks itself
    return merged


def write_result(out: Path, result: dict) -> None:
    out.write_text(json.dumps(result, indent=2) + "\n")
    out.with_suffix(".md").write_text(render(result))


def add_part(out: Path, part: dict, name: str, args) -> dict:
    """A part measured on its own, put into the JSON beside the rest (which is kept)."""
    result = {**json.loads(out.read_text()), **part, f"{name}_measured": provenance(args)}
    write_result(out, result)
    return result

if __name__ == "__main__":
    main()
